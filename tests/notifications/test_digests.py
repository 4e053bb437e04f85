"""Digests: periods, who gets one (in a fixed number of queries), once per period, and what the
email lists at send time."""

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Profile
from consultations import services
from consultations.models import Comment, Question
from notifications import digests, follows, kinds
from notifications.models import Follow, Notification
from tests.conftest import create_user

State = Notification.State


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "key", "since", "until"),
    [
        ("2026-12-03 08:12", "daily:2026-12-02", "2026-12-02 07:00", "2026-12-03 07:00"),
        ("2026-12-03 07:00", "daily:2026-12-02", "2026-12-02 07:00", "2026-12-03 07:00"),
        ("2026-12-03 06:59", "daily:2026-12-01", "2026-12-01 07:00", "2026-12-02 07:00"),
        ("2027-01-01 00:30", "daily:2026-12-30", "2026-12-30 07:00", "2026-12-31 07:00"),
    ],
)
def test_the_daily_period_is_the_last_complete_day_ending_at_the_daily_hour(
    settings, now, key, since, until
):
    settings.DAILY_EMAIL_HOUR = 7
    assert digests.period_for("daily", _at(now)) == (key, _at(since), _at(until))


@pytest.mark.parametrize(
    ("now", "key", "since", "until"),
    [
        # Thursday 3 December 2026: the last complete week ended on Monday 30 November.
        ("2026-12-03 08:12", "weekly:2026-W48", "2026-11-23 07:00", "2026-11-30 07:00"),
        ("2026-11-30 07:00", "weekly:2026-W48", "2026-11-23 07:00", "2026-11-30 07:00"),
        ("2026-11-30 06:00", "weekly:2026-W47", "2026-11-16 07:00", "2026-11-23 07:00"),
        ("2027-01-05 10:00", "weekly:2026-W53", "2026-12-28 07:00", "2027-01-04 07:00"),
    ],
)
def test_the_weekly_period_ends_on_the_weekly_digest_weekday(settings, now, key, since, until):
    settings.DAILY_EMAIL_HOUR, settings.WEEKLY_DIGEST_WEEKDAY = 7, 0
    assert digests.period_for("weekly", _at(now)) == (key, _at(since), _at(until))


def test_an_unknown_frequency_has_no_period():
    with pytest.raises(ValueError):
        digests.period_for("off")


def later(days: int = 1) -> datetime:
    """A `now` whose last complete period (daily, or weekly with days=7) holds the present."""
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def schedule(django_capture_on_commit_callbacks):
    """Schedule as `send_digests` does; the rows' tasks run (and send) when it commits."""

    def _schedule(now=None, **options):
        with django_capture_on_commit_callbacks(execute=True):
            return digests.schedule_digests(now or later(), **options)

    return _schedule


def _digests():
    return Notification.objects.filter(kind=Notification.Kind.DIGEST)


@pytest.mark.django_db
def test_a_follower_gets_one_digest_listing_the_new_comment_by_someone_else(
    question, user, other_user, post_comment, schedule, mailoutbox, settings
):
    settings.SITE_URL = "https://consult.example.org"
    mine = post_comment(question=question, author=user, body="My own point.")  # follows it
    theirs = post_comment(question=question, author=other_user, body="Cities can help here.")

    created = schedule()

    row = _digests().get(recipient=user)
    assert row.pk in created and row.state == State.SENT
    assert row.period.startswith("daily:") and row.since <= theirs.created_at < row.until
    (mail,) = [m for m in mailoutbox if m.to == [user.email]]
    link = f"https://consult.example.org{theirs.get_absolute_url()}"
    html = mail.alternatives[0][0]
    for part in (mail.body, html):
        assert "Safe borders review" in part and "What are the key priorities?" in part
        assert "Jonas Berg" in part and "Civil society" in part
        assert "Cities can help here." in part and link in part
        assert "My own point." not in part and mine.get_absolute_url() + '"' not in part
        assert "https://consult.example.org/accounts/profile/" in part
    assert "1 new comment" in mail.subject
    # Jonas follows the question too (he posted in it): his digest lists her comment only.
    (his,) = [m for m in mailoutbox if m.to == [other_user.email]]
    assert "My own point." in his.body and "Cities can help here." not in his.body
    assert _digests().count() == len(created) == 2


