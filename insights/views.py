"""Staff pages of a consultation's insights, and what they share: the staff_only decorator
(consultations.permissions.can_export; the services they call check it again), the tabs, and the
filter form's context (insights/filters.py, templates/insights/includes/_filters.html)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import StakeholderType
from consultations import permissions
from consultations.models import Comment, Consultation, Objective

from .filters import NAMES, CommentFilters
from .models import Code, DuplicateGroup

# The tabs of every insights page, in order: (URL name, label). A part not installed yet is
# left out of the tabs (its URL does not resolve).
TABS = [
    ("insights:overview", gettext_lazy("Overview")),
    ("insights:comments", gettext_lazy("Comments and coding")),
    ("insights:codes", gettext_lazy("Codes")),
    ("insights:evidence", gettext_lazy("Evidence pack")),
    ("insights:campaigns", gettext_lazy("Campaigns")),
    ("insights:themes", gettext_lazy("Theme suggestions")),
    ("insights:log", gettext_lazy("Coding log")),
]


def staff_only(view):
    """For a view taking (request, slug, ...): anonymous visitors are sent to log in, users who
    may not export get 403, staff get the view with `consultation` (published or not)."""

    @wraps(view)
    def wrapper(request, slug: str, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not permissions.can_export(request.user):
            raise PermissionDenied(_("Only staff can see a consultation's insights."))
        consultation = get_object_or_404(Consultation, slug=slug)
        return view(request, consultation, *args, **kwargs)

    return wrapper


def tabs(consultation: Consultation, current: str) -> list[dict]:
    result = []
    for name, label in TABS:
        try:
            url = reverse(name, kwargs={"slug": consultation.slug})
        except NoReverseMatch:
            continue
        result.append({"url": url, "label": label, "current": name == current})
    return result


def filter_context(request, consultation: Consultation) -> dict:
    """What templates/insights/includes/_filters.html needs, and the parsed filters:
    `filters` (CommentFilters), `filter_errors` (messages for values left out), `filter_form`
    (what was typed, to show again) and the choices of each select."""
    filters, errors = CommentFilters.parse(consultation, request.GET)
    typed = {name: request.GET.get(name, "") for name in NAMES}
    return {
        "filters": filters,
        "filter_errors": errors,
        "filter_form": typed,
        "filter_choices": {
            "questions": list(consultation.questions.order_by("number").values("number", "text")),
            "objectives": list(
                Objective.objects.order_by("number").values("number", "short_title")
            ),
            "stakeholder_types": StakeholderType.choices,
            "statuses": Comment.Status.choices,
            "codes": list(Code.objects.filter(consultation=consultation).values("pk", "name")),
            "groups": list(
                DuplicateGroup.objects.filter(consultation=consultation, size__gt=1).values(
                    "pk", "size"
                )
            ),
        },
    }


def page_context(request, consultation: Consultation, current: str, **extra) -> dict:
    """The context every insights page starts from: the consultation, its tabs, the filters."""
    return {
        "consultation": consultation,
        "tabs": tabs(consultation, current),
        **filter_context(request, consultation),
        **extra,
    }
