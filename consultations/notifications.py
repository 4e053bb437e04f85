"""The emails that writes cause: services call one function here per event, which records it.

A service calls one function here per event (`comment_hidden`); it records a
row in notifications.Notification in the service's transaction, and the background task that
sends it is enqueued once that transaction commits, so a rolled-back write tells nobody (see
notifications/delivery.py for the delivery itself). Links in emails point
at the site the request came to (its scheme and host, validated by ALLOWED_HOSTS); outside a
request (management commands, workers) at settings.SITE_URL.
"""

import contextvars

from django.conf import settings

from notifications import delivery
from notifications.models import Notification

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
