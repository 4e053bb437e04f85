"""Print what a question's threads cost to serve, page by page and whole, beside the floor."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from consultations.management.benchmarking import Rollback, get_ok, median_ms, populate
from consultations.models import Comment, Question


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
                    raise Rollback
            except Rollback:
                pass

    def _measure(self, count: int, runs: int) -> None:
        consultation, _authors = populate(count, questions=1)
        question = consultation.questions.get()
        client = Client()
        url = f"{question.consultation.get_absolute_url()}questions/{question.number}/"
        first = get_ok(client, url)
        pages = [url] + [f"{url}?page={n}" for n in range(2, self._page_count(question) + 1)]

        def all_pages() -> tuple[int, int]:
            size = queries = 0
            for page_url in pages:
                with CaptureQueriesContext(connection) as captured:
                    size += len(get_ok(client, page_url))
                queries += len(captured)
            return size, queries

        first_ms = median_ms(runs, lambda: get_ok(client, url))
        all_ms = median_ms(runs, all_pages)
        floor_ms = median_ms(runs, lambda: _floor(question))
        with CaptureQueriesContext(connection) as captured:
            get_ok(client, url)
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


def _floor(question: Question) -> int:
    """Fetch the question's comments in thread order and join their stored HTML."""
    rows = Comment.objects.filter(question=question).order_by("tree_id", "lft")
    parts = []
    for pk, name, body in rows.values_list("pk", "author__profile__display_name", "body"):
        parts.append(f'<article id="comment-{pk}"><p>{name}</p>{body}</article>')
    return len("".join(parts))
