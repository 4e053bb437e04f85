"""The staff exports on the shared filters: the CSV's new columns and filters, and the XLSX
(sheets, header, frozen pane, dates, text that stays text, counts equal to the CSV's)."""

import csv
import io
import tempfile
import tracemalloc
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import StakeholderType
from consultations import export, services
from consultations.management.benchmarking import populate_bulk
from consultations.models import Attachment, Comment
from insights import xlsx
from insights.filters import CommentFilters
from insights.models import (
    AttachmentText,
    Code,
    CodeAssignment,
    CommentSignature,
    DuplicateGroup,
    KeyQuote,
)

pytestmark = pytest.mark.django_db

BASE_URL = "https://forum.example.org"


def csv_rows(consultation, query=None) -> list[dict[str, str]]:
    filters = export.filters_from_query(consultation, query or {})
    text = "".join(export.iter_csv(consultation, filters, base_url=BASE_URL))
    return list(csv.DictReader(io.StringIO(text.removeprefix(export.BOM), newline="")))


def workbook(consultation, query=None):
    filters = export.filters_from_query(consultation, query or {})
    buffer = io.BytesIO()
    xlsx.write_xlsx(buffer, consultation, filters, base_url=BASE_URL)
    buffer.seek(0)
    return load_workbook(buffer)


def sheet_records(book) -> list[dict]:
    rows = list(book[xlsx.SHEET_COMMENTS].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.fixture
def coded(question, question2, make_user, post_comment, staff_user):
    """Four comments: coded, flagged, grouped, one reply; two stakeholder types."""
    city = make_user(
        display_name="Lyon", organisation="City of Lyon", stakeholder_type="local_government"
    )
    ngo = make_user(organisation="Sea Watchers", stakeholder_type=StakeholderType.CIVIL_SOCIETY)
    first = post_comment(question=question, author=city, body="Birth registration.", objectives=[4])
    formula = post_comment(question=question, author=ngo, body="=1+1 and rescue", objectives=[8])
    reply = post_comment(question=question, author=city, body="Agreed.", parent=formula)
    other = post_comment(question=question2, author=ngo, body="Remittances.", objectives=[20, 8])
    children = Code.objects.create(consultation=question.consultation, name="Children")
    sea = Code.objects.create(consultation=question.consultation, name="Sea rescue")
    for code, comment in ((children, first), (sea, formula), (children, formula)):
        CodeAssignment.objects.create(code=code, comment=comment, assigned_by=staff_user)
    KeyQuote.objects.create(comment=formula, flagged_by=staff_user)
    group = DuplicateGroup.objects.create(consultation=question.consultation, size=2)
    for comment in (first, other):
        CommentSignature.objects.create(
            comment=comment, consultation=question.consultation, minhash=b"", group=group
        )
    return {
        "first": first,
        "formula": formula,
        "reply": reply,
        "other": other,
        "children": children,
        "group": group,
    }


# The CSV's new columns and filters


def test_csv_has_codes_key_quote_and_duplicate_group(consultation, coded):
    rows = {int(row["id"]): row for row in csv_rows(consultation)}

    assert rows[coded["formula"].pk]["codes"] == "Children; Sea rescue"
    assert rows[coded["formula"].pk]["key_quote"] == "yes"
    assert rows[coded["formula"].pk]["duplicate_group"] == ""
    assert rows[coded["first"].pk]["codes"] == "Children"
    assert rows[coded["first"].pk]["key_quote"] == ""
    assert rows[coded["first"].pk]["duplicate_group"] == str(coded["group"].pk)
    assert rows[coded["reply"].pk]["codes"] == ""


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"stakeholder_type": "local_government"}, {"first", "reply"}),
        ({"organisation": "sea watchers"}, {"formula", "other"}),
        ({"code": "children"}, {"first", "formula"}),
        ({"group": "group"}, {"first", "other"}),
        ({"q": "rescue"}, {"formula"}),
        ({"objective": "8", "question": "1"}, {"formula"}),
    ],
)
def test_csv_takes_the_staff_filters(consultation, coded, query, expected):
    query = {
        name: str(coded[value].pk) if value in ("children", "group") else value
        for name, value in query.items()
    }

    rows = csv_rows(consultation, query)

    assert {int(row["id"]) for row in rows} == {coded[name].pk for name in expected}


def test_command_takes_the_staff_filters_too(consultation, coded, settings):
    settings.SITE_URL = BASE_URL
    out = io.StringIO()

    call_command(
        "export_comments", "safe-borders", "--stakeholder-type", "local_government", stdout=out
    )

    rows = list(csv.DictReader(io.StringIO(out.getvalue().removeprefix(export.BOM))))
    assert {int(row["id"]) for row in rows} == {coded["first"].pk, coded["reply"].pk}


