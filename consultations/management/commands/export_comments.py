"""Write the staff CSV export of a consultation's comments to a file or standard output."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from consultations.export import ExportFilterError, filters_from_options, write_csv
from consultations.models import Consultation


class Command(BaseCommand):
    help = (
        "Export every comment of a consultation (published and hidden) as CSV, in thread order. "
        "Works for unpublished consultations too. The filters are the insights pages' "
        "(insights/filters.py)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The consultation's slug.")
        # No type=int: CommentFilters checks the values, with the web download's messages.
        parser.add_argument("--question", metavar="N", help="Only question number N.")
        parser.add_argument(
            "--objective", metavar="N", help="Only comments tagged with objective N (1 to 23)."
        )
        parser.add_argument(
            "--stakeholder-type",
            dest="stakeholder_type",
            metavar="TYPE",
            help="Only authors of this stakeholder type (e.g. civil_society).",
        )
        parser.add_argument(
            "--organisation", metavar="NAME", help="Only authors of this organisation."
        )
        parser.add_argument("--since", metavar="YYYY-MM-DD", help="Posted on or after this day.")
        parser.add_argument("--until", metavar="YYYY-MM-DD", help="Posted on or before this day.")
        parser.add_argument("--status", metavar="STATUS", help="published, hidden or deleted.")
        parser.add_argument("--code", metavar="ID", help="Only comments with this analyst code.")
        parser.add_argument("--group", metavar="ID", help="Only this campaign group.")
        parser.add_argument(
            "--q",
            "--search",
            dest="q",
            metavar="TEXT",
            help="Only comments whose text (or attachments' text) matches.",
        )
        parser.add_argument(
            "--exclude-hidden",
            action="store_true",
            help="Leave out comments hidden by moderators.",
        )
        parser.add_argument(
            "--output", metavar="FILE", help="Write to FILE instead of standard output."
        )
        parser.add_argument(
            "--format",
            choices=["csv", "xlsx"],
            default="csv",
            help="csv (the default) or xlsx (the staff workbook, insights/xlsx.py; needs "
            "--output): for consultations too large to download within the web timeout.",
        )

    def handle(self, *args, slug, output, format="csv", **options):
        if format == "xlsx" and not output:
            raise CommandError("--format xlsx writes a file: give it with --output FILE.")
        try:
            consultation = Consultation.objects.get(slug=slug)
        except Consultation.DoesNotExist:
            raise CommandError(f"No consultation with the slug “{slug}”.") from None
        try:
            filters = filters_from_options(consultation, options)
        except ExportFilterError as error:
            raise CommandError("\n".join(error.messages)) from None

        if format == "xlsx":
            from insights.xlsx import write_xlsx

            with open(output, "wb") as stream:
                write_xlsx(stream, consultation, filters, base_url=settings.SITE_URL)
        elif output:
            # newline="": the csv module writes its own \r\n line endings.
            with open(output, "w", encoding="utf-8", newline="") as stream:
                write_csv(stream, consultation, filters, base_url=settings.SITE_URL)
        else:
            write_csv(_Unterminated(self.stdout), consultation, filters, base_url=settings.SITE_URL)


class _Unterminated:
    """self.stdout adds a newline to every write unless told not to; CSV lines carry their own."""

    def __init__(self, out):
        self._out = out

    def write(self, text: str) -> None:
        self._out.write(text, ending="")
