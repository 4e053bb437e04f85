"""The insights' coding records in the admin, read-only: insights.coding writes them, and logs
each change, so a change by hand would escape the coding log."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from consultations.admin import ReadOnlyAdmin

from .models import Code, CodeAssignment, CodingAction, KeyQuote


@admin.register(Code)
class CodeAdmin(ReadOnlyAdmin):
    list_display = ("name", "consultation", "assignment_count", "created_by", "created_at")
    list_filter = (("consultation", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("consultation", "created_by__profile")
    search_fields = ("name", "description")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(assignment_count=Count("assignments"))

    @admin.display(description=_("Comments"), ordering="assignment_count")
    def assignment_count(self, obj: Code) -> int:
        return obj.assignment_count


@admin.register(CodeAssignment)
class CodeAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("code", "comment_link", "note", "assigned_by", "assigned_at")
    list_filter = (("code__consultation", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("code", "assigned_by__profile")
    search_fields = ("code__name", "note")


@admin.register(KeyQuote)
class KeyQuoteAdmin(ReadOnlyAdmin):
    list_display = ("comment_link", "flagged_by", "flagged_at")
    list_filter = (("comment__question__consultation", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("flagged_by__profile",)


@admin.register(CodingAction)
class CodingActionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_name", "kind", "code_name", "comment_link", "note")
    list_filter = ("kind", ("consultation", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("actor__profile",)
    search_fields = ("code_name", "note", "actor__email", "actor__profile__display_name")
    date_hierarchy = "created_at"

    @admin.display(description=_("Staff member"), ordering="actor__profile__display_name")
    def actor_name(self, obj: CodingAction) -> str:
        return obj.actor.display_name

    @admin.display(description=_("Comment"))
    def comment_link(self, obj: CodingAction) -> str:
        return super().comment_link(obj) if obj.comment_id else "—"
