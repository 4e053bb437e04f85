"""A question's page in a real browser: a long thread expands in place, or without JavaScript
opens in full; filtered comments page by links."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import StakeholderType
from tests.conftest import create_user
from tests.e2e.conftest import DESKTOP, TIMEOUT_MS

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_show_more_replies_expands_the_thread_in_place_and_focuses_the_first_new_reply(
    page, settings, question, post_comment
):
    settings.REPLIES_SHOWN = 2
    author = create_user()
    root = post_comment(question=question, author=author, body="The root.")
    replies = [
        post_comment(question=question, author=author, body=f"Reply {n}.", parent=root)
        for n in range(5)
    ]
    page.goto(f"/consultations/{question.consultation.slug}/questions/1/")
    expect(page.locator("article.comment")).to_have_count(3)

    page.get_by_role("link", name="Show 3 more replies").click()

    expect(page.locator("article.comment")).to_have_count(6)
    expect(page.locator(f"#comment-{replies[2].pk}")).to_be_focused()
    assert "?thread=" not in page.url  # the same page, expanded
    expect(page.get_by_role("link", name="Show 3 more replies")).to_have_count(0)


@pytest.fixture
def page_without_js(browser, live_server):
    """A browser with JavaScript switched off: what the links and forms do on their own."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport=DESKTOP, java_script_enabled=False
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_show_more_replies_without_javascript_opens_the_thread_in_full(
    page_without_js, settings, question, post_comment
):
    page = page_without_js
    settings.REPLIES_SHOWN = 2
    author = create_user()
    root = post_comment(question=question, author=author, body="The root.")
    replies = [
        post_comment(question=question, author=author, body=f"Reply {n}.", parent=root)
        for n in range(5)
    ]
    url = f"/consultations/{question.consultation.slug}/questions/1/"
    page.goto(url)
    expect(page.locator("article.comment")).to_have_count(3)
    for reply in replies[2:]:
        expect(page.locator(f"#comment-{reply.pk}")).to_have_count(0)

    page.get_by_role("link", name="Show 3 more replies").click()

    # No script expands it in place: the link itself leads to the whole thread, at the last
    # reply read.
    expect(page).to_have_url(re.compile(rf"{url}\?thread={root.pk}#comment-{replies[1].pk}$"))
    expect(page.locator("article.comment")).to_have_count(6)
    for reply in replies[2:]:
        expect(page.locator(f"#comment-{reply.pk}")).to_be_visible()
        expect(page.locator(f"#comment-{reply.pk}")).to_contain_text(reply.body_text)
    expect(page.get_by_role("link", name=re.compile("more repl"))).to_have_count(0)
    page.get_by_role("link", name="Back to all threads").click()
    expect(page).to_have_url(re.compile(rf"{url}$"))
    expect(page.locator("article.comment")).to_have_count(3)


def test_filtered_question_page_pages_by_links_keeping_the_filter(
    page_without_js, settings, question, post_comment
):
    page = page_without_js
    settings.COMMENTS_PER_FILTERED_PAGE = 2
    academic = create_user(stakeholder_type=StakeholderType.ACADEMIA)
    other = create_user(stakeholder_type=StakeholderType.TRADE_UNION)
    tagged = [
        post_comment(question=question, author=academic, body=f"On 8, number {n}.", objectives=[8])
        for n in range(5)
    ]
    post_comment(question=question, author=other, body="On 8 by a union.", objectives=[8])
    post_comment(question=question, author=academic, body="Untagged.")
    url = f"/consultations/{question.consultation.slug}/questions/1/"
    page.goto(url)

    # The filter form works without JavaScript: a GET form with labelled selects.
    page.get_by_label("Objective", exact=True).select_option("8")
    page.get_by_label("Stakeholder type", exact=True).select_option("academia")
    page.get_by_role("button", name="Filter").click()

    expect(page).to_have_url(re.compile(r"\?objective=8&stakeholder=academia$"))
    expect(page.get_by_role("status")).to_contain_text("Showing 5 comments tagged with objective")
    expect(page.locator("article.comment")).to_have_count(2)
    expect(page.get_by_text("Page 1 of 3")).to_be_visible()
    pages = page.get_by_role("navigation", name="Pages of matching comments")

    pages.get_by_role("link", name="Page 2").click()

    expect(page).to_have_url(re.compile(r"\?objective=8&stakeholder=academia&page=2$"))
    expect(page.get_by_text("Page 2 of 3")).to_be_visible()
    shown = page.locator("article.comment")
    expect(shown).to_have_count(2)
    expect(shown.nth(0)).to_contain_text(tagged[2].body_text)
    expect(shown.nth(1)).to_contain_text(tagged[3].body_text)
    expect(pages.locator("a[aria-current=page]")).to_have_text(re.compile(r"2$"))
    # The form still shows the filters; the next page keeps them.
    expect(page.get_by_label("Objective", exact=True)).to_have_value("8")
    expect(page.get_by_label("Stakeholder type", exact=True)).to_have_value("academia")
    pages.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"\?objective=8&stakeholder=academia&page=3$"))
    expect(page.locator("article.comment")).to_have_count(1)
    expect(page.locator("article.comment")).to_contain_text(tagged[4].body_text)
    expect(page.get_by_text("On 8 by a union.")).to_have_count(0)

    page.get_by_role("link", name="Show all threads").click()
    expect(page).to_have_url(re.compile(rf"{url}$"))
    expect(page.locator("article.comment")).to_have_count(7)
