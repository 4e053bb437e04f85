"""The CSV exports for staff: a consultation's comments (web and command) and the moderation log."""

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import TextIO

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import StakeholderType, public_name

from .models import Attachment, Comment, Consultation, ModerationAction, ModerationReason

COLUMNS = [
    "id",
    "consultation",
    "question_number",
    "question",
    "parent_id",
    "depth",
    "author",
    "organisation",
    "stakeholder_type",
    "posted_at_utc",
    "objectives",
    "status",
    "hidden_reason",
    "text",
    "url",
    "attachments",
]

# The GCM has a fixed list of 23 objectives (see migration 0002_gcm_objectives).
OBJECTIVE_NUMBERS = range(1, 24)

# Comments fetched per database round trip; their objectives and attachments are read with one
# query each per chunk. Bounds the export's memory whatever the number of comments.
CHUNK_SIZE = 2000

# A spreadsheet treats a cell starting with one of these as a formula (CSV injection, OWASP).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = frozenset(_FORMULA_PREFIXES)
BOM = "\ufeff"


class ExportFilterError(ValueError):
    """A filter that is not a number, names no question of the consultation, or no objective.

    Carries one message for the user per bad filter.
    """

    def __init__(self, messages: list[str]):
        super().__init__(" ".join(messages))
        self.messages = messages


# A question number the database column (PositiveSmallIntegerField) can hold.
_MAX_QUESTION_NUMBER = 32767


@dataclass(frozen=True)
class ExportFilters:
    """What a comments export is narrowed to. Build it with from_query() (the web download's
    query string) or from_options() (the export_comments command): both parse and check the raw
    values with parse(), so the same input gets the same answer on either path."""

    question_number: int | None = None
    objective_number: int | None = None
    include_hidden: bool = True

    @classmethod
    def from_query(cls, consultation: Consultation, query: Mapping[str, str]) -> "ExportFilters":
        """From ?question=N&objective=N&hidden=0|1 (e.g. request.GET)."""
        return cls.parse(
            consultation,
            question=query.get("question"),
            objective=query.get("objective"),
            hidden=query.get("hidden"),
        )

    @classmethod
    def from_options(cls, consultation: Consultation, options: Mapping) -> "ExportFilters":
        """From export_comments' --question N, --objective N and --exclude-hidden."""
        return cls.parse(
            consultation,
            question=options.get("question"),
            objective=options.get("objective"),
            hidden="0" if options.get("exclude_hidden") else None,
        )

    @classmethod
    def parse(
        cls,
        consultation: Consultation,
        *,
        question: object = None,
        objective: object = None,
        hidden: object = None,
    ) -> "ExportFilters":
        """Raw values (text, numbers or None for "not given") to filters, or ExportFilterError
        listing every bad one."""
        errors: list[str] = []
        question_number = _number(
            question, _("The question filter must be a number, not “%(value)s”."), errors
        )
        objective_number = _number(
            objective, _("The objective filter must be a number, not “%(value)s”."), errors
        )
        if objective_number is not None and objective_number not in OBJECTIVE_NUMBERS:
            errors.append(
                _("There is no objective %(number)s: objectives are numbered 1 to 23.")
                % {"number": objective_number}
            )
        if question_number is not None and not (
            question_number <= _MAX_QUESTION_NUMBER
            and consultation.questions.filter(number=question_number).exists()
        ):
            errors.append(
                _("Consultation “%(slug)s” has no question %(number)s.")
                % {"slug": consultation.slug, "number": question_number}
            )
        hidden = "" if hidden is None else str(hidden).strip()
        if hidden not in ("", "0", "1"):
            errors.append(
                _(
                    "The hidden filter must be 0 (leave out hidden comments) or 1 (include "
                    "them), not “%(value)s”."
                )
                % {"value": hidden}
            )
        if errors:
            raise ExportFilterError(errors)
        return cls(
            question_number=question_number,
            objective_number=objective_number,
            include_hidden=hidden != "0",
        )


NO_FILTERS = ExportFilters()


def _number(raw: object, message: str, errors: list[str]) -> int | None:
    """A filter's whole number, None when not given; appends message to errors when not one."""
    if raw is None or isinstance(raw, int):
        return raw
    text = str(raw).strip()
    if not text:
        return None
    # ASCII digits only: int() would also take "+3", " 3", "٣" and "1_000".
    if not text.isascii() or not text.isdigit():
        errors.append(message % {"value": text})
        return None
    return int(text)


