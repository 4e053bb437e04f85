"""The consultations app, and one adjustment Django needs for long upload names."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Django allows 1,024 bytes for the headers of each part of a form upload, and answers a bare
# 400 to the whole request beyond that: a file name of 300 characters in a non-Latin script
# (3 bytes each in UTF-8) with a DOCX content type takes more. The name is then shortened to
# 255 characters keeping its extension (Django's UploadedFile, then attachments.clean_name).
# 8 KiB holds any name a file system allows, even percent-encoded.
MULTIPART_MAX_HEADER_BYTES = 8 * 1024


class ConsultationsConfig(AppConfig):
    name = "consultations"
    verbose_name = _("Consultations")

    def ready(self) -> None:
        from django.http import multipartparser

        from . import rendering

        rendering.connect_signals()

        # Read by the parser at each part (multipartparser.Parser.__iter__); no setting exists.
        multipartparser.MAX_TOTAL_HEADER_SIZE = max(
            multipartparser.MAX_TOTAL_HEADER_SIZE, MULTIPART_MAX_HEADER_BYTES
        )
