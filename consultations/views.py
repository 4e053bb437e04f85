"""Consultation pages: read a consultation, post a comment or a reply."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from . import export, permissions, selectors, services
from .forms import CommentForm
from .models import Consultation


def _objective_number(raw: str | None) -> tuple[int | None, str]:
    """The ?objective=N filter, or an explanation of why it is ignored."""
    if raw in (None, ""):
        return None, ""
    try:
        number = int(raw)
    except ValueError:
        number = None
    if number is None or not 1 <= number <= 23:
        return None, f"There is no GCM objective “{raw}”. Showing all comments."
    return number, ""


@require_GET
def consultation_detail(request, slug: str):
    number, filter_error = _objective_number(request.GET.get("objective"))
    page = selectors.consultation_page(slug=slug, objective_number=number)
    consultation = page.consultation
    verified = permissions.has_verified_email(request.user)
    return render(
        request,
        "consultations/consultation_detail.html",
        {
            "page": page,
            "consultation": consultation,
            "can_post": consultation.is_open and verified,
            "email_verified": verified,
            "filter_error": filter_error,
            "can_export": permissions.can_export(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def comment_form(request, slug: str, number: int):
    """The form to comment on a question or reply to a comment (?parent=ID); errors land here."""
    question = selectors.question_for_posting(slug=slug, number=number)
    consultation = question.consultation
    question.consultation = consultation  # reused by get_absolute_url below without a query
    if not request.user.is_authenticated:
        # An anonymous POST saves nothing: log in first, then come back to the question.
        return redirect_to_login(question.get_absolute_url())

    source = request.POST if request.method == "POST" else request.GET
    parent = selectors.reply_parent(question=question, comment_id=source.get("parent"))
    form = CommentForm(
        request.POST if request.method == "POST" else None,
        question=question,
        initial={"parent": parent.pk if parent else ""},
    )

    refusal = ""
    try:
        services.check_can_post(author=request.user, question=question)
    except PermissionDenied as exc:
        refusal = str(exc)

    if request.method == "POST" and not refusal and form.is_valid():
        try:
            comment = services.comment_create(
                question=question,
                author=request.user,
                body=form.cleaned_data["body"],
                objectives=form.cleaned_data["objectives"],
                parent=form.cleaned_data["parent"],
            )
        except PermissionDenied as exc:
            refusal = str(exc)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Your comment has been posted.")
            return redirect(comment.get_absolute_url())

    if request.method == "GET":
        status = 200
    else:
        status = 403 if refusal else 400
    return render(
        request,
        "consultations/comment_form.html",
        {
            "consultation": consultation,
            "question": question,
            "parent": parent,
            "form": form,
            "refusal": refusal,
            "email_verified": permissions.has_verified_email(request.user),
            "objectives": selectors.all_objectives(),
            "action": reverse("consultations:comment", args=[consultation.slug, question.number]),
        },
        status=status,
    )


def _export_filter(raw: str | None, name: str) -> int | None:
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"The {name} filter must be a number, not “{raw}”.") from None


@require_GET
def export_comments(request, slug: str):
    """Staff download of every comment (published and hidden) as CSV; ?question=N&objective=N."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not permissions.can_export(request.user):
        raise PermissionDenied("Only staff can export comments.")
    # Staff may export a consultation before it is published.
    consultation = get_object_or_404(Consultation, slug=slug)
    try:
        filters = {
            "question_number": _export_filter(request.GET.get("question"), "question"),
            "objective_number": _export_filter(request.GET.get("objective"), "objective"),
        }
        export.check_filters(consultation, **filters)
    except ValueError as exc:  # includes export.ExportFilterError
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(
        export.iter_csv(
            consultation, base_url=request.build_absolute_uri("/").rstrip("/"), **filters
        ),
        content_type="text/csv; charset=utf-8",
    )
    filename = export.csv_filename(consultation, **filters)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Names and organisations of participants: keep the file out of shared caches.
    response["Cache-Control"] = "private, no-store"
    return response
