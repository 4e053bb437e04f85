"""Who may do what: one answer shared by views, templates and services."""

from allauth.account.models import EmailAddress


def has_verified_email(user) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and EmailAddress.objects.filter(user=user, verified=True).exists()
    )


def can_moderate_comments(user) -> bool:
    # Moderators are staff (they work in the admin too); checking that first spares
    # everyone else the permission queries.
    return (
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("consultations.change_comment")
    )


def can_export(user) -> bool:
    return user.is_authenticated and user.is_active and user.is_staff


def can_download_withheld_attachments(user) -> bool:
    """Files of hidden or deleted comments, or of unpublished consultations: moderators, and the
    staff who export those comments (their CSV links to the files)."""
    return can_moderate_comments(user) or can_export(user)
