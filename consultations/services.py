"""Every write to consultations data: posting, replying, hiding and publishing comments."""

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from . import permissions
from .models import Comment, ConsultationState, Objective, Question
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
            "You have already posted this text in this consultation.", code="duplicate"
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
            period = {60: "minute", 3600: "hour", 86400: "day"}.get(seconds, f"{seconds} s")
            raise RateLimited(
                f"You can post at most {limit} comments a {period}. "
                "Please wait a little before posting again; your text is kept below."
            )


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
        raise PostingClosed("This consultation is not published.")
    state = consultation.state
    if state == ConsultationState.UPCOMING:
        raise PostingClosed("This consultation is not open for comments yet.")
    if state == ConsultationState.CLOSED:
        raise PostingClosed("This consultation is closed: it no longer accepts comments.")
    if not permissions.has_verified_email(author):
        raise EmailNotVerified("Confirm your email address before posting.")


def check_parent(*, parent: Comment | None, question: Question) -> None:
    if parent is None:
        return
    if parent.question_id != question.pk:
        raise ValidationError(
            "The comment you are replying to belongs to another question.", code="parent"
        )
    if parent.status == Comment.Status.HIDDEN:
        raise ValidationError(
            "The comment you are replying to has been hidden and takes no replies.",
            code="parent",
        )
    if parent.status == Comment.Status.DELETED:
        raise ValidationError(
            "The comment you are replying to was deleted by its author and takes no replies.",
            code="parent",
        )


def clean_body(body: str) -> str:
    """Sanitised HTML for a body, or ValidationError when it is empty or too long."""
    if len(body) > settings.COMMENT_MAX_LENGTH:
        raise ValidationError(
            "Your comment is %(length)s characters long; the limit is %(limit)s.",
            code="max_length",
            params={"length": f"{len(body):,}", "limit": f"{settings.COMMENT_MAX_LENGTH:,}"},
        )
    html = sanitize_comment(body)
    if not html_to_text(html):
        raise ValidationError("Write your comment before posting it.", code="required")
    return html


# PostgreSQL advisory lock keys: one for allocating new tree ids, one namespace for trees.
_NEW_TREE_LOCK = 0x6C6D_0001
_TREE_LOCK_NAMESPACE = 0x6C6D


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


@transaction.atomic
def comment_create(
    *,
    question: Question,
    author,
    body: str,
    objectives: Iterable[Objective] = (),
    parent: Comment | None = None,
) -> Comment:
    """Post a top-level comment (parent=None) or a reply; sanitises the body once, here."""
    check_can_post(author=author, question=question)
    check_parent(parent=parent, question=question)
    html = clean_body(body)
    check_rate_limit(author=author)
    check_duplicate(author=author, question=question, html=html)
    _lock_tree(parent.tree_id if parent is not None else None)
    if parent is not None:
        # Positions read before the lock may be stale: the tree insert needs current ones.
        parent.refresh_from_db(fields=["tree_id", "lft", "rght", "level", "status"])
        check_parent(parent=parent, question=question)
    comment = Comment(question=question, parent=parent, author=author, body=html)
    comment.save()
    comment.objectives.set(objectives)
    return comment


def _set_status(*, comment: Comment, by, status: str) -> Comment:
    if not permissions.can_moderate_comments(by):
        raise PermissionDenied("Only moderators can hide or publish comments.")
    # A plain UPDATE: changing the status never touches the tree columns.
    Comment.objects.filter(pk=comment.pk).update(status=status)
    comment.status = status
    return comment


def comment_hide(*, comment: Comment, by) -> Comment:
    return _set_status(comment=comment, by=by, status=Comment.Status.HIDDEN)


def comment_publish(*, comment: Comment, by) -> Comment:
    return _set_status(comment=comment, by=by, status=Comment.Status.PUBLISHED)
