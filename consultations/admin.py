"""Moderators' admin: consultations with their questions, and comments as reply trees."""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from mptt.admin import MPTTModelAdmin

from accounts.models import User

from . import open_data, search, services
from .models import (
    Comment,
    CommentRevision,
    Consultation,
    ModerationAction,
    ModerationReason,
    Objective,
    Question,
    Report,
)
from .sanitize import sanitize_description


@admin.register(Objective)
class ObjectiveAdmin(admin.ModelAdmin):
    list_display = ("number", "short_title", "title")
    search_fields = ("title", "short_title")

    # The 23 objectives come from a migration; they are read-only here.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class QuestionInlineForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = ("number", "text", "created_at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left blank, the formset gives the next free number (QuestionFormSet.clean).
        self.fields["number"].required = False
        self.fields["number"].help_text = gettext("Left blank: the next number.")


class QuestionFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """Number the questions left without one after the highest number in use."""
        # Saved questions count even when unchanged; untouched empty rows do not.
        forms_kept = [
            f
            for f in self.forms
            if hasattr(f, "cleaned_data")
            and (f.instance.pk or f.has_changed())
            and not self._should_delete_form(f)
        ]
        used = {f.cleaned_data.get("number") for f in forms_kept} - {None}
        if self.instance.pk:
            used |= set(
                self.instance.questions.exclude(
                    pk__in=[f.instance.pk for f in self.forms if f.instance.pk]
                ).values_list("number", flat=True)
            )
        following = max(used, default=0) + 1
        for form in forms_kept:
            if form.cleaned_data.get("number") is None:
                form.cleaned_data["number"] = form.instance.number = following
                following += 1
        super().clean()


class QuestionInline(admin.StackedInline):
    model = Question
    form = QuestionInlineForm
    formset = QuestionFormSet
    fields = ("number", "text", "created_by", "created_at")
    readonly_fields = ("created_by",)
    ordering = ("number",)

    def get_queryset(self, request):
        # created_by is shown by its name (User.__str__ reads the profile).
        return super().get_queryset(request).select_related("created_by__profile")

    def get_extra(self, request, obj=None, **kwargs):
        # A new consultation usually gets a few questions at once; a saved one, one more.
        return 3 if obj is None else 1

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        numbers = obj.questions.values_list("number", flat=True) if obj is not None else []
        first = max(numbers, default=0) + 1
        initial = [{"number": first + i} for i in range(formset.extra)]

        class NumberedQuestionFormSet(formset):
            # The empty rows come numbered in order: 1, 2, 3 or the next after the last.
            def __init__(self, *args, **kwargs):
                kwargs.setdefault("initial", initial)
                super().__init__(*args, **kwargs)

        return NumberedQuestionFormSet


class ConsultationAdminForm(forms.ModelForm):
    class Meta:
        model = Consultation
        fields = (
            "title",
            "slug",
            "description",
            "is_published",
            "language",
            "opens_at",
            "closes_at",
            "objectives",
            "moderators",
            "licence",
        )
        widgets = {"description": forms.Textarea(attrs={"rows": 12})}

    def clean_description(self) -> str:
        # Rich text is sanitised once, on write, like comment bodies.
        return sanitize_description(self.cleaned_data["description"])


