"""Account pages of our own (allauth provides login, signup, email and password pages)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .forms import ProfileForm
from .models import Profile
from .services import profile_save


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request):
    profile = Profile.objects.filter(user=request.user).first()
    # Accounts made outside signup (createsuperuser, the admin) may have no profile yet.
    initial = {} if profile else {"display_name": request.user.get_full_name()}
    data = request.POST if request.method == "POST" else None
    form = ProfileForm(data, instance=profile, initial=initial)
    if form.is_bound and form.is_valid():
        profile_save(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your profile has been saved."))
        return redirect("accounts:profile")
    status = 400 if form.is_bound else 200
    return render(request, "accounts/profile.html", {"form": form}, status=status)
