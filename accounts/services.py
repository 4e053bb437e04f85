"""Writes to accounts data."""

from django.db import transaction

from .models import Profile


@transaction.atomic
def profile_save(*, user, display_name: str, organisation: str, stakeholder_type: str) -> Profile:
    profile, _ = Profile.objects.update_or_create(
        user=user,
        defaults={
            "display_name": display_name.strip(),
            "organisation": organisation.strip(),
            "stakeholder_type": stakeholder_type,
        },
    )
    return profile
