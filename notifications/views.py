"""The page behind the unsubscribe link of each email a participant may turn off, and the
Follow buttons of consultation and question pages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.services import email_digest_stop, email_replies_stop, email_reports_stop
from consultations.models import Consultation, Question

from . import feed, follows
from . import unsubscribe as links

# What each kind's link stops (every kind of unsubscribe.KINDS has one).
STOP = {
    "reply": email_replies_stop,
    "digest": email_digest_stop,
    "report": email_reports_stop,
}


# RFC 8058: mail providers send the one-click POST without this site's CSRF token. The signed
# link is the authority, for one user and one kind, and all it can do is turn an email off.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET: ask to confirm (a link prefetcher must not unsubscribe anyone); POST: stop."""
    found = links.read(token)
    user = User.objects.filter(pk=found[0], is_active=True).first() if found else None
    if user is None:
        return render(request, "notifications/unsubscribe_invalid.html", status=400)
    kind = found[1]
    context = {"person": user, "kind": kind}
    if request.method == "POST":
        STOP[kind](user=user)
        return render(request, "notifications/unsubscribe_done.html", context)
    return render(request, "notifications/unsubscribe.html", context)


def site_path(value: str | None, fallback: str) -> str:
    """`value` when it is a path on this site ("/consultations/x/#question-1"), else `fallback`:
    no scheme, no host, no protocol-relative "//host" or "/\\host", no control characters."""
    value = value or ""
    if (
        value.startswith("/")
        and not value.startswith(("//", "/\\"))
        and value.isprintable()
        and url_has_allowed_host_and_scheme(value, allowed_hosts=None)
    ):
        return value
    return fallback


def _published_consultation(slug: str) -> Consultation:
    return get_object_or_404(Consultation, slug=slug, is_published=True)


def _question(slug: str, number: int) -> Question:
    question = get_object_or_404(
        Question.objects.select_related("consultation"),
        consultation__slug=slug,
        consultation__is_published=True,
        number=number,
    )
    return question


def _follow_change(request, *, active: bool, consultation=None, question=None):
    """Follow or stop following (the service checks who may), then back to the page."""
    shown = consultation if consultation is not None else question
    if active:
        follows.follow(request.user, consultation=consultation, question=question)
        if question is not None:
            message = _("You follow question %(number)s now.") % {"number": question.number}
        else:
            message = _("You follow this consultation now.")
    else:
        follows.unfollow(request.user, consultation=consultation, question=question)
        if question is not None:
            message = _("You no longer follow question %(number)s.") % {"number": question.number}
        else:
            message = _("You no longer follow this consultation.")
    messages.success(request, message)
    return redirect(site_path(request.POST.get("next"), shown.get_absolute_url()))


@login_required
@require_POST
def follow_consultation(request, slug: str):
    return _follow_change(request, active=True, consultation=_published_consultation(slug))


@login_required
@require_POST
def unfollow_consultation(request, slug: str):
    return _follow_change(request, active=False, consultation=_published_consultation(slug))


@login_required
@require_POST
def follow_question(request, slug: str, number: int):
    return _follow_change(request, active=True, question=_question(slug, number))


@login_required
@require_POST
def unfollow_question(request, slug: str, number: int):
    return _follow_change(request, active=False, question=_question(slug, number))


@login_required
@require_GET
def notifications_page(request):
    """Replies to the user's comments and new comments in what they follow, newest first, the
    unread marked; viewing it marks them all read (after they are shown as unread)."""
    from consultations.views import _pagination

    now = timezone.now()  # before the reads: a comment posted meanwhile stays unread
    seen = feed.seen_at(request.user)
    page = feed.page(request.user, request.GET.get("page"), seen=seen)
    response = render(
        request,
        "notifications/page.html",
        {
            "items": page.object_list,
            "pagination": _pagination(page, request.path, []),
            # All read once this page is shown: the header counts none.
            "notifications_unread": None,
        },
    )
    feed.mark_seen(request.user, now)
    return response
