"""Theme suggestions in a real browser: a staff member asks for themes, waits for them and
accepts one as a code; axe-core on each state of the pages; no sideways scrolling on a phone."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from consultations import services
from insights.models import CodeAssignment, ThemeRun
from tests.conftest import create_user
from tests.e2e.conftest import PHONE, record_axe
from tests.insights.test_themes import TOPICS, planted_texts

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

BLOCKING = {"serious", "critical"}


def assert_accessible(page, request, name: str, *, allowed: frozenset = frozenset()) -> None:
    expect(page.locator("main h1")).to_be_visible()
    results = Axe().run(page).response
    counts = record_axe(
        request.config, name, results["violations"], results["testEngine"]["version"]
    )
    print(f"axe {name}: {counts}")
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in results["violations"]
        if v["impact"] in BLOCKING and v["id"] not in allowed
    ]
    assert blocking == []


def assert_fits_a_phone(browser, live_server, cookies, url: str) -> None:
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport=PHONE)
    context.add_cookies(cookies)
    page = context.new_page()
    page.goto(url)
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    context.close()
    assert width[0] <= width[1], f"{url} scrolls sideways at {PHONE['width']} px: {width}"


def test_staff_suggest_follow_and_accept_themes(
    page, context, browser, live_server, log_in_as, question, request
):
    author = create_user(display_name="Amina Diallo", organisation="Sahel Migrant Network")
    for n in range(40):
        for topic in TOPICS:
            services.comment_create(
                question=question, author=author, body=planted_texts(topic, 40)[n], objectives=[]
            )
    staff = create_user(display_name="Staff Member", is_staff=True)
    log_in_as(staff)
    slug = question.consultation.slug

    # A run waiting for its worker: progress, reloading itself.
    waiting = ThemeRun.objects.create(question=question, k=5, requested_by=staff)
    page.goto(f"/consultations/{slug}/insights/themes/{waiting.pk}/")
    expect(page.locator("progress")).to_have_attribute("value", "0")
    # It reloads by the Refresh header (a <meta> refresh is what axe-core flags as critical),
    # and offers to stop reloading (WCAG 2.2.1).
    assert_accessible(page, request, "themes: queued, reloading")
    page.get_by_role("link", name="Stop reloading").click()
    assert_accessible(page, request, "themes: queued, still")

    page.goto(f"/consultations/{slug}/insights/themes/")
    assert_accessible(page, request, "themes: form and runs")
    page.get_by_label("Question").select_option("1")
    page.get_by_label("Number of themes").fill("3")
    page.get_by_role("button", name="Suggest themes").click()
    # The tests' task backend runs the task as the request commits: the themes are there.
    expect(page.get_by_role("heading", name="Theme 1:")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Theme")).to_have_count(3)
    assert_accessible(page, request, "themes: a done run")
    run_url = page.url
    assert_fits_a_phone(browser, live_server, context.cookies(), run_url)

    page.get_by_label("Code name").first.fill("Sea and birth, maybe")
    page.get_by_role("button", name="Accept as a code").first.click()
    expect(page.get_by_text("Accepted as the code “Sea and birth, maybe”.")).to_be_visible()
    assert CodeAssignment.objects.filter(code__name="Sea and birth, maybe").count() >= 30
    assert_accessible(page, request, "themes: a theme accepted")
