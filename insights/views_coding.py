"""Analyst coding pages: the filtered comments list with a coding form per comment, the codes,
and the coding log (its CSV too). The writes are in insights/coding.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.db.models.functions import Lower
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from consultations import export
from consultations.models import Comment, Consultation, Objective

# The site's one pagination helper (links keep the list's parameters).
from consultations.views import _pagination

from . import coding
from .forms import CodeForm
from .models import Code, CodeAssignment, CodingAction, KeyQuote
from .views import page_context, staff_only

COMMENTS_PER_PAGE = 50
LOG_PER_PAGE = 50


def _codes_of(consultation: Consultation):
    return Code.objects.filter(consultation=consultation).order_by(Lower("name"), "pk")


def _listed_comments(comments):
    """What each row of the comments list shows, in a fixed number of queries: the author and
    profile, the question and the key-quote flag joined; objectives and codes prefetched."""
    return comments.select_related("author__profile", "question", "key_quote").prefetch_related(
        Prefetch("objectives", queryset=Objective.objects.order_by("number")),
        Prefetch(
            "code_assignments",
            queryset=CodeAssignment.objects.select_related("code").order_by(Lower("code__name")),
        ),
    )


def _coding_rows(comments, codes: list[Code], typed: dict | None = None) -> list[dict]:
    """One row per comment with its coding form's state: each code of the consultation,
    ticked or not, with its note (what was typed, after a refused save)."""
    rows = []
    for comment in comments:
        assigned = {a.code_id: a for a in comment.code_assignments.all()}
        mine = typed if typed is not None and typed["comment"] == comment.pk else None
        choices = []
        for code in codes:
            if mine is not None:
                checked = code.pk in mine["codes"]
                note = mine["notes"].get(code.pk, "")
            else:
                checked = code.pk in assigned
                note = assigned[code.pk].note if code.pk in assigned else ""
            choices.append({"code": code, "checked": checked, "note": note})
        key_quote = mine["key_quote"] if mine is not None else hasattr(comment, "key_quote_flag")
        rows.append(
            {
                "comment": comment,
                "assignments": list(assigned.values()),
                "choices": choices,
                "key_quote": key_quote,
            }
        )
    return rows


def _safe_next(request, fallback: str) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    # A path on this site only ("abc" would be taken for a view name by redirect()).
    if next_url.startswith("/") and url_has_allowed_host_and_scheme(
        next_url, {request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return fallback


def _key_quoted(comments) -> None:
    # A reverse one-to-one that is missing raises on access; a flag templates can test.
    for comment in comments:
        try:
            comment.key_quote  # noqa: B018 (joined by select_related)
        except KeyQuote.DoesNotExist:
            continue
        comment.key_quote_flag = True


@require_GET
@staff_only
def comments_list(request, consultation: Consultation):
    """The comments that pass the filters, 50 a page, each with its codes and a coding form."""
    context = page_context(request, consultation, current="insights:comments")
    filters = context["filters"]
    comments = _listed_comments(
        filters.apply(consultation).order_by("question__number", "tree_id", "lft")
    )
    paginator = Paginator(comments, COMMENTS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = page_comments = list(page.object_list)
    _key_quoted(page_comments)
    codes = list(_codes_of(consultation))
    base_url = reverse("insights:comments", kwargs={"slug": consultation.slug})
    context.update(
        page=page,
        total=paginator.count,
        rows=_coding_rows(page_comments, codes),
        codes=codes,
        pagination=_pagination(page, base_url, list(filters.as_params().items())),
        here=request.get_full_path(),
    )
    return render(request, "insights/comments.html", context)


def _typed_coding(request, comment: Comment, codes: list[Code]) -> dict:
    """The coding form as posted: ticked codes of the consultation, notes by code, the flag."""
    by_pk = {str(code.pk): code.pk for code in codes}
    ticked = {by_pk[value] for value in request.POST.getlist("code") if value in by_pk}
    notes = {code.pk: request.POST.get(f"note-{code.pk}", "") for code in codes}
    return {
        "comment": comment.pk,
        "codes": ticked,
        "notes": notes,
        "key_quote": request.POST.get("key_quote") == "1",
    }


@require_http_methods(["GET", "POST"])
@staff_only
def code_comment(request, consultation: Consultation, pk: int):
    """One comment's coding form: GET shows it alone; POST saves it (insights.coding.set_coding)
    and goes back to the list page it came from, or shows the form again with what was typed
    and why it was refused."""
    comment = get_object_or_404(
        _listed_comments(Comment.objects.filter(question__consultation=consultation)), pk=pk
    )
    _key_quoted([comment])
    codes = list(_codes_of(consultation))
    list_url = reverse("insights:comments", kwargs={"slug": consultation.slug})
    next_url = _safe_next(request, list_url)
    typed = None
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        typed = _typed_coding(request, comment, codes)
        try:
            actions = coding.set_coding(
                request.user,
                comment,
                codes=typed["codes"],
                notes=typed["notes"],
                key_quote=typed["key_quote"],
            )
        except ValidationError as exc:
            errors = exc.messages
            status = 400
        else:
            if actions:
                messages.success(
                    request,
                    ngettext(
                        "Coding of comment #%(pk)s saved (%(count)s change).",
                        "Coding of comment #%(pk)s saved (%(count)s changes).",
                        len(actions),
                    )
                    % {"pk": comment.pk, "count": len(actions)},
                )
            else:
                messages.info(
                    request, _("Nothing changed in the coding of comment #%(pk)s.") % {"pk": pk}
                )
            return redirect(f"{next_url.split('#')[0]}#{comment.anchor}")
    context = page_context(
        request,
        consultation,
        current="insights:comments",
        row=_coding_rows([comment], codes, typed)[0],
        codes=codes,
        errors=errors,
        next_url=next_url,
    )
    return render(request, "insights/code_comment.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_only
def codes_list(request, consultation: Consultation):
    """The consultation's codes with how many comments carry each, and a form to add one."""
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            code = coding.create_code(
                request.user,
                consultation,
                form.cleaned_data["name"],
                form.cleaned_data["description"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("The code “%(name)s” was added.") % {"name": code.name})
            return redirect("insights:codes", slug=consultation.slug)
    codes = _codes_of(consultation).annotate(comment_count=Count("assignments"))
    context = page_context(request, consultation, current="insights:codes", codes=codes, form=form)
    status = 400 if form.is_bound else 200
    return render(request, "insights/codes.html", context, status=status)


def _form_errors(form, exc: ValidationError) -> None:
    """A service's refusal shown on the field it is about."""
    for error in exc.error_list:
        field = "description" if (error.code or "").startswith("description") else "name"
        form.add_error(field, error)


@require_http_methods(["GET", "POST"])
@staff_only
def code_edit(request, consultation: Consultation, code_id: int):
    code = get_object_or_404(Code, pk=code_id, consultation=consultation)
    form = CodeForm(
        request.POST or None, initial={"name": code.name, "description": code.description}
    )
    if request.method == "POST" and form.is_valid():
        try:
            code = coding.update_code(
                request.user, code, form.cleaned_data["name"], form.cleaned_data["description"]
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("The code “%(name)s” was saved.") % {"name": code.name})
            return redirect("insights:codes", slug=consultation.slug)
    context = page_context(request, consultation, current="insights:codes", code=code, form=form)
    status = 400 if form.is_bound else 200
    return render(request, "insights/code_edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_only
def code_delete(request, consultation: Consultation, code_id: int):
    code = get_object_or_404(
        Code.objects.annotate(comment_count=Count("assignments")),
        pk=code_id,
        consultation=consultation,
    )
    if request.method == "POST":
        name = code.name
        coding.delete_code(request.user, code)
        messages.success(request, _("The code “%(name)s” was deleted.") % {"name": name})
        return redirect("insights:codes", slug=consultation.slug)
    context = page_context(request, consultation, current="insights:codes", code=code)
    return render(request, "insights/code_delete.html", context)


def _log_actions(consultation: Consultation):
    return CodingAction.objects.filter(consultation=consultation).select_related(
        "actor__profile", "comment__question"
    )


@require_GET
@staff_only
def coding_log(request, consultation: Consultation):
    """Every coding change of the consultation, newest first."""
    paginator = Paginator(_log_actions(consultation), LOG_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    base_url = reverse("insights:log", kwargs={"slug": consultation.slug})
    context = page_context(
        request,
        consultation,
        current="insights:log",
        page=page,
        pagination=_pagination(page, base_url, []),
    )
    return render(request, "insights/log.html", context)


LOG_CSV_COLUMNS = [
    "id",
    "when",
    "staff",
    "action",
    "code",
    "note",
    "comment_id",
    "question_number",
    "url",
]


@require_GET
@staff_only
def coding_log_csv(request, consultation: Consultation):
    """The coding log as CSV (UTF-8 with BOM, formulas neutralised like the comments CSV)."""
    base = request.build_absolute_uri("/").rstrip("/")

    def rows():
        for action in _log_actions(consultation).iterator(chunk_size=export.CHUNK_SIZE):
            comment = action.comment
            row = [
                action.pk,
                export._iso_utc(action.created_at),
                action.actor.display_name,
                action.get_kind_display(),
                action.code_name,
                action.note,
                comment.pk if comment else "",
                comment.question.number if comment else "",
                base + comment.get_absolute_url() if comment else "",
            ]
            yield [export._neutralise(value) for value in row]

    response = StreamingHttpResponse(
        export._csv_lines(LOG_CSV_COLUMNS, rows()), content_type="text/csv; charset=utf-8"
    )
    filename = f"{consultation.slug}-coding-log-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
