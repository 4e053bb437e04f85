"""The user model and the stakeholder profile shown beside every comment."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .validators import no_bidi_controls


class User(AbstractUser):
    """Login is by email (django-allauth); the public name lives on the profile."""

    def __str__(self) -> str:
        # How the admin names a user (moderator choices, authors, logs): who, and which account.
        # Lists of users select_related("profile"), or this is a query per user.
        return f"{self.display_name} <{self.email}>" if self.email else self.display_name

    @property
    def display_name(self) -> str:
        profile = getattr(self, "profile", None)
        return public_name(
            profile.display_name if profile is not None else "",
            self.first_name,
            self.last_name,
            self.username,
        )

    @property
    def organisation(self) -> str:
        profile = getattr(self, "profile", None)
        return profile.organisation if profile is not None else ""

    # The stakeholder type beside a comment's byline; empty without a profile.
    @property
    def stakeholder_label(self) -> str:
        profile = getattr(self, "profile", None)
        return profile.get_stakeholder_type_display() if profile is not None else ""

    @property
    def stakeholder_short_label(self) -> str:
        profile = getattr(self, "profile", None)
        return profile.stakeholder_short_label if profile is not None else ""


def public_name(display_name: str | None, first_name: str, last_name: str, username: str) -> str:
    """The name shown for a user: their profile's display name, else their full name, else their
    username. For rows read without the model (pages, exports) as for User.display_name."""
    return display_name or f"{first_name} {last_name}".strip() or username


def user_display(user) -> str:
    """How allauth names a user in its messages and emails: the public display name."""
    return user.display_name


class StakeholderType(models.TextChoices):
    MEMBER_STATE = "member_state", _("Member State")
    UN_SYSTEM = "un_system", _("UN system")
    INTERGOVERNMENTAL = "intergovernmental", _("Intergovernmental organisation")
    CIVIL_SOCIETY = "civil_society", _("Civil society")
    MIGRANT_DIASPORA = "migrant_diaspora", _("Migrant or diaspora organisation")
    ACADEMIA = "academia", _("Academia")
    PRIVATE_SECTOR = "private_sector", _("Private sector")
    LOCAL_GOVERNMENT = "local_government", _("Local or regional government")
    TRADE_UNION = "trade_union", _("Trade union")
    OTHER = "other", _("Other")

    @property
    def short_label(self) -> str:
        """A few words for a comment's byline; the full label goes in its title."""
        return str(_SHORT_LABELS[self])


_SHORT_LABELS = {
    StakeholderType.MEMBER_STATE: _("Member State"),
    StakeholderType.UN_SYSTEM: pgettext_lazy("stakeholder type, short", "UN"),
    StakeholderType.INTERGOVERNMENTAL: pgettext_lazy("stakeholder type, short", "IGO"),
    StakeholderType.CIVIL_SOCIETY: _("Civil society"),
    StakeholderType.MIGRANT_DIASPORA: pgettext_lazy("stakeholder type, short", "Migrant/diaspora"),
    StakeholderType.ACADEMIA: _("Academia"),
    StakeholderType.PRIVATE_SECTOR: _("Private sector"),
    StakeholderType.LOCAL_GOVERNMENT: pgettext_lazy("stakeholder type, short", "Local government"),
    StakeholderType.TRADE_UNION: _("Trade union"),
    StakeholderType.OTHER: _("Other"),
}


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    display_name = models.CharField(
        max_length=120,
        help_text=_("Shown beside your comments, e.g. your full name."),
        validators=[no_bidi_controls],
    )
    organisation = models.CharField(max_length=200, blank=True, validators=[no_bidi_controls])
    stakeholder_type = models.CharField(
        max_length=32, choices=StakeholderType.choices, default=StakeholderType.OTHER
    )
    # The interface language the user last chose (switcher, signup, profile): emails to them are
    # written in it (accounts.language_for). Blank: the site's default.
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True, default=""
    )
    # Emails the participant may turn off (profile settings, or the link in each such email).
    email_replies = models.BooleanField(default=True)

    class Digest(models.TextChoices):
        OFF = "off", _("Never")
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")

    class Reports(models.TextChoices):
        OFF = "off", _("Never")
        IMMEDIATE = "immediate", _("As reports come in")
        DAILY = "daily", _("Once a day")

    # New comments in what the user follows, by email: one digest per day or week, or none.
    email_digest = models.CharField(max_length=8, choices=Digest.choices, default=Digest.DAILY)
    # Moderators: emails about comments reported in the consultations they moderate.
    email_reports = models.CharField(
        max_length=10, choices=Reports.choices, default=Reports.IMMEDIATE
    )
    # Posting in a question follows it (as Discourse watches topics one posts in).
    follow_on_post = models.BooleanField(default=True)
    # The Notifications page marks what is newer than the user's last look at it.
    notifications_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def stakeholder_short_label(self) -> str:
        try:
            return StakeholderType(self.stakeholder_type).short_label
        except ValueError:  # a type no longer offered
            return self.stakeholder_type
