"""Digests: one email per recipient and period listing the new comments in what they follow.

Periods. A daily digest covers the 24 hours before the last DAILY_EMAIL_HOUR o'clock (in
TIME_ZONE, UTC here): at 08:12 on 3 December with the hour at 7 the last complete period is
[2 December 07:00, 3 December 07:00), keyed "daily:2026-12-02" (the date it starts). A weekly
digest covers the seven days before the last WEEKLY_DIGEST_WEEKDAY at that hour, keyed by the
ISO week it starts in ("weekly:2026-W48" for [Monday 23 November 07:00, Monday 30 November
07:00) with the weekday at 0). Comments count in the period they were published in, which
`created_at` records.

Scheduling (`schedule_digests`, run by `manage.py send_digests` from cron or by
`manage.py run_scheduler`) makes a row per recipient who wants that frequency, has an active
follow, a verified address and at least one new published comment by someone else in what they
follow; nobody else gets a row. A fixed number of queries whatever the number of recipients.
Running it again for the same period (even at the same time, in another process) adds nothing:
the rows are inserted with ignore_conflicts against the (recipient, kind, period) constraint,
each insert tagged with a token of its own run so that only the run whose row landed enqueues it,
once its transaction commits.

The email itself is written at send time (kinds.digest): comments hidden or deleted since drop
out, and a digest with nothing left is cancelled.
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Profile
from consultations.models import Comment

from . import delivery
from .models import Follow, Notification
from .recipients import address_verified_filter

FREQUENCIES = (Profile.Digest.DAILY, Profile.Digest.WEEKLY)


def period_for(frequency: str, now: datetime | None = None) -> tuple[str, datetime, datetime]:
    """(key, since, until) of the last complete daily or weekly period at `now`."""
    now = now or timezone.now()
    zone = timezone.get_default_timezone()
    local = timezone.localtime(now, zone)
    hour = time(settings.DAILY_EMAIL_HOUR)

    def at(day) -> datetime:
        return datetime.combine(day, hour, tzinfo=zone)

    day = local.date()
    if frequency == Profile.Digest.DAILY:
        if at(day) > local:
            day -= timedelta(days=1)
        since_day = day - timedelta(days=1)
        key = f"daily:{since_day.isoformat()}"
    elif frequency == Profile.Digest.WEEKLY:
        day -= timedelta(days=(day.weekday() - settings.WEEKLY_DIGEST_WEEKDAY) % 7)
        if at(day) > local:
            day -= timedelta(days=7)
        since_day = day - timedelta(days=7)
        year, week, _weekday = since_day.isocalendar()
        key = f"weekly:{year}-W{week:02d}"
    else:
        raise ValueError(f"No digest period for {frequency!r}.")
    return key, at(since_day), at(day)


def new_comments(*, since: datetime, until: datetime):
    """Published comments of [since, until) in published consultations."""
    return Comment.objects.filter(
        status=Comment.Status.PUBLISHED,
        created_at__gte=since,
        created_at__lt=until,
        question__consultation__is_published=True,
    )


def followed_comments(user, *, since: datetime, until: datetime):
    """The new comments of [since, until) in what `user` follows now, not their own."""
    follows = Follow.objects.filter(user=user, active=True)
    return new_comments(since=since, until=until).filter(
        Q(question__in=follows.filter(question__isnull=False).values("question"))
        | Q(
            question__consultation__in=follows.filter(consultation__isnull=False).values(
                "consultation"
            )
        ),
        ~Q(author=user),
    )


def _recipients(frequency: str, since: datetime, until: datetime) -> list[int]:
    """Who gets a digest for this period: two queries, whatever their number."""
    follows = (
        Follow.objects.filter(
            active=True,
            user__is_active=True,
            user__profile__email_digest=frequency,
        )
        .exclude(user__email="")
        .filter(address_verified_filter("user", "user__email"))
        .values_list("user_id", "question_id", "consultation_id")
    )
    by_question: dict[int, set[int]] = {}
    by_consultation: dict[int, set[int]] = {}
    for user_id, question_id, consultation_id in follows:
        if question_id is not None:
            by_question.setdefault(question_id, set()).add(user_id)
        else:
            by_consultation.setdefault(consultation_id, set()).add(user_id)
    if not by_question and not by_consultation:
        return []
    followed = Follow.objects.filter(active=True, user__profile__email_digest=frequency)
    authors = (
        new_comments(since=since, until=until)
        .filter(
            Q(question__in=followed.filter(question__isnull=False).values("question"))
            | Q(
                question__consultation__in=followed.filter(consultation__isnull=False).values(
                    "consultation"
                )
            )
        )
        .order_by()
        .values_list("question_id", "question__consultation_id", "author_id")
        .distinct()
    )
    recipients: set[int] = set()
    for question_id, consultation_id, author_id in authors:
        for follower in by_question.get(question_id, set()) | by_consultation.get(
            consultation_id, set()
        ):
            if follower != author_id:
                recipients.add(follower)
    return sorted(recipients)


def schedule_digests(
    now: datetime | None = None,
    *,
    base_url: str | None = None,
    frequencies=FREQUENCIES,
) -> list[int]:
    """Create the digests owed for the last complete period of each frequency; returns the pks
    of the rows this call created (each enqueued once, after the commit)."""
    now = now or timezone.now()
    base_url = (base_url or settings.SITE_URL).rstrip("/")
    sent_from = timezone.now()  # due at once, whatever period `now` picks
    created: list[int] = []
    with transaction.atomic():
        for frequency in frequencies:
            key, since, until = period_for(frequency, now)
            recipients = _recipients(frequency, since, until)
            if not recipients:
                continue
            created += delivery.record_period(
                kind=Notification.Kind.DIGEST,
                period=key,
                since=since,
                until=until,
                recipients=recipients,
                base_url=base_url,
                due=sent_from,
            )
    return created
