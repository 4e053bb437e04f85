"""A newcomer's way to the comment form and back to what they posted, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import StakeholderType
from consultations.models import Comment
from tests.conftest import create_user

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_heading_link_opens_the_folded_form_and_the_confirmation_shows_beside_the_post(
    page, question, post_comment, log_in_as
):
    other = create_user(organisation="IOM", stakeholder_type=StakeholderType.INTERGOVERNMENTAL)
    for n in range(6):  # a thread long enough to push the form out of view
        post_comment(question=question, author=other, body=f"Point {n}. " * 60)
    me = create_user(display_name="Nadia Newcomer")
    log_in_as(me)
    page.goto(question.consultation.get_absolute_url())

    compose = page.locator("#question-1 details.comment-compose")
    expect(compose).not_to_have_attribute("open", "")
    page.get_by_role("link", name="Comment on question 1").click()

    # The fragment opens the folded form and brings it into view.
    expect(compose).to_have_attribute("open", "")
    textarea = page.locator("#question-1-body")
    expect(textarea).to_be_in_viewport()
    textarea.fill("Search and rescue must be coordinated.")
    page.locator("#question-1-form button[type=submit]").click()

    mine = Comment.objects.get(author=me)
    expect(page).to_have_url(re.compile(rf"#comment-{mine.pk}$"))
    confirmation = page.locator(f"article#comment-{mine.pk} .comment__confirmation")
    expect(confirmation).to_have_text("Your comment has been posted.")
    expect(confirmation).to_be_in_viewport()
    expect(page.get_by_text("Your comment has been posted.")).to_have_count(1)
    # The short stakeholder label reads in full for assistive technology.
    byline = page.locator(".stakeholder-type").first
    expect(byline).to_have_attribute("title", "Intergovernmental organisation")


def test_a_permalink_to_a_thread_on_page_3_lands_on_it_and_sorting_reorders_the_threads(
    page, question, post_comment, settings
):
    settings.THREADS_PER_PAGE = 5
    authors = [create_user(display_name=f"Writer {n}") for n in range(3)]
    roots = [
        post_comment(question=question, author=authors[n % 3], body=f"Thread number {n}.")
        for n in range(12)
    ]
    target = roots[11]  # oldest first: threads 10 to 14 make page 3

    page.goto(target.get_absolute_url())

    expect(page).to_have_url(re.compile(rf"questions/1/\?page=3#comment-{target.pk}$"))
    expect(page.locator(f"article#comment-{target.pk}")).to_be_in_viewport()
    pages = page.get_by_role("navigation", name="Pages of threads")
    expect(pages.locator('[aria-current="page"]')).to_have_text(re.compile("3"))
    # Paging is real links: the previous page holds the threads before.
    pages.locator('a[rel="prev"]').click()
    expect(page.locator(f"article#comment-{roots[5].pk}")).to_be_visible()

    page.get_by_label("Sort threads by").select_option("newest")
    page.get_by_role("button", name="Sort").click()

    expect(page).to_have_url(re.compile(r"sort=newest"))
    first = page.locator("ol.thread > li > article.comment").first
    expect(first).to_have_attribute("id", f"comment-{roots[11].pk}")
