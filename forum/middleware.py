"""Security headers that Django's SecurityMiddleware does not set: CSP and Permissions-Policy."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse


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
