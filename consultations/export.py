"""The CSV exports for staff: a consultation's comments (web and command) and the moderation log."""

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import Comment, Consultation, ModerationAction

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
    "posted_at",
    "objectives",
    "status",
    "text",
    "url",
    "attachments",
]

# The GCM has a fixed list of 23 objectives (see migration 0002_gcm_objectives).
OBJECTIVE_NUMBERS = range(1, 24)

# Rows fetched per database round trip; the objectives and attachments prefetches run once per
# chunk.
CHUNK_SIZE = 500

# A spreadsheet treats a cell starting with one of these as a formula (CSV injection, OWASP).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
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


def _comments(consultation: Consultation, filters: ExportFilters):
    comments = Comment.objects.filter(question__consultation=consultation)
    if not filters.include_hidden:
        comments = comments.exclude(status=Comment.Status.HIDDEN)
    if filters.question_number is not None:
        comments = comments.filter(question__number=filters.question_number)
    if filters.objective_number is not None:
        # Objective numbers are unique, so this join adds no duplicate rows.
        comments = comments.filter(objectives__number=filters.objective_number)
    return (
        comments.select_related("question", "author__profile")
        .prefetch_related("objectives", "attachments")
        .in_thread_order()
    )


def iter_rows(
    consultation: Consultation, filters: ExportFilters = NO_FILTERS, *, base_url: str
) -> Iterator[list]:
    """The data rows (no header) in thread order; hidden comments unless filters exclude them.

    A comment its author deleted keeps its row (replies point at it) but not its text or files.
    """
    # Built once: comment.get_absolute_url() would fetch the consultation for every row.
    consultation_url = base_url.rstrip("/") + consultation.get_absolute_url()
    base = base_url.rstrip("/")
    comments = _comments(consultation, filters)
    for comment in comments.iterator(chunk_size=CHUNK_SIZE):
        author = comment.author
        profile = getattr(author, "profile", None)
        deleted = comment.status == Comment.Status.DELETED
        files = [base + attachment.get_absolute_url() for attachment in comment.attachments.all()]
        row = [
            comment.pk,
            consultation.title,
            comment.question.number,
            comment.question.text,
            comment.parent_id if comment.parent_id is not None else "",
            comment.level,
            author.display_name,
            profile.organisation if profile is not None else "",
            profile.get_stakeholder_type_display() if profile and profile.stakeholder_type else "",
            _iso_utc(comment.created_at),
            ";".join(str(n) for n in sorted(o.number for o in comment.objectives.all())),
            comment.status,
            "" if deleted else comment.body_text,
            f"{consultation_url}#{comment.anchor}",
            "" if deleted else " ".join(files),
        ]
        yield [_neutralise(value) for value in row]


class _Echo:
    """A file-like object whose write() hands the line back (Django's streaming CSV pattern)."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(header: list[str], rows) -> Iterator[str]:
    """A CSV file one line at a time: the UTF-8 BOM, the header, then the rows (RFC 4180)."""
    # The BOM makes Excel read the file as UTF-8 rather than the local code page.
    yield BOM
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    yield writer.writerow(header)
    # Labels in cells (stakeholder type, moderation action) are in the site's default language,
    # whoever downloads the file: like the column names, they do not follow the interface.
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
    """The whole file, one line at a time: the UTF-8 BOM, the header, then one line per comment."""
    yield from _csv_lines(COLUMNS, iter_rows(consultation, filters, base_url=base_url))


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
