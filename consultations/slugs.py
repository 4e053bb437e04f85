"""Consultation slugs a URL of the app already uses.

A consultation's page is /consultations/<slug>/, beside fixed paths such as
/consultations/moderation/ (the moderation queue). A consultation named "moderation" would take
that URL's place in every link built from its slug, so such slugs are refused. The list is read
from the URL resolver, so a fixed path added later is reserved without anyone remembering to.
"""

from functools import cache

from django.core.exceptions import ValidationError
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.translation import gettext_lazy as _


def _routes(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


@cache
def reserved_slugs() -> frozenset[str]:
    """The literal first segments of every route under the consultations' prefix."""
    base = reverse("consultations:detail", kwargs={"slug": "x"}).strip("/").rsplit("/", 1)[0]
    prefix = base + "/"
    reserved = set()
    for route in _routes(get_resolver().url_patterns):
        route = route.lstrip("^")
        if not route.startswith(prefix):
            continue
        first = route[len(prefix) :].split("/", 1)[0]
        if first and "<" not in first and "(" not in first:
            reserved.add(first.lower())
    return frozenset(reserved)


def validate_not_reserved(slug: str) -> None:
    if slug.lower() in reserved_slugs():
        raise ValidationError(
            _("“%(slug)s” is used by a page of the site; choose another slug."),
            code="reserved_slug",
            params={"slug": slug},
        )
