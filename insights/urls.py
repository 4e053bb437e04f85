"""Staff pages of one consultation, under /consultations/<slug>/insights/ (forum/urls.py).

Every view checks consultations.permissions.can_export, and so does every service it calls."""

from django.urls import path

from . import views, views_campaigns, views_themes

app_name = "insights"

urlpatterns: list = [
    path("", views.overview, name="overview"),
    path("campaigns/", views_campaigns.campaigns, name="campaigns"),
    path("themes/", views_themes.theme_runs, name="themes"),
    path("themes/<int:pk>/", views_themes.theme_run, name="theme_run"),
    path("themes/<int:pk>/<int:theme_pk>/accept/", views_themes.theme_accept, name="theme_accept"),
    path(
        "themes/<int:pk>/<int:theme_pk>/dismiss/", views_themes.theme_dismiss, name="theme_dismiss"
    ),
]