@admin.register(Consultation)
class ConsultationAdmin(admin.ModelAdmin):
    form = ConsultationAdminForm
    list_display = ("title", "state_label", "opens_at", "closes_at", "is_published", "comments")
    list_filter = ("is_published",)
    search_fields = ("title", "description")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("objectives", "moderators")
    readonly_fields = ("links", "open_data_link")
    fieldsets = (
        (None, {"fields": ("title", "slug", "language", "description", "is_published", "links")}),
        (_("Period"), {"fields": ("opens_at", "closes_at")}),
        (_("Focus and moderation"), {"fields": ("objectives", "moderators")}),
        (_("Open data"), {"fields": ("licence", "open_data_link")}),
    )
    inlines = (QuestionInline,)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                admin_comment_count=Count(
                    "questions__comments",
                    filter=Q(questions__comments__status=Comment.Status.PUBLISHED),
                )
            )
        )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "moderators":
            kwargs["queryset"] = User.objects.filter(is_staff=True).select_related("profile")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("State"))
    def state_label(self, obj: Consultation) -> str:
        return obj.state.label

    @admin.display(description=_("Published comments"), ordering="admin_comment_count")
    def comments(self, obj: Consultation) -> int:
        return obj.admin_comment_count

    @admin.display(description=_("Links"))
    def links(self, obj: Consultation) -> str:
        if not obj.pk:
            return gettext("Available once saved.")
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            obj.get_absolute_url(),
            gettext("View on site"),
            reverse("consultations:export", args=[obj.slug]),
            gettext("Download comments (CSV)"),
        )

    @admin.display(description=_("Open-data file"))
    def open_data_link(self, obj: Consultation) -> str:
        # The staff page shows the file's state and builds it (a POST form of its own: a form
        # cannot sit inside the admin's).
        if not obj.pk:
            return gettext("Available once saved.")
        return format_html(
            '<a href="{}">{}</a>',
            reverse("consultations:open_data_manage", args=[obj.slug]),
            gettext("See its state, or build it now"),
        )

    # A deleted consultation's open-data file goes with it (its row is deleted by the cascade).
    def delete_model(self, request, obj):
        with transaction.atomic():
            open_data.forget_files([obj.pk])
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            open_data.forget_files(list(queryset.values_list("pk", flat=True)))
            super().delete_queryset(request, queryset)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "language" in form.changed_data:
            # The comments' search vectors were built with the old language's stemming.
            search.index_consultation(obj)

    # After the admin's own "was added/changed successfully" message.
    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        self._view_on_site_message(request, obj)
        return response

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        self._view_on_site_message(request, obj)
        return response

    def _view_on_site_message(self, request, obj: Consultation) -> None:
        """After a save, the way to the page participants see (only published ones are shown)."""
        if obj.is_published:
            message = format_html(
                '{} <a href="{}">{}</a>',
                gettext("Participants see it at"),
                obj.get_absolute_url(),
                gettext("View on site"),
            )
        else:
            message = gettext("Not published: participants will see it once it is published.")
        self.message_user(request, message, messages.INFO)

    def save_formset(self, request, form, formset, change):
        questions = formset.save(commit=False)
        for question in questions:
            if isinstance(question, Question) and question.created_by_id is None:
                question.created_by = request.user
            question.save()
        for deleted in formset.deleted_objects:
            deleted.delete()
        formset.save_m2m()


class QuestionFilter(admin.SimpleListFilter):
    """Questions labelled with their consultation: numbers repeat across consultations."""

    title = _("question")
    parameter_name = "question"

    def lookups(self, request, model_admin):
        questions = Question.objects.select_related("consultation").order_by(
            "consultation__title", "number"
        )
        # Not a number: the consultation filter itself reports the incorrect lookup.
        consultation = _as_id(request.GET.get("question__consultation__id__exact"))
        if consultation is not None:
            questions = questions.filter(consultation_id=consultation)
        return [(q.pk, _question_label(q)) for q in questions]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        question = _as_id(self.value())
        if question is None:
            # The admin then shows the whole list, flagged as filtered wrongly (?e=1).
            raise IncorrectLookupParameters(f"question={self.value()!r} is not an id")
        return queryset.filter(question_id=question)


def _as_id(value: str | None) -> int | None:
    """A primary key from the query string, or None for anything that is not a plain number."""
    if value is None or not (value.isascii() and value.isdigit()):
        return None
    return int(value)


def _question_label(question: Question) -> str:
    return gettext("%(consultation)s · Q%(number)s") % {
        "consultation": question.consultation.title,
        "number": question.number,
    }


