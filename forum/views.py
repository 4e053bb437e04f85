"""Site-wide pages."""

from django.shortcuts import render

from consultations.selectors import home_consultations


def home(request):
    return render(request, "home.html", {"consultations": home_consultations()})
