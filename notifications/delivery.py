"""Recording and sending notifications: exactly one row per event, claimed before each send.

A write records its row in its own transaction (`record`) and enqueues the sending task once it
commits. The task (`deliver`) claims the row with one conditional UPDATE (pending -> sending),
which two workers cannot both win on SQLite or PostgreSQL (there the second waits for the row
lock, then finds it no longer pending), sends it through Django's mail API and marks it sent.
An SMTP failure puts it back to pending with a later `next_attempt_at` (the backoff) until
NOTIFICATION_MAX_ATTEMPTS; a row left in `sending` longer than NOTIFICATION_SENDING_TIMEOUT
belongs to a worker that died and is reclaimed by `manage.py send_pending_notifications`.

What remains: sending and marking sent cannot be one atomic step. A worker that dies after the
SMTP server accepted the message and before its UPDATE commits leaves the row in `sending`, and
the reclaim sends it again. The window is one UPDATE long; every copy carries the same
Message-ID (`<notification-ID@host>`) so that mail systems can recognise the duplicate.

Coalescing: events of the kinds in COALESCED (replies, reports to moderators) wait
NOTIFICATION_COALESCE_SECONDS for more of the same to the same person. The first one opens a
window (its `next_attempt_at` is created_at + the delay, its task deferred until then); the
next ones join it (the same `next_attempt_at`). When it ends, one `deliver` claims all of that
recipient's pending rows of the kind that are due, in one conditional UPDATE, and sends them as
one email: the batch. A row no longer owed (its reply hidden or deleted since) is cancelled
alone and the rest are sent; retries, backoff and the failed state then apply to the whole
batch, whose Message-ID is its first row's. A delay of 0, or a task backend that cannot defer
(the tests' ImmediateBackend), sends each event as it comes. Rows about a period (digests)
are never batched.
"""

import logging
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone, translation

from . import unsubscribe
from .models import Notification

logger = logging.getLogger(__name__)

State = Notification.State


class Cancel(Exception):
    """The email is no longer owed (raised by a kind's renderer at send time)."""


# The kinds whose events to one recipient are sent together when they come close together.
COALESCED = {Notification.Kind.REPLY, Notification.Kind.REPORT}


def record(*, recipient, kind: str, comment, base_url: str) -> Notification | None:
    """Record the event once (None if it was recorded before) and send it after the commit,
    at the end of its coalescing window for the kinds in COALESCED."""
    now = timezone.now()
    due = _window_end(recipient=recipient, kind=kind, now=now)
    notification, created = Notification.objects.get_or_create(
        recipient=recipient,
        kind=kind,
        comment=comment,
        defaults={"base_url": base_url, "created_at": now, "next_attempt_at": due},
    )
    if not created:
        return None
    run_after = due if due > now else None
    transaction.on_commit(lambda: enqueue(notification.pk, run_after=run_after))
    return notification


def record_period(
    *, kind: str, period: str, since, until, recipients, base_url: str, due
) -> list[int]:
    """Record one row of `kind` per recipient for a period (a digest, a moderator's daily
    email), due at `due`, and send each after the commit; returns the pks of the rows this call
    created. A row already there, from an earlier run or a concurrent one, stays as it is: the
    unique (recipient, kind, period) constraint keeps one, and only its creator enqueues it."""
    # `claim` is free until a worker claims the row (deliver overwrites it): here it tells this
    # call's rows from a concurrent call's.
    run = uuid.uuid4()
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=recipient_id,
                kind=kind,
                period=period,
                since=since,
                until=until,
                base_url=base_url,
                created_at=due,
                next_attempt_at=due,
                claim=run,
            )
            for recipient_id in recipients
        ],
        ignore_conflicts=True,
    )
    created = list(
        Notification.objects.filter(kind=kind, period=period, claim=run).values_list(
            "pk", flat=True
        )
    )
    for pk in created:
        transaction.on_commit(lambda pk=pk: enqueue(pk))
    return created


def coalescing(kind: str) -> bool:
    """Whether events of `kind` wait for others to go in one email (see the module)."""
    from .tasks import send_notification

    return (
        kind in COALESCED
        and settings.NOTIFICATION_COALESCE_SECONDS > 0
        and send_notification.get_backend().supports_defer
    )


