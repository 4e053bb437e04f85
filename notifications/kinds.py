"""What each kind of notification says, decided at send time: an email no longer owed (a
comment restored since) is cancelled.

Each renderer returns (template prefix, context, address) or raises delivery.Cancel. They run
inside `translation.override(recipient's language)`.
"""

from consultations.models import Comment, ModerationReason

from .delivery import Cancel
from .models import Notification

EXCERPT = 400


def _url(notification: Notification) -> str:
    return notification.base_url.rstrip("/") + notification.comment.get_absolute_url()


def comment_hidden(notification: Notification):
    comment, author = notification.comment, notification.recipient
    if comment.status != Comment.Status.HIDDEN:
        raise Cancel("the comment is no longer hidden")
    if not author.email:
        raise Cancel("the author has no email address")
    context = {
        "comment": comment,
        "author": author,
        "reason": str(ModerationReason(comment.hidden_reason).label),
        "url": _url(notification),
        "excerpt": comment.body_text[:EXCERPT],
    }
    return "consultations/email/comment_hidden", context, author.email


RENDERERS = {
    Notification.Kind.COMMENT_HIDDEN: comment_hidden,
}
