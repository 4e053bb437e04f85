"""A comment's plain text is computed on write, stored beside its HTML, and filled for old rows."""

import csv
import importlib
import io

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from consultations import services
from consultations.admin import CommentAdmin
from consultations.export import iter_csv
from consultations.models import LONG_BODY_CHARS, Comment
from consultations.sanitize import html_to_text

pytestmark = pytest.mark.django_db

BODY = (
    "Three priorities:\n\n<ul><li>Legal identity</li><li>Ending trafficking</li></ul>\n\n"
    'See <a href="https://example.org/report">the report</a> &amp; more.'
)
FILL = importlib.import_module("consultations.migrations.0008_fill_comment_body_text")


def stored_text(comment) -> str:
    return Comment.objects.values_list("body_text", flat=True).get(pk=comment.pk)


def test_posting_stores_the_plain_text_of_the_sanitised_body(question, user, post_comment):
    comment = post_comment(question=question, author=user, body=BODY)

    assert stored_text(comment) == html_to_text(comment.body)
    assert stored_text(comment) == (
        "Three priorities:\n\n- Legal identity\n- Ending trafficking\n\n"
        "See the report (https://example.org/report) & more."
    )


def test_editing_stores_the_plain_text_of_the_new_body(question, user, post_comment):
    comment = post_comment(question=question, author=user, body="Old text")

    edited = services.comment_edit(comment=comment, by=user, body=BODY, objectives=[])

    assert edited.body_text == stored_text(comment) == html_to_text(edited.body)
    assert "Old text" not in stored_text(comment)
    assert "Legal identity" in stored_text(comment)


def test_read_more_follows_the_stored_text(question, user, post_comment):
    long = post_comment(question=question, author=user, body="Evidence. " * 150)
    # Long markup around short text is not collapsed.
    short = post_comment(question=question, author=user, body="<strong>x</strong> " * 200)
    # is_long reads the stored text: a row whose text alone is long is collapsed.
    stored_long = post_comment(question=question, author=user, body="Short.")
    Comment.objects.filter(pk=stored_long.pk).update(body_text="y" * (LONG_BODY_CHARS + 1))
    stored_long.refresh_from_db()

    assert long.is_long is True
    assert len(short.body) > LONG_BODY_CHARS and short.is_long is False
    assert stored_long.is_long is True


def test_export_admin_list_and_hiding_email_quote_the_stored_text(
    question, user, moderator, post_comment, mailoutbox, django_capture_on_commit_callbacks
):
    comment = post_comment(question=question, author=user, body=BODY)
    # A stored text that differs from the HTML shows which one is read.
    Comment.objects.filter(pk=comment.pk).update(body_text="Stored text.")
    comment.refresh_from_db()

    assert CommentAdmin(Comment, site).excerpt(comment) == "Stored text."
    [row] = csv.DictReader(io.StringIO("".join(iter_csv(question.consultation, base_url=""))[1:]))
    assert row["text"] == "Stored text."
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_hide(comment=comment, by=moderator, reason="spam")
    (email,) = mailoutbox
    assert '"Stored text."' in email.body


def _historical_apps():
    """The models as migration 0007 sees them."""
    state = MigrationExecutor(connection).loader.project_state(
        ("consultations", "0008_fill_comment_body_text")
    )
    return state.apps


def test_data_migration_fills_the_text_of_existing_comments(
    question, user, post_comment, monkeypatch
):
    comments = [
        post_comment(question=question, author=user, body=f"{BODY} Number {n}.") for n in range(7)
    ]
    deleted = post_comment(question=question, author=user, body="<p>Kept for moderators</p>")
    services.comment_delete(comment=deleted, by=user)
    # As the rows were before 0006 added the column.
    Comment.objects.update(body_text="")
    monkeypatch.setattr(FILL, "BATCH_SIZE", 3)  # several batches, the last one partial

    FILL.fill_body_text(_historical_apps(), connection.schema_editor())

    for comment in [*comments, deleted]:
        comment.refresh_from_db()
        assert comment.body_text == html_to_text(comment.body) != ""


def test_data_migration_leaves_filled_rows_alone(question, user, post_comment):
    comment = post_comment(question=question, author=user, body="Current text")
    Comment.objects.filter(pk=comment.pk).update(body_text="Already filled")

    FILL.fill_body_text(_historical_apps(), connection.schema_editor())

    assert stored_text(comment) == "Already filled"
