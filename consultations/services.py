"""Every write to consultations data: posting, replying, editing, deleting and moderating.

Each service checks its permission (consultations.permissions) whoever calls it, writes in one
transaction, and leaves emails to consultations.notifications, which sends them after the commit.
Tree locks and retries live in consultations.trees.
"""

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from insights import campaigns
from insights.extraction import extract_later
from notifications import follows

from . import counts, notifications, permissions, search
from .attachments import check_files
from .models import (
    Attachment,
    Comment,
    CommentRevision,
    ModerationAction,
    ModerationReason,
    Objective,
    Question,
    Report,
)
from .sanitize import html_to_text, sanitize_comment
from .trees import delete_if_rolled_back, lock_author, lock_trees, lock_trees_of, tree_write

# The refusals of posting are permission rules; named here too for the views' except clauses.
PostingClosed = permissions.PostingClosed
EmailNotVerified = permissions.EmailNotVerified


class RateLimited(PermissionDenied):
    """The author posted too often; the view answers 429."""


class DuplicateComment(ValidationError):
    """The same author already posted the same text in this consultation."""

    def __init__(self, existing: Comment):
        super().__init__(
            _("You have already posted this text in this consultation."), code="duplicate"
        )
        self.existing = existing


def _parse_rate(rate: str) -> tuple[int, int]:
    """'5/m' -> (5, 60): at most 5 comments per 60 seconds."""
    count, _, period = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period.strip()[:1]]
    return int(count), seconds


def check_rate_limit(*, author) -> None:
    """Refuse a comment beyond settings.COMMENT_RATE_LIMITS (default 5 a minute, 60 a day)."""
    now = timezone.now()
    for rate in settings.COMMENT_RATE_LIMITS:
        limit, seconds = _parse_rate(rate)
        since = now - timedelta(seconds=seconds)
        if Comment.objects.filter(author=author, created_at__gte=since).count() >= limit:
            raise RateLimited(_rate_message(limit, seconds))


def _rate_message(limit: int, seconds: int) -> str:
    wait = _("Please wait a little before posting again; your text is kept below.")
    params = {"limit": limit, "seconds": seconds}
    if seconds == 60:
        text = ngettext(
            "You can post at most %(limit)s comment a minute.",
            "You can post at most %(limit)s comments a minute.",
            limit,
        )
    elif seconds == 3600:
        text = ngettext(
            "You can post at most %(limit)s comment an hour.",
            "You can post at most %(limit)s comments an hour.",
            limit,
        )
    elif seconds == 86400:
        text = ngettext(
            "You can post at most %(limit)s comment a day.",
            "You can post at most %(limit)s comments a day.",
            limit,
        )
    else:
        text = ngettext(
            "You can post at most %(limit)s comment in %(seconds)s s.",
            "You can post at most %(limit)s comments in %(seconds)s s.",
            limit,
        )
    return f"{text % params} {wait}"


def check_duplicate(*, author, question: Question, html: str) -> None:
    existing = (
        Comment.objects.filter(
            author=author, question__consultation_id=question.consultation_id, body=html
        )
        .exclude(status=Comment.Status.DELETED)
        .select_related("question__consultation")
        .first()
    )
    if existing is not None:
        raise DuplicateComment(existing)


def check_parent(*, parent: Comment | None, question: Question) -> None:
    if parent is None:
        return
    if parent.question_id != question.pk:
        raise ValidationError(
            _("The comment you are replying to belongs to another question."), code="parent"
        )
    if parent.status == Comment.Status.HIDDEN:
        raise ValidationError(
            _("The comment you are replying to has been hidden and takes no replies."),
            code="parent",
        )
    if parent.status == Comment.Status.DELETED:
        raise ValidationError(
            _("The comment you are replying to was deleted by its author and takes no replies."),
            code="parent",
        )


def normalise_body(body: str) -> str:
    """What the author typed, with line breaks as the browser showed them: a textarea sends
    CR LF, which counts as one character in its maxlength and in our limit."""
    return body.replace("\r\n", "\n").replace("\r", "\n")


def check_body_length(body: str) -> str:
    """The body with normalised line breaks, or ValidationError when it is too long or blank.

    Cheap (no parsing): the form and the service call it before anything costly.
    """
    body = normalise_body(body)
    if len(body) > settings.COMMENT_MAX_LENGTH:
        raise ValidationError(
            _("Your comment is %(length)s characters long; the limit is %(limit)s."),
            code="max_length",
            params={"length": f"{len(body):,}", "limit": f"{settings.COMMENT_MAX_LENGTH:,}"},
        )
    if not body.strip():
        raise _empty_body_error()
    return body


