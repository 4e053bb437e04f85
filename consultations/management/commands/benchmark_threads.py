"""Print what a question's threads cost to serve, page by page and whole, beside the floor; and
whether a question's first page costs more in a larger consultation."""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from accounts.models import User
from consultations import rendering, selectors
from consultations.management.benchmarking import (
    get_ok,
    median_ms,
    populate,
    populate_bulk,
)
from consultations.models import Comment, Consultation, Question


class Command(BaseCommand):
    help = (
        "For one question with N comments (threads of up to five comments, as benchmark_pages "
        "builds them): its first page, every page read one after the other, the whole thread "
        "made in one pass as the pages make it (fetch, flags, HTML; no page around it), and the "
        "floor: fetching the same comments' stored HTML and joining it in a plain loop. Then the "
        "first page of a question, and the consultation page, in consultations of --small and "
        "--large comments. Medians of several runs, ratios in the same run, query counts and "
        "HTML sizes. Runs in transactions that are rolled back."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--sizes", default="100,1000,5000")
        parser.add_argument("--runs", type=int, default=5)
        parser.add_argument("--small", type=int, default=100)
        parser.add_argument(
            "--large", type=int, default=100_000, help="0 leaves the comparison out."
        )

    def handle(self, *args, sizes: str, runs: int, small: int, large: int, **options) -> None:
        counts = [int(size) for size in sizes.split(",") if size.strip()]
        self.stdout.write(
            f"{connection.vendor}; {runs} runs per figure, median; "
            f"{settings.THREADS_PER_PAGE} threads a page, {settings.REPLIES_SHOWN} replies shown"
        )
        self.stdout.write(
            f"{'comments':>9} {'first page':>11} {'KB':>5} {'q':>3} "
            f"{'all pages':>10} {'pages':>5} {'KB':>6} {'q':>4} "
            f"{'one pass':>9} {'floor':>8} {'first/floor':>11} {'all/floor':>9} "
            f"{'pass/floor':>10}"
        )
        for count in counts:
            with _rolled_back():
                self._measure(count, runs)
        if large:
            self.stdout.write(
                f"A question's first page and the consultation page, in a consultation of "
                f"{small:,} and of {large:,} comments (3 questions):"
            )
            self.stdout.write(
                f"{'consultation':>13} {'question page':>14} {'KB':>5} {'q':>3} "
                f"{'consultation page':>18} {'KB':>5} {'q':>3}"
            )
            figures = {}
            for count in (small, large):
                with _rolled_back():
                    figures[count] = self._measure_consultation(count, runs)
            self.stdout.write(
                f"{'ratio':>13} {figures[large][0] / figures[small][0]:>13.2f}x {'':>9} "
                f"{figures[large][1] / figures[small][1]:>17.2f}x"
            )

    def _measure(self, count: int, runs: int) -> None:
        consultation, _authors = populate(count, questions=1)
        question = consultation.questions.get()
        client = Client()
        url = selectors.question_url(question)
        pages = [url] + [f"{url}?page={n}" for n in range(2, _page_count(question) + 1)]
        # Read once first: every comment's HTML is stored, as a post's commit leaves it.
        for page_url in pages:
            get_ok(client, page_url)
        first = get_ok(client, url)

        def all_pages() -> tuple[int, int]:
            size = queries = 0
            for page_url in pages:
                with CaptureQueriesContext(connection) as captured:
                    size += len(get_ok(client, page_url))
                queries += len(captured)
            return size, queries

        whole_thread(question)
        first_ms = median_ms(runs, lambda: get_ok(client, url))
        all_ms = median_ms(runs, all_pages)
        pass_ms = median_ms(runs, lambda: whole_thread(question))
        floor_ms = median_ms(runs, lambda: floor(question))
        with CaptureQueriesContext(connection) as captured:
            get_ok(client, url)
        total_size, total_queries = all_pages()
        self.stdout.write(
            f"{count:>9,} {first_ms:>8.1f} ms {len(first) / 1024:>5.0f} {len(captured):>3} "
            f"{all_ms:>7.1f} ms {len(pages):>5} {total_size / 1024:>6.0f} {total_queries:>4} "
            f"{pass_ms:>6.1f} ms {floor_ms:>5.1f} ms {first_ms / floor_ms:>10.1f}x "
            f"{all_ms / floor_ms:>8.1f}x {pass_ms / floor_ms:>9.1f}x"
        )

    def _measure_consultation(self, count: int, runs: int) -> tuple[float, float]:
        consultation = populate_bulk(count, questions=3)
        client = Client()
        question_url = selectors.question_url(consultation.questions.get(number=1))
        consultation_url = consultation.get_absolute_url()
        figures = []
        for url in (question_url, consultation_url):
            get_ok(client, url)  # stores the shown comments' HTML
            with CaptureQueriesContext(connection) as captured:
                size = len(get_ok(client, url))
            queries = len(captured)  # now: the next request empties the query log
            figures.append((median_ms(runs, lambda url=url: get_ok(client, url)), size, queries))
        (question_ms, question_size, q_queries), (page_ms, page_size, p_queries) = figures
        self.stdout.write(
            f"{count:>13,} {question_ms:>11.1f} ms {question_size / 1024:>5.0f} "
            f"{q_queries:>3} {page_ms:>15.1f} ms {page_size / 1024:>5.0f} {p_queries:>3}"
        )
        return question_ms, page_ms


class _rolled_back:
    """A transaction whose data goes away, with the settings pages are measured under."""

    def __enter__(self):
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._settings = override_settings(
            ALLOWED_HOSTS=["testserver"],
            DEBUG=False,  # as in production: no query log
            # Static names as they are: no collectstatic needed to measure pages.
            STORAGES={
                **settings.STORAGES,
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            },
        )
        self._settings.enable()

    def __exit__(self, *exc_info):
        self._settings.disable()
        transaction.set_rollback(True)
        return self._atomic.__exit__(*exc_info)


def _page_count(question: Question) -> int:
    roots = Comment.objects.filter(question=question, parent=None).count()
    return max(1, -(-roots // settings.THREADS_PER_PAGE))


def whole_thread(question: Question) -> int:
    """The question's every comment made as its pages make them, in one pass: fetched with their
    stored HTML, prepared with an anonymous reader's flags, assembled by rendering.thread_html."""
    consultation = Consultation.objects.get(pk=question.consultation_id)
    objectives = selectors.all_objectives()
    comments = selectors._thread_comments(Q(question=question))
    selectors._prepare(
        comments,
        consultation=consultation,
        questions=[question],
        objectives=objectives,
        viewer=AnonymousUser(),
    )
    html = rendering.thread_html(
        selectors.thread_items(comments),
        consultation=consultation,
        question=question,
        viewer=AnonymousUser(),
    )
    return len(html)


def floor(question: Question) -> int:
    """Fetch the rows the pages read (rendering.shown_rows: the comments' columns and stored HTML,
    then their authors' names) and join the HTML in a plain loop."""
    rows = list(
        rendering.shown_rows(Comment.objects.filter(question=question)).order_by("tree_id", "lft")
    )
    names = dict(
        User.objects.filter(pk__in={row[3] for row in rows}).values_list(
            "pk", "profile__display_name"
        )
    )
    parts = []
    for pk, _question, _parent, author_id, *_tree_and_source, html in rows:
        parts.append(f'<article id="comment-{pk}"><p>{names[author_id]}</p>{html}</article>')
    return len("".join(parts))
