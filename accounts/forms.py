"""Forms for the stakeholder profile: asked at signup (allauth) and editable afterwards."""

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .models import Profile, StakeholderType
from .services import profile_save


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["display_name", "organisation", "stakeholder_type", "language", "email_replies"]
        # Labels here rather than as the model's verbose names, which would need a migration.
        labels = {
            "display_name": _("Display name"),
            "organisation": _("Organisation"),
            "stakeholder_type": _("Stakeholder type"),
            "language": _("Language"),
            "email_replies": _("Email me when someone replies to my comments"),
        }
        help_texts = {
            "organisation": _("The government, agency or organisation you speak for, if any."),
            "stakeholder_type": _("Shown beside your comments, so readers know whose view it is."),
            "language": _("The language of the site and of the emails it sends you."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "language" in self.fields:
            self.fields["language"].choices = [("", _("The site's default")), *settings.LANGUAGES]


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
        fields = ["display_name", "organisation", "stakeholder_type"]

    field_order = [
        "email",
        "display_name",
        "organisation",
        "stakeholder_type",
        "password1",
        "password2",
    ]

    def signup(self, request, user) -> None:
        profile_save(
            user=user,
            display_name=self.cleaned_data["display_name"],
            organisation=self.cleaned_data["organisation"],
            stakeholder_type=self.cleaned_data["stakeholder_type"],
            language=translation.get_language(),
        )
