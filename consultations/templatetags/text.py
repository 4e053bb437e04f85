"""Filters for showing user text beside ours."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def isolate(value) -> str:
    """<bdi>value</bdi>: user text (a name, an organisation, a file name) in its own
    bidirectional island, so right-to-left text or a stray direction control in it cannot
    reorder the words that follow it on the page. Escapes the value."""
    if value in (None, ""):
        return ""
    return format_html("<bdi>{}</bdi>", value)
