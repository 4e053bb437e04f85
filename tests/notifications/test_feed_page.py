"""The Notifications page (notifications/feed.py): replies to my comments and new comments in
what I follow, newest first, the unread marked, in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from consultations import services
from consultations.models import Comment
from notifications import feed, follows

pytestmark = pytest.mark.django_db

URL = "/notifications/"


def test_the_url():
    assert reverse("notifications:page") == URL


def test_replies_to_me_and_comments_in_what_i_follow_newest_first(
    client, question, question2, user, other_user, make_user, post_comment
):
    mine = post_comment(question=question, author=user, body="My own comment.")
    reply = post_comment(question=question, author=other_user, parent=mine, body="A reply to you.")
    # Not mine, not a reply to me, in a question I do not follow: not listed.
    post_comment(question=question2, author=other_user, body="Elsewhere.")
    follows.follow(user, question=question2)
    third = make_user(display_name="Chen Wei", stakeholder_type="civil_society")
    followed = post_comment(question=question2, author=third, body="In a followed question.")
    post_comment(question=question2, author=user, body="My own, in it: not listed.")

    client.force_login(user)
    html = client.get(URL).content.decode()
    assert "My own" not in html and "Elsewhere." not in html
    assert html.index("In a followed question.") < html.index("A reply to you.")
    assert f'href="{reply.get_absolute_url()}"' in html
    assert f'href="{followed.get_absolute_url()}"' in html
    assert "Jonas Berg replied to your comment" in html
    assert "Chen Wei commented on question 2" in html and "Civil society" in html
    assert question.consultation.title in html
    assert html.count('<span class="badge badge--new">New</span>') == 2


def test_hidden_and_deleted_comments_never_appear(
    client, question, user, other_user, moderator, post_comment
):
    mine = post_comment(question=question, author=user)
    hidden = post_comment(question=question, author=other_user, parent=mine, body="Hidden one.")
    deleted = post_comment(question=question, author=other_user, parent=mine, body="Gone one.")
    services.comment_hide(comment=hidden, by=moderator, reason="spam")
    services.comment_delete(comment=deleted, by=other_user)
    client.force_login(user)
    html = client.get(URL).content.decode()
    assert "Hidden one." not in html and "Gone one." not in html
    assert "Nothing yet." in html
    assert feed.unread_count(user) == 0


def test_an_unpublished_consultation_is_left_out(client, question, user, other_user, post_comment):
    mine = post_comment(question=question, author=user)
    post_comment(question=question, author=other_user, parent=mine, body="Not shown.")
    question.consultation.is_published = False
    question.consultation.save()
    client.force_login(user)
    assert "Not shown." not in client.get(URL).content.decode()


def test_comments_before_the_follow_are_not_new_to_the_feed(
    client, question, user, other_user, post_comment
):
    post_comment(question=question, author=other_user, body="Before I followed.")
    follows.follow(user, consultation=question.consultation)
    post_comment(question=question, author=other_user, body="After I followed.")
    client.force_login(user)
    html = client.get(URL).content.decode()
    assert "After I followed." in html and "Before I followed." not in html


def test_viewing_marks_them_read_after_showing_them_unread(
    client, question, user, other_user, post_comment
):
    mine = post_comment(question=question, author=user)
    post_comment(question=question, author=other_user, parent=mine, body="First reply.")
    client.force_login(user)
    assert feed.unread_count(user) == 1
    first = client.get(URL).content.decode()
    assert "badge--new" in first
    assert Profile.objects.get(user=user).notifications_seen_at is not None
    assert feed.unread_count(user) == 0
    second = client.get(URL).content.decode()
    assert "First reply." in second and "badge--new" not in second

    Profile.objects.filter(user=user).update(notifications_seen_at=timezone.now())
    post_comment(question=question, author=other_user, parent=mine, body="Second reply.")
    html = client.get(URL).content.decode()
    assert html.count("badge--new") == 1
    new = html.index("badge--new")
    assert html.index("Second reply.") > new > 0 and html.index("First reply.") > new
    seen = Profile.objects.get(user=user).notifications_seen_at
    assert timezone.now() - seen < timedelta(minutes=1)


def test_the_empty_page(client, user):
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    assert "Nothing yet." in response.content.decode()


def test_anonymous_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


_made = iter(range(10**6))


def _many_replies(question, user, authors, n):
    mine = Comment.objects.filter(author=user).first()
    for i in range(n):
        services.comment_create(
            question=question,
            author=authors[i % len(authors)],
            body=f"Reply {i}, made {next(_made)}.",
            parent=mine,
        )


def test_the_page_asks_a_fixed_number_of_queries(
    client, question, user, other_user, make_user, post_comment
):
    post_comment(question=question, author=user)
    authors = [other_user, make_user(display_name="B"), make_user(display_name="C")]
    client.force_login(user)

    def queries():
        client.get(URL)  # the session's first read
        with CaptureQueriesContext(connection) as captured:
            response = client.get(URL)
        assert response.status_code == 200
        return len(captured.captured_queries), response.content.decode()

    _many_replies(question, user, authors, 3)
    few, few_html = queries()
    _many_replies(question, user, authors, 32)
    many, many_html = queries()
    assert few_html.count('<li class="notification') == 3
    assert many_html.count('<li class="notification') == feed.PER_PAGE
    assert 'rel="next"' in many_html
    assert few == many
    # The session, the user, the header's name (their profile), the last look, the count and
    # the page, and marking it read.
    assert few == 7, few


def test_the_second_page(client, question, user, other_user, post_comment):
    post_comment(question=question, author=user)
    _many_replies(question, user, [other_user], feed.PER_PAGE + 2)
    client.force_login(user)
    html = client.get(URL + "?page=2").content.decode()
    assert html.count('<li class="notification') == 2
    assert "Reply 0," in html and "Reply 1," in html
