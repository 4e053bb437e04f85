"""The same emails through the Redis queue (TASKS_BACKEND=rq): a real `rqworker default
--with-scheduler` process, PostgreSQL, Redis and a real SMTP server. Each reply's email arrives
exactly once, even when the worker is killed in the middle of a batch and restarted, and a
retry deferred after an SMTP failure is run by the worker's scheduler when it is due."""

import os
import time
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection

from notifications.models import Notification
from tests.processes import (
    RQ_WORKER,
    WAIT,
    Process,
    child_environment,
    require_redis,
    running_smtp_server,
    smtp_environment,
)

# A database number of its own (the cache tests use 7); the test empties it before and after.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL_TASKS", "redis://127.0.0.1:6379/13")

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


def rq_settings(settings, redis_url: str) -> None:
    """The test process enqueues into Redis, as the site does with TASKS_BACKEND=rq."""
    from forum.settings import task_settings

    config = task_settings("rq", redis_url)
    settings.TASKS, settings.RQ_QUEUES, settings.RQ = (
        config["TASKS"],
        config["RQ_QUEUES"],
        config["RQ"],
    )


@pytest.fixture
def redis_db():
    client = require_redis(TEST_REDIS_URL)
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def smtp_server():
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def rq_worker(redis_db, smtp_server, tmp_path, settings):
    controller, _mailbox = smtp_server
    rq_settings(settings, TEST_REDIS_URL)
    settings.NOTIFICATION_COALESCE_SECONDS = 0
    env = child_environment(
        **smtp_environment(controller.port),
        TASKS_BACKEND="rq",
        REDIS_URL=TEST_REDIS_URL,
        NOTIFICATION_RETRY_SECONDS="1",
        NOTIFICATION_COALESCE_SECONDS="0",
    )
    running = Process(RQ_WORKER, env, tmp_path / "rqworker.log")
    try:
        yield running
    finally:
        running.stop()


def test_the_rq_worker_sends_each_reply_email_once_even_when_killed_mid_batch(
    question, user, make_user, post_comment, smtp_server, rq_worker, settings
):
    _controller, mailbox = smtp_server
    settings.SITE_URL = "https://consult.example.org"
    parent = post_comment(question=question, author=user, body="Safe routes save lives.")
    rq_worker.start()
    first = post_comment(
        question=question, author=make_user(), parent=parent, body="Agreed, and legal routes too."
    )
    mailbox.wait_for(1, rq_worker)
    (message,) = mailbox.messages
    row = Notification.objects.get(comment=first)
    assert message["To"] == user.email
    assert message["Message-ID"] == f"<notification-{row.pk}@consult.example.org>"
    row.refresh_from_db()
    assert (row.state, row.attempts) == (Notification.State.SENT, 1)

    # A batch of replies, each email slowed down; the worker (and the work horse it forked for
    # the job) is killed by its PID while the SMTP server holds the fourth email of the batch.
    mailbox.delay = 0.2
    mailbox.hold_at = mailbox.data_commands + 3
    batch = [
        post_comment(question=question, author=make_user(), parent=parent, body=f"Reply {n}")
        for n in range(10)
    ]
    assert mailbox.held.wait(WAIT), rq_worker.log()
    killed_pid = rq_worker.pid
    rq_worker.kill()
    mailbox.release.set()
    stuck = Notification.objects.get(state=Notification.State.SENDING)
    delivered_before_kill = mailbox.count()
    assert delivered_before_kill == 4  # the first reply and three of the batch

    # Restarted, the worker sends what is still queued in Redis; the command reclaims the row
    # the dead one held and enqueues it again.
    rq_worker.start()
    assert rq_worker.pid != killed_pid
    mailbox.wait_for(1 + len(batch) - 1, rq_worker)  # everything but the stuck one
    settings.NOTIFICATION_SENDING_TIMEOUT = 0.5
    time.sleep(0.6)
    call_command("send_pending_notifications")
    mailbox.wait_for(1 + len(batch), rq_worker)
    time.sleep(1.5)  # long enough for a duplicate to show up, were one coming

    rows = Notification.objects.filter(comment__in=[first, *batch]).order_by("pk")
    expected = Counter(f"<notification-{r.pk}@consult.example.org>" for r in rows)
    delivered = Counter(m["Message-ID"] for m in mailbox.messages)
    duplicated = sum(n - 1 for n in delivered.values() if n > 1)
    print(
        f"\nrq worker killed mid-batch (pid {killed_pid}, {delivered_before_kill} emails before "
        f"the kill): expected {len(expected)}, delivered {len(delivered)}, duplicated "
        f"{duplicated}"
    )
    assert delivered == expected
    assert duplicated == 0
    assert {r.state for r in rows} == {Notification.State.SENT}
    stuck.refresh_from_db()
    assert stuck.attempts == 2 and "reclaimed" not in stuck.last_error


def test_a_retry_after_an_smtp_failure_is_deferred_and_run_by_the_scheduler(
    question, user, make_user, post_comment, smtp_server, rq_worker, settings
):
    _controller, mailbox = smtp_server
    mailbox.refuse = {0}  # the first try gets a temporary failure
    parent = post_comment(question=question, author=user, body="Safe routes save lives.")
    rq_worker.start()
    reply = post_comment(question=question, author=make_user(), parent=parent, body="Agreed.")

    mailbox.wait_for(1, rq_worker)

    row = Notification.objects.get(comment=reply)
    waited = mailbox.received_at[0] - mailbox.refused_at[0]
    print(f"\nretry deferred by the rq scheduler: sent {waited:.1f} s after the refusal")
    assert (row.state, row.attempts) == (Notification.State.SENT, 2)
    # NOTIFICATION_RETRY_SECONDS=1 in the worker: the retry waited for its time.
    assert waited >= 0.9
