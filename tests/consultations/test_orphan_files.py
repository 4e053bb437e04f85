"""Files without rows (issue 12): a write that fails half-way (the disk full) leaves no partial
file and gives a clear message with the text kept; files a killed worker left behind are found
and removed by `manage.py sweep_attachments`."""

import os
import resource
import signal
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from consultations.models import Attachment, Comment

from .test_attachments import PDF, post, stored_files, upload

pytestmark = pytest.mark.django_db

# A PDF larger than the file-size limit set below: its write fails part-way, as on a full disk.
BIG_PDF = PDF + b"%" + b"x" * (256 * 1024) + b"\n%%EOF\n"


@pytest.fixture
def small_file_limit():
    """The kernel refuses writes past 64 KiB (EFBIG) in this process: a real failing write.
    SIGXFSZ, which would kill the process, is ignored meanwhile."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_write_that_fails_half_way_leaves_no_file_and_keeps_the_text(
    client, question, user, settings, small_file_limit
):
    client.force_login(user)
    typed = "Evidence from three border towns, with the annex."
    response = post(client, question, files=[upload("annex.pdf", BIG_PDF)], body=typed)

    html = response.content.decode()
    assert response.status_code in (200, 400)
    assert "Your files could not be stored just now, so nothing was posted." in html
    assert typed in html
    assert not Comment.objects.exists() and not Attachment.objects.exists()
    assert stored_files(settings) == []


def _stray(settings, name: str, age_minutes: int) -> Path:
    folder = Path(settings.MEDIA_ROOT) / "attachments"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"left behind")
    then = time.time() - age_minutes * 60
    os.utime(path, (then, then))
    return path


def test_the_sweep_lists_then_removes_only_old_files_without_a_row(
    client, question, user, settings, capsys
):
    client.force_login(user)
    assert post(client, question, files=[upload("kept.pdf", PDF)]).status_code == 302
    kept = Path(Attachment.objects.get().file.path)
    os.utime(kept, (time.time() - 7200, time.time() - 7200))
    old = _stray(settings, "0" * 32, age_minutes=120)
    young = _stray(settings, "1" * 32, age_minutes=5)

    call_command("sweep_attachments")
    out = capsys.readouterr().out
    assert f"orphan attachments/{old.name} (11 bytes)" in out
    assert "3 file(s) checked, 1 with a row, 1 orphan(s) found" in out
    assert old.exists()

    call_command("sweep_attachments", "--delete")
    assert "1 orphan(s) removed" in capsys.readouterr().out
    assert not old.exists() and young.exists() and kept.exists()


def test_the_sweep_with_no_folder_says_so(settings, capsys):
    call_command("sweep_attachments")
    assert "0 file(s) checked, 0 with a row, 0 orphan(s)" in capsys.readouterr().out
