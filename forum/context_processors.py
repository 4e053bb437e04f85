"""Template context for every page: the viewer's site-wide permissions (header links)."""

from django.utils.functional import SimpleLazyObject

from consultations import permissions


def permissions_context(request) -> dict:
    user = getattr(request, "user", None)
    # Lazy: a page that never shows these links asks nothing.
    return {
        "viewer_can_moderate": SimpleLazyObject(lambda: permissions.can_moderate(user)),
        "viewer_can_use_admin": SimpleLazyObject(lambda: permissions.can_use_admin(user)),
    }


class UnreadNotifications:
    """The header's count of unread notifications: `count` (capped past UNREAD_CAP) and `shown`
    ("3", "99+"), read in one query the first time the page asks."""

    def __init__(self, user) -> None:
        self._user = user
        self._count = None

    @property
    def count(self) -> int:
        if self._count is None:
            from notifications import feed

            user = self._user
            authenticated = user is not None and user.is_authenticated
            self._count = feed.unread_count(user) if authenticated else 0
        return self._count

    @property
    def shown(self) -> str:
        from notifications import feed

        return f"{feed.UNREAD_CAP}+" if self.count > feed.UNREAD_CAP else str(self.count)

    @property
    def capped(self) -> bool:
        from notifications import feed

        return self.count > feed.UNREAD_CAP


def notifications_context(request) -> dict:
    """The unread count beside the header's Notifications link: none for the anonymous (no
    query), one query for the logged-in, only if the page shows the link. Lazy: the user is not
    even read from the session until then (the 503 page must render without the database)."""
    return {"notifications_unread": UnreadNotifications(getattr(request, "user", None))}
