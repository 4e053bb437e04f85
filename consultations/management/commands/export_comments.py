"""Write the staff CSV export of a consultation's comments to a file or standard output."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from consultations.export import ExportFilterError, check_filters, write_csv
from consultations.models import Consultation


class Command(BaseCommand):
    help = (
        "Export every comment of a consultation (published and hidden) as CSV, in thread order. "
        "Works for unpublished consultations too."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The consultation's slug.")
        parser.add_argument("--question", type=int, metavar="N", help="Only question number N.")
        parser.add_argument(
            "--objective", type=int, metavar="N", help="Only comments tagged with objective N."
        )
        parser.add_argument(
            "--exclude-hidden",
            action="store_true",
            help="Leave out comments hidden by moderators.",
        )
        parser.add_argument(
            "--output", metavar="FILE", help="Write to FILE instead of standard output."
        )

    def handle(self, *args, slug, question, objective, exclude_hidden, output, **options):
        try:
            consultation = Consultation.objects.get(slug=slug)
        except Consultation.DoesNotExist:
            raise CommandError(f"No consultation with the slug “{slug}”.") from None
        try:
            check_filters(consultation, question_number=question, objective_number=objective)
        except ExportFilterError as error:
            raise CommandError(str(error)) from None

        export = {
            "question_number": question,
            "objective_number": objective,
            "include_hidden": not exclude_hidden,
            "base_url": settings.SITE_URL,
        }
        if output:
            # newline="": the csv module writes its own \r\n line endings.
            with open(output, "w", encoding="utf-8", newline="") as stream:
                write_csv(stream, consultation, **export)
        else:
            write_csv(_Unterminated(self.stdout), consultation, **export)


class _Unterminated:
    """self.stdout adds a newline to every write unless told not to; CSV lines carry their own."""

    def __init__(self, out):
        self._out = out

    def write(self, text: str) -> None:
        self._out.write(text, ending="")
