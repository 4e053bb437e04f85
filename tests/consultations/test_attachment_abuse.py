"""Attachments built to get past the checks: macros, lying zip directories, long names, caching.

Every file is a real archive built here with zipfile (or, for the lying directory, byte by byte),
laid out as Office and LibreOffice lay theirs out.
"""

import io
import random
import struct
import zipfile
import zlib

import pytest
from django.urls import reverse

from consultations import attachments, services
from consultations.models import Attachment, Comment

from .test_attachments import DOCX, OOXML, PDF, comment_url, download, make_zip, upload

pytestmark = pytest.mark.django_db

DOCX_MAIN = OOXML + "wordprocessingml.document.main+xml"
XLSX_MAIN = OOXML + "spreadsheetml.sheet.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
VBA_PROJECT = "application/vnd.ms-office.vbaProject"
RELS_TYPE = "application/vnd.openxmlformats-package.relationships+xml"
MAIN_RELATIONSHIP = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)


def content_types(*overrides: tuple[str, str], extra: str = "", defaults: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="{RELS_TYPE}"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f"{defaults}"
        + "".join(f'<Override PartName="{part}" ContentType="{kind}"/>' for part, kind in overrides)
        + f"{extra}</Types>"
    ).encode()


def package_rels(target: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{MAIN_RELATIONSHIP}" Target="{target}"/>'
        "</Relationships>"
    ).encode()


def workbook(types: bytes, *extra: tuple[str, bytes]) -> bytes:
    return make_zip(
        [
            ("[Content_Types].xml", types),
            ("_rels/.rels", package_rels("xl/workbook.xml")),
            ("xl/workbook.xml", b"<workbook/>"),
            *extra,
        ]
    )


def document(types: bytes, *extra: tuple[str, bytes], rels: bytes | None = None) -> bytes:
    return make_zip(
        [
            ("[Content_Types].xml", types),
            ("_rels/.rels", rels or package_rels("word/document.xml")),
            ("word/document.xml", b"<document/>"),
            *extra,
        ]
    )


