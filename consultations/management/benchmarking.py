"""What the benchmark commands share: timing, fetching a page, and a consultation to measure."""

import statistics
import time
from collections.abc import Callable
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.test import Client
from django.utils import timezone

from accounts.models import Profile, User
from consultations.models import Comment, Consultation, Objective, Question
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
    return consultation, authors
