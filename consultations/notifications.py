"""The emails that writes cause, sent after the commit: services record, this module tells.

A service calls one function here per event (`comment_hidden`); the email goes out only once
the service's transaction commits, so a rolled-back write tells nobody. Links in emails point
at the site the request came to (its scheme and host, validated by ALLOWED_HOSTS); outside a
request (management commands, workers) at settings.SITE_URL.
"""

import contextvars
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from accounts import language_for

from .models import Comment, ModerationReason

logger = logging.getLogger(__name__)

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


def _send(*, template: str, context: dict, to: str, language: str) -> None:
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}_message.txt", context)
    send_mail(subject, body, None, [to])


def comment_hidden(*, comment: Comment, reason: str) -> None:
    """Tell the author that a moderator hid their comment, once the hiding commits."""
    author = comment.author
    if not author.email:
        return
    # Read now, inside the request: the callback may run after the request's context is gone.
    url = base_url() + comment.get_absolute_url()
    language = language_for(author)

    def send() -> None:
        with translation.override(language):
            reason_label = str(ModerationReason(reason).label)
        context = {
            "comment": comment,
            "author": author,
            "reason": reason_label,
            "url": url,
            "excerpt": comment.body_text[:400],
        }
        _send(
            template="consultations/email/comment_hidden",
            context=context,
            to=author.email,
            language=language,
        )

    transaction.on_commit(send)
