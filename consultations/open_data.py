"""Open-data files: a consultation's comments (CSV and JSON, the API's fields), questions and
objectives, a README data card and the licence, in one ZIP built by a background task
(consultations.tasks.build_open_data) and served at /consultations/<slug>/open-data.zip.

Only what the public pages and the API show goes in: no email, IP address, report, moderation
note or user id. A hidden or deleted comment is a placeholder (its place in the tree, no text and
no author). Participants who asked not to be named (Profile.Byline.STAKEHOLDER_TYPE) appear as
"Participant N", numbered by their first shown comment in the file, with their stakeholder type
and no organisation; deleted accounts as "Former participant".

A build is asked for by staff (request_build) or by the scheduler once a consultation has closed
(schedule_closed); the one OpenDataFile row per consultation holds the state, and the new file
replaces the old one only once it is whole (see OpenDataFile)."""

import csv
import hashlib
import io
import json
import logging
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework.fields import DateTimeField

from accounts.models import AUTHOR_FIELDS, Profile, public_author
from api.serializers import AuthorSerializer, CommentSerializer, QuestionSerializer

from . import export, permissions
from .models import Comment, Consultation, Licence, Objective, OpenDataFile, Question

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/zip"
# Where the files go in the default storage (MEDIA_ROOT, or a bucket once STORAGES says so).
STORAGE_FOLDER = "open-data"
# A build queued or running for longer than this lost its worker: it may be asked for again.
STALLED_AFTER = timedelta(hours=1)
# The scheduler tries a failed build again after this long (staff may ask at any time).
RETRY_FAILED_AFTER = timedelta(hours=1)

# The fields of each file are the API's (api/serializers.py), read from its serializers so the
# two cannot drift apart. A comment's author is one object in the JSON ({display_name,
# organisation, stakeholder_type}, or null) and three author_* columns in the CSV.
COMMENT_FIELDS = list(CommentSerializer.Meta.fields)
AUTHOR_KEYS = list(AuthorSerializer._declared_fields)
COMMENT_COLUMNS = [
    column
    for name in COMMENT_FIELDS
    for column in ([f"author_{key}" for key in AUTHOR_KEYS] if name == "author" else [name])
]
QUESTION_FIELDS = list(QuestionSerializer.Meta.fields)
OBJECTIVE_FIELDS = ["number", "title", "short_title", "in_focus"]

# The columns read per comment. author_id only tells pseudonymous participants apart; it is
# never written.
_COMMENT_VALUES = (
    "pk",
    "question_id",
    "parent_id",
    "level",
    "tree_id",
    "status",
    "body",
    "body_text",
    "created_at",
    "edited_at",
    "updated_at",
    "author_id",
    *(f"author__{name}" for name in AUTHOR_FIELDS),
)
_CHUNK_SIZE = 2000
# Times as the API writes them (ISO 8601, UTC as "Z"): the same field does it.
_datetime = DateTimeField()


def _time(value: datetime | None) -> str | None:
    return None if value is None else _datetime.to_representation(value)


@dataclass
class Summary:
    """What a build counted while writing the file, for the data card and the OpenDataFile."""

    questions: int = 0
    objectives: int = 0
    comments: int = 0
    published: int = 0
    hidden: int = 0
    deleted: int = 0
    named: set = field(default_factory=set)
    pseudonymous: dict = field(default_factory=dict)  # author id -> N, in order of first comment
    former: set = field(default_factory=set)
    first_at: datetime | None = None
    last_at: datetime | None = None

    @property
    def participants(self) -> int:
        return len(self.named) + len(self.pseudonymous) + len(self.former)

    @property
    def placeholders(self) -> int:
        return self.hidden + self.deleted


# --- The file ---------------------------------------------------------------------------------


