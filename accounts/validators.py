"""Checks on what participants type about themselves."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Explicit direction embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): in a
# name they reorder what is shown ("\u202eSECRETARIAT NU\u202c" shows as "UN SECRETARIAT").
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def no_bidi_controls(value: str) -> None:
    if BIDI_CONTROLS.search(value or ""):
        raise ValidationError(
            _(
                "Remove the invisible text-direction characters (U+202A to U+202E, U+2066 to "
                "U+2069): they can make a name read as something else."
            ),
            code="bidi_control",
        )
