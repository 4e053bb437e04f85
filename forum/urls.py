"""Root URLs."""

from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("consultations/", include("consultations.urls")),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    # Before the admin's own login view, which has no rate limit: see views.admin_login.
    path("admin/login/", views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]
