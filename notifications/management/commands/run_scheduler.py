"""A small scheduler for `make run`: schedules the due digests, then again every --interval."""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from .send_digests import run


class Command(BaseCommand):
    help = (
        "Run `send_digests` now and every --interval seconds until stopped (Ctrl-C or SIGTERM). "
        "For the development server and small sites; with cron, run `send_digests` hourly "
        "instead. Safe beside cron or a second scheduler: scheduling is idempotent."
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
                if not connection.in_atomic_block:  # (the tests run it in a transaction)
                    close_old_connections()  # as a request would: drop a broken connection
                try:
                    self.stdout.write(run(base_url=base_url))
                except Exception as error:  # the database away for a while: try next time
                    self.stderr.write(f"Scheduling digests failed: {error!r}")
                done += 1
                if iterations and done >= iterations:
                    return
                time.sleep(interval)
        except KeyboardInterrupt:
            return
