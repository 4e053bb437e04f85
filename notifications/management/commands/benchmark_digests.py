"""Print how many digest emails a second one worker sends to a loopback SMTP server."""

import statistics
import time
import uuid
from datetime import timedelta

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


def _populate(recipients: int) -> None:
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


class Command(BaseCommand):
    help = (
        "Measure digest delivery: N participants follow a question with new comments; the "
        "digests are scheduled (send_digests' function), then sent one after the other by one "
        "worker loop (the function the sending task runs, SMTP connection and all) to an aiosmtpd "
        "server on loopback, in a process of its own. Prints recipients, emails the server "
        "received, seconds and emails a second (median of --runs). Runs in a transaction that is "
        "rolled back: the database is left as it was."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--recipients", type=int, default=1000)
        parser.add_argument("--runs", type=int, default=3, help="Timed sends (median).")

    def handle(self, *args, recipients: int, runs: int, **options) -> None:
        if recipients < 1 or runs < 1:
            raise CommandError("--recipients and --runs must be at least 1.")
        with SmtpSink() as sink:
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
        median = statistics.median(seconds)
        self.stdout.write(
            f"{connection.vendor}; {NEW_COMMENTS} new comments in one followed question; "
            f"{runs} runs, median"
        )
        self.stdout.write(f"recipients: {recipients}")
        self.stdout.write(f"scheduled: {len(pks)} digests in {scheduled:.3f} s")
        self.stdout.write(f"emails received: {min(received)}")
        self.stdout.write(f"seconds: {median:.3f}")
        self.stdout.write(f"emails/second: {recipients / median:.1f}")
