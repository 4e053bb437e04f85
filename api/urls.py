"""/api/v1/: the read-only API and its OpenAPI 3 schema (committed as api/openapi.yaml)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from . import views

app_name = "api"


class Router(DefaultRouter):
    # JSON only: no ".json" twin of every URL.
    include_format_suffixes = False


router = Router()
router.register("consultations", views.ConsultationViewSet, basename="consultation")
router.register("questions", views.QuestionViewSet, basename="question")
router.register("objectives", views.ObjectiveViewSet, basename="objective")
router.register("comments", views.CommentViewSet, basename="comment")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("", include(router.urls)),
]
