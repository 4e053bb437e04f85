"""Print the CSV export's speed and peak memory beside a floor (the same columns, no processing)."""

import csv
import random
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import Profile, StakeholderType, User
from consultations import export
from consultations.models import (
    Attachment,
    Comment,
    Consultation,
    ModerationReason,
    Objective,
    Question,
)
from consultations.sanitize import html_to_text

BASE_URL = "https://consult.example.org"
# Rows inserted per bulk_create: the population's own memory stays bounded too.
INSERT_BATCH = 5000

_SENTENCES = [
    "Regular pathways reduce the demand for smugglers.",
    "Our network recorded 312 returns last year, most of them without any legal advice.",
    "Birth registration is the first step: without it nobody can prove who they are.",
    "Consular staff at the border need interpreters, not only forms.",
    "Données personnelles : la collecte doit rester proportionnée.",
    "Las remesas sostienen a las familias; su costo sigue siendo demasiado alto.",
    "Women travelling alone face risks that the statistics rarely show.",
    'We quote the "Kampala Declaration", paragraph 4, on labour mobility.',
    "Local authorities should be consulted before reception centres are opened.",
    "Detention must remain a last resort, and never for children.",
]
_LINKS = [
    '<a href="https://example.org/report-2025.pdf" rel="nofollow">the 2025 report</a>',
    '<a href="https://www.iom.int/" rel="nofollow">https://www.iom.int/</a>',
]


class _Rollback(Exception):
    pass


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


def _bodies(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """count sanitised bodies as the service stores them (HTML, plain text), short to long."""
    bodies = []
    for n in range(count):
        paragraphs = []
        for _ in range(rng.choice([1, 1, 2, 3, 5, 9])):
            words = " ".join(rng.choices(_SENTENCES, k=rng.randint(1, 4)))
            if rng.random() < 0.2:
                words += f" See {rng.choice(_LINKS)}."
            paragraphs.append(f"<p>{words}</p>")
        if n % 4 == 0:
            items = "".join(f"<li>{s}</li>" for s in rng.sample(_SENTENCES, 3))
            paragraphs.insert(1, f"<ul>\n{items}\n</ul>")
        if n % 15 == 0:
            paragraphs[0] = "<p>=SUM(A1:A3) is how we counted.</p>"
        html = "\n".join(paragraphs)
        bodies.append((html, html_to_text(html)))
    return bodies


def _thread_shape(rng: random.Random, size: int) -> list[tuple[int | None, int, int, int]]:
    """(parent index, lft, rght, level) for each comment of a tree of size comments, in the
    order they were posted: each reply answers an earlier comment, at most four levels deep."""
    parents: list[int | None] = [None]
    levels = [0]
    for i in range(1, size):
        parent = rng.choice([p for p in range(i) if levels[p] < 4])
        parents.append(parent)
        levels.append(levels[parent] + 1)
    children: list[list[int]] = [[] for _ in range(size)]
    for i, parent in enumerate(parents):
        if parent is not None:
            children[parent].append(i)
    lft, rght = [0] * size, [0] * size
    counter = 0

    def number(node: int) -> None:
        nonlocal counter
        counter += 1
        lft[node] = counter
        for child in children[node]:
            number(child)
        counter += 1
        rght[node] = counter

    number(0)
    return [(parents[i], lft[i], rght[i], levels[i]) for i in range(size)]


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
                    self._measure(self._populate(size), size, runs)
                    raise _Rollback
            except _Rollback:
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

    def _populate(self, size: int) -> Consultation:
        rng = random.Random(size)
        now = timezone.now()
        # Unique names, so that two populations can share a transaction.
        token = uuid.uuid4().hex[:12]
        consultation = Consultation.objects.create(
            title="Benchmark consultation",
            slug=f"benchmark-export-{token}",
            description="<p>Benchmark</p>",
            opens_at=now - timedelta(days=60),
            closes_at=now + timedelta(days=1),
            is_published=True,
        )
        questions = [
            Question.objects.create(
                consultation=consultation, number=n, text=f"Question {n}: what should change?"
            )
            for n in range(1, 6)
        ]
        authors = self._authors(rng, token, count=max(10, min(2000, size // 20)))
        objectives = list(Objective.objects.values_list("pk", flat=True))
        bodies = _bodies(rng, 60)
        reasons = ModerationReason.values
        through = Comment.objectives.through
        next_pk = (Comment.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        next_tree = (Comment.objects.aggregate(m=Max("tree_id"))["m"] or 0) + 1
        created = 0
        while created < size:
            comments, tags, files = [], [], []
            while len(comments) < INSERT_BATCH and created < size:
                thread = _thread_shape(rng, min(rng.choice([1, 1, 2, 3, 4, 6, 9]), size - created))
                first_pk, question = next_pk, questions[next_tree % len(questions)]
                for parent, lft, rght, level in thread:
                    html, text = rng.choice(bodies)
                    status, reason = Comment.Status.PUBLISHED, ""
                    if rng.random() < 0.03:
                        status, reason = Comment.Status.HIDDEN, rng.choice(reasons)
                    elif rng.random() < 0.01:
                        status = Comment.Status.DELETED
                    comments.append(
                        Comment(
                            pk=next_pk,
                            question=question,
                            parent_id=None if parent is None else first_pk + parent,
                            author=rng.choice(authors),
                            body=html,
                            body_text=text,
                            status=status,
                            hidden_reason=reason,
                            created_at=now - timedelta(seconds=rng.randint(0, 50 * 86400)),
                            tree_id=next_tree,
                            lft=lft,
                            rght=rght,
                            level=level,
                        )
                    )
                    tags.extend(
                        through(comment_id=next_pk, objective_id=o)
                        for o in rng.sample(objectives, rng.choice([0, 1, 1, 2, 3]))
                    )
                    if rng.random() < 0.05:
                        files.extend(
                            Attachment(
                                comment_id=next_pk,
                                file=f"attachments/bench{next_pk}x{n}",
                                original_name=f"evidence-{n}.pdf",
                                content_type="application/pdf",
                                size=rng.randint(10_000, 5_000_000),
                            )
                            for n in range(rng.randint(1, 3))
                        )
                    next_pk += 1
                    created += 1
                next_tree += 1
            Comment.objects.bulk_create(comments)
            through.objects.bulk_create(tags)
            Attachment.objects.bulk_create(files)
        # Fresh planner statistics, as autovacuum would gather for committed rows: without them
        # PostgreSQL plans the per-chunk lookups as if the tables were still nearly empty.
        with connection.cursor() as cursor:
            for model in (Comment, through, Attachment, User, Profile, Question):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        return consultation

    @staticmethod
    def _authors(rng: random.Random, token: str, *, count: int) -> list[User]:
        password = make_password(None)  # unusable: nobody logs in as these
        users = User.objects.bulk_create(
            User(username=f"bench-{token}-{n}", email=f"{n}@{token}.example", password=password)
            for n in range(count)
        )
        types = StakeholderType.values
        # A few without a profile: the export falls back to the username.
        Profile.objects.bulk_create(
            Profile(
                user=user,
                display_name=f"Participant {n}" if n % 50 else f"=Participant {n}",
                organisation=rng.choice(["", "Sahel Migrant Network", "Ministry of Interior"]),
                stakeholder_type=rng.choice(types),
            )
            for n, user in enumerate(users)
            if n % 97
        )
        return users
