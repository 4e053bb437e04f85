"""Moderators' admin: the Moderators group, consultations with questions, comment trees, actions."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

from consultations import services
from consultations.models import Comment, Consultation, Objective, Question

pytestmark = pytest.mark.django_db


def test_moderators_group_manages_consultations_questions_and_comments_not_users():
    codenames = set(
        Group.objects.get(name="Moderators").permissions.values_list("codename", flat=True)
    )
    for model in ("consultation", "question", "comment"):
        assert {f"add_{model}", f"change_{model}", f"delete_{model}", f"view_{model}"} <= codenames
    assert not any(c.endswith("_user") or c.endswith("_group") for c in codenames)


def test_moderator_opens_every_admin_page(client, moderator, consultation, question, post_comment):
    post_comment(question=question, author=moderator, body="A comment")
    client.force_login(moderator)
    for url in (
        "/admin/",
        "/admin/consultations/consultation/",
        f"/admin/consultations/consultation/{consultation.pk}/change/",
        "/admin/consultations/consultation/add/",
        "/admin/consultations/comment/",
        f"/admin/consultations/comment/{Comment.objects.get().pk}/change/",
    ):
        assert client.get(url).status_code == 200, url


def test_moderator_cannot_manage_users(client, moderator):
    client.force_login(moderator)
    assert client.get("/admin/accounts/user/").status_code == 403


def test_consultation_admin_links_to_the_csv_export(client, moderator, consultation):
    client.force_login(moderator)
    html = client.get(f"/admin/consultations/consultation/{consultation.pk}/change/").content
    assert f"/consultations/{consultation.slug}/export.csv".encode() in html


def test_moderator_creates_a_consultation_with_numbered_questions(client, moderator):
    client.force_login(moderator)
    focus = Objective.objects.filter(number__in=[4, 8])
    response = client.post(
        "/admin/consultations/consultation/add/",
        {
            "title": "Pathways review",
            "slug": "pathways-review",
            "description": "Intro <script>alert(1)</script>\n\nSecond paragraph",
            "is_published": "on",
            "language": "en",
            "licence": "cc-by-4.0",  # the admin's select always sends one
            "opens_at_0": "2026-01-01",
            "opens_at_1": "09:00:00",
            "closes_at_0": "2026-02-01",
            "closes_at_1": "17:00:00",
            "objectives": [o.pk for o in focus],
            "moderators": [moderator.pk],
            "questions-TOTAL_FORMS": "2",
            "questions-INITIAL_FORMS": "0",
            "questions-MIN_NUM_FORMS": "0",
            "questions-MAX_NUM_FORMS": "1000",
            "questions-0-number": "2",
            "questions-0-text": "Second question?",
            "questions-0-created_at_0": "2026-01-01",
            "questions-0-created_at_1": "09:00:00",
            "questions-1-number": "1",
            "questions-1-text": "First question?",
            "questions-1-created_at_0": "2026-01-01",
            "questions-1-created_at_1": "09:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    consultation = Consultation.objects.get(slug="pathways-review")
    # The description is sanitised on write.
    assert consultation.description == "<p>Intro alert(1)</p>\n<p>Second paragraph</p>"
    assert [q.number for q in consultation.questions.all()] == [1, 2]
    assert all(q.created_by == moderator for q in consultation.questions.all())
    assert set(consultation.objectives.values_list("number", flat=True)) == {4, 8}


def test_comment_admin_lists_comments_in_tree_order_indented(
    client, moderator, question, user, other_user, post_comment
):
    first = post_comment(question=question, author=user, body="First root")
    second = post_comment(question=question, author=user, body="Second root")
    reply = post_comment(question=question, author=other_user, body="Reply to first", parent=first)
    client.force_login(moderator)
    html = client.get("/admin/consultations/comment/").content.decode()
    assert html.index("First root") < html.index("Reply to first") < html.index("Second root")
    # The reply's excerpt is indented one level (24px) more than a top-level one (8px).
    assert 'field-excerpt" style="padding-left:32px"><a' in html
    assert 'field-excerpt" style="padding-left:8px"><a' in html
    assert reply.level == 1 and second.level == 0


@pytest.mark.parametrize(
    "query",
    [
        "question__consultation__id__exact={consultation}",
        "question={question}",
        "objectives__id__exact={objective}",
        "status__exact=published",
    ],
)
def test_comment_admin_filters(client, moderator, question, user, post_comment, query):
    post_comment(question=question, author=user, body="Tagged", objectives=[10])
    client.force_login(moderator)
    url = "/admin/consultations/comment/?" + query.format(
        consultation=question.consultation_id,
        question=question.pk,
        objective=Objective.objects.get(number=10).pk,
    )
    response = client.get(url)
    assert response.status_code == 200
    assert "Tagged" in response.content.decode()


def test_hide_and_restore_actions_change_status_only(
    client, moderator, question, user, other_user, post_comment
):
    root = post_comment(question=question, author=user, body="Root")
    reply = post_comment(question=question, author=other_user, body="Reply", parent=root)
    tree_before = list(Comment.objects.values_list("pk", "tree_id", "lft", "rght", "level"))
    client.force_login(moderator)

    response = client.post(
        "/admin/consultations/comment/",
        {"action": "hide_as_off_topic", "_selected_action": [root.pk]},
        follow=True,
    )
    assert "1 comment hidden." in response.content.decode()
    root.refresh_from_db()
    reply.refresh_from_db()
    assert root.status == Comment.Status.HIDDEN and reply.status == Comment.Status.PUBLISHED
    assert root.hidden_reason == "off_topic"

    client.post(
        "/admin/consultations/comment/",
        {"action": "restore_comments", "_selected_action": [root.pk]},
    )
    root.refresh_from_db()
    assert root.status == Comment.Status.PUBLISHED
    assert list(Comment.objects.values_list("pk", "tree_id", "lft", "rght", "level")) == (
        tree_before
    )


def test_hide_service_refuses_someone_without_moderation_rights(question, user, post_comment):
    comment = post_comment(question=question, author=user, body="Mine")
    with pytest.raises(PermissionDenied):
        services.comment_hide(comment=comment, by=user, reason="spam")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED


def test_staff_without_the_moderators_group_cannot_use_comment_admin(
    client, staff_user, question, user, post_comment
):
    post_comment(question=question, author=user, body="Text")
    client.force_login(staff_user)
    assert client.get("/admin/consultations/comment/").status_code == 403


def test_a_comment_with_replies_cannot_be_deleted_alone(question, user, post_comment):
    from django.db.models import RestrictedError

    root = post_comment(question=question, author=user, body="Root")
    post_comment(question=question, author=user, body="Reply", parent=root)
    with pytest.raises(RestrictedError):
        root.delete()
    assert Comment.objects.count() == 2


def test_deleting_a_question_removes_its_threads(question, user, post_comment):
    root = post_comment(question=question, author=user, body="Root")
    post_comment(question=question, author=user, body="Reply", parent=root)
    Question.objects.filter(pk=question.pk).delete()
    assert Comment.objects.count() == 0
