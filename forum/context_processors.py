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
