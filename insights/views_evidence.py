"""The evidence pack per objective: its index, the printable page and the DOCX download (the
pack is read in insights/evidence.py, written as Word in insights/evidence_docx.py)."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from consultations.models import Consultation, Objective

from . import evidence as evidence_pack
from . import evidence_docx
from .filters import CommentFilters
from .views import page_context, staff_only


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
