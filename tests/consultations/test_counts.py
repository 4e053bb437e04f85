"""A question's counts, stored by every write (consultations.counts) and read by the pages."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consultations import counts, services
from consultations.models import Question

pytestmark = pytest.mark.django_db


def _stored(question) -> dict:
    question = Question.objects.get(pk=question.pk)
    return {field: getattr(question, field) for field in counts.EMPTY}


def _assert_counts(question, *, comments, participants, threads) -> None:
    stored = _stored(question)
    assert stored == counts.counted([question.pk]).get(question.pk, counts.EMPTY)
    assert (stored["comment_count"], stored["participant_count"], stored["thread_count"]) == (
        comments,
        participants,
        threads,
    )


def test_every_write_leaves_the_counts_of_the_comments(
    question, user, other_user, moderator, post_comment
):
    _assert_counts(question, comments=0, participants=0, threads=0)
    root = post_comment(question=question, author=user)
    reply = post_comment(question=question, author=other_user, parent=root)
    second = post_comment(question=question, author=user)
    _assert_counts(question, comments=3, participants=2, threads=2)
    assert _stored(question)["latest_comment_at"] == second.created_at

    services.comment_hide(comment=reply, by=moderator, reason="spam")
    _assert_counts(question, comments=2, participants=1, threads=2)
    services.comment_restore(comment=reply, by=moderator)
    _assert_counts(question, comments=3, participants=2, threads=2)
    services.comment_delete(comment=second, by=user)
    # Deleted comments are not counted as published; their thread stays (its replies would).
    _assert_counts(question, comments=2, participants=2, threads=2)
    assert _stored(question)["latest_comment_at"] == reply.created_at
    services.comment_move(comment=reply, new_parent=None, by=moderator)
    _assert_counts(question, comments=2, participants=2, threads=3)


def test_a_refused_write_leaves_the_counts_alone(question, user, post_comment):
    post_comment(question=question, author=user, body="Once")
    with pytest.raises(services.DuplicateComment):
        post_comment(question=question, author=user, body="Once")
    _assert_counts(question, comments=1, participants=1, threads=1)


def test_pages_read_the_counts_with_the_question(client, question, user, make_user, post_comment):
    url = f"{question.consultation.get_absolute_url()}questions/{question.number}/"
    for n in range(3):
        post_comment(question=question, author=make_user(), body=f"Comment {n}")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(60):
        post_comment(question=question, author=make_user(), body=f"More {n}")
    client.get(url)
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert len(few) == len(many)
    assert "63 comments" in html and "63 participants" in html
    # No query counts the question's comments: the page reads the stored counts.
    assert not [q for q in many.captured_queries if "COUNT(DISTINCT" in q["sql"]]
