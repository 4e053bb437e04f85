"""Compute missing campaign signatures and regroup near-identical comments (existing data)."""

from django.core.management.base import BaseCommand, CommandError

from consultations.models import Consultation
from insights import campaigns


class Command(BaseCommand):
    help = (
        "Compute the MinHash signatures that are missing (or older than the comment's last "
        "edit) and recompute the campaign groups of one consultation, or of every one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--consultation", metavar="SLUG", help="Only this consultation.")
        parser.add_argument(
            "--recompute",
            action="store_true",
            help="Recompute every signature, not only the missing ones.",
        )

    def handle(self, *args, consultation=None, recompute=False, **options):
        consultations = Consultation.objects.order_by("slug")
        if consultation:
            consultations = consultations.filter(slug=consultation)
            if not consultations.exists():
                raise CommandError(f"There is no consultation {consultation!r}.")
        for item in consultations:
            written = campaigns.store_missing_signatures(item, recompute=recompute)
            result = campaigns.regroup(item)
            self.stdout.write(
                f"{item.slug}: {written} signatures computed, {result.signatures} compared, "
                f"{result.groups} groups of {result.grouped} comments"
            )
