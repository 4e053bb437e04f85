"""Issue 10's journey, in a real browser on the demo data: a staff member opens the insights
page, follows a matrix cell to its comments, codes two of them (one as a key quote), downloads
the evidence pack (the DOCX holds the exact quotes and their permalinks) and the XLSX (its sheets
and counts); axe-core finds nothing serious or critical on the pages on the way."""

import io
import re

import docx
import pytest
from axe_playwright_python.sync_playwright import Axe
from django.http import QueryDict
from openpyxl import load_workbook
from playwright.sync_api import expect

from accounts.models import User
from consultations.models import Comment
from insights import coding
from insights.filters import CommentFilters
from insights.models import CodeAssignment, KeyQuote
from tests.e2e.conftest import record_axe

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

STAFF = "staff@example.org"  # the demo's staff account (README)


def axe_clean(page, request, name: str) -> None:
    results = Axe().run(page).response
    counts = record_axe(
        request.config, name, results["violations"], results["testEngine"]["version"]
    )
    assert counts.get("serious", 0) == counts.get("critical", 0) == 0, results["violations"]


def test_from_the_insights_to_coded_evidence_and_the_spreadsheet(page, demo, log_in_as, request):
    staff = User.objects.get(email=STAFF)
    log_in_as(staff)
    code = coding.create_code(staff, demo, "Safe pathways")

    page.goto(demo.get_absolute_url())
    page.get_by_role("link", name="Insights for staff").click()
    expect(page.locator("main h1")).to_contain_text("Insights for staff")
    axe_clean(page, request, "journey: overview")

    # A cell of the objective x stakeholder type matrix: its comments, its filters.
    matrix = page.locator("section[aria-labelledby=objective-stakeholder-heading]")
    cell = matrix.locator("td a").first
    count = int(cell.inner_text())
    cell.click()
    expect(page).to_have_url(re.compile(r"objective=\d+"))
    expect(page).to_have_url(re.compile(r"stakeholder_type=\w+"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Comments and coding")
    axe_clean(page, request, "journey: a matrix cell's comments")
    query = page.url.split("?", 1)[1]
    objective = int(re.search(r"objective=(\d+)", query).group(1))
    filters, _ = CommentFilters.parse(demo, QueryDict(query))
    cell_comments = list(filters.apply(demo).order_by("pk").values_list("pk", flat=True))
    assert len(cell_comments) == count

    # Code two comments of the cell: the first as a key quote.
    coded = [
        pk
        for pk in filters.apply(demo)
        .filter(status=Comment.Status.PUBLISHED)
        .values_list("pk", flat=True)
    ][:2]
    assert coded, "the cell holds published comments"
    for n, pk in enumerate(coded):
        item = page.locator(f"#comment-{pk}")
        item.get_by_text(f"Code comment #{pk}").click()
        item.get_by_label("Safe pathways", exact=True).check()
        if n == 0:
            item.get_by_role("checkbox", name="Key quote").check()
        item.get_by_role("button", name="Save coding").click()
        expect(page.get_by_text(f"Coding of comment #{pk} saved")).to_be_visible()
    assert set(CodeAssignment.objects.filter(code=code).values_list("comment", flat=True)) == set(
        coded
    )
    assert KeyQuote.objects.filter(comment_id=coded[0]).exists()

    # The evidence pack of that objective, narrowed to the code: the exact words, the links.
    page.goto(f"{demo.get_absolute_url()}insights/evidence/{objective}/?code={code.pk}")
    axe_clean(page, request, "journey: evidence pack")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as Word (DOCX)").click()
    document = docx.Document(io.BytesIO(download.value.path().read_bytes()))
    quotes = "\n".join(p.text for p in document.paragraphs if p.style.name == "Quote")
    targets = {rel.target_ref for rel in document.part.rels.values() if rel.is_external}
    for pk in coded:
        comment = Comment.objects.get(pk=pk)
        for paragraph in [p for p in comment.body_text.split("\n") if p.strip()]:
            assert paragraph.strip() in quotes
        assert any(t.endswith(comment.get_absolute_url()) for t in targets), targets
    assert "Key quote" in "\n".join(p.text for p in document.paragraphs)

    # The spreadsheet of the same cell: its sheets, its rows, the code on the coded comments.
    page.goto(demo.get_absolute_url())
    with page.expect_download() as download:
        page.get_by_role("link", name="Download comments (XLSX)").click()
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert book.sheetnames[0] == "Comments" and "Totals" in book.sheetnames
    sheet = book["Comments"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    rows = {
        row[0]: dict(zip(header, row, strict=False))
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert len(rows) == Comment.objects.filter(question__consultation=demo).count()
    for pk in coded:
        assert rows[pk]["codes"] == "Safe pathways"
