"""Record and enqueue the moderators' daily emails about reported comments (run from cron)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from notifications import reports


class Command(BaseCommand):
    help = (
        "Record the daily email about reported comments of every moderator who chose it "
        "(Profile.email_reports 'daily') and has comments reported in the last day that still "
        "await moderation, and enqueue them for the worker. The day ends at DAILY_EMAIL_HOUR "
        "(TIME_ZONE). Safe to run at any time, e.g. hourly from cron: each moderator gets one "
        "email per day however often it runs."
    )

    def handle(self, **options):
        now = timezone.now()
        period, _since, _until = reports.report_window(now)
        recorded = reports.schedule_report_digests(now)
        self.stdout.write(f"{period}: {recorded} daily report emails recorded.")
