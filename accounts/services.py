"""Writes to accounts data."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consultations import permissions
from consultations.models import Comment
from consultations.services import comment_delete
from notifications.models import Follow, Notification

from . import my_data
from .models import Profile
from .validators import no_bidi_controls


@transaction.atomic
def profile_save(
    *,
    user,
    display_name: str,
    organisation: str,
    stakeholder_type: str,
    byline: str | None = None,
    language: str | None = None,
    email_replies: bool | None = None,
    email_digest: str | None = None,
    follow_on_post: bool | None = None,
    email_reports: str | None = None,
) -> Profile:
    """Create or update the profile; ``byline``, ``language`` and each notification setting
    left None keep the stored value. ``email_reports`` is for moderators only
    (PermissionDenied otherwise). A change to what readers see beside the user's comments
    (name, organisation, type, byline) marks the comments changed: the API's ETags and its
    "updated since" filter, and the stored thread fragments, follow at once."""
    if byline is not None and byline not in (Profile.Byline.NAME, Profile.Byline.STAKEHOLDER_TYPE):
        raise ValidationError(_("Choose what to show beside your comments."), code="byline")
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
    if byline is not None:
        defaults["byline"] = byline
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
    before = Profile.objects.filter(user=user).values_list(*PUBLIC_FIELDS).first()
    profile, _created = Profile.objects.update_or_create(user=user, defaults=defaults)
    if before is not None and before != tuple(getattr(profile, name) for name in PUBLIC_FIELDS):
        _touch_comments(user)
    return profile


# What readers see beside a comment (accounts.models.public_author).
PUBLIC_FIELDS = ("display_name", "organisation", "stakeholder_type", "byline")


def _touch_comments(user) -> None:
    Comment.objects.filter(author=user).update(updated_at=timezone.now())


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


class CommentsOnDelete:
    """What becomes of a deleted account's comments."""

    # They stay, shown as by "Former participant".
    KEEP = "keep"
    # Each is withdrawn as its author could withdraw it: "Deleted by the author".
    WITHDRAW = "withdraw"
    choices = (KEEP, WITHDRAW)


def account_delete(*, user, password: str, comments: str = CommentsOnDelete.KEEP) -> None:
    """Delete a participant's account at their request, after they typed their password again.

    The account is anonymised, not removed, so that threads and moderation records stay whole:
    the email addresses, names, organisation and notification settings are removed, login is
    disabled (every session of the account ends: an inactive user is logged out on its next
    request), and the comments stay in place as by "Former participant", or are withdrawn
    ("Deleted by the author", their reports dismissed) when ``comments`` is WITHDRAW. Their
    download-my-data files are deleted. Reports
    the user made and moderation actions stay, naming "Former participant". Pages, staff exports
    and the API show it at once (the comments are marked changed). ValidationError for a wrong
    password or an unknown choice, nothing changed; PermissionDenied for an account already
    deleted or not the caller's own (``user`` is the logged-in user)."""
    if comments not in CommentsOnDelete.choices:
        raise ValidationError(_("Choose what happens to your comments."), code="comments")
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied(_("This account is already deleted."))
    if not user.has_usable_password() or not user.check_password(password or ""):
        raise ValidationError(_("That is not your password."), code="password")
    now = timezone.now()
    with transaction.atomic():
        locked = get_user_model().objects.select_for_update().get(pk=user.pk)
        if not locked.is_active:
            raise PermissionDenied(_("This account is already deleted."))
        if comments == CommentsOnDelete.WITHDRAW:
            for comment in Comment.objects.filter(author=locked).exclude(
                status=Comment.Status.DELETED
            ):
                comment_delete(comment=comment, by=locked)
        Profile.objects.update_or_create(
            user=locked,
            defaults={
                "display_name": "",
                "organisation": "",
                "byline": Profile.Byline.FORMER,
                "deleted_at": now,
                "language": "",
                "email_replies": False,
                "email_digest": Profile.Digest.OFF,
                "email_reports": Profile.Reports.OFF,
                "follow_on_post": False,
                "notifications_seen_at": None,
            },
        )
        EmailAddress.objects.filter(user=locked).delete()
        Follow.objects.filter(user=locked).delete()
        Notification.objects.filter(recipient=locked, state=Notification.State.PENDING).update(
            state=Notification.State.CANCELLED
        )
        locked.email = ""
        locked.first_name = locked.last_name = ""
        locked.username = f"deleted-{locked.pk}"
        locked.is_active = locked.is_staff = locked.is_superuser = False
        locked.set_unusable_password()
        locked.save()
        locked.groups.clear()
        locked.user_permissions.clear()
        _touch_comments(locked)
        # Their download-my-data files, once the deletion has committed (a rollback keeps them).
        transaction.on_commit(lambda: my_data.delete_for_user(user=locked))
