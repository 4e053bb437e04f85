"""Time theme suggestions (reading, TF-IDF, NMF, saving) on a question of N varied comments."""

import random
import statistics
import time
import uuid
from collections import Counter
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max
from django.test.utils import override_settings
from django.utils import timezone

from consultations.management.benchmarking import Rollback, _bulk_authors
from consultations.models import Comment, Consultation, Question
from insights import themes
from insights.models import ThemeMember, ThemeRun

INSERT_BATCH = 2000

# Six planted topics (as many as the default k), each its own words; comments mix in shared
# filler and, one in ten, a sentence of another topic, so that the themes are not trivial.
TOPICS = {
    "birth": (
        ["birth registration", "birth certificate", "civil registry", "newborn", "registrar"],
        ["register", "record", "certify"],
    ),
    "sea": (
        ["sea rescue", "coast guard", "boat", "shipwreck", "lifejacket", "disembarkation"],
        ["rescue", "patrol", "disembark"],
    ),
    "remittances": (
        ["remittance", "transfer fee", "exchange rate", "mobile money", "bank account"],
        ["send", "transfer", "charge"],
    ),
    "detention": (
        ["immigration detention", "alternatives to detention", "detention centre", "child"],
        ["detain", "release", "monitor"],
    ),
    "labour": (
        ["recruitment fee", "labour migration", "employer", "work permit", "decent work"],
        ["recruit", "employ", "hire"],
    ),
    "return": (
        ["return", "reintegration", "readmission", "voluntary return", "community"],
        ["return", "reintegrate", "support"],
    ),
}
FILLER = [
    "we believe",
    "in our experience",
    "our members say",
    "it is important that",
    "governments should ensure",
    "the compact calls for",
    "in practice",
    "too often",
    "for families",
    "across the region",
]
SHAPES = [
    "{Filler}, {adjective} {first} must {verb} the {second}.",
    "We {verb} {first} and {second} {filler}.",
    "Without {adjective} {first}, nobody can {verb} a {second}.",
    "{Filler} the {first} is not {adjective} enough for the {second}.",
]
ADJECTIVES = ["effective", "affordable", "safe", "regular", "transparent", "humane", "timely"]


def _sentence(rng: random.Random, topic: str) -> str:
    nouns, verbs = TOPICS[topic]
    first, second = rng.sample(nouns, 2)
    words = {
        "filler": rng.choice(FILLER),
        "adjective": rng.choice(ADJECTIVES),
        "verb": rng.choice(verbs),
        "first": first,
        "second": second,
    }
    words["Filler"] = words["filler"].capitalize()
    return rng.choice(SHAPES).format(**words)


def comment_text(rng: random.Random, topic: str) -> str:
    names = list(TOPICS)
    sentences = [_sentence(rng, topic) for _ in range(rng.randint(2, 4))]
    if rng.random() < 0.1:
        sentences.insert(rng.randrange(len(sentences)), _sentence(rng, rng.choice(names)))
    return " ".join(sentences)


