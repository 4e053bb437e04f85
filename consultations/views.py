"""Consultation pages: read, post and reply; edit, delete and report; moderate; export; the
open-data file (its public download and the staff page that builds it)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag, url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from accounts.models import StakeholderType
from insights import xlsx
from notifications import follows, visits

from . import attachments, export, notices, open_data, permissions, search, selectors, services
from .forms import CommentForm, HideForm, ModerationNoteForm, ReportForm
from .models import Attachment, Comment, Consultation, ConsultationState, Licence, OpenDataFile
from .sanitize import editable_text


def _objective_number(raw: str | None) -> tuple[int | None, str]:
    """The ?objective=N filter, or an explanation of why it is ignored."""
    if raw in (None, ""):
        return None, ""
    try:
        number = int(raw)
    except ValueError:
        number = None
    if number is None or not 1 <= number <= 23:
        message = _("There is no GCM objective “%(value)s”. Showing all comments.")
        return None, message % {"value": raw}
    return number, ""


def _stakeholder_type(raw: str | None) -> tuple[str | None, str]:
    """The ?stakeholder=TYPE filter, or an explanation of why it is ignored."""
    if raw in (None, ""):
        return None, ""
    if raw in StakeholderType.values:
        return raw, ""
    message = _("There is no stakeholder type “%(value)s”. Showing comments from all stakeholders.")
    return None, message % {"value": raw}


def _comment_filters(params) -> tuple[int | None, str | None, list[str]]:
    """?objective=N&stakeholder=TYPE: the values to filter by, and why any is ignored."""
    number, objective_error = _objective_number(params.get("objective"))
    stakeholder_type, stakeholder_error = _stakeholder_type(params.get("stakeholder"))
    return number, stakeholder_type, [e for e in (objective_error, stakeholder_error) if e]


@require_GET
def consultation_detail(request, slug: str):
    """The consultation and its questions' threads; with ?objective=N and/or ?stakeholder=TYPE,
    a paged list (?page) of the matching comments under their questions."""
    number, stakeholder_type, filter_errors = _comment_filters(request.GET)
    page = selectors.consultation_page(
        slug=slug,
        objective_number=number,
        stakeholder_type=stakeholder_type,
        page_number=request.GET.get("page"),
        viewer=request.user,
    )
    consultation = page.consultation
    page_messages, confirmation = notices.split_messages(request, page)
    pagination = None
    if page.filtered:
        pagination = _pagination(
            page.page, consultation.get_absolute_url(), page.filters.params, fragment="#questions"
        )
    # The Follow buttons: the consultation's and each question's, in one query.
    following, followed_questions = follows.followed_on_page(request.user, consultation)
    for block in page.questions:
        block.following = block.question.pk in followed_questions
    new_since = visits.record(request.user, consultation)
    closed = consultation.state == ConsultationState.CLOSED
    return render(
        request,
        "consultations/consultation_detail.html",
        {
            "page": page,
            "consultation": consultation,
            "can_post": permissions.can_post(request.user, consultation),
            "email_verified": permissions.has_verified_email(request.user),
            "filter_errors": filter_errors,
            "stakeholder_types": StakeholderType.choices,
            "pagination": pagination,
            "can_export": permissions.can_export(request.user),
            "attachment_help": attachments.limits_help(),
            "following": following,
            "new_since": new_since,
            # The confirmation of a post or edit shows in the comment; base.html shows the rest.
            "messages": page_messages,
            "confirmation": confirmation,
            # Once closed, the open-data file (or word that it is on its way); before, nothing.
            "closed": closed,
            "open_data": _current_open_data(consultation) if closed else None,
        },
    )


@require_GET
def consultation_search(request, slug: str):
    """Comments and questions of a consultation matching ?q=, with optional filters."""
    consultation = search.consultation_for_search(slug)
    query = search.normalise_query(request.GET.get("q", ""))
    filters, filter_errors = search.parse_filters(request.GET, consultation)
    results = search.search_comments(consultation, query, filters, page=request.GET.get("page"))
    # The filters again for the page links, without the page number.
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "consultations/search.html",
        {
            "consultation": consultation,
            "query": query,
            "results": results,
            "filters": filters,
            "filter_errors": filter_errors,
            "questions": consultation.questions.order_by("number"),
            "objectives": selectors.all_objectives(),
            "stakeholder_types": StakeholderType.choices,
            "page_query": params.urlencode(),
        },
    )


def _page_href(base_url: str, number: int, params: list[tuple[str, str]], fragment: str) -> str:
    # The list's parameters (sort, filters) are kept across pages; page 1 has no number.
    query = urlencode([*params, *[("page", number)] * (number > 1)])
    return f"{base_url}?{query}{fragment}" if query else f"{base_url}{fragment}"


def _pagination(
    page, base_url: str, params: list[tuple[str, str]], *, fragment: str = ""
) -> dict | None:
    """Links to the pages of a list: previous, next, and the numbers around the current one."""
    if page is None or page.paginator.num_pages < 2:
        return None
    paginator = page.paginator

    def href(number: int) -> str:
        return _page_href(base_url, number, params, fragment)

    return {
        "number": page.number,
        "count": paginator.num_pages,
        "previous": href(page.number - 1) if page.has_previous() else "",
        "next": href(page.number + 1) if page.has_next() else "",
        "links": [
            (n, href(n) if n != paginator.ELLIPSIS else "")
            for n in paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
        ],
    }


@require_GET
def question_detail(request, slug: str, number: int):
    """A question's page: its form, then its top-level threads paged and sorted (?page, ?sort),
    or one thread in full (?thread=ID), or its comments matching ?objective=N and/or
    ?stakeholder=TYPE, paged, oldest first."""
    objective_number, stakeholder_type, filter_errors = _comment_filters(request.GET)
    page = selectors.question_page(
        slug=slug,
        number=number,
        page_number=request.GET.get("page"),
        sort=request.GET.get("sort"),
        thread_id=request.GET.get("thread"),
        objective_number=objective_number,
        stakeholder_type=stakeholder_type,
        viewer=request.user,
    )
    consultation = page.consultation
    page_messages, confirmation = notices.split_messages(request, page)
    base_url = selectors.question_url(page.question)
    if page.filtered:
        params = page.filters.params
    elif page.thread is not None:
        params = [("thread", str(page.thread.pk))]
    else:
        params = [("sort", page.sort)] * (page.sort != selectors.SORTS[0])
    following = follows.followed_on_page(request.user, consultation)[1]
    new_since = visits.record(request.user, consultation)
    return render(
        request,
        "consultations/question_detail.html",
        {
            "page": page,
            "consultation": consultation,
            "question": page.question,
            "stats": page.block,
            "question_url": base_url,
            "pagination": _pagination(page.page, base_url, params),
            "filter_errors": filter_errors,
            "stakeholder_types": StakeholderType.choices,
            "sorts": [
                ("oldest", _("Oldest first")),
                ("newest", _("Newest first")),
                ("replies", _("Most replies")),
                ("activity", _("Latest activity")),
            ],
            "can_post": permissions.can_post(request.user, consultation),
            "email_verified": permissions.has_verified_email(request.user),
            "attachment_help": attachments.limits_help(),
            "following": page.question.pk in following,
            "new_since": new_since,
            "messages": page_messages,
            "confirmation": confirmation,
        },
    )


@require_GET
def comment_permalink(request, pk: int):
    """A comment's lasting address: to the page that shows it now (which may change)."""
    return redirect(selectors.comment_location(pk))


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
        request.FILES if request.method == "POST" else None,
        question=question,
        initial={"parent": parent.pk if parent else ""},
    )

    refusal, rate_limited, duplicate_of = "", False, None
    posting_refusal = permissions.posting_refusal(request.user, consultation)
    if posting_refusal is not None:
        refusal = str(posting_refusal)
    elif request.method == "POST":
        # Before the form is validated: a flood of posts costs a query each, no parsing.
        try:
            services.check_rate_limit(author=request.user)
        except services.RateLimited as exc:
            rate_limited = True
            form.add_error(None, str(exc))

    if request.method == "POST" and not refusal and not rate_limited and form.is_valid():
        try:
            comment = services.comment_create(
                question=question,
                author=request.user,
                body=form.cleaned_data["body"],
                objectives=form.cleaned_data["objectives"],
                parent=form.cleaned_data["parent"],
                attachments=form.cleaned_data["attachments"],
            )
        except services.RateLimited as exc:
            rate_limited = True
            form.add_error(None, str(exc))
        except PermissionDenied as exc:
            refusal = str(exc)
        except services.DuplicateComment as exc:
            duplicate_of = exc.existing
            form.add_error(None, exc)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            notices.confirm_beside(request, comment, _("Your comment has been posted."))
            return redirect(comment.get_absolute_url())

    if request.method == "GET":
        status = 200
    elif rate_limited:
        status = 429
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
            "duplicate_of": duplicate_of,
            "rate_limited": rate_limited,
            "email_verified": permissions.has_verified_email(request.user),
            "objectives": selectors.all_objectives(),
            "action": reverse("consultations:comment", args=[consultation.slug, question.number]),
        },
        status=status,
    )


