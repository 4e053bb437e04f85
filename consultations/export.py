"""The CSV exports for staff: a consultation's comments (web and command) and the moderation log."""

import csv
import io
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from itertools import islice
from typing import TextIO

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import AUTHOR_FIELDS, AUTHOR_TYPE, StakeholderType, public_author
from insights.filters import NAMES, CommentFilters
from insights.models import CodeAssignment

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
    # Staff's own reading (insights): analyst codes, the key-quote flag, the campaign group.
    "codes",
    "key_quote",
    "duplicate_group",
]

# Comments fetched per database round trip; their objectives, codes and attachments are read
# with one query each per chunk. Bounds the export's memory whatever the number of comments.
CHUNK_SIZE = 2000

# A spreadsheet treats a cell starting with one of these as a formula (CSV injection, OWASP).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = frozenset(_FORMULA_PREFIXES)
BOM = "\ufeff"


class ExportFilterError(ValueError):
    """Filters the export refuses: carries one message for the user per bad value (the messages
    of insights.filters.CommentFilters.parse, which lists them instead of refusing)."""

    def __init__(self, messages: list[str]):
        super().__init__(" ".join(messages))
        self.messages = messages


# One filter definition for every export and every insights page: the staff filters. The old
# name stays for callers of the CSV export.
ExportFilters = CommentFilters
NO_FILTERS = CommentFilters()


def filters_from_query(consultation: Consultation, query: Mapping[str, str]) -> CommentFilters:
    """The filters of ?question=N&objective=N&...&hidden=0|1 (request.GET), or
    ExportFilterError listing every bad value: a download is refused rather than narrowed
    differently from what was asked."""
    filters, errors = CommentFilters.parse(consultation, query)
    if errors:
        raise ExportFilterError(errors)
    return filters


def filters_from_options(consultation: Consultation, options: Mapping) -> CommentFilters:
    """The same from export_comments' options (--question N, ..., --exclude-hidden), named as
    in the query string."""
    query = {name: str(options[name]) for name in NAMES if options.get(name) is not None}
    if options.get("exclude_hidden"):
        query["hidden"] = "0"
    return filters_from_query(consultation, query)


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


def _comments(consultation: Consultation, filters: CommentFilters):
    return filters.apply(consultation).in_thread_order()


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
    # accounts.models.public_author's fields, in its order.
    *(f"author__{name}" for name in AUTHOR_FIELDS),
    # One-to-one rows (at most one each per comment): joined, not a query of their own.
    "key_quote__pk",
    "signature__group_id",
    "has_files",
)
# A primary key no row has, replaced in a reversed URL to get the URL of any row.
_PK_MARK = 987654321


