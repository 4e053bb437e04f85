"""Download my data: a participant's ZIP of JSON files (profile, comments with their revisions,
reports, notification settings), built by a background task and emailed as a link that expires.

`export_request` records a DataExport row and enqueues `accounts.tasks.build_data_export` once
its transaction commits. One request per user is on its way at a time (the user's row is locked
while checking, and a partial unique constraint has the last word), and at most
DATA_EXPORTS_PER_DAY are made in 24 hours. The task (`build`) claims the row with one
conditional UPDATE (queued -> building, so a task run twice builds once), reads the data in a
fixed number of queries (`collect`), writes the ZIP to default_storage under a random name,
marks it done, deletes the user's older files and emails a link (`send_ready_email`).

The link carries a token signed for the user and the export (`token`), good for
DATA_EXPORT_DAYS; the download also requires being logged in as that user, and checks the row's
state and expires_at again (`export_for_download`). `delete_expired` (`manage.py
delete_expired_data_exports`, hourly from cron; `run_scheduler` runs it too) deletes the files
whose time is up.

Nothing about other people goes in: a reply names its parent comment by id only, a revision
says whether the participant or a moderator made the edit (not who), and a report says which
comment, why and when (not the moderators' decision, notes or names).
"""

import json
import logging
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from consultations import attachments
from consultations.models import Comment, ModerationReason, Report
from notifications.models import Follow
from notifications.recipients import address_verified

from . import language_for
from .models import DataExport, Profile, StakeholderType, User

logger = logging.getLogger(__name__)

State = DataExport.State
SALT = "accounts.my_data.download"
# Written into the ZIP in this order, with README.txt first.
FILES = ("profile.json", "comments.json", "reports.json", "notifications.json")
# The ZIP is kept in memory up to this size while it is written, then in a temporary file.
SPOOL_BYTES = 10 * 1024 * 1024


class TooManyExports(Exception):
    """The participant already asked for DATA_EXPORTS_PER_DAY files in the last 24 hours."""

    def __init__(self, retry_at: datetime) -> None:
        super().__init__(f"too many data exports; the next one from {retry_at:%Y-%m-%d %H:%M}")
        self.retry_at = retry_at


class LinkExpired(Exception):
    """A download link of this user that no longer works: past its time, or its file deleted
    (expired, or replaced by a newer one). The page offers to prepare a new file."""


# --- Asking for a file -------------------------------------------------------------------------


