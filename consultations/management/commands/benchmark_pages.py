"""Print how fast the consultation page and the CSV export are for a given number of comments."""

import statistics
import time
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from accounts.models import Profile, User
from consultations import export
from consultations.models import Comment, Consultation, Objective, Question
from consultations.sanitize import html_to_text


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Measure the consultation page (anonymous and logged in, whole threads and the objective "
        "filter) and the CSV export for N comments. Runs inside a transaction that is rolled "
        "back, so the database is left as it was."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--comments", type=int, default=500)
        parser.add_argument("--runs", type=int, default=15)

    def handle(self, *args, comments: int, runs: int, **options) -> None:
        try:
            with transaction.atomic(), override_settings(ALLOWED_HOSTS=["testserver"]):
                self._measure(comments, runs)
                raise _Rollback
        except _Rollback:
            pass

    def _measure(self, count: int, runs: int) -> None:
        consultation, reader = self._populate(count)
        url = consultation.get_absolute_url()
        anonymous = Client()
        logged_in = Client()
        logged_in.force_login(reader)
        self.stdout.write(
            f"{count} comments in {Question.objects.filter(consultation=consultation).count()} "
            f"questions, {runs} runs each (median / min, ms; SQL queries per request)"
        )
        for label, client, path in (
            ("page, anonymous", anonymous, url),
            ("page, logged in", logged_in, url),
            ("page, ?objective=10", anonymous, url + "?objective=10"),
        ):
            self._report(label, runs, lambda c=client, p=path: self._get(c, p))
        self._report(
            "CSV export",
            runs,
            lambda: "".join(export.iter_csv(consultation, base_url="http://localhost")),
        )

    @staticmethod
    def _get(client: Client, path: str) -> bytes:
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        return response.content

    def _report(self, label: str, runs: int, action) -> None:
        action()  # warm up caches and template loading
        timings = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                action()
                timings.append((time.perf_counter() - start) * 1000)
        self.stdout.write(
            f"  {label:<22} {statistics.median(timings):8.1f} / {min(timings):8.1f} ms"
            f"   {len(queries):3d} queries"
        )

    def _populate(self, count: int) -> tuple[Consultation, User]:
        now = timezone.now()
        consultation = Consultation.objects.create(
            title="Benchmark",
            slug=f"benchmark-{int(now.timestamp())}",
            description="<p>Benchmark</p>",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=1),
            is_published=True,
        )
        objectives = list(Objective.objects.filter(number__in=[4, 8, 10]))
        consultation.objectives.set(objectives)
        questions = [
            Question.objects.create(consultation=consultation, number=n, text=f"Question {n}?")
            for n in (1, 2, 3)
        ]
        authors = []
        for n in range(12):
            user = User.objects.create(username=f"bench-{now.timestamp()}-{n}")
            Profile.objects.create(user=user, display_name=f"Author {n}", organisation="Org")
            EmailAddress.objects.create(user=user, email=f"b{n}@bench.example", verified=True)
            authors.append(user)
        body = "<p>" + "A considered answer about safe and regular pathways. " * 8 + "</p>"
        previous = None
        for i in range(count):
            # Threads of up to five comments, nested as deep as they go.
            parent = previous if previous is not None and i % 5 else None
            comment = Comment(
                question=questions[i % 3] if parent is None else parent.question,
                parent=parent,
                author=authors[i % 12],
                body=body * (6 if i % 25 == 0 else 1),
                body_text=html_to_text(body * (6 if i % 25 == 0 else 1)),
            )
            comment.save()
            comment.objectives.set(objectives[: 1 + i % 3])
            previous = comment
        return consultation, authors[0]
