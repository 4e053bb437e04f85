"""Posting limits per author and the refusal of a repeated post."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consultations import services
from consultations.models import Comment

pytestmark = pytest.mark.django_db


def post(client, question, body, **extra):
    url = f"/consultations/{question.consultation.slug}/questions/{question.number}/comment/"
    return client.post(url, {"body": body, "parent": "", **extra})


def test_sixth_comment_in_a_minute_gets_429_with_the_text_kept(client, settings, question, user):
    settings.COMMENT_RATE_LIMITS = ["5/m", "60/d"]
    client.force_login(user)
    for n in range(5):
        assert post(client, question, f"Comment number {n}").status_code == 302

    response = post(client, question, "The sixth one", objectives=["4"])

    html = response.content.decode()
    assert response.status_code == 429
    assert "at most 5 comments a minute" in html
    assert "The sixth one</textarea>" in html and 'value="4" checked' in html
    assert 'type="submit"' in html  # the form stays usable
    assert Comment.objects.count() == 5


def test_posting_is_allowed_again_once_the_minute_has_passed(client, settings, question, user):
    settings.COMMENT_RATE_LIMITS = ["5/m"]
    client.force_login(user)
    for n in range(5):
        post(client, question, f"Earlier {n}")
    Comment.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    assert post(client, question, "After a pause").status_code == 302


def test_daily_limit_applies_too(client, settings, question, user, post_comment):
    settings.COMMENT_RATE_LIMITS = ["5/m", "3/d"]
    for n in range(3):
        post_comment(question=question, author=user, body=f"Today {n}")
    Comment.objects.update(created_at=timezone.now() - timedelta(hours=2))
    client.force_login(user)
    response = post(client, question, "Fourth today")
    assert response.status_code == 429 and "at most 3 comments a day" in response.content.decode()


def test_limits_are_per_author(client, settings, question, user, other_user, post_comment):
    settings.COMMENT_RATE_LIMITS = ["1/m"]
    post_comment(question=question, author=other_user, body="Someone else posted")
    client.force_login(user)
    assert post(client, question, "My first").status_code == 302


def test_same_text_again_in_the_same_consultation_is_refused_with_a_link(
    client, question, question2, user
):
    client.force_login(user)
    post(client, question, "We support the proposal.")
    first = Comment.objects.get()

    response = post(client, question2, "We support the proposal.")

    html = response.content.decode()
    assert response.status_code == 400
    assert "already posted this text" in html
    assert f'href="/consultations/c/{first.pk}/"' in html
    assert Comment.objects.count() == 1


def test_same_text_by_someone_else_or_elsewhere_is_fine(
    client, question, make_consultation, user, other_user, post_comment
):
    from consultations.models import Question

    post_comment(question=question, author=other_user, body="Agreed.")
    other = Question.objects.create(consultation=make_consultation(), number=1, text="Q?")
    post_comment(question=other, author=user, body="Agreed.")
    client.force_login(user)
    assert post(client, question, "Agreed.").status_code == 302


def test_rate_limited_page_says_why_rather_than_asking_for_corrections(
    client, settings, question, user
):
    settings.COMMENT_RATE_LIMITS = ["1/m"]
    client.force_login(user)
    post(client, question, "First")
    html = post(client, question, "Second").content.decode()
    assert "posting faster than the consultation allows" in html
    assert "Please correct the problems below" not in html


def test_a_rate_limited_post_is_refused_before_its_body_is_parsed(
    client, settings, question, user, monkeypatch
):
    settings.COMMENT_RATE_LIMITS = ["1/m"]
    client.force_login(user)
    assert post(client, question, "The one comment allowed").status_code == 302
    parsed = []
    real = services.sanitize_comment
    monkeypatch.setattr(
        services, "sanitize_comment", lambda text: parsed.append(text) or real(text)
    )

    response = post(client, question, "<b>" * 3000 + "heavy markup")

    assert response.status_code == 429
    assert parsed == []  # refused on a count of rows, without sanitising anything
    assert "heavy markup</textarea>" in response.content.decode()


def test_a_post_is_sanitised_once_per_request(client, question, user, monkeypatch):
    client.force_login(user)
    parsed = []
    real = services.sanitize_comment
    monkeypatch.setattr(
        services, "sanitize_comment", lambda text: parsed.append(text) or real(text)
    )

    assert post(client, question, "Once is <em>enough</em>.").status_code == 302

    assert len(parsed) == 1
    assert Comment.objects.get().body == "<p>Once is <em>enough</em>.</p>"


def test_a_body_that_is_empty_once_sanitised_is_an_error_on_the_body_field(client, question, user):
    client.force_login(user)
    response = post(client, question, "<p> </p><b> </b><em></em>")
    assert response.status_code == 400
    assert response.context["form"].errors["body"] == ["Write your comment before posting it."]
    assert Comment.objects.count() == 0


def test_the_length_limit_counts_a_browsers_cr_lf_as_one_character(
    client, settings, question, user
):
    # A textarea's maxlength counts a line break as one character; the browser sends CR LF.
    typed = "x" + "\n".join(["x" * 99] * (settings.COMMENT_MAX_LENGTH // 100))
    assert len(typed) == settings.COMMENT_MAX_LENGTH
    client.force_login(user)

    response = post(client, question, typed.replace("\n", "\r\n"))

    assert response.status_code == 302
    assert Comment.objects.count() == 1
    one_more = post(client, question, "y" + typed.replace("\n", "\r\n"))
    assert one_more.status_code == 400
    assert "20,001 characters long" in one_more.content.decode()