@pytest.mark.django_db
def test_nothing_new_no_row(question, user, other_user, post_comment, schedule):
    post_comment(question=question, author=user)
    assert schedule() == []  # only her own comment
    follows.follow(other_user, question=question)
    post_comment(question=question, author=other_user)
    Comment.objects.update(created_at=timezone.now() - timedelta(days=5))
    assert schedule() == []  # both published before the period
    assert not _digests().exists()


@pytest.mark.django_db
def test_who_gets_no_digest(question, make_user, other_user, post_comment, schedule):
    off = make_user(display_name="Off")
    weekly = make_user(display_name="Weekly")
    unverified = make_user(display_name="Unverified", verified=False)
    stopped = make_user(display_name="Stopped following")
    wants = make_user(display_name="Wants it")
    Profile.objects.filter(user=off).update(email_digest="off")
    Profile.objects.filter(user=weekly).update(email_digest="weekly")
    for person in (off, weekly, unverified, stopped, wants):
        follows.follow(person, question=question)
    follows.unfollow(stopped, question=question)
    post_comment(question=question, author=other_user)

    schedule(frequencies=["daily"])
    assert list(_digests().values_list("recipient", flat=True)) == [wants.pk]

    schedule(later(7), frequencies=["weekly"])
    assert _digests().get(recipient=weekly).period.startswith("weekly:")


@pytest.mark.django_db
def test_a_followed_consultation_covers_its_questions_without_listing_a_comment_twice(
    question, question2, user, other_user, post_comment, schedule, mailoutbox
):
    follows.follow(user, consultation=question.consultation)
    follows.follow(user, question=question)
    first = post_comment(question=question, author=other_user, body="In question one.")
    second = post_comment(question=question2, author=other_user, body="In question two.")

    schedule()

    (mail,) = [m for m in mailoutbox if m.to == [user.email]]
    assert mail.body.count(first.get_absolute_url()) == 1
    assert mail.body.count(second.get_absolute_url()) == 1
    assert mail.body.index("In question one.") < mail.body.index("In question two.")
    assert "2 new comments" in mail.subject


@pytest.mark.django_db
def test_twice_for_the_same_period_makes_one_row_and_sends_once(
    question, user, other_user, post_comment, schedule, mailoutbox
):
    follows.follow(user, question=question)
    post_comment(question=question, author=other_user)
    now = later()
    assert len(schedule(now)) == 1
    assert schedule(now) == []
    assert schedule(now + timedelta(minutes=30)) == []  # same period, a later run
    assert _digests().count() == 1
    assert len([m for m in mailoutbox if m.to == [user.email]]) == 1


def _followers(count: int, question, author, post_comment) -> None:
    for _ in range(count):
        follows.follow(create_user(), question=question)
    post_comment(question=question, author=author)


@pytest.mark.django_db
@pytest.mark.parametrize("followers", [3, 30])
def test_scheduling_takes_the_same_queries_for_3_and_30_followers(
    followers, question, question2, other_user, post_comment, django_assert_num_queries, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    _followers(followers, question, other_user, post_comment)
    consultation_follower = create_user()
    follows.follow(consultation_follower, consultation=question.consultation)
    # Savepoint; for daily: follows, their new comments' authors, insert, rows inserted; for
    # weekly: follows (none); release.
    with django_assert_num_queries(7):
        created = digests.schedule_digests(later())
    assert len(created) == followers + 1


@pytest.mark.django_db
def test_the_digest_drops_what_was_hidden_or_deleted_since_and_is_cancelled_when_nothing_is_left(
    question, user, other_user, moderator, post_comment, django_capture_on_commit_callbacks
):
    post_comment(question=question, author=user)
    gone = post_comment(question=question, author=other_user, body="Soon hidden.")
    kept = post_comment(question=question, author=other_user, body="Still here.")
    with django_capture_on_commit_callbacks(execute=False):
        digests.schedule_digests(later())
    row = _digests().get(recipient=user)
    with django_capture_on_commit_callbacks(execute=False):
        services.comment_hide(comment=gone, by=moderator, reason="spam")
    _template, context, _to = kinds.digest([row])
    listed = [
        c["url"] for g in context["consultations"] for q in g["questions"] for c in q["comments"]
    ]
    assert listed == [row.base_url + kept.get_absolute_url()] and context["count"] == 1

    Comment.objects.filter(pk=kept.pk).update(status=Comment.Status.DELETED)
    from notifications.delivery import Cancel, deliver

    with pytest.raises(Cancel):
        kinds.digest([row])
    assert deliver(row.pk).startswith("cancelled")


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["digest off", "weekly now", "unverified", "unfollowed"])
def test_a_digest_is_cancelled_at_send_time_when_no_longer_wanted(
    question, user, other_user, post_comment, django_capture_on_commit_callbacks, change
):
    post_comment(question=question, author=user)
    post_comment(question=question, author=other_user)
    with django_capture_on_commit_callbacks(execute=False):
        digests.schedule_digests(later())
    if change == "digest off":
        Profile.objects.filter(user=user).update(email_digest="off")
    elif change == "weekly now":
        Profile.objects.filter(user=user).update(email_digest="weekly")
    elif change == "unverified":
        user.emailaddress_set.update(verified=False)
    else:
        follows.unfollow(user, question=question)
    from notifications.delivery import deliver

    assert deliver(_digests().get(recipient=user).pk).startswith("cancelled")
    assert _digests().get(recipient=user).state == State.CANCELLED


