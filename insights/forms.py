"""Forms of the analyst coding pages: they validate what staff typed; insights.coding writes."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .coding import DESCRIPTION_MAX_CHARS, NAME_MAX_CHARS


class CodeForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX_CHARS,
        help_text=_("Short, e.g. “Access to birth registration”. Only staff see codes."),
    )
    description = forms.CharField(
        label=_("Description (optional)"),
        required=False,
        max_length=DESCRIPTION_MAX_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What a comment must say to get this code, for the other analysts."),
    )
