"""Forms for the stakeholder profile: asked at signup (allauth) and editable afterwards."""

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from consultations import permissions

from .models import Profile, StakeholderType
from .services import CommentsOnDelete, profile_save

# The profile page shows these in their own "Notifications" group.
NOTIFICATION_FIELDS = ("email_replies", "email_digest", "follow_on_post", "email_reports")


class ProfileForm(forms.ModelForm):
    """The profile and its notification settings. ``user`` is who edits it: the setting for
    emails about reports is only offered to moderators (the service refuses it otherwise)."""

    class Meta:
        model = Profile
        fields = [
            "display_name",
            "organisation",
            "stakeholder_type",
            "byline",
            "language",
            *NOTIFICATION_FIELDS,
        ]
        # Labels here rather than as the model's verbose names, which would need a migration.
        labels = {
            "display_name": _("Display name"),
            "organisation": _("Organisation"),
            "stakeholder_type": _("Stakeholder type"),
            "byline": _("Beside my comments, show"),
            "language": _("Language"),
            "email_replies": _("Email me when someone replies to my comments"),
            "email_digest": _("Digest of new comments in what I follow"),
            "follow_on_post": _("Follow the questions I comment in"),
            "email_reports": _("Emails about reported comments"),
        }
        widgets = {
            "byline": forms.RadioSelect,
            "email_digest": forms.RadioSelect,
            "email_reports": forms.RadioSelect,
        }
        help_texts = {
            "organisation": _("The government, agency or organisation you speak for, if any."),
            "stakeholder_type": _("Shown beside your comments, so readers know whose view it is."),
            "byline": _(
                "Readers, exports and the open data then show “Participant from” your stakeholder "
                "type instead of your name and organisation. Moderators still see who you are."
            ),
            "language": _("The language of the site and of the emails it sends you."),
            "email_replies": _("One email per reply, or one for several replies close together."),
            "email_digest": _(
                "One email listing the new comments in the consultations and questions you "
                "follow. None is sent when there is nothing new."
            ),
            "follow_on_post": _(
                "Their new comments then appear in your digest and on your Notifications page. "
                "You can stop following a question on its page."
            ),
            "email_reports": _(
                "When participants report a comment in a consultation you moderate."
            ),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if "language" in self.fields:
            self.fields["language"].choices = [("", _("The site's default")), *settings.LANGUAGES]
        if "email_reports" in self.fields and not permissions.receives_report_emails(user):
            del self.fields["email_reports"]
        if "byline" in self.fields:
            # "Former participant" is what deleting the account sets, never a choice.
            self.fields["byline"].choices = [
                (value, label)
                for value, label in Profile.Byline.choices
                if value != Profile.Byline.FORMER
            ]
        for name in ("byline", "email_digest", "email_reports"):
            if name in self.fields:
                field = self.fields[name]
                # A form posted without them (an older page, a script) leaves them unchanged.
                field.required = False
                # A radio per choice, without the empty one a select would have.
                field.choices = [c for c in field.choices if c[0]]

    def clean_byline(self):
        return self.cleaned_data.get("byline") or None

    def clean_email_digest(self):
        return self.cleaned_data.get("email_digest") or None

    def clean_email_reports(self):
        return self.cleaned_data.get("email_reports") or None

    def profile_fields(self):
        return [f for f in self.visible_fields() if f.name not in NOTIFICATION_FIELDS]

    def notification_fields(self):
        return [f for f in self.visible_fields() if f.name in NOTIFICATION_FIELDS]


class SignupForm(ProfileForm):
    """allauth's ACCOUNT_SIGNUP_FORM_CLASS: its fields are added to allauth's signup form.

    allauth builds its signup form on top of this class, so ``field_order`` also places
    allauth's own fields (email, password1, password2).
    """

    # The model's default ("Other") would be preselected; a new participant should choose.
    stakeholder_type = forms.ChoiceField(
        label=_("Stakeholder type"),
        choices=[("", _("Choose…")), *StakeholderType.choices],
        help_text=ProfileForm.Meta.help_texts["stakeholder_type"],
    )

    class Meta(ProfileForm.Meta):
        # The language is the one the signup page is shown in (see signup below).
        fields = ["display_name", "organisation", "stakeholder_type", "byline"]

    field_order = [
        "email",
        "display_name",
        "organisation",
        "stakeholder_type",
        "byline",
        "password1",
        "password2",
    ]

    def signup(self, request, user) -> None:
        profile_save(
            user=user,
            display_name=self.cleaned_data["display_name"],
            organisation=self.cleaned_data["organisation"],
            stakeholder_type=self.cleaned_data["stakeholder_type"],
            byline=self.cleaned_data["byline"],
            language=translation.get_language(),
        )


class AccountDeleteForm(forms.Form):
    """Deleting one's account: what becomes of the comments, and the password again."""

    comments = forms.ChoiceField(
        label=_("Your comments"),
        choices=[
            (
                CommentsOnDelete.KEEP,
                _("Leave them in the discussion, shown as by “Former participant”"),
            ),
            (
                CommentsOnDelete.WITHDRAW,
                _("Withdraw them: each shows as “Deleted by the author”"),
            ),
        ],
        initial=CommentsOnDelete.KEEP,
        widget=forms.RadioSelect,
        help_text=_("Replies by others stay where they are either way."),
    )
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("To be sure it is you."),
    )
