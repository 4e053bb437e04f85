"""Who may do what: every permission rule, in one place, for services, views and templates.

Services call these before writing (they trust no caller), views call them to decide what to
show or refuse, and templates read the answers: the page selectors attach each comment's flags
for the viewer (`CommentFlags`), and `forum.context_processors.permissions` gives the site-wide
ones (moderate, export, admin). A template never re-derives a rule from user fields.

Facts about the user that cost a query (a verified address, the moderators' permission) are
computed once per user object, so a page asking about hundreds of comments asks the database
once.
"""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from .models import Attachment, Comment, Consultation, ConsultationState

_VERIFIED_CACHE = "_permissions_verified_email"


class PostingClosed(PermissionDenied):
    """The consultation does not accept comments now (not yet open, or closed)."""


class EmailNotVerified(PermissionDenied):
    """Posting needs a verified email address."""


def is_active_user(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def has_verified_email(user) -> bool:
    if not is_active_user(user):
        return False
    cached = getattr(user, _VERIFIED_CACHE, None)
    if cached is None:
        cached = EmailAddress.objects.filter(user=user, verified=True).exists()
        setattr(user, _VERIFIED_CACHE, cached)
    return cached


# --- Roles ------------------------------------------------------------------------------------


def can_moderate(user) -> bool:
    """Moderators hide, restore, move and edit any comment, and decide on reports.

    They are staff (they work in the admin too); checking that first spares everyone else the
    permission queries, and Django caches the permissions on the user object.
    """
    return is_active_user(user) and user.is_staff and user.has_perm("consultations.change_comment")


def receives_report_emails(user) -> bool:
    """Who may choose emails about reported comments: the moderators of at least one
    consultation (Consultation.moderators), and the staff who moderate every comment."""
    if not is_active_user(user):
        return False
    return can_moderate(user) or user.moderated_consultations.exists()


def can_export(user) -> bool:
    """Staff download comments (CSV) to draft the consultation's background note."""
    return is_active_user(user) and user.is_staff


def can_use_admin(user) -> bool:
    return is_active_user(user) and user.is_staff


# --- Posting ----------------------------------------------------------------------------------


def posting_refusal(user, consultation: Consultation) -> PermissionDenied | None:
    """Why `user` may not comment in `consultation` now (on any of its questions, or in reply),
    or None when they may."""
    if not consultation.is_published:
        return PostingClosed(_("This consultation is not published."))
    state = consultation.state
    if state == ConsultationState.UPCOMING:
        return PostingClosed(_("This consultation is not open for comments yet."))
    if state == ConsultationState.CLOSED:
        return PostingClosed(_("This consultation is closed: it no longer accepts comments."))
    if not is_active_user(user):
        return PermissionDenied(_("Log in to post a comment."))
    if not has_verified_email(user):
        return EmailNotVerified(_("Confirm your email address before posting."))
    return None


def check_can_post(user, consultation: Consultation) -> None:
    """Raise the refusal (PostingClosed, EmailNotVerified, PermissionDenied), if any."""
    refusal = posting_refusal(user, consultation)
    if refusal is not None:
        raise refusal


def can_post(user, consultation: Consultation) -> bool:
    return posting_refusal(user, consultation) is None


def can_reply(user, comment: Comment) -> bool:
    """A reply: whoever may post on the question, to a comment that is shown."""
    return comment.status == Comment.Status.PUBLISHED and can_post(
        user, comment.question.consultation
    )


# --- One comment ------------------------------------------------------------------------------


def can_edit(user, comment: Comment) -> bool:
    """Authors edit their own shown comment while the consultation is open; moderators edit
    any comment that is not deleted, at any time."""
    if can_moderate(user):
        return comment.status != Comment.Status.DELETED
    return (
        is_active_user(user)
        and comment.author_id == user.pk
        and comment.status == Comment.Status.PUBLISHED
        and comment.question.consultation.is_open
    )


def can_delete(user, comment: Comment) -> bool:
    """Only the author withdraws a comment (softly: its replies stay)."""
    return (
        is_active_user(user)
        and comment.author_id == user.pk
        and comment.status != Comment.Status.DELETED
    )


def report_refusal(user, comment: Comment) -> str:
    """Why `user` may not report `comment`, or "" when they may (once: the service refuses a
    second report of the same comment)."""
    if not is_active_user(user):
        return _("Log in to report a comment.")
    if comment.author_id == user.pk:
        return _("This is your own comment: you can edit or delete it instead.")
    if comment.status != Comment.Status.PUBLISHED:
        return _("This comment is no longer shown, so it cannot be reported.")
    return ""


def can_report(user, comment: Comment) -> bool:
    return not report_refusal(user, comment)


def can_download(user, attachment: Attachment) -> bool:
    """A file of a shown comment in a published consultation: anyone. Files of hidden or
    deleted comments, or of unpublished consultations: moderators, and the staff who export
    those comments (their CSV links to the files)."""
    comment = attachment.comment
    if comment.is_visible and comment.question.consultation.is_published:
        return True
    return can_moderate(user) or can_export(user)


# --- Flags for templates ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommentFlags:
    """What the viewer may do with one comment, as rendering.thread_html shows it."""

    can_reply: bool = False
    can_edit: bool = False
    can_delete: bool = False
    can_report: bool = False
    can_moderate: bool = False
    already_reported: bool = False


NO_FLAGS = CommentFlags()


def comment_flags(
    user, comment: Comment, *, reported_ids: frozenset[int] | set[int] = frozenset()
) -> CommentFlags:
    """The viewer's flags for a comment; `reported_ids` are the comments the viewer reported
    (fetched once per page). Asks the database nothing once the user's facts are cached."""
    if not is_active_user(user):
        return NO_FLAGS
    already_reported = comment.pk in reported_ids
    return CommentFlags(
        can_reply=can_reply(user, comment),
        can_edit=can_edit(user, comment),
        can_delete=can_delete(user, comment),
        can_report=can_report(user, comment) and not already_reported,
        can_moderate=can_moderate(user),
        already_reported=already_reported and comment.author_id != user.pk,
    )
