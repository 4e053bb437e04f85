"""Following a question brings a digest, in a real browser and through a real SMTP server: the
digest lists the new comment with its permalink, which lands on the comment; its one-click
unsubscribe link stops the digests, and the next period emails that person nothing."""

import re
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Profile
from consultations.models import Comment
from notifications import digests
from notifications.models import Follow, Notification
from tests.conftest import create_user
from tests.processes import Mailbox, free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def mailbox(settings):
    """An aiosmtpd server on loopback; Django's SMTP backend sends to it."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield box
    finally:
        box.release.set()
        controller.stop()


def _to(mailbox, address):
    return [m for m in mailbox.messages if m["To"] == address]


def test_following_a_question_brings_a_digest_whose_links_work(
    browser, live_server, page, question, post_comment, log_in_as, mailbox
):
    amina = create_user(email="amina@example.org", display_name="Amina Diallo")
    jorge = create_user(
        display_name="Jorge Ramírez",
        organisation="Red de Ciudades",
        stakeholder_type="local_government",
    )

    # Amina posts in question 1, which follows it.
    log_in_as(amina)
    page.goto(question.consultation.get_absolute_url())
    compose = page.locator("#question-1 details.comment-compose")
    if compose.get_attribute("open") is None:  # open already when nobody has commented yet
        compose.locator("> summary").click()
    form = page.locator("#question-1-form")
    form.locator("textarea[name=body]").fill("Birth registration first.")
    form.locator("button[type=submit]").click()
    mine = Comment.objects.get(author=amina)
    expect(page).to_have_url(re.compile(rf"#comment-{mine.pk}$"))
    assert Follow.objects.filter(user=amina, question=question, active=True).exists()

    # Jorge posts there too; the day's digests go out (the period that holds both comments).
    theirs = post_comment(question=question, author=jorge, body="Our city registers every birth.")
    created = digests.schedule_digests(timezone.now() + timedelta(days=1), base_url=live_server.url)
    assert len(created) == 2  # Amina (Jorge's comment) and Jorge (hers)
    mailbox.wait_for(2)
    (email,) = _to(mailbox, "amina@example.org")
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    link = live_server.url + theirs.get_absolute_url()
    assert "Our city registers every birth." in text and "Jorge Ramírez" in text
    assert "Local or regional government" in text and "Safe borders review" in text
    assert "Birth registration first." not in text  # her own comment is not news to her
    assert link in text and f'href="{link}"' in html

    # The permalink lands on Jorge's comment.
    page.goto(link)
    target = page.locator(f"article#comment-{theirs.pk}")
    expect(page).to_have_url(re.compile(rf"#comment-{theirs.pk}$"))
    expect(target).to_contain_text("Our city registers every birth.")
    expect(target).to_be_in_viewport()

    # The unsubscribe link, opened in a browser without her session, then confirmed.
    unsubscribe = re.search(r"<([^>]+)>", str(email["List-Unsubscribe"])).group(1)
    assert unsubscribe in text and email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    stranger = browser.new_context(base_url=live_server.url)
    try:
        her_page = stranger.new_page()
        her_page.goto(unsubscribe)
        expect(her_page.locator("main h1")).to_contain_text("digests")
        assert Profile.objects.get(user=amina).email_digest == "daily"  # a GET changes nothing
        her_page.locator("main form button[type=submit]").click()
        expect(her_page.locator("main")).to_contain_text(re.compile("no longer", re.I))
    finally:
        stranger.close()
    assert Profile.objects.get(user=amina).email_digest == "off"

    # The next day's new comment: a digest for Jorge's followers, none for her.
    third = post_comment(question=question, author=create_user(), body="A third voice.")
    Comment.objects.filter(pk=third.pk).update(created_at=third.created_at + timedelta(days=1))
    before = len(mailbox.messages)
    created = digests.schedule_digests(timezone.now() + timedelta(days=2), base_url=live_server.url)
    assert Notification.objects.get(pk__in=created).recipient == jorge
    mailbox.wait_for(before + 1)
    assert not Notification.objects.filter(pk__in=created, recipient=amina).exists()
    assert _to(mailbox, "amina@example.org") == [email]
