"""Accessibility in a real browser: axe-core on each kind of page, the keyboard alone, a phone."""

import re

import pytest
from allauth.account.models import EmailAddress
from axe_playwright_python.sync_playwright import Axe
from django.db.models import Count
from django.test import override_settings
from playwright.sync_api import expect

from accounts.models import User
from consultations import open_data, services
from consultations.demo_data import CLOSED_CONSULTATION
from consultations.models import Comment, Consultation, Objective, Question
from tests.conftest import create_consultation, create_user
from tests.e2e.conftest import PHONE, focused, long_body, record_axe

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

STAKEHOLDER = "amara.nwosu@demo.example"  # a demo account (consultations/demo_data.py)
BLOCKING = {"serious", "critical"}


def _consultation(page, demo) -> None:
    page.goto(demo.get_absolute_url())


def _comment_form_with_errors(page, demo) -> None:
    page.goto(f"{demo.get_absolute_url()}questions/1/comment/")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#comment-form button[type=submit]").click()  # nothing typed
    assert posted.value.status == 400
    expect(page.locator("#comment-body")).to_have_attribute("aria-invalid", "true")


def _moderation_queue(page, demo) -> None:
    reported = Comment.objects.filter(question__consultation=demo, level=1).first()
    services.comment_report(
        comment=reported,
        reporter=User.objects.exclude(pk=reported.author_id).filter(is_staff=False).first(),
        reason="off_topic",
        details="This belongs under question 2.",
    )
    page.goto("/consultations/moderation/")
    expect(page.locator("ol.queue > li")).to_have_count(1)


def _question_url(demo) -> str:
    return f"{demo.get_absolute_url()}questions/1/"


def _search_results(page, demo) -> None:
    page.goto(demo.get_absolute_url())
    page.get_by_label("Search comments").fill("smuggling")
    page.get_by_label("Search comments").press("Enter")
    expect(page.locator("mark").first).to_be_visible()  # a highlighted match


def _filtered(url: str):
    """A page of comments filtered by the objective most used on the demo's question 1, in pages
    of two (so the page links are checked too), with the filter form, the summary and "View in
    thread"."""

    def visit(page, demo) -> None:
        objective = (
            Objective.objects.filter(
                comments__question__consultation=demo,
                comments__question__number=1,
                comments__status=Comment.Status.PUBLISHED,
            )
            .annotate(n=Count("comments"))
            .order_by("-n")
            .first()
        )
        with override_settings(COMMENTS_PER_FILTERED_PAGE=2):
            page.goto(url.format(demo=demo.get_absolute_url()) + f"?objective={objective.number}")
        expect(page.get_by_role("navigation", name="Pages of matching comments")).to_be_visible()

    return visit


def _closed_with_open_data(page, demo) -> None:
    """The demo's closed consultation, its open-data file built (the tests' task backend runs
    the build at once)."""
    closed = Consultation.objects.get(slug=CLOSED_CONSULTATION.slug)
    open_data.request_build(consultation=closed, by=User.objects.get(email="moderator@example.org"))
    page.goto(closed.get_absolute_url())
    expect(page.locator("#open-data a[download]")).to_be_visible()


def _open_data_staff_page(page, demo) -> None:
    closed = Consultation.objects.get(slug=CLOSED_CONSULTATION.slug)
    page.goto(f"/consultations/{closed.slug}/open-data/")
    page.get_by_role("button", name="Build it now").click()
    expect(page.get_by_role("button", name="Build it again now")).to_be_visible()


# page name -> (who is logged in, how to get there)
PAGES = {
    "home": (None, lambda page, demo: page.goto("/")),
    "consultation (visitor)": (None, _consultation),
    "consultation (participant)": (STAKEHOLDER, _consultation),
    "login": (None, lambda page, demo: page.goto("/accounts/login/")),
    "signup": (None, lambda page, demo: page.goto("/accounts/signup/")),
    "comment form with errors": (STAKEHOLDER, _comment_form_with_errors),
    "profile": (STAKEHOLDER, lambda page, demo: page.goto("/accounts/profile/")),
    "moderation queue": ("moderator@example.org", _moderation_queue),
    "question page (visitor)": (None, lambda page, demo: page.goto(_question_url(demo))),
    "question page (participant)": (STAKEHOLDER, lambda p, demo: p.goto(_question_url(demo))),
    "search results": (None, _search_results),
    "consultation filtered": (None, _filtered("{demo}")),
    "question page filtered": (STAKEHOLDER, _filtered("{demo}questions/1/")),
    "closed consultation with open data": (None, _closed_with_open_data),
    "open-data staff page": ("moderator@example.org", _open_data_staff_page),
}


@pytest.mark.parametrize("page_name", PAGES)
def test_axe_finds_no_serious_or_critical_violation(page, demo, log_in_as, request, page_name):
    email, visit = PAGES[page_name]
    if email:
        log_in_as(User.objects.get(email=email))
    visit(page, demo)
    expect(page.locator("main h1")).to_be_visible()  # the page itself, not an error page

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


def tab_to(page, wanted, *, key: str = "Tab", limit: int = 80) -> dict:
    """Press Tab (or Shift+Tab) until wanted(focused) holds; every stop must show its focus."""
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page)
        assert now["visibleFocus"], f"focus is invisible on {now}"
        if wanted(now):
            return now
    raise AssertionError(f"{limit} presses of {key} never reached the element")


