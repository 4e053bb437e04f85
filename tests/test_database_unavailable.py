"""An unreachable database: a 503 page in the site's layout that gives back what was typed."""

import logging
from contextlib import contextmanager

import psycopg2
import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.db.utils import load_backend
from django.test import Client
from django.urls import reverse

from consultations.models import Comment, Report
from forum.middleware import is_database_unavailable

COMMENT_SAVE = "We could not save your comment because the database is unavailable."
NOTHING_SAVED = "Nothing was saved. Your text is below: copy it, then try again in a few minutes."
PAGE_UNAVAILABLE = "This page cannot be shown right now because the database is unavailable."


@contextmanager
def unreachable_database(tmp_path):
    """Requests in this block get a real connection failure: on PostgreSQL a connection to a
    closed port, on SQLite a database file that cannot be opened. The test's own connection
    (and its transaction) is set aside meanwhile and put back afterwards."""
    original = connections["default"]
    settings_dict = {**original.settings_dict}
    if original.vendor == "postgresql":
        settings_dict.update(HOST="127.0.0.1", PORT="1")
    else:
        settings_dict["NAME"] = str(tmp_path / "missing-folder" / "db.sqlite3")
    broken = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")
    connections["default"] = broken
    try:
        yield
    finally:
        connections["default"] = original
        broken.close()


@pytest.fixture
def browser(user):
    # Errors that surface outside a view are answered by the 500 handler: no re-raise here.
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def assert_503_page(response, explanation: str) -> str:
    assert response.status_code == 503
    assert response["Retry-After"] == "120"
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "<h1>Temporarily unavailable</h1>" in html
    assert explanation in html
    # In the site's layout (header, footer), without the parts that read the database.
    assert 'class="site-header"' in html and 'class="site-footer"' in html
    assert "Log out" not in html and "Log in" not in html
    return html


def test_posting_a_comment_while_the_database_is_unreachable_gives_the_text_back(
    browser, question, tmp_path, caplog
):
    url = reverse("consultations:comment", args=[question.consultation.slug, question.number])
    text = "Border officials need training <in> rights & dignity."

    with caplog.at_level(logging.ERROR), unreachable_database(tmp_path):
        response = browser.post(url, {"body": text, "objectives": ["10"], "parent": ""})

    html = assert_503_page(response, COMMENT_SAVE)
    assert NOTHING_SAVED in html
    assert (
        '<textarea id="kept-text" rows="8" readonly>'
        "Border officials need training &lt;in&gt; rights &amp; dignity.</textarea>"
    ) in html
    assert Comment.objects.count() == 0
    logged = [r.getMessage() for r in caplog.records if r.name == "forum.views"]
    assert len(logged) == 1 and url in logged[0] and "training" not in logged[0]


def test_editing_a_comment_while_the_database_is_unreachable_gives_the_text_back(
    browser, user, question, post_comment, tmp_path
):
    comment = post_comment(question=question, author=user, body="First version")

    with unreachable_database(tmp_path):
        response = browser.post(
            reverse("consultations:edit", args=[comment.pk]), {"body": "Second version"}
        )

    html = assert_503_page(response, COMMENT_SAVE)
    assert '<textarea id="kept-text" rows="8" readonly>Second version</textarea>' in html
    comment.refresh_from_db()
    assert comment.body == "<p>First version</p>"


def test_reporting_a_comment_while_the_database_is_unreachable_gives_the_details_back(
    browser, other_user, question, post_comment, tmp_path
):
    comment = post_comment(question=question, author=other_user)

    with unreachable_database(tmp_path):
        response = browser.post(
            reverse("consultations:report", args=[comment.pk]),
            {"reason": "spam", "details": "Same link in ten threads"},
        )

    html = assert_503_page(response, "We could not send your report")
    assert '<textarea id="kept-text" rows="8" readonly>Same link in ten threads</textarea>' in html
    assert Report.objects.count() == 0


@pytest.mark.parametrize("path", ["/", "/consultations/safe-borders/", "/no-such-page/"])
def test_any_page_while_the_database_is_unreachable_is_a_503_without_a_text_box(
    browser, consultation, tmp_path, path
):
    # "/no-such-page/" fails while Django renders its 404 page (base.html asks for the user),
    # outside the view: the 500 handler answers it.
    with unreachable_database(tmp_path):
        response = browser.get(path)

    html = assert_503_page(response, PAGE_UNAVAILABLE)
    assert "kept-text" not in html


def test_a_failure_in_middleware_before_the_view_gives_the_same_page(
    browser, question, tmp_path, settings
):
    # With the CSRF token in the session, CsrfViewMiddleware reads the session (the database)
    # before the view runs, where the middleware's process_exception cannot see it.
    settings.CSRF_USE_SESSIONS = True
    url = reverse("consultations:comment", args=[question.consultation.slug, question.number])

    with unreachable_database(tmp_path):
        response = browser.post(url, {"body": "Typed before the outage"})

    html = assert_503_page(response, COMMENT_SAVE)
    assert '<textarea id="kept-text" rows="8" readonly>Typed before the outage</textarea>' in html


def test_a_failing_query_is_not_taken_for_an_outage(db):
    with pytest.raises(DatabaseError) as raised:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    assert not is_database_unavailable(raised.value)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a PostgreSQL backend")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_backend_terminated_mid_session_gives_a_503_then_the_next_request_recovers(
    question, user
):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    url = reverse("consultations:comment", args=[question.consultation.slug, question.number])
    connection.ensure_connection()
    db = connection.settings_dict
    admin = psycopg2.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=db["NAME"],
    )
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:  # as a failover or an administrator would
            cursor.execute(
                "SELECT pg_terminate_backend(%s)", [connection.connection.get_backend_pid()]
            )
    finally:
        admin.close()

    response = client.post(url, {"body": "Sent as the server went away"})

    html = assert_503_page(response, COMMENT_SAVE)
    assert "Sent as the server went away" in html
    # Django drops the broken connection at the end of the request; the next one reconnects.
    connection.close_if_unusable_or_obsolete()
    response = client.post(url, {"body": "Sent again a moment later"})
    assert response.status_code == 302
    assert list(Comment.objects.values_list("body", flat=True)) == [
        "<p>Sent again a moment later</p>"
    ]
