"""Staff pages of one consultation, under /consultations/<slug>/insights/ (forum/urls.py).

Every view checks consultations.permissions.can_export, and so does every service it calls."""

from django.urls import path

from . import views

app_name = "insights"

urlpatterns: list = [
    # Evidence pack per objective: the index, the printable page, the Word document.
    path("evidence/", views.evidence, name="evidence"),
    path("evidence/<int:number>/", views.evidence_objective, name="evidence_objective"),
    path("evidence/<int:number>.docx", views.evidence_docx_download, name="evidence_docx"),
]
