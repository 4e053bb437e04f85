import pytest

from consultations import services
from consultations.models import Comment, Report


@pytest.fixture
def thread(question, user, other_user, post_comment, moderator):
    """A thread with a reply, a hidden reply (reported, with a moderation note) and a deleted
    comment: what the API must show, and what it must not."""
    root = post_comment(
        question=question, author=user, body="Birth registration first.", objectives=[4]
    )
    reply = post_comment(
        question=question, author=other_user, body="And legal identity.", parent=root
    )
    hidden = post_comment(
        question=question, author=other_user, body="SECRET-HIDDEN-TEXT", parent=root
    )
    Report.objects.create(
        comment=hidden, reporter=user, reason="spam", details="SECRET-REPORT-DETAILS"
    )
    services.comment_hide(comment=hidden, by=moderator, reason="spam", note="SECRET-MOD-NOTE")
    gone = post_comment(question=question, author=user, body="SECRET-DELETED-TEXT")
    services.comment_delete(comment=gone, by=user)
    return {"root": root, "reply": reply, "hidden": Comment.objects.get(pk=hidden.pk), "gone": gone}
