"""The thread benchmark runs and prints its tables (its figures are for people, not asserts)."""

from io import StringIO

import pytest
from django.core.management import call_command

from consultations.models import Comment, Consultation


@pytest.mark.django_db
def test_benchmark_threads_prints_its_tables_and_leaves_nothing_behind():
    out = StringIO()
    call_command("benchmark_threads", sizes="30", runs=1, small=20, large=60, stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[1].split()[:3] == ["comments", "first", "page"]
    row = lines[2].split()
    assert row[0] == "30" and row[-1].endswith("x") and row[-2].endswith("x")
    assert [line.split()[0] for line in lines[-3:]] == ["20", "60", "ratio"]
    assert lines[-1].split()[-1].endswith("x")
    assert not Comment.objects.exists() and not Consultation.objects.exists()  # rolled back
