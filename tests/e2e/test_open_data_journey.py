"""Staff build a closed consultation's open-data file from their page, without JavaScript's help,
and a reader downloads it from the consultation's page, in a real browser."""

import io
import os
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from consultations.models import Consultation
from tests.conftest import create_user

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_staff_build_the_file_and_a_reader_downloads_it(
    page, context, question, post_comment, log_in_as, tmp_path
):
    author = create_user(display_name="Amina Diallo", organisation="Sahel Migrant Network")
    post_comment(question=question, author=author, body="Pathways work.", objectives=[5])
    consultation = question.consultation
    # Closed a minute ago (the comment was posted while it was open).
    Consultation.objects.filter(pk=consultation.pk).update(
        closes_at=timezone.now() - timedelta(minutes=1)
    )
    page.goto(consultation.get_absolute_url())
    assert "is being prepared" in page.locator("#open-data").inner_text()

    log_in_as(create_user(display_name="Staff Member", is_staff=True))
    page.goto(f"/consultations/{consultation.slug}/open-data/")
    page.get_by_role("button", name="Build it now").click()
    # The tests' task backend builds it at once; the page says when it is there.
    assert "The open-data file is being built." in page.content()
    assert page.get_by_role("button", name="Build it again now").is_visible()
    if os.environ.get("OPEN_DATA_SCREENSHOTS"):
        page.screenshot(path=os.environ["OPEN_DATA_SCREENSHOTS"] + "/staff.png", full_page=True)

    page.goto(consultation.get_absolute_url())
    section = page.locator("#open-data")
    assert "CC BY 4.0" in section.inner_text()
    if os.environ.get("OPEN_DATA_SCREENSHOTS"):
        section.screenshot(path=os.environ["OPEN_DATA_SCREENSHOTS"] + "/section.png")
    with page.expect_download() as download:
        section.get_by_role("link", name="Download the open data (ZIP)").click()
    assert download.value.suggested_filename == "safe-borders-open-data.zip"
    archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    assert "safe-borders-open-data/README.md" in archive.namelist()
    assert b"Pathways work." in archive.read("safe-borders-open-data/comments.json")
