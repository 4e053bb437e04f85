"""Emails to moderators about reported comments in the consultations they moderate.

Each moderator chooses on their profile (Profile.email_reports):

- "immediate": one REPORT row per moderator and reported comment, recorded by the report
  service (consultations.notifications.comment_reported), coalesced like replies (several
  reports close together make one email);
- "daily": one REPORT row per moderator and day (period "reports:YYYY-MM-DD", comment None,
  window [since, until)), recorded by `schedule_report_digests` (`manage.py
  send_digests`, run by cron at or after DAILY_EMAIL_HOUR): it lists the comments
  reported in the window that still await moderation; running it twice records it once;
- "off": none.

At send time a comment already moderated (no open report left: hidden, dismissed, deleted by
its author) is left out, and an email with nothing left is cancelled.
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile, User
from consultations.models import Comment, ModerationReason, Report

from . import unsubscribe
from .delivery import Cancel, record_period
from .models import Notification
from .recipients import address_verified, address_verified_filter

EXCERPT = 300
PERIOD_PREFIX = "reports:"

Reports = Profile.Reports


# --- Scheduling the daily email ---------------------------------------------------------------


def report_window(now) -> tuple[str, datetime, datetime]:
    """The last daily window ended by `now`: (period, since, until), `until` being the latest
    DAILY_EMAIL_HOUR (TIME_ZONE) at or before `now`, and `since` the one a day before."""
    local = timezone.localtime(now)
    day = local.date()
    until = timezone.make_aware(datetime.combine(day, time(settings.DAILY_EMAIL_HOUR)))
    if until > now:
        day -= timedelta(days=1)
        until = timezone.make_aware(datetime.combine(day, time(settings.DAILY_EMAIL_HOUR)))
    since = timezone.make_aware(
        datetime.combine(day - timedelta(days=1), time(settings.DAILY_EMAIL_HOUR))
    )
    return f"{PERIOD_PREFIX}{day.isoformat()}", since, until


def schedule_report_digests(now=None) -> int:
    """Record (once) the daily email of every moderator who chose it and has comments reported
    in the last window still awaiting moderation, and enqueue them; returns how many were
    recorded now. Safe to run any number of times: a period is recorded once per moderator."""
    now = now or timezone.now()
    period, since, until = report_window(now)
    awaiting = Report.objects.filter(
        resolution=Report.Resolution.OPEN,
        created_at__gte=since,
        created_at__lt=until,
        comment__question__consultation__moderators=OuterRef("pk"),
    )
    already = Notification.objects.filter(
        recipient=OuterRef("pk"), kind=Notification.Kind.REPORT, period=period
    )
    recipients = list(
        User.objects.filter(is_active=True, profile__email_reports=Reports.DAILY)
        .exclude(email="")
        .filter(address_verified_filter(), Exists(awaiting), ~Exists(already))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not recipients:
        return 0
    with transaction.atomic():
        # A scheduler running at the same time records the same rows: the constraint keeps one.
        recorded = record_period(
            kind=Notification.Kind.REPORT,
            period=period,
            since=since,
            until=until,
            recipients=recipients,
            base_url=settings.SITE_URL,
            due=now,
        )
    return len(recorded)


# --- What the emails say ------------------------------------------------------------------


def _open_reasons(comment_ids) -> dict[int, list[tuple[str, int]]]:
    """Per comment, its open reports counted by reason (most frequent first)."""
    counts: dict[int, list[tuple[str, int]]] = {}
    rows = (
        Report.objects.filter(comment_id__in=comment_ids, resolution=Report.Resolution.OPEN)
        .values("comment_id", "reason")
        .annotate(n=Count("pk"))
        .order_by("comment_id", "-n", "reason")
    )
    for row in rows:
        counts.setdefault(row["comment_id"], []).append(
            (str(ModerationReason(row["reason"]).label), row["n"])
        )
    return counts


def _moderated(recipient) -> set[int]:
    return set(recipient.moderated_consultations.values_list("pk", flat=True))


def stale(batch: list[Notification]) -> dict[int, str]:
    """Rows about a comment no longer awaiting moderation, or in a consultation the recipient
    no longer moderates. (A daily email is checked as a whole when it is written.)"""
    about = [row for row in batch if row.comment_id is not None]
    if not about:
        return {}
    still_open = set(
        Report.objects.filter(
            comment_id__in=[row.comment_id for row in about],
            resolution=Report.Resolution.OPEN,
        ).values_list("comment_id", flat=True)
    )
    moderated = _moderated(batch[0].recipient)
    why = {}
    for row in about:
        if row.comment_id not in still_open:
            why[row.pk] = "the comment was already moderated"
        elif row.comment.question.consultation_id not in moderated:
            why[row.pk] = "the recipient no longer moderates this consultation"
    return why


def _check_recipient(recipient, choice: str) -> None:
    profile = getattr(recipient, "profile", None)
    if profile is None or profile.email_reports != choice:
        raise Cancel(f"the recipient no longer chose {choice} emails about reports")
    if not address_verified(recipient):
        raise Cancel("the recipient's address is not verified")


def _item(comment: Comment, base_url: str, reasons) -> dict:
    text = comment.body_text
    return {
        "comment": comment,
        "author": comment.author.public_display_name,
        "consultation": comment.question.consultation,
        "question": comment.question,
        "excerpt": text[:EXCERPT] + ("…" if len(text) > EXCERPT else ""),
        "reasons": reasons,
        "report_count": sum(n for _label, n in reasons),
        "moderate_url": base_url + reverse("consultations:moderate", args=[comment.pk]),
        "url": base_url + comment.get_absolute_url(),
    }


def _context(batch: list[Notification], items: list[dict]) -> dict:
    notification = batch[0]
    recipient = notification.recipient
    base_url = notification.base_url.rstrip("/")
    return {
        "recipient": recipient,
        "items": items,
        "count": len(items),
        "queue_url": base_url + reverse("consultations:moderation_queue"),
        "unsubscribe_url": unsubscribe.url(
            base_url=notification.base_url, user=recipient, kind=notification.kind
        ),
        "settings_url": base_url + reverse("accounts:profile"),
    }


def render(batch: list[Notification]):
    """The renderer of REPORT rows (kinds.RENDERERS): the daily email, or the immediate one."""
    if batch[0].period:
        return _render_daily(batch[0])
    notification = batch[0]
    recipient = notification.recipient
    _check_recipient(recipient, Reports.IMMEDIATE)
    base_url = notification.base_url.rstrip("/")
    reasons = _open_reasons([row.comment_id for row in batch])
    items = [
        _item(row.comment, base_url, reasons[row.comment_id])
        for row in batch
        if row.comment_id in reasons
    ]
    if not items:
        raise Cancel("the comment was already moderated")
    return "notifications/email/report", _context(batch, items), recipient.email


def awaiting_in_window(recipient, since, until) -> list[Comment]:
    """The comments reported in [since, until), in the consultations `recipient` moderates,
    that still await moderation, by consultation, question and thread order."""
    in_window = Q(
        reports__resolution=Report.Resolution.OPEN,
        reports__created_at__gte=since,
        reports__created_at__lt=until,
    )
    return list(
        Comment.objects.filter(in_window, question__consultation__moderators=recipient)
        .annotate(reported_in_window=Count("reports", filter=in_window, distinct=True))
        .select_related("author__profile", "question__consultation")
        .order_by("question__consultation__title", "question__number", "tree_id", "lft")
    )


def _render_daily(notification: Notification):
    recipient = notification.recipient
    _check_recipient(recipient, Reports.DAILY)
    comments = awaiting_in_window(recipient, notification.since, notification.until)
    if not comments:
        raise Cancel("nothing reported in the period awaits moderation")
    base_url = notification.base_url.rstrip("/")
    reasons = _open_reasons([c.pk for c in comments])
    items = [_item(c, base_url, reasons.get(c.pk, [])) for c in comments]
    context = {
        **_context([notification], items),
        "since": notification.since,
        "until": notification.until,
    }
    return "notifications/email/report_digest", context, recipient.email
