"""Schedule the digests owed for the last complete daily and weekly periods, the moderators'
daily emails about reported comments, and the open-data files of consultations that have
closed (run it hourly)."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from consultations import open_data
from notifications import digests, reports


def parse_now(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--now takes an ISO 8601 date and time, not “{value}”.") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


def run(*, now: datetime | None = None, base_url: str | None = None) -> str:
    """Schedule what is due and say what was done (send_digests and run_scheduler)."""
    now = now or timezone.now()
    created = digests.schedule_digests(now, base_url=base_url)
    periods = ", ".join(digests.period_for(f, now)[0] for f in digests.FREQUENCIES)
    report_emails = reports.schedule_report_digests(now)
    report_period = reports.report_window(now)[0]
    # Consultations closed since the last run get their open-data file (once each).
    builds = open_data.schedule_closed(now)
    return (
        f"Scheduled {len(created)} digests ({periods}), {builds} open-data builds and "
        f"{report_emails} daily emails about reported comments ({report_period})."
    )


class Command(BaseCommand):
    help = (
        "Create and enqueue the digest emails of the last complete daily period (the 24 hours "
        "before the last DAILY_EMAIL_HOUR) and weekly period (the week before the last "
        "WEEKLY_DIGEST_WEEKDAY at that hour). Idempotent: a digest already scheduled for its "
        "period is not made again, so running it every hour from cron is safe. Also records "
        "the moderators' daily emails about reported comments (notifications.reports), and queues "
        "the open-data file of each consultation closed since (consultations.open_data)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            default=None,
            help="Pretend it is this moment (ISO 8601; default: now). Picks the periods.",
        )
        parser.add_argument(
            "--base-url",
            default=None,
            help="Scheme and host for the links in the emails (default: SITE_URL).",
        )

    def handle(self, *, now, base_url, **options):
        moment = parse_now(now) if isinstance(now, str) else now
        self.stdout.write(run(now=moment, base_url=base_url))
