"""Site-wide pages."""

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from consultations.selectors import home_consultations


def home(request):
    return render(request, "home.html", {"consultations": home_consultations()})


@require_safe
def admin_login(request):
    """The admin's login page hands over to the site's login, so allauth's rate limits on failed
    logins and its email verification apply to staff as to everyone."""
    next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("admin:index")
    if request.user.is_authenticated:
        if admin.site.has_permission(request):
            return redirect(next_url)
        # Sending a logged-in user back to the login page would loop: allauth redirects them here.
        raise PermissionDenied(_("This account has no access to the admin."))
    return redirect_to_login(next_url)
