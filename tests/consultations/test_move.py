"""Moving a comment with its replies: the service, its checks, the log, and the admin page."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from consultations import services, trees
from consultations.models import Comment, ModerationAction

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(question, user, other_user, post_comment):
    """Two threads: a (b (c), d) and e."""
    a = post_comment(question=question, author=user, body="A")
    b = post_comment(question=question, author=other_user, body="B", parent=a)
    c = post_comment(question=question, author=user, body="C", parent=b)
    d = post_comment(question=question, author=other_user, body="D", parent=a)
    e = post_comment(question=question, author=user, body="E")
    return a, b, c, d, e


def positions():
    return {
        pk: (tree_id, lft, rght, level)
        for pk, tree_id, lft, rght, level in Comment.objects.values_list(
            "pk", "tree_id", "lft", "rght", "level"
        )
    }


def assert_trees_consistent():
    result = trees.check_trees()
    assert result.ok, result.corrupt


def test_move_takes_the_replies_along_into_another_thread(thread, moderator):
    a, b, c, d, e = thread
    services.comment_move(comment=b, new_parent=e, by=moderator, note="Fits better here")

    pos = positions()
    assert pos[e.pk] == (e.tree_id, 1, 6, 0)
    assert pos[b.pk] == (e.tree_id, 2, 5, 1)
    assert pos[c.pk] == (e.tree_id, 3, 4, 2)
    # The old thread closes the gap.
    assert pos[a.pk] == (a.tree_id, 1, 4, 0)
    assert pos[d.pk] == (a.tree_id, 2, 3, 1)
    b.refresh_from_db()
    assert b.parent_id == e.pk
    assert_trees_consistent()


def test_move_to_the_top_level_opens_a_new_thread(thread, moderator):
    a, b, c, d, e = thread
    services.comment_move(comment=b, new_parent=None, by=moderator)

    b.refresh_from_db()
    c.refresh_from_db()
    assert b.parent_id is None and b.level == 0 and (b.lft, b.rght) == (1, 4)
    assert c.tree_id == b.tree_id and c.level == 1
    assert b.tree_id not in {a.tree_id, e.tree_id}
    assert_trees_consistent()


def test_move_within_its_thread_and_a_whole_thread_under_another(thread, moderator):
    a, b, c, d, e = thread
    services.comment_move(comment=c, new_parent=d, by=moderator)
    services.comment_move(comment=e, new_parent=c, by=moderator)

    c.refresh_from_db()
    e.refresh_from_db()
    assert c.parent_id == d.pk and c.level == 2
    assert e.parent_id == c.pk and e.level == 3 and e.tree_id == a.tree_id
    assert Comment.objects.filter(parent=None).count() == 1
    assert_trees_consistent()


def test_move_is_logged_with_where_from_and_where_to(thread, moderator):
    a, b, c, d, e = thread
    services.comment_move(comment=b, new_parent=e, by=moderator, note="Off-topic in A")
    services.comment_move(comment=b, new_parent=None, by=moderator)

    first, second = ModerationAction.objects.order_by("pk")
    assert (first.kind, first.actor, first.comment) == (ModerationAction.Kind.MOVE, moderator, b)
    assert first.note == f"moved from under #{a.pk} to under #{e.pk}\nOff-topic in A"
    assert second.note == f"moved from under #{e.pk} to top level"


@pytest.mark.parametrize("target", ["itself", "descendant"])
def test_move_under_itself_or_its_own_reply_is_refused(thread, moderator, target):
    a, b, c, d, e = thread
    before = positions()
    with pytest.raises(ValidationError):
        services.comment_move(comment=b, new_parent=b if target == "itself" else c, by=moderator)
    assert positions() == before
    assert not ModerationAction.objects.exists()


def test_move_to_another_question_is_refused(thread, moderator, question2, user, post_comment):
    a, b, c, d, e = thread
    elsewhere = post_comment(question=question2, author=user, body="Other question")
    before = positions()
    with pytest.raises(ValidationError):
        services.comment_move(comment=b, new_parent=elsewhere, by=moderator)
    assert positions() == before


def test_move_to_where_it_is_or_under_a_hidden_comment_is_refused(thread, moderator):
    a, b, c, d, e = thread
    services.comment_hide(comment=e, by=moderator, reason="spam")
    for target in (a, e):
        with pytest.raises(ValidationError):
            services.comment_move(comment=b, new_parent=target, by=moderator)
    with pytest.raises(ValidationError):
        services.comment_move(comment=a, new_parent=None, by=moderator)
    assert not ModerationAction.objects.filter(kind=ModerationAction.Kind.MOVE).exists()


def test_move_by_someone_without_moderation_rights_is_refused(thread, user, staff_user):
    a, b, c, d, e = thread
    before = positions()
    for person in (user, staff_user):
        with pytest.raises(PermissionDenied):
            services.comment_move(comment=b, new_parent=e, by=person)
    assert positions() == before


def test_move_keeps_a_status_changed_since_the_comment_was_read(thread, moderator):
    a, b, c, d, e = thread
    stale = Comment.objects.get(pk=b.pk)
    services.comment_hide(comment=b, by=moderator, reason="spam")
    services.comment_move(comment=stale, new_parent=e, by=moderator)
    b.refresh_from_db()
    assert b.status == Comment.Status.HIDDEN and b.parent_id == e.pk


def test_reply_to_a_parent_moved_since_it_was_read_lands_in_its_new_thread(
    thread, moderator, user, question, post_comment
):
    a, b, c, d, e = thread
    stale_b = Comment.objects.get(pk=b.pk)
    services.comment_move(comment=b, new_parent=e, by=moderator)
    reply = post_comment(question=question, author=user, body="Late reply", parent=stale_b)
    assert reply.tree_id == e.tree_id and reply.level == 2
    assert_trees_consistent()


def move_url(comment):
    return f"/admin/consultations/comment/{comment.pk}/move/"


def test_admin_change_page_links_to_the_move_page(client, thread, moderator):
    a, b, c, d, e = thread
    client.force_login(moderator)
    html = client.get(f"/admin/consultations/comment/{b.pk}/change/").content.decode()
    assert f'href="{move_url(b)}"' in html and "Move this comment" in html


def test_admin_move_page_offers_only_targets_outside_the_subtree(client, thread, moderator):
    a, b, c, d, e = thread
    client.force_login(moderator)
    response = client.get(move_url(b))
    assert response.status_code == 200
    options = {o.pk for o in response.context["form"].fields["new_parent"].queryset}
    assert options == {a.pk, d.pk, e.pk}


def test_admin_moves_a_comment_for_a_moderator(client, thread, moderator):
    a, b, c, d, e = thread
    client.force_login(moderator)
    response = client.post(move_url(b), {"new_parent": str(e.pk), "note": "Belongs to E"})
    assert response.status_code == 302
    assert response["Location"] == f"/admin/consultations/comment/{b.pk}/change/"
    b.refresh_from_db()
    assert b.parent_id == e.pk
    action = ModerationAction.objects.get()
    assert action.actor == moderator and action.note.endswith("Belongs to E")

    response = client.post(move_url(b), {"new_parent": "", "note": ""})
    b.refresh_from_db()
    assert response.status_code == 302 and b.parent_id is None
    assert_trees_consistent()


def test_admin_move_shows_the_services_refusal(client, thread, moderator):
    a, b, c, d, e = thread
    client.force_login(moderator)
    response = client.post(move_url(b), {"new_parent": str(a.pk)})
    assert response.status_code == 200
    assert "already under" in response.content.decode()


def test_admin_move_is_refused_without_the_change_permission(client, thread, staff_user):
    a, b, c, d, e = thread
    client.force_login(staff_user)
    assert client.get(move_url(b)).status_code == 403
    assert client.post(move_url(b), {"new_parent": str(e.pk)}).status_code == 403
    b.refresh_from_db()
    assert b.parent_id == a.pk


def test_admin_move_needs_the_csrf_token(thread, moderator):
    from django.test import Client

    a, b, c, d, e = thread
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    assert client.post(move_url(b), {"new_parent": str(e.pk)}).status_code == 403
    b.refresh_from_db()
    assert b.parent_id == a.pk


def test_admin_cannot_delete_a_comment(client, thread, moderator):
    a, b, c, d, e = thread
    client.force_login(moderator)
    assert client.get(f"/admin/consultations/comment/{d.pk}/delete/").status_code == 403
    response = client.post(
        "/admin/consultations/comment/",
        {"action": "delete_selected", "_selected_action": [d.pk], "post": "yes"},
    )
    assert Comment.objects.filter(pk=d.pk).exists()
    assert "delete_selected" not in client.get("/admin/consultations/comment/").content.decode()
    assert response.status_code in (200, 302)
