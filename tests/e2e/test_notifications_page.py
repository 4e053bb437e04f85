"""The Notifications page and the Follow button in a real browser: a reply shows in the
header's count and, marked unread, on the page, whose link leads to it; following a question
from its page; axe-core on both pages; a phone's width."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from notifications import follows
from tests.conftest import create_user
from tests.e2e.conftest import PHONE, record_axe

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

BLOCKING = {"serious", "critical"}


def _axe(page, request, page_name: str) -> None:
    results = Axe().run(page).response
    assert len(results["passes"]) > 20, "axe-core ran its rules on the page"
    violations = results["violations"]
    counts = record_axe(request.config, page_name, violations, results["testEngine"]["version"])
    print(f"axe {page_name}: {counts}")
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in violations
        if v["impact"] in BLOCKING
    ]
    assert blocking == []


def _no_sideways_scrolling(page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} scrolls sideways at {width[1]} px: {width}"


def test_a_reply_shows_in_the_header_and_on_the_notifications_page(
    page, question, post_comment, log_in_as, request
):
    author = create_user(email="elodie@example.org", display_name="Élodie Martin")
    jorge = create_user(display_name="Jorge Ramírez", organisation="Red de Ciudades")
    parent = post_comment(question=question, author=author, body="Portable social protection.")
    reply = post_comment(
        question=question, author=jorge, parent=parent, body="Our city pilots exactly this."
    )

    log_in_as(author)
    page.goto("/")
    link = page.get_by_role("link", name="Notifications (1 unread)")
    expect(link).to_be_visible()
    expect(link.locator(".count-badge")).to_have_text("1")

    link.click()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    expect(page.locator("main h1")).to_have_text("Notifications")
    item = page.locator("li.notification").first
    expect(item).to_contain_text("Jorge Ramírez replied to your comment")
    expect(item).to_contain_text("Our city pilots exactly this.")
    expect(item.locator(".badge--new")).to_have_text("New")
    expect(page.locator("li.notification--unread")).to_have_count(1)
    # Being read: the header counts none here.
    expect(page.locator(".site-nav .count-badge")).to_have_count(0)
    _axe(page, request, "notifications")
    page.set_viewport_size(PHONE)
    _no_sideways_scrolling(page)
    expect(item.get_by_role("link")).to_be_in_viewport()

    item.get_by_role("link", name="Jorge Ramírez replied to your comment").click()
    target = page.locator(f"article#comment-{reply.pk}")
    expect(page).to_have_url(re.compile(rf"#comment-{reply.pk}$"))
    expect(target).to_contain_text("Our city pilots exactly this.")
    expect(target).to_be_in_viewport()

    # Read now: no count in the header, no mark on the page.
    page.goto("/notifications/")
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    expect(page.locator("li.notification--unread")).to_have_count(0)
    expect(page.locator("li.notification")).to_have_count(1)


def test_the_follow_button_on_a_question_page(page, question, log_in_as, request):
    amina = create_user(display_name="Amina Diallo")
    log_in_as(amina)
    url = f"{question.consultation.get_absolute_url()}questions/1/"
    page.goto(url)
    _axe(page, request, "question (follow button)")

    page.get_by_role("button", name="Follow question 1").click()
    expect(page).to_have_url(re.compile(re.escape(url) + "$"))
    expect(page.locator(".follow-form__state")).to_have_text(re.compile(r"Following"))
    expect(page.get_by_text("You follow question 1 now.")).to_be_visible()
    stop = page.get_by_role("button", name="Stop following question 1")
    expect(stop).to_be_visible()
    assert follows.is_following(amina, question=question)
    _axe(page, request, "question (following)")

    page.set_viewport_size(PHONE)
    _no_sideways_scrolling(page)
    expect(stop).to_be_in_viewport()
    stop.click()
    expect(page.get_by_role("button", name="Follow question 1")).to_be_visible()
    assert not follows.is_following(amina, question=question)


def test_a_new_comment_since_the_last_visit_is_marked(
    page, question, post_comment, log_in_as, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from consultations.models import Comment
    from notifications.models import ConsultationVisit

    reader = create_user(display_name="Amina Diallo")
    writer = create_user(display_name="Jonas Berg")
    old = post_comment(question=question, author=writer, body="From before.")
    log_in_as(reader)
    page.goto(question.consultation.get_absolute_url())
    expect(page.locator(f"article#comment-{old.pk}")).to_be_visible()
    expect(page.locator(".comment__new")).to_have_count(0)

    ago = timezone.now() - timedelta(seconds=settings.VISIT_GAP_SECONDS + 60)
    ConsultationVisit.objects.filter(user=reader).update(last_seen_at=ago)
    Comment.objects.filter(pk=old.pk).update(created_at=ago - timedelta(minutes=1))
    new = post_comment(question=question, author=writer, body="Since you left.")
    page.reload()
    mark = page.locator(f"article#comment-{new.pk} .comment__new")
    expect(mark).to_have_text("New since your last visit")
    expect(page.locator(f"article#comment-{old.pk} .comment__new")).to_have_count(0)