@admin.register(Comment)
class CommentAdmin(MPTTModelAdmin):
    list_display = ("excerpt", "author_name", "question_label", "status", "posted")
    list_filter = (
        ("question__consultation", admin.RelatedOnlyFieldListFilter),
        QuestionFilter,
        ("objectives", admin.RelatedOnlyFieldListFilter),
        "status",
    )
    list_select_related = ("author__profile", "question__consultation")
    search_fields = ("body", "author__email", "author__profile__display_name")
    mptt_level_indent = 24
    mptt_indent_field = "excerpt"
    actions = (
        "hide_as_spam",
        "hide_as_offensive",
        "hide_as_off_topic",
        "hide_other",
        "restore_comments",
    )
    fields = (
        "question",
        "parent",
        "author",
        "created_at",
        "updated_at",
        "rendered_body",
        "objectives",
        "status",
        "move_link",
    )
    # Only the objective tags are edited here; status changes through the hide/publish actions.
    readonly_fields = tuple(field for field in fields if field != "objectives")
    filter_horizontal = ("objectives",)
    list_per_page = 100

    # Comments are posted on the site, by their authors.
    def has_add_permission(self, request):
        return False

    # The only field edited here, the objectives, changes through the service like any
    # moderator's edit: a revision and a moderation log entry, and updated_at.
    def save_model(self, request, obj, form, change):
        pass  # nothing of the row itself is editable here

    def save_related(self, request, form, formsets, change):
        services.comment_set_objectives(
            comment=form.instance,
            by=request.user,
            objectives=form.cleaned_data["objectives"],
            note=gettext("Objectives changed in the admin."),
        )

    @admin.display(description=_("Comment"))
    def excerpt(self, obj: Comment) -> str:
        text = obj.body_text
        return text if len(text) <= 90 else text[:89] + "…"

    @admin.display(description=_("Author"), ordering="author__profile__display_name")
    def author_name(self, obj: Comment) -> str:
        return obj.author.display_name

    @admin.display(description=_("Question"), ordering="question__number")
    def question_label(self, obj: Comment) -> str:
        # Short in the list (the full name in its title): the excerpt needs the width.
        title = obj.question.consultation.title
        return format_html(
            '<span title="{}">Q{} · {}</span>',
            _question_label(obj.question),
            obj.question.number,
            Truncator(title).chars(24),
        )

    @admin.display(description=_("Posted"), ordering="created_at")
    def posted(self, obj: Comment) -> str:
        # A fixed-width, sortable form ("2026-11-05 14:32") that never wraps or truncates.
        return timezone.localtime(obj.created_at).strftime("%Y-%m-%d %H:%M")

    class Media:
        css = {"all": ["css/admin.css"]}

    def changelist_view(self, request, extra_context=None):
        # Beside the filters, the navigation sidebar would leave the columns half the width.
        extra_context = {**(extra_context or {}), "is_nav_sidebar_enabled": False}
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("Body"))
    def rendered_body(self, obj: Comment) -> str:
        # The stored body was sanitised on write; it is shown as the page shows it.
        return format_html('<div class="comment-body">{}</div>', mark_safe(obj.body))  # noqa: S308

    def _moderate(self, request, queryset, action, done_message) -> None:
        """done_message(count) -> the message once the action has run on count comments."""
        done, skipped = 0, []
        for comment in queryset:
            try:
                action(comment=comment, by=request.user)
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return
            except ValidationError as exc:
                skipped.append(f"#{comment.pk}: {' '.join(exc.messages)}")
            else:
                done += 1
        self.message_user(request, done_message(done) % {"count": done})
        if skipped:
            self.message_user(
                request,
                gettext("Skipped %(comments)s") % {"comments": "; ".join(skipped)},
                messages.WARNING,
            )

    def _hide(self, request, queryset, reason: str) -> None:
        self._moderate(
            request,
            queryset,
            partial(services.comment_hide, reason=reason),
            lambda n: ngettext("%(count)s comment hidden.", "%(count)s comments hidden.", n),
        )

    @admin.action(description=_("Hide selected comments as spam"), permissions=["change"])
    def hide_as_spam(self, request, queryset):
        self._hide(request, queryset, ModerationReason.SPAM)

    @admin.action(description=_("Hide selected comments as offensive"), permissions=["change"])
    def hide_as_offensive(self, request, queryset):
        self._hide(request, queryset, ModerationReason.OFFENSIVE)

    @admin.action(description=_("Hide selected comments as off-topic"), permissions=["change"])
    def hide_as_off_topic(self, request, queryset):
        self._hide(request, queryset, ModerationReason.OFF_TOPIC)

    @admin.action(description=_("Hide selected comments (other reason)"), permissions=["change"])
    def hide_other(self, request, queryset):
        self._hide(request, queryset, ModerationReason.OTHER)

    @admin.action(description=_("Restore selected hidden comments"), permissions=["change"])
    def restore_comments(self, request, queryset):
        self._moderate(
            request,
            queryset,
            services.comment_restore,
            lambda n: ngettext("%(count)s comment restored.", "%(count)s comments restored.", n),
        )

    # Comments are never removed one by one (that would be a tree write outside the services):
    # authors delete theirs softly, moderators hide them; deleting a question removes its threads.
    def has_delete_permission(self, request, obj=None):
        return False

    class MoveForm(forms.Form):
        new_parent = forms.ModelChoiceField(
            queryset=Comment.objects.none(),
            required=False,
            label=_("Move under"),
            empty_label=_("(the top level: a new thread)"),
            help_text=_("The comment and its replies become the last reply of the chosen comment."),
        )
        note = forms.CharField(
            label=_("Note for the moderation log"),
            required=False,
            max_length=2000,
            widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        )

        def __init__(self, *args, comment: Comment, **kwargs):
            super().__init__(*args, **kwargs)
            # Published comments of the same question, outside the comment's own subtree.
            field = self.fields["new_parent"]
            field.queryset = (
                Comment.objects.filter(question_id=comment.question_id)
                .published()
                .exclude(tree_id=comment.tree_id, lft__gte=comment.lft, lft__lte=comment.rght)
                .select_related("author__profile")
            )
            field.label_from_instance = lambda c: (
                f"{'· ' * c.level}#{c.pk} {c.author.display_name}: {c.body_text[:60]}"
            )

    @admin.display(description=_("Position"))
    def move_link(self, obj: Comment) -> str:
        if obj.parent_id:
            where = gettext("Reply to #%(pk)s") % {"pk": obj.parent_id}
        else:
            where = gettext("Top-level comment")
        return format_html(
            '{} · <a href="{}">{}</a>',
            where,
            reverse("admin:consultations_comment_move", args=[obj.pk]),
            gettext("Move this comment"),
        )

    def get_urls(self):
        move = path(
            "<path:object_id>/move/",
            self.admin_site.admin_view(self.move_view),
            name="consultations_comment_move",
        )
        return [move, *super().get_urls()]

    def move_view(self, request, object_id):
        """Move a comment (with its replies) under another comment of its question."""
        comment = self.get_object(request, unquote(object_id))
        if comment is None:
            raise Http404(gettext("No such comment."))
        if not self.has_change_permission(request, comment):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else None
        form = self.MoveForm(data, comment=comment)
        if form.is_valid():
            new_parent = form.cleaned_data["new_parent"]
            try:
                # Not inside a transaction here, so the service can retry its own.
                services.comment_move(
                    comment=comment,
                    new_parent=new_parent,
                    by=request.user,
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                if new_parent:
                    message = gettext("Comment #%(pk)s moved under #%(parent)s.")
                else:
                    message = gettext("Comment #%(pk)s moved to the top level.")
                parent_pk = new_parent.pk if new_parent else None
                self.message_user(request, message % {"pk": comment.pk, "parent": parent_pk})
                return HttpResponseRedirect(
                    reverse("admin:consultations_comment_change", args=[comment.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": comment,
            "form": form,
            "title": gettext("Move comment #%(pk)s") % {"pk": comment.pk},
        }
        return TemplateResponse(request, "admin/consultations/comment/move.html", context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that only services write: visible to moderators, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Comment"))
    def comment_link(self, obj) -> str:
        return format_html(
            '<a href="{}">#{}</a>',
            reverse("consultations:moderate", args=[obj.comment_id]),
            obj.comment_id,
        )


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_name", "kind", "reason", "comment_link", "note")
    list_filter = (
        "kind",
        "reason",
        ("comment__question__consultation", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("actor__profile", "comment")
    search_fields = ("note", "actor__email", "actor__profile__display_name")
    date_hierarchy = "created_at"

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "log_csv_url": reverse("consultations:moderation_log"),
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("Moderator"), ordering="actor__profile__display_name")
    def actor_name(self, obj: ModerationAction) -> str:
        return obj.actor.display_name


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "reason",
        "reporter_name",
        "comment_link",
        "resolution",
        "resolved_at",
    )
    list_filter = ("resolution", "reason")
    list_select_related = ("reporter__profile",)
    search_fields = ("details", "reporter__email")

    @admin.display(description=_("Reporter"))
    def reporter_name(self, obj: Report) -> str:
        return obj.reporter.display_name


@admin.register(CommentRevision)
class CommentRevisionAdmin(ReadOnlyAdmin):
    list_display = ("comment_link", "replaced_at", "edited_by")
    list_select_related = ("edited_by__profile",)
