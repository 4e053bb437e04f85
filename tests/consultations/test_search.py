"""Search inside a consultation: ranked, highlighted, filtered, paged, safe, on both databases."""

import importlib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import StakeholderType
from consultations import search, services
from consultations.models import Comment, Question

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="stemming and stored vectors are PostgreSQL's"
)


def _search(client, consultation, **params):
    url = reverse("consultations:search", kwargs={"slug": consultation.slug})
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def _results(html: str) -> list[str]:
    return re.findall(r'<li class="search-result">(.*?)</li>', html, re.S)


def test_results_are_ranked_by_how_well_they_match_and_highlight_the_words(
    client, consultation, question, user, post_comment
):
    post_comment(question=question, author=user, body="Border checks should be humane.")
    post_comment(
        question=question,
        author=user,
        body="Border cooperation: every border needs border monitoring and border data.",
    )
    post_comment(question=question, author=user, body="Nothing relevant here at all.")

    results = _results(_search(client, consultation, q="border"))

    assert len(results) == 2
    assert "every border" in results[0].replace("<mark>", "").replace("</mark>", "")
    assert "<mark>Border</mark>" in results[1]
    assert "<mark>border</mark>" in results[0]


def test_every_word_must_match(client, consultation, question, user, post_comment):
    post_comment(question=question, author=user, body="Labour migration pathways.")
    post_comment(question=question, author=user, body="Labour rights only.")

    results = _results(_search(client, consultation, q="labour pathways"))

    assert len(results) == 1
    assert "<mark>pathways</mark>" in results[0]


def test_a_result_shows_author_organisation_type_date_question_and_links_to_the_comment(
    client, consultation, question, make_user, post_comment
):
    author = make_user(
        display_name="Fatou Ndiaye",
        organisation="Dakar Diaspora Council",
        stakeholder_type=StakeholderType.MIGRANT_DIASPORA,
    )
    comment = post_comment(question=question, author=author, body="Remittance costs matter.")

    (result,) = _results(_search(client, consultation, q="remittance"))

    assert "Fatou Ndiaye" in result
    assert "Dakar Diaspora Council" in result
    assert "Migrant or diaspora organisation" in result
    assert f'datetime="{comment.created_at.isoformat()}' in result or "<time datetime=" in result
    assert "Question 1" in result
    assert f'href="{comment.get_absolute_url()}"' in result


def test_filters_combine_question_objective_and_stakeholder_type(
    client, consultation, question, question2, make_user, post_comment
):
    state = make_user(stakeholder_type=StakeholderType.MEMBER_STATE)
    ngo = make_user(stakeholder_type=StakeholderType.CIVIL_SOCIETY)
    wanted = post_comment(question=question2, author=state, body="Visa data 1", objectives=[8])
    post_comment(question=question, author=state, body="Visa data 2", objectives=[8])
    post_comment(question=question2, author=ngo, body="Visa data 3", objectives=[8])
    post_comment(question=question2, author=state, body="Visa data 4", objectives=[9])

    html = _search(
        client,
        consultation,
        q="visa",
        question="2",
        objective="8",
        stakeholder_type=StakeholderType.MEMBER_STATE,
    )

    (result,) = _results(html)
    assert f'href="{wanted.get_absolute_url()}"' in result
    assert '<option value="2" selected>' in html
    assert '<option value="8" selected>' in html
    assert f'<option value="{StakeholderType.MEMBER_STATE}" selected>' in html


def test_bad_filter_values_are_ignored_with_a_message(
    client, consultation, question, user, post_comment
):
    post_comment(question=question, author=user, body="Return and readmission.")

    html = _search(
        client, consultation, q="readmission", question="x", objective="99", stakeholder_type="cat"
    )

    assert len(_results(html)) == 1
    assert "There is no question “x”" in html
    assert "There is no GCM objective “99”" in html
    assert "There is no stakeholder type “cat”" in html


def test_hidden_and_deleted_comments_are_never_found(
    client, consultation, question, user, moderator, post_comment
):
    hidden = post_comment(question=question, author=user, body="Smuggling networks, hidden.")
    deleted = post_comment(question=question, author=user, body="Smuggling networks, deleted.")
    post_comment(question=question, author=user, body="Smuggling networks, published.")
    services.comment_hide(comment=hidden, by=moderator, reason="spam")
    services.comment_delete(comment=deleted, by=user)

    for viewer in (None, moderator):
        if viewer:
            client.force_login(viewer)
        results = _results(_search(client, consultation, q="smuggling"))
        assert len(results) == 1
        assert "published" in results[0]