@pytest.mark.django_db
def test_the_digest_lists_at_most_the_cap_and_counts_the_rest(
    question, user, other_user, post_comment, schedule, mailoutbox, settings, monkeypatch
):
    monkeypatch.setattr(kinds, "DIGEST_CAP", 3)
    post_comment(question=question, author=user)
    for n in range(5):
        post_comment(question=question, author=other_user, body=f"Comment number {n}.")
    schedule()
    (mail,) = [m for m in mailoutbox if m.to == [user.email]]
    assert "5 new comments" in mail.subject
    assert "Comment number 2." in mail.body and "Comment number 3." not in mail.body
    assert "And 2 more new comments in this consultation" in mail.body
    assert f"{settings.SITE_URL}{question.consultation.get_absolute_url()}" in mail.body


@pytest.mark.django_db
def test_the_digest_is_written_in_the_recipients_language(
    question, user, other_user, post_comment, schedule, mailoutbox
):
    Profile.objects.filter(user=user).update(language="fr")
    post_comment(question=question, author=user)
    post_comment(question=question, author=other_user)
    schedule()
    (mail,) = [m for m in mailoutbox if m.to == [user.email]]
    assert mail.extra_headers["Content-Language"] == "fr"
    assert mail.body.startswith("Bonjour Amina Diallo,")
    assert "La lire et y répondre" in mail.alternatives[0][0]


@pytest.mark.django_db
def test_the_digest_period_is_dated_in_the_recipients_language(
    question, user, other_user, post_comment, schedule, mailoutbox
):
    Profile.objects.filter(user=user).update(language="es")
    post_comment(question=question, author=user)
    post_comment(question=question, author=other_user)
    schedule()
    (mail,) = [m for m in mailoutbox if m.to == [user.email]]
    # Spanish dates read "3 de diciembre de 2026 a las 06:00", not the English order.
    months = "|".join(
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
        "diciembre".split()
    )
    spanish_date = rf"\d{{1,2}} de ({months}) de \d{{4}}"
    for part in (mail.body, mail.alternatives[0][0]):
        assert len(re.findall(spanish_date, part)) == 2, part


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers: PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_runs_for_one_period_make_one_row_per_recipient(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from tests.conftest import create_consultation

    question = Question.objects.create(
        consultation=create_consultation(), number=1, text="Concurrent?"
    )
    author = create_user()
    people = [create_user() for _ in range(20)]
    for person in people:
        follows.follow(person, question=question)
    services.comment_create(question=question, author=author, body="New.", objectives=[])
    now = later()
    barrier = threading.Barrier(2)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def run():
        try:
            barrier.wait()
            results.append(digests.schedule_digests(now))
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = set(_digests().values_list("pk", flat=True))
    assert len(rows) == len(people) + 0  # the author follows it too, but nothing new for him
    first, second = results
    assert set(first).isdisjoint(second) and set(first) | set(second) == rows
    assert Follow.objects.filter(user=author, question=question).exists()
