"""Notifications as people meet them, in a real browser: the reply email's link, one-click
unsubscribe without logging in."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Profile
from consultations.models import Comment
from tests.conftest import create_user

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _send_at_once(settings):
    # Emails go as soon as the write commits (no waiting for more replies to coalesce).
    settings.NOTIFICATION_COALESCE_SECONDS = 0


def _reply_in_browser(page, log_in_as, *, replier, parent, text):
    log_in_as(replier)
    page.goto(parent.get_absolute_url())
    page.locator(f"article#comment-{parent.pk} a[href$='?parent={parent.pk}']").click()
    page.locator("#comment-body").fill(text)
    page.locator("#comment-form button[type=submit]").click()
    reply = Comment.objects.get(parent=parent, body_text__contains=text)
    expect(page).to_have_url(re.compile(rf"#comment-{reply.pk}$"))
    return reply


def _replies_to(mailoutbox, address):
    return [m for m in mailoutbox if m.to == [address] and "repl" in m.subject.lower()]


def test_a_reply_email_leads_to_the_reply(
    browser, live_server, page, question, post_comment, log_in_as, mailoutbox
):
    author = create_user(email="elodie@example.org", display_name="Élodie Martin")
    jorge = create_user(display_name="Jorge Ramírez", organisation="Red de Ciudades")
    parent = post_comment(question=question, author=author, body="Portable social protection.")

    reply = _reply_in_browser(
        page, log_in_as, replier=jorge, parent=parent, text="Our city pilots exactly this."
    )

    [email] = _replies_to(mailoutbox, "elodie@example.org")
    assert "Jorge Ramírez" in email.body
    # The reply's permalink, on the site the reply was posted to.
    link = live_server.url + reply.get_absolute_url()
    assert link in email.body
    assert link in email.alternatives[0][0]

    # Élodie follows the link in her own browser (logged in or not, the reply is public).
    elodie = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740})
    try:
        her_page = elodie.new_page()
        her_page.goto(link)
        target = her_page.locator(f"article#comment-{reply.pk}")
        expect(target).to_be_visible()
        expect(target).to_contain_text("Our city pilots exactly this.")
        expect(target).to_be_in_viewport()
        expect(her_page).to_have_url(re.compile(rf"#comment-{reply.pk}$"))
    finally:
        elodie.close()


def test_one_click_unsubscribe_without_logging_in(
    browser, live_server, page, question, post_comment, log_in_as, mailoutbox
):
    author = create_user(email="amina@example.org", display_name="Amina Diallo")
    jonas = create_user(display_name="Jonas Berg")
    parent = post_comment(question=question, author=author, body="Regular pathways first.")
    _reply_in_browser(page, log_in_as, replier=jonas, parent=parent, text="Agreed, and fast.")
    [email] = _replies_to(mailoutbox, "amina@example.org")
    header = email.extra_headers["List-Unsubscribe"]
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = header.strip("<>")
    assert link in email.body  # the footer carries the same link

    # A fresh browser with no session: the link asks to confirm, the button stops the emails.
    stranger = browser.new_context(base_url=live_server.url)
    try:
        her_page = stranger.new_page()
        her_page.goto(link)
        expect(her_page.locator("main h1")).to_be_visible()
        assert Profile.objects.get(user=author).email_replies  # a GET changes nothing
        her_page.locator("main form button[type=submit]").click()
        expect(her_page.locator("main")).to_contain_text(re.compile("no longer", re.I))
        expect(her_page.locator("header.site-header")).to_contain_text("Log in")
    finally:
        stranger.close()
    assert not Profile.objects.get(user=author).email_replies

    # The next reply emails her no more.
    mailoutbox.clear()
    post_comment(question=question, author=jonas, body="One more thought.", parent=parent)
    assert _replies_to(mailoutbox, "amina@example.org") == []
