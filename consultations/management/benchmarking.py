"""What the benchmark commands share: timing, fetching a page, and a consultation to measure."""

import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.models import Max
from django.test import Client
from django.utils import timezone

from accounts.models import Profile, StakeholderType, User
from consultations import counts
from consultations.models import (
    Attachment,
    Comment,
    Consultation,
    ModerationReason,
    Objective,
    Question,
)
from consultations.sanitize import html_to_text


class Rollback(Exception):
    """Raised inside a benchmark's transaction so that the data it made goes away."""


def median_ms(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def get_ok(client: Client, path: str) -> bytes:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
    return response.content


def populate(count: int, *, questions: int = 3) -> tuple[Consultation, list[User]]:
    """An open consultation with `questions` questions, 12 verified authors and `count`
    comments, in threads of up to five comments nested as deep as they go (every 25th one
    long), posted round the questions. Saved one by one, as the site saves them."""
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
    question_list = [
        Question.objects.create(consultation=consultation, number=n, text=f"Question {n}?")
        for n in range(1, questions + 1)
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
        parent = previous if previous is not None and i % 5 else None
        text = body * (6 if i % 25 == 0 else 1)
        comment = Comment(
            question=question_list[i % questions] if parent is None else parent.question,
            parent=parent,
            author=authors[i % 12],
            body=text,
            body_text=html_to_text(text),
        )
        comment.save()
        comment.objectives.set(objectives[: 1 + i % 3])
        previous = comment
    for question in question_list:
        counts.refresh(question.pk)  # as the services do with each comment they save
    return consultation, authors


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


def populate_bulk(size: int, *, questions: int = 5) -> Consultation:
    """A consultation of `size` comments made with bulk_create (fast enough for 100,000): threads
    of 1 to 9 comments up to four levels deep, posted round `questions` questions, with some
    hidden or deleted, objective tags and attachments, by authors of every stakeholder type.
    Deterministic for a size."""
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
    question_list = [
        Question.objects.create(
            consultation=consultation, number=n, text=f"Question {n}: what should change?"
        )
        for n in range(1, questions + 1)
    ]
    authors = _bulk_authors(rng, token, count=max(10, min(2000, size // 20)))
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
            first_pk, question = next_pk, question_list[next_tree % len(question_list)]
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
    for question in question_list:
        counts.refresh(question.pk)  # as the services do with each comment they save
    # Fresh planner statistics, as autovacuum would gather for committed rows: without them
    # PostgreSQL plans the per-chunk lookups as if the tables were still nearly empty.
    with connection.cursor() as cursor:
        for model in (Comment, through, Attachment, User, Profile, Question):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return consultation


def _bulk_authors(rng: random.Random, token: str, *, count: int) -> list[User]:
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
