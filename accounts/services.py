"""Writes to accounts data."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from consultations import permissions

from .models import Profile
from .validators import no_bidi_controls


@transaction.atomic
def profile_save(
    *,
    user,
    display_name: str,
    organisation: str,
    stakeholder_type: str,
    language: str | None = None,
    email_replies: bool | None = None,
    email_digest: str | None = None,
    follow_on_post: bool | None = None,
    email_reports: str | None = None,
) -> Profile:
    """Create or update the profile; ``language`` and each notification setting left None keep
    the stored value. ``email_reports`` is for moderators only (PermissionDenied otherwise)."""
    if email_digest is not None and email_digest not in Profile.Digest.values:
        raise ValidationError(_("Choose how often to receive the digest."), code="email_digest")
    if email_reports is not None:
        if email_reports not in Profile.Reports.values:
            raise ValidationError(
                _("Choose when to receive emails about reports."), code="email_reports"
            )
        if not permissions.receives_report_emails(user):
            raise PermissionDenied(_("Only moderators receive emails about reported comments."))
    no_bidi_controls(display_name)
    no_bidi_controls(organisation)
    defaults = {
        "display_name": display_name.strip(),
        "organisation": organisation.strip(),
        "stakeholder_type": stakeholder_type,
    }
    if language is not None:
        defaults["language"] = supported_language(language)
    if email_replies is not None:
        defaults["email_replies"] = email_replies
    for name, value in (
        ("email_digest", email_digest),
        ("follow_on_post", follow_on_post),
        ("email_reports", email_reports),
    ):
        if value is not None:
            defaults[name] = value
    profile, _created = Profile.objects.update_or_create(user=user, defaults=defaults)
    return profile


def profile_set_language(*, user, language: str) -> None:
    """Remember the interface language a logged-in user chose (nothing without a profile)."""
    code = supported_language(language)
    if code:
        Profile.objects.filter(user=user).exclude(language=code).update(language=code)


def supported_language(code: str | None) -> str:
    """One of settings.LANGUAGES for a code such as "fr" or "fr-ca"; "" if none fits."""
    codes = dict(settings.LANGUAGES)
    code = (code or "").lower()
    if code in codes:
        return code
    base = code.split("-")[0]
    return base if base in codes else ""


def email_replies_stop(*, user) -> None:
    """Stop the emails about replies (the link in each of them, signed for this user)."""
    Profile.objects.filter(user=user).update(email_replies=False)


def email_digest_stop(*, user) -> None:
    """Stop the digests of new comments in what the user follows (the link in each digest)."""
    Profile.objects.filter(user=user).update(email_digest=Profile.Digest.OFF)


def email_reports_stop(*, user) -> None:
    """Stop the emails about reported comments (the link in each of them)."""
    Profile.objects.filter(user=user).update(email_reports=Profile.Reports.OFF)