def test_keyboard_alone_signs_in_posts_and_replies(page, live_server):
    consultation = create_consultation(title="Keyboard review", slug="keyboard-review")
    question = Question.objects.create(consultation=consultation, number=1, text="Priorities?")
    other = create_user(display_name="Jonas Berg")
    theirs = services.comment_create(
        question=question, author=other, body=long_body(), objectives=[], parent=None
    )
    me = create_user(email="keys@example.org", display_name="Kim Keys", password="typed-by-hand")
    assert EmailAddress.objects.get(user=me).verified

    page.goto(f"/accounts/login/?next={consultation.get_absolute_url()}")
    # The first Tab reaches the skip link, which moves the focus to the main content.
    skip = tab_to(page, lambda f: True, limit=1)
    assert (skip["href"], skip["text"]) == ("#main", "Skip to main content")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"

    tab_to(page, lambda f: f["name"] == "login")
    page.keyboard.type("keys@example.org")
    tab_to(page, lambda f: f["name"] == "password")
    page.keyboard.type("typed-by-hand")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/consultations/keyboard-review/$"))

    # "Read more" is a disclosure reached by Tab and named for what it does.
    tab_to(page, lambda f: f["tag"] == "SUMMARY")
    summary = page.locator(":focus")
    expect(summary).to_have_accessible_name(re.compile(r"^Read more of the comment by Jonas Berg"))
    page.keyboard.press("Enter")
    expect(page.locator(f"#comment-{theirs.pk} details.read-more")).to_have_attribute("open", "")
    expect(summary).to_have_accessible_name(re.compile(r"^Show less"))

    # A comment on the question: open the form (Space), type, tick an objective, post.
    compose = tab_to(page, lambda f: f["tag"] == "SUMMARY" and "question 1" in f["text"])
    assert compose["text"] == "Comment on question 1"
    page.keyboard.press("Space")
    tab_to(page, lambda f: f["id"] == "question-1-body")
    page.keyboard.type("Typed without a mouse.")
    tab_to(page, lambda f: f["name"] == "objectives" and f["value"] == "8")
    page.keyboard.press("Space")
    expect(page.locator(":focus")).to_be_checked()
    tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "Post comment")
    # Shift+Tab goes back through the form, Tab forward again.
    assert tab_to(page, lambda f: True, key="Shift+Tab", limit=1)["tag"] != "BUTTON"
    tab_to(page, lambda f: f["tag"] == "BUTTON", limit=1)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    mine = Comment.objects.get(author=me)
    expect(page).to_have_url(re.compile(rf"#comment-{mine.pk}$"))

    # A reply to Jonas Berg, from the Reply link under his comment: back up from the new one.
    tab_to(page, lambda f: f["href"].endswith(f"?parent={theirs.pk}"), key="Shift+Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, lambda f: f["id"] == "comment-body")
    page.keyboard.type("And a reply, also from the keyboard.")
    tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "Post reply")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    reply = Comment.objects.get(author=me, parent=theirs)
    # Each reply tree is a nested list, so screen readers announce the levels.
    expect(
        page.locator(f"ol.thread > li > ol.replies > li > article#comment-{reply.pk}")
    ).to_have_count(1)
    expect(page.locator(f"#comment-{reply.pk} .comment__reply-to")).to_contain_text("Jonas Berg")
    assert Comment.objects.get(pk=mine.pk).objectives.count() == 1


def test_phone_width_has_no_sideways_scrolling_and_deep_replies_stay_readable(
    browser, live_server, demo
):
    # Deeper than any demo thread: six levels of replies under a top-level comment.
    question = demo.questions.get(number=1)
    people = [create_user(display_name=f"Person {n}") for n in range(2)]
    parent = None
    for level in range(7):
        parent = services.comment_create(
            question=question,
            author=people[level % 2],
            body=f"Level {level}: a point that needs a few lines to make at a phone's width.",
            objectives=[],
            parent=parent,
        )
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport=PHONE)
    page = context.new_page()

    for url in ("/", demo.get_absolute_url()):
        page.goto(url)
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{url} scrolls sideways at {PHONE['width']} px: {width}"

    boxes = page.evaluate(
        """() => [...document.querySelectorAll('article.comment')].map(el => {
          const text = el.querySelector(':scope > .comment__body');
          const replyTo = el.querySelector(':scope > .comment__reply-to');
          return {
            id: el.id,
            level: [...el.parentElement.closest('ol.thread').querySelectorAll('ol')]
              .filter(ol => ol.contains(el)).length,
            textWidth: text ? text.getBoundingClientRect().width : null,
            replyTo: replyTo ? replyTo.getBoundingClientRect().toJSON() : null,
          };
        })"""
    )
    deepest = max(b["level"] for b in boxes)
    assert deepest >= 6, "the page shows the whole six-level thread"
    for box in boxes:
        if box["textWidth"] is None:  # hidden or deleted: a placeholder, no text
            continue
        assert box["textWidth"] >= 250, f"{box['id']} (level {box['level']}) is too narrow"
        if box["level"]:
            reply_to = box["replyTo"]
            assert reply_to and reply_to["height"] > 0, f"{box['id']} has no 'In reply to'"
            assert 0 <= reply_to["left"] and reply_to["right"] <= PHONE["width"]
    fifth = [b for b in boxes if b["level"] == 5]
    print("text width of 5th-level replies at 375 px:", [round(b["textWidth"]) for b in fifth])
    context.close()
