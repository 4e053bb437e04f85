"""What staff add to a consultation's comments to turn them into evidence: analyst codes and key
quotes (never shown to the public, every change logged), campaign groups of near-identical
comments, theme suggestions and the text extracted from attachments.

None of this changes a comment: the authors' words, objective tags and status stay as they are.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consultations.models import Attachment, Comment, Consultation, Question


class Code(models.Model):
    """A theme an analyst defines for one consultation and attaches to comments."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="codes")
    name = models.CharField(_("name"), max_length=80)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["consultation", "name"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "name"], name="code_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CodeAssignment(models.Model):
    """One code on one comment, with the analyst's optional note."""

    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="assignments")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="code_assignments")
    note = models.TextField(_("note"), blank=True, max_length=2000)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code", "comment"]
        constraints = [
            models.UniqueConstraint(fields=["code", "comment"], name="code_once_per_comment")
        ]

    def __str__(self) -> str:
        return f"{self.code} on comment #{self.comment_id}"


class KeyQuote(models.Model):
    """Staff flagged this comment as a key quote: it comes first in the evidence pack."""

    comment = models.OneToOneField(
        Comment, on_delete=models.CASCADE, primary_key=True, related_name="key_quote"
    )
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    flagged_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Key quote: comment #{self.comment_id}"


class CodingAction(models.Model):
    """The coding log, kept like the moderation log: who changed which code or flag, when."""

    class Kind(models.TextChoices):
        CREATE_CODE = "create_code", _("Create code")
        RENAME_CODE = "rename_code", _("Rename code")
        DELETE_CODE = "delete_code", _("Delete code")
        ASSIGN = "assign", _("Assign code")
        UNASSIGN = "unassign", _("Remove code")
        EDIT_NOTE = "edit_note", _("Edit note")
        FLAG_KEY_QUOTE = "flag_key_quote", _("Flag key quote")
        UNFLAG_KEY_QUOTE = "unflag_key_quote", _("Unflag key quote")
        ACCEPT_THEME = "accept_theme", _("Accept theme")
        DISMISS_THEME = "dismiss_theme", _("Dismiss theme")

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="coding_actions"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="coding_actions"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    comment = models.ForeignKey(
        Comment, on_delete=models.SET_NULL, null=True, blank=True, related_name="coding_actions"
    )
    # The code's name at the time: the log stays readable after a code is renamed or deleted.
    code_name = models.CharField(max_length=80, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code_name}".strip()


class DuplicateGroup(models.Model):
    """Comments of one consultation whose texts are near-identical (a campaign, or one text
    posted twice). Nothing is hidden or merged: staff see the group and decide."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="duplicate_groups"
    )
    representative = models.ForeignKey(
        Comment, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    size = models.PositiveIntegerField(default=0)
    organisation_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["consultation", "-size", "pk"]

    def __str__(self) -> str:
        return f"Group {self.pk} ({self.size} comments)"


class CommentSignature(models.Model):
    """A comment's MinHash signature over word shingles, and the group it fell in, if any."""

    comment = models.OneToOneField(
        Comment, on_delete=models.CASCADE, primary_key=True, related_name="signature"
    )
    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="+")
    minhash = models.BinaryField()
    group = models.ForeignKey(
        DuplicateGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    computed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Signature of comment #{self.comment_id}"


class ThemeRun(models.Model):
    """One request for k theme suggestions on a question, computed by a background task."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="theme_runs")
    k = models.PositiveSmallIntegerField(default=6)
    seed = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    message = models.CharField(max_length=255, blank=True)
    comment_count = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.k} themes for question #{self.question_id} ({self.state})"


class ThemeSuggestion(models.Model):
    """One suggested theme: its top terms and its comments, most representative first."""

    class Status(models.TextChoices):
        SUGGESTED = "suggested", _("Suggested")
        ACCEPTED = "accepted", _("Accepted")
        DISMISSED = "dismissed", _("Dismissed")

    run = models.ForeignKey(ThemeRun, on_delete=models.CASCADE, related_name="themes")
    position = models.PositiveSmallIntegerField()
    terms = models.JSONField(default=list)
    comments = models.ManyToManyField(Comment, through="ThemeMember", related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUGGESTED)
    code = models.ForeignKey(Code, on_delete=models.SET_NULL, null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "position"]

    def __str__(self) -> str:
        return ", ".join(self.terms[:5])


class ThemeMember(models.Model):
    theme = models.ForeignKey(ThemeSuggestion, on_delete=models.CASCADE, related_name="members")
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="+")
    weight = models.FloatField()

    class Meta:
        ordering = ["theme", "-weight"]
        constraints = [
            models.UniqueConstraint(fields=["theme", "comment"], name="theme_member_once")
        ]

    def __str__(self) -> str:
        return f"Comment #{self.comment_id} in theme #{self.theme_id} ({self.weight:.2f})"


class AttachmentText(models.Model):
    """The plain text of an attachment, extracted in the background, searchable by staff."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    attachment = models.OneToOneField(
        Attachment, on_delete=models.CASCADE, primary_key=True, related_name="extracted"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    text = models.TextField(blank=True)
    error = models.CharField(max_length=255, blank=True)
    extracted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Text of attachment #{self.attachment_id} ({self.state})"
