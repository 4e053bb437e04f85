"""Notification rows: recorded once per event, claimed before sending, retried, reclaimed.

The hidden-comment email exercises the delivery here; tests/notifications/test_replies.py the
replies, tests/notifications/test_worker.py a real worker and SMTP server.
"""

import socket
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from consultations import services
from notifications import delivery
from notifications.models import Notification

State = Notification.State


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


@pytest.fixture
def smtp_down(settings):
    """Django's real SMTP backend, pointed at a port where nobody answers."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2


@pytest.fixture
def hide(question, user, moderator, post_comment, django_capture_on_commit_callbacks):
    """Hide a new comment of `user`'s; run=False records the row without enqueuing its task."""

    def _hide(*, run: bool = True):
        comment = post_comment(question=question, author=user)
        with django_capture_on_commit_callbacks(execute=run):
            services.comment_hide(comment=comment, by=moderator, reason="spam")
        return comment

    return _hide


def test_hiding_records_one_row_and_its_task_sends_it(hide, user, mailoutbox):
    comment = hide()
    (mail,) = mailoutbox
    row = Notification.objects.get()
    assert (row.recipient, row.kind, row.comment, row.state, row.attempts) == (
        user,
        "comment_hidden",
        comment,
        State.SENT,
        1,
    )
    assert row.sent_at is not None and row.last_error == ""
    assert mail.extra_headers["Message-ID"] == f"<notification-{row.pk}@127.0.0.1>"


def test_the_row_is_recorded_in_the_services_transaction(
    question, user, moderator, post_comment, mailoutbox, django_capture_on_commit_callbacks
):
    comment = post_comment(question=question, author=user)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            services.comment_hide(comment=comment, by=moderator, reason="spam")
            assert Notification.objects.filter(state=State.PENDING).count() == 1
            raise RuntimeError("the request failed after the hiding")
    assert mailoutbox == [] and not Notification.objects.exists()


def test_each_event_is_recorded_once_per_recipient(hide, user, moderator, mailoutbox):
    comment = hide()
    services.comment_restore(comment=comment, by=moderator)
    services.comment_hide(comment=comment, by=moderator, reason="offensive")
    again = delivery.record(
        recipient=user, kind="comment_hidden", comment=comment, base_url="http://x"
    )
    assert again is None and Notification.objects.count() == 1 and len(mailoutbox) == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            recipient=user, kind="comment_hidden", comment=comment, base_url="x"
        )


def test_a_row_is_sent_by_whoever_claims_it_and_never_twice(hide, mailoutbox):
    hide()
    row = Notification.objects.get()
    assert delivery.deliver(row.pk) == "not due or claimed elsewhere"
    call_command("send_pending_notifications", "--send")
    assert len(mailoutbox) == 1


def test_a_comment_restored_before_the_send_is_not_written_about(hide, moderator, mailoutbox):
    comment = hide(run=False)
    services.comment_restore(comment=comment, by=moderator)
    call_command("send_pending_notifications", "--send")
    assert mailoutbox == []
    row = Notification.objects.get()
    assert (row.state, row.last_error) == (State.CANCELLED, "the comment is no longer hidden")


def test_an_smtp_failure_retries_with_backoff_then_gives_up(hide, mailoutbox, settings, smtp_down):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    hide()
    row = Notification.objects.get()
    assert (row.state, row.attempts) == (State.PENDING, 1)
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=50)  # 60 s, then 120 s...

    # Not due yet: the command leaves it alone.
    call_command("send_pending_notifications", "--send")
    row.refresh_from_db()
    assert row.attempts == 1
    for attempts, state in [(2, State.PENDING), (3, State.FAILED)]:
        Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        call_command("send_pending_notifications", "--send")
        row.refresh_from_db()
        assert (row.attempts, row.state) == (attempts, state)
    assert "ConnectionRefusedError" in row.last_error
    assert delivery.backoff(2) == 2 * delivery.backoff(1)


def test_a_row_stuck_in_sending_is_reclaimed_and_sent_once(hide, mailoutbox, settings):
    hide(run=False)  # recorded, never enqueued
    row = Notification.objects.get()
    # A worker claimed it, then died before sending.
    Notification.objects.filter(pk=row.pk).update(
        state=State.SENDING, attempts=1, claimed_at=timezone.now() - timedelta(minutes=5)
    )
    settings.NOTIFICATION_SENDING_TIMEOUT = 600
    call_command("send_pending_notifications", "--send")
    assert mailoutbox == []  # still within the timeout: its worker may be sending it

    settings.NOTIFICATION_SENDING_TIMEOUT = 60
    call_command("send_pending_notifications")  # enqueues; the tests' backend runs it at once
    call_command("send_pending_notifications", "--send")
    row.refresh_from_db()
    assert (row.state, row.attempts, len(mailoutbox)) == (State.SENT, 2, 1)


def test_a_stuck_row_on_its_last_attempt_is_given_up(hide, settings, mailoutbox):
    hide(run=False)
    Notification.objects.update(
        state=State.SENDING,
        attempts=settings.NOTIFICATION_MAX_ATTEMPTS,
        claimed_at=timezone.now() - timedelta(days=1),
    )
    call_command("send_pending_notifications")
    assert Notification.objects.get().state == State.FAILED and mailoutbox == []


def test_a_task_run_before_its_row_is_due_is_queued_again_for_its_time(hide, settings):
    """rq's scheduler keeps whole seconds: a deferred retry may start before the row is due. It
    then sends nothing and is queued again for the row's time, rounded up to a whole second."""
    from notifications.tasks import send_notification

    hide(run=False)
    row = Notification.objects.get()
    due = timezone.now() + timedelta(seconds=30, microseconds=1)
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=due)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}

    assert delivery.deliver(row.pk) == "not due yet: deferred to its time"

    (queued,) = send_notification.get_backend().results
    assert queued.args == [row.pk]
    assert queued.task.run_after == due.replace(microsecond=0) + timedelta(seconds=1)
    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.PENDING, 0)
