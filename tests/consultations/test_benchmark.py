"""The benchmark command prints its figures and leaves the database as it was."""

import io

import pytest
from django.core.management import call_command

from accounts.models import User
from consultations.models import Comment, Consultation

pytestmark = pytest.mark.django_db


def test_benchmark_prints_figures_and_rolls_back():
    out = io.StringIO()
    call_command("benchmark_pages", comments=8, runs=1, stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("8 comments in 3 questions")
    labels = ["page, anonymous", "page, logged in", "page, ?objective=10", "CSV export"]
    for label, line in zip(labels, lines[1:], strict=True):
        assert line.strip().startswith(label) and line.endswith("queries")
    assert Comment.objects.count() == Consultation.objects.count() == User.objects.count() == 0


def test_export_benchmark_prints_speed_and_memory_beside_the_floor_and_rolls_back():
    out = io.StringIO()
    call_command("benchmark_export", sizes=[40, 200], runs=1, stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("sqlite; 1 runs per size") or lines[0].startswith("postgresql;")
    for size, block in (("40", lines[1:5]), ("200", lines[5:9])):
        assert block[0].startswith(f"{size} comments (")
        assert block[1].split()[0] == "export" and "rows/s" in block[1] and "MiB" in block[1]
        assert block[2].split()[0] == "floor" and "rows/s" in block[2] and "MiB" in block[2]
        assert block[3].split()[0] == "ratio" and "of the floor" in block[3]
    assert Comment.objects.count() == Consultation.objects.count() == User.objects.count() == 0
