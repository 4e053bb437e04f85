"""Attachments' text, extracted in the background after the post commits: each kind, the limits,
broken files recorded as failed, the command for files saved before, and staff search."""

import io
import zipfile

import docx
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from odf.opendocument import OpenDocumentText
from odf.text import H, P
from openpyxl import Workbook, load_workbook

from consultations import services
from consultations.models import Attachment
from insights import extraction, xlsx
from insights.filters import CommentFilters
from insights.models import AttachmentText
from tests.consultations.test_attachments import DOCX as EMPTY_DOCX
from tests.consultations.test_attachments import upload

pytestmark = pytest.mark.django_db

PDF_TYPE = "application/pdf"


def make_pdf(pages: list[str]) -> bytes:
    """A real PDF, one line of Helvetica text per page, with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        (
            "<< /Type /Pages /Kids ["
            + " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
            + f"] /Count {len(pages)} >>"
        ).encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(pages):
        stream = f"BT /F1 12 Tf 72 712 Td ({text}) Tj ET".encode()
        objects.append(
            (
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>"
            ).encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def make_docx(paragraphs: list[str], table: list[list[str]] = ()) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                grid.cell(r, c).text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_odt(heading: str, paragraphs: list[str]) -> bytes:
    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text=heading))
    for text in paragraphs:
        document.text.addElement(P(text=text))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_xlsx(sheets: dict[str, list[list]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def post_with(question, user, django_capture_on_commit_callbacks):
    """Post a comment with files through the real service; the extraction tasks, enqueued on
    commit, run here (the tests' immediate task backend). Returns the AttachmentText rows."""

    def _post(*files, body="See the attached report."):
        with django_capture_on_commit_callbacks(execute=True):
            comment = services.comment_create(
                question=question, author=user, body=body, attachments=list(files)
            )
        return comment, [
            AttachmentText.objects.get(attachment=a) for a in comment.attachments.order_by("pk")
        ]

    return _post


# Each kind


def test_pdf_text_is_extracted_page_by_page(post_with):
    _comment, [record] = post_with(upload("r.pdf", make_pdf(["Hello Lampedusa", "Page two"])))

    assert record.state == AttachmentText.State.DONE
    assert record.text == "Hello Lampedusa\nPage two"
    assert record.error == "" and record.extracted_at is not None


def test_docx_paragraphs_and_tables_are_extracted(post_with):
    content = make_docx(
        ["Birth registration for all.", "Second paragraph."],
        table=[["Country", "Cost"], ["Mali", "12 USD"]],
    )

    _comment, [record] = post_with(upload("brief.docx", content))

    assert record.state == AttachmentText.State.DONE
    assert "Birth registration for all.\nSecond paragraph." in record.text
    assert "Country\tCost\nMali\t12 USD" in record.text


def test_odt_headings_and_paragraphs_are_extracted(post_with):
    _comment, [record] = post_with(
        upload("note.odt", make_odt("Sea rescue", ["Boats need help.", "Ports must open."]))
    )

    assert record.state == AttachmentText.State.DONE
    assert record.text == "Sea rescue\nBoats need help.\nPorts must open."


def test_xlsx_values_of_every_sheet_are_extracted_never_formulas(post_with):
    content = make_xlsx(
        {"Costs": [["Corridor", "Fee"], ["US-Mexico", 4.5]], "Notes": [["=1+1", "remittances"]]}
    )

    _comment, [record] = post_with(upload("data.xlsx", content))

    assert record.state == AttachmentText.State.DONE
    assert "Costs\nCorridor\tFee\nUS-Mexico\t4.5" in record.text
    # The values Excel saved: a formula with none saved gives nothing, and is never computed.
    assert record.text.endswith("Notes\nremittances")
    assert "=1+1" not in record.text and "2" not in record.text.split("Notes")[1]


def test_several_files_each_get_their_row(post_with):
    _comment, records = post_with(
        upload("a.pdf", make_pdf(["Alpha"])), upload("b.odt", make_odt("Beta", []))
    )

    assert [r.text for r in records] == ["Alpha", "Beta"]


def test_nothing_is_extracted_before_the_commit(question, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.comment_create(
            question=question,
            author=user,
            body="With a file.",
            attachments=[upload("a.pdf", make_pdf(["Alpha"]))],
        )

    # The extraction waits for the commit (beside the campaign grouping, which does too).
    assert any("extract_later" in c.__qualname__ for c in callbacks)
    assert AttachmentText.objects.count() == 0


# Limits


def test_a_file_over_the_size_limit_is_skipped_with_a_message(post_with, settings):
    settings.ATTACHMENT_TEXT_MAX_BYTES = 100

    _comment, [record] = post_with(upload("big.pdf", make_pdf(["Too big to read"])))

    assert record.state == AttachmentText.State.FAILED
    assert record.text == ""
    assert "over the limit of 100 bytes" in record.error


def test_text_is_cut_at_the_character_limit_with_a_note(post_with, settings):
    settings.ATTACHMENT_TEXT_MAX_CHARS = 30

    _comment, [record] = post_with(upload("long.docx", make_docx(["word " * 20, "never reached"])))

    assert record.state == AttachmentText.State.DONE
    assert len(record.text) == 30 and record.text.startswith("word word")
    assert record.error == "Text cut at 30 characters."


def test_pages_beyond_the_page_limit_are_not_read(post_with, settings):
    settings.ATTACHMENT_TEXT_MAX_PAGES = 2

    _comment, [record] = post_with(upload("r.pdf", make_pdf(["One", "Two", "Three"])))

    assert record.text == "One\nTwo"
    assert record.error == "Stopped after 2 pages."


def test_reading_stops_when_the_time_budget_is_spent(post_with, settings):
    settings.ATTACHMENT_TEXT_MAX_SECONDS = 0

    _comment, [record] = post_with(upload("r.odt", make_odt("First", ["Second", "Third"])))

    assert record.state == AttachmentText.State.DONE
    assert record.text == "First"
    assert record.error.startswith("Stopped after 0 seconds")


# Broken and hostile files


def test_a_broken_pdf_is_recorded_as_failed_not_raised(post_with):
    broken = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R >>\nnot a pdf at all"

    _comment, [record] = post_with(upload("broken.pdf", broken))

    assert record.state == AttachmentText.State.FAILED
    assert record.error.startswith("The ")
    assert record.text == ""


def test_a_docx_without_its_parts_is_recorded_as_failed(post_with):
    _comment, [record] = post_with(upload("empty.docx", EMPTY_DOCX))

    assert record.state == AttachmentText.State.FAILED
    assert record.error.startswith("The file cannot be read")


def _with_doctype(document: bytes, part: str) -> bytes:
    content = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(document))
    with zipfile.ZipFile(content, "w") as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == part:
                data = data.replace(
                    b"?>",
                    b'?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
                    1,
                )
            archive.writestr(info, data)
    return content.getvalue()


def test_an_xml_part_declaring_a_document_type_is_not_parsed(post_with):
    # A DOCX passes the upload check (which reads only its package parts); the extraction
    # refuses to parse it.
    bomb = _with_doctype(make_docx(["Body"]), "word/document.xml")
    _comment, [record] = post_with(upload("bomb.docx", bomb))

    assert record.state == AttachmentText.State.FAILED
    assert record.error == "The document declares an XML document type: not read."


def test_an_odt_declaring_a_document_type_is_refused_at_upload(question, user):
    # Every XML part of an OpenDocument package is parsed at upload (scripts, event listeners).
    bomb = _with_doctype(make_odt("Title", ["Body"]), "content.xml")
    with pytest.raises(ValidationError, match="is not a PDF"):
        services.comment_create(
            question=question, author=user, body="A file.", attachments=[upload("b.odt", bomb)]
        )


def test_an_attachment_gone_before_its_task_ran_is_skipped(post_with):
    comment, [record] = post_with(upload("a.pdf", make_pdf(["Alpha"])))
    pk = record.attachment_id
    Attachment.objects.filter(pk=pk).delete()

    assert extraction.extract(pk) == "gone"


# The command, for files saved before


def test_command_extracts_what_has_no_text_yet_and_all_again(post_with, settings):
    comment, [record] = post_with(upload("a.pdf", make_pdf(["Alpha"])))
    AttachmentText.objects.all().delete()
    out = io.StringIO()

    call_command("extract_attachment_text", stdout=out)

    assert out.getvalue().strip() == "1 attachment(s) read: 1 done."
    assert AttachmentText.objects.get().text == "Alpha"

    out = io.StringIO()
    call_command("extract_attachment_text", stdout=out)
    assert out.getvalue().strip() == "0 attachment(s) read."

    settings.ATTACHMENT_TEXT_MAX_BYTES = 10
    out = io.StringIO()
    call_command("extract_attachment_text", "--all", stdout=out)
    assert out.getvalue().strip() == "1 attachment(s) read: 1 failed."


# Staff search


def test_the_staff_search_finds_words_only_in_an_attachment(consultation, post_with, post_comment):
    with_file, _records = post_with(
        upload("r.pdf", make_pdf(["Lampedusa harbour report"])), body="See the file."
    )
    in_body = post_comment(
        question=with_file.question, author=with_file.author, body="Lampedusa is far."
    )
    post_comment(question=with_file.question, author=with_file.author, body="Unrelated.")

    def found(q):
        filters, errors = CommentFilters.parse(consultation, {"q": q})
        assert errors == []
        return set(filters.apply(consultation).values_list("pk", flat=True))

    assert found("lampedusa") == {with_file.pk, in_body.pk}
    assert found("harbour REPORT") == {with_file.pk}
    assert found("harbour elsewhere") == set()
    assert found("see file") == {with_file.pk}


def test_failed_or_pending_text_is_not_searched(consultation, post_with):
    comment, [record] = post_with(upload("r.pdf", make_pdf(["Lampedusa"])))
    AttachmentText.objects.filter(pk=record.pk).update(state=AttachmentText.State.PENDING)

    filters, _errors = CommentFilters.parse(consultation, {"q": "lampedusa"})

    assert not filters.apply(consultation).exists()


def test_the_xlsx_carries_the_extracted_text(consultation, post_with):
    comment, _records = post_with(
        upload("a.pdf", make_pdf(["Alpha report"])), upload("b.odt", make_odt("Beta", ["Gamma"]))
    )
    buffer = io.BytesIO()
    xlsx.write_xlsx(buffer, consultation, CommentFilters(), base_url="https://forum.example.org")

    sheet = load_workbook(io.BytesIO(buffer.getvalue()))["Comments"]
    header, row = [c.value for c in sheet[1]], [c.value for c in sheet[2]]

    assert row[0] == comment.pk
    assert row[header.index("attachments_text")] == "Alpha report\n\nBeta\nGamma"


def test_a_missing_stored_file_is_recorded_without_its_path(post_with):
    comment, [record] = post_with(upload("a.pdf", make_pdf(["Alpha"])))
    attachment = record.attachment
    attachment.file.storage.delete(attachment.file.name)

    assert extraction.extract(attachment.pk) == AttachmentText.State.FAILED
    record.refresh_from_db()
    assert record.error == "The stored file cannot be opened."