def _chunks(iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


class Chunk:
    """CHUNK_SIZE comments' values (_FIELDS) and what belongs to them, by comment id: objective
    numbers, analyst code names, and attachments as (pk, extracted text or None)."""

    __slots__ = ("rows", "objectives", "codes", "files")

    def __init__(self, rows, objectives, codes, files):
        self.rows: list[tuple] = rows
        self.objectives: dict[int, list[int]] = objectives
        self.codes: dict[int, list[str]] = codes
        self.files: dict[int, list[tuple[int, str | None]]] = files


def data_chunks(
    consultation: Consultation, filters: CommentFilters, *, text_chars: int = 0
) -> Iterator[Chunk]:
    """The comments the filters keep, in thread order, CHUNK_SIZE at a time, as plain values:
    one streamed query for the comments (question, author, profile, key quote and campaign group
    joined) and, per chunk, one for their objectives, one for their analyst codes and one for
    their attachments (only when some have files). text_chars > 0 reads that much at most of
    each attachment's extracted text too, in the attachments' query. No model instances, so
    time is linear and memory flat in the number of comments. Shared by the CSV and the XLSX."""
    through = Comment.objectives.through
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
        codes: dict[int, list[str]] = {}
        for comment_id, name in (
            CodeAssignment.objects.filter(comment__pk__in=ids)
            .order_by("comment_id", "code__name")
            .values_list("comment_id", "code__name")
        ):
            codes.setdefault(comment_id, []).append(name)
        files: dict[int, list[tuple[int, str | None]]] = {}
        with_files = [row[0] for row in chunk if row[-1]]
        if with_files:
            attachments = Attachment.objects.filter(comment__pk__in=with_files).order_by(
                "comment_id", "pk"
            )
            if text_chars:
                values = attachments.annotate(
                    text=Substr("extracted__text", 1, text_chars)
                ).values_list("comment_id", "pk", "text")
            else:
                values = ((c, pk, None) for c, pk in attachments.values_list("comment_id", "pk"))
            for comment_id, pk, text in values:
                files.setdefault(comment_id, []).append((pk, text))
        yield Chunk(chunk, objectives, codes, files)


def url_parts(base_url: str, name: str) -> tuple[str, str]:
    """The URL of any row of `name` (a URL taking pk) as (prefix, suffix) around its pk."""
    url = base_url.rstrip("/") + reverse(name, kwargs={"pk": _PK_MARK})
    prefix, _, suffix = url.partition(str(_PK_MARK))
    return prefix, suffix


def cell_labels() -> tuple[dict[str, str], dict[str, str]]:
    """Stakeholder types' and moderation reasons' labels in the site's default language, whoever
    downloads the file: like the column names, they do not follow the interface."""
    with translation.override(settings.LANGUAGE_CODE):
        stakeholder_labels = {value: str(label) for value, label in StakeholderType.choices}
        reason_labels = {value: str(label) for value, label in ModerationReason.choices}
    return stakeholder_labels, reason_labels


def _row_chunks(
    consultation: Consultation, filters: CommentFilters, *, base_url: str
) -> Iterator[list[list]]:
    """The CSV's data rows, CHUNK_SIZE at a time (data_chunks, formatted and neutralised). A
    comment its author deleted keeps its row (replies point at it) but not its text or files."""
    # Formatted, not reversed, per row; a prefix the formula check passes passes every row.
    comment_prefix, comment_suffix = url_parts(base_url, "consultations:permalink")
    comment_prefix = _neutralise(comment_prefix)
    file_prefix, file_suffix = url_parts(base_url, "consultations:attachment")
    file_prefix = _neutralise(file_prefix)
    title = _neutralise(consultation.title)
    # Looked up once, not per row.
    stakeholder_labels, reason_labels = cell_labels()
    questions: dict[int, str] = {}  # neutralised text by number
    deleted, hidden = Comment.Status.DELETED.value, Comment.Status.HIDDEN.value
    starts = _FORMULA_START

    for data in data_chunks(consultation, filters):
        objectives, codes, files = data.objectives, data.codes, data.files
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
            *author,
            key_quote,
            group_id,
            has_files,
        ) in data.rows:
            question = questions.get(question_number)
            if question is None:
                question = questions[question_number] = _neutralise(question_text)
            name, organisation = public_author(*author)
            stakeholder_type = author[AUTHOR_TYPE]
            if name[:1] in starts:
                name = "'" + name
            if organisation[:1] in starts:
                organisation = "'" + organisation
            if status == deleted:
                text, attachments = "", ""
            else:
                if text[:1] in starts:
                    text = "'" + text
                attachments = (
                    " ".join(f"{file_prefix}{file}{file_suffix}" for file, _ in files.get(pk, ()))
                    if has_files
                    else ""
                )
            tags = objectives.get(pk)
            names = codes.get(pk)
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
                    _neutralise("; ".join(names)) if names else "",
                    "yes" if key_quote is not None else "",
                    "" if group_id is None else group_id,
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
    consultation: Consultation, filters: CommentFilters = NO_FILTERS, *, base_url: str
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
    filters: CommentFilters = NO_FILTERS,
    *,
    base_url: str,
) -> None:
    """Write the same text as iter_csv() to a text stream (open files with newline="")."""
    for line in iter_csv(consultation, filters, base_url=base_url):
        stream.write(line)


def csv_filename(
    consultation: Consultation, filters: CommentFilters = NO_FILTERS, extension: str = ".csv"
) -> str:
    """E.g. safe-borders-q2-obj10-comments-2026-11-23.csv (today's date). Only the question and
    objective are named; other filters leave the name as it is."""
    parts = [consultation.slug]
    if filters.question is not None:
        parts.append(f"q{filters.question}")
    if filters.objective is not None:
        parts.append(f"obj{filters.objective}")
    parts.append(f"comments-{timezone.localdate().isoformat()}")
    return "-".join(parts) + extension


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
