"""Staff download the XLSX from the consultation page, in a real browser, and open it."""

import io

import pytest
from openpyxl import load_workbook

from insights.xlsx import COLUMNS
from tests.conftest import create_user

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_staff_downloads_the_xlsx(page, question, post_comment, log_in_as):
    author = create_user(display_name="Amina Diallo", organisation="Sahel Migrant Network")
    first = post_comment(question=question, author=author, body="=1+1 first", objectives=[4])
    post_comment(question=question, author=author, parent=first, body="A reply.", objectives=[4])
    post_comment(question=question, author=author, body="Untagged.")
    log_in_as(create_user(display_name="Staff Member", is_staff=True))
    page.goto(question.consultation.get_absolute_url() + "?objective=4")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download comments (XLSX)").click()

    assert download.value.suggested_filename.endswith(".xlsx")
    # Saved without an extension, which load_workbook would refuse as a path.
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert book.sheetnames[0] == "Comments" and "Totals" in book.sheetnames
    rows = list(book["Comments"].iter_rows(values_only=True))
    assert list(rows[0]) == COLUMNS
    assert len(rows) == 3, "the page's objective filter went with the link"
    assert rows[1][COLUMNS.index("text")] == "=1+1 first"
    totals = {row[0]: row[1] for row in book["Totals"].iter_rows(values_only=True) if row}
    assert totals["Comments"] == 2 and totals["Replies"] == 1