def _objective_numbers(consultation: Consultation) -> Iterator[tuple[int, list[int]]]:
    """(comment id, its objective numbers) in comment id order, from one streamed query: merged
    with the comments (also in id order) instead of a query per comment or per chunk."""
    rows = (
        Comment.objectives.through.objects.filter(comment__question__consultation=consultation)
        .order_by("comment_id", "objective__number")
        .values_list("comment_id", "objective__number")
        .iterator(chunk_size=_CHUNK_SIZE)
    )
    current, numbers = None, []
    for comment_id, number in rows:
        if comment_id != current:
            if current is not None:
                yield current, numbers
            current, numbers = comment_id, []
        numbers.append(number)
    if current is not None:
        yield current, numbers


def comment_records(
    consultation: Consultation, summary: Summary, *, base_url: str
) -> Iterator[dict]:
    """Every comment of the consultation, oldest first (as the API lists them), as the API's
    fields, with the file's pseudonyms. Two streamed queries whatever the number of comments:
    the comments with their authors' profiles, and their objectives."""
    prefix, suffix = export.url_parts(base_url, "consultations:permalink")
    published = Comment.Status.PUBLISHED.value
    hidden = Comment.Status.HIDDEN.value
    pseudonymous, former = Profile.Byline.STAKEHOLDER_TYPE.value, Profile.Byline.FORMER.value
    pseudonym = _("Participant %(number)s")
    former_name = public_author(None, "", "", "", "", None, former)[0]
    rows = (
        Comment.objects.filter(question__consultation=consultation)
        .order_by("pk")
        .values_list(*_COMMENT_VALUES)
        .iterator(chunk_size=_CHUNK_SIZE)
    )
    tags = _objective_numbers(consultation)
    tagged = next(tags, None)
    for (
        pk,
        question_id,
        parent_id,
        level,
        tree_id,
        status,
        body,
        body_text,
        created_at,
        edited_at,
        updated_at,
        author_id,
        display_name,
        first_name,
        last_name,
        username,
        organisation,
        stakeholder_type,
        byline,
    ) in rows:
        while tagged is not None and tagged[0] < pk:
            tagged = next(tags, None)
        summary.comments += 1
        if summary.first_at is None:
            summary.first_at = created_at
        summary.last_at = max(summary.last_at or created_at, created_at)
        shown = status == published
        author = None
        if shown:
            summary.published += 1
            if byline == pseudonymous:
                # Numbered in the order of their first shown comment: the same person is the
                # same N throughout the file, and nothing of who they are is in the number.
                number = summary.pseudonymous.setdefault(author_id, len(summary.pseudonymous) + 1)
                author = [pseudonym % {"number": number}, "", stakeholder_type or ""]
            elif byline == former:
                summary.former.add(author_id)
                author = [former_name, "", ""]
            else:
                summary.named.add(author_id)
                name, organisation = public_author(
                    display_name,
                    first_name,
                    last_name,
                    username,
                    organisation,
                    stakeholder_type,
                    byline,
                )
                author = [name, organisation, stakeholder_type or ""]
        elif status == hidden:
            summary.hidden += 1
        else:
            summary.deleted += 1
        yield {
            "id": pk,
            "question": question_id,
            "parent": parent_id,
            "depth": level,
            "thread": tree_id,
            "status": status,
            "body_html": body if shown else None,
            "body_text": body_text if shown else None,
            "objectives": tagged[1] if shown and tagged is not None and tagged[0] == pk else [],
            "author": dict(zip(AUTHOR_KEYS, author, strict=True)) if author else None,
            "created_at": _time(created_at),
            "edited_at": _time(edited_at),
            "updated_at": _time(updated_at),
            "url": f"{prefix}{pk}{suffix}",
        }


def _comment_row(record: dict) -> list:
    author = record["author"] or dict.fromkeys(AUTHOR_KEYS)
    row = []
    for name in COMMENT_FIELDS:
        if name == "author":
            row += [author[key] for key in AUTHOR_KEYS]
        elif name == "objectives":
            row.append(";".join(map(str, record["objectives"])))
        else:
            row.append(record[name])
    return row


