"""Staff pages of one consultation, under /consultations/<slug>/insights/ (forum/urls.py).

Every view checks consultations.permissions.can_export, and so does every service it calls."""

from django.urls import path

from . import views

app_name = "insights"

urlpatterns: list = [
    # Analyst coding
    path("comments/", views.comments_list, name="comments"),
    path("comments/<int:pk>/coding/", views.code_comment, name="code_comment"),
    path("codes/", views.codes_list, name="codes"),
    path("codes/<int:code_id>/edit/", views.code_edit, name="code_edit"),
    path("codes/<int:code_id>/delete/", views.code_delete, name="code_delete"),
    path("log/", views.coding_log, name="log"),
    path("log.csv", views.coding_log_csv, name="log_csv"),
]
