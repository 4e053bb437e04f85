"""Site-wide pages, the load balancer's probes, and the 503 and 500 pages."""

import logging
import secrets
import sys

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpResponse
from django.http.request import RawPostDataException
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from consultations.selectors import home_consultations

from .middleware import is_database_unavailable

logger = logging.getLogger(__name__)

# The fields whose text a participant typed and gets back on the 503 page: a comment's or an
# edit's body, a report's details. Nothing else is echoed (a login form's password, say).
KEPT_FIELDS = ("body", "details")


def home(request):
    return render(request, "home.html", {"consultations": home_consultations()})


@require_safe
def admin_login(request):
    """The admin's login page hands over to the site's login, so allauth's rate limits on failed
    logins and its email verification apply to staff as to everyone."""
    next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("admin:index")
    if request.user.is_authenticated:
        if admin.site.has_permission(request):
            return redirect(next_url)
        # Sending a logged-in user back to the login page would loop: allauth redirects them here.
        raise PermissionDenied(_("This account has no access to the admin."))
    return redirect_to_login(next_url)


def _kept_text(request) -> str:
    if request.method != "POST":
        return ""
    try:
        data = request.POST
    except (RawPostDataException, OSError, ValueError):  # body unreadable or already consumed
        return ""
    return next((data[name] for name in KEPT_FIELDS if data.get(name, "").strip()), "")


def _explanation(request) -> str:
    match = request.resolver_match
    if match is None:  # failed in middleware, before Django resolved the URL
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
    name = match.view_name if match else ""
    if request.method != "POST":
        return _(
            "This page cannot be shown right now because the database is unavailable. "
            "Please try again in a few minutes."
        )
    if name in ("consultations:comment", "consultations:edit"):
        return _(
            "We could not save your comment because the database is unavailable. Nothing was "
            "saved. Your text is below: copy it, then try again in a few minutes."
        )
    if name == "consultations:report":
        return _(
            "We could not send your report because the database is unavailable. Nothing was "
            "saved. Your text is below: copy it, then try again in a few minutes."
        )
    return _(
        "We could not save what you sent because the database is unavailable. Nothing was "
        "saved. Please try again in a few minutes."
    )


def database_unavailable(request, exception: BaseException) -> HttpResponse:
    """503 for a request the database could not serve, with the text the participant typed.

    Rendered without a query: templates/503.html leaves out base.html's account links and
    messages, which would read the session and the user from the database.
    """
    # The path, never the text: participants' words stay out of the logs.
    logger.error(
        "Database unavailable: %s %s answered 503 (%s: %s)",
        request.method,
        request.path,
        type(exception).__name__,
        str(exception).strip(),
    )
    context = {"explanation": _explanation(request), "kept_text": _kept_text(request)}
    try:
        response = render(request, "503.html", context, status=503)
    except Exception:  # a page must go out even if rendering fails too
        logger.exception("The 503 page could not be rendered")
        response = HttpResponse(
            context["explanation"], content_type="text/plain; charset=utf-8", status=503
        )
    response["Retry-After"] = "120"
    add_never_cache_headers(response)
    return response


def server_error(request):
    """The 500 handler. Failures outside views (in middleware, or while rendering an error page)
    come here rather than through DatabaseUnavailableMiddleware; those of an unreachable
    database get its 503 page too."""
    exception = sys.exc_info()[1]
    if is_database_unavailable(exception):
        return database_unavailable(request, exception)
    return defaults.server_error(request)


def _text(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, content_type="text/plain; charset=utf-8", status=status)


# Probes for load balancers and orchestrators: plain text, never cached, GET or HEAD, and exempt
# from the https redirect (settings.SECURE_REDIRECT_EXEMPT) so they work over plain http.


@never_cache
@require_safe
def healthz(request):
    """The process is alive and serving; asks nothing of the database (a restart would not
    bring a lost database back)."""
    return _text("ok\n")


@never_cache
@require_safe
def readyz(request):
    """Ready for traffic: the database answers a query and the shared cache stores and returns a
    value. 503 names what failed, so that a load balancer stops sending requests here."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the probe says which
        checks["database"] = f"unavailable ({type(exc).__name__})"
    # A key of its own: concurrent probes must not read each other's value.
    key, token = f"readyz:{secrets.token_hex(8)}", secrets.token_hex(8)
    try:
        cache.set(key, token, timeout=30)
        stored = cache.get(key)
        cache.delete(key)
        checks["cache"] = "ok" if stored == token else "unavailable (value not stored)"
    except Exception as exc:
        checks["cache"] = f"unavailable ({type(exc).__name__})"
    ready = all(outcome == "ok" for outcome in checks.values())
    body = "".join(f"{name}: {outcome}\n" for name, outcome in checks.items())
    return _text(("ready\n" if ready else "not ready\n") + body, status=200 if ready else 503)
