"""URLs of consultation pages."""

from django.urls import path

from . import views

app_name = "consultations"
urlpatterns = [
    path("<slug:slug>/", views.consultation_detail, name="detail"),
    path("<slug:slug>/export.csv", views.export_comments, name="export"),
    path(
        "<slug:slug>/questions/<int:number>/comment/",
        views.comment_form,
        name="comment",
    ),
]