def _empty_body_error() -> ValidationError:
    return ValidationError(_("Write your comment before posting it."), code="required")


def clean_body(body: str) -> tuple[str, str]:
    """(sanitised HTML, its plain text) for a body, or ValidationError (on the body field) when
    it is too long, has too much markup, or holds nothing once sanitised. The one place a
    posted or edited body is parsed: call it once per request."""
    try:
        html = sanitize_comment(check_body_length(body))
    except ValidationError as exc:
        raise ValidationError({"body": exc.error_list}) from None
    text = html_to_text(html)
    if not text:
        raise ValidationError({"body": _empty_body_error()})
    return html, text


def _store_attachments(*, comment: Comment, files: Iterable[File]) -> list[Attachment]:
    """Check the files again (the caller's checks are not trusted), then save each one through
    the storage under a random name and record it. Runs last in comment_create's transaction.

    The storage is not transactional: when anything fails here, the files already written are
    deleted before the error goes on, so a refused or failed post leaves no file behind. The
    names are also handed to tree_write, which deletes them if the commit itself fails.
    """
    try:
        checked = check_files(list(files))
    except ValidationError as exc:
        raise ValidationError({"attachments": exc.error_list}) from None
    written: list[str] = []
    stored = []
    try:
        for item in checked:
            attachment = Attachment(
                comment=comment,
                original_name=item.name,
                content_type=item.kind.content_type,  # detected, not what the browser said
                size=item.size,
            )
            # The (random) name is chosen and recorded for the clean-up before a byte is
            # written: a write that fails half-way (a full disk) leaves no partial file.
            storage = attachment.file.storage
            name = storage.get_available_name(
                attachment.file.field.generate_filename(attachment, item.name)
            )
            written.append(name)
            delete_if_rolled_back(storage, name)
            attachment.file.name = storage.save(name, item.file)
            if attachment.file.name != name:
                written.append(attachment.file.name)
                delete_if_rolled_back(storage, attachment.file.name)
            attachment.save()
            stored.append(attachment)
    except BaseException as exc:
        for name in written:
            try:
                Attachment.file.field.storage.delete(name)
            except OSError:  # pragma: no cover - the storage is gone too; the sweep finds it
                pass
        if isinstance(exc, OSError):
            # A full or unwritable disk: the post is refused as a whole, with what was typed.
            raise ValidationError(
                {"attachments": ValidationError(STORAGE_FAILED_MESSAGE, code="storage")}
            ) from exc
        raise
    extract_later(stored)  # their text, for staff search, in the background after the commit
    return stored


STORAGE_FAILED_MESSAGE = gettext_lazy(
    "Your files could not be stored just now, so nothing was posted. Your text is kept below: "
    "post again in a few minutes, or post it without the files."
)


def comment_create(
    *,
    question: Question,
    author,
    body: str,
    objectives: Iterable[Objective] = (),
    parent: Comment | None = None,
    attachments: Iterable[File] = (),
) -> Comment:
    """Post a top-level comment (parent=None) or a reply. The body is sanitised once, here.

    The cheap refusals come first, the rate limit before any parsing, so that a flood of posts
    from one author costs a query each, not a parse each.
    """
    permissions.check_can_post(author, question.consultation)
    check_parent(parent=parent, question=question)
    check_rate_limit(author=author)
    html, text = clean_body(body)  # the length first, then the one parse
    return _insert_comment(
        question=question,
        author=author,
        html=html,
        text=text,
        objectives=list(objectives),
        parent=parent,
        attachments=list(attachments),
    )


@tree_write
def _insert_comment(
    *,
    question: Question,
    author,
    html: str,
    text: str,
    objectives: list[Objective],
    parent: Comment | None,
    attachments: list[File],
) -> Comment:
    # The author's lock first (see trees.lock_author for the order): the rate and duplicate
    # checks below then count every earlier post of theirs, whatever thread it went to.
    lock_author(author.pk)
    check_rate_limit(author=author)
    check_duplicate(author=author, question=question, html=html)
    if parent is None:
        # A new tree: its id is max + 1, allocated by one writer at a time until the commit.
        lock_trees((), new_tree=True)
    else:
        # The tree insert needs the parent's current position, read under the tree's lock.
        try:
            lock_trees_of(parent)
        except Comment.DoesNotExist:
            raise ValidationError(
                _("The comment you are replying to no longer exists."), code="parent"
            ) from None
        check_parent(parent=parent, question=question)
    comment = Comment(question=question, parent=parent, author=author, body=html, body_text=text)
    comment.save()
    search.index_comment(comment)
    campaigns.comment_changed(comment)
    comment.objectives.set(objectives)
    _store_attachments(comment=comment, files=attachments)
    counts.refresh(question.pk)
    follows.follow_on_post(author, question)
    if parent is not None:
        notifications.comment_replied(reply=comment)
    return comment


