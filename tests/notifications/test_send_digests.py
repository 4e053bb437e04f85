"""`manage.py send_digests` and `run_scheduler`: schedule the due digests, idempotently."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from notifications import follows
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_send_digests_schedules_the_last_complete_periods_and_says_how_many(
    question, user, other_user, post_comment, mailoutbox, django_capture_on_commit_callbacks
):
    follows.follow(user, question=question)
    post_comment(question=question, author=other_user)
    now = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "send_digests", now=now.isoformat(), base_url="https://consult.example.org", stdout=out
        )
    assert out.getvalue().startswith("Scheduled 1 digests (daily:")
    row = Notification.objects.get(kind="digest")
    assert (row.recipient, row.base_url, row.state) == (user, "https://consult.example.org", "sent")
    assert [m.to for m in mailoutbox] == [[user.email]]

    again = io.StringIO()
    call_command("send_digests", now=now.isoformat(), stdout=again)
    assert again.getvalue().startswith("Scheduled 0 digests")


def test_send_digests_refuses_a_date_that_is_not_iso():
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("send_digests", now="yesterday")


def test_a_naive_now_is_read_in_the_sites_time_zone(settings):
    settings.DAILY_EMAIL_HOUR = 7
    out = io.StringIO()
    call_command("send_digests", now="2026-12-03T08:00", stdout=out)
    assert out.getvalue().strip() == (
        "Scheduled 0 digests (daily:2026-12-02, weekly:2026-W48), 0 open-data builds and 0 "
        "daily emails about reported comments (reports:2026-12-03)."
    )


def test_the_scheduler_runs_the_same_scheduling_in_a_loop(
    question, user, other_user, post_comment, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    follows.follow(user, question=question)
    post_comment(question=question, author=other_user)
    Notification.objects.all().delete()
    out = io.StringIO()
    call_command("run_scheduler", interval=0, iterations=2, stdout=out)
    lines = out.getvalue().splitlines()
    # Now's period is not complete yet: the comment waits for the next daily run. Each run also
    # deletes the expired "Download my data" files (accounts.my_data).
    assert len(lines) == 4 and all(line.startswith("Scheduled 0 digests") for line in lines[::2])
    assert all(line.startswith("Deleted 0 expired data export files") for line in lines[1::2])