VBA = ("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)  # OLE header

ACCEPTED = [
    ("plain workbook", workbook(content_types(("/xl/workbook.xml", XLSX_MAIN))), "xlsx"),
    ("plain document", document(content_types(("/word/document.xml", DOCX_MAIN))), "docx"),
    (
        "part names in another case",
        document(content_types(("/WORD/Document.xml", DOCX_MAIN))),
        "docx",
    ),
    (
        "relationship target without the leading slash",
        document(
            content_types(("/word/document.xml", DOCX_MAIN)),
            rels=package_rels("/word/document.xml"),
        ),
        "docx",
    ),
]

REFUSED = [
    # (a) An XLSM whose [Content_Types].xml also mentions the XLSX type, here for another part.
    (
        "xlsm mentioning the xlsx type in an extra override",
        workbook(
            content_types(
                ("/xl/workbook.xml", XLSM_MAIN),
                ("/xl/decoy.xml", XLSX_MAIN),
                ("/xl/vbaProject.bin", VBA_PROJECT),
            ),
            VBA,
        ),
    ),
    (
        "xlsm mentioning the xlsx type in text",
        workbook(
            content_types(("/xl/workbook.xml", XLSM_MAIN), extra=f"<!-- {XLSX_MAIN} -->"), VBA
        ),
    ),
    ("xlsm without its vba part", workbook(content_types(("/xl/workbook.xml", XLSM_MAIN)))),
    (
        "xlsx type on the workbook but a vba project inside",
        workbook(content_types(("/xl/workbook.xml", XLSX_MAIN)), VBA),
    ),
    (
        "vba project declared by a default",
        workbook(
            content_types(
                ("/xl/workbook.xml", XLSX_MAIN),
                defaults=f'<Default Extension="bin" ContentType="{VBA_PROJECT}"/>',
            ),
            ("xl/code.bin", VBA[1]),
        ),
    ),
    (
        "excel 4 macro sheet",
        workbook(
            content_types(
                ("/xl/workbook.xml", XLSX_MAIN),
                ("/xl/macrosheets/sheet1.xml", "application/vnd.ms-excel.macrosheet+xml"),
            ),
            ("xl/macrosheets/sheet1.xml", b"<xm:macrosheet/>"),
        ),
    ),
    # (b) A DOCM whose macro type is declared while the docx type sits in an XML comment.
    (
        "docm with the docx type in a comment",
        document(
            content_types(("/word/document.xml", DOCM_MAIN), extra=f"<!--{DOCX_MAIN}-->"),
            ("word/vbaProject.bin", VBA[1]),
        ),
    ),
    (
        "docm with the docx type in a comment and no vba part",
        document(content_types(("/word/document.xml", DOCM_MAIN), extra=f"<!--{DOCX_MAIN}-->")),
    ),
    (
        "activex control",
        document(
            content_types(
                ("/word/document.xml", DOCX_MAIN),
                ("/word/activeX/activeX1.xml", "application/vnd.ms-office.activeX+xml"),
            ),
            ("word/activeX/activeX1.xml", b"<ax:ocx/>"),
        ),
    ),
    (
        "activex part declared as plain xml",
        document(
            content_types(("/word/document.xml", DOCX_MAIN)),
            ("word/activeX/activeX1.bin", b"\x00" * 64),
        ),
    ),
    (
        "main part typed only by the xml default",
        document(
            content_types(extra=f'<Override PartName="/word/other.xml" ContentType="{DOCX_MAIN}"/>')
        ),
    ),
    (
        "main part declared twice",
        document(
            content_types(("/word/document.xml", DOCX_MAIN), ("/word/document.xml", DOCM_MAIN))
        ),
    ),
    (
        "relationships making another part the document",
        document(
            content_types(("/word/document.xml", DOCX_MAIN), ("/word/evil.xml", "application/xml")),
            ("word/evil.xml", b"<document/>"),
            rels=package_rels("word/evil.xml"),
        ),
    ),
    (
        "content types with a document type declaration",
        document(
            b'<?xml version="1.0"?><!DOCTYPE Types [<!ENTITY a "aaaaaaaaaa">]>'
            + content_types(("/word/document.xml", DOCX_MAIN)).split(b"?>", 1)[1]
        ),
    ),
    (
        "content types in utf-16 with a document type declaration",
        document(
            '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE Types>'.encode("utf-16")
            + content_types(("/word/document.xml", DOCX_MAIN))
            .split(b"?>", 1)[1]
            .decode()
            .encode("utf-16")[2:]
        ),
    ),
    (
        "content types that are not xml",
        document(b"application/vnd.openxmlformats" + DOCX_MAIN.encode()),
    ),
    (
        "content types in another namespace",
        document(content_types(("/word/document.xml", DOCX_MAIN)).replace(b"content-types", b"x")),
    ),
    (
        "the same entry twice",
        make_zip(
            [
                ("[Content_Types].xml", content_types(("/word/document.xml", DOCX_MAIN))),
                ("word/document.xml", b"<document/>"),
                ("Word/Document.xml", b"<other/>"),
            ]
        ),
    ),
    # OpenDocument with macros.
    (
        "odt with basic macros",
        make_zip(
            [
                ("mimetype", b"application/vnd.oasis.opendocument.text"),
                ("content.xml", b"<office:document-content/>"),
                ("Basic/Standard/Module1.xml", b"<script:module/>"),
                ("META-INF/manifest.xml", b"<manifest:manifest/>"),
            ]
        ),
    ),
    (
        "odt with python scripts",
        make_zip(
            [
                ("mimetype", b"application/vnd.oasis.opendocument.text"),
                ("content.xml", b"<office:document-content/>"),
                ("Scripts/python/run.py", b"import os"),
            ]
        ),
    ),
]


@pytest.mark.parametrize(("label", "content", "kind"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_plain_office_documents_are_accepted(label, content, kind):
    assert attachments.detect(upload("file", content)).name == kind


@pytest.mark.parametrize(("label", "content"), REFUSED, ids=[r[0] for r in REFUSED])
def test_macros_and_disguised_packages_are_refused(label, content):
    assert zipfile.ZipFile(io.BytesIO(content)).testzip() is None  # a sound archive
    assert attachments.detect(upload("file.docx", content)) is None


# A zip bomb whose directory lies: it declares 1 KiB and inflates to 2 GiB.

_MIB = 1024 * 1024


def bomb_stream(total: int) -> bytes:
    """A raw deflate stream of `total` zero bytes, built from one compressed mebibyte repeated:
    a full flush resets the compressor, so each repetition compresses to the same bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = compressor.compress(b"\0" * _MIB) + compressor.flush(zlib.Z_FULL_FLUSH)
    return segment * (total // _MIB) + compressor.flush(zlib.Z_FINISH)


def raw_zip(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip archive written byte by byte: (name, deflated data, declared size, CRC, method)."""
    body, directory = b"", b""
    for name, data, declared, crc, method in entries:
        encoded = name.encode()
        sizes = struct.pack("<III", crc, len(data), declared)
        header = struct.pack("<IHHHHH", 0x04034B50, 20, 0, method, 0, 0) + sizes
        directory += (
            struct.pack("<IHHHHHH", 0x02014B50, 20, 20, 0, method, 0, 0)
            + sizes
            + struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0, len(body))
            + encoded
        )
        body += header + struct.pack("<HH", len(encoded), 0) + encoded + data
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), len(body), 0
    )
    return body + directory + end


