"""The plain text of comments' attachments, for staff search and the XLSX: extracted in the
background after the post commits (insights.tasks), within limits, recorded in AttachmentText.

Each kind is read by a parser that only reads: pypdf (PDF), python-docx (DOCX: paragraphs and
tables), odfpy (ODT: odf.opendocument.load, teletype.extractText) and openpyxl (XLSX, read-only,
values only, never formulas evaluated). Nothing in a file is run. The limits, each a setting:

- ATTACHMENT_TEXT_MAX_BYTES: larger files are skipped (state failed, with the reason);
- ATTACHMENT_TEXT_MAX_CHARS: the text is cut there (state done, with a note);
- ATTACHMENT_TEXT_MAX_PAGES: PDF pages read at most;
- ATTACHMENT_TEXT_MAX_SECONDS: checked between pages, paragraphs and rows, reading stops there
  (a single page that takes longer is not interrupted).

Zip documents' XML parts are refused when they declare a document type (no entities, hence no
entity expansion), before any parser sees them; the upload checks (consultations.attachments)
already bounded their sizes and refused macros. A failure is recorded, never raised.
"""

import logging
import time
import zipfile
from collections.abc import Iterable, Iterator
from xml.parsers import expat

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consultations import attachments as kinds
from consultations.models import Attachment

from .models import AttachmentText

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_CHARS = 200_000
DEFAULT_MAX_PAGES = 1_000
DEFAULT_MAX_SECONDS = 30.0
# What the XML parts of a zip document may hold together, once inflated.
DEFAULT_MAX_XML_BYTES = 128 * 1024 * 1024
# How often (in paragraphs, rows) the clock is read.
_CHECK_EVERY = 50
# AttachmentText.error's length.
_ERROR_CHARS = 255


def _limit(name: str, default):
    return getattr(settings, name, default)


class ExtractionError(Exception):
    """The file cannot be read: the message says why, for staff."""


class _Budget:
    """The text read so far, and whether the character or time limit has been reached."""

    def __init__(self):
        self.max_chars = int(_limit("ATTACHMENT_TEXT_MAX_CHARS", DEFAULT_MAX_CHARS))
        self.seconds = float(_limit("ATTACHMENT_TEXT_MAX_SECONDS", DEFAULT_MAX_SECONDS))
        self.deadline = time.monotonic() + self.seconds
        self.parts: list[str] = []
        self.size = 0
        self.note = ""

    def add(self, text: str) -> bool:
        """Keep text (a page, a paragraph, a row); False once no more should be read."""
        text = text.replace("\x00", "").strip()
        if text:
            room = self.max_chars - self.size
            if len(text) > room:
                text = text[:room]
                self.note = _("Text cut at %(count)s characters.") % {"count": self.max_chars}
            self.parts.append(text)
            self.size += len(text) + 1
        if self.size >= self.max_chars:
            if not self.note:
                self.note = _("Text cut at %(count)s characters.") % {"count": self.max_chars}
            return False
        return not self.out_of_time()

    def out_of_time(self) -> bool:
        if time.monotonic() > self.deadline:
            self.note = _("Stopped after %(seconds)s seconds: the text is incomplete.") % {
                "seconds": f"{self.seconds:g}"
            }
            return True
        return False

    @property
    def text(self) -> str:
        return "\n".join(self.parts)[: self.max_chars]


# Readers, one per kind


def _pdf(file, budget: _Budget) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(file)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError(_("The PDF is protected by a password."))
        max_pages = int(_limit("ATTACHMENT_TEXT_MAX_PAGES", DEFAULT_MAX_PAGES))
        for index, page in enumerate(reader.pages):
            if index >= max_pages:
                budget.note = _("Stopped after %(count)s pages.") % {"count": max_pages}
                return
            if not budget.add(page.extract_text() or ""):
                return
    except PdfReadError as exc:
        raise ExtractionError(_("The PDF cannot be read (%(reason)s).") % {"reason": exc}) from exc


def _docx(file, budget: _Budget) -> None:
    import docx
    from docx.table import Table

    document = docx.Document(file)

    def blocks(container) -> Iterator[str]:
        for item in container.iter_inner_content():
            if isinstance(item, Table):
                for row in item.rows:
                    cells: list[str] = []
                    for cell in row.cells:
                        text = cell.text.strip()
                        # A merged cell comes back once per grid column it spans.
                        if text and (not cells or cells[-1] != text):
                            cells.append(text)
                    yield "\t".join(cells)
            else:
                yield item.text

    for text in blocks(document):
        if not budget.add(text):
            return


def _odt(file, budget: _Budget) -> None:
    from odf import teletype
    from odf.namespaces import TEXTNS
    from odf.opendocument import load

    document = load(file)
    # Paragraphs and headings in document order (those of tables and lists too), each read as
    # a whole: their spans, links and notes are inside.
    stack = list(reversed(document.text.childNodes))
    count = 0
    while stack:
        node = stack.pop()
        if node.nodeType != node.ELEMENT_NODE:
            continue
        if node.qname in ((TEXTNS, "p"), (TEXTNS, "h")):
            count += 1
            if not budget.add(teletype.extractText(node)):
                return
        else:
            stack.extend(reversed(node.childNodes))
        if count % _CHECK_EVERY == 0 and budget.out_of_time():
            return


