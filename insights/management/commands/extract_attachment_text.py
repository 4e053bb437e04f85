"""Extract the text of attachments saved before extraction ran, or of every one again."""

from django.core.management.base import BaseCommand
from django.db.models import Q

from consultations.models import Attachment
from insights import extraction
from insights.models import AttachmentText


class Command(BaseCommand):
    help = (
        "Extract the text of the attachments that have none yet (never extracted, or still "
        "pending), here rather than in the worker; --all extracts every attachment's again "
        "(after a limit changed, say)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="Every attachment, whatever its state."
        )

    def handle(self, *args, all: bool = False, **options):
        attachments = Attachment.objects.order_by("pk")
        if not all:
            attachments = attachments.filter(
                Q(extracted__isnull=True) | Q(extracted__state=AttachmentText.State.PENDING)
            )
        counts: dict[str, int] = {}
        for pk in attachments.values_list("pk", flat=True).iterator():
            state = extraction.extract(pk)
            counts[state] = counts.get(state, 0) + 1
        total = sum(counts.values())
        detail = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
        self.stdout.write(f"{total} attachment(s) read" + (f": {detail}." if detail else "."))