def export_request(*, user, base_url: str, now: datetime | None = None) -> tuple[DataExport, bool]:
    """Ask for a new file for `user` (the logged-in participant; PermissionDenied otherwise).
    Returns (export, created): the one already on its way (created False) when there is one.
    Raises TooManyExports past DATA_EXPORTS_PER_DAY in 24 hours."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied("Log in to download your data.")
    now = now or timezone.now()
    with transaction.atomic():
        # Serialises one user's requests on PostgreSQL, so that two clicks at once read the same
        # count; SQLite runs one write transaction at a time. The constraint below is the last
        # word on both.
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
        _fail_stale(now=now, user=user)
        pending = DataExport.objects.filter(user=user, state__in=DataExport.PENDING).first()
        if pending is not None:
            return pending, False
        # Failed builds are not counted: they are the site's fault, not the participant's.
        recent = list(
            DataExport.objects.filter(user=user, created_at__gt=now - timedelta(days=1))
            .exclude(state=State.FAILED)
            .order_by("created_at")
            .values_list("created_at", flat=True)
        )
        limit = settings.DATA_EXPORTS_PER_DAY
        if len(recent) >= limit:
            # Another is allowed once the oldest of the last `limit` is a day old.
            raise TooManyExports(retry_at=recent[len(recent) - limit] + timedelta(days=1))
        try:
            with transaction.atomic():
                export = DataExport.objects.create(user=user, base_url=base_url, created_at=now)
        except IntegrityError:
            # A concurrent request (on a database without the row lock) queued one first.
            pending = DataExport.objects.filter(user=user, state__in=DataExport.PENDING).first()
            if pending is None:
                raise
            return pending, False
        transaction.on_commit(lambda: enqueue(export.pk))
    return export, True


def enqueue(export_id: int) -> None:
    from .tasks import build_data_export

    build_data_export.enqueue(export_id)


def _fail_stale(*, now: datetime, user=None) -> int:
    """Requests queued or being built for longer than DATA_EXPORT_STALE_SECONDS: their task was
    lost or their worker died. Marked failed, so that the participant may ask again."""
    stale = DataExport.objects.filter(
        state__in=DataExport.PENDING,
        created_at__lt=now - timedelta(seconds=settings.DATA_EXPORT_STALE_SECONDS),
    )
    if user is not None:
        stale = stale.filter(user=user)
    return stale.update(state=State.FAILED, last_error="lost: not built in time")


# --- Building it (the task) --------------------------------------------------------------------


def build(export_id: int, *, now: datetime | None = None) -> str:
    """Build the file of one queued request, store it, email the link; returns what happened."""
    now = now or timezone.now()
    claimed = DataExport.objects.filter(pk=export_id, state=State.QUEUED).update(
        state=State.BUILDING, started_at=now
    )
    if not claimed:
        return "not queued: built, failed or claimed elsewhere"
    export = DataExport.objects.select_related("user__profile").get(pk=export_id)
    try:
        _write(export)
    except Exception as error:
        logger.exception("Data export %s: building failed", export_id)
        DataExport.objects.filter(pk=export_id, state=State.BUILDING).update(
            state=State.FAILED, last_error=repr(error)[:2000]
        )
        if export.file:
            export.file.delete(save=False)
        return "failed"
    built_at = timezone.now()
    expires_at = built_at + timedelta(days=settings.DATA_EXPORT_DAYS)
    done = DataExport.objects.filter(pk=export_id, state=State.BUILDING).update(
        state=State.DONE,
        file=export.file.name,
        size=export.size,
        built_at=built_at,
        expires_at=expires_at,
    )
    if not done:  # taken for lost meanwhile (_fail_stale): the participant may ask again
        export.file.delete(save=False)
        return "failed: no longer building"
    export.state, export.built_at, export.expires_at = State.DONE, built_at, expires_at
    # One file per participant at a time: the older ones (and their links) end here.
    for older in DataExport.objects.filter(user_id=export.user_id, state=State.DONE).exclude(
        pk=export.pk
    ):
        _expire(older)
    try:
        sent = send_ready_email(export)
    except Exception as error:  # SMTP refusals, timeouts: the page still offers the file
        logger.warning("Data export %s: the email failed: %r", export_id, error)
        return "built; the email failed"
    return "built and emailed" if sent else "built; no verified address to email"


def _write(export: DataExport) -> None:
    """The ZIP, in the participant's language (labels, README), into export.file and size."""
    user = export.user
    with translation.override(language_for(user)):
        files = collect(user, base_url=export.base_url)
        readme = render_to_string(
            "accounts/my_data/README.txt",
            {"user": user, "built_at": timezone.now(), "site_url": export.base_url},
        )
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", readme)
            for name in FILES:
                text = json.dumps(files[name], cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
                archive.writestr(name, text + "\n")
        export.size = spool.tell()
        spool.seek(0)
        # upload_to gives it a random name; the row is written by build's conditional UPDATE.
        export.file.save("data.zip", File(spool), save=False)


def collect(user, *, base_url: str) -> dict[str, object]:
    """The participant's data, file by file: a fixed number of queries however many comments,
    revisions, attachments, reports and follows there are. Only `user`'s own rows are read."""
    base = base_url.rstrip("/")
    profile = getattr(user, "profile", None)
    addresses = [
        {"email": row.email, "verified": row.verified, "primary": row.primary}
        for row in EmailAddress.objects.filter(user=user).order_by("-primary", "email")
    ]
    comments = (
        Comment.objects.filter(author=user)
        .select_related("question__consultation")
        .prefetch_related("objectives", "revisions", "attachments")
        .order_by("created_at", "pk")
    )
    reports = Report.objects.filter(reporter=user).order_by("created_at", "pk")
    follows = (
        Follow.objects.filter(user=user)
        .select_related("consultation", "question__consultation")
        .order_by("created_at", "pk")
    )
    return {
        "profile.json": _profile(user, profile, addresses),
        "comments.json": [_comment(comment, user=user, base=base) for comment in comments],
        "reports.json": [_report(report, base=base) for report in reports],
        "notifications.json": _notifications(profile, follows, base=base),
    }


def _choice(value: str, choices) -> dict[str, str]:
    """A stored code with its label in the participant's language."""
    return {"code": value, "label": str(dict(choices).get(value, value))}


def _profile(user, profile, addresses: list[dict]) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "email_addresses": addresses,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
    }
    if profile is None:  # accounts made outside signup (createsuperuser) may have none
        return {**data, "display_name": None}
    return {
        **data,
        "display_name": profile.display_name,
        "organisation": profile.organisation,
        "stakeholder_type": _choice(profile.stakeholder_type, StakeholderType.choices),
        "byline": _choice(profile.byline, Profile.Byline.choices),
        "language": profile.language or None,
        "deleted_at": profile.deleted_at,
    }