def test_comments_of_other_consultations_are_not_found(
    client, consultation, question, make_consultation, user, post_comment
):
    elsewhere = Question.objects.create(
        consultation=make_consultation(), number=1, text="Elsewhere?"
    )
    post_comment(question=elsewhere, author=user, body="Climate displacement.")

    assert "No comments match" in _search(client, consultation, q="climate")


def test_no_result_says_so_and_keeps_the_query_in_the_box(client, consultation, question):
    html = _search(client, consultation, q="zebra crossings")

    assert "No comments match “zebra crossings”." in html
    assert 'name="q" value="zebra crossings"' in html


def test_an_empty_query_shows_the_form_with_a_hint(client, consultation, question):
    html = _search(client, consultation, q="  ")

    assert 'role="search"' in html
    assert "Type one or more words" in html
    assert "No comments match" not in html


def test_question_texts_that_match_are_listed_with_a_link(client, consultation, question):
    html = _search(client, consultation, q="priorities")

    assert f'href="{question.get_absolute_url()}"' in html
    assert "What are the key priorities?" in html


def test_script_in_a_comment_and_markup_in_the_query_are_escaped(
    client, consultation, question, user, post_comment
):
    post_comment(
        question=question,
        author=user,
        body="<p>Write &lt;script&gt;alert(1)&lt;/script&gt; and &lt;b&gt;bold&lt;/b&gt;</p>",
    )

    html = _search(client, consultation, q="alert <b>")

    (result,) = _results(html)
    assert "<mark>alert</mark>" in result
    assert "<script>" not in result
    assert "&lt;script&gt;<mark>alert</mark>" in result
    assert "<b>" not in html.split('role="search"')[1]
    assert 'value="alert &lt;b&gt;"' in html


def test_a_marker_character_in_the_text_cannot_unbalance_the_marks():
    html = search.marked_headline(
        f"a {search.STOP}<x> {search.START}word{search.STOP} {search.START}b"
    )

    assert html == "a &lt;x&gt; <mark>word</mark> <mark>b</mark>"


def test_results_are_paged_twenty_at_a_time_with_links(
    client, consultation, question, user, post_comment
):
    for n in range(search.PER_PAGE + 3):
        post_comment(question=question, author=user, body=f"Consular support {n}.")

    first = _search(client, consultation, q="consular")
    second = _search(client, consultation, q="consular", page="2")

    assert len(_results(first)) == search.PER_PAGE
    assert "q=consular&amp;page=2" in first
    assert 'aria-label="Pages of results"' in first
    assert len(_results(second)) == 3
    assert 'rel="prev"' in second
    assert len(_results(_search(client, consultation, q="consular", page="x"))) == 20


def test_the_number_of_queries_does_not_grow_with_the_results(
    client, consultation, question, make_user, post_comment
):
    def queries_for_results(n):
        Comment.objects.all().delete()
        for i in range(n):
            post_comment(question=question, author=make_user(), body=f"Detention {i}.")
        with CaptureQueriesContext(connection) as queries:
            assert len(_results(_search(client, consultation, q="detention"))) == n
        return len(queries)

    assert queries_for_results(1) == queries_for_results(15)


def test_the_consultation_page_has_a_search_box_that_keeps_the_objective_filter(
    client, consultation, question
):
    html = client.get(consultation.get_absolute_url(), {"objective": "8"}).content.decode()

    start = html.rindex("<form", 0, html.index('role="search"'))
    form = html[start : html.index("</form>", start)]
    assert f'action="{reverse("consultations:search", args=[consultation.slug])}"' in form
    assert '<label for="comment-search">Search comments</label>' in html
    assert '<input type="hidden" name="objective" value="8">' in form


