"""Data of a consultation: GCM objectives, consultations, numbered questions and comment trees."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Case, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet

from . import attachments
from .slugs import validate_not_reserved

# A body whose text is longer than this is collapsed behind "Read more".
LONG_BODY_CHARS = 1000


class Objective(models.Model):
    """One of the 23 objectives of the Global Compact for Migration (a fixed list)."""

    number = models.PositiveSmallIntegerField(unique=True)
    title = models.CharField(max_length=255)
    short_title = models.CharField(max_length=80)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number}. {self.display_short_title}"

    # Stored in English; consultations/objectives.py marks these strings for translation.
    @property
    def display_title(self) -> str:
        return gettext(self.title)

    @property
    def display_short_title(self) -> str:
        return gettext(self.short_title)


class ConsultationState(models.TextChoices):
    UPCOMING = "upcoming", _("Upcoming")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Licence(models.TextChoices):
    """The licences an open-data file may carry (consultations/open_data.py); the short label is
    what pages show, full_name and url what the file's LICENSE.txt and data card cite."""

    # Not translated: the licences' own short names, the same in every language.
    CC_BY_4 = "cc-by-4.0", "CC BY 4.0"
    CC_BY_SA_4 = "cc-by-sa-4.0", "CC BY-SA 4.0"
    CC0_1 = "cc0-1.0", "CC0 1.0"

    @property
    def full_name(self) -> str:
        return str(_LICENCE_NAMES[self][0])

    @property
    def url(self) -> str:
        return _LICENCE_NAMES[self][1]


# The licences' official names (Creative Commons publishes them translated) and legal code.
_LICENCE_NAMES = {
    Licence.CC_BY_4: (
        _("Creative Commons Attribution 4.0 International"),
        "https://creativecommons.org/licenses/by/4.0/",
    ),
    Licence.CC_BY_SA_4: (
        _("Creative Commons Attribution-ShareAlike 4.0 International"),
        "https://creativecommons.org/licenses/by-sa/4.0/",
    ),
    Licence.CC0_1: (
        _("Creative Commons CC0 1.0 Universal (public domain dedication)"),
        "https://creativecommons.org/publicdomain/zero/1.0/",
    ),
}


class ConsultationQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)

    def open_first(self, now=None):
        """Open consultations first (closing soonest first), then upcoming, then closed."""
        now = now or timezone.now()
        is_closed = Q(closes_at__isnull=False, closes_at__lte=now)
        return self.annotate(
            state_rank=Case(
                When(is_closed, then=Value(2)),
                When(opens_at__gt=now, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        ).order_by("state_rank", F("closes_at").asc(nulls_last=True), "-opens_at")

    def with_comment_count(self):
        """Published comments, from the counts each question keeps (Question.comment_count)."""
        return self.annotate(comment_count=Coalesce(Sum("questions__comment_count"), 0))


class Consultation(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True, validators=[validate_not_reserved])
    description = models.TextField(
        blank=True, help_text=_("Rich text. Allowed: paragraphs, lists, links, emphasis, quotes.")
    )
    objectives = models.ManyToManyField(
        Objective, blank=True, related_name="consultations", verbose_name=_("objectives in focus")
    )
    moderators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="moderated_consultations"
    )
    opens_at = models.DateTimeField(_("opens"), default=timezone.now)
    closes_at = models.DateTimeField(_("closes"), null=True, blank=True)
    is_published = models.BooleanField(
        _("published"), default=False, help_text=_("Only published consultations are listed.")
    )
    # Pages mark the consultation's own texts with it (lang), for screen readers' pronunciation,
    # hyphenation and translation tools; the interface around them keeps the reader's language.
    language = models.CharField(
        _("language of its texts"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_(
            "The language the description and questions are written in, and comments expected in."
        ),
    )
    # The licence of the consultation's open-data file (consultations/open_data.py).
    licence = models.CharField(
        _("licence of the open data"),
        max_length=16,
        choices=Licence.choices,
        default=Licence.CC_BY_4,
        help_text=_(
            "The licence of the open-data file (comments, questions and objectives) built once "
            "the consultation closes. A change applies from the next build."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConsultationQuerySet.as_manager()

    class Meta:
        ordering = ["-opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__isnull=True) | Q(closes_at__gt=F("opens_at")),
                name="consultation_closes_after_opening",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("consultations:detail", kwargs={"slug": self.slug})

    def state_at(self, now) -> ConsultationState:
        if now < self.opens_at:
            return ConsultationState.UPCOMING
        if self.closes_at is not None and now >= self.closes_at:
            return ConsultationState.CLOSED
        return ConsultationState.OPEN

    @property
    def state(self) -> ConsultationState:
        return self.state_at(timezone.now())

    @property
    def is_open(self) -> bool:
        return self.state == ConsultationState.OPEN


class Question(models.Model):
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="questions"
    )
    number = models.PositiveSmallIntegerField()
    text = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("posted by"),
    )
    created_at = models.DateTimeField(_("posted"), default=timezone.now)
    # Its published comments, their authors, their latest date and its top-level threads (any
    # status): written by counts.refresh in each write's transaction, so that a page reads them
    # with the question instead of counting a large question's comments.
    comment_count = models.PositiveIntegerField(default=0, editable=False)
    participant_count = models.PositiveIntegerField(default=0, editable=False)
    latest_comment_at = models.DateTimeField(null=True, blank=True, editable=False)
    thread_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["consultation", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "number"], name="question_number_unique_per_consultation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.text}"

    def get_absolute_url(self) -> str:
        return f"{self.consultation.get_absolute_url()}#{self.anchor}"

    @property
    def anchor(self) -> str:
        return f"question-{self.number}"


class ModerationReason(models.TextChoices):
    """Why a comment is reported or hidden."""

    SPAM = "spam", _("Spam")
    OFFENSIVE = "offensive", _("Offensive")
    OFF_TOPIC = "off_topic", _("Off-topic")
    OTHER = "other", _("Other")


class CommentQuerySet(TreeQuerySet):
    def published(self):
        return self.filter(status=Comment.Status.PUBLISHED)

    def in_thread_order(self):
        return self.order_by("question__number", "tree_id", "lft")


class CommentStates:
    """What a comment's status and pk say, for Comment and for the rows pages read in its place
    (rendering.ShownComment)."""

    __slots__ = ()

    @property
    def anchor(self) -> str:
        return f"comment-{self.pk}"

    @property
    def is_hidden(self) -> bool:
        return self.status == Comment.Status.HIDDEN

    @property
    def is_deleted(self) -> bool:
        return self.status == Comment.Status.DELETED

    @property
    def is_visible(self) -> bool:
        return self.status == Comment.Status.PUBLISHED


class Comment(CommentStates, MPTTModel):
    """A comment on a question; replies nest under it. Each top-level comment is its own tree."""

    class Status(models.TextChoices):
        PUBLISHED = "published", _("Published")
        HIDDEN = "hidden", _("Hidden")
        DELETED = "deleted", _("Deleted by the author")

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="comments")
    # RESTRICT: a comment with replies cannot be deleted on its own (replies are never lost),
    # but deleting its question still removes the whole thread.
    parent = TreeForeignKey(
        "self",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("in reply to"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments"
    )
    # Sanitised HTML: written only through consultations.services, which calls sanitize.
    body = models.TextField()
    # The body's plain text (sanitize.html_to_text), computed with it on write, so the export,
    # the admin list and "Read more" never parse HTML per row.
    body_text = models.TextField(blank=True, default="", editable=False)
    objectives = models.ManyToManyField(Objective, blank=True, related_name="comments")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PUBLISHED, db_index=True
    )
    hidden_reason = models.CharField(
        max_length=16, choices=ModerationReason.choices, blank=True, default=""
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when the author (or a moderator) changes the body; earlier versions are revisions.
    edited_at = models.DateTimeField(null=True, blank=True)

    objects = TreeManager.from_queryset(CommentQuerySet)()

    # No order_insertion_by: a reply is appended as the last child, a new comment opens a new
    # tree, so a write never renumbers other threads.

    class Meta:
        indexes = [
            models.Index(fields=["question", "tree_id", "lft"], name="comment_thread_order"),
            # A question's top-level threads (level 0: no parent), paged and counted without
            # reading their replies.
            models.Index(
                fields=["question", "tree_id"], condition=Q(level=0), name="comment_question_roots"
            ),
        ]
        # A corrupt tree fails loudly. The unique pairs are deferred to the commit because
        # django-mptt shifts lft/rght with UPDATEs that pass through duplicates; SQLite cannot
        # defer them and skips them (check models.W038 is silenced in settings).
        constraints = [
            models.UniqueConstraint(
                fields=["tree_id", "lft"],
                name="comment_tree_lft_unique",
                deferrable=models.Deferrable.DEFERRED,
            ),
            models.UniqueConstraint(
                fields=["tree_id", "rght"],
                name="comment_tree_rght_unique",
                deferrable=models.Deferrable.DEFERRED,
            ),
            models.CheckConstraint(condition=Q(lft__lt=F("rght")), name="comment_lft_lt_rght"),
        ]

    def __str__(self) -> str:
        return f"Comment #{self.pk}"

    def get_absolute_url(self) -> str:
        # The permalink: it redirects to whichever page shows the comment at the time.
        return reverse("consultations:permalink", kwargs={"pk": self.pk})

    @property
    def is_long(self) -> bool:
        return len(self.body_text) > LONG_BODY_CHARS


class CommentFragment(models.Model):
    """A comment's reader-independent HTML in one interface language, as consultations.rendering
    made it (byline, date, body, files, tags; no viewer's actions). `source` fingerprints what it
    was made from: a page re-renders the fragment when the comment, its author's name or the
    page's context changed since."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="fragments")
    language = models.CharField(max_length=10)
    source = models.CharField(max_length=100)
    html = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["comment", "language"], name="comment_fragment_once_per_language"
            )
        ]

    def __str__(self) -> str:
        return f"Comment #{self.comment_id} in {self.language}"


class CommentRevision(models.Model):
    """A previous version of a comment's body, kept whenever it is edited."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()  # sanitised HTML, as it was before the edit
    objectives = models.CharField(max_length=100, blank=True)  # numbers joined by ";"
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # When the version was replaced.
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["comment", "-replaced_at", "-pk"]

    def __str__(self) -> str:
        return f"Revision of comment #{self.comment_id} replaced {self.replaced_at:%Y-%m-%d %H:%M}"


class Report(models.Model):
    """A user's report of a comment; each user reports a comment at most once."""

    class Resolution(models.TextChoices):
        OPEN = "", pgettext_lazy("report", "Open")
        HIDDEN = "hidden", _("Comment hidden")
        DISMISSED = "dismissed", _("Dismissed")

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports"
    )
    reason = models.CharField(max_length=16, choices=ModerationReason.choices)
    details = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True, default="")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["comment", "reporter"], name="report_once_per_user")
        ]

    def __str__(self) -> str:
        return f"Report on comment #{self.comment_id} ({self.get_reason_display()})"


