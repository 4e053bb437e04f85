"""Comments' HTML rendered once per language and stored (consultations.rendering): stored by
the first page that shows it, found by the pages in the same query, made again whenever what it
shows changed, and a page the same whether it was stored or not."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consultations import services
from consultations.models import Attachment, Comment, CommentFragment, Objective

pytestmark = pytest.mark.django_db

URL = "/consultations/safe-borders/questions/1/"


def _page(client, url=URL, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200
    # The form's token changes with every response; nothing else may.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def _queries(client, url=URL) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _article(html: str, comment: Comment) -> str:
    match = re.search(rf'<article [^>]*id="comment-{comment.pk}".*?</article>', html, re.S)
    assert match, f"comment {comment.pk} is not on the page"
    return match.group(0)


def test_the_first_page_to_show_a_comment_stores_its_html_in_its_language(
    client, question, user, post_comment, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        comment = post_comment(question=question, author=user, body="<p>Stored once</p>")
    assert not CommentFragment.objects.exists()  # a write renders nothing
    _page(client, HTTP_ACCEPT_LANGUAGE="fr")
    (fragment,) = CommentFragment.objects.filter(comment=comment)
    assert fragment.language == "fr"
    assert "Stored once" in fragment.html and "Amina Diallo" in fragment.html
    assert "Lien permanent vers ce commentaire" in fragment.html


def test_the_page_is_the_same_rendered_or_read_from_storage(
    client, question, user, other_user, moderator, post_comment
):
    root = post_comment(question=question, author=user, body="<p>A <em>root</em> &amp; more</p>")
    reply = post_comment(question=question, author=other_user, parent=root, objectives=[4, 10])
    hidden = post_comment(question=question, author=other_user, parent=reply)
    services.comment_hide(comment=hidden, by=moderator, reason="spam")
    client.force_login(moderator)
    assert not CommentFragment.objects.exists()  # tests' transactions never commit
    first = _page(client)
    assert CommentFragment.objects.filter(language="en").count() == 3
    second = _page(client)
    assert first == second
    assert "Hidden by a moderator: spam" in _article(second, hidden)
    assert "In reply to Amina Diallo" in _article(second, reply)


def test_a_stored_page_asks_fewer_queries_and_neither_grows_with_the_comments(
    client, question, user, post_comment
):
    for _ in range(3):
        post_comment(question=question, author=user)
    cold_few = _queries(client)
    warm_few = _queries(client)
    for _ in range(40):
        post_comment(question=question, author=user)
    cold_many = _queries(client)
    warm_many = _queries(client)
    assert cold_few == cold_many
    assert warm_few == warm_many
    # Stored: no objectives, files or writes; made: those in one query each (and a savepoint).
    assert warm_many < cold_many


@pytest.mark.parametrize("change", ["edit", "hide", "restore", "delete", "tags", "file"])
def test_every_change_to_a_comment_shows_at_once(
    client, question, user, moderator, post_comment, change
):
    comment = post_comment(question=question, author=user, body="<p>First words</p>")
    if change == "restore":
        services.comment_hide(comment=comment, by=moderator, reason="offensive")
    before = _article(_page(client), comment)  # stored now
    if change == "edit":
        services.comment_edit(comment=comment, by=user, body="<p>Second words</p>", objectives=[])
    elif change == "hide":
        services.comment_hide(comment=comment, by=moderator, reason="offensive")
    elif change == "restore":
        services.comment_restore(comment=comment, by=moderator)
    elif change == "delete":
        services.comment_delete(comment=comment, by=user)
    elif change == "tags":  # as the admin's form saves them: straight to the relation
        comment.objectives.add(Objective.objects.get(number=23))
    else:
        Attachment.objects.create(
            comment=comment,
            file="attachments/x",
            original_name="Evidence.pdf",
            content_type="application/pdf",
            size=2048,
        )
    after = _article(_page(client), comment)
    assert after != before
    expected = {
        "edit": "Second words",
        "hide": "Hidden by a moderator: offensive",
        "restore": "First words",
        "delete": "Deleted by the author",
        "tags": "?objective=23",
        "file": "Evidence.pdf",
    }[change]
    assert expected in after
    if change in ("hide", "delete"):
        assert "First words" not in after


def test_the_authors_new_name_and_the_consultations_new_address_show_at_once(
    client, consultation, question, user, post_comment
):
    comment = post_comment(question=question, author=user, objectives=[8])
    _page(client)
    user.profile.display_name = "Amina D. <Sahel>"
    user.profile.save()
    consultation.slug = "safe-borders-2027"
    consultation.save()
    article = _article(_page(client, "/consultations/safe-borders-2027/questions/1/"), comment)
    assert "Amina D. &lt;Sahel&gt;" in article and "Amina Diallo" not in article
    assert 'href="/consultations/safe-borders-2027/?objective=8#questions"' in article


def test_each_language_reads_its_own_html(client, question, user, post_comment):
    comment = post_comment(question=question, author=user, objectives=[8])
    english = _article(_page(client, HTTP_ACCEPT_LANGUAGE="en"), comment)
    french = _article(_page(client, HTTP_ACCEPT_LANGUAGE="fr"), comment)
    assert english != french
    assert CommentFragment.objects.filter(comment=comment).count() == 2
    again = _article(_page(client, HTTP_ACCEPT_LANGUAGE="fr"), comment)
    assert again == french


def test_a_fragment_out_of_date_is_made_again_and_never_shown(
    client, question, user, moderator, post_comment
):
    comment = post_comment(question=question, author=user, body="<p>Private once</p>")
    _page(client)
    services.comment_hide(comment=comment, by=moderator, reason="spam")
    # A stale fragment left behind (say, a write that failed after the commit): the page
    # does not trust it.
    CommentFragment.objects.filter(comment=comment).update(html="<p>Private once</p>")
    article = _article(_page(client), comment)
    assert "Private once" not in article and "Hidden by a moderator" in article


def test_markers_in_a_body_cannot_split_the_fragments(client, question, user, post_comment):
    body = "<p>Before<!--next--><!--slot-->after &lt;!--slot--&gt;</p>"
    comment = post_comment(question=question, author=user, body=body)
    other = post_comment(question=question, author=user, body="<p>Second</p>")
    html = _page(client)
    assert "Before" in _article(html, comment) and "Second" in _article(html, other)
    assert "&lt;!--slot--&gt;" in _article(html, comment)


def test_a_page_that_cannot_store_its_html_still_shows_it(client, question, user, post_comment):
    comment = post_comment(question=question, author=user, body="<p>Shown anyway</p>")
    # A database that refuses the write (read-only, locked): a real trigger, on either engine.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'read-only'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON consultations_commentfragment "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON consultations_commentfragment "
                "BEGIN SELECT RAISE(ABORT, 'read-only'); END"
            )
    assert "Shown anyway" in _article(_page(client), comment)
    assert not CommentFragment.objects.exists()
