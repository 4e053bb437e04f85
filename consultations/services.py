"""Every write to consultations data: posting, replying, editing, deleting and moderating."""

import contextvars
import functools
import logging
import random
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.mail import send_mail
from django.db import IntegrityError, OperationalError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import permissions
from .attachments import check_files
from .models import (
    Attachment,
    Comment,
    CommentRevision,
    ConsultationState,
    ModerationAction,
    ModerationReason,
    Objective,
    Question,
    Report,
)
from .sanitize import html_to_text, sanitize_comment


class PostingClosed(PermissionDenied):
    """The consultation does not accept comments now (not yet open, or closed)."""


class EmailNotVerified(PermissionDenied):
    """Posting needs a verified email address."""


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


def check_can_post(*, author, question: Question) -> None:
    consultation = question.consultation
    if not consultation.is_published:
        raise PostingClosed(_("This consultation is not published."))
    state = consultation.state
    if state == ConsultationState.UPCOMING:
        raise PostingClosed(_("This consultation is not open for comments yet."))
    if state == ConsultationState.CLOSED:
        raise PostingClosed(_("This consultation is closed: it no longer accepts comments."))
    if not permissions.has_verified_email(author):
        raise EmailNotVerified(_("Confirm your email address before posting."))


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


def clean_body(body: str) -> str:
    """Sanitised HTML for a body, or ValidationError when it is empty or too long."""
    if len(body) > settings.COMMENT_MAX_LENGTH:
        raise ValidationError(
            _("Your comment is %(length)s characters long; the limit is %(limit)s."),
            code="max_length",
            params={"length": f"{len(body):,}", "limit": f"{settings.COMMENT_MAX_LENGTH:,}"},
        )
    html = sanitize_comment(body)
    if not html_to_text(html):
        raise ValidationError(_("Write your comment before posting it."), code="required")
    return html


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
            # Written before the INSERT, so that its (random) name is known for the clean-up.
            attachment.file.save(item.name, item.file, save=False)
            written.append(attachment.file.name)
            uncommitted = _UNCOMMITTED_FILES.get()
            if uncommitted is not None:
                uncommitted.append(attachment.file.name)
            attachment.save()
            stored.append(attachment)
    except BaseException:
        for name in written:
            Attachment.file.field.storage.delete(name)
        raise
    return stored


logger = logging.getLogger(__name__)

# Files written by the tree_write transaction under way: deleted if it does not commit.
_UNCOMMITTED_FILES: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "uncommitted_files", default=None
)

# PostgreSQL advisory lock keys. A tree's lock uses the two-int form (namespace, tree id), the
# allocation of new tree ids the one-bigint form: PostgreSQL keeps these two key spaces apart,
# so no tree id can ever share a key with the allocation lock.
_NEW_TREE_LOCK = 0x6C6D_0001
_TREE_LOCK_NAMESPACE = 0x6C6D
_TREE_FIELDS = ["tree_id", "lft", "rght", "level", "parent", "status"]


def _lock_tree(tree_id: int | None) -> None:
    """Serialise writes to one comment tree (or to tree-id allocation) until the commit.

    django-mptt computes a new tree id as max + 1 and shifts lft/rght from the values it read,
    so two concurrent writers could corrupt a tree. SQLite already serialises writers.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if tree_id is None:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_NEW_TREE_LOCK])
        else:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_TREE_LOCK_NAMESPACE, tree_id])


def lock_trees(tree_ids: Iterable[int], *, new_tree: bool = False) -> None:
    """Lock trees in ascending tree-id order, then (when asked) the allocation of a new tree id.

    One order for every writer, so two writers needing the same trees cannot deadlock; the
    allocation lock comes last, and a writer holding only that one waits for no tree.
    """
    for tree_id in sorted(set(tree_ids)):
        _lock_tree(tree_id)
    if new_tree:
        _lock_tree(None)


def _lock_trees_of(*nodes: Comment) -> None:
    """Lock the trees of saved comments, then re-read their positions under the locks.

    Positions read before the lock may be stale. A comment that a moderator moved to another
    tree meanwhile gets that tree locked too, out of order: PostgreSQL then may detect a
    deadlock, and tree_write retries.
    """
    locked: set[int] = set()
    while True:
        lock_trees({node.tree_id for node in nodes} - locked)
        locked |= {node.tree_id for node in nodes}
        for node in nodes:
            node.refresh_from_db(fields=_TREE_FIELDS)
        if {node.tree_id for node in nodes} <= locked:
            return


class _Counter:
    """A count shared by threads: tree writes retried since the process started."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def increment(self) -> None:
        with self._lock:
            self.value += 1