@on_postgresql
@pytest.mark.postgres
def test_postgresql_stems_words_in_the_consultation_language(
    client, make_consultation, user, post_comment
):
    english = make_consultation(language="en")
    french = make_consultation(language="fr")
    en_q = Question.objects.create(consultation=english, number=1, text="Q?")
    fr_q = Question.objects.create(consultation=french, number=1, text="Q?")
    post_comment(question=en_q, author=user, body="Every migrant deserves dignity.")
    post_comment(question=fr_q, author=user, body="Les travailleuses migrantes saisonnières.")

    (en_result,) = _results(_search(client, english, q="migrants"))
    (fr_result,) = _results(_search(client, french, q="saisonnière"))

    assert "<mark>migrant</mark>" in en_result
    assert "<mark>saisonnières</mark>" in fr_result


@on_postgresql
@pytest.mark.postgres
def test_postgresql_excerpts_a_short_comment_whole_and_a_long_one_round_its_matches(
    client, consultation, question, user, post_comment
):
    post_comment(question=question, author=user, body="Birth registration and IDs for all.")
    filler = " ".join(["Seasonal workers need portable pensions."] * 30)
    post_comment(question=question, author=user, body=f"{filler} Civil registration. {filler}")

    results = _results(_search(client, consultation, q="registration"))

    short = next(r for r in results if "Birth" in r)
    assert "Birth <mark>registration</mark> and IDs for all." in short
    long = next(r for r in results if "Civil" in r)
    assert "Civil <mark>registration</mark>" in long and long.count("Seasonal") < 20


def _vector(comment) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_vector::text FROM consultations_comment WHERE id = %s", [comment.pk]
        )
        return cursor.fetchone()[0]


@on_postgresql
@pytest.mark.postgres
def test_postgresql_vector_is_stored_on_create_and_edit(question, user, post_comment):
    comment = post_comment(question=question, author=user, body="Ports of entry.")
    assert "'port'" in _vector(comment)

    services.comment_edit(comment=comment, by=user, body="Airports only.", objectives=[])

    assert "'airport'" in _vector(comment)
    assert "'port'" not in _vector(comment)


@on_postgresql
@pytest.mark.postgres
def test_postgresql_vectors_follow_a_change_of_the_consultation_language_in_the_admin(
    client, moderator, consultation, question, user, post_comment
):
    comment = post_comment(question=question, author=user, body="Les frontières.")
    assert "'les'" in _vector(comment)  # english: "les" is no stop word, nothing French
    client.force_login(moderator)
    url = reverse("admin:consultations_consultation_change", args=[consultation.pk])
    data = {
        "title": consultation.title,
        "slug": consultation.slug,
        "language": "fr",
        "description": consultation.description,
        "is_published": "on",
        "licence": "cc-by-4.0",  # the admin's select always sends one
        "opens_at_0": consultation.opens_at.strftime("%Y-%m-%d"),
        "opens_at_1": "09:00:00",
        "questions-TOTAL_FORMS": "0",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
    }

    response = client.post(url, data)

    assert response.status_code == 302
    assert _vector(comment) == "'fronti':2 'le':1"


@on_postgresql
@pytest.mark.postgres
def test_postgresql_data_migration_fills_existing_comments(question, user, post_comment):
    comment = post_comment(question=question, author=user, body="Integration policies.")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE consultations_comment SET search_vector = NULL")
    assert _vector(comment) is None
    migration = importlib.import_module("consultations.migrations.0010_fill_comment_search_vector")

    with connection.schema_editor() as schema_editor:
        migration.fill_search_vector(None, schema_editor)

    assert "'integr'" in _vector(comment)


@on_postgresql
@pytest.mark.postgres
def test_postgresql_has_a_gin_index_on_the_vector():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'comment_search_vector_gin'"
        )
        (definition,) = cursor.fetchone()
    assert "USING gin (search_vector)" in definition


def test_a_nul_byte_in_the_query_is_a_bad_request(client, consultation):
    url = reverse("consultations:search", kwargs={"slug": consultation.slug})

    assert client.get(url, {"q": "a\x00b"}).status_code == 400


def test_an_unknown_consultation_is_not_found(client, db):
    url = reverse("consultations:search", kwargs={"slug": "no-such-consultation"})

    assert client.get(url, {"q": "x"}).status_code == 404


def test_an_unpublished_consultation_cannot_be_searched(client, make_consultation):
    hidden = make_consultation(is_published=False)
    url = reverse("consultations:search", kwargs={"slug": hidden.slug})

    assert client.get(url, {"q": "x"}).status_code == 404
