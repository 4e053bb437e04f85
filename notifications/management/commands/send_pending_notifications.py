"""Re-enqueue (or send here) every notification that is due, after reclaiming stuck ones."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from notifications import delivery
from notifications.models import Notification


class Command(BaseCommand):
    help = (
        "Reclaim notifications left in 'sending' longer than NOTIFICATION_SENDING_TIMEOUT "
        "(their worker died), then enqueue every pending one that is due. Safe to run at any "
        "time, e.g. from cron every few minutes: a row is only ever sent by whoever claims it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--send",
            action="store_true",
            help="Send them from this process instead of enqueuing them for the worker.",
        )

    def handle(self, *, send: bool, verbosity: int, **options):
        reclaimed, failed = delivery.reclaim_stuck()
        due = list(
            Notification.objects.filter(
                state=Notification.State.PENDING, next_attempt_at__lte=timezone.now()
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        outcomes: dict[str, int] = {}
        for pk in due:
            if send:
                outcome = delivery.deliver(pk)
            else:
                delivery.enqueue(pk)
                outcome = "enqueued"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        summary = ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())) or "none due"
        self.stdout.write(
            f"Reclaimed {reclaimed} stuck, gave up on {failed}; {len(due)} due: {summary}."
        )
