"""Real processes for the tests that need them: an SMTP server (aiosmtpd) that keeps what it
receives, task workers (`db_worker`, `rqworker`) and app servers (gunicorn) started against the
test database, and Redis, which these tests require."""

import asyncio
import contextlib
import email
import email.policy
import http.client
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
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
WAIT = 60  # seconds: a bound for each wait, which should take one or two

# What a child process must not inherit from the shell that runs the tests: it takes the
# production defaults plus what each test sets.
INHERITED_PREFIXES_DROPPED = ("DJANGO_", "NOTIFICATION_", "WEB_", "RQ_")
INHERITED_DROPPED = {"REDIS_URL", "TASKS_BACKEND", "CONN_MAX_AGE", "EMAIL_HOST", "APP_SERVER_ID"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(application_name: str = "") -> str:
    """The test database (test_<name>, set up by pytest-django) as a DATABASE_URL."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    url = f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"{url}?application_name={application_name}" if application_name else url


def child_environment(**extra: str) -> dict[str, str]:
    """Production settings (DEBUG off) on the test database, with the test's SECRET_KEY (so that
    the sessions and signed links of either side are valid on the other)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(INHERITED_PREFIXES_DROPPED) and key not in INHERITED_DROPPED
    }
    env.update(
        {
            "DATABASE_URL": database_url(),
            "DEBUG": "0",
            "SECRET_KEY": django_settings.SECRET_KEY,
            "SITE_URL": "https://consult.example.org",
            "DEFAULT_FROM_EMAIL": "consultations@consult.example.org",
        }
    )
    env.update(extra)
    return env


def smtp_environment(port: int) -> dict[str, str]:
    return {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "0",
        "EMAIL_USE_SSL": "0",
    }


# Redis -------------------------------------------------------------------------------------


def require_redis(url: str):
    """A client of the Redis at `url`, or a skip when none answers; under CI (CI=true) an
    unreachable Redis fails the test instead: .ci/run starts one."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        reason = f"needs Redis at {url}: {error}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return client


# SMTP --------------------------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler that keeps every message it accepts.

    `hold_at` (the n-th DATA command, from 0) makes it wait until `release` and then refuse that
    one, as a server does whose client vanished before the end of the transaction: that message
    is never delivered. `refuse` (a set of DATA numbers) answers those with a temporary failure
    at once. `delay` (seconds) slows every accepted message down."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        self.data_commands = 0
        self.hold_at: int | None = None
        self.refuse: set[int] = set()
        self.delay = 0.0
        self.held = threading.Event()
        self.release = threading.Event()
        self.received_at: list[float] = []
        self.refused_at: list[float] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            n = self.data_commands
            self.data_commands += 1
        if n == self.hold_at:
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Not delivered"
        if n in self.refuse:
            with self.lock:
                self.refused_at.append(time.monotonic())
            return "451 4.3.0 Try again later"
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
            self.received_at.append(time.monotonic())
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def wait_for(self, count: int, *workers) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.count() >= count:
                return
            for worker in workers:
                if worker.process is not None and worker.process.poll() is not None:
                    raise AssertionError(f"the worker exited:\n{worker.log()}")
            time.sleep(0.05)
        raise AssertionError(f"{self.count()} of {count} emails arrived")


@contextlib.contextmanager
def running_smtp_server():
    """(controller, mailbox): an SMTP server on a free port, until the block ends."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, mailbox
    finally:
        mailbox.release.set()
        controller.stop()


# Workers and servers -----------------------------------------------------------------------

DB_WORKER = [
    "manage.py",
    "db_worker",
    "--interval",
    "0.1",
    "--no-startup-delay",
    "--no-reload",
    "-v",
    "2",
]
# As the README runs it: the scheduler moves deferred tasks (retries) to the queue when due.
RQ_WORKER = ["manage.py", "rqworker", "default", "--with-scheduler"]


class Process:
    """A child process (a worker or a server) in a process group of its own, its output in a log
    file. `kill` is SIGKILL to the group: the process and any child of it (rq's work horse, the
    job it is running) die at once, as when the machine or container under them is lost."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path):
        self.command, self.env, self.log_path = command, env, log_path
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self) -> "Process":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
                [sys.executable, *self.command],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 20) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


# The db_worker test's name for it.
Worker = Process


def http_request(port: int, method: str, path: str, *, headers=None, body: bytes | None = None):
    """One request on a new connection; (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def wait_until_serving(port: int, server: Process, path: str = "/readyz") -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            code = server.process.returncode
            raise AssertionError(f"the server exited with {code}:\n{server.log()}")
        try:
            if http_request(port, "GET", path)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not serve within {WAIT} s:\n{server.log()}")
