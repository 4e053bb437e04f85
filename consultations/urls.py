"""URLs of consultation pages."""

from django.urls import path

from . import views

app_name = "consultations"
urlpatterns = [
    # Fixed paths first: a consultation slug cannot shadow them.
    path("moderation/", views.moderation_queue, name="moderation_queue"),
    path("moderation/log.csv", views.moderation_log_csv, name="moderation_log"),
    path("c/<int:pk>/", views.comment_permalink, name="permalink"),
    path("comments/<int:pk>/edit/", views.comment_edit, name="edit"),
    path("comments/<int:pk>/delete/", views.comment_delete, name="delete"),
    path("comments/<int:pk>/report/", views.comment_report, name="report"),
    path("comments/<int:pk>/moderate/", views.comment_moderate, name="moderate"),
    path("comments/attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("<slug:slug>/", views.consultation_detail, name="detail"),
    path("<slug:slug>/search/", views.consultation_search, name="search"),
    path("<slug:slug>/export.csv", views.export_comments, name="export"),
    path("<slug:slug>/export.xlsx", views.export_comments_xlsx, name="export_xlsx"),
    # The open-data file's stable URL (linked from the closed consultation's page), and the
    # staff page that builds it.
    path("<slug:slug>/open-data.zip", views.open_data_download, name="open_data"),
    path("<slug:slug>/open-data/", views.open_data_manage, name="open_data_manage"),
    path("<slug:slug>/questions/<int:number>/", views.question_detail, name="question"),
    path(
        "<slug:slug>/questions/<int:number>/comment/",
        views.comment_form,
        name="comment",
    ),
]
