"""A question's page in a real browser: a long thread expands in place."""

import pytest
from playwright.sync_api import expect

from tests.conftest import create_user

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
