"""Staff pages of a consultation's insights, and what they share: the staff_only decorator
(consultations.permissions.can_export; the services they call check it again), the tabs, and the
filter form's context (insights/filters.py, templates/insights/includes/_filters.html); and the
overview (insights/stats.py, insights/charts.py)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import StakeholderType
from consultations import permissions
from consultations.models import Comment, Consultation, Objective

from . import charts, stats
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


def comments_url(consultation: Consultation) -> str:
    """Where a count links to, with its filters: the coded-comments list (insights:comments),
    or, on a site without it, this overview narrowed to them."""
    try:
        return reverse("insights:comments", kwargs={"slug": consultation.slug})
    except NoReverseMatch:
        return reverse("insights:overview", kwargs={"slug": consultation.slug})


def _linked_table(table, filters: CommentFilters, base: str) -> dict:
    """A stats.Table with the URLs of the comments behind its numbers: the current filters with
    the row's value added (`row_url`, for the row's label) and, in a matrix, the column's too
    (each non-zero cell's `url`). A row or column of authors without a stakeholder type has no
    filter, so no link; nor does a count the filters cannot reproduce: under an objective filter,
    the row of another objective counts comments tagged with both, and a link can name one."""

    def link(**changes) -> str:
        for name, value in changes.items():
            if getattr(filters, name) not in (None, "", value):
                return ""
        return f"{base}?{filters.as_query(**changes)}"

    rows = []
    for row in table.rows:
        linkable = bool(table.row_filter) and row.key != ""
        cells = []
        for i, count in enumerate(row.values):
            url = ""
            if count and linkable and table.column_filter and table.column_keys[i] != "":
                url = link(**{table.row_filter: row.key, table.column_filter: table.column_keys[i]})
            cells.append({"count": count, "url": url})
        row_url = link(**{table.row_filter: row.key}) if linkable and row.total else ""
        rows.append({"row": row, "cells": cells, "url": row_url})
    return {"table": table, "rows": rows, "totals": table.column_totals()}


@staff_only
def overview(request, consultation: Consultation):
    """The consultation's numbers under the filters: totals, charts, tables and matrices."""
    context = page_context(request, consultation, current="insights:overview")
    filters = context["filters"]
    insights = stats.compute(consultation, filters)
    base = comments_url(consultation)
    return render(
        request,
        "insights/overview.html",
        {
            **context,
            "insights": insights,
            "charts": charts.overview_charts(insights),
            "by_stakeholder": _linked_table(insights.by_stakeholder, filters, base),
            "by_question": _linked_table(insights.by_question, filters, base),
            "by_objective": _linked_table(insights.by_objective, filters, base),
            "matrices": [
                {
                    "id": "objective-stakeholder",
                    "linked": _linked_table(insights.objective_by_stakeholder, filters, base),
                    "caption": _(
                        "Comments and replies per GCM objective (rows) and stakeholder type "
                        "(columns)"
                    ),
                },
                {
                    "id": "objective-question",
                    "linked": _linked_table(insights.objective_by_question, filters, base),
                    "caption": _(
                        "Comments and replies per GCM objective (rows) and question (columns)"
                    ),
                },
            ],
            "csv_query": _csv_query(filters),
        },
    )


def _csv_query(filters: CommentFilters) -> str | None:
    """The CSV download's filters, when the CSV can apply every one of them (question,
    objective, hidden), else None: the page offers the download only for the same comments."""
    params = filters.as_params()
    if set(params) - {"question", "objective", "hidden"}:
        return None
    return filters.as_query()
