"""What the API shows of each object. Only public data: no email address, IP address, report,
moderation note or analyst code is ever read into these (tests/api/test_privacy.py walks every
endpoint). A hidden or deleted comment is a placeholder: its place in the tree, no text and no
author."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import StakeholderType
from consultations.models import Comment, Consultation, ConsultationState, Objective, Question


class ObjectiveSerializer(serializers.ModelSerializer):
    # Declared rather than read from the model: a small integer's range is the database's, and
    # the schema must be the same whichever database serves it.
    number = serializers.IntegerField(read_only=True, min_value=1, max_value=23)

    class Meta:
        model = Objective
        fields = ["number", "title", "short_title"]


class QuestionSerializer(serializers.ModelSerializer):
    consultation = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    comment_count = serializers.IntegerField(
        read_only=True, help_text="Published comments and replies."
    )
    # As ObjectiveSerializer.number: the same bounds on every database.
    number = serializers.IntegerField(
        read_only=True, min_value=0, max_value=32767, help_text="1, 2, 3… within its consultation."
    )

    class Meta:
        model = Question
        fields = ["id", "consultation", "number", "text", "created_at", "comment_count"]


class ConsultationSerializer(serializers.ModelSerializer):
    description = serializers.CharField(read_only=True, help_text="Sanitised HTML.")
    state = serializers.ChoiceField(choices=ConsultationState.choices, read_only=True)
    objectives = serializers.SerializerMethodField(help_text="The GCM objectives in focus.")
    questions = QuestionSerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField(help_text="The consultation's page.")

    class Meta:
        model = Consultation
        fields = [
            "slug",
            "title",
            "description",
            "language",
            "opens_at",
            "closes_at",
            "state",
            "objectives",
            "questions",
            "updated_at",
            "url",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_objectives(self, consultation) -> list[int]:
        return sorted(o.number for o in consultation.objectives.all())

    def get_url(self, consultation) -> str:
        return self.context["request"].build_absolute_uri(consultation.get_absolute_url())


class AuthorSerializer(serializers.Serializer):
    display_name = serializers.CharField()
    organisation = serializers.CharField(allow_blank=True)
    stakeholder_type = serializers.ChoiceField(choices=StakeholderType.choices, allow_blank=True)


class CommentSerializer(serializers.ModelSerializer):
    question = serializers.PrimaryKeyRelatedField(read_only=True)
    parent = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    depth = serializers.IntegerField(source="level", read_only=True, help_text="0 for a comment.")
    thread = serializers.IntegerField(
        source="tree_id", read_only=True, help_text="Comments of one thread share this number."
    )
    status = serializers.ChoiceField(choices=Comment.Status.choices, read_only=True)
    body_html = serializers.SerializerMethodField(help_text="Sanitised HTML; null if not shown.")
    body_text = serializers.SerializerMethodField(help_text="Plain text; null if not shown.")
    objectives = serializers.SerializerMethodField(help_text="GCM objective numbers.")
    author = serializers.SerializerMethodField(help_text="Null for a hidden or deleted comment.")
    url = serializers.SerializerMethodField(help_text="The comment's permalink.")

    class Meta:
        model = Comment
        fields = [
            "id",
            "question",
            "parent",
            "depth",
            "thread",
            "status",
            "body_html",
            "body_text",
            "objectives",
            "author",
            "created_at",
            "edited_at",
            "updated_at",
            "url",
        ]

    @staticmethod
    def _shown(comment) -> bool:
        return comment.status == Comment.Status.PUBLISHED

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_body_html(self, comment) -> str | None:
        return comment.body if self._shown(comment) else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_body_text(self, comment) -> str | None:
        return comment.body_text if self._shown(comment) else None

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_objectives(self, comment) -> list[int]:
        if not self._shown(comment):
            return []
        return sorted(o.number for o in comment.objectives.all())

    @extend_schema_field(AuthorSerializer(allow_null=True))
    def get_author(self, comment) -> dict | None:
        if not self._shown(comment):
            return None
        user = comment.author
        profile = getattr(user, "profile", None)
        name, organisation = user.public_author
        return {
            "display_name": name,
            "organisation": organisation,
            "stakeholder_type": profile.stakeholder_type if profile else "",
        }

    def get_url(self, comment) -> str:
        return self.context["request"].build_absolute_uri(comment.get_absolute_url())
