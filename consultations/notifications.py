"""The emails that writes cause: services call one function here per event, which records it.

A service calls one function here per event (`comment_hidden`, `comment_replied`,
`comment_reported`); it records a
row in notifications.Notification in the service's transaction, and the background task that
sends it is enqueued once that transaction commits, so a rolled-back write tells nobody (see
notifications/delivery.py for the delivery itself). Links in emails point
at the site the request came to (its scheme and host, validated by ALLOWED_HOSTS); outside a
request (management commands, workers) at settings.SITE_URL.
"""

import contextvars

from django.conf import settings

from accounts.models import Profile, User
from notifications import delivery
from notifications.models import Notification
from notifications.recipients import address_verified, address_verified_filter

from .models import Comment

_BASE_URL: contextvars.ContextVar[str | None] = contextvars.ContextVar("base_url", default=None)


def base_url() -> str:
    """Scheme and host for absolute links: the current request's, else settings.SITE_URL."""
    return (_BASE_URL.get() or settings.SITE_URL).rstrip("/")


class RequestBaseURLMiddleware:
    """Remembers the request's scheme and host for the emails its writes cause."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _BASE_URL.set(request.build_absolute_uri("/"))
        try:
            return self.get_response(request)
        finally:
            _BASE_URL.reset(token)


def comment_hidden(*, comment: Comment, reason: str) -> None:
    """Tell the author that a moderator hid their comment, once the hiding commits.

    Recorded once per comment: hiding it again after a restore sends nothing more.
    """
    if not comment.author.email:
        return
    # The base is read now, inside the request: the worker that sends it has none.
    delivery.record(
        recipient=comment.author,
        kind=Notification.Kind.COMMENT_HIDDEN,
        comment=comment,
        base_url=base_url(),
    )


def comment_replied(*, reply: Comment) -> None:
    """Tell the parent's author about a reply, unless it is their own or they cannot be reached.

    The task looks again at send time: a reply hidden or deleted by then is not sent.
    """
    parent = reply.parent
    if parent is None or parent.author_id == reply.author_id:
        return
    if parent.status == Comment.Status.DELETED:
        return  # its author withdrew from the thread
    recipient = parent.author
    if not address_verified(recipient):
        return
    delivery.record(
        recipient=recipient, kind=Notification.Kind.REPLY, comment=reply, base_url=base_url()
    )


def comment_reported(*, report) -> None:
    """Tell the consultation's moderators who asked for it (email_reports "immediate", at a
    verified address) that a comment was reported: one email per moderator and comment, so a
    second report of the same comment emails nobody again. Never to the reporter. Moderators
    who chose "daily" get it in their daily email (notifications/reports.py)."""
    comment = report.comment
    moderators = (
        User.objects.filter(
            moderated_consultations=comment.question.consultation_id,
            is_active=True,
            profile__email_reports=Profile.Reports.IMMEDIATE,
        )
        .exclude(pk=report.reporter_id)
        .exclude(email="")
        .filter(address_verified_filter())
        .order_by("pk")
    )
    base = base_url()
    for moderator in moderators:
        delivery.record(
            recipient=moderator, kind=Notification.Kind.REPORT, comment=comment, base_url=base
        )
