"""Question pages: top-level threads paged and sorted, long threads cut short, permalinks."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consultations import counts
from consultations.models import Comment, Objective

pytestmark = pytest.mark.django_db

URL = "/consultations/safe-borders/questions/1/"


def _roots(question, author, count):
    made = [
        Comment.objects.create(question=question, author=author, body=f"<p>Root {i}</p>")
        for i in range(count)
    ]
    counts.refresh(question.pk)  # as the services do with each comment they save
    return made


def _replies(root, author, count):
    made = []
    for i in range(count):
        made.append(
            Comment.objects.create(
                question=root.question, author=author, body=f"<p>Re {i}</p>", parent=root
            )
        )
    counts.refresh(root.question_id)
    return made


def _ids(html):
    return [int(n) for n in re.findall(r'<article class="comment[^"]*" id="comment-(\d+)"', html)]


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_question_page_pages_threads_with_counts_and_rel_links(
    client, settings, consultation, question, user, other_user
):
    settings.THREADS_PER_PAGE = 2
    roots = _roots(question, user, 5)
    _replies(roots[0], other_user, 1)

    first = _get(client, URL)
    assert _ids(first)[:1] == [roots[0].pk] and roots[2].pk not in _ids(first)
    assert "6 comments" in first and "2 participants" in first and "Latest activity" in first
    assert "Page 1 of 3" in first
    assert f'<link rel="next" href="{URL}?page=2">' in first and 'rel="prev"' not in first

    second = _get(client, URL + "?page=2")
    assert _ids(second) == [roots[2].pk, roots[3].pk]
    assert f'<a href="{URL}?page=2" aria-current="page">' in second
    assert f'<link rel="prev" href="{URL}">' in second
    assert f'<link rel="next" href="{URL}?page=3">' in second


@pytest.mark.parametrize("raw", ["0", "abc", "99"])
def test_out_of_range_or_odd_page_falls_back_to_a_real_page(client, consultation, question, raw):
    assert client.get(URL + f"?page={raw}&sort=nonsense").status_code == 200


def test_sort_orders_and_page_links_keep_the_sort(
    client, settings, consultation, question, user, other_user
):
    settings.THREADS_PER_PAGE = 2
    a, b, c = _roots(question, user, 3)
    _replies(b, other_user, 2)
    _replies(a, other_user, 1)

    assert _ids(_get(client, URL + "?sort=newest"))[:1] == [c.pk]
    replies_first = _ids(_get(client, URL + "?sort=replies"))
    assert replies_first[0] == b.pk and a.pk in replies_first
    # a has the latest reply.
    assert _ids(_get(client, URL + "?sort=activity"))[0] == a.pk
    html = _get(client, URL + "?sort=newest")
    assert f'href="{URL}?sort=newest&amp;page=2"' in html
    assert '<option value="newest" selected>' in html


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "logged-in"])
def test_question_page_query_count_is_the_same_for_10_and_100_threads(
    client, consultation, question, user, other_user, logged_in
):
    if logged_in:
        client.force_login(user)
    for root in _roots(question, user, 10):
        _replies(root, other_user, 2)
    few = _count(client, URL)
    for root in _roots(question, other_user, 90):
        _replies(root, user, 15)
    assert _count(client, URL) == few
    assert _count(client, URL + "?sort=activity") == few


def test_long_thread_shows_first_replies_and_a_link_to_the_whole_thread(
    client, settings, consultation, question, user, other_user
):
    settings.REPLIES_SHOWN = 3
    (root,) = _roots(question, user, 1)
    replies = _replies(root, other_user, 5)

    html = _get(client, URL)
    assert _ids(html) == [root.pk] + [r.pk for r in replies[:3]]
    assert "Show 2 more replies" in html
    assert f'href="{URL}?thread={root.pk}#comment-{replies[2].pk}"' in html
    # The script that expands the thread in place comes only where a thread is cut short.
    assert '<script src="/static/js/threads.js" defer></script>' in html

    whole = _get(client, URL + f"?thread={root.pk}")
    assert _ids(whole) == [root.pk] + [r.pk for r in replies]
    assert "Show 2 more" not in whole and f'href="{URL}">Back to all threads' in whole
    assert "<script" not in whole


def test_permalink_to_a_thread_on_page_3_lands_there_with_the_anchor(
    client, settings, consultation, question, user
):
    settings.THREADS_PER_PAGE = 2
    roots = _roots(question, user, 6)
    response = client.get(roots[4].get_absolute_url())
    assert roots[4].get_absolute_url() == f"/consultations/c/{roots[4].pk}/"
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?page=3#comment-{roots[4].pk}"
    assert roots[4].pk in _ids(_get(client, response["Location"]))


def test_permalink_of_a_reply_beyond_the_shown_ones_opens_its_thread(
    client, settings, consultation, question, user, other_user
):
    settings.REPLIES_SHOWN = 2
    (root,) = _roots(question, user, 1)
    replies = _replies(root, other_user, 4)
    deep = Comment.objects.create(
        question=question, author=user, body="<p>d</p>", parent=replies[3]
    )

    assert client.get(replies[1].get_absolute_url())["Location"] == f"{URL}#comment-{replies[1].pk}"
    location = client.get(deep.get_absolute_url())["Location"]
    assert location == f"{URL}?thread={root.pk}#comment-{deep.pk}"
    assert deep.pk in _ids(_get(client, location))


def test_permalink_of_a_hidden_comment_redirects_and_of_a_draft_is_not_found(
    client, consultation, question, user, make_consultation
):
    (root,) = _roots(question, user, 1)
    Comment.objects.filter(pk=root.pk).update(status=Comment.Status.HIDDEN)
    assert client.get(root.get_absolute_url()).status_code == 302
    consultation.is_published = False
    consultation.save()
    assert client.get(root.get_absolute_url()).status_code == 404


def test_posting_from_the_question_page_lands_on_the_comment_with_its_confirmation(
    client, consultation, question, user
):
    client.force_login(user)
    response = client.post(f"{URL}comment/", {"body": "A considered view on borders."}, follow=True)
    comment = Comment.objects.get()
    assert response.redirect_chain[-1][0] == f"{URL}#comment-{comment.pk}"
    html = response.content.decode()
    article = html[html.index(f'id="comment-{comment.pk}"') :]
    assert "Your comment has been posted." in article[:600]


def test_large_consultation_page_shows_first_threads_and_links_to_each_question(
    client, settings, consultation, question, question2, user, other_user
):
    settings.CONSULTATION_ONE_PAGE_MAX = 10
    settings.THREADS_ON_CONSULTATION_PAGE = 2
    settings.REPLIES_SHOWN = 2
    roots = _roots(question, user, 4)
    replies = _replies(roots[0], other_user, 5)
    other = _roots(question2, user, 3)

    html = _get(client, consultation.get_absolute_url())

    shown = _ids(html)
    assert shown == [
        roots[0].pk,
        replies[0].pk,
        replies[1].pk,
        roots[1].pk,
        *[r.pk for r in other[:2]],
    ]
    assert "Show 3 more replies" in html
    assert f'href="{URL}">All 9 comments on question 1</a>' in html
    assert "All 3 comments on question 2" in html
    assert "2 participants" in html


def test_small_consultation_page_still_shows_everything(
    client, consultation, question, user, other_user
):
    roots = _roots(question, user, 5)
    replies = _replies(roots[0], other_user, 12)

    html = _get(client, consultation.get_absolute_url())

    assert _ids(html) == [roots[0].pk, *[r.pk for r in replies], *[r.pk for r in roots[1:]]]
    assert "All 17 comments" not in html and "more replies" not in html


def test_logging_in_from_a_question_page_comes_back_to_that_page(client, question):
    html = _get(client, URL)

    assert 'href="/accounts/login/?next=/consultations/safe-borders/questions/1/%23question-1"' in (
        html
    )


def test_a_long_thread_in_full_comes_in_pages_that_keep_each_reply_with_its_own(
    client, settings, consultation, question, user, other_user
):
    settings.REPLIES_SHOWN = 2
    settings.THREAD_COMMENTS_PER_PAGE = 5
    (root,) = _roots(question, user, 1)
    replies = _replies(root, other_user, 6)
    # The second reply has three of its own: it and they stay on one page.
    nested = [
        Comment.objects.create(
            question=question, author=user, body=f"<p>Sub {i}</p>", parent=replies[1]
        )
        for i in range(3)
    ]
    counts.refresh(question.pk)
    url = f"{URL}?thread={root.pk}"
    pages = []
    html = _get(client, url)
    pages.append(_ids(html))
    assert 'rel="next"' in html and "Page 1 of 3" in html
    # The thread's own "Show N more replies" leads on (and threads.js loads it in place).
    more = re.search(r'<a href="([^"]+)" data-thread-more>Show (\d+) more replies</a>', html)
    assert more and more.group(1) == f"{url}&amp;page=2#comment-{root.pk}"
    assert int(more.group(2)) == 8  # 9 replies in all, 1 on this page
    for number in (2, 3):
        pages.append(_ids(_get(client, f"{url}&page={number}")))
    ids = {c.pk: c for c in [root, *replies, *nested]}
    # The root heads every page; each other comment is on exactly one.
    assert all(page[0] == root.pk for page in pages)
    shown = [pk for page in pages for pk in page[1:]]
    assert sorted(shown) == sorted(pk for pk in ids if pk != root.pk)
    assert pages[0][1:] == [replies[0].pk]  # the next reply brings four comments: page 2
    assert pages[1][1:] == [replies[1].pk, *[c.pk for c in nested]]
    assert all(len(page) <= 1 + settings.THREAD_COMMENTS_PER_PAGE for page in pages)
    # A permalink finds the page of the thread that shows the comment (the first replies show
    # on the question's page already).
    in_order = [(number, pk) for number, page in enumerate(pages, 1) for pk in page[1:]]
    for position, (number, pk) in enumerate(in_order):
        location = client.get(f"/consultations/c/{pk}/")["Location"]
        if position < settings.REPLIES_SHOWN:
            assert location == f"{URL}#comment-{pk}"
        else:
            suffix = f"&page={number}" if number > 1 else ""
            assert location == f"{URL}?thread={root.pk}{suffix}#comment-{pk}"


def test_no_page_of_a_busy_question_weighs_more_than_300_kb(
    client, consultation, question, user, other_user
):
    """Full pages of threads as busy as they come: every thread longer than shown, every
    comment a paragraph of about 450 characters with three objectives."""
    body = "<p>" + "Regular pathways and fair recruitment protect migrant workers. " * 7 + "</p>"
    objectives = list(Objective.objects.filter(number__in=[5, 6, 23]))
    for i in range(45):
        root = Comment.objects.create(question=question, author=user, body=body)
        root.objectives.set(objectives)
        parent = root
        for j in range(30 if i == 0 else 8):
            parent = Comment.objects.create(
                question=question, author=other_user, body=body, parent=root if j % 2 else parent
            )
            parent.objectives.set(objectives)
    counts.refresh(question.pk)
    longest = Comment.objects.get(
        question=question,
        level=0,
        tree_id=Comment.objects.filter(question=question, level=0)
        .order_by("tree_id")
        .values("tree_id")[:1],
    )
    sizes = {}
    for url in (
        URL,
        f"{URL}?page=2",
        f"{URL}?page=3",
        f"{URL}?sort=replies",
        f"{URL}?thread={longest.pk}",
        f"{URL}?objective=5",
        "/consultations/safe-borders/",
    ):
        sizes[url] = len(client.get(url).content)
    assert max(sizes.values()) < 300 * 1024, sizes
    assert sizes[URL] > 150 * 1024  # pages as full as they get: the bound is not vacuous
