"""Print how many digest emails a second one worker sends to a loopback SMTP server."""

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import Profile, StakeholderType, User
from consultations import counts
from consultations.management.benchmarking import Rollback
from consultations.models import Comment, Consultation, Question
from consultations.sanitize import html_to_text
from notifications import delivery, digests
from notifications.management.smtp_sink import SmtpSink
from notifications.models import Follow, Notification

BASE_URL = "https://consult.example.org"
NEW_COMMENTS = 5
ROOT = Path(__file__).resolve().parents[3]
WAIT = 600  # seconds: a bound for the worker to send a run's emails


def _populate(recipients: int) -> tuple[Consultation, list[User]]:
    """One question with NEW_COMMENTS new comments by one author, followed by `recipients`
    verified participants who want daily digests."""
    token = uuid.uuid4().hex[:12]
    now = timezone.now()
    consultation = Consultation.objects.create(
        title="Benchmark consultation",
        slug=f"benchmark-digests-{token}",
        description="<p>Benchmark</p>",
        opens_at=now - timedelta(days=10),
        closes_at=now + timedelta(days=10),
        is_published=True,
    )
    question = Question.objects.create(
        consultation=consultation, number=1, text="What should change at borders?"
    )
    password = make_password(None)
    users = User.objects.bulk_create(
        User(username=f"digest-{token}-{n}", email=f"{n}@{token}.example", password=password)
        for n in range(recipients + 1)
    )
    types = StakeholderType.values
    Profile.objects.bulk_create(
        Profile(
            user=user,
            display_name=f"Participant {n}",
            stakeholder_type=types[n % len(types)],
            email_digest=Profile.Digest.DAILY,
        )
        for n, user in enumerate(users)
    )
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users
    )
    author, followers = users[0], users[1:]
    Follow.objects.bulk_create(Follow(user=user, question=question) for user in followers)
    body = "<p>" + "Regular pathways reduce the demand for smugglers. " * 6 + "</p>"
    for _ in range(NEW_COMMENTS):
        Comment(question=question, author=author, body=body, body_text=html_to_text(body)).save()
    counts.refresh(question.pk)
    return consultation, users