def _neutralise(value: object) -> object:
    """A leading apostrophe keeps spreadsheets from running a cell as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def _iso_utc(value: datetime) -> str:
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc_cell(value: datetime) -> str:
    """2026-01-31 09:15:00, in UTC: the form spreadsheets read as a date and time (an ISO 8601
    "T" or "Z" leaves it text). Without strftime: the database hands back UTC datetimes."""
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(" ", "seconds")[:19]


def _comments(consultation: Consultation, filters: ExportFilters):
    comments = Comment.objects.filter(question__consultation=consultation)
    if not filters.include_hidden:
        comments = comments.exclude(status=Comment.Status.HIDDEN)
    if filters.question_number is not None:
        comments = comments.filter(question__number=filters.question_number)
    if filters.objective_number is not None:
        # Objective numbers are unique, so this join adds no duplicate rows.
        comments = comments.filter(objectives__number=filters.objective_number)
    return comments.in_thread_order()


# The columns read per comment, in the order _row_chunks unpacks them.
_FIELDS = (
    "pk",
    "question__number",
    "question__text",
    "parent_id",
    "level",
    "status",
    "hidden_reason",
    "created_at",
    "body_text",
    "author__username",
    "author__first_name",
    "author__last_name",
    "author__profile__display_name",
    "author__profile__organisation",
    "author__profile__stakeholder_type",
    "has_files",
)
# A primary key no row has, replaced in a reversed URL to get the URL of any row.
_PK_MARK = 987654321


def _chunks(iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _row_chunks(
    consultation: Consultation, filters: ExportFilters, *, base_url: str
) -> Iterator[list[list]]:
    """The data rows, CHUNK_SIZE at a time, as plain values: one streamed query for the comments
    (with question, author and profile joined) and, per chunk, one for their objectives and one
    for their attachments. No model instances, so time is linear and memory flat in the number of
    comments. A comment its author deleted keeps its row (replies point at it) but not its text
    or files."""
    base = base_url.rstrip("/")
    # Formatted, not reversed, per row; a prefix the formula check passes passes every row.
    comment_url = _neutralise(base + reverse("consultations:permalink", kwargs={"pk": _PK_MARK}))
    comment_prefix, _, comment_suffix = comment_url.partition(str(_PK_MARK))
    file_url = _neutralise(base + reverse("consultations:attachment", kwargs={"pk": _PK_MARK}))
    file_prefix, _, file_suffix = file_url.partition(str(_PK_MARK))
    title = _neutralise(consultation.title)
    # Labels in cells are in the site's default language, whoever downloads the file: like the
    # column names, they do not follow the interface. Looked up once, not per row.
    with translation.override(settings.LANGUAGE_CODE):
        stakeholder_labels = {value: str(label) for value, label in StakeholderType.choices}
        reason_labels = {value: str(label) for value, label in ModerationReason.choices}
    questions: dict[int, str] = {}  # neutralised text by number
    deleted, hidden = Comment.Status.DELETED.value, Comment.Status.HIDDEN.value
    through = Comment.objectives.through
    starts = _FORMULA_START

    rows = (
        _comments(consultation, filters)
        # Few comments have files: only theirs are looked up (an index probe per row is cheaper
        # than passing every id of the chunk to a second query).
        .annotate(has_files=Exists(Attachment.objects.filter(comment=OuterRef("pk"))))
        .values_list(*_FIELDS)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    for chunk in _chunks(rows, CHUNK_SIZE):
        ids = [row[0] for row in chunk]
        objectives: dict[int, list[int]] = {}
        # comment__pk__in rather than comment_id__in: the same SQL, with half the work per id to
        # build it (no foreign-key normalisation).
        for comment_id, number in through.objects.filter(comment__pk__in=ids).values_list(
            "comment_id", "objective__number"
        ):
            objectives.setdefault(comment_id, []).append(number)
        files: dict[int, list[str]] = {}
        with_files = [row[0] for row in chunk if row[-1]]
        for comment_id, pk in (
            Attachment.objects.filter(comment__pk__in=with_files)
            .order_by("comment_id", "pk")
            .values_list("comment_id", "pk")
            if with_files
            else ()
        ):
            files.setdefault(comment_id, []).append(f"{file_prefix}{pk}{file_suffix}")

        out = []
        for (
            pk,
            question_number,
            question_text,
            parent_id,
            level,
            status,
            reason,
            created_at,
            text,
            username,
            first_name,
            last_name,
            display_name,
            organisation,
            stakeholder_type,
            has_files,
        ) in chunk:
            question = questions.get(question_number)
            if question is None:
                question = questions[question_number] = _neutralise(question_text)
            name = public_name(display_name, first_name, last_name, username)
            if name[:1] in starts:
                name = "'" + name
            if organisation is None:
                organisation = ""
            elif organisation[:1] in starts:
                organisation = "'" + organisation
            if status == deleted:
                text, attachments = "", ""
            else:
                if text[:1] in starts:
                    text = "'" + text
                attachments = " ".join(files.get(pk, ())) if has_files else ""
            tags = objectives.get(pk)
            out.append(
                [
                    pk,
                    title,
                    question_number,
                    question,
                    "" if parent_id is None else parent_id,
                    level,
                    name,
                    organisation,
                    stakeholder_labels.get(stakeholder_type, stakeholder_type)
                    if stakeholder_type
                    else "",
                    # The database hands back UTC; _utc_cell() converts anything else.
                    created_at.isoformat(" ", "seconds")[:19]
                    if created_at.tzinfo is UTC
                    else _utc_cell(created_at),
                    ";".join(map(str, sorted(tags))) if tags else "",
                    status,
                    reason_labels.get(reason, reason) if status == hidden and reason else "",
                    text,
                    f"{comment_prefix}{pk}{comment_suffix}",
                    attachments,
                ]
            )
        yield out


class _Echo:
    """A file-like object whose write() hands the line back (Django's streaming CSV pattern)."""

    def write(self, value: str) -> str:
        return value


def _csv_writer(stream) -> "csv._writer":
    return csv.writer(stream, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")


def _csv_lines(header: list[str], rows) -> Iterator[str]:
    """A CSV file one line at a time: the UTF-8 BOM, the header, then the rows (RFC 4180)."""
    # The BOM makes Excel read the file as UTF-8 rather than the local code page.
    yield BOM
    writer = _csv_writer(_Echo())
    yield writer.writerow(header)
    # Labels in cells (moderation action, reason) are in the site's default language, whoever
    # downloads the file: like the column names, they do not follow the interface.
    rows = iter(rows)
    while True:
        with translation.override(settings.LANGUAGE_CODE):
            row = next(rows, None)
        if row is None:
            return
        yield writer.writerow(row)


def iter_csv(
    consultation: Consultation, filters: ExportFilters = NO_FILTERS, *, base_url: str
) -> Iterator[str]:
    """The whole file in pieces: the UTF-8 BOM, the header line, then the rows of each chunk of
    CHUNK_SIZE comments as one string (one write to the response per chunk, not per line)."""
    yield BOM
    yield _csv_writer(_Echo()).writerow(COLUMNS)
    for chunk in _row_chunks(consultation, filters, base_url=base_url):
        buffer = io.StringIO()
        _csv_writer(buffer).writerows(chunk)
        yield buffer.getvalue()


def write_csv(
    stream: TextIO,
    consultation: Consultation,
    filters: ExportFilters = NO_FILTERS,
    *,
    base_url: str,
) -> None:
    """Write the same text as iter_csv() to a text stream (open files with newline="")."""
    for line in iter_csv(consultation, filters, base_url=base_url):
        stream.write(line)


def csv_filename(consultation: Consultation, filters: ExportFilters = NO_FILTERS) -> str:
    """E.g. safe-borders-q2-obj10-comments-2026-11-23.csv (today's date)."""
    parts = [consultation.slug]
    if filters.question_number is not None:
        parts.append(f"q{filters.question_number}")
    if filters.objective_number is not None:
        parts.append(f"obj{filters.objective_number}")
    parts.append(f"comments-{timezone.localdate().isoformat()}")
    return "-".join(parts) + ".csv"


LOG_COLUMNS = [
    "id",
    "when",
    "moderator",
    "action",
    "reason",
    "note",
    "comment_id",
    "consultation",
    "question_number",
    "comment_author",
    "url",
]


def iter_moderation_log_csv(*, base_url: str) -> Iterator[str]:
    """Every moderation action, newest first: who did what to which comment, when and why."""
    actions = ModerationAction.objects.select_related(
        "actor__profile",
        "comment__author__profile",
        "comment__question__consultation",
    ).order_by("-created_at", "-pk")

    def rows():
        for action in actions.iterator(chunk_size=CHUNK_SIZE):
            comment = action.comment
            row = [
                action.pk,
                _iso_utc(action.created_at),
                action.actor.display_name,
                action.get_kind_display(),
                action.get_reason_display() if action.reason else "",
                action.note,
                comment.pk,
                comment.question.consultation.title,
                comment.question.number,
                comment.author.display_name,
                base_url.rstrip("/") + comment.get_absolute_url(),
            ]
            yield [_neutralise(value) for value in row]

    yield from _csv_lines(LOG_COLUMNS, rows())
