"""The seed_demo command: idempotent, realistic demo data posted through the real services."""

from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from accounts.models import Profile, User
from consultations.demo_data import (
    CLOSED_CONSULTATION,
    DEMO_PASSWORD,
    OPEN_CONSULTATION,
    STAKEHOLDER_DOMAIN,
)
from consultations.models import Comment, Consultation, ConsultationState, Question

pytestmark = pytest.mark.django_db


def run_seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True
    # The command hashes 14 passwords; a fast hasher keeps the suite quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings


@pytest.fixture
def seeded(debug_on) -> str:
    return run_seed()


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "profiles": Profile.objects.count(),
        "emails": EmailAddress.objects.count(),
        "consultations": Consultation.objects.count(),
        "questions": Question.objects.count(),
        "comments": Comment.objects.count(),
        "comment objectives": Comment.objectives.through.objects.count(),
    }


def test_the_demos_replies_email_nobody(debug_on, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run_seed()
    assert Comment.objects.filter(level__gt=0).exists()
    assert mailoutbox == []


def test_running_twice_creates_no_duplicates(seeded):
    first = counts()
    output = run_seed()

    assert counts() == first
    assert first["comments"] >= 20
    assert "0 created, 14 already there" in output
    assert "(0 new)" in output


def test_second_run_leaves_comment_dates_and_trees_unchanged(seeded):
    def snapshot():
        return list(
            Comment.objects.order_by("pk").values_list(
                "pk", "created_at", "tree_id", "lft", "rght", "level"
            )
        )

    before = snapshot()
    run_seed()

    assert snapshot() == before


def test_open_consultation_reviews_seven_objectives_with_three_numbered_questions(seeded):
    consultation = Consultation.objects.get(slug=OPEN_CONSULTATION.slug)

    assert consultation.is_published
    assert consultation.state == ConsultationState.OPEN
    assert sorted(consultation.objectives.values_list("number", flat=True)) == [
        4,
        8,
        9,
        10,
        11,
        13,
        21,
    ]
    assert list(consultation.questions.values_list("number", flat=True)) == [1, 2, 3]
    moderator = User.objects.get(email="moderator@example.org")
    assert list(consultation.moderators.all()) == [moderator]
    assert all(q.created_by == moderator for q in consultation.questions.all())
    assert all(q.comments.exists() for q in consultation.questions.all())
    # The description is stored sanitised and states when the discussion closes.
    assert "<h2>" in consultation.description
    assert str(timezone.localtime(consultation.closes_at).year) in consultation.description


def test_open_consultation_opened_weeks_ago_and_closes_in_weeks(seeded):
    consultation = Consultation.objects.get(slug=OPEN_CONSULTATION.slug)
    now = timezone.now()

    assert (now - consultation.opens_at).days >= 14
    assert (consultation.closes_at - now).days >= 14


def test_closed_consultation_is_published_closed_and_has_comments(seeded):
    consultation = Consultation.objects.get(slug=CLOSED_CONSULTATION.slug)

    assert consultation.is_published
    assert consultation.state == ConsultationState.CLOSED
    assert consultation.opens_at < consultation.closes_at < timezone.now()
    assert sorted(consultation.objectives.values_list("number", flat=True)) == [5, 6, 18, 20]
    assert list(consultation.questions.values_list("number", flat=True)) == [1, 2]
    comments = Comment.objects.filter(question__consultation=consultation)
    assert comments.count() >= 4
    # Dated inside the period the consultation was open, not when the seed ran.
    assert all(consultation.opens_at <= c.created_at <= consultation.closes_at for c in comments)


def test_stakeholders_span_eight_types_and_have_verified_primary_emails(seeded):
    stakeholders = User.objects.filter(email__endswith=f"@{STAKEHOLDER_DOMAIN}")

    assert stakeholders.count() >= 12
    types = set(
        Profile.objects.filter(user__in=stakeholders).values_list("stakeholder_type", flat=True)
    )
    assert len(types) >= 8
    for user in stakeholders:
        assert user.profile.display_name and user.profile.organisation
        assert EmailAddress.objects.filter(
            user=user, email=user.email, verified=True, primary=True
        ).exists()
        assert user.check_password(DEMO_PASSWORD)
        assert not user.is_staff


def test_replies_nest_at_least_three_levels_deep(seeded):
    assert Comment.objects.filter(level__gte=3).exists()


def test_some_comment_is_long_enough_to_be_collapsed(seeded):
    long_comments = [c for c in Comment.objects.all() if c.is_long]

    assert long_comments
    assert any(len(c.body) > 2500 and c.body.count("<p>") >= 4 for c in long_comments)


def test_some_comment_has_links_and_a_list(seeded):
    bodies = Comment.objects.values_list("body", flat=True)

    assert any('<a href="http' in body and "<li>" in body for body in bodies)
    # A bare URL typed in the text became a link too.
    assert any('<a href="https://example.com/' in body for body in bodies)


def test_some_comment_is_tagged_with_objectives_outside_the_focus(seeded):
    outside = [
        comment
        for comment in Comment.objects.prefetch_related(
            "objectives", "question__consultation__objectives"
        )
        if set(comment.objectives.all()) - set(comment.question.consultation.objectives.all())
    ]

    assert outside


def test_most_comments_carry_one_to_three_objectives(seeded):
    tagged = Comment.objects.annotate(n=Count("objectives")).filter(n__gte=1, n__lte=3)

    assert tagged.count() >= 0.8 * Comment.objects.count()


def test_comments_come_from_many_stakeholder_types(seeded):
    kinds = set(Comment.objects.values_list("author__profile__stakeholder_type", flat=True))

    assert len(kinds) >= 8


def test_comments_are_dated_in_the_past_in_thread_order(seeded):
    now = timezone.now()
    for tree_id in Comment.objects.values_list("tree_id", flat=True).distinct():
        thread = list(Comment.objects.filter(tree_id=tree_id).order_by("lft"))
        dates = [c.created_at for c in thread]
        assert dates == sorted(dates)
        assert all(d < now for d in dates)
        consultation = thread[0].question.consultation
        assert dates[0] >= consultation.opens_at


def test_comment_trees_are_valid(seeded):
    comments = list(Comment.objects.order_by("tree_id", "lft"))
    by_pk = {c.pk: c for c in comments}
    roots = [c for c in comments if c.parent_id is None]
    assert len({c.tree_id for c in roots}) == len(roots)  # one tree per top-level comment

    for root in roots:
        tree = [c for c in comments if c.tree_id == root.tree_id]
        assert root.lft == 1 and root.level == 0
        assert root.rght - root.lft == 2 * (len(tree) - 1) + 1
        assert sorted(n for c in tree for n in (c.lft, c.rght)) == list(range(1, 2 * len(tree) + 1))
        for comment in tree:
            assert comment.question_id == root.question_id
            if comment.parent_id is not None:
                parent = by_pk[comment.parent_id]
                assert parent.lft < comment.lft < comment.rght < parent.rght
                assert comment.level == parent.level + 1

    before = [(c.pk, c.tree_id, c.lft, c.rght, c.level) for c in comments]
    # Comment.objects is a plain manager (CommentQuerySet.as_manager()); mptt keeps its own.
    Comment._tree_manager.rebuild()
    after = list(
        Comment.objects.order_by("tree_id", "lft").values_list(
            "pk", "tree_id", "lft", "rght", "level"
        )
    )
    assert after == before


def test_moderator_is_in_moderators_group_and_logs_in_with_demo_password(seeded):
    moderator = User.objects.get(email="moderator@example.org")

    assert moderator.is_staff and not moderator.is_superuser
    assert moderator.groups.filter(name="Moderators").exists()
    assert moderator.has_perm("consultations.change_comment")
    assert EmailAddress.objects.filter(user=moderator, verified=True, primary=True).exists()
    assert Client().login(username=moderator.username, password=DEMO_PASSWORD)


def test_staff_account_is_a_superuser_with_verified_email(seeded):
    staff = User.objects.get(email="staff@example.org")

    assert staff.is_staff and staff.is_superuser
    assert hasattr(staff, "profile")
    assert EmailAddress.objects.filter(user=staff, verified=True, primary=True).exists()
    assert Client().login(username=staff.username, password=DEMO_PASSWORD)


def test_output_prints_summary_and_credentials(seeded):
    assert OPEN_CONSULTATION.slug in seeded
    assert CLOSED_CONSULTATION.slug in seeded
    assert DEMO_PASSWORD in seeded
    assert "moderator@example.org" in seeded
    assert "staff@example.org" in seeded


def test_refuses_to_run_with_debug_off_without_force(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--force"):
        run_seed()

    assert not User.objects.filter(email="moderator@example.org").exists()
    assert not Consultation.objects.filter(slug=OPEN_CONSULTATION.slug).exists()


def test_force_runs_with_debug_off(settings):
    settings.DEBUG = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    run_seed("--force")

    assert Consultation.objects.filter(slug=OPEN_CONSULTATION.slug).exists()


def test_existing_account_keeps_its_password_and_gains_no_duplicate(debug_on, make_user):
    existing = make_user(email="noor.saleh@demo.example", password="my own secret")

    run_seed()

    assert User.objects.filter(email__iexact="noor.saleh@demo.example").count() == 1
    existing.refresh_from_db()
    assert existing.check_password("my own secret")
    assert EmailAddress.objects.filter(user=existing).count() == 1
    assert Comment.objects.filter(author=existing).exists()


def test_one_demo_participant_asked_not_to_be_named(seeded, client):
    hodan = Profile.objects.get(user__email="hodan.farah@demo.example")
    assert hodan.byline == Profile.Byline.STAKEHOLDER_TYPE
    comment = Comment.objects.filter(author=hodan.user, status=Comment.Status.PUBLISHED).first()
    assert comment is not None
    page = client.get(comment.question.get_absolute_url()).content.decode()
    assert "Participant from Migrant or diaspora organisation" in page
    assert "Hodan Farah" not in page
