"""Staff pages of one consultation, under /consultations/<slug>/insights/ (forum/urls.py).

Every view checks consultations.permissions.can_export, and so does every service it calls."""

from django.urls import path

from . import views, views_campaigns

app_name = "insights"

urlpatterns: list = [
    path("", views.overview, name="overview"),
    path("campaigns/", views_campaigns.campaigns, name="campaigns"),
]