def populate(size: int) -> tuple[Question, dict[int, str]]:
    """A question of `size` top-level published comments; their planted topic by id."""
    rng = random.Random(size)
    token = uuid.uuid4().hex[:12]
    now = timezone.now()
    consultation = Consultation.objects.create(
        title="Benchmark consultation",
        slug=f"benchmark-themes-{token}",
        description="<p>Benchmark</p>",
        opens_at=now - timedelta(days=30),
        closes_at=now + timedelta(days=1),
        is_published=True,
        language="en",
    )
    question = Question.objects.create(
        consultation=consultation, number=1, text="What should change for migrants?"
    )
    authors = _bulk_authors(rng, token, count=max(10, min(500, size // 20)))
    names = list(TOPICS)
    next_pk = (Comment.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    next_tree = (Comment.objects.aggregate(m=Max("tree_id"))["m"] or 0) + 1
    topics: dict[int, str] = {}
    batch = []
    for n in range(size):
        topic = names[n % len(names)]
        text = comment_text(rng, topic)
        topics[next_pk] = topic
        batch.append(
            Comment(
                pk=next_pk,
                question=question,
                author=rng.choice(authors),
                body=f"<p>{text}</p>",
                body_text=text,
                created_at=now - timedelta(seconds=rng.randint(0, 20 * 86400)),
                tree_id=next_tree,
                lft=1,
                rght=2,
                level=0,
            )
        )
        next_pk += 1
        next_tree += 1
        if len(batch) >= INSERT_BATCH:
            Comment.objects.bulk_create(batch)
            batch = []
    Comment.objects.bulk_create(batch)
    return question, topics


def purity(run: ThemeRun, topics: dict[int, str]) -> tuple[float, int]:
    """The share of comments whose theme's majority topic is their own (unplaced ones count
    as wrong), and how many were placed."""
    by_theme: dict[int, Counter] = {}
    for theme_id, comment_id in ThemeMember.objects.filter(theme__run=run).values_list(
        "theme_id", "comment_id"
    ):
        by_theme.setdefault(theme_id, Counter())[topics[comment_id]] += 1
    right = sum(max(counter.values()) for counter in by_theme.values())
    placed = sum(sum(counter.values()) for counter in by_theme.values())
    return right / len(topics), placed


class Command(BaseCommand):
    help = (
        "Time theme suggestions (read the comments, TF-IDF, NMF, save the themes) on one question "
        "of --comments varied comments (six planted topics), median of --runs. The data is made "
        "with bulk_create in a transaction that is rolled back: the database is left as it was."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--comments", type=int, default=10_000, help="Comments (10000).")
        parser.add_argument("--k", type=int, default=themes.DEFAULT_K, help="Themes (6).")
        parser.add_argument("--runs", type=int, default=3, help="Timed runs (median of them).")
        parser.add_argument("--seed", type=int, default=0, help="NMF's seed (0).")

    def handle(self, *args, comments: int, k: int, runs: int, seed: int, **options) -> None:
        if comments < themes.minimum_comments(k):
            raise CommandError(f"{k} themes need at least {themes.minimum_comments(k)} comments.")
        if not themes.MIN_K <= k <= themes.MAX_K:
            raise CommandError(f"--k must be from {themes.MIN_K} to {themes.MAX_K}.")
        if runs < 1:
            raise CommandError("--runs must be at least 1.")
        try:
            # As in production: no query log.
            with transaction.atomic(), override_settings(DEBUG=False):
                self._measure(comments, k, runs, seed)
                raise Rollback
        except Rollback:
            pass

    def _measure(self, size: int, k: int, runs: int, seed: int) -> None:
        # scikit-learn's import (a second or so) is paid once per worker process, not per run.
        import sklearn.decomposition  # noqa: F401
        import sklearn.feature_extraction.text  # noqa: F401

        started = time.perf_counter()
        question, topics = populate(size)
        made = time.perf_counter() - started
        self.stdout.write(
            f"{connection.vendor}: {size:,} comments made in {made:.1f} s; "
            f"k={k}, seed={seed}, {runs} runs"
        )
        times, cpu_times = [], []
        for _ in range(runs):
            run = ThemeRun.objects.create(question=question, k=k, seed=seed)
            start, cpu_start = time.perf_counter(), time.process_time()
            state = themes.execute_run(run.pk)
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
            if state != ThemeRun.State.DONE:
                run.refresh_from_db()
                raise CommandError(f"The run ended {state}: {run.message}")
        median = statistics.median(times)
        share, placed = purity(run, topics)
        self.stdout.write(
            f"median {median:.2f} s ({min(times):.2f} to {max(times):.2f}), "
            f"{size / median:,.0f} comments per second; this process's CPU time "
            f"{statistics.median(cpu_times):.2f} s (steadier on a busy machine; excludes the "
            f"database server's); {placed:,} placed in a theme, purity {share:.3f} against the "
            "six planted topics"
        )
        for suggestion in run.themes.order_by("position"):
            self.stdout.write(
                f"  theme {suggestion.position}: {', '.join(suggestion.terms[:6])} "
                f"({suggestion.members.count():,})"
            )
