"""The read-only API: published consultations, their questions, the GCM objectives and the
comments, as JSON. Lists are paged with a cursor; every response carries an ETag (and, where
rows have a time of change, Last-Modified) and answers a matching conditional GET with 304."""

import hashlib
from datetime import datetime

from django.db.models import Prefetch
from django.utils.cache import get_conditional_response
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date, quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination

from accounts.models import StakeholderType
from consultations.models import Comment, Consultation, Objective, Question

from . import serializers


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "pk"


class ConditionalMixin:
    """ETag (a hash of the body) and Last-Modified (the newest `updated_at` among the rows, when
    the rows have one) on every 200; If-None-Match / If-Modified-Since answered with 304."""

    last_modified_field: str | None = None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        response.render()
        etag = quote_etag(hashlib.blake2b(response.content, digest_size=16).hexdigest())
        response["ETag"] = etag
        last_modified = getattr(self, "_last_modified", None)
        if last_modified is not None:
            response["Last-Modified"] = http_date(last_modified.timestamp())
        response["Cache-Control"] = "public, max-age=60"
        response["Vary"] = "Accept, Accept-Language"
        return get_conditional_response(
            request,
            etag=etag,
            last_modified=int(last_modified.timestamp()) if last_modified else None,
            response=response,
        )

    def _note_last_modified(self, rows) -> None:
        if self.last_modified_field is None:
            return
        times = [getattr(row, self.last_modified_field) for row in rows]
        times = [t for t in times if isinstance(t, datetime)]
        self._last_modified = max(times) if times else None

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        self._note_last_modified(getattr(self, "_page_rows", []))
        return response

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self._page_rows = page if page is not None else []
        return page

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        self._note_last_modified([self._object])
        return response

    def get_object(self):
        self._object = super().get_object()
        return self._object


@extend_schema_view(
    list=extend_schema(summary="The 23 objectives of the Global Compact for Migration"),
    retrieve=extend_schema(
        summary="One objective, by its number",
        parameters=[
            OpenApiParameter(
                "number",
                OpenApiTypes.INT,
                OpenApiParameter.PATH,
                description="The objective's number, 1 to 23.",
            )
        ],
    ),
)
class ObjectiveViewSet(ConditionalMixin, viewsets.ReadOnlyModelViewSet):
    """The 23 objectives of the Global Compact for Migration (GCM), by number."""

    serializer_class = serializers.ObjectiveSerializer
    queryset = Objective.objects.order_by("number")
    lookup_field = "number"
    pagination_class = None


def _published_consultations():
    return Consultation.objects.filter(is_published=True)


@extend_schema_view(
    list=extend_schema(summary="Published consultations, newest first by opening date"),
    retrieve=extend_schema(summary="One consultation, by its slug, with its questions"),
)
class ConsultationViewSet(ConditionalMixin, viewsets.ReadOnlyModelViewSet):
    """Published consultations: their description, open period, the objectives in focus and the
    numbered questions posed by the moderators."""

    serializer_class = serializers.ConsultationSerializer
    lookup_field = "slug"
    last_modified_field = "updated_at"

    def get_queryset(self):
        return _published_consultations().prefetch_related(
            "objectives",
            Prefetch(
                "questions",
                queryset=Question.objects.select_related("consultation").order_by("number"),
            ),
        )


@extend_schema_view(
    list=extend_schema(
        summary="Questions of published consultations",
        parameters=[
            OpenApiParameter("consultation", OpenApiTypes.STR, description="A consultation's slug.")
        ],
    ),
    retrieve=extend_schema(summary="One question"),
)
class QuestionViewSet(ConditionalMixin, viewsets.ReadOnlyModelViewSet):
    """The questions of published consultations, with their count of published comments."""

    serializer_class = serializers.QuestionSerializer

    def get_queryset(self):
        questions = Question.objects.filter(consultation__is_published=True).select_related(
            "consultation"
        )
        slug = self.request.query_params.get("consultation")
        if slug:
            questions = questions.filter(consultation__slug=slug)
        return questions.order_by("pk")


# {"question": ["Not a valid question: 'x'."]}: a message list per parameter left out, or
# {"detail": "..."} for a query no parameter can be read from.
FILTER_ERRORS = OpenApiResponse(
    response=OpenApiTypes.OBJECT, description="A filter is not valid: messages per parameter."
)

COMMENT_FILTERS = [
    OpenApiParameter("consultation", OpenApiTypes.STR, description="A consultation's slug."),
    OpenApiParameter("question", OpenApiTypes.INT, description="A question's id."),
    OpenApiParameter("objective", OpenApiTypes.INT, description="A GCM objective number, 1-23."),
    OpenApiParameter(
        "stakeholder_type",
        OpenApiTypes.STR,
        enum=StakeholderType.values,
        description="The author's stakeholder type.",
    ),
    OpenApiParameter(
        "updated_since",
        OpenApiTypes.DATETIME,
        description="Only comments changed at or after this time (ISO 8601), for syncing.",
    ),
]


@extend_schema_view(
    list=extend_schema(
        summary="Comments and replies of published consultations, oldest first",
        parameters=COMMENT_FILTERS,
        responses={200: serializers.CommentSerializer(many=True), 400: FILTER_ERRORS},
    ),
    retrieve=extend_schema(summary="One comment"),
)
class CommentViewSet(ConditionalMixin, viewsets.ReadOnlyModelViewSet):
    """Comments and replies, in the order they were posted; `parent`, `depth` and `thread` give
    the tree. A hidden or deleted comment keeps its place with no text and no author. Pages
    are cursor-based: follow `next`. Responses carry an ETag and Last-Modified; send them back
    (If-None-Match, If-Modified-Since) to get 304 when nothing changed."""

    serializer_class = serializers.CommentSerializer
    pagination_class = Cursor
    last_modified_field = "updated_at"

    def get_queryset(self):
        comments = (
            Comment.objects.filter(question__consultation__is_published=True)
            .select_related("author__profile")
            .prefetch_related("objectives")
        )
        params = self.request.query_params
        errors = {}

        def number(name: str, low: int = 1, high: int = 2**31 - 1) -> int | None:
            raw = params.get(name, "")
            if raw == "":
                return None
            if raw.isascii() and raw.isdigit() and low <= int(raw) <= high:
                return int(raw)
            errors[name] = [f"Not a valid {name}: {raw!r}."]
            return None

        slug = params.get("consultation")
        if slug:
            comments = comments.filter(question__consultation__slug=slug)
        if (question := number("question")) is not None:
            comments = comments.filter(question_id=question)
        # Filters on what a hidden or deleted comment no longer shows match shown ones only.
        if (objective := number("objective", 1, 23)) is not None:
            comments = comments.filter(
                objectives__number=objective, status=Comment.Status.PUBLISHED
            )
        stakeholder_type = params.get("stakeholder_type", "")
        if stakeholder_type:
            if stakeholder_type in StakeholderType.values:
                comments = comments.filter(
                    author__profile__stakeholder_type=stakeholder_type,
                    status=Comment.Status.PUBLISHED,
                )
            else:
                errors["stakeholder_type"] = [f"Not a stakeholder type: {stakeholder_type!r}."]
        since = params.get("updated_since", "")
        if since:
            try:
                moment = parse_datetime(since)
            except ValueError:
                moment = None
            if moment is None:
                errors["updated_since"] = [f"Not an ISO 8601 date and time: {since!r}."]
            else:
                comments = comments.filter(updated_at__gte=moment)
        if errors:
            raise ValidationError(errors)
        return comments
