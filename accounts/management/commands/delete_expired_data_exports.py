"""Delete the "Download my data" files whose link has expired (run it hourly from cron)."""

from django.core.management.base import BaseCommand

from accounts import my_data


class Command(BaseCommand):
    help = (
        "Delete the prepared “Download my data” files past their expiry (DATA_EXPORT_DAYS), and "
        "mark failed the requests queued or being prepared for longer than "
        "DATA_EXPORT_STALE_SECONDS, so that their participants may ask again. Idempotent; "
        "`run_scheduler` runs it too."
    )

    def handle(self, **options):
        deleted, failed = my_data.delete_expired()
        self.stdout.write(
            f"Deleted {deleted} expired data export files; {failed} lost requests marked failed."
        )
