"""The staff XLSX export of a consultation's comments (openpyxl, write-only): the CSV's rows with
real dates and the attachments' text, the totals and two matrices, for the same filters."""

import re
import tempfile
from datetime import UTC, datetime

from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, NamedStyle
from openpyxl.utils import get_column_letter

from accounts.models import AUTHOR_TYPE, StakeholderType, public_author
from consultations import export
from consultations.models import Comment, Consultation, Objective

from .filters import CommentFilters

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = [*export.COLUMNS, "attachments_text"]
# Excel's limit on one cell's text; longer text is cut and ends with the marker.
CELL_LIMIT = 32_767
TRUNCATED = " […truncated]"
# Columns of long text, wrapped; the others stay on one line.
_WRAPPED = {"question", "text", "attachments_text", "codes"}
_WIDTHS = {
    "id": 8,
    "consultation": 24,
    "question_number": 10,
    "question": 40,
    "parent_id": 10,
    "depth": 7,
    "author": 24,
    "organisation": 28,
    "stakeholder_type": 22,
    "posted_at_utc": 20,
    "objectives": 14,
    "status": 11,
    "hidden_reason": 18,
    "text": 80,
    "url": 40,
    "attachments": 40,
    "codes": 28,
    "key_quote": 10,
    "duplicate_group": 12,
    "attachments_text": 80,
}
# Characters XML 1.0 cannot hold (openpyxl refuses them): dropped from every text cell.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"

SHEET_COMMENTS = "Comments"
SHEET_TOTALS = "Totals"
SHEET_OBJECTIVE_STAKEHOLDER = "Objective x stakeholder type"
SHEET_QUESTION_OBJECTIVE = "Question x objective"


def _clean(value: str) -> str:
    return _ILLEGAL.sub("", value)


def _cut(text: str) -> str:
    """Text that fits one cell: at most CELL_LIMIT characters, ending in TRUNCATED if cut."""
    if len(text) <= CELL_LIMIT:
        return text
    return text[: CELL_LIMIT - len(TRUNCATED)] + TRUNCATED


