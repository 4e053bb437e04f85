"""Print how fast the consultation page and the CSV export are for a given number of comments."""

import statistics
import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from consultations import export
from consultations.management.benchmarking import Rollback, get_ok, populate
from consultations.models import Question


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
                raise Rollback
        except Rollback:
            pass

    def _measure(self, count: int, runs: int) -> None:
        consultation, authors = populate(count)
        reader = authors[0]
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
            self._report(label, runs, lambda c=client, p=path: get_ok(c, p))
        self._report(
            "CSV export",
            runs,
            lambda: "".join(export.iter_csv(consultation, base_url="http://localhost")),
        )

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
