"""Site-wide middleware: security headers Django does not set; a 503 when the database is down."""

import os

from django.conf import settings
from django.db import Error as DjangoDatabaseError
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

# SQLSTATE classes of a server that cannot serve us now: connection exceptions (08), insufficient
# resources such as too many connections or a full disk (53), and operator intervention such as a
# shutdown or a terminated backend (57P). Deadlocks (40P01) and statement timeouts (57014) are
# the request's own problem, not the database's: they stay ordinary errors.
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")
# SQLite: the file cannot be opened or read, or another writer holds it too long.
_UNAVAILABLE_SQLITE = ("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_BUSY", "SQLITE_FULL")


class SecurityHeadersMiddleware:
    """Adds Content-Security-Policy and Permissions-Policy to every response that lacks them.

    The admin gets its own policy (settings.CONTENT_SECURITY_POLICY_ADMIN): Django's admin and
    django-mptt's tree list write inline styles, which the site's own pages never need.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Read per response, so a test's settings override applies.
        match = request.resolver_match
        if match is not None and "admin" in match.namespaces:
            policy = settings.CONTENT_SECURITY_POLICY_ADMIN
        else:
            policy = settings.CONTENT_SECURITY_POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class ServedByMiddleware:
    """`X-Served-By: <APP_SERVER_ID> pid <pid>` on every response: which app server (and which of
    its processes) answered, for a load balancer's logs and tests/test_scale_out.py. Installed
    only when APP_SERVER_ID is set (forum/settings.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers["X-Served-By"] = f"{settings.APP_SERVER_ID} pid {os.getpid()}"
        return response


def is_database_unavailable(exc: BaseException | None) -> bool:
    """Whether exc says the database cannot be reached or cannot serve, rather than a bug.

    Django raises its own classes (django.db.OperationalError, ...) with the driver's error as
    __cause__; the driver's error tells a refused or dropped connection from a failed query.
    """
    if not isinstance(exc, DjangoDatabaseError):
        return False
    if isinstance(exc, InterfaceError):  # the connection is closed or unusable
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__ or exc
    sqlite_name = getattr(cause, "sqlite_errorname", None)
    if sqlite_name is not None:
        return sqlite_name.startswith(_UNAVAILABLE_SQLITE)
    sqlstate = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
    # psycopg reports no SQLSTATE when it could not connect or the server went away mid-query.
    return sqlstate is None or sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


class DatabaseUnavailableMiddleware:
    """A view that fails because the database is unreachable answers 503 with forum.views'
    page (which gives back the text of a comment, edit or report) instead of a 500.

    Failures outside a view (in another middleware, say a session read before the view, or in
    rendering an error page) never reach process_exception: Django turns them into the 500
    handler's response right where they happen. forum.views.server_error, the 500 handler,
    answers those with the same page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not is_database_unavailable(exception):
            return None
        from .views import database_unavailable  # forum.views imports this module

        return database_unavailable(request, exception)
