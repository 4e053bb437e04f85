"""The unread count beside the header's Notifications link (forum.context_processors):
one query for the logged-in, none for the anonymous, capped at 99+."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Profile
from consultations import services
from notifications import feed

pytestmark = pytest.mark.django_db


def _replies(question, mine, author, n, start=0):
    for i in range(start, start + n):
        services.comment_create(question=question, author=author, body=f"Reply {i}.", parent=mine)


def _header(html: str) -> str:
    return html[html.index('<nav class="site-nav"') : html.index("</nav>")]


def test_the_header_shows_the_unread_count_with_a_label(
    client, question, user, other_user, post_comment
):
    mine = post_comment(question=question, author=user)
    client.force_login(user)
    header = _header(client.get("/").content.decode())
    assert "Notifications</a>" in header and "count-badge" not in header

    _replies(question, mine, other_user, 3)
    header = _header(client.get("/").content.decode())
    assert '<span class="count-badge" aria-hidden="true">3</span>' in header
    assert '<span class="visually-hidden"> (3 unread)</span>' in header

    # On the Notifications page itself they are being read: no count.
    header = _header(client.get("/notifications/").content.decode())
    assert "count-badge" not in header and 'aria-current="page"' in header
    assert "count-badge" not in _header(client.get("/").content.decode())


def test_the_count_stops_at_99_plus(client, question, user, other_user, post_comment, settings):
    mine = post_comment(question=question, author=user)
    _replies(question, mine, other_user, feed.UNREAD_CAP + 1)
    assert feed.unread_count(user) == feed.UNREAD_CAP + 1
    client.force_login(user)
    header = _header(client.get("/").content.decode())
    assert '<span class="count-badge" aria-hidden="true">99+</span>' in header
    assert "(99+ unread)" in header


def test_one_query_for_the_logged_in_none_for_the_anonymous(
    client, question, user, other_user, post_comment
):
    mine = post_comment(question=question, author=user)
    _replies(question, mine, other_user, 2)

    def count_queries():
        client.get("/")
        with CaptureQueriesContext(connection) as captured:
            client.get("/")
        return [q["sql"] for q in captured.captured_queries]

    anonymous = count_queries()
    assert not [q for q in anonymous if "notifications_follow" in q or "accounts_profile" in q]
    client.force_login(user)
    logged_in = count_queries()
    assert len([q for q in logged_in if "notifications_follow" in q]) == 1
    assert len(logged_in) == len(anonymous) + 4  # the session, the user, the name, the count
    Profile.objects.filter(user=user).update(notifications_seen_at=None)
    assert len(count_queries()) == len(logged_in)
