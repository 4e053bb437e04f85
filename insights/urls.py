"""Staff pages of one consultation, under /consultations/<slug>/insights/ (forum/urls.py).

Every view checks consultations.permissions.can_export, and so does every service it calls."""

from django.urls import path

from . import theme_views

app_name = "insights"

urlpatterns: list = [
    path("themes/", theme_views.theme_runs, name="themes"),
    path("themes/<int:pk>/", theme_views.theme_run, name="theme_run"),
    path("themes/<int:pk>/<int:theme_pk>/accept/", theme_views.theme_accept, name="theme_accept"),
    path(
        "themes/<int:pk>/<int:theme_pk>/dismiss/", theme_views.theme_dismiss, name="theme_dismiss"
    ),
]
