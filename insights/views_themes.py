"""The staff pages of theme suggestions: pick a question and k, follow the run, accept a theme
as an analyst code or dismiss it (insights/themes.py does the work and checks permissions)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from consultations.models import Consultation

from . import themes
from .models import ThemeMember, ThemeRun, ThemeSuggestion
from .views import page_context, staff_only

# The most representative comments shown under each theme.
SHOWN_MEMBERS = 5
# The runs listed on the themes page, newest first.
LISTED_RUNS = 30


class ThemeRunForm(forms.Form):
    question = forms.TypedChoiceField(label=gettext_lazy("Question"), coerce=int)
    k = forms.IntegerField(
        label=gettext_lazy("Number of themes"),
        min_value=themes.MIN_K,
        max_value=themes.MAX_K,
        initial=themes.DEFAULT_K,
    )
    seed = forms.IntegerField(
        label=gettext_lazy("Seed"),
        min_value=0,
        max_value=themes.MAX_SEED,
        initial=0,
        help_text=gettext_lazy(
            "The same comments, number of themes and seed give the same themes. Another seed "
            "may group them differently."
        ),
    )

    def __init__(self, *args, consultation: Consultation, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = {q.number: q for q in consultation.questions.order_by("number")}
        self.fields["question"].choices = [
            (number, _("Question %(number)s: %(text)s") % {"number": number, "text": q.text[:90]})
            for number, q in self.questions.items()
        ]


def _runs(consultation: Consultation):
    return (
        ThemeRun.objects.filter(question__consultation=consultation)
        .select_related("question", "requested_by__profile")
        .order_by("-created_at", "-pk")[:LISTED_RUNS]
    )


def _mark_stalled(runs) -> list[ThemeRun]:
    now = timezone.now()
    runs = list(runs)
    for run in runs:
        run.stalled = themes.is_stalled(run, now)
    return runs


@require_http_methods(["GET", "POST"])
@staff_only
def theme_runs(request, consultation: Consultation):
    form = ThemeRunForm(request.POST or None, consultation=consultation)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            question = form.questions[form.cleaned_data["question"]]
            try:
                run, started = themes.start_run(
                    actor=request.user,
                    question=question,
                    k=form.cleaned_data["k"],
                    seed=form.cleaned_data["seed"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if not started:
                    messages.info(
                        request,
                        _("These themes are already being computed: here is that run."),
                    )
                return redirect("insights:theme_run", slug=consultation.slug, pk=run.pk)
        status = 400
    return render(
        request,
        "insights/themes.html",
        page_context(
            request,
            consultation,
            current="insights:themes",
            form=form,
            runs=_mark_stalled(_runs(consultation)),
            has_questions=bool(form.questions),
        ),
        status=status,
    )


def _run_context(request, consultation: Consultation, pk: int, **extra) -> dict:
    run = get_object_or_404(
        ThemeRun.objects.select_related("question", "requested_by__profile"),
        pk=pk,
        question__consultation=consultation,
    )
    run.stalled = themes.is_stalled(run)
    suggestions = []
    if run.state == ThemeRun.State.DONE:
        shown = ThemeMember.objects.select_related("comment__author__profile").order_by(
            "-weight", "comment_id"
        )
        suggestions = list(
            run.themes.select_related("code", "decided_by__profile")
            .annotate(member_count=Count("members"))
            .prefetch_related(Prefetch("members", queryset=shown[:SHOWN_MEMBERS], to_attr="shown"))
            .order_by("position")
        )
    names, errors = extra.pop("names", {}), extra.pop("theme_errors", {})
    for suggestion in suggestions:
        suggestion.name_value = names.get(suggestion.pk, themes.default_code_name(suggestion))
        suggestion.errors = errors.get(suggestion.pk, [])
    return page_context(
        request,
        consultation,
        current="insights:themes",
        run=run,
        suggestions=suggestions,
        in_progress=run.state in (ThemeRun.State.QUEUED, ThemeRun.State.RUNNING)
        and not run.stalled,
        code_name_max=themes.CODE_NAME_MAX,
        **extra,
    )


@require_http_methods(["GET"])
@staff_only
def theme_run(request, consultation: Consultation, pk: int):
    context = _run_context(request, consultation, pk)
    # The page reloads itself while the run is under way (no JavaScript needed); ?reload=off
    # stops that for whoever needs the page to hold still (WCAG 2.2.1: a timed refresh must
    # be possible to turn off; axe-core flags any meta refresh).
    context["auto_reload"] = context["in_progress"] and request.GET.get("reload") != "off"
    response = render(request, "insights/theme_run.html", context)
    if context["auto_reload"]:
        # The page reloads itself every 3 s while the run goes on, without JavaScript: the
        # Refresh header, which browsers follow as they do <meta http-equiv="refresh">.
        response["Refresh"] = "3"
    return response


def _suggestion(consultation: Consultation, pk: int, theme_pk: int) -> ThemeSuggestion:
    return get_object_or_404(
        ThemeSuggestion.objects.select_related("run__question__consultation"),
        pk=theme_pk,
        run_id=pk,
        run__question__consultation=consultation,
    )


def _already_decided(request, consultation: Consultation, pk: int, error: ValidationError):
    # Another staff member decided first (or the form was sent twice): the page shows how.
    for message in error.messages:
        messages.error(request, message)
    return redirect("insights:theme_run", slug=consultation.slug, pk=pk)


@require_POST
@staff_only
def theme_accept(request, consultation: Consultation, pk: int, theme_pk: int):
    suggestion = _suggestion(consultation, pk, theme_pk)
    name = request.POST.get("name", "")
    try:
        code = themes.accept_theme(request.user, suggestion, name)
    except ValidationError as error:
        if error.code == "decided":
            return _already_decided(request, consultation, pk, error)
        context = _run_context(
            request,
            consultation,
            pk,
            names={suggestion.pk: name},
            theme_errors={suggestion.pk: error.messages},
        )
        return render(request, "insights/theme_run.html", context, status=400)
    count = suggestion.members.count()
    messages.success(
        request,
        _("Theme %(position)s is now the code “%(code)s”, on %(count)s comments.")
        % {"position": suggestion.position, "code": code.name, "count": count},
    )
    return redirect("insights:theme_run", slug=consultation.slug, pk=pk)


@require_POST
@staff_only
def theme_dismiss(request, consultation: Consultation, pk: int, theme_pk: int):
    suggestion = _suggestion(consultation, pk, theme_pk)
    try:
        themes.dismiss_theme(request.user, suggestion)
    except ValidationError as error:
        return _already_decided(request, consultation, pk, error)
    messages.success(
        request, _("Theme %(position)s is dismissed.") % {"position": suggestion.position}
    )
    return redirect("insights:theme_run", slug=consultation.slug, pk=pk)