def _xlsx(file, budget: _Budget) -> None:
    from openpyxl import load_workbook

    # data_only: the values Excel saved, never a formula (openpyxl evaluates none anyway).
    workbook = load_workbook(file, read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            if not budget.add(sheet.title):
                return
            for count, row in enumerate(sheet.iter_rows(values_only=True), 1):
                values = [str(value) for value in row if value is not None and value != ""]
                if values and not budget.add("\t".join(values)):
                    return
                if count % _CHECK_EVERY == 0 and budget.out_of_time():
                    return
    finally:
        workbook.close()


_READERS = {
    kinds.PDF.content_type: _pdf,
    kinds.DOCX.content_type: _docx,
    kinds.ODT.content_type: _odt,
    kinds.XLSX.content_type: _xlsx,
}


class _Stop(Exception):
    pass


def _check_zip(file) -> None:
    """Refuse a zip document whose XML parts are too big together, or one of which declares a
    document type. Reads each part only up to its root element."""
    limit = int(_limit("ATTACHMENT_TEXT_MAX_XML_BYTES", DEFAULT_MAX_XML_BYTES))
    try:
        with zipfile.ZipFile(file) as archive:
            parts = [
                info
                for info in archive.infolist()
                if info.filename.lower().endswith((".xml", ".rels"))
            ]
            if sum(info.file_size for info in parts) > limit:
                raise ExtractionError(
                    _("The document's text parts are over %(size)s once unpacked.")
                    % {"size": kinds.human_size(limit)}
                )
            for info in parts:
                _check_prolog(archive, info)
    except zipfile.BadZipFile as exc:
        raise ExtractionError(_("The document is not a readable archive.")) from exc
    finally:
        file.seek(0)


def _check_prolog(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    def doctype(*args):
        raise ExtractionError(_("The document declares an XML document type: not read."))

    def root(*args):
        raise _Stop

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = root
    try:
        with archive.open(info) as entry:
            while chunk := entry.read(16 * 1024):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _Stop:
        return
    except expat.ExpatError as exc:
        raise ExtractionError(_("The document's XML is not well-formed.")) from exc


def extract_text(file, content_type: str, size: int) -> tuple[str, str]:
    """(text, note) of an open binary file of a detected content type, or ExtractionError."""
    max_bytes = int(_limit("ATTACHMENT_TEXT_MAX_BYTES", DEFAULT_MAX_BYTES))
    if size > max_bytes:
        raise ExtractionError(
            _("Not read: the file is %(size)s, over the limit of %(limit)s.")
            % {"size": kinds.human_size(size), "limit": kinds.human_size(max_bytes)}
        )
    reader = _READERS.get(content_type)
    if reader is None:
        raise ExtractionError(_("Files of this type are not read."))
    if content_type != kinds.PDF.content_type:
        _check_zip(file)
    budget = _Budget()
    reader(file, budget)
    return budget.text, budget.note


def extract(attachment_id: int) -> str:
    """Extract one attachment's text and record it; returns the state (or "gone" when the
    attachment no longer exists). Failures are recorded on the row, not raised."""
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None:
        return "gone"
    record, _created = AttachmentText.objects.get_or_create(attachment=attachment)
    text, error, state = "", "", AttachmentText.State.DONE
    try:
        with attachment.file.open("rb") as file:
            text, error = extract_text(file, attachment.content_type, attachment.size)
    except ExtractionError as exc:
        state, error = AttachmentText.State.FAILED, str(exc)
    except OSError as exc:  # the stored file is missing or unreadable: no path in the message
        logger.warning("Attachment %s: its file cannot be opened: %r", attachment_id, exc)
        state, error = AttachmentText.State.FAILED, _("The stored file cannot be opened.")
    except Exception as exc:  # a parser's own error on a malformed file, of any type
        logger.info("Attachment %s: text extraction failed: %r", attachment_id, exc)
        state = AttachmentText.State.FAILED
        error = _("The file cannot be read (%(reason)s).") % {
            "reason": f"{type(exc).__name__}: {exc}"
        }
    AttachmentText.objects.filter(pk=record.pk).update(
        state=state,
        text=text,
        error=error[:_ERROR_CHARS],
        extracted_at=timezone.now(),
    )
    return state


def extract_later(attachments: Iterable[Attachment]) -> None:
    """Have the attachments' text extracted once the transaction that saved them commits
    (called by consultations.services when a comment's files are stored)."""
    pks = [attachment.pk for attachment in attachments]
    if pks:
        transaction.on_commit(lambda: enqueue(pks), robust=True)


def enqueue(pks: list[int]) -> None:
    """Record the attachments as pending and queue one task each."""
    from .tasks import extract_attachment_text

    AttachmentText.objects.bulk_create(
        [AttachmentText(attachment_id=pk) for pk in pks], ignore_conflicts=True
    )
    for pk in pks:
        extract_attachment_text.enqueue(pk)
