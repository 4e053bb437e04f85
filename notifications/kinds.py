"""What each kind of notification says, decided at send time: an email no longer owed (a reply
hidden or deleted since, a comment restored since) is cancelled.

Each renderer takes a batch: the rows of one recipient and kind that one email covers (a list
of one for kinds that are not coalesced), oldest first. It returns (template prefix, context,
address) or raises delivery.Cancel. They run inside `translation.override(recipient's
language)`.
"""

from django.urls import reverse

from consultations.models import Comment, ModerationReason

from . import reports, unsubscribe
from .delivery import Cancel
from .models import Notification
from .recipients import address_verified

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


def _reply_stale(notification: Notification) -> str:
    reply = notification.comment
    if reply.status != Comment.Status.PUBLISHED:
        return f"the reply is {reply.status}"
    if reply.author_id == notification.recipient_id:
        return "a reply to oneself"
    return ""


def reply_stale(batch: list[Notification]) -> dict[int, str]:
    """The replies of a batch no longer written about (hidden, deleted), with why."""
    return {row.pk: why for row in batch if (why := _reply_stale(row))}


def reply(batch: list[Notification]):
    """One email for one reply, or for several to the same person (coalesced, oldest first)."""
    notification = batch[0]
    recipient = notification.recipient
    for row in batch:
        why = _reply_stale(row)
        if why:
            raise Cancel(why)
    profile = getattr(recipient, "profile", None)
    if profile is not None and not profile.email_replies:
        raise Cancel("the recipient stopped emails about replies")
    if not address_verified(recipient):
        raise Cancel("the recipient's address is not verified")
    parents = dict(
        Comment.objects.filter(pk__in={row.comment.parent_id for row in batch}).values_list(
            "pk", "body_text"
        )
    )
    replies = []
    for row in batch:
        reply = row.comment
        excerpt = reply.body_text[:EXCERPT]
        replies.append(
            {
                "replier": reply.author.public_display_name,
                "consultation": reply.question.consultation,
                "question": reply.question,
                "excerpt": excerpt + ("…" if len(reply.body_text) > EXCERPT else ""),
                "parent_excerpt": parents.get(reply.parent_id, "")[:160],
                "url": _url(row),
            }
        )
    first = replies[0]
    context = {
        "recipient": recipient,
        "replies": replies,
        "count": len(replies),
        # One reply: the email is about it (the template's single-reply wording).
        **first,
        "unsubscribe_url": unsubscribe.url(
            base_url=notification.base_url, user=recipient, kind=notification.kind
        ),
        "settings_url": notification.base_url.rstrip("/") + reverse("accounts:profile"),
    }
    return "consultations/email/reply", context, recipient.email


# Per kind, the rows of a batch no longer owed, with why: delivery cancels them and sends
# the rest.
STALE = {
    Notification.Kind.REPLY: reply_stale,
    Notification.Kind.REPORT: reports.stale,
}

# A digest lists at most this many comments; the rest are counted, with a link to their
# consultation.
DIGEST_CAP = 50
DIGEST_EXCERPT = 280


def _excerpt(text: str, length: int) -> str:
    return text[:length] + ("…" if len(text) > length else "")


def digest(batch: list[Notification]):
    """New comments in what the recipient follows, published in the row's [since, until),
    grouped by consultation then question; the follows and statuses of send time count."""
    from . import digests

    notification = batch[0]
    recipient = notification.recipient
    profile = getattr(recipient, "profile", None)
    frequency = notification.period.partition(":")[0]
    if profile is None or profile.email_digest != frequency:
        raise Cancel("the recipient no longer wants this digest")
    if not address_verified(recipient):
        raise Cancel("the recipient's address is not verified")
    found = digests.followed_comments(
        recipient, since=notification.since, until=notification.until
    ).order_by(
        "question__consultation__title",
        "question__consultation_id",
        "question__number",
        "created_at",
        "pk",
    )
    rows = list(found.values_list("pk", "question__consultation_id"))
    if not rows:
        raise Cancel("nothing new is left in what the recipient follows")
    shown_pks = [pk for pk, _consultation in rows[:DIGEST_CAP]]
    more: dict[int, int] = {}
    for _pk, consultation_id in rows[DIGEST_CAP:]:
        more[consultation_id] = more.get(consultation_id, 0) + 1
    comments = (
        Comment.objects.filter(pk__in=shown_pks)
        .select_related("author__profile", "question__consultation")
        .order_by(
            "question__consultation__title",
            "question__consultation_id",
            "question__number",
            "created_at",
            "pk",
        )
    )
    base = notification.base_url.rstrip("/")
    consultations: list[dict] = []
    for comment in comments:
        consultation, question = comment.question.consultation, comment.question
        if not consultations or consultations[-1]["consultation"].pk != consultation.pk:
            consultations.append(
                {
                    "consultation": consultation,
                    "url": base + consultation.get_absolute_url(),
                    "questions": [],
                    "more": 0,
                }
            )
        group = consultations[-1]
        if not group["questions"] or group["questions"][-1]["question"].pk != question.pk:
            group["questions"].append(
                {"question": question, "url": base + question.get_absolute_url(), "comments": []}
            )
        group["questions"][-1]["comments"].append(
            {
                "author": comment.author.public_display_name,
                "stakeholder": comment.author.stakeholder_label,
                # One paragraph: the list stays a list in a plain text email.
                "excerpt": _excerpt(" ".join(comment.body_text.split()), DIGEST_EXCERPT),
                "url": base + comment.get_absolute_url(),
                "created_at": comment.created_at,
            }
        )
    for group in consultations:
        group["more"] = more.pop(group["consultation"].pk, 0)
    if more:  # consultations whose every new comment is past the cap
        from consultations.models import Consultation

        for consultation in Consultation.objects.filter(pk__in=more).order_by("title", "pk"):
            consultations.append(
                {
                    "consultation": consultation,
                    "url": base + consultation.get_absolute_url(),
                    "questions": [],
                    "more": more[consultation.pk],
                }
            )
    context = {
        "recipient": recipient,
        "weekly": frequency == "weekly",
        "since": notification.since,
        "until": notification.until,
        "count": len(rows),
        "shown": len(shown_pks),
        "consultations": consultations,
        "unsubscribe_url": unsubscribe.url(
            base_url=notification.base_url, user=recipient, kind=notification.kind
        ),
        "settings_url": base + reverse("accounts:profile"),
    }
    return "notifications/email/digest", context, recipient.email


RENDERERS = {
    Notification.Kind.COMMENT_HIDDEN: comment_hidden,
    Notification.Kind.REPLY: reply,
    Notification.Kind.DIGEST: digest,
    Notification.Kind.REPORT: reports.render,
}