@require_GET
def attachment_download(request, pk: int):
    """A comment's file, always as a download. Files of hidden or deleted comments, or of an
    unpublished consultation, only for moderators and staff; others get a 404 (not a 403, which
    would confirm the file exists)."""
    attachment = get_object_or_404(
        Attachment.objects.select_related("comment__question__consultation"), pk=pk
    )
    comment = attachment.comment
    public = comment.is_visible and comment.question.consultation.is_published
    if not permissions.can_download(request.user, attachment):
        raise Http404(_("No such file."))
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("No such file.")) from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.download_name,
        content_type=attachment.content_type,  # the type detected on upload
    )
    # Set here, not left to the middleware: a browser must never sniff an upload into HTML.
    response["X-Content-Type-Options"] = "nosniff"
    # Should a browser render it anyway, it gets no script and no access to the site's origin.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Never kept anywhere when withheld. A public file may be hidden or deleted at any time, so
    # it is kept briefly, and only by the browser: no shared cache would drop it on hiding.
    response["Cache-Control"] = "private, max-age=300" if public else "private, no-store"
    return response


def _comment(pk: int, *, published_consultation: bool = True) -> Comment:
    comments = Comment.objects.select_related("question__consultation", "author__profile")
    if published_consultation:
        comments = comments.filter(question__consultation__is_published=True)
    return get_object_or_404(comments, pk=pk)


