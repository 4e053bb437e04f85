"""Accounts: the user model, stakeholder profiles and the django-allauth integration."""

from django.conf import settings


def language_for(user) -> str:
    """The language to write to this user in (emails): the one they chose, else the site's.

    Use with ``django.utils.translation.override(language_for(user))``.
    """
    profile = getattr(user, "profile", None)  # None also for accounts without a profile
    chosen = profile.language if profile is not None else ""
    return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
