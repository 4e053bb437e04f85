"""The user model and the stakeholder profile shown beside every comment."""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
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
        if profile is not None and profile.byline == Profile.Byline.FORMER:
            return str(_("Former participant"))
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

    @property
    def public_author(self) -> tuple[str, str]:
        """(name, organisation) as shown beside this user's comments (accounts.public_author)."""
        profile = getattr(self, "profile", None)
        return public_author(
            profile.display_name if profile is not None else None,
            self.first_name,
            self.last_name,
            self.username,
            profile.organisation if profile is not None else "",
            profile.stakeholder_type if profile is not None else None,
            profile.byline if profile is not None else None,
        )

    @property
    def public_display_name(self) -> str:
        return self.public_author[0]

    @property
    def public_organisation(self) -> str:
        return self.public_author[1]

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


def public_author(
    display_name: str | None,
    first_name: str,
    last_name: str,
    username: str,
    organisation: str | None,
    stakeholder_type: str | None,
    byline: str | None,
) -> tuple[str, str]:
    """(name, organisation) shown beside a comment, on every page, email, export and API
    response: the participant's name and organisation, or "Participant from <stakeholder
    type>" and no organisation for those who asked not to be named, or "Former participant"
    once the account is deleted. `byline` is Profile.byline (None without a profile)."""
    if byline == Profile.Byline.FORMER:
        return str(_("Former participant")), ""
    if byline == Profile.Byline.STAKEHOLDER_TYPE:
        try:
            label = StakeholderType(stakeholder_type).label
        except ValueError:
            label = StakeholderType.OTHER.label
        return str(_("Participant from %(type)s") % {"type": label}), ""
    return public_name(display_name, first_name, last_name, username), organisation or ""


# The profile fields public_author reads, for .values() and .values_list() of comments
# (prefixed "author__") or of users.
AUTHOR_FIELDS = (
    "profile__display_name",
    "first_name",
    "last_name",
    "username",
    "profile__organisation",
    "profile__stakeholder_type",
    "profile__byline",
)
# Where the stakeholder type is among them.
AUTHOR_TYPE = AUTHOR_FIELDS.index("profile__stakeholder_type")


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

    class Byline(models.TextChoices):
        NAME = "name", _("My name and organisation")
        STAKEHOLDER_TYPE = "stakeholder_type", _("“Participant from” my stakeholder type")
        # Set when the account is deleted (accounts.services.account_delete), never chosen.
        FORMER = "former", _("Former participant (account deleted)")

    # What readers see beside the participant's comments (accounts.models.public_author).
    byline = models.CharField(max_length=16, choices=Byline.choices, default=Byline.NAME)
    # When the account was deleted and its personal data removed; null for a live account.
    deleted_at = models.DateTimeField(null=True, blank=True)
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


def data_export_path(instance: "DataExport", filename: str) -> str:
    # A random name: the file holds personal data, and its name tells nobody whose it is.
    return f"data-exports/{uuid.uuid4().hex}.zip"


class DataExport(models.Model):
    """A participant's "Download my data" request and the ZIP built for it (accounts.my_data):
    built in the background, emailed as a link, deleted once it expires."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        BUILDING = "building", _("Being prepared")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")
        # Its file deleted: past expires_at (the cleanup), or replaced by a newer export.
        EXPIRED = "expired", _("Expired")

    PENDING = (State.QUEUED, State.BUILDING)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    # Scheme and host for the email's link and the file's permalinks, as the request saw them.
    base_url = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    # When a worker claimed it (a build still "building" long after belongs to a dead worker).
    started_at = models.DateTimeField(null=True, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # In default_storage under a random name; empty until built and again once deleted.
    file = models.FileField(upload_to=data_export_path, max_length=255, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One request on its way per user: a second click, or two at once, cannot queue
            # another (accounts.my_data.export_request).
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(state__in=["queued", "building"]),
                name="data_export_one_pending_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"Data export #{self.pk} of {self.user_id} ({self.state})"

    @property
    def is_pending(self) -> bool:
        return self.state in self.PENDING
