"""OpenDocument files that run code on open or on click are refused (issue 12): event listeners
(office:event-listeners, script:event-listener) and links to script or macro URLs, in any XML
part of the package; Basic/ and Scripts/ folders are refused in test_attachment_abuse.py."""

import pytest

from consultations import attachments

from .test_attachments import ODF_MANIFEST, make_zip, upload

pytestmark = pytest.mark.django_db

NAMESPACES = (
    b' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    b' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    b' xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0"'
    b' xmlns:xlink="http://www.w3.org/1999/xlink"'
)


def odt(body: bytes, *, part: str = "content.xml", extra: tuple = ()) -> bytes:
    root = b"office:document-content" if part == "content.xml" else b"office:document-styles"
    xml = (
        b'<?xml version="1.0" encoding="UTF-8"?><'
        + root
        + NAMESPACES
        + b' office:version="1.3">'
        + body
        + b"</"
        + root
        + b">"
    )
    return make_zip(
        [
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            (part, xml),
            ("META-INF/manifest.xml", ODF_MANIFEST),
            *extra,
        ]
    )


ON_OPEN = (
    b"<office:scripts><office:event-listeners>"
    b'<script:event-listener script:language="ooo:script" script:event-name="dom:load"'
    b' xlink:href="vnd.sun.star.script:Standard.Module1.Main?language=Basic&amp;location=document"'
    b' xlink:type="simple"/>'
    b"</office:event-listeners></office:scripts>"
)
LINK_TO_MACRO = (
    b'<office:body><office:text><text:p><text:a xlink:type="simple"'
    b' xlink:href="macro:///Tools.Misc.Run">Open the annex</text:a></text:p></office:text>'
    b"</office:body>"
)
LINK_TO_SCRIPT = LINK_TO_MACRO.replace(
    b"macro:///Tools.Misc.Run", b"  VND.SUN.STAR.SCRIPT:Library.Module.Run?language=Basic"
)
PLAIN_LINK = LINK_TO_MACRO.replace(b"macro:///Tools.Misc.Run", b"https://example.org/annex")


@pytest.mark.parametrize(
    "content",
    [
        odt(ON_OPEN),
        odt(ON_OPEN, part="styles.xml"),
        odt(LINK_TO_MACRO),
        odt(LINK_TO_SCRIPT),
        # An embedded object's own content.xml.
        odt(
            PLAIN_LINK,
            extra=(("Object 1/content.xml", b"<x" + NAMESPACES + b">" + ON_OPEN + b"</x>"),),
        ),
        # A part that does not parse cannot be checked.
        odt(b"<office:body><unclosed>"),
        odt(b"<office:body/>", extra=(("settings.xml", b"<config:settings/>"),)),
    ],
    ids=[
        "on open",
        "in styles",
        "macro link",
        "script link",
        "embedded object",
        "broken",
        "unbound",
    ],
)
def test_odt_that_runs_code_is_refused(content):
    assert attachments.detect(upload("notes.odt", content)) is None


def test_odt_with_an_ordinary_link_is_accepted():
    assert attachments.detect(upload("notes.odt", odt(PLAIN_LINK))).name == "odt"
