"""manage.py benchmark_api prints its figures and leaves the database as it was."""

import io

import pytest
from django.core.management import call_command

from consultations.models import Comment

pytestmark = pytest.mark.django_db


def test_the_benchmark_prints_each_figure_beside_the_floor_and_rolls_back():
    out = io.StringIO()
    call_command("benchmark_api", comments=400, page_size=10, runs=1, stdout=out)
    text = out.getvalue()
    assert "400 comments; 10 per page" in text
    for line in ("floor", "first page", "page 21 (cursor)", "question filter", "revalidation"):
        assert line in text
    assert text.count("x the floor") == 4
    assert not Comment.objects.exists()