TREE_WRITE_RETRIES = _Counter()
TREE_WRITE_ATTEMPTS = 5
_RETRYABLE_CODES = {"40P01", "40001"}  # deadlock detected, serialization failure
_TREE_CONSTRAINTS = {"comment_tree_lft_unique", "comment_tree_rght_unique"}


def _is_retryable(exc: Exception) -> bool:
    cause = exc.__cause__
    code = getattr(cause, "pgcode", None)
    if code in _RETRYABLE_CODES:
        return True
    # The tree's unique pairs are deferred: a clash shows at the commit, as a unique violation.
    constraint = getattr(getattr(cause, "diag", None), "constraint_name", None)
    return code == "23505" and constraint in _TREE_CONSTRAINTS


def tree_write(func):
    """Run a service that writes a comment tree in a transaction, retried a few times when
    PostgreSQL aborts it (deadlock, serialization failure, tree constraint at the commit).

    Inside a caller's transaction (a test, seed_demo) a retry is impossible, since the failed
    transaction is the caller's: the service then runs once, in a savepoint.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():
                return func(*args, **kwargs)
        # A one-shot iterator would be empty on a second attempt.
        kwargs = {k: list(v) if isinstance(v, Iterator) else v for k, v in kwargs.items()}
        for attempt in range(1, TREE_WRITE_ATTEMPTS + 1):
            written: list[str] = []
            token = _UNCOMMITTED_FILES.set(written)
            try:
                with transaction.atomic():
                    return func(*args, **kwargs)
            except BaseException as exc:
                # The transaction rolled back (at the commit, perhaps): its files go too.
                for name in written:
                    Attachment.file.field.storage.delete(name)
                if not isinstance(exc, OperationalError | IntegrityError):
                    raise
                if attempt == TREE_WRITE_ATTEMPTS or not _is_retryable(exc):
                    raise
                TREE_WRITE_RETRIES.increment()
                # Jittered, growing pauses, so that the writers that collided do not collide again.
                delay = random.uniform(0.005, 0.02 * 2**attempt)
                logger.info(
                    "%s: attempt %d of %d failed (%s), retrying in %.3f s: %s",
                    func.__name__,
                    attempt,
                    TREE_WRITE_ATTEMPTS,
                    getattr(exc.__cause__, "pgcode", "?"),
                    delay,
                    str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                )
                time.sleep(delay)
            finally:
                _UNCOMMITTED_FILES.reset(token)

    return wrapper


@tree_write
def comment_create(
    *,
    question: Question,
    author,
    body: str,
    objectives: Iterable[Objective] = (),
    parent: Comment | None = None,
    attachments: Iterable[File] = (),
) -> Comment:
    """Post a top-level comment (parent=None) or a reply; sanitises the body once, here."""
    check_can_post(author=author, question=question)
    check_parent(parent=parent, question=question)
    html = clean_body(body)
    if parent is None:
        # A new tree: its id is max + 1, allocated by one writer at a time until the commit.
        lock_trees((), new_tree=True)
    else:
        # The tree insert needs the parent's current position, read under the tree's lock.
        try:
            _lock_trees_of(parent)
        except Comment.DoesNotExist:
            raise ValidationError(
                _("The comment you are replying to no longer exists."), code="parent"
            ) from None
        check_parent(parent=parent, question=question)
    # Under the lock: two identical posts sent at once as new threads, or into one thread,
    # cannot both pass.
    check_rate_limit(author=author)
    check_duplicate(author=author, question=question, html=html)
    comment = Comment(
        question=question, parent=parent, author=author, body=html, body_text=html_to_text(html)
    )
    comment.save()
    comment.objectives.set(objectives)
    _store_attachments(comment=comment, files=attachments)
    return comment


def _position(parent_id: int | None) -> str:
    return f"under #{parent_id}" if parent_id else "top level"


@tree_write
def comment_move(*, comment: Comment, new_parent: Comment | None, by, note: str = "") -> Comment:
    """A moderator moves a comment and its replies under another comment of the same question
    (as its last reply), or to the top level (a new thread). Logged as a moderation action."""
    if not permissions.can_moderate_comments(by):
        raise PermissionDenied(_("Only moderators can move comments."))
    try:
        _lock_trees_of(comment, *([new_parent] if new_parent is not None else []))
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
    return comment


def _require_moderator(user, message: str) -> None:
    if not permissions.can_moderate_comments(user):
        raise PermissionDenied(message)


def _log(*, actor, kind: str, comment: Comment, reason: str = "", note: str = "") -> None:
    ModerationAction.objects.create(
        actor=actor, kind=kind, comment=comment, reason=reason, note=note.strip()
    )


def _notify_author_of_hiding(comment: Comment, reason: str) -> None:
    author = comment.author
    if not author.email:
        return
    context = {
        "comment": comment,
        "author": author,
        "reason": ModerationReason(reason).label,
        "url": settings.SITE_URL + comment.get_absolute_url(),
        "excerpt": comment.body_text[:400],
    }
    subject = render_to_string("consultations/email/comment_hidden_subject.txt", context)
    body = render_to_string("consultations/email/comment_hidden_message.txt", context)
    send_mail(" ".join(subject.split()), body, None, [author.email])


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
    Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.HIDDEN, hidden_reason=reason)
    comment.status, comment.hidden_reason = Comment.Status.HIDDEN, reason
    Report.objects.filter(comment=comment, resolution=Report.Resolution.OPEN).update(
        resolution=Report.Resolution.HIDDEN, resolved_by=by, resolved_at=timezone.now()
    )
    _log(actor=by, kind=ModerationAction.Kind.HIDE, comment=comment, reason=reason, note=note)
    transaction.on_commit(lambda: _notify_author_of_hiding(comment, reason))
    return comment


@transaction.atomic
def comment_restore(*, comment: Comment, by, note: str = "") -> Comment:
    """Bring a hidden comment back."""
    _require_moderator(by, _("Only moderators can restore comments."))
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.status != Comment.Status.HIDDEN:
        raise ValidationError(_("Only a hidden comment can be restored."), code="not_hidden")
    Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.PUBLISHED, hidden_reason="")
    comment.status, comment.hidden_reason = Comment.Status.PUBLISHED, ""
    _log(actor=by, kind=ModerationAction.Kind.RESTORE, comment=comment, note=note)
    return comment


def comment_report(*, comment: Comment, reporter, reason: str, details: str = "") -> Report:
    """A logged-in user reports a comment, once."""
    if not (reporter.is_authenticated and reporter.is_active):
        raise PermissionDenied(_("Log in to report a comment."))
    if comment.author_id == reporter.pk:
        raise ValidationError(_("You cannot report your own comment."), code="own")
    if comment.status != Comment.Status.PUBLISHED:
        raise ValidationError(_("This comment is no longer shown."), code="not_published")
    if reason not in ModerationReason.values:
        raise ValidationError(_("Choose why you are reporting this comment."), code="reason")
    try:
        with transaction.atomic():
            return Report.objects.create(
                comment=comment, reporter=reporter, reason=reason, details=details.strip()
            )
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


def can_edit(user, comment: Comment) -> bool:
    """Authors edit their own comment while the consultation is open; moderators any time."""
    if permissions.can_moderate_comments(user):
        return comment.status != Comment.Status.DELETED
    return (
        user.is_authenticated
        and comment.author_id == user.pk
        and comment.status == Comment.Status.PUBLISHED
        and comment.question.consultation.is_open
    )


def can_delete(user, comment: Comment) -> bool:
    return (
        user.is_authenticated
        and comment.author_id == user.pk
        and comment.status != Comment.Status.DELETED
    )


@transaction.atomic
def comment_edit(
    *, comment: Comment, by, body: str, objectives: Iterable[Objective], note: str = ""
) -> Comment:
    """Change a comment's body and tags, keeping the previous version as a revision."""
    comment = (
        Comment.objects.select_for_update()
        .select_related("question__consultation")
        .get(pk=comment.pk)
    )
    if not can_edit(by, comment):
        raise PermissionDenied(_("You can edit your own comment while the consultation is open."))
    html = clean_body(body)
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
    comment.body, comment.body_text, comment.edited_at = html, html_to_text(html), timezone.now()
    comment.save(update_fields=["body", "body_text", "edited_at", "updated_at"])
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
    if not can_delete(by, comment):
        raise PermissionDenied(_("Only the author can delete a comment."))
    Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.DELETED)
    comment.status = Comment.Status.DELETED
    Report.objects.filter(comment=comment, resolution=Report.Resolution.OPEN).update(
        resolution=Report.Resolution.DISMISSED, resolved_at=timezone.now()
    )
    return comment
