"""The numbers of a consultation's insights page, from aggregate queries under the staff filters.

    insights = compute(consultation, filters)    # a fixed number of queries, whatever the rows

Everything here is plain data (labels and numbers), so that the page, its charts and the XLSX
export read the same object: each `Table` has its column labels and rows of counts
(`Table.as_rows()` gives them as lists, header first), and the matrices say which filter their
rows and columns set, so that a cell can link to the comments behind it.

Every count is of comments as `filters.apply(consultation)` gives them, replies included, unless a
column says otherwise (the totals and the per-question table separate top-level comments from
replies). A comment tagged with two objectives counts once under each.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import Count, DateField, Exists, F, Func, OuterRef, Q
from django.db.models.functions import Lower, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import StakeholderType
from consultations.models import Comment, Consultation, Objective

from .filters import NO_FILTERS, CommentFilters

# Participation over time is counted per day, or per week (starting on Monday) when the period
# shown is longer than this many days: a bar a day stops being readable beyond two months.
DAYS_PER_DAY_CHART = 60

# The row or column of the comments whose author has no profile (no stakeholder type).
NOT_GIVEN = ""


@dataclass(frozen=True)
class Totals:
    comments: int  # top-level comments
    replies: int
    participants: int  # distinct authors
    organisations: int  # distinct non-empty organisations, case-insensitive

    @property
    def comments_and_replies(self) -> int:
        return self.comments + self.replies

    def as_rows(self) -> list[list]:
        return [
            [_("Total"), _("Count")],
            [_("Comments"), self.comments],
            [_("Replies"), self.replies],
            [_("Participants"), self.participants],
            [_("Organisations"), self.organisations],
        ]


@dataclass(frozen=True)
class Row:
    key: object  # the filter value the row stands for (question number, objective, type)
    label: str
    values: tuple[int, ...]
    in_focus: bool = False  # an objective in focus of the consultation
    note: str = ""  # e.g. the question's text

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass(frozen=True)
class Table:
    """Counts with labelled rows and columns. A matrix names the filters its rows and columns
    set (`row_filter`, `column_filter`: CommentFilters field names) and its columns' keys."""

    title: str
    row_heading: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    row_filter: str = ""
    column_filter: str = ""
    column_keys: tuple = ()

    def column_totals(self) -> tuple[int, ...]:
        return tuple(sum(row.values[i] for row in self.rows) for i in range(len(self.columns)))

    def as_rows(self) -> list[list]:
        """The header, then one list per row: its label and its numbers (for a spreadsheet)."""
        return [[self.row_heading, *self.columns]] + [[r.label, *r.values] for r in self.rows]

    def cells(self, row: Row) -> list[tuple[object, int]]:
        """(column key, count) of a matrix row."""
        return list(zip(self.column_keys, row.values, strict=True))


@dataclass(frozen=True)
class Period:
    start: date  # the day, or the Monday of the week
    count: int
    closes: bool = False  # the consultation closed (or closes) in this period


@dataclass(frozen=True)
class Timeline:
    unit: str  # "day" or "week"
    periods: tuple[Period, ...]
    closes_at: datetime | None

    @property
    def closing_period(self) -> Period | None:
        return next((p for p in self.periods if p.closes), None)

    def as_rows(self) -> list[list]:
        heading = _("Week starting") if self.unit == "week" else _("Day")
        return [[heading, _("Comments and replies")]] + [[p.start, p.count] for p in self.periods]


@dataclass(frozen=True)
class Insights:
    consultation: Consultation
    filters: CommentFilters
    totals: Totals
    by_stakeholder: Table  # comments and participants per stakeholder type
    by_question: Table  # top-level comments, replies and participants per question
    by_objective: Table  # in focus first, then the others
    objective_by_stakeholder: Table  # matrix: objectives × stakeholder types
    objective_by_question: Table  # matrix: objectives × questions (the question × objective one)
    timeline: Timeline

    @property
    def tables(self) -> list[Table]:
        """Every table, in the page's order: one sheet each in a spreadsheet."""
        return [
            self.by_stakeholder,
            self.by_question,
            self.by_objective,
            self.objective_by_stakeholder,
            self.objective_by_question,
        ]


