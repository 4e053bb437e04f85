"""Staff pages of a consultation's insights, and what they share: the staff_only decorator
(consultations.permissions.can_export; the services they call check it again), the tabs, and the
filter form's context (insights/filters.py, templates/insights/includes/_filters.html)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounts.models import StakeholderType
from consultations import permissions
from consultations.models import Comment, Consultation, Objective

from . import evidence as evidence_pack
from . import evidence_docx
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


# --- Evidence pack (insights/evidence.py, insights/evidence_docx.py) ---------------------------


def _base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@require_GET
@staff_only
def evidence(request, consultation: Consultation):
    """The objectives whose evidence packs staff can open: in focus first, then the others that
    have tagged comments, each with its count under the filters."""
    context = page_context(request, consultation, current="insights:evidence")
    context["objectives"] = evidence_pack.objective_counts(consultation, context["filters"])
    context["pack_query"] = context["filters"].as_query(objective=None)
    return render(request, "insights/evidence.html", context)


def _objective(consultation: Consultation, number: int, filters: CommentFilters, url_name: str):
    """The objective (404 if there is none with that number), and a redirect to `url_name` of
    another objective when the filter form chose that one (else None)."""
    objective = get_object_or_404(Objective, number=number)
    if filters.objective is not None and filters.objective != number:
        # The form's objective select changes which pack is shown, not what it is narrowed to.
        url = reverse(url_name, kwargs={"slug": consultation.slug, "number": filters.objective})
        query = filters.as_query(objective=None)
        return objective, redirect(f"{url}?{query}" if query else url)
    return objective, None


@require_GET
@staff_only
def evidence_objective(request, consultation: Consultation, number: int):
    """The printable evidence pack of one objective."""
    context = page_context(request, consultation, current="insights:evidence")
    objective, redirection = _objective(
        consultation, number, context["filters"], "insights:evidence_objective"
    )
    if redirection is not None:
        return redirection
    pack = evidence_pack.build(
        consultation, objective, context["filters"], base_url=_base_url(request)
    )
    query = context["filters"].as_query(objective=None)
    context.update(
        pack=pack,
        summary=evidence_docx.summary(pack),
        pack_query=query,
        docx_url=reverse(
            "insights:evidence_docx", kwargs={"slug": consultation.slug, "number": number}
        )
        + (f"?{query}" if query else ""),
    )
    return render(request, "insights/evidence_objective.html", context)


@require_GET
@staff_only
def evidence_docx_download(request, consultation: Consultation, number: int):
    """The same pack as a Word document."""
    # The filters as the page parsed them; a value left out there is left out here too, and
    # the document's summary line names the filters that did apply.
    filters, _errors = CommentFilters.parse(consultation, request.GET)
    objective, redirection = _objective(consultation, number, filters, "insights:evidence_docx")
    if redirection is not None:
        return redirection
    pack = evidence_pack.build(consultation, objective, filters, base_url=_base_url(request))
    response = HttpResponse(evidence_docx.render(pack), content_type=evidence_docx.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{evidence_docx.filename(pack)}"'
    # Names and organisations of participants: keep the file out of shared caches.
    response["Cache-Control"] = "private, no-store"
    return response
