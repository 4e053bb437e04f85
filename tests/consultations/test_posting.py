"""Posting comments and replies: the login gate, validation that keeps the text, closed periods."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils.html import escape

from consultations import services
from consultations.models import Comment, Question

pytestmark = pytest.mark.django_db


def comment_url(question):
    return f"/consultations/{question.consultation.slug}/questions/{question.number}/comment/"


def post(client, question, **data):
    data = {"body": "", "objectives": [], "parent": "", **data}
    return client.post(comment_url(question), data)


def test_anonymous_post_saves_nothing_and_leads_to_login(client, question):
    response = post(client, question, body="I was not logged in")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "question-1" in response["Location"]
    assert Comment.objects.count() == 0


def test_anonymous_get_of_the_comment_page_leads_to_login(client, question):
    response = client.get(comment_url(question))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_logged_in_user_posts_a_top_level_comment_with_objectives(client, question, user):
    client.force_login(user)
    response = post(client, question, body="Birth registration first.", objectives=["4", "10"])

    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/consultations/c/{comment.pk}/"
    assert comment.author == user and comment.parent is None and comment.level == 0
    assert comment.body == "<p>Birth registration first.</p>"
    assert sorted(comment.objectives.values_list("number", flat=True)) == [4, 10]
    page = client.get(response["Location"], follow=True).content.decode()
    assert "Your comment has been posted." in page
    assert "Birth registration first." in page


def test_reply_and_reply_to_a_reply_nest_in_the_same_tree(
    client, question, user, other_user, post_comment
):
    root = post_comment(question=question, author=other_user, body="Root")
    client.force_login(user)
    post(client, question, body="First reply", parent=str(root.pk))
    reply = Comment.objects.get(body="<p>First reply</p>")
    client.force_login(other_user)
    post(client, question, body="Reply to the reply", parent=str(reply.pk))
    deeper = Comment.objects.get(body="<p>Reply to the reply</p>")

    assert reply.parent == root and deeper.parent == reply
    assert {root.tree_id, reply.tree_id, deeper.tree_id} == {root.tree_id}
    assert (reply.level, deeper.level) == (1, 2)
    root.refresh_from_db()
    assert root.get_descendant_count() == 2


def test_each_top_level_comment_is_its_own_tree(question, user, post_comment):
    first = post_comment(question=question, author=user, body="One")
    second = post_comment(question=question, author=user, body="Two")
    reply = post_comment(question=question, author=user, body="Reply", parent=first)
    second.refresh_from_db()
    assert first.tree_id != second.tree_id
    assert (second.lft, second.rght) == (1, 2)  # the reply did not touch the other thread
    assert reply.tree_id == first.tree_id


def test_reply_page_shows_the_comment_being_answered(
    client, question, user, other_user, post_comment
):
    root = post_comment(question=question, author=other_user, body="What about identity?")
    client.force_login(user)
    response = client.get(comment_url(question) + f"?parent={root.pk}")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Reply to Jonas Berg" in html and "What about identity?" in html
    assert f'name="parent" value="{root.pk}"' in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"body": ""}, "Write your comment before posting it."),
        ({"body": "   \n  "}, "Write your comment before posting it."),
        ({"body": "<img src=x>"}, "Write your comment before posting it."),
        ({"body": "x" * 20_001}, "the limit is 20,000"),
        ({"body": "Kept text", "objectives": ["4", "99"]}, "There is no GCM objective 99"),
        ({"body": "Kept text", "objectives": ["four"]}, "is not an objective number"),
        ({"body": "Kept text", "parent": "999999"}, "does not exist"),
    ],
    ids=[
        "empty",
        "blank",
        "nothing-left",
        "too-long",
        "unknown-objective",
        "bad-objective",
        "missing-parent",
    ],
)
def test_invalid_input_shows_the_form_again_keeping_the_text_and_saves_nothing(
    client, question, user, data, message
):
    client.force_login(user)
    response = post(client, question, **data)
    html = response.content.decode()

    assert response.status_code == 400
    assert message in html
    assert Comment.objects.count() == 0
    if data["body"].strip() and len(data["body"]) < 100:
        assert f">{escape(data['body'])}</textarea>" in html
    assert 'value="4" checked' in html or "4" not in data.get("objectives", [])


def test_a_body_of_exactly_20000_characters_is_accepted(client, question, user):
    client.force_login(user)
    response = post(client, question, body="y" * 20_000)
    assert response.status_code == 302
    assert Comment.objects.count() == 1


def test_parent_from_another_question_is_refused(
    client, question, question2, user, other_user, post_comment
):
    elsewhere = post_comment(question=question2, author=other_user, body="Elsewhere")
    client.force_login(user)
    response = post(client, question, body="Misplaced reply", parent=str(elsewhere.pk))
    assert response.status_code == 400
    assert "belongs to another question" in response.content.decode()
    assert "Misplaced reply</textarea>" in response.content.decode()
    assert Comment.objects.count() == 1


def test_reply_to_a_hidden_comment_is_refused(
    client, question, user, other_user, moderator, post_comment
):
    hidden = post_comment(question=question, author=other_user, body="Spam")
    services.comment_hide(comment=hidden, by=moderator, reason="spam")
    client.force_login(user)
    response = post(client, question, body="Replying anyway", parent=str(hidden.pk))
    assert response.status_code == 400
    assert "has been hidden" in response.content.decode()
    assert Comment.objects.count() == 1


def test_unverified_user_cannot_post(client, question, unverified_user):
    client.force_login(unverified_user)
    response = post(client, question, body="Not yet verified")
    html = response.content.decode()
    assert response.status_code == 403
    assert "Confirm your email address" in html
    assert "Not yet verified</textarea>" in html
    assert Comment.objects.count() == 0


@pytest.mark.parametrize("state", ["closed", "upcoming"])
def test_post_to_a_closed_or_upcoming_consultation_is_refused_and_saves_nothing(
    client, make_consultation, user, state
):
    consultation = make_consultation(state=state)
    question = Question.objects.create(consultation=consultation, number=1, text="Q?")
    client.force_login(user)
    response = post(client, question, body="Too late or too early")
    html = response.content.decode()
    assert response.status_code == 403
    assert ("is closed" in html) if state == "closed" else ("not open for comments yet" in html)
    assert "Too late or too early</textarea>" in html  # kept so the user can copy it
    assert 'type="submit" class="button">Post' not in html
    assert Comment.objects.count() == 0


def test_post_to_an_unpublished_consultation_is_not_found(client, make_consultation, user):
    consultation = make_consultation(is_published=False)
    question = Question.objects.create(consultation=consultation, number=1, text="Q?")
    client.force_login(user)
    assert post(client, question, body="Hello").status_code == 404
    assert Comment.objects.count() == 0


def test_post_without_csrf_token_is_refused(question, user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(comment_url(question), {"body": "No token", "parent": ""})
    assert response.status_code == 403
    assert Comment.objects.count() == 0


def test_the_body_is_stored_sanitised(client, question, user):
    client.force_login(user)
    post(client, question, body='Hi <script>alert(1)</script><a href="javascript:x()">y</a>')
    assert Comment.objects.get().body == "<p>Hi alert(1)y</p>"


# The service enforces the same rules when called directly, whatever the view did.


def test_service_refuses_an_unverified_author(question, unverified_user):
    with pytest.raises(PermissionDenied):
        services.comment_create(question=question, author=unverified_user, body="x")
    assert Comment.objects.count() == 0


def test_service_refuses_a_closed_consultation(make_consultation, user):
    question = Question.objects.create(
        consultation=make_consultation(state="closed"), number=1, text="Q?"
    )
    with pytest.raises(services.PostingClosed):
        services.comment_create(question=question, author=user, body="x")


def test_service_refuses_a_parent_from_another_question(question, question2, user, post_comment):
    elsewhere = post_comment(question=question2, author=user, body="Elsewhere")
    with pytest.raises(ValidationError):
        services.comment_create(question=question, author=user, body="x", parent=elsewhere)
    assert Comment.objects.count() == 1


def test_service_refuses_an_over_long_body(question, user):
    with pytest.raises(ValidationError):
        services.comment_create(question=question, author=user, body="x" * 20_001)


def test_refused_form_opens_other_objectives_only_when_one_of_them_was_ticked(
    client, question, user
):
    client.force_login(user)
    in_focus = post(client, question, body="", objectives=["4"]).content.decode()
    outside = post(client, question, body="", objectives=["15"]).content.decode()
    assert '<details class="more-objectives">' in in_focus
    assert '<details class="more-objectives" open>' in outside
    assert 'value="15" checked' in outside
