"""The hide and report forms: nothing decided for the moderator, questions as fieldset legends."""

import re

import pytest

from consultations.models import Comment

pytestmark = pytest.mark.django_db


def _moderate_url(comment):
    return f"/consultations/comments/{comment.pk}/moderate/"


def _select(html: str, name: str) -> str:
    return re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)


def test_hide_form_preselects_no_reason(client, question, user, moderator, post_comment):
    comment = post_comment(question=question, author=user)
    client.force_login(moderator)

    select = _select(client.get(_moderate_url(comment)).content.decode(), "reason")

    assert re.search(r'<option value="" selected>Choose a reason…</option>', select)
    assert select.count("selected") == 1
    assert "required" in select


def test_hide_without_a_reason_shows_the_error_and_keeps_the_note(
    client, question, user, moderator, post_comment
):
    comment = post_comment(question=question, author=user)
    client.force_login(moderator)

    response = client.post(
        _moderate_url(comment), {"action": "hide", "reason": "", "note": "Looks like an advert"}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose why the comment is hidden." in html
    assert "Looks like an advert</textarea>" in html
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED


def test_report_question_is_a_legend_over_radios_each_inside_its_label(
    client, question, user, other_user, post_comment
):
    comment = post_comment(question=question, author=other_user)
    client.force_login(user)

    html = client.get(f"/consultations/comments/{comment.pk}/report/").content.decode()

    fieldset = re.search(r"<fieldset.*?</fieldset>", html, re.S).group(0)
    assert "<legend>Why should the moderators look at this comment?</legend>" in fieldset
    labels = re.findall(r'<label class="choice-label" for="(id_reason_\d)">(.*?)</label>', fieldset)
    assert [re.sub(r"<[^>]+>", "", text).strip() for _, text in labels] == [
        "Spam",
        "Offensive",
        "Off-topic",
        "Other",
    ]
    for input_id, text in labels:
        assert 'type="radio" name="reason" value=' in text and f'id="{input_id}"' in text
    assert "checked" not in fieldset


def test_report_without_a_reason_points_the_fieldset_at_its_error(
    client, question, user, other_user, post_comment
):
    comment = post_comment(question=question, author=other_user)
    client.force_login(user)

    html = client.post(
        f"/consultations/comments/{comment.pk}/report/", {"reason": "", "details": "x"}
    ).content.decode()

    assert '<fieldset class="choice-group" aria-describedby="id_reason_error">' in html
    assert '<div class="field__error" id="id_reason_error"><p>Choose a reason.</p>' in html
