"""Who can be emailed: the user's current address, verified (an allauth EmailAddress row for
it, verified). Posting needs any verified address (consultations.permissions); an email goes
only to the one on the account, and only once it is confirmed."""

from allauth.account.models import EmailAddress
from django.db.models import Exists, OuterRef


def address_verified(user) -> bool:
    """Whether an email to `user` may go out now (one query; False without an address)."""
    return bool(user.email) and (
        EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()
    )


def address_verified_filter(user: str = "pk", email: str = "email") -> Exists:
    """The same, inside a query: `user` and `email` name the outer row's user and its address
    (a User query by default; e.g. "user" and "user__email" from a Follow)."""
    return Exists(
        EmailAddress.objects.filter(
            user=OuterRef(user), email__iexact=OuterRef(email), verified=True
        )
    )
