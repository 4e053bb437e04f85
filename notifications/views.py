"""The page behind the unsubscribe link of each email a participant may turn off."""

from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.models import User
from accounts.services import email_replies_stop, email_reports_stop

from . import unsubscribe as links


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
    if found[1] == "report":
        return _unsubscribe_reports(request, user)
    if request.method == "POST":
        email_replies_stop(user=user)
        return render(request, "notifications/unsubscribe_done.html", {"person": user})
    return render(request, "notifications/unsubscribe.html", {"person": user})


def _unsubscribe_reports(request, user):
    """The link in moderators' emails about reported comments."""
    if request.method == "POST":
        email_reports_stop(user=user)
        return render(request, "notifications/unsubscribe_report_done.html", {"person": user})
    return render(request, "notifications/unsubscribe_report.html", {"person": user})
