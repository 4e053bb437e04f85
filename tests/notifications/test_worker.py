"""A real db_worker process sends reply emails to a real SMTP server, exactly once, even when it
is killed in the middle of a batch and restarted."""

import time

import pytest
from django.core.management import call_command
from django.db import connection

from notifications.models import Notification
from tests.processes import (
    DB_WORKER,
    WAIT,
    Worker,
    child_environment,
    running_smtp_server,
    smtp_environment,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: the worker process and the test share the test database",
    ),
    # The worker reads what the test commits, and the test what the worker commits; see
    # tests/test_burst.py for serialized_rollback.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def smtp_server():
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def worker(smtp_server, tmp_path, settings):
    controller, _mailbox = smtp_server
    # The test process enqueues into the database, as the site does (not the tests' default).
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    # Each reply alone, unless a test coalesces them (then in both processes: the test's,
    # which records and defers, and the worker's, which claims the batch).
    settings.NOTIFICATION_COALESCE_SECONDS = 0
    env = child_environment(**smtp_environment(controller.port), NOTIFICATION_COALESCE_SECONDS="0")
    running = Worker(DB_WORKER, env, tmp_path / "worker.log")
    try:
        yield running
    finally:
        running.stop()


def test_the_worker_sends_each_reply_email_once_even_when_killed_mid_batch(
    question, user, make_user, post_comment, smtp_server, worker, settings
):
    _controller, mailbox = smtp_server
    settings.SITE_URL = "https://consult.example.org"
    parent = post_comment(question=question, author=user, body="Safe routes save lives.")
    replier = make_user(display_name="Jonas Berg")
    first = post_comment(
        question=question, author=replier, parent=parent, body="Agreed, and legal routes too."
    )
    worker.start()

    # One reply: its email, as the SMTP server received it.
    mailbox.wait_for(1, worker)
    (message,) = mailbox.messages
    permalink = f"https://consult.example.org/consultations/c/{first.pk}/"
    assert message["To"] == user.email
    assert message["From"] == "consultations@consult.example.org"
    assert message["Subject"] == "[GCM consultations] Jonas Berg replied to your comment"
    row = Notification.objects.get(comment=first)
    assert message["Message-ID"] == f"<notification-{row.pk}@consult.example.org>"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hello Amina Diallo," in text and "Agreed, and legal routes too." in text
    assert permalink in text and f'href="{permalink}"' in html
    # The worker marks the row sent just after the SMTP server accepted the message.
    deadline = time.monotonic() + WAIT
    while row.state != Notification.State.SENT and time.monotonic() < deadline:
        time.sleep(0.05)
        row.refresh_from_db()
    assert (row.state, row.attempts) == (Notification.State.SENT, 1)

    # A batch of replies; the worker is killed while the SMTP server holds the third of them.
    mailbox.hold_at = mailbox.data_commands + 2
    batch = [
        post_comment(question=question, author=make_user(), parent=parent, body=f"Reply {n}")
        for n in range(6)
    ]
    assert mailbox.held.wait(WAIT), worker.log()
    worker.kill()
    mailbox.release.set()
    stuck = Notification.objects.get(state=Notification.State.SENDING)
    assert len(mailbox.messages) == 3  # the first reply and two of the batch

    # Restarted, the worker sends the rest; the command reclaims the row the dead one held.
    worker.start()
    mailbox.wait_for(6, worker)  # everything but the stuck one
    settings.NOTIFICATION_SENDING_TIMEOUT = 0.5
    time.sleep(0.6)
    call_command("send_pending_notifications")
    mailbox.wait_for(7, worker)
    time.sleep(1)  # long enough for a duplicate to show up, were one coming

    ids = sorted(m["Message-ID"] for m in mailbox.messages)
    rows = Notification.objects.filter(comment__in=[first, *batch]).order_by("pk")
    assert ids == sorted(f"<notification-{r.pk}@consult.example.org>" for r in rows)
    assert {r.state for r in rows} == {Notification.State.SENT}
    stuck.refresh_from_db()
    assert stuck.attempts == 2 and "reclaimed" not in stuck.last_error
    assert sorted(m["To"] for m in mailbox.messages) == [user.email] * 7
    duplicated = len(ids) - len(set(ids))
    print(
        f"\ndb_worker killed mid-batch (3 emails before the kill): expected {rows.count()}, "
        f"delivered {len(set(ids))}, duplicated {duplicated}"
    )


def test_the_worker_sends_replies_close_together_as_one_email(
    question, user, make_user, post_comment, smtp_server, worker, settings
):
    _controller, mailbox = smtp_server
    settings.SITE_URL = "https://consult.example.org"
    worker.env["NOTIFICATION_COALESCE_SECONDS"] = "2"
    settings.NOTIFICATION_COALESCE_SECONDS = 2.0
    parent = post_comment(question=question, author=user, body="Safe routes save lives.")
    worker.start()
    started = time.monotonic()
    replies = [
        post_comment(question=question, author=make_user(), parent=parent, body=f"Reply {n}")
        for n in range(3)
    ]

    mailbox.wait_for(1, worker)
    assert time.monotonic() - started >= 1.5  # it waited for the window to end
    time.sleep(1)  # long enough for a second email to show up, were one coming
    (message,) = mailbox.messages
    assert message["Subject"] == "[GCM consultations] 3 new replies to your comments"
    text = message.get_body(("plain",)).get_content()
    for n, reply in enumerate(replies):
        assert f"Reply {n}" in text
        assert f"https://consult.example.org/consultations/c/{reply.pk}/" in text
    rows = Notification.objects.filter(comment__in=replies).order_by("pk")
    assert message["Message-ID"] == f"<notification-{rows[0].pk}@consult.example.org>"
    assert {(r.state, r.attempts) for r in rows} == {(Notification.State.SENT, 1)}

    # A reply after the email went: an email of its own, at the end of its own window.
    later = post_comment(question=question, author=make_user(), parent=parent, body="Later")
    mailbox.wait_for(2, worker)
    row = Notification.objects.get(comment=later)
    assert mailbox.messages[1]["Message-ID"] == f"<notification-{row.pk}@consult.example.org>"
    assert "replied to your comment" in mailbox.messages[1]["Subject"]
