"""Files attached to comments: their kind judged by content, their names and the limits on them."""

import copy
import unicodedata
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO
from xml.parsers import expat

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils.formats import get_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext


@dataclass(frozen=True)
class Kind:
    """A type of document a comment may carry."""

    name: str
    label: str | Promise  # translated when shown
    content_type: str
    extension: str


PDF = Kind("pdf", "PDF", "application/pdf", ".pdf")
DOCX = Kind(
    "docx",
    gettext_lazy("Word (DOCX)"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".docx",
)
ODT = Kind(
    "odt",
    gettext_lazy("OpenDocument text (ODT)"),
    "application/vnd.oasis.opendocument.text",
    ".odt",
)
XLSX = Kind(
    "xlsx",
    gettext_lazy("Excel (XLSX)"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsx",
)
KINDS = (PDF, DOCX, ODT, XLSX)
KIND_BY_CONTENT_TYPE = {kind.content_type: kind for kind in KINDS}


def allowed_labels() -> str:
    """ "PDF, Word (DOCX), OpenDocument text (ODT) or Excel (XLSX)", in the current language."""
    return _("%(kinds)s or %(last)s") % {
        "kinds": ", ".join(str(kind.label) for kind in KINDS[:-1]),
        "last": KINDS[-1].label,
    }


# Zip archives (DOCX, ODT, XLSX) are inspected, never extracted. A small archive can declare or
# inflate to gigabytes (a zip bomb), so the directory is bounded and every read is capped.
ZIP_MAX_ENTRIES = 10_000
# What all entries may hold together. Every entry is inflated once to check it holds what the
# directory says (so the sizes compared here are those of the bytes actually inflated), which
# also bounds the work of detection. Well below what a desktop program opens in reasonable time:
# a 490 KB DOCX inflating honestly to 480 MiB kept LibreOffice busy for minutes.
ZIP_MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024
# Beyond a few MiB inflated, a package may not inflate to more than this many times its own size
# (documents of text and images compress 2 to 20 times; a bomb, hundreds or thousands).
ZIP_MAX_RATIO = 100
ZIP_RATIO_FREE_BYTES = 4 * 1024 * 1024
# What the parts that are parsed ([Content_Types].xml, _rels/.rels, mimetype) may hold together.
ZIP_MAX_READ_BYTES = 2 * 1024 * 1024
_CHUNK = 64 * 1024

_ZIP_ERRORS = (
    zipfile.BadZipFile,  # including a CRC that does not match
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,  # an encrypted entry
    NotImplementedError,  # an unknown compression method
    expat.ExpatError,
)
# The main part of each Office Open XML document, as [Content_Types].xml must declare it.
_OOXML_MAIN_PARTS = {
    "word/document.xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    ),
    "xl/workbook.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}
_CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_DOCUMENT = "/officeDocument"  # the end of the main relationship's type URI
# Content types of code: macro-enabled documents and templates (DOCM, XLSM, DOTM...), VBA
# projects and their data, ActiveX controls, Excel 4.0 macro sheets. Refused wherever they are
# declared, since Office runs what a package declares, whatever the main part is.
_CODE_TYPE_MARKERS = ("macroenabled", "vbaproject", "vbadata", "activex", "macrosheet")
# Parts that hold code whatever type they are declared with.
_CODE_PART_NAMES = ("vbaproject.bin", "vbadata.xml")
_CODE_FOLDERS = ("activex", "macrosheets")
# OpenDocument keeps macros in Basic/ (StarBasic) and Scripts/ (Python, JavaScript, BeanShell).
_ODF_CODE_FOLDERS = ("basic/", "scripts/")
# And runs them from event listeners (office:event-listeners, script:event-listener: "on open",
# "on click" of a form control...) or from links whose target is a script or macro URL, which
# can also call the application's own macros. Every XML part of an OpenDocument package is
# scanned for them as it is inflated.
_ODF_SCRIPT_NS = "urn:oasis:names:tc:opendocument:xmlns:script:1.0"
_ODF_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_ODF_EVENT_ELEMENTS = frozenset(
    {
        f"{_ODF_OFFICE_NS}}}event-listeners",
        f"{_ODF_SCRIPT_NS}}}event-listener",
        "urn:openoffice:names:experimental:ooo-ms-interop:xmlns:field:1.0}event-listener",
    }
)
_ODF_SCRIPT_URL_PREFIXES = ("vnd.sun.star.script:", "macro:", "vnd.sun.star.basic:")
_ODT_MIMETYPE = ODT.content_type.encode()
_PARSED_PARTS = ("mimetype", "[content_types].xml", "_rels/.rels")


class _Refused(Exception):
    pass


def _script_scanner():
    """An expat parser, fed an OpenDocument XML part chunk by chunk, that refuses the part as
    soon as it meets an event listener or a script or macro URL (and any DOCTYPE)."""

    def refuse(*args) -> None:
        raise _Refused

    def start(name: str, attributes: dict[str, str]) -> None:
        if name in _ODF_EVENT_ELEMENTS:
            raise _Refused
        for value in attributes.values():
            if value.strip().lower().startswith(_ODF_SCRIPT_URL_PREFIXES):
                raise _Refused

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    return parser


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, keep: bool, scanner=None) -> bytes:
    """Inflate an entry to the real end of its data, in chunks, refusing it as soon as it holds
    more than the directory declares (or less, or other bytes: the CRC is checked at the end).

    zipfile itself stops at the declared size, so a bomb declaring 1 KB and inflating to 2 GB
    reads as a valid 1 KB; here the declared size is only the point at which reading stops.
    """
    probe = copy.copy(info)
    probe.file_size = info.file_size + 1  # read past the declared size, if there is more
    size, chunks = 0, []
    with archive.open(probe) as entry:
        while chunk := entry.read(_CHUNK):
            size += len(chunk)
            if size > info.file_size:
                raise _Refused
            if keep:
                chunks.append(chunk)
            if scanner is not None:
                scanner.Parse(chunk, False)
    if size != info.file_size:
        raise _Refused
    if scanner is not None:
        scanner.Parse(b"", True)
    return b"".join(chunks)


def _xml_elements(data: bytes) -> list[tuple[str, dict[str, str]]]:
    """Every element of an XML part as ("namespace}name", attributes). A document type
    declaration is refused outright (no entities, hence no entity expansion), in any encoding."""
    elements: list[tuple[str, dict[str, str]]] = []

    def refuse(*args) -> None:
        raise _Refused

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = lambda name, attributes: elements.append((name, attributes))
    parser.Parse(data, True)
    return elements


def _content_types(data: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """[Content_Types].xml as ({extension: type}, {part name: type}), names in lower case (OPC
    compares them so). A part or an extension declared twice is refused: which would count?"""
    elements = _xml_elements(data)
    if not elements or elements[0][0] != f"{_CONTENT_TYPES_NS}}}Types":
        raise _Refused
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for name, attributes in elements[1:]:
        if name == f"{_CONTENT_TYPES_NS}}}Default":
            table, key = defaults, attributes.get("Extension", "")
        elif name == f"{_CONTENT_TYPES_NS}}}Override":
            table, key = overrides, attributes.get("PartName", "").lstrip("/")
        else:
            continue
        key = key.lower()
        if not key or key in table:
            raise _Refused
        table[key] = attributes.get("ContentType", "")
    return defaults, overrides


def _ooxml_kind(names: list[str], parts: dict[str, bytes]) -> Kind | None:
    main = [part for part in _OOXML_MAIN_PARTS if part in names]
    if len(main) != 1 or "[content_types].xml" not in parts:
        return None  # neither a document nor a workbook, or an archive pretending to be both
    [main_part] = main
    for name in names:
        folders, _slash, base = name.rpartition("/")
        if base in _CODE_PART_NAMES or any(f in folders.split("/") for f in _CODE_FOLDERS):
            return None
    defaults, overrides = _content_types(parts["[content_types].xml"])
    for content_type in (*defaults.values(), *overrides.values()):
        if any(marker in content_type.lower() for marker in _CODE_TYPE_MARKERS):
            return None
    # The type of the main part itself, as Office reads it (an Override, else the Default for
    # its extension): a mention of the right type elsewhere in the file counts for nothing.
    main_type = overrides.get(main_part, defaults.get(main_part.rpartition(".")[2]))
    if main_type != _OOXML_MAIN_PARTS[main_part]:
        return None
    # The package's relationships must not make another part the document.
    if "_rels/.rels" in parts:
        for name, attributes in _xml_elements(parts["_rels/.rels"]):
            if name != f"{_RELATIONSHIPS_NS}}}Relationship":
                continue
            if attributes.get("Type", "").endswith(_OFFICE_DOCUMENT):
                if attributes.get("Target", "").lstrip("/").lower() != main_part:
                    return None
    return DOCX if main_part == "word/document.xml" else XLSX


def _odf_kind(names: list[str], parts: dict[str, bytes]) -> Kind | None:
    # OpenDocument: a "mimetype" entry first, holding exactly the document's type; no macros.
    if parts.get("mimetype") != _ODT_MIMETYPE:
        return None
    if any(name.startswith(_ODF_CODE_FOLDERS) for name in names):
        return None
    return ODT


def _zip_kind(file: IO[bytes]) -> Kind | None:
    try:
        start = file.tell()
        archive_bytes = file.seek(0, 2) - start
        file.seek(start)
        with zipfile.ZipFile(file) as archive:
            entries = archive.infolist()
            if not entries or len(entries) > ZIP_MAX_ENTRIES:
                return None
            # Declared sizes here; _inflate below refuses an entry holding more or less.
            inflated = sum(info.file_size for info in entries)
            if inflated > ZIP_MAX_UNCOMPRESSED_BYTES:
                return None
            if inflated > ZIP_RATIO_FREE_BYTES and inflated > ZIP_MAX_RATIO * archive_bytes:
                return None
            # Part names in lower case, as Office compares them; the same name twice is refused
            # (one program would read the first, another the last).
            names = [info.filename.lower() for info in entries]
            if len(set(names)) != len(names):
                return None
            parsed = [info for info in entries if info.filename.lower() in _PARSED_PARTS]
            if sum(info.file_size for info in parsed) > ZIP_MAX_READ_BYTES:
                return None
            # Every entry inflated once, so that none holds more than the directory says.
            parts = {}
            odf = entries[0].filename == "mimetype"
            for info in entries:
                scan = odf and info.filename.lower().endswith(".xml")
                scanner = _script_scanner() if scan else None
                data = _inflate(archive, info, keep=info in parsed, scanner=scanner)
                if info in parsed:
                    parts[info.filename.lower()] = data
            if odf:
                return _odf_kind(names, parts)
            return _ooxml_kind(names, parts)
    except (_Refused, *_ZIP_ERRORS):
        return None


def detect(file: IO[bytes]) -> Kind | None:
    """The kind of a file judged by its bytes (never its name), or None when it is not one we
    accept. The file is left at its start."""
    try:
        file.seek(0)
        head = file.read(8)
        if head.startswith(b"%PDF-"):
            return PDF
        if head.startswith(b"PK\x03\x04"):
            file.seek(0)
            return _zip_kind(file)
        return None
    finally:
        file.seek(0)


def clean_name(name: str) -> str:
    """The uploaded name made safe to store and show: its last path part, without control or
    invisible formatting characters (such as a right-to-left override), at most 255 chars."""
    name = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    # Category C: controls, format characters (bidi overrides, zero-width), private, unassigned.
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > 255:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= 10:
            name = stem[: 254 - len(extension)].rstrip() + dot + extension
        else:
            name = name[:255]
    return name or "attachment"


def download_name(name: str, kind: Kind | None) -> str:
    """The name to save a file under: the stored name, ending in its detected kind's extension
    (a PDF that was named report.docx downloads as report.pdf)."""
    if kind is None or name.lower().endswith(kind.extension):
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and "." + extension.lower() in {k.extension for k in KINDS}:
        name = stem
    return clean_name(name[: 255 - len(kind.extension)] + kind.extension)


def human_size(size: int) -> str:
    """1,000 bytes, 1.5 KB, 12.4 MB (binary units: 10 MB is 10 × 1024 × 1024 bytes), with the
    current language's separators and unit names."""
    if size < 1024:
        return _bytes(size)
    units = (
        (_("%(size)s KB"), 1024),
        (_("%(size)s MB"), 1024**2),
        (_("%(size)s GB"), 1024**3),
    )
    for unit, factor in units:
        if size < factor * 1024 or factor == 1024**3:
            value = f"{size / factor:.1f}".removesuffix(".0")
            return unit % {"size": value.replace(".", get_format("DECIMAL_SEPARATOR"))}
    raise AssertionError("unreachable")


def _bytes(size: int) -> str:
    grouped = f"{size:,}".replace(",", get_format("THOUSAND_SEPARATOR"))
    return ngettext("%(size)s byte", "%(size)s bytes", size) % {"size": grouped}


def limits_help() -> str:
    """The file input's help text, from the current limits; empty when attachments are off
    (COMMENT_MAX_ATTACHMENTS=0), and the forms then show no file input."""
    count = settings.COMMENT_MAX_ATTACHMENTS
    if count <= 0:
        return ""
    params = {
        "count": count,
        "kinds": allowed_labels(),
        "size": human_size(settings.ATTACHMENT_MAX_BYTES),
    }
    if count == 1:
        return _("One file: a %(kinds)s document of at most %(size)s.") % params
    return _("Up to %(count)s files, each a %(kinds)s document of at most %(size)s.") % params


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed the checks, with what to record about it."""

    file: File
    kind: Kind
    name: str
    size: int


def _size_error(name: str, size: int, limit: int) -> ValidationError:
    shown, limit_shown = human_size(size), human_size(limit)
    if shown == limit_shown:  # "10 MB; at most 10 MB" would explain nothing
        shown, limit_shown = _bytes(size), _bytes(limit)
    return ValidationError(
        _("“%(name)s” is %(size)s; files can be at most %(limit)s."),
        code="file_too_big",
        params={"name": name, "size": shown, "limit": limit_shown},
    )


def check_files(files: Sequence[File]) -> list[CheckedFile]:
    """Every file checked for count, size and kind (by content), or one ValidationError listing
    every problem. Used by the form and again by the service, which trusts no caller."""
    files = [f for f in files if f is not None]
    limit = settings.COMMENT_MAX_ATTACHMENTS
    if len(files) > limit:
        raise ValidationError(
            ngettext(
                "You can attach at most %(limit)s file.",
                "You can attach at most %(limit)s files.",
                limit,
            ),
            code="too_many_files",
            params={"limit": limit},
        )
    checked, errors = [], []
    for file in files:
        name = clean_name(file.name or "")
        size = file.size
        if not size:
            errors.append(
                ValidationError(_("“%(name)s” is empty."), code="file_empty", params={"name": name})
            )
            continue
        if size > settings.ATTACHMENT_MAX_BYTES:
            errors.append(_size_error(name, size, settings.ATTACHMENT_MAX_BYTES))
            continue
        kind = detect(file)
        if kind is None:
            errors.append(
                ValidationError(
                    _("“%(name)s” is not a %(allowed)s file."),
                    code="file_type",
                    params={"name": name, "allowed": allowed_labels()},
                )
            )
            continue
        checked.append(CheckedFile(file=file, kind=kind, name=name, size=size))
    if errors:
        raise ValidationError(errors)
    return checked