def _position(parent_id: int | None) -> str:
    return f"under #{parent_id}" if parent_id else "top level"


@tree_write
def comment_move(*, comment: Comment, new_parent: Comment | None, by, note: str = "") -> Comment:
    """A moderator moves a comment and its replies under another comment of the same question
    (as its last reply), or to the top level (a new thread). Logged as a moderation action."""
    if not permissions.can_moderate(by):
        raise PermissionDenied(_("Only moderators can move comments."))
    try:
        lock_trees_of(comment, *([new_parent] if new_parent is not None else []))
    except Comment.DoesNotExist:
        raise ValidationError(_("That comment no longer exists."), code="missing") from None
    # The whole row, locked: the move saves every field and must not undo a concurrent hide.
    comment.refresh_from_db(from_queryset=Comment.objects.select_for_update())
    old_parent_id = comment.parent_id
    if new_parent is None:
        if old_parent_id is None:
            raise ValidationError(_("This comment is already a top-level comment."), code="same")
        lock_trees((), new_tree=True)
    else:
        if new_parent.question_id != comment.question_id:
            raise ValidationError(
                _("A comment can only move under a comment of the same question."), code="question"
            )
        if new_parent.is_descendant_of(comment, include_self=True):
            raise ValidationError(
                _("A comment cannot move under itself or one of its replies."), code="descendant"
            )
        if new_parent.pk == old_parent_id:
            raise ValidationError(
                _("This comment is already under #%(pk)s.") % {"pk": new_parent.pk}, code="same"
            )
        if new_parent.status != Comment.Status.PUBLISHED:
            raise ValidationError(
                _("A hidden or deleted comment takes no replies; choose another one."),
                code="parent",
            )
    comment.move_to(new_parent, "last-child")
    what = f"moved from {_position(old_parent_id)} to {_position(comment.parent_id)}"
    ModerationAction.objects.create(
        actor=by,
        kind=ModerationAction.Kind.MOVE,
        comment=comment,
        note=f"{what}\n{note.strip()}".strip(),
    )
    counts.refresh(comment.question_id)  # a thread more or fewer
    return comment


def _require_moderator(user, message: str) -> None:
    if not permissions.can_moderate(user):
        raise PermissionDenied(message)


def _log(*, actor, kind: str, comment: Comment, reason: str = "", note: str = "") -> None:
    ModerationAction.objects.create(
        actor=actor, kind=kind, comment=comment, reason=reason, note=note.strip()
    )


@transaction.atomic
def comment_hide(*, comment: Comment, by, reason: str, note: str = "") -> Comment:
    """Hide a comment with a reason; its replies stay. Open reports on it are resolved."""
    _require_moderator(by, _("Only moderators can hide comments."))
    if reason not in ModerationReason.values:
        raise ValidationError(_("Choose why the comment is hidden."), code="reason")
    comment = Comment.objects.select_for_update().select_related("author").get(pk=comment.pk)
    if comment.status == Comment.Status.DELETED:
        raise ValidationError(_("The author has deleted this comment."), code="deleted")
    # A plain UPDATE: changing the status never touches the tree columns.
    now = timezone.now()
    Comment.objects.filter(pk=comment.pk).update(
        status=Comment.Status.HIDDEN, hidden_reason=reason, updated_at=now
    )
    comment.status, comment.hidden_reason, comment.updated_at = Comment.Status.HIDDEN, reason, now
    Report.objects.filter(comment=comment, resolution=Report.Resolution.OPEN).update(
        resolution=Report.Resolution.HIDDEN, resolved_by=by, resolved_at=timezone.now()
    )
    _log(actor=by, kind=ModerationAction.Kind.HIDE, comment=comment, reason=reason, note=note)
    notifications.comment_hidden(comment=comment, reason=reason)
    counts.refresh(comment.question_id)
    return comment


@transaction.atomic
def comment_restore(*, comment: Comment, by, note: str = "") -> Comment:
    """Bring a hidden comment back."""
    _require_moderator(by, _("Only moderators can restore comments."))
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.status != Comment.Status.HIDDEN:
        raise ValidationError(_("Only a hidden comment can be restored."), code="not_hidden")
    now = timezone.now()
    Comment.objects.filter(pk=comment.pk).update(
        status=Comment.Status.PUBLISHED, hidden_reason="", updated_at=now
    )
    comment.status, comment.hidden_reason, comment.updated_at = Comment.Status.PUBLISHED, "", now
    _log(actor=by, kind=ModerationAction.Kind.RESTORE, comment=comment, note=note)
    counts.refresh(comment.question_id)
    return comment


