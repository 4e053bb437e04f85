"""What each kind of notification says, decided at send time: an email no longer owed (a reply
hidden or deleted since, a comment restored since) is cancelled.

Each renderer takes a batch: the rows of one recipient and kind that one email covers (a list
of one for kinds that are not coalesced), oldest first. It returns (template prefix, context,
address) or raises delivery.Cancel. They run inside `translation.override(recipient's
language)`.
"""

from allauth.account.models import EmailAddress
from django.urls import reverse

from consultations.models import Comment, ModerationReason

from . import unsubscribe
from .delivery import Cancel
from .models import Notification

EXCERPT = 400


def _url(notification: Notification) -> str:
    return notification.base_url.rstrip("/") + notification.comment.get_absolute_url()


def comment_hidden(batch: list[Notification]):
    notification = batch[0]
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


def reply(batch: list[Notification]):
    notification = batch[0]
    reply, recipient = notification.comment, notification.recipient
    if reply.status != Comment.Status.PUBLISHED:
        raise Cancel(f"the reply is {reply.status}")
    if reply.author_id == recipient.pk:
        raise Cancel("a reply to oneself")
    profile = getattr(recipient, "profile", None)
    if profile is not None and not profile.email_replies:
        raise Cancel("the recipient stopped emails about replies")
    if not (
        recipient.email
        and EmailAddress.objects.filter(
            user=recipient, email__iexact=recipient.email, verified=True
        ).exists()
    ):
        raise Cancel("the recipient's address is not verified")
    parent = Comment.objects.only("body_text").get(pk=reply.parent_id)
    excerpt = reply.body_text[:EXCERPT]
    context = {
        "recipient": recipient,
        "replier": reply.author.display_name,
        "consultation": reply.question.consultation,
        "question": reply.question,
        "excerpt": excerpt + ("…" if len(reply.body_text) > EXCERPT else ""),
        "parent_excerpt": parent.body_text[:160],
        "url": _url(notification),
        "unsubscribe_url": unsubscribe.url(
            base_url=notification.base_url, user=recipient, kind=notification.kind
        ),
        "settings_url": notification.base_url.rstrip("/") + reverse("accounts:profile"),
    }
    return "consultations/email/reply", context, recipient.email


RENDERERS = {
    Notification.Kind.COMMENT_HIDDEN: comment_hidden,
    Notification.Kind.REPLY: reply,
}
