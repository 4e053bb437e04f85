"""Root URLs."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views as accounts_views

from . import views

# Errors outside views, an unreachable database among them (see forum.middleware).
handler500 = "forum.views.server_error"


class FaviconRedirect(RedirectView):
    # Resolved per request: the hashed static name is known only once collectstatic has run.
    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("favicon.svg")


urlpatterns = [
    path("", views.home, name="home"),
    # Probes (exempt from the https redirect: settings.SECURE_REDIRECT_EXEMPT).
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    # Browsers ask for /favicon.ico whatever the page says. Not permanent: the static file's
    # hashed name changes with its content.
    path(
        "favicon.ico",
        FaviconRedirect.as_view(),
        name="favicon",
    ),
    path("consultations/<slug:slug>/insights/", include("insights.urls")),
    path("consultations/", include("consultations.urls")),
    path("accounts/", include("accounts.urls")),
    path("notifications/", include("notifications.urls")),
    path("api/v1/", include("api.urls")),
    path("accounts/", include("allauth.urls")),
    # set_language: the language switcher posts here (the same URLs serve every language).
    # Django's view, wrapped to remember a logged-in user's choice (accounts.views).
    path("i18n/setlang/", accounts_views.set_language, name="set_language"),
    path("privacy/", accounts_views.privacy, name="privacy"),
    # Before the admin's own login view, which has no rate limit: see views.admin_login.
    path("admin/login/", views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]
