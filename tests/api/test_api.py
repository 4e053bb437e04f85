"""The read-only API: what each endpoint shows, placeholders, filters, cursor pages,
conditional GETs, unpublished consultations and the per-address limit."""

import pytest
from rest_framework.throttling import SimpleRateThrottle

from consultations.models import Comment

pytestmark = pytest.mark.django_db


def get(client, path, **extra):
    response = client.get(path, **extra)
    return response, (response.json() if response.status_code == 200 else None)


def test_objectives_are_the_23_of_the_gcm(client):
    response, data = get(client, "/api/v1/objectives/")
    assert response.status_code == 200 and len(data) == 23
    assert data[0]["number"] == 1 and set(data[0]) == {"number", "title", "short_title"}
    assert get(client, "/api/v1/objectives/8/")[1]["number"] == 8


def test_a_consultation_with_its_questions_and_objectives(
    client, consultation, question, question2
):
    response, data = get(client, f"/api/v1/consultations/{consultation.slug}/")
    assert response.status_code == 200
    assert data["title"] == "Safe borders review" and data["state"] == "open"
    assert data["objectives"] == [4, 8, 9, 10, 11, 13, 21]
    assert [q["number"] for q in data["questions"]] == [1, 2]
    assert data["url"] == f"http://testserver/consultations/{consultation.slug}/"


def test_unpublished_consultations_and_their_comments_are_absent(
    client, make_consultation, user, post_comment
):
    hidden = make_consultation()
    question = hidden.questions.create(number=1, text="Draft?")
    comment = post_comment(question=question, author=user)
    hidden.is_published = False  # unpublished after comments were posted
    hidden.save()
    assert client.get(f"/api/v1/consultations/{hidden.slug}/").status_code == 404
    assert client.get(f"/api/v1/questions/{question.pk}/").status_code == 404
    assert client.get(f"/api/v1/comments/{comment.pk}/").status_code == 404
    assert get(client, "/api/v1/comments/")[1]["results"] == []


def test_comments_show_the_tree_and_placeholders(client, thread):
    _, data = get(client, "/api/v1/comments/")
    by_id = {c["id"]: c for c in data["results"]}
    root, reply = by_id[thread["root"].pk], by_id[thread["reply"].pk]
    assert root["depth"] == 0 and root["parent"] is None and root["objectives"] == [4]
    assert root["body_text"] == "Birth registration first."
    assert root["body_html"] == "<p>Birth registration first.</p>"
    assert root["author"] == {
        "display_name": "Amina Diallo",
        "organisation": "Sahel Migrant Network",
        "stakeholder_type": "civil_society",
    }
    assert (
        reply["parent"] == root["id"] and reply["depth"] == 1 and reply["thread"] == root["thread"]
    )
    for name, status in (("hidden", "hidden"), ("gone", "deleted")):
        placeholder = by_id[thread[name].pk]
        assert placeholder["status"] == status
        assert placeholder["body_text"] is None and placeholder["body_html"] is None
        assert placeholder["author"] is None and placeholder["objectives"] == []


def test_filters(client, thread, question2, other_user, post_comment, question):
    other = post_comment(
        question=question2, author=other_user, body="Remittances.", objectives=[20]
    )

    def ids(query):
        return {c["id"] for c in get(client, f"/api/v1/comments/?{query}")[1]["results"]}

    assert ids(f"question={question2.pk}") == {other.pk}
    assert ids("objective=4") == {thread["root"].pk}
    # Filters on what a placeholder no longer shows never match it.
    assert thread["hidden"].pk not in ids("stakeholder_type=civil_society")
    assert ids(f"consultation={question.consultation.slug}") >= {other.pk, thread["root"].pk}
    Comment.objects.filter(pk=other.pk).update(updated_at="2099-01-01T00:00:00Z")
    assert ids("updated_since=2098-12-31T00:00:00Z") == {other.pk}


@pytest.mark.parametrize(
    "query", ["question=x", "objective=24", "stakeholder_type=spy", "updated_since=yesterday"]
)
def test_bad_filters_get_400_with_a_message(client, query):
    response = client.get(f"/api/v1/comments/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_cursor_pages_cover_every_comment_once(client, question, user, post_comment):
    made = {post_comment(question=question, author=user).pk for _ in range(7)}
    seen, url = [], "/api/v1/comments/?page_size=3"
    while url:
        data = client.get(url).json()
        seen += [c["id"] for c in data["results"]]
        url = data["next"]
    assert sorted(seen) == sorted(made) and len(seen) == 7


def test_conditional_get_answers_304_until_something_changes(client, thread):
    first = client.get("/api/v1/comments/")
    etag, modified = first["ETag"], first["Last-Modified"]
    assert etag and modified
    assert client.get("/api/v1/comments/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get("/api/v1/comments/", HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    Comment.objects.filter(pk=thread["root"].pk).update(body_text="Edited.")
    assert client.get("/api/v1/comments/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_anonymous_use_is_limited_per_address(client, monkeypatch):
    # The rates are read once, when DRF loads; the limit's count lives in the shared cache.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "9/min"})
    first = [client.get("/api/v1/objectives/", REMOTE_ADDR="192.0.2.1") for _ in range(4)]
    other = client.get("/api/v1/objectives/", REMOTE_ADDR="192.0.2.2")
    assert [r.status_code for r in first] == [200, 200, 200, 429] and other.status_code == 200
    assert "Retry-After" in first[-1]


def test_query_count_does_not_grow_with_comments(
    client, question, user, post_comment, django_assert_num_queries
):
    for _ in range(3):
        post_comment(question=question, author=user, objectives=[4, 8])
    with django_assert_num_queries(2) as small:  # the page of comments, their objectives
        client.get("/api/v1/comments/")
    for _ in range(27):
        post_comment(question=question, author=user, objectives=[4, 8])
    with django_assert_num_queries(len(small.captured_queries)):
        client.get("/api/v1/comments/")
