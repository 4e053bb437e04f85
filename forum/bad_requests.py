"""Requests refused before any view sees them: a NUL byte in the query string (a 400)."""

from django.core.exceptions import BadRequest
from django.http import JsonResponse

# The read-only API answers in JSON, errors included (api/openapi.yaml documents no HTML).
API_PREFIX = "/api/"


def refuse_nul_in_query(get_response):
    """A NUL byte in a query parameter is a 400, for every page.

    No page takes one, and PostgreSQL refuses any query holding one ("A string literal cannot
    contain NUL characters"), so a NUL that reaches a filter, such as the admin's
    ?status__exact=%00, used to end as a server error. Form fields need no such check: Django's
    form fields refuse NUL bytes with a message of their own.
    """

    def middleware(request):
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                if request.path.startswith(API_PREFIX):
                    return JsonResponse({"detail": "NUL byte in the query string."}, status=400)
                raise BadRequest("NUL byte in the query string")
        return get_response(request)

    return middleware
