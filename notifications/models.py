"""One row per email the site owes someone: what it is about, and how far its delivery got."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    class Kind(models.TextChoices):
        COMMENT_HIDDEN = "comment_hidden", "Your comment was hidden"
        REPLY = "reply", "Someone replied to your comment"
        # New comments in what the recipient follows, one row per recipient and period.
        DIGEST = "digest", "Digest of new comments in what you follow"
        # A comment reported in a consultation the recipient moderates.
        REPORT = "report", "A comment was reported"

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
    # The comment the email is about: the hidden comment, the reply, the reported comment.
    # None for a digest, which is about a period.
    comment = models.ForeignKey(
        "consultations.Comment",
        on_delete=models.CASCADE,
        related_name="notifications",
        null=True,
        blank=True,
    )
    # A digest's period ("daily:2026-12-02", "weekly:2026-W49"): one digest per recipient and
    # period, and the comments it lists are those published in [since, until).
    period = models.CharField(max_length=32, blank=True, default="")
    since = models.DateTimeField(null=True, blank=True)
    until = models.DateTimeField(null=True, blank=True)
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
            ),
            models.UniqueConstraint(
                fields=["recipient", "kind", "period"],
                condition=~models.Q(period=""),
                name="notification_once_per_period",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="notification_due"),
            # A batch: the recipient's pending rows of one kind (delivery coalesces them).
            models.Index(fields=["recipient", "kind", "state"], name="notification_batch"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} ({self.state})"


class Follow(models.Model):
    """A user follows a consultation or one of its questions: its new comments reach them in the
    digest and on their Notifications page. `active=False` remembers an explicit unfollow, so
    that posting again in the question does not follow it again."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows"
    )
    consultation = models.ForeignKey(
        "consultations.Consultation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="follows",
    )
    question = models.ForeignKey(
        "consultations.Question",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="follows",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(consultation__isnull=False, question__isnull=True)
                    | models.Q(consultation__isnull=True, question__isnull=False)
                ),
                name="follow_one_target",
            ),
            models.UniqueConstraint(
                fields=["user", "consultation"],
                condition=models.Q(consultation__isnull=False),
                name="follow_consultation_once",
            ),
            models.UniqueConstraint(
                fields=["user", "question"],
                condition=models.Q(question__isnull=False),
                name="follow_question_once",
            ),
        ]

    def __str__(self) -> str:
        target = self.question or self.consultation
        return f"{self.user} follows {target}" + ("" if self.active else " (stopped)")


class ConsultationVisit(models.Model):
    """When a user last read a consultation's pages: comments newer than `new_since` are marked
    "new since your last visit". A visit ends after settings.VISIT_GAP_SECONDS without a page
    view; the next one marks what came after it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consultation_visits"
    )
    consultation = models.ForeignKey(
        "consultations.Consultation", on_delete=models.CASCADE, related_name="visits"
    )
    # The end of the previous visit (None on the first one: nothing is marked).
    new_since = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "consultation"], name="visit_once")]

    def __str__(self) -> str:
        return f"{self.user} in {self.consultation}"
