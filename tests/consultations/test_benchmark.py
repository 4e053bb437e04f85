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
