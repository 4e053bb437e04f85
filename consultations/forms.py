"""The comment form: validates what a stakeholder typed; consultations.services does the writing."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import attachments
from .models import Comment, ModerationReason, Objective, Question
from .services import check_body_length, check_parent


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input (Django's "Uploading multiple files"): a list, maybe empty."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_file_clean = super().clean
        if not isinstance(data, list | tuple):
            data = [data]
        return [f for f in (single_file_clean(d, initial) for d in data) if f]


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"),
        widget=forms.Textarea(attrs={"rows": 6}),
        # Length is checked in clean_body, with a message that says by how much.
        strip=True,
        error_messages={"required": _("Write your comment before posting it.")},
    )
    objectives = forms.ModelMultipleChoiceField(
        label=_("GCM objectives this comment addresses"),
        queryset=Objective.objects.all(),
        to_field_name="number",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _(
                "There is no GCM objective %(value)s: choose among objectives 1 to 23."
            ),
            "invalid_pk_value": _("“%(pk)s” is not an objective number."),
        },
    )
    parent = forms.CharField(required=False, widget=forms.HiddenInput)
    # Empty files are let through here so that check_files can name them in its message.
    attachments = MultipleFileField(label=_("Attach files"), required=False, allow_empty_file=True)

    def __init__(self, *args, question: Question, **kwargs):
        super().__init__(*args, **kwargs)
        self.question = question
        self.fields["body"].widget.attrs["maxlength"] = settings.COMMENT_MAX_LENGTH
        self.fields["attachments"].help_text = attachments.limits_help()

    def clean_body(self) -> str:
        # Only the cheap checks: the service sanitises the body, once, and reports what is left
        # of it (nothing, too much markup) as an error on this field.
        return check_body_length(self.cleaned_data["body"])

    def clean_parent(self) -> Comment | None:
        value = self.cleaned_data["parent"].strip()
        if not value:
            return None
        try:
            parent = Comment.objects.select_related("question").get(pk=int(value))
        except (ValueError, Comment.DoesNotExist):
            raise ValidationError(
                _("The comment you are replying to does not exist."), code="parent"
            ) from None
        check_parent(parent=parent, question=self.question)
        return parent

    def clean_attachments(self) -> list:
        files = self.cleaned_data["attachments"]
        attachments.check_files(files)  # raises the same errors the service would
        return files

    @property
    def chosen_file_names(self) -> list[str]:
        """Files sent with a refused post: the browser will not send them again."""
        return [attachments.clean_name(f.name) for f in self.files.getlist("attachments")]

    @property
    def selects_objectives_outside_focus(self) -> bool:
        """Whether "Other GCM objectives" must open to show what the user ticked."""
        focus = set(self.question.consultation.objectives.values_list("number", flat=True))
        return bool(self.selected_objectives - focus)

    @property
    def selected_objectives(self) -> set[int]:
        """Objective numbers ticked, to redisplay the checkboxes as the user left them."""
        if not self.is_bound:
            return set(self.initial.get("objectives", ()))
        numbers = set()
        for value in self.data.getlist("objectives"):
            try:
                numbers.add(int(value))
            except ValueError:
                continue
        return numbers


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why should the moderators look at this comment?"),
        choices=ModerationReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a reason.")},
    )
    details = forms.CharField(
        label=_("Details (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Anything that helps the moderators decide. Only they will read it."),
    )


class ModerationNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note for the moderation log (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class HideForm(ModerationNoteForm):
    reason = forms.ChoiceField(
        label=_("Reason shown in place of the comment"),
        # No reason preselected: hiding as "Spam" by default would be a decision nobody made.
        choices=[("", _("Choose a reason…")), *ModerationReason.choices],
        error_messages={"required": _("Choose why the comment is hidden.")},
    )

    field_order = ["reason", "note"]
