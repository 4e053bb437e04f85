"""Root URLs."""

from django.contrib import admin
from django.urls import include, path

from . import views

# Errors outside views, an unreachable database among them (see forum.middleware).
handler500 = "forum.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    # Probes (exempt from the https redirect: settings.SECURE_REDIRECT_EXEMPT).
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("consultations/", include("consultations.urls")),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    # set_language: the language switcher posts here (the same URLs serve every language).
    path("i18n/", include("django.conf.urls.i18n")),
    # Before the admin's own login view, which has no rate limit: see views.admin_login.
    path("admin/login/", views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]
