"""Staff pages of one consultation, under /consultations/<slug>/insights/ (forum/urls.py).

Every view checks consultations.permissions.can_export, and so does every service it calls."""

from django.urls import path

from . import views, views_campaigns, views_coding, views_evidence, views_themes

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
    # Analyst coding
    path("comments/", views_coding.comments_list, name="comments"),
    path("comments/<int:pk>/coding/", views_coding.code_comment, name="code_comment"),
    path("codes/", views_coding.codes_list, name="codes"),
    path("codes/<int:code_id>/edit/", views_coding.code_edit, name="code_edit"),
    path("codes/<int:code_id>/delete/", views_coding.code_delete, name="code_delete"),
    path("log/", views_coding.coding_log, name="log"),
    path("log.csv", views_coding.coding_log_csv, name="log_csv"),
    # Evidence pack per objective
    path("evidence/", views_evidence.evidence, name="evidence"),
    path("evidence/<int:number>/", views_evidence.evidence_objective, name="evidence_objective"),
    path("evidence/<int:number>.docx", views_evidence.evidence_docx_download, name="evidence_docx"),
]