def matrix_rows(consultation: Consultation, filters: CommentFilters) -> dict[str, list[list]]:
    """The Totals sheet and the two matrices' rows (each a header row first), for the comments
    the filters keep, from aggregate queries: 7 queries whatever the number of comments.

    Totals: comments, replies, participants, organisations (case-insensitive), and per
    stakeholder type the comments and participants. "Objective x stakeholder type": comments
    tagged with each objective by authors of each type. "Question x objective": comments of each
    question tagged with each objective, and all its comments.

    insights/stats.py (the overview) computes the same figures for the page; this function is
    the place to swap them in once it has landed."""
    comments = filters.apply(consultation)
    through = Comment.objectives.through
    tags = through.objects.filter(comment__in=comments.values("pk"))
    # Labels in the site's default language, like the CSV's (export.cell_labels).
    type_labels, _reasons = export.cell_labels()
    not_given = "Not given"  # an author without a profile; English, like the sheet's names

    totals = comments.aggregate(
        comments=Count("pk"),
        replies=Count("pk", filter=Q(parent__isnull=False)),
        participants=Count("author", distinct=True),
        organisations=Count(
            Lower("author__profile__organisation"),
            distinct=True,
            filter=~Q(author__profile__organisation=""),
        ),
    )
    by_type = {
        row["author__profile__stakeholder_type"] or "": row
        for row in comments.order_by()
        .values("author__profile__stakeholder_type")
        .annotate(comments=Count("pk"), participants=Count("author", distinct=True))
    }
    types = [value for value, _label in StakeholderType.choices]
    if "" in by_type:
        types.append("")

    def type_label(value: str) -> str:
        return type_labels.get(value, value) if value else not_given

    totals_rows: list[list] = [
        ["Consultation", consultation.title],
        ["Filters", filters.as_query() or "none"],
        ["Exported at (UTC)", timezone.now().astimezone(UTC).replace(tzinfo=None, microsecond=0)],
        [],
        ["Measure", "Count"],
        ["Comments", totals["comments"]],
        ["Replies", totals["replies"]],
        ["Participants", totals["participants"]],
        ["Organisations", totals["organisations"]],
        [],
        ["Stakeholder type", "Comments", "Participants"],
    ]
    for value in types:
        row = by_type.get(value, {})
        totals_rows.append([type_label(value), row.get("comments", 0), row.get("participants", 0)])

    objectives = list(Objective.objects.order_by("number").values_list("number", "short_title"))
    cells: dict[tuple[int, str], int] = {
        (row["objective__number"], row["comment__author__profile__stakeholder_type"] or ""): row[
            "n"
        ]
        for row in tags.order_by()
        .values("objective__number", "comment__author__profile__stakeholder_type")
        .annotate(n=Count("comment_id"))
    }
    objective_rows: list[list] = [
        ["Objective", "Title", *(type_label(value) for value in types), "Total"]
    ]
    for number, title in objectives:
        counts = [cells.get((number, value), 0) for value in types]
        objective_rows.append([number, title, *counts, sum(counts)])

    per_question = dict(
        comments.order_by()
        .values("question__number")
        .annotate(n=Count("pk"))
        .values_list("question__number", "n")
    )
    tagged = {
        (row["comment__question__number"], row["objective__number"]): row["n"]
        for row in tags.order_by()
        .values("comment__question__number", "objective__number")
        .annotate(n=Count("comment_id"))
    }
    question_rows: list[list] = [
        ["Question", "Text", *(f"Objective {number}" for number, _title in objectives), "All"]
    ]
    for number, text in consultation.questions.order_by("number").values_list("number", "text"):
        question_rows.append(
            [
                number,
                text,
                *(tagged.get((number, objective), 0) for objective, _title in objectives),
                per_question.get(number, 0),
            ]
        )
    return {
        SHEET_TOTALS: totals_rows,
        SHEET_OBJECTIVE_STAKEHOLDER: objective_rows,
        SHEET_QUESTION_OBJECTIVE: question_rows,
    }


class _Cells:
    """Makes the styled cells of one sheet: wrapped text, dates, text that is never a formula."""

    def __init__(self, workbook: Workbook, sheet):
        self.sheet = sheet
        for name, style in (
            ("Header", NamedStyle("Header", font=Font(bold=True))),
            ("Wrapped", NamedStyle("Wrapped", alignment=Alignment(wrap_text=True, vertical="top"))),
            ("UTC date", NamedStyle("UTC date", number_format=_DATE_FORMAT)),
        ):
            if name not in workbook.named_styles:
                workbook.add_named_style(style)

    def text(self, value: str, style: str | None = None):
        """A text cell. openpyxl stores a string starting with "=" as a formula: such a cell is
        told it holds text (data type "s"), so the exact words stay and nothing is run."""
        if not value:
            return None
        value = _clean(value)
        if style is None and not value.startswith("="):
            return value
        cell = WriteOnlyCell(self.sheet, value)
        cell.data_type = "s"
        if style:
            cell.style = style
        return cell

    def date(self, value: datetime):
        # Excel has no time zones: the UTC time, naive, with a date format.
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        cell = WriteOnlyCell(self.sheet, value)
        cell.style = "UTC date"
        return cell

    def header(self, names: list[str]) -> list:
        cells = []
        for name in names:
            cell = WriteOnlyCell(self.sheet, name)
            cell.style = "Header"
            cells.append(cell)
        return cells


