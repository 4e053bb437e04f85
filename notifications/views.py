"""The page behind the unsubscribe link of each email a participant may turn off."""

from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.models import User
from accounts.services import email_digest_stop, email_replies_stop

from . import unsubscribe as links

# What each kind's link stops (every kind of unsubscribe.KINDS has one).
STOP = {"reply": email_replies_stop, "digest": email_digest_stop}


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