def _comment(comment: Comment, *, user, base: str) -> dict:
    question = comment.question
    consultation = question.consultation
    return {
        "id": comment.pk,
        "permalink": base + comment.get_absolute_url(),
        "consultation": {
            "title": consultation.title,
            "url": base + consultation.get_absolute_url(),
        },
        "question": {"number": question.number, "text": question.text},
        # The comment it replies to, by id only: its author and text are someone else's.
        "in_reply_to": comment.parent_id,
        "status": _choice(comment.status, Comment.Status.choices),
        "hidden_reason": comment.hidden_reason or None,
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
        "body_html": comment.body,
        "body_text": comment.body_text,
        "objectives": [
            {"number": objective.number, "title": objective.display_title}
            for objective in comment.objectives.all()
        ],
        # Earlier versions, newest first (CommentRevision's ordering).
        "revisions": [
            {
                "replaced_at": revision.replaced_at,
                "body_html": revision.body,
                "objectives": [int(n) for n in revision.objectives.split(";") if n.isdigit()],
                # Who, when it was not the participant, is a moderator's name: not theirs.
                "edited_by": "you" if revision.edited_by_id == user.pk else "a moderator",
            }
            for revision in comment.revisions.all()
        ],
        "attachments": [
            {
                "name": attachment.original_name,
                "size": attachment.size,
                "size_label": str(attachments.human_size(attachment.size)),
                "content_type": attachment.content_type,
                "uploaded_at": attachment.created_at,
            }
            for attachment in comment.attachments.all()
        ],
    }


def _report(report: Report, *, base: str) -> dict:
    # The reported comment is someone else's: its id and permalink only. The resolution, who
    # resolved it and the moderation log are the moderators'.
    return {
        "comment_id": report.comment_id,
        "comment_permalink": base + reverse("consultations:permalink", args=[report.comment_id]),
        "reason": _choice(report.reason, ModerationReason.choices),
        "details": report.details,
        "created_at": report.created_at,
    }


def _notifications(profile, follows, *, base: str) -> dict:
    settings_data = (
        {
            "email_replies": profile.email_replies,
            "email_digest": _choice(profile.email_digest, Profile.Digest.choices),
            "email_reports": _choice(profile.email_reports, Profile.Reports.choices),
            "follow_on_post": profile.follow_on_post,
        }
        if profile is not None
        else {}
    )
    rows = []
    for follow in follows:
        question = follow.question
        consultation = question.consultation if question is not None else follow.consultation
        rows.append(
            {
                "consultation": {
                    "title": consultation.title,
                    "url": base + consultation.get_absolute_url(),
                },
                "question": (
                    {"number": question.number, "text": question.text} if question else None
                ),
                # False: an explicit unfollow, remembered so that posting does not follow again.
                "active": follow.active,
                "created_at": follow.created_at,
            }
        )
    return {"settings": settings_data, "follows": rows}


