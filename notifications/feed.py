"""What the Notifications page lists, and how much of it is unread.

A user's feed: published comments, not their own, in published consultations, that reply to
one of their comments or were posted in a consultation or question they follow (since they
started following it). Newest first. Unread: newer than profile.notifications_seen_at (all of
it when they never looked). Hidden and deleted comments never appear. A page of it, or the
unread count, is a fixed number of queries whatever its length."""

from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.text import Truncator

from accounts.models import AUTHOR_FIELDS, AUTHOR_TYPE, Profile, StakeholderType, public_author
from consultations.models import Comment

from .models import Follow

PER_PAGE = 30
EXCERPT_CHARS = 240
# The header shows "99+" beyond this: counting stops there.
UNREAD_CAP = 99


def comments_for(user) -> QuerySet:
    """The comments of the user's feed (unordered)."""
    follows = Follow.objects.filter(user=user, active=True, created_at__lte=OuterRef("created_at"))
    followed = follows.filter(
        Q(question_id=OuterRef("question_id"))
        | Q(consultation_id=OuterRef("question__consultation_id"))
    )
    return (
        Comment.objects.published()
        .filter(question__consultation__is_published=True)
        .exclude(author=user)
        .filter(Q(parent__author=user) | Exists(followed))
    )


def _seen_at(user):
    """The user's last look at the page, as a subquery (no query of its own)."""
    return Subquery(Profile.objects.filter(user=user).values("notifications_seen_at")[:1])


def unread_count(user) -> int:
    """How many of the feed's comments are unread, up to UNREAD_CAP + 1: one query."""
    comments = comments_for(user)
    never_seen = Profile.objects.filter(user=user, notifications_seen_at__isnull=True)
    comments = comments.filter(Q(created_at__gt=_seen_at(user)) | Exists(never_seen))
    return comments.values("pk")[: UNREAD_CAP + 1].count()


@dataclass
class FeedItem:
    pk: int
    url: str
    author_name: str
    stakeholder_type: str
    consultation_title: str
    consultation_language: str
    question_number: int
    question_text: str
    excerpt: str
    created_at: datetime
    is_reply: bool
    unread: bool


def seen_at(user) -> datetime | None:
    """When the user last looked at the page (None: never): one query."""
    return Profile.objects.filter(user=user).values_list("notifications_seen_at", flat=True).first()


def page(user, page_number, *, seen: datetime | None) -> Page:
    """A page of the feed, newest first, as FeedItems marked unread after `seen`: two queries
    (the count and the page), whatever the page holds."""
    rows = (
        comments_for(user)
        .order_by("-created_at", "-pk")
        .values_list(
            "pk",
            *(f"author__{name}" for name in AUTHOR_FIELDS),
            "question__consultation__title",
            "question__consultation__language",
            "question__number",
            "question__text",
            "body_text",
            "created_at",
            "parent__author_id",
        )
    )
    result = Paginator(rows, PER_PAGE).get_page(page_number)
    labels = dict(StakeholderType.choices)
    items = []
    for (
        pk,
        *author,
        title,
        language,
        number,
        text,
        body_text,
        created_at,
        parent_author_id,
    ) in result.object_list:
        kind = author[AUTHOR_TYPE]
        items.append(
            FeedItem(
                pk=pk,
                url=Comment(pk=pk).get_absolute_url(),
                author_name=public_author(*author)[0],
                stakeholder_type=str(labels.get(kind, "")) if kind else "",
                consultation_title=title,
                consultation_language=language,
                question_number=number,
                question_text=text,
                excerpt=Truncator(body_text).chars(EXCERPT_CHARS),
                created_at=created_at,
                is_reply=parent_author_id == user.pk,
                unread=seen is None or created_at > seen,
            )
        )
    result.object_list = items
    return result


def mark_seen(user, now=None) -> None:
    """The user has seen their feed up to now: one query."""
    Profile.objects.filter(user=user).update(notifications_seen_at=now or timezone.now())