class ModerationAction(models.Model):
    """The moderation log: who did what to which comment, when and why."""

    class Kind(models.TextChoices):
        HIDE = "hide", _("Hide")
        RESTORE = "restore", _("Restore")
        DISMISS_REPORT = "dismiss_report", _("Dismiss report")
        EDIT = "edit", _("Edit")
        MOVE = "move", pgettext_lazy("move a comment", "Move")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="moderation_actions"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    comment = models.ForeignKey(
        Comment, on_delete=models.PROTECT, related_name="moderation_actions"
    )
    reason = models.CharField(max_length=16, choices=ModerationReason.choices, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} comment #{self.comment_id}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    # A random name: nothing of the uploaded name reaches the file system.
    return f"attachments/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A document attached to a comment (PDF, DOCX, ODT, XLSX), checked by its content."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["comment", "pk"]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("consultations:attachment", kwargs={"pk": self.pk})

    @property
    def kind(self) -> "attachments.Kind | None":
        return attachments.KIND_BY_CONTENT_TYPE.get(self.content_type)

    @property
    def kind_label(self) -> str:
        return self.kind.label if self.kind else self.content_type

    @property
    def size_label(self) -> str:
        return attachments.human_size(self.size)

    @property
    def download_name(self) -> str:
        return attachments.download_name(self.original_name, self.kind)


class OpenDataFile(models.Model):
    """A consultation's open-data ZIP (consultations/open_data.py), one row per consultation:
    the file served at its stable URL and the state of the latest build asked for.

    `file`, `built_at`, `size`, `sha256`, `licence` and the counts describe the file being
    served; `state`, `requested_at`, `started_at`, `finished_at` and `message` the latest
    build, which may be under way while the previous file is still served. A build writes its
    file under a new name and then switches `file` to it in one UPDATE, so the stable URL never
    serves half a file. The one row per consultation is also what a build request locks, so the
    scheduler and staff asking at once queue one build."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        BUILDING = "building", _("Building")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    consultation = models.OneToOneField(
        Consultation, on_delete=models.CASCADE, related_name="open_data"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    requested_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the scheduler asked for it, after the consultation closed."),
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    message = models.CharField(max_length=255, blank=True)
    # The file served (a name in the default storage); empty until a build succeeds.
    file = models.FileField(max_length=255, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    licence = models.CharField(max_length=16, choices=Licence.choices, blank=True)
    question_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)  # every row of comments.csv
    published_count = models.PositiveIntegerField(default=0)
    placeholder_count = models.PositiveIntegerField(default=0)  # hidden or deleted
    participant_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("open-data file")

    def __str__(self) -> str:
        return f"Open data of {self.consultation_id} ({self.state})"

    @property
    def is_available(self) -> bool:
        return bool(self.file)

    @property
    def is_pending(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.BUILDING)

    @property
    def size_label(self) -> str:
        return attachments.human_size(self.size)

    @property
    def licence_choice(self) -> Licence | None:
        return Licence(self.licence) if self.licence in Licence.values else None
