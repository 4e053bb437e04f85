"""Attachments: detection by content, limits, storage under random names, download access, CSV."""

import csv
import io
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.datastructures import MultiValueDict

from consultations import attachments, counts, services
from consultations.export import COLUMNS, iter_csv
from consultations.forms import CommentForm
from consultations.models import Attachment, Comment, Objective

pytestmark = pytest.mark.django_db

# Real (if minimal) documents, built the way the programs that make them lay them out.

PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>'
)


def _content_types(part: str, main_type: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{main_type}"/>'
        "</Types>"
    ).encode()


def make_zip(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            # OpenDocument stores its mimetype entry first and uncompressed.
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    return buffer.getvalue()


def ooxml(part: str, main_type: str, body: bytes = b"<document/>") -> bytes:
    return make_zip(
        [
            ("[Content_Types].xml", _content_types(part, main_type)),
            ("_rels/.rels", _RELS),
            (part, body),
        ]
    )


OOXML = "application/vnd.openxmlformats-officedocument."
DOCX = ooxml("word/document.xml", OOXML + "wordprocessingml.document.main+xml")
XLSX = ooxml("xl/workbook.xml", OOXML + "spreadsheetml.sheet.main+xml")
DOCM = ooxml("word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml")
PPTX = ooxml("ppt/presentation.xml", OOXML + "presentationml.presentation.main+xml")


def opendocument(mimetype: bytes) -> bytes:
    return make_zip(
        [
            ("mimetype", mimetype),
            ("content.xml", ODF_CONTENT),
            ("META-INF/manifest.xml", ODF_MANIFEST),
        ]
    )


# The parts as LibreOffice writes them, namespaces declared (every XML part is parsed).
ODF_CONTENT = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    b' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
    b"<office:body><office:text><text:p>Field notes</text:p></office:text></office:body>"
    b"</office:document-content>"
)
ODF_MANIFEST = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
    b' manifest:version="1.3"/>'
)


ODT = opendocument(b"application/vnd.oasis.opendocument.text")
ODS = opendocument(b"application/vnd.oasis.opendocument.spreadsheet")
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def comment_url(question) -> str:
    return reverse("consultations:comment", args=[question.consultation.slug, question.number])


def post(client, question, *, files, body="Evidence from the field.", objectives=("4",)):
    data = {"body": body, "objectives": list(objectives), "parent": "", "attachments": files}
    return client.post(comment_url(question), data)


def download(client, attachment):
    return client.get(reverse("consultations:attachment", args=[attachment.pk]))


@pytest.fixture
def attach(question, user):
    """A published comment by `user` carrying the given files, through the real service."""

    def _attach(*files, **kwargs):
        comment = services.comment_create(
            question=question,
            author=kwargs.get("author", user),
            body=kwargs.get("body", "See the attached report."),
            attachments=list(files) or [upload("report.pdf", PDF)],
        )
        return comment, list(comment.attachments.all())

    return _attach


# Detection by content


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("report.pdf", PDF, attachments.PDF),
        ("brief.docx", DOCX, attachments.DOCX),
        ("brief.odt", ODT, attachments.ODT),
        ("figures.xlsx", XLSX, attachments.XLSX),
        # The name plays no part: a real PDF named otherwise is still a PDF.
        ("no-extension", PDF, attachments.PDF),
    ],
)
def test_each_accepted_kind_is_recognised_by_its_content(name, content, expected):
    assert attachments.detect(upload(name, content)) == expected


def test_detected_kinds_carry_their_content_type_and_extension():
    assert [(k.content_type, k.extension) for k in attachments.KINDS] == [
        ("application/pdf", ".pdf"),
        (OOXML + "wordprocessingml.document", ".docx"),
        ("application/vnd.oasis.opendocument.text", ".odt"),
        (OOXML + "spreadsheetml.sheet", ".xlsx"),
    ]


