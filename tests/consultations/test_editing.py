"""Authors edit and delete their own comments without losing the record."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from consultations import services
from consultations.models import (
    Comment,
    CommentRevision,
    Consultation,
    ModerationAction,
    Question,
)
from consultations.sanitize import editable_text, sanitize_comment

pytestmark = pytest.mark.django_db


def edit_url(comment):
    return f"/consultations/comments/{comment.pk}/edit/"


def delete_url(comment):
    return f"/consultations/comments/{comment.pk}/delete/"


def test_edit_form_starts_from_the_text_as_the_author_typed_it(
    client, question, user, post_comment
):
    comment = post_comment(
        question=question, author=user, body="First line\nsecond\n\nSee https://example.org"
    )
    client.force_login(user)
    html = client.get(edit_url(comment)).content.decode()
    assert "First line\nsecond\n\nSee https://example.org</textarea>" in html


@pytest.mark.parametrize(
    "body",
    [
        "Plain text\n\nin two paragraphs",
        "A list:\n\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>",
        'Links: https://example.org/a?b=1&c=2, <a href="https://x.example/">label</a>, me@ex.org',
        "Maths: 5 < 6 & 7 > 3, and <strong>bold</strong>",
    ],
)
def test_editing_without_changes_gives_back_the_same_body(body):
    html = sanitize_comment(body)
    assert sanitize_comment(editable_text(html)) == html


def test_author_edits_while_open_previous_version_kept_page_marks_it(
    client, consultation, question, user, post_comment
):
    comment = post_comment(question=question, author=user, body="Old text", objectives=[4])
    client.force_login(user)

    response = client.post(
        edit_url(comment), {"body": "New text", "objectives": ["8", "10"], "parent": ""}
    )

    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.body == "<p>New text</p>" and comment.edited_at is not None
    assert sorted(comment.objectives.values_list("number", flat=True)) == [8, 10]
    revision = CommentRevision.objects.get()
    assert (revision.body, revision.objectives, revision.edited_by) == (
        "<p>Old text</p>",
        "4",
        user,
    )
    assert not ModerationAction.objects.exists()  # an author's own edit is not moderation
    page = client.get(consultation.get_absolute_url()).content.decode()
    assert "New text" in page and "(edited)" in page and "Old text" not in page


def test_invalid_edit_keeps_the_typed_text_and_saves_nothing(client, question, user, post_comment):
    comment = post_comment(question=question, author=user, body="Original")
    client.force_login(user)
    response = client.post(edit_url(comment), {"body": "Typed", "objectives": ["99"], "parent": ""})
    assert response.status_code == 400
    assert "Typed</textarea>" in response.content.decode()
    comment.refresh_from_db()
    assert comment.body == "<p>Original</p>" and not CommentRevision.objects.exists()


def test_others_cannot_edit_or_delete(client, question, user, other_user, post_comment):
    comment = post_comment(question=question, author=user, body="Mine")
    client.force_login(other_user)
    assert client.get(edit_url(comment)).status_code == 403
    assert client.post(edit_url(comment), {"body": "Hijack", "parent": ""}).status_code == 403
    assert client.post(delete_url(comment)).status_code == 403
    comment.refresh_from_db()
    assert comment.body == "<p>Mine</p>" and comment.status == Comment.Status.PUBLISHED
    with pytest.raises(PermissionDenied):
        services.comment_edit(comment=comment, by=other_user, body="x", objectives=[])
    with pytest.raises(PermissionDenied):
        services.comment_delete(comment=comment, by=other_user)


def test_author_cannot_edit_once_the_consultation_is_closed(
    client, make_consultation, user, post_comment
):
    consultation = make_consultation()
    question = Question.objects.create(consultation=consultation, number=1, text="Q?")
    comment = post_comment(question=question, author=user, body="Before closing")
    now = timezone.now()
    Consultation.objects.filter(pk=consultation.pk).update(
        opens_at=now - timedelta(days=30), closes_at=now - timedelta(days=1)
    )
    client.force_login(user)
    assert client.get(edit_url(comment)).status_code == 403
    comment.refresh_from_db()
    assert comment.body == "<p>Before closing</p>"


def test_moderator_edit_is_logged_with_a_note_and_history_is_visible(
    client, question, user, moderator, post_comment
):
    comment = post_comment(question=question, author=user, body="Phone: 555 0100")
    client.force_login(moderator)

    client.post(
        edit_url(comment),
        {"body": "Phone: [removed]", "parent": "", "note": "Personal data removed"},
    )

    action = ModerationAction.objects.get()
    assert (action.kind, action.note, action.actor) == ("edit", "Personal data removed", moderator)
    history = client.get(f"/consultations/comments/{comment.pk}/moderate/").content.decode()
    assert "Phone: 555 0100" in history and "Phone: [removed]" in history


def test_author_deletes_replies_stay_and_record_is_kept(
    client, consultation, question, user, other_user, post_comment
):
    root = post_comment(question=question, author=user, body="Withdrawn words")
    reply = post_comment(question=question, author=other_user, body="A reply", parent=root)
    client.force_login(user)

    assert client.get(delete_url(root)).status_code == 200  # a confirmation page
    response = client.post(delete_url(root))

    assert response.status_code == 302
    root.refresh_from_db()
    assert root.status == Comment.Status.DELETED
    assert root.body == "<p>Withdrawn words</p>"  # kept for the moderators
    assert Comment.objects.count() == 2
    page = client.get(consultation.get_absolute_url()).content.decode()
    assert "Deleted by the author" in page and "Withdrawn words" not in page
    assert "A reply" in page and f'id="comment-{reply.pk}"' in page


def test_deleting_a_parent_never_removes_other_peoples_replies(
    question, user, other_user, post_comment
):
    root = post_comment(question=question, author=user)
    post_comment(question=question, author=other_user, parent=root)
    services.comment_delete(comment=root, by=user)
    assert Comment.objects.filter(author=other_user, status=Comment.Status.PUBLISHED).count() == 1


def test_deleted_comment_takes_no_replies(client, question, user, other_user, post_comment):
    root = post_comment(question=question, author=user)
    services.comment_delete(comment=root, by=user)
    client.force_login(other_user)
    response = client.post(
        f"/consultations/{question.consultation.slug}/questions/1/comment/",
        {"body": "Late reply", "parent": str(root.pk)},
    )
    assert response.status_code == 400
    assert "deleted by its author" in response.content.decode()