def _moderator_only(request) -> None:
    if not permissions.can_moderate(request.user):
        raise PermissionDenied(_("Only moderators can see this page."))


@login_required
@require_http_methods(["GET", "POST"])
def comment_edit(request, pk: int):
    """The author edits a comment while the consultation is open; moderators at any time."""
    comment = _comment(pk, published_consultation=False)
    if not permissions.can_edit(request.user, comment):
        raise PermissionDenied(_("You can edit your own comment while the consultation is open."))
    by_moderator = request.user.pk != comment.author_id
    data = request.POST if request.method == "POST" else None
    form = CommentForm(
        data,
        question=comment.question,
        initial={
            "body": editable_text(comment.body),
            "objectives": list(comment.objectives.values_list("number", flat=True)),
        },
    )
    note_form = ModerationNoteForm(data) if by_moderator else None
    if data is not None and form.is_valid() and (note_form is None or note_form.is_valid()):
        try:
            services.comment_edit(
                comment=comment,
                by=request.user,
                body=form.cleaned_data["body"],
                objectives=form.cleaned_data["objectives"],
                note=note_form.cleaned_data["note"] if note_form else "",
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            notices.confirm_beside(request, comment, _("Your changes have been saved."))
            return redirect(comment.get_absolute_url())
    return render(
        request,
        "consultations/comment_edit.html",
        {
            "comment": comment,
            "question": comment.question,
            "consultation": comment.question.consultation,
            "form": form,
            "note_form": note_form,
            "objectives": selectors.all_objectives(),
        },
        status=400 if data is not None else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def comment_delete(request, pk: int):
    """The author withdraws a comment after confirming; its replies stay in place."""
    comment = _comment(pk, published_consultation=False)
    if not permissions.can_delete(request.user, comment):
        raise PermissionDenied(_("Only the author can delete a comment."))
    if request.method == "POST":
        services.comment_delete(comment=comment, by=request.user)
        messages.success(request, _("Your comment has been deleted. Replies to it stay in place."))
        return redirect(comment.get_absolute_url())
    return render(
        request,
        "consultations/comment_delete.html",
        {"comment": comment, "question": comment.question},
    )


@login_required
@require_http_methods(["GET", "POST"])
def comment_report(request, pk: int):
    """Any logged-in user reports a comment to the moderators, once, with a reason."""
    comment = _comment(pk)
    form = ReportForm(request.POST if request.method == "POST" else None)
    refusal = permissions.report_refusal(request.user, comment)
    if not refusal and request.method == "POST" and form.is_valid():
        try:
            services.comment_report(
                comment=comment,
                reporter=request.user,
                reason=form.cleaned_data["reason"],
                details=form.cleaned_data["details"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Thank you. The moderators will review this comment."))
            return redirect(comment.get_absolute_url())
    if refusal:
        status = 403
    else:
        status = 400 if request.method == "POST" else 200
    return render(
        request,
        "consultations/comment_report.html",
        {"comment": comment, "question": comment.question, "form": form, "refusal": refusal},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def comment_moderate(request, pk: int):
    """A moderator's view of one comment: reports, hide or restore, versions and log."""
    _moderator_only(request)
    comment = _comment(pk, published_consultation=False)
    action = request.POST.get("action") if request.method == "POST" else None
    hide_form = HideForm(request.POST if action == "hide" else None)
    note_form = ModerationNoteForm(request.POST if action == "restore" else None)
    if action:
        try:
            if action == "hide" and hide_form.is_valid():
                services.comment_hide(comment=comment, by=request.user, **hide_form.cleaned_data)
                messages.success(request, _("The comment is hidden and its author has been told."))
            elif action == "restore" and note_form.is_valid():
                services.comment_restore(comment=comment, by=request.user, **note_form.cleaned_data)
                messages.success(request, _("The comment is shown again."))
            elif action == "dismiss":
                # A report of this comment; any other id, or none, or not a number, is answered
                # with a message on the page rather than an error.
                report_id = request.POST.get("report", "")
                report = None
                if report_id.isascii() and report_id.isdigit():
                    report = comment.reports.filter(pk=int(report_id)).first()
                if report is None:
                    messages.error(request, _("That report does not exist."))
                else:
                    services.report_dismiss(report=report, by=request.user)
                    messages.success(request, _("The report has been dismissed."))
            else:
                action = None  # an invalid form: show it again with its errors
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        if action:
            next_url = request.POST.get("next", "")
            if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
                next_url = reverse("consultations:moderate", args=[comment.pk])
            return redirect(next_url)
    context = {
        "comment": comment,
        "question": comment.question,
        "hide_form": hide_form,
        "note_form": note_form,
        "reports": comment.reports.select_related("reporter__profile", "resolved_by__profile"),
        "revisions": comment.revisions.select_related("edited_by__profile"),
        "actions": comment.moderation_actions.select_related("actor__profile"),
        "objectives": comment.objectives.all(),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "consultations/comment_moderate.html", context, status=status)


@login_required
@require_GET
def moderation_queue(request):
    """Reported comments awaiting a decision, most recently reported first."""
    _moderator_only(request)
    return render(
        request,
        "consultations/moderation_queue.html",
        {"comments": selectors.reported_comments()},
    )


@login_required
@require_GET
def moderation_log_csv(request):
    """Every moderation action as CSV, for moderators."""
    _moderator_only(request)
    response = StreamingHttpResponse(
        export.iter_moderation_log_csv(base_url=request.build_absolute_uri("/").rstrip("/")),
        content_type="text/csv; charset=utf-8",
    )
    filename = f"moderation-log-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def export_refused(request, consultation: Consultation, error) -> HttpResponse:
    """The 400 page of a download refused for its filters, listing every bad value."""
    return render(
        request,
        "consultations/export_error.html",
        {"consultation": consultation, "errors": error.messages},
        status=400,
    )


@require_GET
def export_comments(request, slug: str):
    """Staff download of a consultation's comments as CSV.

    The staff filters of the insights pages narrow it (insights.filters: ?question=N&objective=N
    &stakeholder_type=...&q=...); ?hidden=0 leaves out comments hidden by moderators.
    """
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not permissions.can_export(request.user):
        raise PermissionDenied(_("Only staff can export comments."))
    # Staff may export a consultation before it is published.
    consultation = get_object_or_404(Consultation, slug=slug)
    try:
        filters = export.filters_from_query(consultation, request.GET)
    except export.ExportFilterError as exc:
        return export_refused(request, consultation, exc)
    response = StreamingHttpResponse(
        export.iter_csv(
            consultation, filters, base_url=request.build_absolute_uri("/").rstrip("/")
        ),
        content_type="text/csv; charset=utf-8",
    )
    filename = export.csv_filename(consultation, filters)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Names and organisations of participants: keep the file out of shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def export_comments_xlsx(request, slug: str):
    """Staff download of a consultation's comments as XLSX (insights/xlsx.py): the CSV's rows
    for the same filters, with the attachments' text, and sheets of totals and matrices."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not permissions.can_export(request.user):
        raise PermissionDenied(_("Only staff can export comments."))
    consultation = get_object_or_404(Consultation, slug=slug)
    try:
        filters = export.filters_from_query(consultation, request.GET)
    except export.ExportFilterError as exc:
        return export_refused(request, consultation, exc)
    # A zip is written whole before it can be read: made in a temporary file, then streamed.
    file = xlsx.xlsx_file(
        consultation, filters, base_url=request.build_absolute_uri("/").rstrip("/")
    )
    response = FileResponse(
        file,
        as_attachment=True,
        filename=xlsx.xlsx_filename(consultation, filters),
        content_type=xlsx.CONTENT_TYPE,
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _current_open_data(consultation: Consultation) -> OpenDataFile | None:
    """The consultation's open-data file if one was built (a build may be under way)."""
    return OpenDataFile.objects.filter(consultation=consultation).exclude(file="").first()


@require_safe
def open_data_download(request, slug: str):
    """The open-data ZIP of a published consultation, at a URL that stays the same from build
    to build (consultations/open_data.py). Its ETag is the file's SHA-256, so a client that has
    it gets 304 until the next build."""
    consultation = get_object_or_404(Consultation.objects.published(), slug=slug)
    # A build finishing now may delete the file just read: the new row names its successor.
    for _attempt in range(2):
        record = _current_open_data(consultation)
        if record is None:
            break
        etag = quote_etag(record.sha256)
        last_modified = http_date(record.built_at.timestamp())
        not_modified = get_conditional_response(
            request, etag=etag, last_modified=int(record.built_at.timestamp())
        )
        if not_modified is not None:
            response = not_modified
        else:
            try:
                handle = default_storage.open(record.file.name, "rb")
            except FileNotFoundError:
                continue
            response = FileResponse(
                handle,
                as_attachment=True,
                filename=open_data.download_name(consultation),
                content_type=open_data.CONTENT_TYPE,
            )
        response["ETag"] = etag
        response["Last-Modified"] = last_modified
        # Public data, but a rebuild (a comment hidden since) must reach readers: caches keep
        # it and ask again each time (a 304 while the ETag holds).
        response["Cache-Control"] = "public, no-cache"
        return response
    return render(
        request,
        "consultations/open_data_missing.html",
        {"consultation": consultation},
        status=404,
    )


@require_http_methods(["GET", "POST"])
def open_data_manage(request, slug: str):
    """Staff: the state of the consultation's open-data file, and a button that builds it (again)
    in the background, e.g. after moderators hid comments since the last build."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not permissions.can_export(request.user):
        raise PermissionDenied(_("Only staff can build a consultation's open-data file."))
    consultation = get_object_or_404(Consultation, slug=slug)
    if request.method == "POST":
        # The service checks the permission again.
        _record, queued = open_data.request_build(consultation=consultation, by=request.user)
        if queued:
            messages.success(
                request,
                _("The open-data file is being built. Reload this page to see when it is ready."),
            )
        else:
            messages.info(request, _("A build of the open-data file is already waiting to run."))
        return redirect("consultations:open_data_manage", slug=consultation.slug)
    record = OpenDataFile.objects.filter(consultation=consultation).first()
    return render(
        request,
        "consultations/open_data_manage.html",
        {
            "consultation": consultation,
            "record": record,
            "licence": Licence(consultation.licence),
            "admin_url": reverse("admin:consultations_consultation_change", args=[consultation.pk]),
        },
    )
