"""Account pages of our own (allauth provides login, signup, email and password pages)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.http import require_http_methods

from .forms import AccountDeleteForm, ProfileForm
from .models import Profile
from .services import account_delete, profile_save, profile_set_language


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request):
    profile = Profile.objects.filter(user=request.user).first()
    # Accounts made outside signup (createsuperuser, the admin) may have no profile yet.
    initial = {} if profile else {"display_name": request.user.get_full_name()}
    data = request.POST if request.method == "POST" else None
    form = ProfileForm(data, instance=profile, initial=initial, user=request.user)
    if form.is_bound and form.is_valid():
        profile = profile_save(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your profile has been saved."))
        response = redirect("accounts:profile")
        if profile.language:
            # The site switches to the chosen language too, as the footer's switcher does.
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                profile.language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response
    status = 400 if form.is_bound else 200
    return render(request, "accounts/profile.html", {"form": form}, status=status)


def set_language(request):
    """Django's set_language (the footer's switcher), remembering a logged-in user's choice on
    their profile: emails to them are then written in it."""
    response = i18n.set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        profile_set_language(user=request.user, language=request.POST.get("language", ""))
    return response


@login_required
@require_http_methods(["GET", "POST"])
def account_delete_view(request):
    """Delete my account: what happens is said first; the password confirms (accounts.services
    .account_delete). A wrong password keeps the choice made and changes nothing."""
    form = AccountDeleteForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            account_delete(
                user=request.user,
                password=form.cleaned_data["password"],
                comments=form.cleaned_data["comments"],
            )
        except ValidationError as error:
            form.add_error("password" if error.code == "password" else None, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            logout(request)
            messages.success(
                request,
                _("Your account has been deleted. Thank you for taking part in the consultations."),
            )
            return redirect("home")
    status = 400 if form.is_bound else 200
    return render(request, "accounts/delete.html", {"form": form}, status=status)


def privacy(request):
    """The privacy notice: what is kept, shown, exported and for how long."""
    return render(request, "privacy.html")
