"""Account pages of our own (allauth provides login, signup, email and password pages)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.http import require_GET, require_http_methods

from . import my_data
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


@login_required
@require_http_methods(["GET", "POST"])
def my_data_page(request):
    """Download my data: what the file holds, the latest request's state, and the button that
    asks for a new one (built in the background and emailed: accounts.my_data)."""
    if request.method == "POST":
        try:
            export, created = my_data.export_request(
                user=request.user, base_url=request.build_absolute_uri("/")
            )
        except my_data.TooManyExports as limit:
            context = _my_data_context(request.user, retry_at=limit.retry_at)
            return render(request, "accounts/my_data.html", context, status=429)
        if created:
            messages.success(
                request,
                _(
                    "We are preparing your data. We will email you a link to download it when "
                    "it is ready, usually within a few minutes."
                ),
            )
        else:
            messages.info(
                request,
                _(
                    "Your data is already being prepared. We will email you a link when it is "
                    "ready."
                ),
            )
        return redirect("accounts:my_data")
    return render(request, "accounts/my_data.html", _my_data_context(request.user))


def _my_data_context(user, **extra) -> dict:
    return {
        "status": my_data.status(user=user),
        "limit": settings.DATA_EXPORTS_PER_DAY,
        "days": int(settings.DATA_EXPORT_DAYS),
        **extra,
    }


@login_required
@require_GET
def my_data_download(request, token: str):
    """The emailed link: the ZIP, for the logged-in participant it was made for (404 for anyone
    else); a page offering a new file once the link no longer works."""
    try:
        export = my_data.export_for_download(user=request.user, value=token)
    except my_data.LinkExpired:
        return render(request, "accounts/my_data_expired.html", status=410)
    response = FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=my_data.download_name(export),
        content_type="application/zip",
    )
    # Personal data: kept by no shared cache, nor by the browser's.
    response["Cache-Control"] = "private, no-store"
    return response