def send_ready_email(export: DataExport) -> bool:
    """Email the link to the participant, in their language, at their verified address (False
    without one: the My data page still offers the file). A transactional email, asked for
    there and then: no List-Unsubscribe."""
    from notifications.delivery import compose

    user = export.user
    if not address_verified(user):
        return False
    base = export.base_url.rstrip("/")
    context = {
        "user": user,
        "url": base + download_path(export),
        "page_url": base + reverse("accounts:my_data"),
        "expires_at": export.expires_at,
        "size": str(attachments.human_size(export.size or 0)),
    }
    message = compose(
        template="accounts/email/data_export_ready",
        context=context,
        to=user.email,
        language=language_for(user),
    )
    message.send()
    return True


# --- The link and the download -----------------------------------------------------------------


def token(export: DataExport) -> str:
    """The signed part of a download link, bound to the export and its user."""
    return signing.dumps({"user": export.user_id, "export": export.pk}, salt=SALT, compress=True)


def download_path(export: DataExport) -> str:
    return reverse("accounts:my_data_download", kwargs={"token": token(export)})


def export_for_download(*, user, value: str, now: datetime | None = None) -> DataExport:
    """The export a link names, for `user` only. Http404 for a link altered, of another site or
    of another user (the same answer: nothing says whose it is); LinkExpired for the user's own
    link that no longer works."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied("Log in to download your data.")
    try:
        data = signing.loads(value, salt=SALT)
    except signing.BadSignature:
        raise Http404("No such file.") from None
    if not isinstance(data, dict) or data.get("user") != user.pk:
        raise Http404("No such file.")
    export_id = data.get("export")
    if not isinstance(export_id, int):
        raise Http404("No such file.")
    export = DataExport.objects.filter(pk=export_id, user=user).first()
    if export is None:
        raise Http404("No such file.")
    try:
        signing.loads(value, salt=SALT, max_age=timedelta(days=settings.DATA_EXPORT_DAYS))
    except signing.SignatureExpired:
        raise LinkExpired from None
    now = now or timezone.now()
    if export.state != State.DONE or not export.file or export.expires_at is None:
        raise LinkExpired
    if export.expires_at <= now or not export.file.storage.exists(export.file.name):
        raise LinkExpired
    return export


def download_name(export: DataExport) -> str:
    return f"my-data-{timezone.localtime(export.built_at):%Y-%m-%d}.zip"


# --- The page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """What the My data page says about the participant's latest request."""

    latest: DataExport | None
    download_url: str | None

    @property
    def pending(self) -> bool:
        return self.latest is not None and self.latest.is_pending


def status(*, user, now: datetime | None = None) -> Status:
    now = now or timezone.now()
    latest = DataExport.objects.filter(user=user).first()
    url = None
    if (
        latest is not None
        and latest.state == State.DONE
        and latest.expires_at is not None
        and latest.expires_at > now
    ):
        url = download_path(latest)
    return Status(latest=latest, download_url=url)


# --- Cleaning up -------------------------------------------------------------------------------


def _expire(export: DataExport) -> None:
    """Delete the file; the row stays (it counts towards the daily limit) without it."""
    if export.file:
        export.file.delete(save=False)
    DataExport.objects.filter(pk=export.pk).update(state=State.EXPIRED, file="")


def delete_expired(*, now: datetime | None = None) -> tuple[int, int]:
    """Delete the files past their expires_at and fail the requests taken for lost; returns
    (files deleted, requests failed). Safe to run from several places at once."""
    now = now or timezone.now()
    expired = list(DataExport.objects.filter(state=State.DONE, expires_at__lte=now))
    for export in expired:
        _expire(export)
    return len(expired), _fail_stale(now=now)


def delete_for_user(*, user) -> int:
    """Delete every file and request of `user` (for account deletion); returns how many."""
    exports = list(DataExport.objects.filter(user=user))
    for export in exports:
        if export.file:
            export.file.delete(save=False)
    DataExport.objects.filter(pk__in=[export.pk for export in exports]).delete()
    return len(exports)
