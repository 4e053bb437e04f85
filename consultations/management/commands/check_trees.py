"""`manage.py check_trees [--repair]`: report corrupt comment trees, optionally rebuild them."""

from django.core.management.base import BaseCommand, CommandError

from consultations.trees import TreeCheck, TreeRepairError, check_trees, repair_trees

# Reasons printed per tree; a badly broken tree has one per comment.
MAX_REASONS = 5


class Command(BaseCommand):
    help = (
        "Check every comment tree (nested-set positions, levels, parent links) and list the "
        "corrupt ones; exits with status 1 if any. With --repair, rebuild only those trees "
        "from their parent links (under their locks), then check again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair", action="store_true", help="Rebuild the corrupt trees, and only those."
        )

    def handle(self, *args, repair: bool, **options):
        result = check_trees()
        self.report(result)
        if result.ok:
            return
        if not repair:
            raise CommandError(
                f"{len(result.corrupt)} corrupt tree(s); run check_trees --repair to rebuild them."
            )
        try:
            rebuilt = repair_trees(result.corrupt)
        except TreeRepairError as error:
            raise CommandError(f"Not repaired: {error}") from None
        self.stdout.write(f"rebuilt tree(s) {', '.join(map(str, rebuilt))}")
        after = check_trees()
        self.report(after)
        if not after.ok:
            raise CommandError(f"{len(after.corrupt)} tree(s) still corrupt after the repair.")

    def report(self, result: TreeCheck) -> None:
        summary = f"checked {result.trees} trees, {result.comments} comments"
        if result.ok:
            self.stdout.write(self.style.SUCCESS(f"{summary}: all consistent"))
            return
        self.stdout.write(f"{summary}: {len(result.corrupt)} corrupt")
        for tree_id, reasons in result.corrupt.items():
            shown = "; ".join(reasons[:MAX_REASONS])
            more = f" (and {len(reasons) - MAX_REASONS} more)" if len(reasons) > MAX_REASONS else ""
            self.stdout.write(self.style.ERROR(f"tree {tree_id} corrupt: {shown}{more}"))
