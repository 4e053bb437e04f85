"""Replies to one person close together go as one email (NOTIFICATION_COALESCE_SECONDS).

These tests enqueue on the database backend, as the site does (the tests' default backend runs
each task at once and cannot defer one, so there every reply goes alone), and run `deliver`
themselves at the time the deferred task would run. tests/notifications/test_worker.py has a
real worker coalescing replies.
"""

import socket
from datetime import timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from consultations import services
from notifications import delivery
from notifications.models import Notification

State = Notification.State
WINDOW = timedelta(seconds=120)


@pytest.fixture(autouse=True)
def deferring_backend(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    settings.NOTIFICATION_COALESCE_SECONDS = WINDOW.total_seconds()


@pytest.fixture
def reply_to(question, user, make_user, post_comment, django_capture_on_commit_callbacks):
    """Post a reply by someone new to `parent` (by default a new comment of `user`'s) and run
    what the commit enqueues."""

    def _reply(parent=None, *, body=None, name=None):
        parent = parent or post_comment(question=question, author=user)
        with django_capture_on_commit_callbacks(execute=True):
            return post_comment(
                question=question,
                author=make_user(display_name=name),
                parent=parent,
                body=body,
            )

    return _reply


def rows():
    return list(Notification.objects.filter(kind="reply").order_by("pk"))


def test_three_replies_within_the_window_make_one_email_listing_them(
    reply_to, user, question, post_comment, mailoutbox, settings
):
    settings.SITE_URL = "https://consult.example.org"
    mine = post_comment(question=question, author=user, body="Borders need safe routes.")
    replies = [
        reply_to(mine, body="Agreed: and legal ones.", name="Jonas Berg"),
        reply_to(body="What of the costs?", name="Ana Costa"),
        reply_to(mine, body="Cities can help.", name="Lena Vogel"),
    ]

    first, *others = rows()
    window_end = first.created_at + WINDOW
    # They wait together: the later ones joined the window the first opened.
    assert [r.next_attempt_at for r in rows()] == [window_end] * 3
    assert {r.state for r in rows()} == {State.PENDING} and mailoutbox == []
    tasks = DBTaskResult.objects.filter(task_path="notifications.tasks.send_notification")
    assert sorted(t.args_kwargs["args"][0] for t in tasks) == [r.pk for r in rows()]
    # Queued for the window's end, rounded up to a whole second (rq's scheduler keeps seconds).
    rounded = window_end.replace(microsecond=0) + timedelta(seconds=bool(window_end.microsecond))
    assert {t.run_after for t in tasks} == {rounded}
    # Run early, the task sends nothing and is queued again for the row's time.
    assert delivery.deliver(first.pk) == "not due yet: deferred to its time"

    assert delivery.deliver(first.pk, now=window_end) == "sent 3 in one email"

    (mail,) = mailoutbox
    assert mail.to == [user.email]
    assert mail.subject == "[GCM consultations] 3 new replies to your comments"
    assert "There are 3 new replies to your comments." in mail.body
    ((html, _mimetype),) = mail.alternatives
    positions = []
    for reply, name in zip(replies, ["Jonas Berg", "Ana Costa", "Lena Vogel"], strict=True):
        permalink = f"https://consult.example.org/consultations/c/{reply.pk}/"
        assert f'{name} replied to your comment on "Safe borders review" (question 1).' in mail.body
        assert reply.body_text in mail.body and permalink in mail.body
        assert f'href="{permalink}"' in html and name in html
        positions.append(mail.body.index(reply.body_text))
    assert positions == sorted(positions)  # oldest first
    assert "Borders need safe routes." in mail.body  # the comments replied to
    assert mail.extra_headers["Message-ID"] == f"<notification-{first.pk}@consult.example.org>"
    assert mail.extra_headers["List-Unsubscribe"].startswith("<https://consult.example.org/")
    assert [(r.state, r.attempts) for r in rows()] == [(State.SENT, 1)] * 3
    # The other rows' own tasks find nothing left to send.
    for row in others:
        assert delivery.deliver(row.pk, now=window_end) == "not due or claimed elsewhere"
    assert len(mailoutbox) == 1


def test_a_reply_after_the_email_was_sent_makes_a_new_email(reply_to, mailoutbox):
    reply_to()
    reply_to()
    first = rows()[0]
    delivery.deliver(first.pk, now=first.created_at + WINDOW)

    later = reply_to(name="Late Replier")

    row = Notification.objects.get(comment=later)
    assert row.state == State.PENDING and row.next_attempt_at == row.created_at + WINDOW
    assert delivery.deliver(row.pk, now=row.next_attempt_at) == "sent"
    assert len(mailoutbox) == 2
    assert mailoutbox[1].subject == "[GCM consultations] Late Replier replied to your comment"
    assert mailoutbox[1].extra_headers["Message-ID"].startswith(f"<notification-{row.pk}@")


def test_replies_to_different_people_are_not_mixed(reply_to, question, make_user, post_comment):
    reply_to()
    someone_else = post_comment(question=question, author=make_user())
    reply_to(someone_else)
    first, second = rows()

    assert second.next_attempt_at == second.created_at + WINDOW  # its own window
    assert delivery.deliver(first.pk, now=second.next_attempt_at) == "sent"
    assert Notification.objects.get(pk=second.pk).state == State.PENDING


def test_a_hidden_reply_in_the_batch_is_cancelled_and_the_others_sent(
    reply_to, moderator, mailoutbox
):
    replies = [reply_to(body=f"Reply number {n}.") for n in range(3)]
    services.comment_hide(comment=replies[1], by=moderator, reason="spam")
    first = rows()[0]

    assert delivery.deliver(first.pk, now=first.created_at + WINDOW) == "sent 2 in one email"

    (mail,) = mailoutbox
    assert mail.subject == "[GCM consultations] 2 new replies to your comments"
    assert "Reply number 0." in mail.body and "Reply number 2." in mail.body
    assert "Reply number 1." not in mail.body
    assert [(r.state, r.last_error) for r in rows()] == [
        (State.SENT, ""),
        (State.CANCELLED, "the reply is hidden"),
        (State.SENT, ""),
    ]


def test_a_batch_whose_first_reply_was_deleted_is_named_after_the_next(reply_to, mailoutbox):
    first_reply = reply_to()
    reply_to()
    services.comment_delete(comment=first_reply, by=first_reply.author)
    first, second = rows()

    assert delivery.deliver(second.pk, now=first.created_at + WINDOW) == "sent"

    (mail,) = mailoutbox
    assert mail.extra_headers["Message-ID"].startswith(f"<notification-{second.pk}@")
    assert Notification.objects.get(pk=first.pk).state == State.CANCELLED


def test_no_email_when_every_reply_of_the_batch_is_gone(reply_to, moderator, mailoutbox):
    replies = [reply_to(), reply_to()]
    for reply in replies:
        services.comment_hide(comment=reply, by=moderator, reason="spam")
    first = rows()[0]

    outcome = delivery.deliver(first.pk, now=first.created_at + WINDOW)

    assert outcome == "cancelled: the reply is hidden"
    assert [m for m in mailoutbox if "repl" in m.subject] == []
    assert {r.state for r in rows()} == {State.CANCELLED}


def test_a_recipient_who_stopped_reply_emails_gets_no_batch(reply_to, user, mailoutbox):
    reply_to()
    reply_to()
    user.profile.email_replies = False
    user.profile.save()
    first = rows()[0]

    delivery.deliver(first.pk, now=first.created_at + WINDOW)

    assert mailoutbox == []
    assert {(r.state, r.last_error) for r in rows()} == {
        (State.CANCELLED, "the recipient stopped emails about replies")
    }


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_retries_backoff_and_failure_apply_to_the_whole_batch(reply_to, settings, mailoutbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    reply_to()
    reply_to()
    first = rows()[0]

    assert delivery.deliver(first.pk, now=first.created_at + WINDOW) == "retry"
    retry_ats = {r.next_attempt_at for r in rows()}
    assert [(r.state, r.attempts) for r in rows()] == [(State.PENDING, 1)] * 2
    assert len(retry_ats) == 1 and retry_ats.pop() > first.created_at + WINDOW
    assert all("ConnectionRefusedError" in r.last_error for r in rows())

    assert delivery.deliver(rows()[1].pk, now=rows()[1].next_attempt_at) == "failed"
    assert [(r.state, r.attempts) for r in rows()] == [(State.FAILED, 2)] * 2


def test_a_batch_left_sending_by_a_dead_worker_is_sent_again_as_one_email(reply_to, mailoutbox):
    reply_to()
    reply_to()
    first = rows()[0]
    # A worker claimed the batch and died while sending it.
    Notification.objects.update(
        state=State.SENDING, attempts=1, claimed_at=first.created_at - timedelta(hours=1)
    )

    assert delivery.reclaim_stuck(now=first.created_at + WINDOW) == (2, 0)
    delivery.deliver(rows()[1].pk, now=first.created_at + WINDOW)

    (mail,) = mailoutbox
    assert "2 new replies" in mail.subject
    assert mail.extra_headers["Message-ID"].startswith(f"<notification-{first.pk}@")
    assert [(r.state, r.attempts) for r in rows()] == [(State.SENT, 2)] * 2


def test_without_a_delay_each_reply_goes_alone(reply_to, settings, mailoutbox):
    settings.NOTIFICATION_COALESCE_SECONDS = 0
    reply_to()
    reply_to()
    first, second = rows()
    assert first.next_attempt_at == first.created_at  # due at once, enqueued without delay

    assert delivery.deliver(first.pk) == "sent"
    assert Notification.objects.get(pk=second.pk).state == State.PENDING


def test_delivering_a_batch_takes_a_fixed_number_of_queries(
    reply_to, mailoutbox, django_assert_num_queries
):
    for _n in range(3):
        reply_to()
    first = rows()[0]

    # Look up the row, claim the batch, read it, the recipient's address, the parents, mark
    # the batch sent: the same for any size of batch.
    with django_assert_num_queries(6):
        delivery.deliver(first.pk, now=first.created_at + WINDOW)
    assert len(mailoutbox) == 1