def deflated(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def lying_docx(total: int) -> bytes:
    declared = 1024
    stream = bomb_stream(total)
    # The CRC of the first KiB: a reader that trusts the directory sees a valid 1 KiB part.
    crc = zlib.crc32(b"\0" * declared)
    types = content_types(("/word/document.xml", DOCX_MAIN))
    rels = package_rels("word/document.xml")
    return raw_zip(
        [
            ("[Content_Types].xml", deflated(types), len(types), zlib.crc32(types), 8),
            ("_rels/.rels", deflated(rels), len(rels), zlib.crc32(rels), 8),
            ("word/document.xml", stream, declared, crc, 8),
        ]
    )


class CountingFile(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def test_a_directory_that_lies_about_sizes_is_refused_after_reading_a_little():
    bomb = lying_docx(2048 * _MIB)
    assert len(bomb) < 3 * _MIB
    # zipfile trusts the directory: it reads 1 KiB, with a matching CRC, and sees no problem.
    assert zipfile.ZipFile(io.BytesIO(bomb)).read("word/document.xml") == b"\0" * 1024

    file = CountingFile(bomb)
    kind = attachments.detect(file)

    assert kind is None
    # Inflating stopped just past the declared KiB: what was read is zipfile's look for the
    # directory at the end (64 KiB) and a few compressed blocks, not the 2 MiB stream.
    assert file.bytes_read < 128 * 1024


def test_an_honest_archive_written_the_same_way_is_accepted():
    # The hand-made archive above is sound apart from its lie.
    data = b"<document/>"
    types = content_types(("/word/document.xml", DOCX_MAIN))
    honest = raw_zip(
        [
            ("[Content_Types].xml", deflated(types), len(types), zlib.crc32(types), 8),
            ("word/document.xml", deflated(data), len(data), zlib.crc32(data), 8),
        ]
    )

    assert attachments.detect(upload("honest.docx", honest)) == attachments.DOCX


def test_an_entry_holding_less_than_declared_is_refused():
    data = b"<document/>"
    types = content_types(("/word/document.xml", DOCX_MAIN))
    short = raw_zip(
        [
            ("[Content_Types].xml", deflated(types), len(types), zlib.crc32(types), 8),
            ("word/document.xml", deflated(data), 5000, zlib.crc32(data), 8),
        ]
    )

    assert attachments.detect(upload("short.docx", short)) is None


def test_a_part_that_is_not_parsed_is_checked_too():
    # A bomb among the media: never parsed, but a reader opening the document would inflate it.
    stream = bomb_stream(64 * _MIB)
    types = content_types(("/word/document.xml", DOCX_MAIN))
    data = b"<document/>"
    bomb = raw_zip(
        [
            ("[Content_Types].xml", deflated(types), len(types), zlib.crc32(types), 8),
            ("word/document.xml", deflated(data), len(data), zlib.crc32(data), 8),
            ("word/media/image1.png", stream, 2048, zlib.crc32(b"\0" * 2048), 8),
        ]
    )

    assert attachments.detect(upload("bomb.docx", bomb)) is None


def test_inflating_stops_at_the_total_budget(monkeypatch):
    # Honest sizes, but more in total than the budget: refused from the directory alone.
    big = document(
        content_types(("/word/document.xml", DOCX_MAIN)), ("word/media/a.bin", b"\0" * 50_000)
    )
    assert attachments.detect(upload("big.docx", big)) == attachments.DOCX
    monkeypatch.setattr(attachments, "ZIP_MAX_UNCOMPRESSED_BYTES", 40_000)

    file = CountingFile(big)

    assert attachments.detect(file) is None


# Long file names


def multipart(fields: dict[str, str], filename: str, content: bytes, content_type: str) -> bytes:
    """A form upload as a browser sends it: the file name raw in UTF-8."""
    boundary = "----FormBoundary7MA4YWxkTrZu0gW"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
        f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    ("stem", "extension", "content", "content_type"),
    [
        ("a" * 300, ".pdf", PDF, "application/pdf"),
        ("a" * 1000, ".pdf", PDF, "application/pdf"),
        # 3 bytes a character: past Django's 1,024 bytes for a part's headers, which made the
        # whole request a bare 400.
        ("移民政策報告" * 50, ".docx", DOCX, OOXML + "wordprocessingml.document"),
    ],
    ids=["ascii-300", "ascii-1000", "cjk-300"],
)
def test_a_file_with_a_long_name_is_accepted_under_a_shortened_name(
    client, question, user, stem, extension, content, content_type
):
    client.force_login(user)
    fields = {"body": "Evidence from the field.", "parent": "", "objectives": "4"}
    body, body_type = multipart(fields, stem + extension, content, content_type)

    response = client.generic("POST", comment_url(question), body, content_type=body_type)

    assert response.status_code == 302
    [attachment] = Attachment.objects.all()
    assert len(attachment.original_name) == 255
    assert attachment.original_name == stem[: 255 - len(extension)] + extension
    assert attachment.comment == Comment.objects.get()


# Cache headers of downloads


@pytest.fixture
def stored(question, user):
    comment = services.comment_create(
        question=question, author=user, body="See the report.", attachments=[upload("r.pdf", PDF)]
    )
    return comment, comment.attachments.get()


def test_a_public_file_is_cached_briefly_and_privately(client, stored):
    _, attachment = stored

    assert download(client, attachment)["Cache-Control"] == "private, max-age=300"


@pytest.mark.parametrize("withheld", ["hidden", "deleted", "unpublished"])
def test_a_withheld_file_is_never_stored_by_a_cache(client, stored, user, moderator, withheld):
    comment, attachment = stored
    if withheld == "hidden":
        services.comment_hide(comment=comment, by=moderator, reason="spam")
    elif withheld == "deleted":
        services.comment_delete(comment=comment, by=user)
    else:
        comment.question.consultation.is_published = False
        comment.question.consultation.save()
    client.force_login(moderator)

    response = client.get(reverse("consultations:attachment", args=[attachment.pk]))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


# Bombs under the cap (issue 12): honest sizes, but far more inflated than a document needs.


def test_a_docx_inflating_honestly_beyond_the_budget_is_refused():
    # 70 MiB of XML in a file of about 70 KB: the directory tells the truth.
    body = b"<w:p>" + b"a" * (70 * 1024 * 1024) + b"</w:p>"
    bomb = document(content_types(("/word/document.xml", DOCX_MAIN)), ("word/media/x.xml", body))
    assert len(bomb) < attachments.ZIP_MAX_UNCOMPRESSED_BYTES / 100
    assert attachments.detect(upload("bomb.docx", bomb)) is None


def test_a_high_compression_ratio_is_refused_beyond_a_few_mib(monkeypatch):
    # 6 MiB inflated from a few KB: under the total budget, over the ratio.
    body = b"\0" * (6 * 1024 * 1024)
    dense = document(content_types(("/word/document.xml", DOCX_MAIN)), ("word/media/a.bin", body))
    assert attachments.detect(upload("dense.docx", dense)) is None
    # The same ratio allowed: accepted, so the ratio (not the total) refused it.
    monkeypatch.setattr(attachments, "ZIP_MAX_RATIO", 10**6)
    assert attachments.detect(upload("dense.docx", dense)) == attachments.DOCX


def test_an_ordinary_ratio_is_accepted_whatever_the_size():
    # 5 MiB of random-ish bytes (incompressible): ratio about 1.
    noise = random.Random(7).randbytes(5 * 1024 * 1024)
    heavy = document(content_types(("/word/document.xml", DOCX_MAIN)), ("word/media/p.png", noise))
    assert attachments.detect(upload("photos.docx", heavy)) == attachments.DOCX
