"""A real db_worker process sends reply emails to a real SMTP server, exactly once, even when it
is killed in the middle of a batch and restarted."""

import asyncio
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection

from notifications.models import Notification

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

ROOT = Path(__file__).resolve().parent.parent.parent
WAIT = 60  # seconds: a bound for each wait, which should take one or two


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that keeps every message it accepts. `hold_at` (the n-th DATA
    command, from 0) makes it wait until `release` and then refuse that one, as a server does
    whose client vanished before the end of the transaction: that message is never delivered."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        self.data_commands = 0
        self.hold_at: int | None = None
        self.held = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            n = self.data_commands
            self.data_commands += 1
        if n == self.hold_at:
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Not delivered"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, worker=None) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return
            if worker is not None and worker.process.poll() is not None:
                raise AssertionError(f"the worker exited:\n{worker.log()}")
            time.sleep(0.05)
        raise AssertionError(f"{len(self.messages)} of {count} emails arrived")


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, mailbox
    finally:
        mailbox.release.set()
        controller.stop()


class Worker:
    def __init__(self, env: dict[str, str], log_path: Path):
        self.env, self.log_path = env, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
                [
                    sys.executable,
                    "manage.py",
                    "db_worker",
                    "--interval",
                    "0.1",
                    "--no-startup-delay",
                    "--no-reload",
                    "-v",
                    "2",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


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
    db = connection.settings_dict  # the test database, set up by pytest-django
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "NOTIFICATION_"))}
    env.update(
        {
            "DATABASE_URL": (
                f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
                f"{db['NAME']}"
            ),
            "DEBUG": "0",
            "SECRET_KEY": django_settings.SECRET_KEY,
            "SITE_URL": "https://consult.example.org",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(controller.port),
            "EMAIL_USE_TLS": "0",
            "EMAIL_USE_SSL": "0",
            "DEFAULT_FROM_EMAIL": "consultations@consult.example.org",
            "NOTIFICATION_COALESCE_SECONDS": "0",
        }
    )
    running = Worker(env, tmp_path / "worker.log")
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