def compute(consultation: Consultation, filters: CommentFilters = NO_FILTERS) -> Insights:
    """Every number of the insights page for the comments `filters` keep: eight queries."""
    comments = filters.apply(consultation).order_by()
    # The objectives tagged on those comments, read from the tagging table itself: a values()
    # over `objectives__number` would reuse the join of an objective filter and see only it.
    tags = Comment.objectives.through.objects.filter(comment__in=comments.values("pk")).order_by()

    totals = Totals(
        **comments.aggregate(
            comments=Count("pk", filter=Q(level=0)),
            replies=Count("pk", filter=Q(level__gt=0)),
            participants=Count("author", distinct=True),
            organisations=Count(
                Lower("author__profile__organisation"),
                distinct=True,
                filter=~Q(author__profile__organisation=""),
            ),
        )
    )

    # Stakeholder types: every type in the list's order, then the authors without a profile.
    by_type = {
        value or NOT_GIVEN: (n, people)
        for value, n, people in comments.values("author__profile__stakeholder_type")
        .annotate(n=Count("pk"), people=Count("author", distinct=True))
        .values_list("author__profile__stakeholder_type", "n", "people")
    }
    types = [(value, str(label)) for value, label in StakeholderType.choices]
    if NOT_GIVEN in by_type:
        types.append((NOT_GIVEN, _("Not given")))
    by_stakeholder = Table(
        title=_("Comments by stakeholder type"),
        row_heading=_("Stakeholder type"),
        columns=(_("Comments and replies"), _("Participants")),
        rows=tuple(
            Row(
                key=value,
                label=label,
                values=by_type.get(value, (0, 0)),
            )
            for value, label in types
        ),
        row_filter="stakeholder_type",
    )

    questions = list(consultation.questions.order_by("number").values_list("number", "text"))
    per_question = {
        number: counts
        for number, *counts in comments.values("question__number")
        .annotate(
            top=Count("pk", filter=Q(level=0)),
            replies=Count("pk", filter=Q(level__gt=0)),
            people=Count("author", distinct=True),
        )
        .values_list("question__number", "top", "replies", "people")
    }
    by_question = Table(
        title=_("Comments per question"),
        row_heading=_("Question"),
        columns=(_("Comments"), _("Replies"), _("Participants")),
        rows=tuple(
            Row(
                key=number,
                label=_("Question %(number)s") % {"number": number},
                values=tuple(per_question.get(number, (0, 0, 0))),
                note=text,
            )
            for number, text in questions
        ),
        row_filter="question",
    )

    focus = consultation.objectives.through.objects.filter(
        consultation=consultation, objective=OuterRef("pk")
    )
    objectives = sorted(
        Objective.objects.annotate(in_focus=Exists(focus)).values_list(
            "number", "short_title", "in_focus", "pk"
        ),
        key=lambda o: (not o[2], o[0]),
    )
    # The tagging table's objective_id, read without joining the objectives.
    number_of = {pk: number for number, _title, _focus, pk in objectives}
    objectives = [(number, title, focus) for number, title, focus, _pk in objectives]

    def objective_row(number, short_title, in_focus, values) -> Row:
        return Row(
            key=number,
            label=f"{number}. {_(short_title)}",
            values=tuple(values),
            in_focus=bool(in_focus),
        )

    per_objective = {
        number_of[pk]: (n, people)
        for pk, n, people in tags.values("objective_id")
        .annotate(n=Count("comment_id"), people=Count("comment__author", distinct=True))
        .values_list("objective_id", "n", "people")
    }
    by_objective = Table(
        title=_("Comments per GCM objective"),
        row_heading=_("GCM objective"),
        columns=(_("Comments and replies"), _("Participants")),
        rows=tuple(
            objective_row(
                number,
                title,
                in_focus,
                per_objective.get(number, (0, 0)),
            )
            for number, title, in_focus in objectives
        ),
        row_filter="objective",
    )

    # Both matrices from one query: tags per objective, stakeholder type and question.
    author_type = "comment__author__profile__stakeholder_type"
    by_type_cells: dict[tuple, int] = {}
    by_question_cells: dict[tuple, int] = {}
    for pk, value, question, n in (
        tags.values("objective_id", author_type, "comment__question__number")
        .annotate(n=Count("comment_id"))
        .values_list("objective_id", author_type, "comment__question__number", "n")
    ):
        key = (number_of[pk], value or NOT_GIVEN)
        by_type_cells[key] = by_type_cells.get(key, 0) + n
        key = (number_of[pk], question)
        by_question_cells[key] = by_question_cells.get(key, 0) + n
    cells = by_type_cells
    matrix_types = [(value, label) for value, label in types if value != NOT_GIVEN]
    if any(key[1] == NOT_GIVEN for key in cells):
        matrix_types.append((NOT_GIVEN, _("Not given")))
    objective_by_stakeholder = Table(
        title=_("GCM objectives by stakeholder type"),
        row_heading=_("GCM objective"),
        columns=tuple(label for _value, label in matrix_types),
        rows=tuple(
            objective_row(
                number, title, in_focus, (cells.get((number, v), 0) for v, _l in matrix_types)
            )
            for number, title, in_focus in objectives
        ),
        row_filter="objective",
        column_filter="stakeholder_type",
        column_keys=tuple(value for value, _label in matrix_types),
    )

    cells = by_question_cells
    objective_by_question = Table(
        title=_("GCM objectives by question"),
        row_heading=_("GCM objective"),
        columns=tuple(_("Question %(number)s") % {"number": number} for number, _t in questions),
        rows=tuple(
            objective_row(
                number, title, in_focus, (cells.get((number, q), 0) for q, _t in questions)
            )
            for number, title, in_focus in objectives
        ),
        row_filter="objective",
        column_filter="question",
        column_keys=tuple(number for number, _text in questions),
    )

    days = dict(
        comments.annotate(day=_utc_day("created_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    timeline = _timeline(consultation, days, filters)

    return Insights(
        consultation=consultation,
        filters=filters,
        totals=totals,
        by_stakeholder=by_stakeholder,
        by_question=by_question,
        by_objective=by_objective,
        objective_by_stakeholder=objective_by_stakeholder,
        objective_by_question=objective_by_question,
        timeline=timeline,
    )


def _utc_day(field: str):
    """The UTC day of a datetime column. SQLite keeps datetimes as UTC text, whose DATE() is
    that day: TruncDate would convert each row in Python instead (a third of compute() at
    10,000 comments)."""
    if connection.vendor == "sqlite":
        return Func(F(field), function="DATE", output_field=DateField())
    return TruncDate(field, tzinfo=UTC)


def _timeline(consultation: Consultation, days: dict[date, int], filters) -> Timeline:
    """Counts per day from the opening to the closing (today when it has none, the last
    comment's day when later), within the filters' dates, per week when that is longer than
    DAYS_PER_DAY_CHART days."""
    closes = consultation.closes_at.astimezone(UTC).date() if consultation.closes_at else None
    start = consultation.opens_at.astimezone(UTC).date()
    end = closes or timezone.now().astimezone(UTC).date()
    if days:
        start, end = min(start, min(days)), max(end, max(days))
    # The filters' dates bound the days counted: only those are shown.
    start = filters.since or start
    end = filters.until or end
    if end < start:
        end = start
    unit = "week" if (end - start).days + 1 > DAYS_PER_DAY_CHART else "day"
    counts: dict[date, int] = {}
    if unit == "week":
        start -= timedelta(days=start.weekday())
        for day, n in days.items():
            monday = day - timedelta(days=day.weekday())
            counts[monday] = counts.get(monday, 0) + n
        step = timedelta(days=7)
    else:
        counts = days
        step = timedelta(days=1)
    periods = []
    current = start
    while current <= end:
        periods.append(
            Period(
                start=current,
                count=counts.get(current, 0),
                closes=closes is not None and current <= closes < current + step,
            )
        )
        current += step
    return Timeline(unit=unit, periods=tuple(periods), closes_at=consultation.closes_at)