def _comment_rows(consultation, filters, cells: _Cells, *, base_url: str):
    """The Comments sheet's data rows: export.data_chunks, formatted for a spreadsheet."""
    comment_prefix, comment_suffix = export.url_parts(base_url, "consultations:permalink")
    file_prefix, file_suffix = export.url_parts(base_url, "consultations:attachment")
    stakeholder_labels, reason_labels = export.cell_labels()
    title = cells.text(consultation.title)
    questions: dict[int, object] = {}
    deleted, hidden = Comment.Status.DELETED.value, Comment.Status.HIDDEN.value
    text_cell = cells.text

    for data in export.data_chunks(consultation, filters, text_chars=CELL_LIMIT + 1):
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
            _has_files,
        ) in data.rows:
            question = questions.get(question_number)
            if question is None:
                question = questions[question_number] = text_cell(question_text, "Wrapped")
            files = data.files.get(pk, ()) if status != deleted else ()
            texts = [t for _pk, t in files if t]
            names = data.codes.get(pk)
            tags = data.objectives.get(pk)
            name, organisation = public_author(*author)
            stakeholder_type = author[AUTHOR_TYPE]
            yield [
                pk,
                title,
                question_number,
                question,
                parent_id,
                level,
                text_cell(name),
                text_cell(organisation),
                stakeholder_labels.get(stakeholder_type, stakeholder_type)
                if stakeholder_type
                else None,
                cells.date(created_at),
                ";".join(map(str, sorted(tags))) if tags else None,
                status,
                reason_labels.get(reason, reason) if status == hidden and reason else None,
                None if status == deleted else text_cell(_cut(text), "Wrapped"),
                f"{comment_prefix}{pk}{comment_suffix}",
                " ".join(f"{file_prefix}{file}{file_suffix}" for file, _t in files) or None,
                text_cell("; ".join(names), "Wrapped") if names else None,
                "yes" if key_quote is not None else None,
                group_id,
                text_cell(_cut("\n\n".join(texts)), "Wrapped") if texts else None,
            ]


def _matrix_cell(cells: _Cells, value, is_matrix: bool):
    if isinstance(value, datetime):
        return cells.date(value)
    if isinstance(value, str):
        return cells.text(value, "Wrapped" if is_matrix else None)
    return value


def write_xlsx(stream, consultation: Consultation, filters: CommentFilters, *, base_url: str):
    """Write the workbook to a binary stream (a file, a BytesIO). Write-only: rows go to
    temporary files as they are made, so memory stays flat whatever the number of comments."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_COMMENTS)
    cells = _Cells(workbook, sheet)
    # Panes and widths come before the rows in the file: set them first.
    sheet.freeze_panes = "A2"
    for index, name in enumerate(COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = _WIDTHS.get(name, 14)
    sheet.append(cells.header(COLUMNS))
    count = 0
    for row in _comment_rows(consultation, filters, cells, base_url=base_url):
        sheet.append(row)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{count + 1}"

    for title, rows in matrix_rows(consultation, filters).items():
        sheet = workbook.create_sheet(title)
        matrix_cells = _Cells(workbook, sheet)
        sheet.column_dimensions["A"].width = 22
        sheet.column_dimensions["B"].width = 40
        is_matrix = title != SHEET_TOTALS
        if is_matrix:
            sheet.freeze_panes = "C2"  # the header row, and each row's number and title
        for index, row in enumerate(rows):
            if (index == 0 and is_matrix) or row[:1] in (["Measure"], ["Stakeholder type"]):
                sheet.append(matrix_cells.header(row))
            else:
                sheet.append([_matrix_cell(matrix_cells, value, is_matrix) for value in row])
    workbook.save(stream)


def xlsx_file(consultation: Consultation, filters: CommentFilters, *, base_url: str):
    """The workbook in a temporary file (removed once closed), at its start: for FileResponse."""
    file = tempfile.TemporaryFile()
    try:
        write_xlsx(file, consultation, filters, base_url=base_url)
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return file


def xlsx_filename(consultation: Consultation, filters: CommentFilters) -> str:
    return export.csv_filename(consultation, filters, extension=".xlsx")
