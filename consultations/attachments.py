"""Files attached to comments: their kind judged by content, their names and the limits on them."""

import unicodedata
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

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
# What all entries may declare together: more is a bomb for whoever opens the file later.
ZIP_MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
# What detection itself may inflate, over all the entries it reads.
ZIP_MAX_READ_BYTES = 2 * 1024 * 1024

_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,  # an encrypted entry
    NotImplementedError,  # an unknown compression method
)
# The main part of each Office Open XML document, as [Content_Types].xml declares it. Macro-enabled
# variants (DOCM, XLSM) declare another type, so they are refused even when renamed.
_DOCX_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_XLSX_MAIN = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_ODT_MIMETYPE = ODT.content_type.encode()


class _TooBig(Exception):
    pass


class _ZipReader:
    """Reads entries of an open archive within one budget of inflated bytes."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.budget = ZIP_MAX_READ_BYTES

    def read(self, info: zipfile.ZipInfo) -> bytes:
        # The declared size may lie: the read is capped as well, one byte past the budget.
        if info.file_size > self.budget:
            raise _TooBig
        with self.archive.open(info) as entry:
            data = entry.read(self.budget + 1)
        if len(data) > self.budget:
            raise _TooBig
        self.budget -= len(data)
        return data


def _zip_kind(file: IO[bytes]) -> Kind | None:
    try:
        with zipfile.ZipFile(file) as archive:
            entries = archive.infolist()
            if not entries or len(entries) > ZIP_MAX_ENTRIES:
                return None
            if sum(info.file_size for info in entries) > ZIP_MAX_UNCOMPRESSED_BYTES:
                return None
            reader = _ZipReader(archive)
            # OpenDocument: a "mimetype" entry first, holding exactly the document's type.
            if entries[0].filename == "mimetype":
                return ODT if reader.read(entries[0]) == _ODT_MIMETYPE else None
            names = {info.filename: info for info in entries}
            if "[Content_Types].xml" not in names:
                return None
            is_docx, is_xlsx = "word/document.xml" in names, "xl/workbook.xml" in names
            if is_docx == is_xlsx:  # neither, or an archive pretending to be both
                return None
            content_types = reader.read(names["[Content_Types].xml"])
            if is_docx and _DOCX_MAIN in content_types:
                return DOCX
            if is_xlsx and _XLSX_MAIN in content_types:
                return XLSX
            return None
    except (_TooBig, *_ZIP_ERRORS):
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
