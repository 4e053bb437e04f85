"""`manage.py sweep_attachments [--delete] [--min-age MINUTES]`: files no attachment row points
to (a worker killed between writing a file and committing its row), listed, and removed."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from consultations.models import Attachment

FOLDER = "attachments"


class Command(BaseCommand):
    help = (
        "List the files under the storage's attachments/ folder that no attachment row points "
        "to and that are older than --min-age minutes (younger ones may belong to a post being "
        "written); with --delete, remove them. A sibling of check_trees: run both from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="Remove the orphan files.")
        parser.add_argument(
            "--min-age",
            type=int,
            default=60,
            help="Only files last written at least this many minutes ago (default 60).",
        )

    def handle(self, *args, delete: bool, min_age: int, **options):
        storage = Attachment.file.field.storage
        try:
            _, names = storage.listdir(FOLDER)
        except FileNotFoundError:
            names = []
        cutoff = timezone.now() - timedelta(minutes=min_age)
        paths = [f"{FOLDER}/{name}" for name in names]
        known = set(Attachment.objects.filter(file__in=paths).values_list("file", flat=True))
        orphans = [
            path
            for path in paths
            if path not in known and storage.get_modified_time(path) <= cutoff
        ]
        for path in orphans:
            size = storage.size(path)
            if delete:
                storage.delete(path)
            self.stdout.write(f"{'removed' if delete else 'orphan'} {path} ({size} bytes)")
        verb = "removed" if delete else "found (run with --delete to remove them)"
        self.stdout.write(
            f"{len(paths)} file(s) checked, {len(known)} with a row, {len(orphans)} orphan(s) "
            f"{verb}"
        )