def _csv_writer(stream: IO[str]):
    return csv.writer(stream, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")


def _write_csv(stream: IO[str], header: list[str], rows) -> None:
    """RFC 4180 with a UTF-8 BOM (Excel then reads UTF-8); null as an empty cell; every cell a
    spreadsheet would run as a formula neutralised as in the staff export."""
    stream.write(export.BOM)
    writer = _csv_writer(stream)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else export._neutralise(value) for value in row])


def _json_array(stream: IO[str], records) -> None:
    """A JSON array written one record per line, so that a large file is never held whole."""
    stream.write("[")
    for position, record in enumerate(records):
        stream.write(",\n" if position else "\n")
        stream.write(json.dumps(record, ensure_ascii=False))
    stream.write("\n]\n")


def _info(name: str, moment: datetime) -> zipfile.ZipInfo:
    # Every member dated with the build, not with the moment it was written.
    info = zipfile.ZipInfo(name, date_time=timezone.localtime(moment).timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _member(archive: zipfile.ZipFile, name: str, moment: datetime) -> IO[str]:
    """A text member of the archive, UTF-8, written as it comes."""
    return io.TextIOWrapper(archive.open(_info(name, moment), "w"), encoding="utf-8", newline="")


def write_zip(
    stream: IO[bytes], consultation: Consultation, *, built_at: datetime, base_url: str
) -> Summary:
    """The whole ZIP, written to a binary stream: five queries whatever the number of comments.
    Labels (the data card, "Participant N") are in the current language."""
    summary = Summary()
    folder = f"{consultation.slug}-open-data/"
    questions = list(
        Question.objects.filter(consultation=consultation)
        .order_by("number")
        .values("id", "number", "text", "created_at", "comment_count")
    )
    summary.questions = len(questions)
    in_focus = set(consultation.objectives.values_list("pk", flat=True))
    objectives = list(Objective.objects.order_by("number").values("pk", *OBJECTIVE_FIELDS[:3]))
    summary.objectives = len(objectives)
    question_records = [
        {
            "id": q["id"],
            "consultation": consultation.slug,
            "number": q["number"],
            "text": q["text"],
            "created_at": _time(q["created_at"]),
            "comment_count": q["comment_count"],
        }
        for q in questions
    ]
    objective_records = [
        {
            "number": o["number"],
            "title": o["title"],
            "short_title": o["short_title"],
            "in_focus": o["pk"] in in_focus,
        }
        for o in objectives
    ]
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        # The comments are read once: the CSV goes straight into the archive and the JSON into a
        # temporary file, copied in after (an archive takes one member at a time), so both hold
        # the same comments even if a moderator acts during the build.
        with tempfile.TemporaryFile() as spool:
            json_text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
            records = comment_records(consultation, summary, base_url=base_url)

            def rows():
                for position, record in enumerate(records):
                    json_text.write(",\n" if position else "\n")
                    json_text.write(json.dumps(record, ensure_ascii=False))
                    yield _comment_row(record)

            json_text.write("[")
            with _member(archive, folder + "comments.csv", built_at) as member:
                _write_csv(member, COMMENT_COLUMNS, rows())
            json_text.write("\n]\n")
            json_text.flush()
            spool.seek(0)
            with archive.open(_info(folder + "comments.json", built_at), "w") as member:
                shutil.copyfileobj(spool, member, 1024 * 1024)
            json_text.detach()
        for name, header, records in (
            ("questions", QUESTION_FIELDS, question_records),
            ("objectives", OBJECTIVE_FIELDS, objective_records),
        ):
            with _member(archive, f"{folder}{name}.csv", built_at) as member:
                _write_csv(member, header, ([r[f] for f in header] for r in records))
            with _member(archive, f"{folder}{name}.json", built_at) as member:
                _json_array(member, records)
        context = card_context(consultation, summary, built_at=built_at, base_url=base_url)
        with _member(archive, folder + "README.md", built_at) as member:
            member.write(render_to_string("consultations/open_data/README.md", context))
        with _member(archive, folder + "LICENSE.txt", built_at) as member:
            member.write(render_to_string("consultations/open_data/LICENSE.txt", context))
    return summary


def card_context(
    consultation: Consultation, summary: Summary, *, built_at: datetime, base_url: str
) -> dict:
    """What the data card (README.md) and LICENSE.txt say: the period, the counts, the licence."""
    licence = Licence(consultation.licence)
    return {
        "consultation": consultation,
        "page_url": base_url.rstrip("/") + consultation.get_absolute_url(),
        "file_url": base_url.rstrip("/") + download_path(consultation),
        "api_url": base_url.rstrip("/") + "/api/v1/",
        "opens_at": _time(consultation.opens_at),
        "closes_at": _time(consultation.closes_at),
        "built_at": _time(built_at),
        "built_on": timezone.localtime(built_at).date().isoformat(),
        "first_at": _time(summary.first_at),
        "last_at": _time(summary.last_at),
        "summary": summary,
        "licence": licence,
        "licence_name": licence.full_name,
        "licence_url": licence.url,
        "comment_columns": COMMENT_COLUMNS,
        "stakeholder_types": Profile._meta.get_field("stakeholder_type").choices,
    }


def download_path(consultation: Consultation) -> str:
    """The file's stable URL (its content changes with each build, never its address)."""
    return reverse("consultations:open_data", kwargs={"slug": consultation.slug})


def download_name(consultation: Consultation) -> str:
    return f"{consultation.slug}-open-data.zip"


# --- Builds -----------------------------------------------------------------------------------


def enqueue(consultation_id: int) -> None:
    from .tasks import build_open_data

    build_open_data.enqueue(consultation_id)


def _is_stalled(record: OpenDataFile, now: datetime) -> bool:
    if record.state == OpenDataFile.State.QUEUED:
        return record.requested_at < now - STALLED_AFTER
    if record.state == OpenDataFile.State.BUILDING:
        return (record.started_at or record.requested_at) < now - STALLED_AFTER
    return False


def _queue(consultation: Consultation, *, by=None, due=None) -> tuple[OpenDataFile, bool]:
    """Queue a build under a lock on the consultation's row; (row, queued). `due(row, now)` may
    refuse (the scheduler's rule); a build already queued is never queued twice, and a build
    running is followed by a new one (staff ask again because something changed since)."""
    now = timezone.now()
    with transaction.atomic():
        # Two requests at once (staff and the scheduler, two schedulers): the second waits here
        # and finds the first one's row.
        Consultation.objects.select_for_update().filter(pk=consultation.pk).first()
        record = OpenDataFile.objects.filter(consultation=consultation).first()
        if due is not None and not due(record, now):
            return record, False
        if record is None:
            record = OpenDataFile.objects.create(
                consultation=consultation, requested_at=now, requested_by=by
            )
        else:
            if record.state == OpenDataFile.State.QUEUED and not _is_stalled(record, now):
                return record, False
            record.state = OpenDataFile.State.QUEUED
            record.requested_at = now
            record.requested_by = by
            record.message = ""
            record.save(update_fields=["state", "requested_at", "requested_by", "message"])
        pk = consultation.pk
        transaction.on_commit(lambda: enqueue(pk))
    return record, True


def request_build(*, consultation: Consultation, by) -> tuple[OpenDataFile, bool]:
    """Staff ask for the consultation's open-data file to be built (again): the task is enqueued
    after the commit; (row, queued), queued False when a build was already waiting."""
    if not permissions.can_export(by):
        raise PermissionDenied(_("Only staff can build a consultation's open-data file."))
    return _queue(consultation, by=by)


def _due_after_close(record: OpenDataFile | None, now: datetime, closes_at: datetime) -> bool:
    if record is None:
        return True
    if record.built_at is not None and record.built_at >= closes_at:
        return False  # built from the closed consultation's comments already
    if record.is_pending:
        return _is_stalled(record, now)
    if record.state == OpenDataFile.State.FAILED and record.finished_at is not None:
        return record.finished_at < now - RETRY_FAILED_AFTER
    return True


def schedule_closed(now: datetime | None = None) -> int:
    """Queue a build for each published consultation closed by `now` whose file was not built
    since it closed and none is on its way: how many were queued. Idempotent (run_scheduler and
    send_digests call it every few minutes): each is queued once, under the row's lock."""
    now = now or timezone.now()
    due = (
        Consultation.objects.published()
        .filter(closes_at__lte=now)
        .filter(
            Q(open_data__isnull=True)
            | Q(open_data__built_at__isnull=True)
            | Q(open_data__built_at__lt=F("closes_at"))
        )
        .order_by("closes_at", "pk")
    )
    queued = 0
    for consultation in due:
        closes_at = consultation.closes_at
        _record, done = _queue(
            consultation, due=lambda record, at, c=closes_at: _due_after_close(record, at, c)
        )
        queued += done
    return queued


def forget_files(consultations) -> None:
    """The open-data files of consultations about to be deleted (their rows go with them): the
    files are deleted once that deletion commits, so that a rolled-back one keeps them."""
    names = list(
        OpenDataFile.objects.filter(consultation__in=consultations)
        .exclude(file="")
        .values_list("file", flat=True)
    )

    def delete() -> None:
        for name in names:
            default_storage.delete(name)

    if names:
        transaction.on_commit(delete)


def build(consultation_id: int) -> str:
    """The background task's work: claim the queued build, write the ZIP to a temporary file,
    store it under a new name, then switch the row to it (and delete the previous file once
    that is committed). Returns "done", "failed", or "skipped" when nothing was queued."""
    started = timezone.now()
    building = OpenDataFile.State.BUILDING
    claimed = OpenDataFile.objects.filter(
        consultation_id=consultation_id, state=OpenDataFile.State.QUEUED
    ).update(state=building, started_at=started, message="")
    if not claimed:
        return "skipped"
    # This build's row is the one still building from this start: a newer request queues a
    # build of its own, whose state this one does not overwrite.
    mine = OpenDataFile.objects.filter(
        consultation_id=consultation_id, state=building, started_at=started
    )
    consultation = Consultation.objects.get(pk=consultation_id)
    stored = ""
    try:
        with tempfile.TemporaryFile() as spool:
            # The data card and the pseudonyms in the consultation's own language.
            with translation.override(consultation.language):
                summary = write_zip(
                    spool, consultation, built_at=started, base_url=settings.SITE_URL
                )
            size = spool.tell()
            spool.seek(0)
            digest = hashlib.sha256()
            while block := spool.read(1024 * 1024):
                digest.update(block)
            spool.seek(0)
            name = f"{STORAGE_FOLDER}/{consultation.slug}-{uuid.uuid4().hex}.zip"
            stored = default_storage.save(name, File(spool, name=name))
        with transaction.atomic():
            record = OpenDataFile.objects.select_for_update().get(consultation_id=consultation_id)
            previous = record.file.name
            # Two builds finishing out of order: the file of the later start stays.
            if record.built_at is None or record.built_at < started:
                OpenDataFile.objects.filter(pk=record.pk).update(
                    file=stored,
                    built_at=started,
                    size=size,
                    sha256=digest.hexdigest(),
                    licence=consultation.licence,
                    question_count=summary.questions,
                    comment_count=summary.comments,
                    published_count=summary.published,
                    placeholder_count=summary.placeholders,
                    participant_count=summary.participants,
                )
                old = previous
            else:
                old = stored
            mine.update(state=OpenDataFile.State.DONE, finished_at=timezone.now())
            if old:
                transaction.on_commit(lambda: default_storage.delete(old))
    except Exception as error:  # the staff page must say so, not stay "building"
        logger.exception("Open-data build of consultation %s failed", consultation_id)
        if stored:
            default_storage.delete(stored)
        mine.update(
            state=OpenDataFile.State.FAILED,
            finished_at=timezone.now(),
            message=(_("The build failed: %(error)s") % {"error": type(error).__name__})[:255],
        )
        return OpenDataFile.State.FAILED
    return OpenDataFile.State.DONE
