"""Shared fixtures: users with and without a verified email, consultations, questions, comments."""

import itertools
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Profile, StakeholderType, User
from consultations import services
from consultations.models import Consultation, Objective, Question

_counter = itertools.count(1)


def pytest_collection_modifyitems(items):
    """Every transactional test restores the data migrations' rows with serialized_rollback. A
    transactional test without it ends in a flush that re-runs post_migrate (content types,
    permissions), and the next serialized test's reload then hits duplicate keys, on
    PostgreSQL only (the tests that share the database with a worker are skipped on SQLite)."""
    wrong = []
    for item in items:
        marker = item.get_closest_marker("django_db")
        kwargs = marker.kwargs if marker else {}
        transactional = kwargs.get("transaction") or {"transactional_db", "live_server"} & set(
            getattr(item, "fixturenames", ())
        )
        if transactional and not kwargs.get("serialized_rollback"):
            wrong.append(item.nodeid)
    if wrong:
        raise pytest.UsageError(
            "transactional tests need serialized_rollback=True: " + ", ".join(wrong)
        )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_posting_rate_limit(settings):
    # Tests post many comments quickly; the rate-limit tests set their own limits.
    settings.COMMENT_RATE_LIMITS = []


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # Production serves hashed names after collectstatic; tests read static/ as it is.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _temporary_media_root(settings, tmp_path):
    # Attachments are written through the storage: never into the project's media/ folder.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _tasks_run_in_process(settings):
    # A task enqueued on commit runs at once, here, so that mailoutbox sees its email. The
    # database backend and its worker are exercised by tests/notifications/test_worker.py.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _clear_cache(settings):
    # allauth's rate limits live in the cache; each test starts with a clean slate. This
    # process's memory rather than the database cache: tests without database access use the
    # cache too, and query counts stay those of the pages. tests/test_cache.py and
    # tests/test_burst.py exercise the real default.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    yield
    cache.clear()


def create_user(
    *,
    email: str | None = None,
    display_name: str | None = None,
    organisation: str = "",
    stakeholder_type: str = StakeholderType.CIVIL_SOCIETY,
    verified: bool = True,
    password: str = "correct horse battery staple",
    **extra,
) -> User:
    n = next(_counter)
    email = email or f"user{n}@example.org"
    user = User.objects.create_user(username=f"user{n}", email=email, password=password, **extra)
    Profile.objects.create(
        user=user,
        display_name=display_name or f"Participant {n}",
        organisation=organisation,
        stakeholder_type=stakeholder_type,
    )
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


@pytest.fixture
def make_user(db):
    return create_user


@pytest.fixture
def user(db):
    return create_user(display_name="Amina Diallo", organisation="Sahel Migrant Network")


@pytest.fixture
def other_user(db):
    return create_user(display_name="Jonas Berg", organisation="Nordic Cities Forum")


@pytest.fixture
def unverified_user(db):
    return create_user(display_name="Unverified Person", verified=False)


@pytest.fixture
def staff_user(db):
    return create_user(display_name="Staff Member", is_staff=True)


@pytest.fixture
def moderator(db):
    mod = create_user(display_name="Mira Moderator", is_staff=True)
    mod.groups.add(Group.objects.get(name="Moderators"))
    return mod


def create_consultation(*, state: str = "open", **fields) -> Consultation:
    now = timezone.now()
    periods = {
        "open": (now - timedelta(days=3), now + timedelta(days=30)),
        "upcoming": (now + timedelta(days=3), now + timedelta(days=30)),
        "closed": (now - timedelta(days=30), now - timedelta(days=1)),
    }
    opens_at, closes_at = periods[state]
    n = next(_counter)
    defaults = {
        "title": f"Consultation {n}",
        "slug": f"consultation-{n}",
        "description": "<p>What works at borders?</p>",
        "opens_at": opens_at,
        "closes_at": closes_at,
        "is_published": True,
    }
    defaults.update(fields)
    consultation = Consultation.objects.create(**defaults)
    consultation.objectives.set(Objective.objects.filter(number__in=[4, 8, 9, 10, 11, 13, 21]))
    return consultation


@pytest.fixture
def make_consultation(db):
    return create_consultation


@pytest.fixture
def consultation(db):
    return create_consultation(title="Safe borders review", slug="safe-borders")


@pytest.fixture
def question(consultation):
    return Question.objects.create(
        consultation=consultation, number=1, text="What are the key priorities?"
    )


@pytest.fixture
def question2(consultation):
    return Question.objects.create(
        consultation=consultation, number=2, text="Which practices should be highlighted?"
    )


@pytest.fixture
def post_comment():
    """Post through the real service, as the site does."""

    def _post(*, question, author, body=None, objectives=(), parent=None):
        body = body or f"A thoughtful comment, number {next(_counter)}."
        objs = list(Objective.objects.filter(number__in=objectives))
        return services.comment_create(
            question=question, author=author, body=body, objectives=objs, parent=parent
        )

    return _post
