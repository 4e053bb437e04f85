"""Print how long the insights overview takes (its numbers, then the whole page) beside a floor."""

import random
import uuid
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile, StakeholderType, User
from consultations import counts
from consultations.management.benchmarking import INSERT_BATCH, Rollback, get_ok, median_ms
from consultations.models import Comment, Consultation, Objective, Question
from insights import stats
from insights.filters import NO_FILTERS, CommentFilters

QUESTIONS = 5
DAYS = 80  # comments spread over this many days: the chart counts per week
FOCUS = [2, 4, 8, 10, 23]
_BODY = "<p>Regular pathways reduce the demand for smugglers; local authorities must be heard.</p>"
_TEXT = "Regular pathways reduce the demand for smugglers; local authorities must be heard."


def populate(size: int) -> tuple[Consultation, User]:
    """A closed consultation of `size` comments (bulk_create, threads of one to four comments,
    a reply one level down) by about size/10 participants of every stakeholder type and about
    size/40 organisations (spelled in two cases), round QUESTIONS questions, tagged with zero
    to three objectives, over DAYS days; and a staff user to read its page. Deterministic."""
    rng = random.Random(size)
    now = timezone.now()
    token = uuid.uuid4().hex[:12]
    consultation = Consultation.objects.create(
        title="Benchmark insights",
        slug=f"benchmark-insights-{token}",
        description="<p>Benchmark</p>",
        opens_at=now - timedelta(days=DAYS + 1),
        closes_at=now - timedelta(days=5),
        is_published=True,
    )
    consultation.objectives.set(Objective.objects.filter(number__in=FOCUS))
    questions = [
        Question.objects.create(consultation=consultation, number=n, text=f"Question {n}?")
        for n in range(1, QUESTIONS + 1)
    ]
    password = make_password(None)
    people = max(2, size // 10)
    users = User.objects.bulk_create(
        User(username=f"insights-{token}-{n}", email=f"{n}@{token}.example", password=password)
        for n in range(people + 1)
    )
    staff, authors = users[0], users[1:]
    User.objects.filter(pk=staff.pk).update(is_staff=True)
    organisations = [f"Organisation {n}" for n in range(max(1, size // 40))]
    types = StakeholderType.values
    Profile.objects.bulk_create(
        Profile(
            user=user,
            display_name=f"Participant {n}",
            organisation=""
            if n % 7 == 0
            else (rng.choice(organisations).upper() if n % 5 == 0 else rng.choice(organisations)),
            stakeholder_type=rng.choice(types),
        )
        for n, user in enumerate(users)
    )
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users
    )
    objectives = list(Objective.objects.values_list("pk", flat=True))
    through = Comment.objectives.through
    next_pk = (Comment.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    next_tree = (Comment.objects.aggregate(m=Max("tree_id"))["m"] or 0) + 1
    created = 0
    while created < size:
        comments, tags = [], []
        while len(comments) < INSERT_BATCH and created < size:
            # A root and its replies: lft/rght numbered as django-mptt would.
            replies = min(rng.choice([0, 0, 0, 1, 2, 3]), size - created - 1)
            question = rng.choice(questions)
            root_pk = next_pk
            posted = now - timedelta(days=5, seconds=rng.randint(0, DAYS * 86400))
            for i in range(replies + 1):
                comments.append(
                    Comment(
                        pk=next_pk,
                        question=question,
                        parent_id=None if i == 0 else root_pk,
                        author=rng.choice(authors),
                        body=_BODY,
                        body_text=_TEXT,
                        created_at=posted + timedelta(hours=i),
                        tree_id=next_tree,
                        lft=1 if i == 0 else 2 * i,
                        rght=2 * replies + 2 if i == 0 else 2 * i + 1,
                        level=0 if i == 0 else 1,
                    )
                )
                tags.extend(
                    through(comment_id=next_pk, objective_id=o)
                    for o in rng.sample(objectives, rng.choice([0, 1, 1, 2, 3]))
                )
                next_pk += 1
                created += 1
            next_tree += 1
        Comment.objects.bulk_create(comments)
        through.objects.bulk_create(tags)
    for question in questions:
        counts.refresh(question.pk)
    with connection.cursor() as cursor:
        for model in (Comment, through, User, Profile, Question):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return consultation, User.objects.get(pk=staff.pk)


class Command(BaseCommand):
    help = (
        "Measure the insights overview for a consultation of --comments comments from about a "
        "tenth as many participants: insights.stats.compute() and the whole page (the test "
        "Client, as a staff user), without and with filters, median of --runs, beside a floor "
        "that only fetches the same comments' rows (values_list). Runs in a transaction that is "
        "rolled back: the database is left as it was."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--comments", type=int, default=10_000)
        parser.add_argument("--runs", type=int, default=5, help="Timed runs (median).")

    def handle(self, *args, comments: int, runs: int, **options) -> None:
        if comments < 1 or runs < 1:
            raise CommandError("--comments and --runs must be at least 1.")
        try:
            # As in production: no query log. Static files by their plain names: this run
            # need not follow a collectstatic.
            plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
            with (
                transaction.atomic(),
                override_settings(
                    DEBUG=False,
                    ALLOWED_HOSTS=["testserver"],
                    STORAGES={**settings.STORAGES, "staticfiles": plain},
                ),
            ):
                self._measure(*populate(comments), comments, runs)
                raise Rollback
        except Rollback:
            pass

    def _measure(self, consultation: Consultation, staff: User, size: int, runs: int) -> None:
        client = Client()
        client.force_login(staff)
        url = reverse("insights:overview", kwargs={"slug": consultation.slug})
        narrowed = CommentFilters(
            objective=FOCUS[1], stakeholder_type=StakeholderType.CIVIL_SOCIETY
        )
        people = stats.compute(consultation).totals.participants
        self.stdout.write(
            f"{connection.vendor}; {size:,} comments by {people:,} participants, "
            f"{QUESTIONS} questions; {runs} runs, median ms"
        )
        for label, filters in (("no filters", NO_FILTERS), ("objective + type", narrowed)):
            query = filters.as_query()
            get_ok(client, f"{url}?{query}")  # the session and the user, as any later page

            def floor(filters=filters):
                return list(
                    filters.apply(consultation).values_list(
                        "pk",
                        "question__number",
                        "level",
                        "created_at",
                        "author_id",
                        "author__profile__stakeholder_type",
                        "author__profile__organisation",
                    )
                )

            rows = len(floor())
            compute_ms = median_ms(
                runs, lambda filters=filters: stats.compute(consultation, filters)
            )
            page_ms = median_ms(runs, lambda query=query: get_ok(client, f"{url}?{query}"))
            floor_ms = median_ms(runs, floor)
            self.stdout.write(f"{label} ({rows:,} comments):")
            self.stdout.write(f"  compute()  {compute_ms:9.1f} median ms")
            self.stdout.write(f"  page       {page_ms:9.1f} median ms")
            self.stdout.write(f"  floor      {floor_ms:9.1f} median ms (fetching the rows)")
            self.stdout.write(
                f"  ratio      compute() {compute_ms / floor_ms:.2f}, page "
                f"{page_ms / floor_ms:.2f} of the floor"
            )
