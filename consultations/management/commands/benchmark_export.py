"""Print the CSV export's speed and peak memory beside a floor (the same columns, no processing)."""

import csv
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterable

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings

from consultations import export
from consultations.management.benchmarking import Rollback, populate_bulk
from consultations.models import (
    Attachment,
    Comment,
    Consultation,
)

BASE_URL = "https://consult.example.org"


class _Echo:
    def write(self, value: str) -> str:
        return value


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",")]
    except ValueError:
        raise CommandError(f"--sizes takes numbers separated by commas, not “{text}”.") from None
    if any(size < 1 for size in sizes):
        raise CommandError("Every size must be at least 1.")
    return sizes


class Command(BaseCommand):
    help = (
        "Measure the comments CSV export (rows a second, median of --runs) and its peak memory "
        "(tracemalloc) for each of --sizes comments, beside a floor that fetches the same columns "
        "with values_list and writes them with csv.writer. The comments are created with "
        "bulk_create inside a transaction that is rolled back: the database is left as it was."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--sizes",
            type=_sizes,
            default=[10_000, 100_000],
            metavar="N,N",
            help="Numbers of comments, separated by commas (default 10000,100000).",
        )
        parser.add_argument("--runs", type=int, default=5, help="Timed runs per size (median).")

    def handle(self, *args, sizes: list[int], runs: int, **options) -> None:
        self.stdout.write(
            f"{connection.vendor}; {runs} runs per size, median; rows/s of wall-clock time, then "
            "of this process's CPU time (steadier on a busy machine; excludes the database "
            "server's work); peak memory from tracemalloc over one more run"
        )
        for size in sizes:
            try:
                # As in production: no query log (DEBUG keeps one per query, with its parameters).
                with transaction.atomic(), override_settings(DEBUG=False):
                    self._measure(populate_bulk(size), size, runs)
                    raise Rollback
            except Rollback:
                pass

    def _measure(self, consultation: Consultation, size: int, runs: int) -> None:
        attachments = Attachment.objects.filter(comment__question__consultation=consultation)
        threads = Comment.objects.filter(question__consultation=consultation, parent=None)
        rows_written = self._consume(self._export(consultation)) - 1  # minus the header line
        if rows_written != size:
            raise CommandError(f"The export wrote {rows_written} rows for {size} comments.")
        self.stdout.write(
            f"{size:,} comments ({threads.count():,} threads, {attachments.count():,} attachments):"
        )
        exports = {
            "export": lambda: self._export(consultation),
            "floor": lambda: self._floor(consultation),
        }
        wall: dict[str, list[float]] = {label: [] for label in exports}
        cpu: dict[str, list[float]] = {label: [] for label in exports}
        # Interleaved, so that a busy machine slows both alike.
        for _ in range(runs):
            for label, lines in exports.items():
                seconds, cpu_seconds = self._time(lines)
                wall[label].append(seconds)
                cpu[label].append(cpu_seconds)
        speed, cpu_speed = {}, {}
        for label, lines in exports.items():
            seconds = statistics.median(wall[label])
            speed[label] = size / seconds
            cpu_speed[label] = size / statistics.median(cpu[label])
            peak = self._peak_memory(lines)
            self.stdout.write(
                f"  {label:<7}{speed[label]:10,.0f} rows/s  {seconds:7.3f} s  "
                f"{cpu_speed[label]:10,.0f} rows/s of CPU  peak memory {peak / 2**20:6.2f} MiB"
            )
        self.stdout.write(
            f"  ratio  {speed['export'] / speed['floor']:10.2f} of the floor"
            f"  ({cpu_speed['export'] / cpu_speed['floor']:.2f} in CPU time)"
        )

    @staticmethod
    def _export(consultation: Consultation) -> Iterable[str]:
        return export.iter_csv(consultation, base_url=BASE_URL)

    @staticmethod
    def _floor(consultation: Consultation) -> Iterable[str]:
        """The least any export of these columns costs: one streamed query, csv.writer."""
        rows = (
            Comment.objects.filter(question__consultation=consultation)
            .in_thread_order()
            .values_list(
                "pk",
                "question__number",
                "question__text",
                "parent_id",
                "level",
                "author__profile__display_name",
                "author__profile__organisation",
                "author__profile__stakeholder_type",
                "created_at",
                "status",
                "hidden_reason",
                "body_text",
            )
            .iterator(chunk_size=export.CHUNK_SIZE)
        )
        writer = csv.writer(_Echo(), lineterminator="\r\n")
        yield writer.writerow(export.COLUMNS)
        for row in rows:
            yield writer.writerow(row)

    @staticmethod
    def _consume(lines: Iterable[str]) -> int:
        """Read the file as the web response does, keeping none of it; returns its line count
        (bodies hold bare newlines, only line ends are CRLF)."""
        count = 0
        for piece in lines:
            count += piece.count("\r\n")
        return count

    def _time(self, lines: Callable[[], Iterable[str]]) -> tuple[float, float]:
        """Wall-clock and CPU seconds to produce the whole file."""
        start, start_cpu = time.perf_counter(), time.process_time()
        self._consume(lines())
        return time.perf_counter() - start, time.process_time() - start_cpu

    def _peak_memory(self, lines: Callable[[], Iterable[str]]) -> int:
        tracemalloc.start()
        try:
            self._consume(lines())
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