def test_a_bad_staff_filter_refuses_the_download(client, staff_user, consultation):
    client.force_login(staff_user)

    for name in ("export", "export_xlsx"):
        url = reverse(f"consultations:{name}", args=["safe-borders"])
        response = client.get(url + "?stakeholder_type=spy&since=31/03/2026")
        assert response.status_code == 400
        html = response.content.decode()
        assert "There is no stakeholder type “spy”." in html
        assert "“31/03/2026” is not a date" in html


def test_csv_query_count_stays_fixed_with_codes_and_groups(
    consultation, coded, make_user, post_comment, question, django_assert_num_queries
):
    filters = export.filters_from_query(consultation, {})
    # Comments (one-to-ones joined), objectives, codes; no attachment here.
    with django_assert_num_queries(3):
        "".join(export.iter_csv(consultation, filters, base_url=BASE_URL))
    author = make_user()
    for _ in range(10):
        comment = post_comment(question=question, author=author, objectives=[3])
        CodeAssignment.objects.create(code=coded["children"], comment=comment)
    with django_assert_num_queries(3):
        "".join(export.iter_csv(consultation, filters, base_url=BASE_URL))


# The XLSX


def test_xlsx_has_the_sheets_header_frozen_pane_and_filter(consultation, coded):
    book = workbook(consultation)

    assert book.sheetnames == [
        "Comments",
        "Totals",
        "Objective x stakeholder type",
        "Question x objective",
    ]
    sheet = book["Comments"]
    assert [cell.value for cell in sheet[1]] == [*export.COLUMNS, "attachments_text"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:T{1 + 4}"
    assert sheet.column_dimensions["N"].width == 80  # text
    assert sheet.cell(row=2, column=export.COLUMNS.index("text") + 1).alignment.wrap_text


def test_a_formula_like_comment_stays_text(consultation, coded):
    book = workbook(consultation)
    sheet = book["Comments"]
    ids = [row[0].value for row in sheet.iter_rows(min_row=2)]
    cell = sheet.cell(row=2 + ids.index(coded["formula"].pk), column=14)

    assert cell.value == "=1+1 and rescue"  # the author's exact words
    assert cell.data_type == "s"


def test_dates_are_datetimes_in_utc(consultation, coded):
    Comment.objects.filter(pk=coded["first"].pk).update(
        created_at=datetime(2026, 1, 31, 9, 15, tzinfo=UTC)
    )

    records = {r["id"]: r for r in sheet_records(workbook(consultation))}

    assert records[coded["first"].pk]["posted_at_utc"] == datetime(2026, 1, 31, 9, 15)
    cell = workbook(consultation)["Comments"]["J2"]
    assert cell.is_date and cell.number_format == "yyyy-mm-dd hh:mm:ss"


def test_xlsx_rows_equal_the_csv_rows_for_the_same_filters(consultation, coded):
    for query in ({}, {"question": "1"}, {"code": str(coded["children"].pk)}, {"q": "rescue"}):
        records = sheet_records(workbook(consultation, query))
        rows = csv_rows(consultation, query)
        assert [r["id"] for r in records] == [int(row["id"]) for row in rows]
        for record, row in zip(records, rows, strict=True):
            assert (record["codes"] or "") == row["codes"]
            assert str(record["duplicate_group"] or "") == row["duplicate_group"]
            assert (record["key_quote"] or "") == row["key_quote"]
            assert record["author"] == row["author"]


def test_totals_and_matrices_count_what_the_comments_sheet_holds(consultation, coded):
    book = workbook(consultation)
    totals = {row[0]: row[1:] for row in book["Totals"].iter_rows(values_only=True) if row[0]}

    assert totals["Comments"][0] == len(sheet_records(book)) == 4
    assert totals["Replies"][0] == 1
    assert totals["Participants"][0] == 2
    assert totals["Organisations"][0] == 2
    assert totals["Local or regional government"][:2] == (2, 1)
    assert totals["Civil society"][:2] == (2, 1)

    matrix = list(book["Objective x stakeholder type"].iter_rows(values_only=True))
    header, rows = matrix[0], {row[0]: row for row in matrix[1:]}
    assert header[0] == "Objective" and header[-1] == "Total"
    assert len(rows) == 23
    assert rows[8][header.index("Civil society")] == 2 and rows[8][-1] == 2
    assert rows[4][header.index("Local or regional government")] == 1

    matrix = list(book["Question x objective"].iter_rows(values_only=True))
    header, rows = matrix[0], {row[0]: row for row in matrix[1:]}
    assert rows[1][header.index("Objective 8")] == 1
    assert rows[2][header.index("Objective 20")] == 1
    assert rows[1][-1] == 3 and rows[2][-1] == 1


def test_totals_follow_the_filters(consultation, coded):
    book = workbook(consultation, {"stakeholder_type": "civil_society"})
    totals = {row[0]: row[1:] for row in book["Totals"].iter_rows(values_only=True) if row[0]}

    assert totals["Comments"][0] == len(
        csv_rows(consultation, {"stakeholder_type": "civil_society"})
    )
    assert totals["Filters"][0] == "stakeholder_type=civil_society"


def test_matrix_rows_take_a_fixed_number_of_queries(
    consultation, coded, question, make_user, post_comment, django_assert_num_queries
):
    filters = export.filters_from_query(consultation, {})
    with django_assert_num_queries(7):
        xlsx.matrix_rows(consultation, filters)
    for n in range(8):
        post_comment(question=question, author=make_user(), objectives=[n + 1])
    with django_assert_num_queries(7):
        xlsx.matrix_rows(consultation, filters)


def test_attachments_text_column_is_cut_at_the_cell_limit(consultation, coded):
    comment = coded["other"]
    attachment = Attachment.objects.create(
        comment=comment, file="attachments/x.pdf", original_name="x.pdf", size=10
    )
    AttachmentText.objects.create(
        attachment=attachment, state=AttachmentText.State.DONE, text="word " * 10_000
    )

    records = {r["id"]: r for r in sheet_records(workbook(consultation))}

    cell = records[comment.pk]["attachments_text"]
    assert len(cell) == xlsx.CELL_LIMIT
    assert cell.endswith(xlsx.TRUNCATED) and cell.startswith("word word")
    assert records[coded["first"].pk]["attachments_text"] is None


# The download


def xlsx_url(query=""):
    return reverse("consultations:export_xlsx", args=["safe-borders"]) + query


def test_anonymous_download_redirects_to_login(client, consultation):
    response = client.get(xlsx_url())

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_participant_gets_403(client, user, consultation):
    client.force_login(user)

    assert client.get(xlsx_url()).status_code == 403


def test_staff_download_is_the_workbook(client, staff_user, consultation, coded):
    client.force_login(staff_user)

    response = client.get(xlsx_url("?question=1"))

    assert response.status_code == 200
    assert response["Content-Type"] == xlsx.CONTENT_TYPE
    assert "safe-borders-q1-comments-" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(sheet_records(book)) == 3


def test_the_consultation_page_links_the_xlsx_for_staff_only(client, staff_user, user, question):
    page = question.consultation.get_absolute_url()
    client.force_login(user)
    assert "Download comments (XLSX)" not in client.get(page).content.decode()

    client.force_login(staff_user)
    html = client.get(page + "?objective=4").content.decode()

    assert "Download comments (XLSX)" in html
    assert f'href="{xlsx_url()}?objective=4"' in html


def test_a_deleted_comment_keeps_no_text(consultation, coded):
    services.comment_delete(comment=coded["reply"], by=coded["reply"].author)

    records = {r["id"]: r for r in sheet_records(workbook(consultation))}

    assert records[coded["reply"].pk]["text"] is None
    assert records[coded["reply"].pk]["status"] == "deleted"


def test_peak_memory_does_not_grow_with_the_number_of_comments(monkeypatch):
    monkeypatch.setattr(export, "CHUNK_SIZE", 100)

    def peak(count):
        exported = populate_bulk(count)
        # To a file, as the download does: a BytesIO would hold the whole output.
        with tempfile.TemporaryFile() as file:
            tracemalloc.start()
            try:
                xlsx.write_xlsx(file, exported, CommentFilters(), base_url=BASE_URL)
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    small, large = peak(300), peak(3000)

    assert large < 1.5 * small, (small, large)


def test_the_workbook_takes_a_fixed_number_of_queries(
    consultation, coded, question, make_user, post_comment, django_assert_num_queries
):
    filters = export.filters_from_query(consultation, {})
    # The comments, their objectives and codes (one chunk, no files), then matrix_rows' 7.
    with django_assert_num_queries(3 + 7):
        xlsx.write_xlsx(io.BytesIO(), consultation, filters, base_url=BASE_URL)
    for n in range(12):
        post_comment(question=question, author=make_user(), objectives=[n + 1])
    with django_assert_num_queries(3 + 7):
        xlsx.write_xlsx(io.BytesIO(), consultation, filters, base_url=BASE_URL)


def test_command_writes_the_workbook_to_a_file(consultation, coded, tmp_path, settings):
    settings.SITE_URL = BASE_URL
    path = tmp_path / "comments.xlsx"

    call_command(
        "export_comments", "safe-borders", "--format", "xlsx", "--question", "1", "--output", path
    )

    book = load_workbook(path)
    assert [r["id"] for r in sheet_records(book)] == [
        int(row["id"]) for row in csv_rows(consultation, {"question": "1"})
    ]
    with pytest.raises(CommandError, match="--output"):
        call_command("export_comments", "safe-borders", "--format", "xlsx")
