"""A small scheduler for `make run`: schedules the due digests and deletes the expired "Download
my data" files, then again every --interval."""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from accounts import my_data

from .send_digests import run


class Command(BaseCommand):
    help = (
        "Run `send_digests` and `delete_expired_data_exports` now and every --interval seconds "
        "until stopped (Ctrl-C or SIGTERM). For the development server and small sites; with "
        "cron, run both hourly instead. Safe beside cron or a second scheduler: both are "
        "idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=300, help="Seconds between runs.")
        parser.add_argument(
            "--iterations", type=int, default=0, help="Stop after this many runs (0: never)."
        )
        parser.add_argument("--base-url", default=None, help="Default: SITE_URL.")

    def handle(self, *, interval: float, iterations: int, base_url, **options):
        done = 0
        try:
            while True:
                # A long-lived process drops a connection the database closed; not when called
                # inside a caller's transaction (call_command from a test or a script).
                if not connection.in_atomic_block:
                    close_old_connections()
                try:
                    self.stdout.write(run(base_url=base_url))
                except Exception as error:  # the database away for a while: try next time
                    self.stderr.write(f"Scheduling digests failed: {error!r}")
                try:
                    deleted, failed = my_data.delete_expired()
                    self.stdout.write(
                        f"Deleted {deleted} expired data export files; "
                        f"{failed} lost requests marked failed."
                    )
                except Exception as error:
                    self.stderr.write(f"Deleting expired data exports failed: {error!r}")
                done += 1
                if iterations and done >= iterations:
                    return
                time.sleep(interval)
        except KeyboardInterrupt:
            return
