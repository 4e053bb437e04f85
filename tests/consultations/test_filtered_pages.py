"""Comments filtered by objective and stakeholder type, per consultation and per question: paged
flat lists with links into their threads, in a fixed number of queries whatever the size."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import StakeholderType
from consultations import services
from consultations.models import Comment, Objective

pytestmark = pytest.mark.django_db

CONSULTATION = "/consultations/safe-borders/"
QUESTION = "/consultations/safe-borders/questions/1/"


def _html(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _ids(html):
    return [int(n) for n in re.findall(r'<article class="comment[^"]*" id="comment-(\d+)"', html)]


def _comments(question, author, count, *, objectives=(), parent=None, start=None):
    """count comments, a minute apart (oldest first), tagged with the objective numbers."""
    start = start or timezone.now() - timedelta(days=1)
    made = [
        Comment.objects.create(
            question=question,
            author=author,
            body=f"<p>Comment {i}</p>",
            parent=parent,
            created_at=start + timedelta(minutes=i),
        )
        for i in range(count)
    ]
    tags = list(Objective.objects.filter(number__in=objectives))
    Comment.objectives.through.objects.bulk_create(
        Comment.objectives.through(comment=c, objective=o) for c in made for o in tags
    )
    return made


def _count(client, url):
    client.get(url)  # stores the shown comments' HTML, as their posts' commits would have
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_objective_filter_pages_the_consultation_grouped_by_question_with_links_keeping_it(
    client, settings, consultation, question, question2, user
):
    settings.COMMENTS_PER_FILTERED_PAGE = 3
    first = _comments(question, user, 4, objectives=[10])
    second = _comments(question2, user, 2, objectives=[10])
    _comments(question, user, 3, objectives=[11])

    html = _html(client, CONSULTATION + "?objective=10")
    assert _ids(html) == [c.pk for c in first[:3]]
    assert "Showing 6 comments tagged with objective" in html
    assert "4 matching comments" in html  # question 1's matches on every page
    assert 'id="question-2"' not in html  # nothing of question 2 on this page
    assert "Page 1 of 2" in html
    assert f'<link rel="next" href="{CONSULTATION}?objective=10&amp;page=2#questions">' in html
    # Each comment leads to its place in its thread.
    assert f'href="/consultations/c/{first[0].pk}/">View in thread' in html
    assert '<option value="10" selected>' in html

    html = _html(client, CONSULTATION + "?objective=10&page=2")
    assert _ids(html) == [first[3].pk, second[0].pk, second[1].pk]
    assert html.index('id="question-1"') < html.index('id="question-2"')
    assert "2 matching comments" in html
    assert f'<link rel="prev" href="{CONSULTATION}?objective=10#questions">' in html
    assert f'href="{CONSULTATION}?objective=10&amp;page=2#questions" aria-current="page"' in html


def test_stakeholder_filter_alone_and_with_an_objective(client, consultation, question, make_user):
    academic = make_user(stakeholder_type=StakeholderType.ACADEMIA)
    city = make_user(stakeholder_type=StakeholderType.LOCAL_GOVERNMENT)
    on_8 = _comments(question, academic, 2, objectives=[8])
    on_4 = _comments(question, academic, 1, objectives=[4])
    city_on_8 = _comments(question, city, 1, objectives=[8])

    html = _html(client, CONSULTATION + "?stakeholder=academia")
    assert sorted(_ids(html)) == sorted(c.pk for c in on_8 + on_4)
    assert "Showing 3 comments from stakeholder type <strong>Academia</strong>." in html

    html = _html(client, CONSULTATION + "?objective=8&stakeholder=academia")
    assert _ids(html) == [c.pk for c in on_8]
    assert "from stakeholder type <strong>Academia</strong>" in html
    assert '<option value="academia" selected>' in html
    # The search box carries both filters on.
    assert '<input type="hidden" name="stakeholder_type" value="academia">' in html

    html = _html(client, QUESTION + "?objective=8&stakeholder=local_government")
    assert _ids(html) == [city_on_8[0].pk]


def test_no_match_says_so_and_keeps_the_filters(client, consultation, question, user):
    _comments(question, user, 2, objectives=[4])

    for url in (CONSULTATION, QUESTION):
        html = _html(client, url + "?objective=9&stakeholder=trade_union")
        assert _ids(html) == []
        assert "Showing 0 comments tagged with objective" in html
        assert "No comments match these filters." in html
        assert '<option value="9" selected>' in html
        assert '<option value="trade_union" selected>' in html
        assert "No comments yet." not in html
        assert "The moderators have not posted any question yet." not in html


@pytest.mark.parametrize("url", [CONSULTATION, QUESTION])
def test_unknown_stakeholder_type_is_explained_and_ignored(
    client, consultation, question, user, url
):
    (tagged,) = _comments(question, user, 1, objectives=[4])
    (untagged,) = _comments(question, user, 1)

    html = _html(client, url + "?stakeholder=aliens&objective=4")
    assert "There is no stakeholder type “aliens”." in html
    assert _ids(html) == [tagged.pk]  # the objective still applies

    html = _html(client, url + "?stakeholder=civil_society&objective=99")
    assert "There is no GCM objective “99”." in html
    assert _ids(html) == [tagged.pk, untagged.pk]  # user is civil society


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "moderator"])
def test_hidden_and_deleted_comments_are_never_listed_when_filtering(
    client, consultation, question, user, moderator, logged_in
):
    if logged_in:
        client.force_login(moderator)
    shown, hidden, deleted = _comments(question, user, 3, objectives=[10])
    services.comment_hide(comment=hidden, by=moderator, reason="spam")
    services.comment_delete(comment=deleted, by=user)

    for url in (CONSULTATION, QUESTION):
        for query in ("?objective=10", "?stakeholder=civil_society"):
            html = _html(client, url + query)
            assert _ids(html) == [shown.pk]
            assert "Showing 1 comment " in html
            assert "Hidden by a moderator" not in html and "Deleted by the author" not in html


def test_question_filter_lists_matching_comments_oldest_first_with_paging(
    client, settings, consultation, question, question2, user, other_user
):
    settings.COMMENTS_PER_FILTERED_PAGE = 2
    early, late = _comments(question, user, 2, objectives=[13])
    # A reply to the first thread, written after the second: after it in date order.
    (reply,) = _comments(
        question, other_user, 1, objectives=[13], parent=early, start=timezone.now()
    )
    _comments(question2, user, 2, objectives=[13])  # another question's
    _comments(question, user, 2, objectives=[4])

    html = _html(client, QUESTION + "?objective=13")
    assert _ids(html) == [early.pk, late.pk]
    assert "Showing 3 comments tagged with objective" in html and "Oldest first." in html
    assert f'<link rel="next" href="{QUESTION}?objective=13&amp;page=2">' in html
    assert 'aria-label="Pages of matching comments"' in html
    # The sort orders threads: it gives way to the filtered list, which links back to them.
    assert 'name="sort"' not in html
    assert f'<a href="{QUESTION}">Show all threads</a>' in html

    html = _html(client, QUESTION + "?objective=13&page=2")
    assert _ids(html) == [reply.pk]
    assert "In reply to Amina Diallo" in html
    assert f'href="/consultations/c/{reply.pk}/">View in thread' in html
    assert f'<link rel="prev" href="{QUESTION}?objective=13">' in html


def test_question_page_has_a_labelled_filter_form_beside_the_sort(client, question):
    html = _html(client, QUESTION)
    form = html[html.index(f'<form method="get" action="{QUESTION}" class="filter-form filter') :]
    form = form[: form.index("</form>")]
    assert '<label for="objective-filter">Objective</label>' in form
    assert '<select id="objective-filter" name="objective">' in form
    assert '<label for="stakeholder-filter">Stakeholder type</label>' in form
    assert '<select id="stakeholder-filter" name="stakeholder">' in form
    assert 'name="sort"' in html  # the sort form is there too
    assert "csrfmiddlewaretoken" not in form  # a GET form: nothing to protect


def test_a_large_filtered_page_shows_one_page_of_comments(client, consultation, question, user):
    _comments(question, user, 150, objectives=[10])

    response = client.get(CONSULTATION + "?objective=10")
    html = response.content.decode()
    assert len(_ids(html)) == 20  # COMMENTS_PER_FILTERED_PAGE's default
    assert "Page 1 of 8" in html
    assert len(response.content) < 300_000
    assert len(_ids(_html(client, QUESTION + "?objective=10&page=8"))) == 10


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "logged-in"])
@pytest.mark.parametrize(
    "url",
    [
        CONSULTATION + "?objective=10",
        CONSULTATION + "?objective=10&stakeholder=civil_society&page=2",
        QUESTION + "?objective=10",
        QUESTION + "?stakeholder=civil_society&page=2",
    ],
)
def test_filtered_query_count_is_the_same_for_40_and_400_comments(
    client, consultation, question, question2, user, other_user, logged_in, url
):
    if logged_in:
        client.force_login(user)
    for q in (question, question2):
        for root in _comments(q, user, 20, objectives=[10, 4]):
            _comments(q, other_user, 1, objectives=[10], parent=root)
    few = _count(client, url)
    for q in (question, question2):
        for root in _comments(q, other_user, 30, objectives=[10]):
            _comments(q, user, 5, objectives=[10, 8], parent=root)
    assert Comment.objects.count() == 440
    assert _count(client, url) == few