@pytest.mark.parametrize(
    "name, content",
    [
        ("report.pdf", HTML),
        ("report.docx", make_zip([("hello.txt", b"hello"), ("world.txt", b"world")])),
        ("setup.docx", PE),
        ("budget.xlsx", PE),
        ("budget.xlsx", ELF),
        ("sheet.odt", ODS),
        ("slides.docx", PPTX),
        ("macros.docx", DOCM),
        ("empty.pdf", b""),
        ("notes.txt", b"Some notes.\n"),
        ("truncated.docx", DOCX[: len(DOCX) // 2]),
        # Claims to be both a Word document and a workbook.
        (
            "both.docx",
            make_zip(
                [
                    ("[Content_Types].xml", _content_types("word/document.xml", OOXML)),
                    ("word/document.xml", b"<document/>"),
                    ("xl/workbook.xml", b"<workbook/>"),
                ]
            ),
        ),
        # OpenDocument's mimetype must come first.
        (
            "late.odt",
            make_zip(
                [
                    ("content.xml", b"<office:document-content/>"),
                    ("mimetype", b"application/vnd.oasis.opendocument.text"),
                ]
            ),
        ),
        # Entries without [Content_Types].xml.
        ("bare.docx", make_zip([("word/document.xml", b"<document/>")])),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_anything_else_is_refused_whatever_its_name(name, content):
    file = upload(name, content)

    assert attachments.detect(file) is None
    with pytest.raises(ValidationError) as refused:
        attachments.check_files([file])
    assert refused.value.messages[0].startswith(f"“{name}” is ")


def test_an_entry_inflating_beyond_the_reading_budget_is_refused_without_inflating_it():
    # 3 MB of spaces compress to a few KB: read in full, it would exceed the 2 MB budget.
    padding = b" " * (3 * 1024 * 1024)
    bomb = make_zip(
        [
            (
                "[Content_Types].xml",
                _content_types("word/document.xml", OOXML + "wordprocessingml.document.main+xml")
                + padding,
            ),
            ("word/document.xml", b"<document/>"),
        ]
    )
    assert len(bomb) < 50_000

    assert attachments.detect(upload("bomb.docx", bomb)) is None
    assert attachments.detect(upload("fine.docx", DOCX)) == attachments.DOCX


def test_an_archive_declaring_too_much_in_total_is_refused(monkeypatch):
    big = ooxml("word/document.xml", OOXML + "wordprocessingml.document.main+xml", b"x" * 5000)
    assert attachments.detect(upload("big.docx", big)) == attachments.DOCX

    monkeypatch.setattr(attachments, "ZIP_MAX_UNCOMPRESSED_BYTES", 4000)

    assert attachments.detect(upload("big.docx", big)) is None


def test_an_archive_with_too_many_entries_is_refused(monkeypatch):
    monkeypatch.setattr(attachments, "ZIP_MAX_ENTRIES", 2)

    assert attachments.detect(upload("brief.docx", DOCX)) is None


def test_detection_leaves_the_file_at_its_start():
    file = upload("brief.docx", DOCX)
    file.read(10)

    attachments.detect(file)

    assert file.read() == DOCX


@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\amina\\Desktop\\report.pdf", "report.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("re\x00po\x1brt\r\n.pdf", "report.pdf"),
        # A right-to-left override would show "evilfdp.exe" as "evilexe.pdf".
        ("evil\u202efdp.exe", "evilfdp.exe"),
        ("  ", "attachment"),
        ("Résumé – 2026.pdf", "Résumé – 2026.pdf"),
    ],
)
def test_names_are_reduced_to_a_safe_basename(raw, cleaned):
    assert attachments.clean_name(raw) == cleaned


def test_long_names_are_cut_to_255_characters_keeping_the_extension():
    name = attachments.clean_name("a" * 300 + ".docx")

    assert len(name) == 255
    assert name.endswith("a.docx")


@pytest.mark.parametrize(
    "size, shown",
    [
        (1, "1 byte"),
        (1000, "1,000 bytes"),
        (1536, "1.5 KB"),
        (int(1.2 * 1024 * 1024), "1.2 MB"),
        (10 * 1024 * 1024, "10 MB"),
    ],
)
def test_sizes_read_naturally(size, shown):
    assert attachments.human_size(size) == shown


# The limits, in the words the user reads


def test_size_message_names_the_file_its_size_and_the_limit():
    file = upload("report.pdf", PDF)
    file.size = int(12.4 * 1024 * 1024)

    with pytest.raises(ValidationError) as refused:
        attachments.check_files([file])

    assert refused.value.messages == ["“report.pdf” is 12.4 MB; files can be at most 10 MB."]


def test_type_message_lists_what_is_accepted():
    with pytest.raises(ValidationError) as refused:
        attachments.check_files([upload("notes.txt", b"Some notes.")])

    assert refused.value.messages == [
        "“notes.txt” is not a PDF, Word (DOCX), OpenDocument text (ODT) or Excel (XLSX) file."
    ]


def test_both_limits_come_from_the_settings(settings):
    settings.COMMENT_MAX_ATTACHMENTS = 1
    settings.ATTACHMENT_MAX_BYTES = 100

    with pytest.raises(ValidationError) as too_many:
        attachments.check_files([upload("a.pdf", PDF), upload("b.pdf", PDF)])
    with pytest.raises(ValidationError) as too_big:
        attachments.check_files([upload("a.pdf", PDF)])

    assert too_many.value.messages == ["You can attach at most 1 file."]
    assert too_big.value.messages == [
        f"“a.pdf” is {len(PDF)} bytes; files can be at most 100 bytes."
    ]
    assert attachments.limits_help() == (
        "One file: a PDF, Word (DOCX), OpenDocument text (ODT) or Excel (XLSX) document of "
        "at most 100 bytes."
    )


# Posting through the form


def test_comment_page_form_sends_files_and_explains_the_limits(client, question, user):
    client.force_login(user)

    html = client.get(comment_url(question)).content.decode()

    assert 'enctype="multipart/form-data"' in html
    assert '<label for="comment-attachments">Attach files' in html
    assert 'type="file" name="attachments" id="comment-attachments" multiple' in html
    assert 'aria-describedby="comment-attachments-help"' in html
    assert (
        "Up to 3 files, each a PDF, Word (DOCX), OpenDocument text (ODT) or Excel (XLSX) "
        "document of at most 10 MB."
    ) in html


def test_consultation_page_forms_take_files_too(client, question, user):
    client.force_login(user)

    html = client.get(question.consultation.get_absolute_url()).content.decode()

    assert 'enctype="multipart/form-data"' in html
    assert 'id="question-1-attachments"' in html


def test_no_file_input_when_attachments_are_turned_off(client, question, user, settings):
    settings.COMMENT_MAX_ATTACHMENTS = 0
    client.force_login(user)

    for url in (comment_url(question), question.consultation.get_absolute_url()):
        html = client.get(url).content.decode()
        assert 'type="file"' not in html
        assert "multipart/form-data" not in html


def test_edit_form_takes_no_files(client, question, user, attach):
    comment, _ = attach()
    client.force_login(user)

    html = client.get(reverse("consultations:edit", args=[comment.pk])).content.decode()

    assert 'type="file"' not in html
    assert "multipart/form-data" not in html


def test_up_to_three_files_are_stored_under_random_names_and_linked(
    client, question, user, settings
):
    client.force_login(user)
    files = [
        # What the browser says about the type is ignored.
        upload("Field report.pdf", PDF, content_type="text/html"),
        upload("Recommendations.docx", DOCX),
        upload("Figures 2026.xlsx", XLSX),
    ]

    response = post(client, question, files=files)

    assert response.status_code == 302
    comment = Comment.objects.get()
    stored = list(comment.attachments.all())
    assert [(a.original_name, a.content_type, a.size) for a in stored] == [
        ("Field report.pdf", "application/pdf", len(PDF)),
        ("Recommendations.docx", OOXML + "wordprocessingml.document", len(DOCX)),
        ("Figures 2026.xlsx", OOXML + "spreadsheetml.sheet", len(XLSX)),
    ]
    on_disk = stored_files(settings)
    assert len(on_disk) == 3
    for attachment, content in zip(stored, (PDF, DOCX, XLSX), strict=True):
        assert attachment.file.name.startswith("attachments/")
        stem = attachment.original_name.rsplit(".", 1)[0]
        assert stem not in attachment.file.name
        assert Path(attachment.file.path).read_bytes() == content
    assert len({a.file.name for a in stored}) == 3

    html = client.get(response["Location"], follow=True).content.decode()
    for attachment, label in zip(stored, ("PDF", "Word (DOCX)", "Excel (XLSX)"), strict=True):
        url = reverse("consultations:attachment", args=[attachment.pk])
        assert f'href="{url}" download><bdi>{attachment.original_name}</bdi></a>' in html
        assert f"{label}, {attachment.size_label}" in html


def test_a_fourth_file_is_refused_keeping_the_text_and_saving_nothing(
    client, question, user, settings
):
    client.force_login(user)
    files = [upload(f"part-{n}.pdf", PDF) for n in range(1, 5)]

    response = post(client, question, files=files, body="My four-part report.", objectives=["10"])

    html = response.content.decode()
    assert response.status_code == 400
    assert "You can attach at most 3 files." in html
    assert "My four-part report.</textarea>" in html
    assert 'value="10" checked' in html
    assert "Please choose your files again" in html and "must be chosen again" in html
    assert "part-1.pdf, part-2.pdf, part-3.pdf, part-4.pdf" in html
    assert 'aria-invalid="true"' in html
    assert Comment.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert stored_files(settings) == []


def test_an_oversize_file_is_refused(client, question, user, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    client.force_login(user)
    big = PDF + b"%" + b"x" * 1500 + b"\n"

    response = post(client, question, files=[upload("big.pdf", big), upload("ok.docx", DOCX)])

    assert response.status_code == 400
    assert "“big.pdf” is 1.6 KB; files can be at most 1,000 bytes." in response.content.decode()
    assert Attachment.objects.count() == 0
    assert Comment.objects.count() == 0
    assert stored_files(settings) == []


def test_a_file_named_pdf_holding_html_is_refused(client, question, user, settings):
    client.force_login(user)

    response = post(
        client, question, files=[upload("report.pdf", HTML, content_type="application/pdf")]
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert (
        "“report.pdf” is not a PDF, Word (DOCX), OpenDocument text (ODT) or Excel (XLSX) file."
    ) in html
    assert "Evidence from the field.</textarea>" in html
    assert Comment.objects.count() == 0
    assert stored_files(settings) == []


def test_a_post_refused_for_its_text_asks_for_the_files_again(client, question, user, settings):
    client.force_login(user)

    response = post(client, question, files=[upload("report.pdf", PDF)], body="   ")

    html = response.content.decode()
    assert response.status_code == 400
    assert "Write your comment before posting it." in html
    assert "Please choose your files again" in html and "must be chosen again" in html
    assert "You had chosen report.pdf." in html
    assert stored_files(settings) == []


def test_a_refused_poster_is_told_the_files_were_not_saved(
    client, question, unverified_user, settings
):
    client.force_login(unverified_user)

    response = post(client, question, files=[upload("report.pdf", PDF)])

    assert response.status_code == 403
    assert "Your files were not saved either" in response.content.decode()
    assert stored_files(settings) == []


def test_a_post_without_files_says_nothing_about_files(client, question, user):
    client.force_login(user)

    response = post(client, question, files=[], body="   ")

    assert response.status_code == 400
    assert "choose your files again" not in response.content.decode()


def test_the_form_refuses_bad_files_itself(question):
    files = MultiValueDict({"attachments": [upload("notes.txt", b"x"), upload("a.pdf", PDF)]})

    form = CommentForm({"body": "Text.", "parent": ""}, files, question=question)

    assert not form.is_valid()
    assert form.errors["attachments"] == [
        "“notes.txt” is not a PDF, Word (DOCX), OpenDocument text (ODT) or Excel (XLSX) file."
    ]
    assert form.chosen_file_names == ["notes.txt", "a.pdf"]


# The service checks again


@pytest.mark.parametrize(
    "files, message",
    [
        ([upload("report.pdf", HTML)], "is not a PDF"),
        ([upload("setup.docx", PE)], "is not a PDF"),
        ([upload("empty.pdf", b"")], "“empty.pdf” is empty."),
        ([upload(f"{n}.pdf", PDF) for n in range(4)], "You can attach at most 3 files."),
    ],
    ids=["html-as-pdf", "exe-as-docx", "empty", "four-files"],
)
def test_the_service_refuses_bad_files_when_called_directly(
    question, user, settings, files, message
):
    with pytest.raises(ValidationError) as refused:
        services.comment_create(question=question, author=user, body="Direct.", attachments=files)

    assert message in " ".join(refused.value.message_dict["attachments"])
    assert Comment.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert stored_files(settings) == []


def test_the_service_refuses_an_oversize_file_when_called_directly(question, user, settings):
    settings.ATTACHMENT_MAX_BYTES = 100

    with pytest.raises(ValidationError, match="files can be at most 100 bytes"):
        services.comment_create(
            question=question, author=user, body="Big.", attachments=[upload("a.pdf", PDF)]
        )

    assert Comment.objects.count() == 0
    assert stored_files(settings) == []


def test_the_service_records_the_detected_type_and_a_clean_name(question, user):
    comment = services.comment_create(
        question=question,
        author=user,
        body="An ODT.",
        attachments=[upload("C:\\Docs\\brief\u202e.odt", ODT, content_type="text/plain")],
    )

    [attachment] = comment.attachments.all()
    assert attachment.original_name == "brief.odt"
    assert attachment.content_type == "application/vnd.oasis.opendocument.text"
    assert attachment.size == len(ODT)


def test_a_storage_failure_midway_removes_the_files_already_written(
    question, user, settings, monkeypatch
):
    calls = []
    real_save = FileSystemStorage._save

    def failing_save(self, name, content):
        calls.append(name)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", failing_save)

    # Refused as a whole with a message for the form (test_orphan_files.py: the page).
    with pytest.raises(ValidationError, match="could not be stored just now"):
        services.comment_create(
            question=question,
            author=user,
            body="Two files.",
            attachments=[upload("a.pdf", PDF), upload("b.docx", DOCX)],
        )

    assert len(calls) == 2
    assert Comment.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert stored_files(settings) == []


# Download


def test_download_is_an_attachment_with_its_name_nosniff_and_detected_type(
    client, attach, settings
):
    # The view sets nosniff itself, whatever the middleware does.
    settings.SECURE_CONTENT_TYPE_NOSNIFF = False
    _, [attachment] = attach(upload("Field report.pdf", PDF, content_type="text/html"))

    response = download(client, attachment)

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="Field report.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(PDF))
    # Were a browser to render it anyway: no script, no access to the site.
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert b"".join(response.streaming_content) == PDF


def test_download_of_each_kind_has_its_type_and_exact_bytes(client, attach):
    _, stored = attach(upload("a.docx", DOCX), upload("b.odt", ODT), upload("c.xlsx", XLSX))

    for attachment, content in zip(stored, (DOCX, ODT, XLSX), strict=True):
        response = download(client, attachment)
        assert response["Content-Type"] == attachment.kind.content_type
        assert b"".join(response.streaming_content) == content


def test_download_name_ends_with_the_detected_extension(client, attach):
    # A PDF that was named .docx would open in the wrong program.
    _, [attachment] = attach(upload("report.docx", PDF))

    response = download(client, attachment)

    assert response["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert response["Content-Type"] == "application/pdf"


def test_download_of_a_non_ascii_name_is_encoded(client, attach):
    _, [attachment] = attach(upload("Résumé.pdf", PDF))

    response = download(client, attachment)

    assert response["Content-Disposition"] == "attachment; filename*=utf-8''R%C3%A9sum%C3%A9.pdf"


def test_download_takes_get_only(client, attach):
    _, [attachment] = attach()

    response = client.post(reverse("consultations:attachment", args=[attachment.pk]))

    assert response.status_code == 405


def test_hidden_comment_file_is_404_for_the_public_but_200_for_moderators_and_staff(
    client, attach, user, other_user, moderator, staff_user
):
    comment, [attachment] = attach()
    services.comment_hide(comment=comment, by=moderator, reason="spam")

    assert download(client, attachment).status_code == 404
    for someone in (other_user, user):  # another user, and even the author
        client.force_login(someone)
        assert download(client, attachment).status_code == 404
    for allowed in (moderator, staff_user):
        client.force_login(allowed)
        response = download(client, attachment)
        assert response.status_code == 200
        assert "private" in response["Cache-Control"]
        assert b"".join(response.streaming_content) == PDF


def test_deleted_comment_file_is_404_for_the_public_but_200_for_moderators(
    client, attach, user, other_user, moderator
):
    comment, [attachment] = attach()
    services.comment_delete(comment=comment, by=user)

    assert download(client, attachment).status_code == 404
    for someone in (other_user, user):
        client.force_login(someone)
        assert download(client, attachment).status_code == 404
    client.force_login(moderator)
    response = download(client, attachment)
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]


def test_file_of_an_unpublished_consultation_is_404_for_the_public(
    client, attach, question, other_user, moderator
):
    _, [attachment] = attach()
    question.consultation.is_published = False
    question.consultation.save()

    assert download(client, attachment).status_code == 404
    client.force_login(other_user)
    assert download(client, attachment).status_code == 404
    client.force_login(moderator)
    assert download(client, attachment).status_code == 200


def test_public_download_is_kept_briefly_by_the_browser_only(client, attach):
    # Briefly, because the comment may be hidden at any time; only by the browser, because a
    # shared cache would go on serving it after that.
    _, [attachment] = attach()

    response = download(client, attachment)

    assert response["Cache-Control"] == "private, max-age=300"


def test_a_file_missing_from_the_storage_is_a_404(client, attach):
    _, [attachment] = attach()
    attachment.file.storage.delete(attachment.file.name)

    assert download(client, attachment).status_code == 404


def test_an_unknown_attachment_is_a_404(client, db):
    assert client.get(reverse("consultations:attachment", args=[999999])).status_code == 404


def test_media_files_are_not_served_from_any_url(client, attach):
    _, [attachment] = attach()

    for url in (f"/media/{attachment.file.name}", f"/{attachment.file.name}"):
        assert client.get(url).status_code == 404


# On the page


def test_hidden_and_deleted_comments_show_no_attachment_links(
    client, question, user, other_user, moderator
):
    hidden = services.comment_create(
        question=question, author=user, body="To hide.", attachments=[upload("h.pdf", PDF)]
    )
    deleted = services.comment_create(
        question=question, author=other_user, body="To delete.", attachments=[upload("d.pdf", PDF)]
    )
    services.comment_hide(comment=hidden, by=moderator, reason="spam")
    services.comment_delete(comment=deleted, by=other_user)

    for viewer in (None, moderator):
        if viewer is not None:
            client.force_login(viewer)
        html = client.get(question.consultation.get_absolute_url()).content.decode()
        assert "/consultations/comments/attachments/" not in html
        assert "h.pdf" not in html and "d.pdf" not in html


def _page_queries(client, url) -> int:
    client.get(url)  # stores the comments' HTML, as the posts' commits would have
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _comments_with_files(question, author, count, files_each):
    objective = Objective.objects.get(number=4)
    for n in range(count):
        comment = Comment(question=question, author=author, body=f"<p>Comment {n}</p>")
        comment.save()
        comment.objectives.set([objective])
        # Rows as the service leaves them; the page reads only the rows, never the files.
        Attachment.objects.bulk_create(
            Attachment(
                comment=comment,
                file=f"attachments/{comment.pk}-{i}",
                original_name=f"file-{i}.pdf",
                content_type="application/pdf",
                size=1234,
            )
            for i in range(files_each)
        )
    counts.refresh(question.pk)  # as the services do with each comment they save


def test_page_query_count_is_the_same_with_and_without_attachments(
    client, settings, question, question2, user
):
    settings.CONSULTATION_ONE_PAGE_MAX = 10_000  # every comment on the one page
    url = question.consultation.get_absolute_url()
    _comments_with_files(question, user, 10, files_each=0)
    without_files = _page_queries(client, url)

    for c in Comment.objects.all():
        Attachment.objects.create(
            comment=c,
            file=f"attachments/{c.pk}",
            original_name="f.pdf",
            content_type="application/pdf",
            size=1,
        )
    with_files = _page_queries(client, url)
    _comments_with_files(question2, user, 150, files_each=3)
    many_with_files = _page_queries(client, url)

    assert without_files == with_files == many_with_files
    html = client.get(url).content.decode()
    assert html.count('class="attachments__link"') == 10 + 150 * 3


# CSV export


def export_rows(consultation):
    text = "".join(iter_csv(consultation, base_url="https://forum.example.org"))
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def test_csv_has_the_attachments_column_with_absolute_urls(question, user, other_user, attach):
    comment, stored = attach(upload("a.pdf", PDF), upload("b.docx", DOCX))
    bare = services.comment_create(question=question, author=other_user, body="No files.")

    header, *rows = export_rows(question.consultation)

    # After the comment's own columns; the staff's (codes, key quote, group) follow it.
    at = COLUMNS.index("attachments")
    assert header[at] == "attachments" and COLUMNS[at - 1] == "url"
    by_id = {row[0]: row for row in rows}
    assert by_id[str(comment.pk)][at] == " ".join(
        f"https://forum.example.org/consultations/comments/attachments/{a.pk}/" for a in stored
    )
    assert by_id[str(bare.pk)][at] == ""


def test_csv_links_a_hidden_comments_files_but_not_a_deleted_ones(
    question, user, other_user, moderator, attach
):
    hidden, [hidden_file] = attach(author=user, body="Hidden.")
    deleted, _ = attach(author=other_user, body="Deleted.")
    services.comment_hide(comment=hidden, by=moderator, reason="spam")
    services.comment_delete(comment=deleted, by=other_user)

    rows = {row[0]: row for row in export_rows(question.consultation)[1:]}

    assert rows[str(hidden.pk)][COLUMNS.index("attachments")].endswith(
        f"/comments/attachments/{hidden_file.pk}/"
    )
    assert rows[str(deleted.pk)][COLUMNS.index("attachments")] == ""


def test_csv_query_count_does_not_grow_with_attachments(question, user):
    _comments_with_files(question, user, 5, files_each=2)
    with CaptureQueriesContext(connection) as few:
        export_rows(question.consultation)
    _comments_with_files(question, user, 60, files_each=3)
    with CaptureQueriesContext(connection) as many:
        rows = export_rows(question.consultation)

    assert len(rows) == 1 + 65
    assert len(few) == len(many)
