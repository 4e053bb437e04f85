"""Following consultations and questions (notifications/follows.py)."""

import pytest
from django.core.exceptions import PermissionDenied

from consultations import services
from notifications import follows
from notifications.models import Follow

pytestmark = pytest.mark.django_db


def test_follow_and_unfollow_a_question(question, user):
    assert not follows.is_following(user, question=question)
    follows.follow(user, question=question)
    assert follows.is_following(user, question=question)
    follows.follow(user, question=question)  # twice: still one row
    assert Follow.objects.filter(user=user).count() == 1
    follows.unfollow(user, question=question)
    assert not follows.is_following(user, question=question)


def test_follow_a_consultation(question, user):
    consultation = question.consultation
    follows.follow(user, consultation=consultation)
    assert follows.is_following(user, consultation=consultation)
    assert not follows.is_following(user, question=question)


def test_one_target_exactly(question, user):
    with pytest.raises(ValueError):
        follows.follow(user)
    with pytest.raises(ValueError):
        follows.follow(user, consultation=question.consultation, question=question)


def test_anonymous_and_unpublished_are_refused(question, user):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        follows.follow(AnonymousUser(), question=question)
    consultation = question.consultation
    consultation.is_published = False
    consultation.save()
    with pytest.raises(PermissionDenied):
        follows.follow(user, question=question)
    assert not Follow.objects.exists()


def test_posting_follows_the_question(question, user):
    services.comment_create(question=question, author=user, body="A first comment.")
    assert follows.is_following(user, question=question)


def test_posting_again_after_unfollowing_does_not_follow_again(question, user):
    services.comment_create(question=question, author=user, body="A first comment.")
    follows.unfollow(user, question=question)
    services.comment_create(question=question, author=user, body="A second comment.")
    assert not follows.is_following(user, question=question)


def test_posting_does_not_follow_when_turned_off(question, user):
    user.profile.follow_on_post = False
    user.profile.save()
    services.comment_create(question=question, author=user, body="A first comment.")
    assert not Follow.objects.filter(user=user).exists()
