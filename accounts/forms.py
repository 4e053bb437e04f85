"""Forms for the stakeholder profile: asked at signup (allauth) and editable afterwards."""

from django import forms

from .models import Profile


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["display_name", "organisation", "stakeholder_type"]
        labels = {"stakeholder_type": "Stakeholder type"}
        help_texts = {
            "organisation": "The government, agency or organisation you speak for, if any.",
        }


class SignupForm(ProfileForm):
    """allauth's ACCOUNT_SIGNUP_FORM_CLASS: its fields are added to allauth's signup form."""

    field_order = ["display_name", "organisation", "stakeholder_type"]

    def signup(self, request, user) -> None:
        from .services import profile_save

        profile_save(
            user=user,
            display_name=self.cleaned_data["display_name"],
            organisation=self.cleaned_data["organisation"],
            stakeholder_type=self.cleaned_data["stakeholder_type"],
        )