def comment_report(*, comment: Comment, reporter, reason: str, details: str = "") -> Report:
    """A logged-in user reports a comment, once."""
    refusal = permissions.report_refusal(reporter, comment)
    if refusal:
        raise PermissionDenied(refusal)
    if reason not in ModerationReason.values:
        raise ValidationError(_("Choose why you are reporting this comment."), code="reason")
    try:
        with transaction.atomic():
            report = Report.objects.create(
                comment=comment, reporter=reporter, reason=reason, details=details.strip()
            )
            notifications.comment_reported(report=report)
            return report
    except IntegrityError:
        raise ValidationError(
            _("You have already reported this comment. The moderators will look at it."),
            code="already_reported",
        ) from None


@transaction.atomic
def report_dismiss(*, report: Report, by, note: str = "") -> Report:
    """A moderator decides a report needs no action."""
    _require_moderator(by, _("Only moderators can dismiss reports."))
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.resolution != Report.Resolution.OPEN:
        raise ValidationError(_("This report has already been dealt with."), code="resolved")
    report.resolution = Report.Resolution.DISMISSED
    report.resolved_by, report.resolved_at = by, timezone.now()
    report.save(update_fields=["resolution", "resolved_by", "resolved_at"])
    _log(
        actor=by,
        kind=ModerationAction.Kind.DISMISS_REPORT,
        comment=report.comment,
        reason=report.reason,
        note=note,
    )
    return report


@transaction.atomic
def comment_edit(
    *, comment: Comment, by, body: str, objectives: Iterable[Objective], note: str = ""
) -> Comment:
    """Change a comment's body and tags, keeping the previous version as a revision."""
    comment = _comment_for_change(comment)
    if not permissions.can_edit(by, comment):
        raise PermissionDenied(_("You can edit your own comment while the consultation is open."))
    html, text = clean_body(body)
    return _change(comment=comment, by=by, html=html, text=text, objectives=objectives, note=note)


@transaction.atomic
def comment_set_objectives(
    *, comment: Comment, by, objectives: Iterable[Objective], note: str = ""
) -> Comment:
    """A moderator re-tags a comment (the admin's objectives field): a revision and a log entry,
    like any moderator's edit; the body stays as it is."""
    comment = _comment_for_change(comment)
    if not (permissions.can_moderate(by) and permissions.can_edit(by, comment)):
        raise PermissionDenied(_("Only moderators can change the objectives of a comment."))
    return _change(
        comment=comment,
        by=by,
        html=comment.body,
        text=comment.body_text,
        objectives=objectives,
        note=note,
    )


def _comment_for_change(comment: Comment) -> Comment:
    return (
        Comment.objects.select_for_update()
        .select_related("question__consultation")
        .get(pk=comment.pk)
    )


def _change(
    *, comment: Comment, by, html: str, text: str, objectives: Iterable[Objective], note: str
) -> Comment:
    """Store a new version of a locked comment: the old one as a revision, a log entry when a
    moderator changed someone else's comment. No change, no revision."""
    objectives = list(objectives)
    before = sorted(comment.objectives.values_list("number", flat=True))
    after = sorted(o.number for o in objectives)
    if html == comment.body and before == after:
        return comment
    CommentRevision.objects.create(
        comment=comment,
        body=comment.body,
        objectives=";".join(map(str, before)),
        edited_by=by,
    )
    fields = ["updated_at"]
    if html != comment.body:
        comment.body, comment.body_text = html, text
        comment.edited_at = timezone.now()
        fields += ["body", "body_text", "edited_at"]
    comment.save(update_fields=fields)
    if "body_text" in fields:
        search.index_comment(comment)
        campaigns.comment_changed(comment)
    comment.objectives.set(objectives)
    if by.pk != comment.author_id:
        _log(actor=by, kind=ModerationAction.Kind.EDIT, comment=comment, note=note)
    return comment


@transaction.atomic
def comment_delete(*, comment: Comment, by) -> Comment:
    """The author withdraws a comment: it shows as deleted, its replies stay in place.

    The record is kept (body and revisions) for the moderators; no row is removed.
    """
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if not permissions.can_delete(by, comment):
        raise PermissionDenied(_("Only the author can delete a comment."))
    now = timezone.now()
    Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.DELETED, updated_at=now)
    comment.status, comment.updated_at = Comment.Status.DELETED, now
    Report.objects.filter(comment=comment, resolution=Report.Resolution.OPEN).update(
        resolution=Report.Resolution.DISMISSED, resolved_at=now
    )
    counts.refresh(comment.question_id)
    return comment
