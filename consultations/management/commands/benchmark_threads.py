"""Print what a question's threads cost to serve, page by page and whole, beside the floor."""

import statistics
import time
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from accounts.models import Profile, User
from consultations.models import Comment, Consultation, Objective, Question
from consultations.sanitize import html_to_text


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = (
        "For one question with N comments (threads of up to five comments, as benchmark_pages "
        "builds them): the first page of its question page, every page read one after the "
        "other (the whole thread), and the floor: fetching the same comments and joining their "
        "stored HTML in a plain loop. Medians of several runs, ratios in the same run, query "
        "counts and HTML sizes. Runs in a transaction that is rolled back."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--sizes", default="100,1000,5000")
        parser.add_argument("--runs", type=int, default=5)

    def handle(self, *args, sizes: str, runs: int, **options) -> None:
        counts = [int(size) for size in sizes.split(",") if size.strip()]
        self.stdout.write(
            f"{connection.vendor}; {runs} runs per figure, median; "
            f"{settings.THREADS_PER_PAGE} threads a page"
        )
        header = (
            f"{'comments':>9} {'first page':>11} {'KB':>6} {'q':>3} "
            f"{'all pages':>10} {'pages':>5} {'KB':>7} {'q':>4} {'floor':>8} "
            f"{'first/floor':>11} {'all/floor':>9}"
        )
        self.stdout.write(header)
        for count in counts:
            try:
                with (
                    transaction.atomic(),
                    override_settings(
                        ALLOWED_HOSTS=["testserver"],
                        # Static names as they are: no collectstatic needed to measure pages.
                        STORAGES={
                            **settings.STORAGES,
                            "staticfiles": {
                                "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
                            },
                        },
                    ),
                ):
                    self._measure(count, runs)
                    raise _Rollback
            except _Rollback:
                pass

    def _measure(self, count: int, runs: int) -> None:
        question = self._populate(count)
        client = Client()
        url = f"{question.consultation.get_absolute_url()}questions/{question.number}/"
        first = self._get(client, url)
        pages = [url] + [f"{url}?page={n}" for n in range(2, self._page_count(question) + 1)]

        def all_pages() -> tuple[int, int]:
            size = queries = 0
            for page_url in pages:
                with CaptureQueriesContext(connection) as captured:
                    size += len(self._get(client, page_url))
                queries += len(captured)
            return size, queries

        first_ms = _median_ms(runs, lambda: self._get(client, url))
        all_ms = _median_ms(runs, all_pages)
        floor_ms = _median_ms(runs, lambda: _floor(question))
        with CaptureQueriesContext(connection) as captured:
            self._get(client, url)
        total_size, total_queries = all_pages()
        self.stdout.write(
            f"{count:>9,} {first_ms:>8.1f} ms {len(first) / 1024:>6.0f} {len(captured):>3} "
            f"{all_ms:>7.1f} ms {len(pages):>5} {total_size / 1024:>7.0f} {total_queries:>4} "
            f"{floor_ms:>5.1f} ms {first_ms / floor_ms:>10.1f}x {all_ms / floor_ms:>8.1f}x"
        )

    @staticmethod
    def _page_count(question: Question) -> int:
        roots = Comment.objects.filter(question=question, parent=None).count()
        return max(1, -(-roots // settings.THREADS_PER_PAGE))

    @staticmethod
    def _get(client: Client, path: str) -> bytes:
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        return response.content

    def _populate(self, count: int) -> Question:
        now = timezone.now()
        consultation = Consultation.objects.create(
            title="Benchmark",
            slug=f"benchmark-threads-{count}",
            description="<p>Benchmark</p>",
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=1),
            is_published=True,
        )
        objectives = list(Objective.objects.filter(number__in=[4, 8, 10]))
        consultation.objectives.set(objectives)
        question = Question.objects.create(consultation=consultation, number=1, text="Q?")
        authors = []
        for n in range(12):
            user = User.objects.create(username=f"bench-threads-{count}-{n}")
            Profile.objects.create(user=user, display_name=f"Author {n}", organisation="Org")
            EmailAddress.objects.create(user=user, email=f"t{count}-{n}@bench.example")
            authors.append(user)
        body = "<p>" + "A considered answer about safe and regular pathways. " * 8 + "</p>"
        previous = None
        for i in range(count):
            parent = previous if previous is not None and i % 5 else None
            text = body * (6 if i % 25 == 0 else 1)
            comment = Comment(
                question=question,
                parent=parent,
                author=authors[i % 12],
                body=text,
                body_text=html_to_text(text),
            )
            comment.save()
            comment.objectives.set(objectives[: 1 + i % 3])
            previous = comment
        return question


def _floor(question: Question) -> int:
    """Fetch the question's comments in thread order and join their stored HTML."""
    rows = Comment.objects.filter(question=question).order_by("tree_id", "lft")
    parts = []
    for pk, name, body in rows.values_list("pk", "author__profile__display_name", "body"):
        parts.append(f'<article id="comment-{pk}"><p>{name}</p>{body}</article>')
    return len("".join(parts))


def _median_ms(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000