def _database_url() -> str:
    """The URL of the database this process uses (the test database, under the tests)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{credentials}@{host}:{db['PORT'] or 5432}/{quote(db['NAME'])}"


class Command(BaseCommand):
    help = (
        "Measure digest delivery: N participants follow a question with new comments; the "
        "digests are scheduled (send_digests' function), then sent one after the other by one "
        "worker loop (the function the sending task runs, SMTP connection and all) to an aiosmtpd "
        "server on loopback, in a process of its own. Prints recipients, emails the server "
        "received, seconds and emails a second (median of --runs). Runs in a transaction that is "
        "rolled back: the database is left as it was. With --worker, a real `db_worker` process "
        "sends them instead, from the task queue: the data is committed (the worker must see "
        "it) and deleted afterwards; this needs a database the two processes share (PostgreSQL "
        "or a SQLite file)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--recipients", type=int, default=1000)
        parser.add_argument("--runs", type=int, default=3, help="Timed sends (median).")
        parser.add_argument(
            "--worker",
            action="store_true",
            help="Send through the task queue with a db_worker process (data committed, then "
            "deleted).",
        )

    def handle(self, *args, recipients: int, runs: int, worker: bool = False, **options) -> None:
        if recipients < 1 or runs < 1:
            raise CommandError("--recipients and --runs must be at least 1.")
        if worker and connection.vendor == "sqlite" and connection.is_in_memory_db():
            raise CommandError("--worker needs a database another process can open.")
        with SmtpSink() as sink:
            if worker:
                # The queue db_worker reads, whatever this process was configured with.
                queue = {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
                with override_settings(DEBUG=False, TASKS={"default": queue}):
                    self._measure_worker(sink, recipients, runs)
                return
            email = {
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": sink.port,
                "EMAIL_USE_TLS": False,
                "EMAIL_USE_SSL": False,
                "EMAIL_HOST_USER": "",
                "EMAIL_HOST_PASSWORD": "",
                "EMAIL_TIMEOUT": 30,
            }
            try:
                # As in production: no query log. Tasks are not enqueued: this loop sends.
                with transaction.atomic(), override_settings(DEBUG=False, **email):
                    self._measure(sink, recipients, runs)
                    raise Rollback
            except Rollback:
                pass

    def _measure(self, sink: SmtpSink, recipients: int, runs: int) -> None:
        _populate(recipients)
        start = time.perf_counter()
        # The period that holds the comments just made: the one complete a day from now.
        pks = digests.schedule_digests(timezone.now() + timedelta(days=1), base_url=BASE_URL)
        scheduled = time.perf_counter() - start
        if len(pks) != recipients:
            raise CommandError(f"{len(pks)} digests scheduled for {recipients} recipients.")
        rows = Notification.objects.filter(pk__in=pks)
        seconds, received = [], []
        for _ in range(runs):
            rows.update(state=Notification.State.PENDING, attempts=0, claim=None, sent_at=None)
            before = sink.received
            start = time.perf_counter()
            outcomes = [delivery.deliver(pk) for pk in pks]
            seconds.append(time.perf_counter() - start)
            # The server counts in its own process: wait for its last increments.
            deadline = time.monotonic() + 5
            while sink.received - before < recipients and time.monotonic() < deadline:
                time.sleep(0.01)
            received.append(sink.received - before)
            if outcomes.count("sent") != recipients:
                raise CommandError(f"Not all sent: {sorted(set(outcomes))}")
        self._report(
            recipients,
            f"{len(pks)} digests in {scheduled:.3f} s",
            received,
            seconds,
            runs,
            "in this process, the sending task's function in a loop",
        )

    def _report(self, recipients, scheduled, received, seconds, runs, how) -> None:
        median = statistics.median(seconds)
        self.stdout.write(
            f"{connection.vendor}; {NEW_COMMENTS} new comments in one followed question; "
            f"{runs} runs, median; {how}"
        )
        self.stdout.write(f"recipients: {recipients}")
        self.stdout.write(f"scheduled: {scheduled}")
        self.stdout.write(f"emails received: {min(received)}")
        self.stdout.write(f"seconds: {median:.3f}")
        self.stdout.write(f"emails/second: {recipients / median:.1f}")

    def _measure_worker(self, sink: SmtpSink, recipients: int, runs: int) -> None:
        from django_tasks_db.models import DBTaskResult

        from notifications.tasks import send_notification

        consultation, users = _populate(recipients)
        task_ids: list = []
        process = None
        log = tempfile.NamedTemporaryFile(prefix="benchmark-digests-", suffix=".log", delete=False)
        try:
            start = time.perf_counter()
            # Rows only: this command enqueues them itself, timed, once the worker is up.
            with override_settings(
                TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
            ):
                pks = digests.schedule_digests(
                    timezone.now() + timedelta(days=1), base_url=BASE_URL
                )
            scheduled = time.perf_counter() - start
            if len(pks) != recipients:
                raise CommandError(f"{len(pks)} digests scheduled for {recipients} recipients.")
            process = self._start_worker(sink, Path(log.name))
            queue = send_notification.using(backend="default")
            rows = Notification.objects.filter(pk__in=pks)
            seconds, received = [], []
            for _ in range(runs):
                rows.update(state=Notification.State.PENDING, attempts=0, claim=None, sent_at=None)
                before = sink.received
                start = time.perf_counter()
                task_ids += [queue.enqueue(pk).id for pk in pks]
                deadline = time.monotonic() + WAIT
                while sink.received - before < recipients:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise CommandError(
                            f"{sink.received - before} of {recipients} emails arrived; worker "
                            f"log: {log.name}"
                        )
                    time.sleep(0.005)
                seconds.append(time.perf_counter() - start)
                time.sleep(0.2)  # a duplicate would show here
                received.append(sink.received - before)
            sent = rows.filter(state=Notification.State.SENT).count()
            if sent != recipients:
                raise CommandError(f"{sent} of {recipients} rows sent; worker log: {log.name}")
        finally:
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            DBTaskResult.objects.filter(id__in=task_ids).delete()
            Notification.objects.filter(recipient__in=users).delete()
            consultation.delete()  # its questions and comments
            User.objects.filter(pk__in=[u.pk for u in users]).delete()
        os.unlink(log.name)
        self._report(
            recipients,
            f"{len(pks)} digests in {scheduled:.3f} s",
            received,
            seconds,
            runs,
            "one db_worker process, from enqueueing to the last email received",
        )

    def _start_worker(self, sink: SmtpSink, log_path: Path) -> subprocess.Popen:
        """A db_worker of this site, sending to the sink; returns once it polls the queue."""
        from django.conf import settings

        env = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
        env.update(
            {
                "DATABASE_URL": _database_url(),
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(sink.port),
                "EMAIL_USE_TLS": "0",
                "EMAIL_USE_SSL": "0",
                "SECRET_KEY": settings.SECRET_KEY,
                "DEBUG": "0",
            }
        )
        with open(log_path, "ab") as log:
            process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
                [
                    sys.executable,
                    "manage.py",
                    "db_worker",
                    "--interval",
                    "0.05",
                    "--no-startup-delay",
                    "--no-reload",
                    "-v",
                    "2",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while "Starting worker" not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise CommandError(f"The worker did not start; its log: {log_path}")
            time.sleep(0.05)
        return process
