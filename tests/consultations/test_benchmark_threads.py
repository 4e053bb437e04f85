"""The thread benchmark runs and prints its table (its figures are for people, not asserts)."""

import pytest
from django.core.management import call_command

from consultations.models import Comment


@pytest.mark.django_db
def test_benchmark_threads_prints_one_row_per_size_and_leaves_nothing_behind():
    from io import StringIO

    out = StringIO()
    call_command("benchmark_threads", sizes="30", runs=1, stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[1].split()[:3] == ["comments", "first", "page"]
    row = lines[2].split()
    assert row[0] == "30" and row[-1].endswith("x")
    assert not Comment.objects.exists()  # rolled back
