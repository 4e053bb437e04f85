"""Admin for participants: the user account with its public profile inline."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Profile, User


class ProfileInline(admin.StackedInline):
    model = Profile
    fields = ["display_name", "organisation", "stakeholder_type"]
    can_delete = False
    verbose_name_plural = _("Public profile")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [ProfileInline]
    list_display = [
        "display_name",
        "email",
        "organisation",
        "stakeholder_type",
        "is_staff",
    ]
    list_select_related = ["profile"]
    list_filter = ["profile__stakeholder_type", "is_staff", "is_active", "groups"]
    search_fields = [
        "email",
        "username",
        "profile__display_name",
        "profile__organisation",
    ]
    ordering = ["profile__display_name", "email"]

    @admin.display(description=_("Display name"), ordering="profile__display_name")
    def display_name(self, obj: User) -> str:
        return obj.display_name

    @admin.display(description=_("Organisation"), ordering="profile__organisation")
    def organisation(self, obj: User) -> str:
        return obj.organisation

    @admin.display(description=_("Stakeholder type"), ordering="profile__stakeholder_type")
    def stakeholder_type(self, obj: User) -> str:
        profile = getattr(obj, "profile", None)
        return profile.get_stakeholder_type_display() if profile is not None else ""
