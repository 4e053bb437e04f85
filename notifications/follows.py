"""Following consultations and questions: what a user follows reaches them in the digest and on
their Notifications page. Posting in a question follows it unless the user turned that off
(profile.follow_on_post) or unfollowed that question before."""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from .models import Follow


def _target(*, consultation=None, question=None) -> dict:
    if (consultation is None) == (question is None):
        raise ValueError("Follow a consultation or a question, not both or neither.")
    return {"consultation": consultation} if consultation is not None else {"question": question}


def _check_can_follow(user, *, consultation=None, question=None) -> None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied(_("Log in to follow a consultation or a question."))
    shown = consultation if consultation is not None else question.consultation
    if not shown.is_published:
        raise PermissionDenied(_("This consultation is not published."))


def _set(user, active: bool, **target) -> Follow:
    """Create or update the user's follow of the target; safe against a concurrent twin."""
    for _attempt in range(2):
        follow = Follow.objects.filter(user=user, **target).first()
        if follow is not None:
            if follow.active != active:
                follow.active = active
                follow.save(update_fields=["active"])
            return follow
        try:
            with transaction.atomic():
                return Follow.objects.create(user=user, active=active, **target)
        except IntegrityError:  # created meanwhile by another request: update that one
            continue
    raise RuntimeError("unreachable")  # pragma: no cover


def follow(user, *, consultation=None, question=None) -> Follow:
    target = _target(consultation=consultation, question=question)
    _check_can_follow(user, consultation=consultation, question=question)
    return _set(user, True, **target)


def unfollow(user, *, consultation=None, question=None) -> Follow:
    target = _target(consultation=consultation, question=question)
    _check_can_follow(user, consultation=consultation, question=question)
    return _set(user, False, **target)


def is_following(user, *, consultation=None, question=None) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    target = _target(consultation=consultation, question=question)
    return Follow.objects.filter(user=user, active=True, **target).exists()


def follow_on_post(user, question) -> None:
    """Called by the comment service in its transaction: the author now follows the question,
    unless they turned that off or once unfollowed it (a row with active=False stays so)."""
    profile = getattr(user, "profile", None)
    if profile is not None and not profile.follow_on_post:
        return
    if Follow.objects.filter(user=user, question=question).exists():
        return
    try:
        with transaction.atomic():
            Follow.objects.create(user=user, question=question)
    except IntegrityError:  # their other post in the same question just did it
        pass


def followed_on_page(user, consultation) -> tuple[bool, set[int]]:
    """Whether the user follows the consultation, and which of its questions they follow: one
    query for a page's buttons, whatever its number of questions; none for the anonymous."""
    if not getattr(user, "is_authenticated", False):
        return False, set()
    consultation_followed, question_ids = False, set()
    rows = Follow.objects.filter(user=user, active=True).filter(
        Q(consultation=consultation) | Q(question__consultation=consultation)
    )
    for consultation_id, question_id in rows.values_list("consultation_id", "question_id"):
        if consultation_id is not None:
            consultation_followed = True
        else:
            question_ids.add(question_id)
    return consultation_followed, question_ids