def _window_end(*, recipient, kind: str, now):
    """When a new event's email is due: now, or the end of the recipient's open window."""
    if not coalescing(kind):
        return now
    delay = timedelta(seconds=settings.NOTIFICATION_COALESCE_SECONDS)
    # A window opened less than the delay ago (not a row waiting for a later retry).
    open_window = (
        Notification.objects.filter(
            recipient=recipient,
            kind=kind,
            period="",
            state=State.PENDING,
            next_attempt_at__lte=now + delay,
        )
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    return open_window if open_window is not None else now + delay


def enqueue(notification_id: int, *, run_after=None) -> None:
    """Queue the sending task. A backend that cannot defer (the tests' ImmediateBackend) gets no
    delayed retry: the row stays pending and `send_pending_notifications` picks it up."""
    from .tasks import send_notification

    if run_after is not None:
        if not send_notification.get_backend().supports_defer:
            return
        # Up to the next whole second: rq's scheduler keeps whole seconds (truncated), and a task
        # run before the row is due finds nothing to do.
        if run_after.microsecond:
            run_after = run_after.replace(microsecond=0) + timedelta(seconds=1)
        send_notification.using(run_after=run_after).enqueue(notification_id)
    else:
        send_notification.enqueue(notification_id)


def backoff(attempts: int) -> timedelta:
    """The wait before the next try after `attempts` failed ones: 1, 2, 4, 8... times the base."""
    return timedelta(seconds=settings.NOTIFICATION_RETRY_SECONDS * 2 ** max(attempts - 1, 0))


def deliver(notification_id: int, *, now=None) -> str:
    """Send one notification, with the others of its batch, if it is due and nobody else holds
    it; returns what happened."""
    from . import kinds

    now = now or timezone.now()
    token = uuid.uuid4()
    due = Notification.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
    head = due.filter(pk=notification_id).values("recipient_id", "kind", "period").first()
    if head is None:
        return _not_claimed(notification_id, now)
    if head["period"] == "" and coalescing(head["kind"]):
        # The whole batch: every due row of this recipient and kind, this one among them.
        batch_rows = due.filter(recipient_id=head["recipient_id"], kind=head["kind"], period="")
    else:
        batch_rows = due.filter(pk=notification_id)
    claimed = batch_rows.update(
        state=State.SENDING, claim=token, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return _not_claimed(notification_id, now)
    mine = Notification.objects.filter(claim=token, state=State.SENDING)
    batch = list(
        mine.select_related(
            "recipient__profile", "comment__author__profile", "comment__question__consultation"
        ).order_by("created_at", "pk")
    )
    # Rows no longer owed on their own (a reply hidden since): cancelled, the others go on.
    stale = kinds.STALE[head["kind"]](batch) if head["kind"] in kinds.STALE else {}
    for pk, reason in stale.items():
        mine.filter(pk=pk).update(state=State.CANCELLED, last_error=reason)
    owed = [notification for notification in batch if notification.pk not in stale]
    if not owed:
        return f"cancelled: {next(iter(stale.values()))}"
    try:
        message = build_message(owed)
    except Cancel as why:
        mine.update(state=State.CANCELLED, last_error=str(why))
        return f"cancelled: {why}"
    try:
        message.send()
    except Exception as error:  # SMTP refusals, connection failures, timeouts
        logger.warning("Notification %s: sending failed: %r", notification_id, error)
        attempts = max(notification.attempts for notification in owed)
        if attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            mine.update(state=State.FAILED, last_error=repr(error)[:2000])
            return "failed"
        retry_at = now + backoff(attempts)
        if mine.update(
            state=State.PENDING, next_attempt_at=retry_at, last_error=repr(error)[:2000]
        ):
            enqueue(owed[0].pk, run_after=retry_at)
        return "retry"
    mine.update(state=State.SENT, sent_at=timezone.now(), last_error="")
    return "sent" if len(owed) == 1 else f"sent {len(owed)} in one email"


def _not_claimed(notification_id: int, now) -> str:
    """A task that found its row not due, or held by another worker. Run early (a backend's
    clock, a scheduler's rounding to whole seconds), it is queued again for the row's time."""
    due_at = (
        Notification.objects.filter(pk=notification_id, state=State.PENDING)
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if due_at is not None and due_at > now:
        enqueue(notification_id, run_after=due_at)
        return "not due yet: deferred to its time"
    return "not due or claimed elsewhere"


def reclaim_stuck(*, now=None) -> tuple[int, int]:
    """Rows left in `sending` past the timeout: pending again, or failed after the last try."""
    now = now or timezone.now()
    stuck = Notification.objects.filter(
        state=State.SENDING,
        claimed_at__lt=now - timedelta(seconds=settings.NOTIFICATION_SENDING_TIMEOUT),
    )
    error = "reclaimed: the worker sending it did not finish"
    failed = stuck.filter(attempts__gte=settings.NOTIFICATION_MAX_ATTEMPTS).update(
        state=State.FAILED, last_error=error
    )
    pending = stuck.update(state=State.PENDING, next_attempt_at=now, last_error=error)
    return pending, failed


def build_message(batch: list[Notification]) -> EmailMultiAlternatives:
    """One email for a batch (rows of one recipient and kind, oldest first) in the recipient's
    language; raises Cancel when it is no longer owed."""
    from accounts import language_for

    from . import kinds

    notification = batch[0]
    render = kinds.RENDERERS[notification.kind]
    language = language_for(notification.recipient)
    with translation.override(language):
        template, context, to = render(batch)
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    message = compose(
        template=template,
        context=context,
        to=to,
        language=language,
        # The same on every attempt: a duplicate (see the module's docstring) is recognisable.
        # A batch is named after its first row.
        message_id=f"<notification-{notification.pk}@{host}>",
    )
    if notification.kind in unsubscribe.KINDS:
        # One click in the mail client stops this kind of email (RFC 2369, RFC 8058).
        link = unsubscribe.url(
            base_url=notification.base_url, user=notification.recipient, kind=notification.kind
        )
        message.extra_headers["List-Unsubscribe"] = f"<{link}>"
        message.extra_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


def compose(
    *, template: str, context: dict, to: str, language: str, message_id: str | None = None
) -> EmailMultiAlternatives:
    """An email from `template`'s _subject.txt, _message.txt and, if there is one,
    _message.html, written in `language`. The notifications' emails are built with it, and so
    are the site's transactional ones sent from a task (accounts.my_data), which carry no
    List-Unsubscribe: the caller adds that header to the kinds one may stop."""
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}_message.txt", context)
        try:
            html = render_to_string(f"{template}_message.html", context)
        except TemplateDoesNotExist:  # a kind may have a plain text part only
            html = None
    headers = {"Content-Language": language}
    if message_id:
        headers["Message-ID"] = message_id
    message = EmailMultiAlternatives(subject, body, None, [to], headers=headers)
    if html is not None:
        message.attach_alternative(html, "text/html")
    return message
