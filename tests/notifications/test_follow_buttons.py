"""The Follow buttons of consultation and question pages: POST forms with CSRF that work
without JavaScript and return to the page (a `next` on this site only)."""

import pytest
from django.test import Client
from django.urls import reverse

from notifications import follows
from notifications.models import Follow
from notifications.views import site_path

pytestmark = pytest.mark.django_db


def _follow_question_url(question):
    return reverse(
        "notifications:follow_question",
        kwargs={"slug": question.consultation.slug, "number": question.number},
    )


def _unfollow_question_url(question):
    return reverse(
        "notifications:unfollow_question",
        kwargs={"slug": question.consultation.slug, "number": question.number},
    )


def test_a_question_page_offers_follow_and_then_stop_following(client, question, user):
    client.force_login(user)
    page = question.consultation.get_absolute_url() + "questions/1/"
    html = client.get(page).content.decode()
    assert f'action="{_follow_question_url(question)}"' in html
    assert 'Follow<span class="visually-hidden"> question 1</span>' in html

    response = client.post(_follow_question_url(question), {"next": page + "?sort=newest"})
    assert response.status_code == 302 and response["Location"] == page + "?sort=newest"
    assert follows.is_following(user, question=question)
    html = client.get(page).content.decode()
    assert "You follow question 1 now." in html
    assert f'action="{_unfollow_question_url(question)}"' in html and "Stop following" in html

    client.post(_unfollow_question_url(question), {"next": page})
    assert not follows.is_following(user, question=question)
    assert Follow.objects.get(user=user, question=question).active is False


def test_the_consultation_page_has_a_button_for_it_and_each_question(
    client, question, question2, user
):
    consultation = question.consultation
    follows.follow(user, question=question2)
    client.force_login(user)
    html = client.get(consultation.get_absolute_url()).content.decode()
    follow_consultation = reverse("notifications:follow_consultation", args=[consultation.slug])
    assert f'action="{follow_consultation}"' in html
    assert f'action="{_follow_question_url(question)}"' in html
    assert f'action="{_unfollow_question_url(question2)}"' in html
    assert f'value="{consultation.get_absolute_url()}#question-2"' in html

    response = client.post(follow_consultation, {"next": consultation.get_absolute_url()})
    assert response["Location"] == consultation.get_absolute_url()
    assert follows.is_following(user, consultation=consultation)
    html = client.get(consultation.get_absolute_url()).content.decode()
    unfollow = reverse("notifications:unfollow_consultation", args=[consultation.slug])
    assert f'action="{unfollow}"' in html


def test_the_anonymous_see_a_link_to_log_in_and_their_post_follows_nothing(client, question):
    page = question.consultation.get_absolute_url() + "questions/1/"
    html = client.get(page).content.decode()
    assert "Log in to follow" in html and "follow-form" in html
    assert 'action="/notifications/follow' not in html
    response = client.post(_follow_question_url(question))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Follow.objects.exists()


def test_a_post_without_the_csrf_token_is_refused(question, user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(_follow_question_url(question)).status_code == 403
    assert not Follow.objects.exists()


def test_a_get_changes_nothing(client, question, user):
    client.force_login(user)
    assert client.get(_follow_question_url(question)).status_code == 405
    assert not Follow.objects.exists()


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example/path",
        "/\nLocation: https://evil.example/",
        "",
    ],
)
def test_a_next_off_the_site_goes_to_the_question_instead(client, question, user, next_url):
    client.force_login(user)
    response = client.post(_follow_question_url(question), {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == question.get_absolute_url()
    assert follows.is_following(user, question=question)


def test_site_path():
    assert site_path("/a/b/?c=1#d", "/x/") == "/a/b/?c=1#d"
    for bad in ("http://a/", "//a", "/\\a", "a/", "/\ta", None):
        assert site_path(bad, "/x/") == "/x/"


def test_an_unpublished_consultation_cannot_be_followed(client, question, user):
    consultation = question.consultation
    consultation.is_published = False
    consultation.save()
    client.force_login(user)
    assert client.post(_follow_question_url(question)).status_code == 404
    follow = reverse("notifications:follow_consultation", args=[consultation.slug])
    assert client.post(follow).status_code == 404
    assert not Follow.objects.exists()


def test_the_buttons_cost_one_query_whatever_is_followed(client, question, question2, user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    consultation = question.consultation
    client.force_login(user)

    def queries(url):
        client.get(url)  # stores the fragments, logs the visit
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return [q["sql"] for q in captured.captured_queries]

    urls = [consultation.get_absolute_url(), consultation.get_absolute_url() + "questions/1/"]
    before = [queries(url) for url in urls]
    follows.follow(user, consultation=consultation)
    follows.follow(user, question=question)
    follows.follow(user, question=question2)
    after = [queries(url) for url in urls]
    for few, many in zip(before, after, strict=True):
        assert len(few) == len(many)
        assert len([q for q in many if q.startswith('SELECT "notifications_follow"')]) == 1
