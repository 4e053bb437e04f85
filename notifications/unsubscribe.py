"""One-click unsubscribe (RFC 8058): each email a participant may turn off carries a link signed
for its recipient and kind, which stops that kind without a login."""

from django.core import signing
from django.urls import reverse

SALT = "notifications.unsubscribe"
# The kinds a link may stop, and the profile field each one turns off (views.STOP does it).
KINDS = {"reply": "email_replies", "digest": "email_digest", "report": "email_reports"}


def token(*, user, kind: str) -> str:
    return signing.dumps({"user": user.pk, "kind": kind}, salt=SALT, compress=True)


def url(*, base_url: str, user, kind: str) -> str:
    path = reverse("notifications:unsubscribe", kwargs={"token": token(user=user, kind=kind)})
    return base_url.rstrip("/") + path


def read(value: str) -> tuple[int, str] | None:
    """(user pk, kind) of a valid link, or None for one altered or of another site."""
    try:
        data = signing.loads(value, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        return None
    if not isinstance(data.get("user"), int):
        return None
    return data["user"], data["kind"]
