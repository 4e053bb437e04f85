"""One row per email the site owes someone: what it is about, and how far its delivery got."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    class Kind(models.TextChoices):
        COMMENT_HIDDEN = "comment_hidden", "Your comment was hidden"
        REPLY = "reply", "Someone replied to your comment"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        # Claimed by a worker, which is sending it now (or died doing so: see claimed_at).
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (gave up)"
        # No longer owed: e.g. the reply was hidden or deleted before the email went out.
        CANCELLED = "cancelled", "Cancelled"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # The comment the email is about: the hidden comment, or the reply.
    comment = models.ForeignKey(
        "consultations.Comment", on_delete=models.CASCADE, related_name="notifications"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Scheme and host for the email's links, as the write that caused it saw them.
    base_url = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    # A pending row is due from then on (later after a failed attempt: the backoff).
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Set with each claim: only the claimant marks the row sent, and a claim older than
    # NOTIFICATION_SENDING_TIMEOUT belongs to a worker that died.
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "comment"], name="notification_once_per_event"
            )
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="notification_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} ({self.state})"
