"""Emails to moderators about reported comments: at once (coalesced), or once a day, in the
consultations they moderate; never to the reporter; cancelled once the comment is moderated."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from consultations import services
from consultations.models import Report
from notifications import delivery, reports
from notifications.models import Notification
from tests.conftest import create_user

State = Notification.State


@pytest.fixture
def mod(consultation, moderator):
    consultation.moderators.add(moderator)
    return moderator


@pytest.fixture
def comment(question, user, post_comment):
    return post_comment(question=question, author=user, body="Borders should be closed to all.")


@pytest.fixture
def report(django_capture_on_commit_callbacks):
    def _report(comment, reporter=None, reason="offensive", at=None):
        reporter = reporter or create_user()
        with django_capture_on_commit_callbacks(execute=True):
            made = services.comment_report(comment=comment, reporter=reporter, reason=reason)
        if at is not None:
            Report.objects.filter(pk=made.pk).update(created_at=at)
        return made

    return _report


@pytest.fixture
def schedule(django_capture_on_commit_callbacks):
    """schedule_report_digests, and the tasks it enqueues on commit."""

    def _schedule(now):
        with django_capture_on_commit_callbacks(execute=True):
            return reports.schedule_report_digests(now)

    return _schedule


def report_rows():
    return list(Notification.objects.filter(kind="report").order_by("pk"))


def report_mails(mailoutbox):
    return [m for m in mailoutbox if "report" in m.subject or "moderation" in m.subject]


# --- Immediate ------------------------------------------------------------------------------


def test_a_report_emails_each_moderator_of_the_consultation_with_links(
    comment, mod, report, mailoutbox, settings
):
    settings.SITE_URL = "https://consult.example.org"
    other_mod = create_user(display_name="Second Moderator", is_staff=True)
    comment.question.consultation.moderators.add(other_mod)

    report(comment, reason="offensive")

    assert sorted(m.to[0] for m in mailoutbox) == sorted([mod.email, other_mod.email])
    mail = next(m for m in mailoutbox if m.to == [mod.email])
    assert mail.subject == '[GCM consultations] A comment was reported in "Safe borders review"'
    assert "Hello Mira Moderator," in mail.body
    assert 'A comment by Amina Diallo on "Safe borders review" (question 1)' in mail.body
    assert "Reported as: Offensive (1)" in mail.body
    assert "Borders should be closed to all." in mail.body
    base = "https://consult.example.org"
    moderate = f"{base}/consultations/comments/{comment.pk}/moderate/"
    queue = f"{base}/consultations/moderation/"
    assert moderate in mail.body and queue in mail.body
    assert f"{base}/consultations/c/{comment.pk}/" in mail.body
    ((html, _mimetype),) = mail.alternatives
    assert f'href="{moderate}"' in html and f'href="{queue}"' in html
    # One click stops these emails, and only these.
    link = re.fullmatch(
        r"<https://consult\.example\.org(/[^>]+)>", mail.extra_headers["List-Unsubscribe"]
    )
    assert link and mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    row = Notification.objects.get(recipient=mod)
    assert (row.kind, row.comment, row.state, row.period) == ("report", comment, State.SENT, "")
    assert mail.extra_headers["Message-ID"] == f"<notification-{row.pk}@consult.example.org>"


def test_the_report_email_is_in_the_moderators_language(comment, mod, report, mailoutbox):
    mod.profile.language = "fr"
    mod.profile.save()

    report(comment)

    (mail,) = mailoutbox
    assert mail.extra_headers["Content-Language"] == "fr"
    assert '<html lang="fr">' in mail.alternatives[0][0]
    assert "Bonjour Mira Moderator," in mail.body  # an existing message, already translated


def test_no_email_to_the_reporter_even_a_moderator(comment, mod, report, mailoutbox):
    report(comment, reporter=mod)

    assert mailoutbox == [] and report_rows() == []


def test_only_the_moderators_of_that_consultation_who_chose_it_are_emailed(
    comment, mod, report, mailoutbox, make_consultation
):
    make_consultation().moderators.add(create_user(is_staff=True))  # another consultation
    daily = create_user(is_staff=True)
    off = create_user(is_staff=True)
    unverified = create_user(is_staff=True, verified=False)
    inactive = create_user(is_staff=True, is_active=False)
    daily.profile.email_reports = "daily"
    daily.profile.save()
    off.profile.email_reports = "off"
    off.profile.save()
    comment.question.consultation.moderators.add(daily, off, unverified, inactive)

    report(comment)

    assert [m.to for m in mailoutbox] == [[mod.email]]
    assert [r.recipient for r in report_rows()] == [mod]


def test_a_second_report_of_the_same_comment_emails_nobody_again(comment, mod, report, mailoutbox):
    report(comment, reason="offensive")
    report(comment, reason="spam")

    assert len(mailoutbox) == 1 and len(report_rows()) == 1


@pytest.mark.parametrize("how", ["hidden", "dismissed", "deleted"])
def test_a_comment_moderated_before_the_send_is_not_written_about(
    how, comment, mod, user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        made = services.comment_report(comment=comment, reporter=create_user(), reason="spam")
    if how == "hidden":
        services.comment_hide(comment=comment, by=mod, reason="spam")
    elif how == "dismissed":
        services.report_dismiss(report=made, by=mod)
    else:
        services.comment_delete(comment=comment, by=user)
    for callback in callbacks:
        callback()

    assert report_mails(mailoutbox) == []
    (row,) = report_rows()
    assert (row.state, row.last_error) == (State.CANCELLED, "the comment was already moderated")


def test_a_moderator_who_switched_to_daily_before_the_send_gets_no_immediate_email(
    comment, mod, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.comment_report(comment=comment, reporter=create_user(), reason="spam")
    mod.profile.email_reports = "daily"
    mod.profile.save()
    for callback in callbacks:
        callback()

    assert mailoutbox == []
    assert report_rows()[0].state == State.CANCELLED


def test_reports_close_together_make_one_email(
    question, user, mod, post_comment, report, mailoutbox, settings
):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    settings.NOTIFICATION_COALESCE_SECONDS = 120
    comments = [post_comment(question=question, author=user) for _n in range(2)]
    report(comments[0], reason="spam")
    report(comments[1], reason="off_topic")
    first, second = report_rows()
    assert (
        first.next_attempt_at == second.next_attempt_at == first.created_at + timedelta(seconds=120)
    )

    assert delivery.deliver(second.pk, now=second.next_attempt_at) == "sent 2 in one email"

    (mail,) = mailoutbox
    expected = "[GCM consultations] 2 comments reported in the consultations you moderate"
    assert mail.subject == expected
    assert "Reported as: Spam (1)" in mail.body and "Reported as: Off-topic (1)" in mail.body
    for reported in comments:
        assert f"/consultations/comments/{reported.pk}/moderate/" in mail.body


def test_the_unsubscribe_link_of_a_report_email_stops_only_those(comment, mod, report, mailoutbox):
    report(comment)
    (mail,) = mailoutbox
    path = re.search(
        r"(/notifications/unsubscribe/[^>]+/)>", mail.extra_headers["List-Unsubscribe"]
    )
    client = Client(enforce_csrf_checks=True)

    page = client.get(path.group(1))
    assert page.status_code == 200
    assert "Stop emails about reported comments?" in page.content.decode()
    mod.profile.refresh_from_db()
    assert mod.profile.email_reports == "immediate"  # a GET changes nothing

    done = client.post(path.group(1), {"List-Unsubscribe": "One-Click"})
    assert "Emails about reported comments stopped" in done.content.decode()
    mod.profile.refresh_from_db()
    assert (mod.profile.email_reports, mod.profile.email_replies) == ("off", True)


# --- Daily ----------------------------------------------------------------------------------


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def daily(mod, settings):
    settings.TIME_ZONE = "UTC"
    settings.DAILY_EMAIL_HOUR = 7
    mod.profile.email_reports = "daily"
    mod.profile.save()
    return mod


def test_the_window_is_the_day_before_the_latest_daily_hour(settings):
    settings.DAILY_EMAIL_HOUR = 7

    assert reports.report_window(at(3, 8)) == ("reports:2026-12-03", at(2, 7), at(3, 7))
    assert reports.report_window(at(3, 7)) == ("reports:2026-12-03", at(2, 7), at(3, 7))
    assert reports.report_window(at(3, 6, 59)) == ("reports:2026-12-02", at(1, 7), at(2, 7))


def test_a_daily_moderator_gets_one_email_listing_what_awaits_moderation(
    schedule, question, user, daily, post_comment, report, mailoutbox, settings, make_consultation
):
    settings.SITE_URL = "https://consult.example.org"
    waiting = post_comment(question=question, author=user, body="Reported and waiting.")
    dealt_with = post_comment(question=question, author=user, body="Reported and dismissed.")
    too_old = post_comment(question=question, author=user, body="Reported the day before.")
    elsewhere = make_consultation()
    other_question = elsewhere.questions.create(number=1, text="Elsewhere?")
    not_mine = post_comment(question=other_question, author=user, body="Not my consultation.")
    report(waiting, reason="spam", at=at(2, 9))
    report(waiting, reason="spam", at=at(2, 10))
    report(waiting, reason="offensive", at=at(3, 6))
    dismissed = report(dealt_with, at=at(2, 12))
    services.report_dismiss(report=dismissed, by=daily)
    report(too_old, at=at(2, 6, 59))
    report(not_mine, at=at(2, 12))
    assert mailoutbox == []  # daily: nothing at once

    assert schedule(at(3, 7, 5)) == 1

    (row,) = report_rows()
    assert (row.recipient, row.period, row.comment, row.since, row.until, row.state) == (
        daily,
        "reports:2026-12-03",
        None,
        at(2, 7),
        at(3, 7),
        State.SENT,
    )
    (mail,) = mailoutbox
    assert mail.to == [daily.email]
    assert mail.subject == "[GCM consultations] 1 reported comment awaits moderation"
    assert "Reported and waiting." in mail.body
    assert "Reported as: Spam (2), Offensive (1)" in mail.body
    for absent in ("dismissed", "the day before", "Not my consultation"):
        assert absent not in mail.body
    assert f"https://consult.example.org/consultations/comments/{waiting.pk}/moderate/" in mail.body
    assert "https://consult.example.org/consultations/moderation/" in mail.body
    assert "List-Unsubscribe" in mail.extra_headers
    ((html, _mimetype),) = mail.alternatives
    assert "Reported and waiting." in html


def test_scheduling_twice_records_and_sends_once(schedule, comment, daily, report, mailoutbox):
    report(comment, at=at(2, 9))

    assert schedule(at(3, 7, 5)) == 1
    assert schedule(at(3, 9)) == 0
    assert schedule(at(3, 23)) == 0

    assert len(mailoutbox) == 1 and len(report_rows()) == 1
    # The next day is another period: the report, still open, is outside its window.
    assert schedule(at(4, 7)) == 0


def test_no_daily_email_when_nothing_awaits(schedule, comment, daily, report, mailoutbox, mod):
    made = report(comment, at=at(2, 9))
    services.report_dismiss(report=made, by=mod)

    assert schedule(at(3, 7, 5)) == 0
    assert mailoutbox == [] and report_rows() == []


def test_a_daily_email_is_cancelled_when_everything_was_moderated_before_the_send(
    comment, daily, mod, django_capture_on_commit_callbacks, mailoutbox
):
    made = services.comment_report(comment=comment, reporter=create_user(), reason="spam")
    Report.objects.filter(pk=made.pk).update(created_at=at(2, 9))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert reports.schedule_report_digests(at(3, 7, 5)) == 1
    services.comment_hide(comment=comment, by=mod, reason="spam")
    for callback in callbacks:
        callback()

    (row,) = report_rows()
    assert row.state == State.CANCELLED
    assert row.last_error == "nothing reported in the period awaits moderation"
    assert report_mails(mailoutbox) == []


def test_the_daily_email_is_not_for_immediate_or_unverified_moderators(
    schedule, comment, mod, report, mailoutbox
):
    unverified = create_user(is_staff=True, verified=False)
    unverified.profile.email_reports = "daily"
    unverified.profile.save()
    comment.question.consultation.moderators.add(unverified)
    report(comment, at=at(2, 9))  # mod chose "immediate": emailed at once
    mailoutbox.clear()

    assert schedule(at(3, 7, 5)) == 0
    assert mailoutbox == []


def test_scheduling_takes_a_fixed_number_of_queries(
    schedule,
    question,
    user,
    post_comment,
    report,
    settings,
    django_assert_num_queries,
    consultation,
):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    for _n in range(3):
        moderator = create_user(is_staff=True)
        moderator.profile.email_reports = "daily"
        moderator.profile.save()
        consultation.moderators.add(moderator)
    for _n in range(2):
        report(post_comment(question=question, author=user), at=at(2, 9))

    # Who is owed one; in a savepoint, insert their rows and read their ids; a task per email.
    with django_assert_num_queries(5 + 3):
        assert schedule(at(3, 7, 5)) == 3


def test_the_command_records_the_daily_emails(
    comment, daily, report, mailoutbox, django_capture_on_commit_callbacks
):
    report(comment, at=timezone.now() - timedelta(hours=1))
    Report.objects.update(created_at=reports.report_window(timezone.now())[1] + timedelta(hours=1))

    from io import StringIO

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_digests", stdout=out)
    call_command("send_digests", stdout=out)

    period = reports.report_window(timezone.now())[0]
    first, again = out.getvalue().splitlines()
    assert first.endswith(f"and 1 daily emails about reported comments ({period}).")
    assert again.endswith(f"and 0 daily emails about reported comments ({period}).")
    assert len(mailoutbox) == 1


def test_delivering_reports_takes_a_fixed_number_of_queries(
    question, user, mod, post_comment, report, settings, mailoutbox, django_assert_num_queries
):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    settings.NOTIFICATION_COALESCE_SECONDS = 120
    for _n in range(3):
        report(post_comment(question=question, author=user))
    first = report_rows()[0]

    # Look up the row, claim the batch, read it; which comments still await moderation and
    # which consultations the moderator moderates; the address; the reasons; mark them sent.
    with django_assert_num_queries(8):
        assert delivery.deliver(first.pk, now=first.next_attempt_at) == "sent 3 in one email"
    assert len(mailoutbox) == 1
