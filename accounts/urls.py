"""URLs of our own account pages; allauth's are included beside them in forum.urls."""

from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("profile/", views.profile_edit, name="profile"),
    path("delete/", views.account_delete_view, name="delete"),
    path("my-data/", views.my_data_page, name="my_data"),
    path("my-data/download/<str:token>/", views.my_data_download, name="my_data_download"),
]
