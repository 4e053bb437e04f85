"""The insights overview in a real browser: axe-core finds nothing serious at a desktop's and a
phone's width, the charts keep a readable size on the phone, and a matrix cell leads on with its
filters. Uses the browser fixtures of tests/e2e (the system's Chromium; skipped without one)."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import StakeholderType
from tests.e2e import conftest as e2e
from tests.e2e.conftest import DESKTOP, PHONE, record_axe

# The browser fixtures of tests/e2e, for this folder's tests too.
browser, context, page, log_in_as = e2e.browser, e2e.context, e2e.page, e2e.log_in_as
_plain_http = e2e._plain_http

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

BLOCKING = {"serious", "critical"}


@pytest.fixture
def overview(consultation, question, question2, make_user, post_comment):
    city = make_user(organisation="City of Lyon", stakeholder_type=StakeholderType.LOCAL_GOVERNMENT)
    ngo = make_user(
        organisation="<b>Sea</b> Watchers", stakeholder_type=StakeholderType.CIVIL_SOCIETY
    )
    first = post_comment(question=question, author=city, body="Birth registration.", objectives=[4])
    post_comment(question=question, author=ngo, body="Rescue at sea.", objectives=[8, 4])
    post_comment(question=question2, author=ngo, body="Remittances.", objectives=[20])
    post_comment(question=question, author=ngo, body="Agreed.", objectives=[4], parent=first)
    return reverse("insights:overview", kwargs={"slug": consultation.slug})


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_nothing_serious_on_the_overview(
    page, log_in_as, staff_user, overview, request, viewport
):
    log_in_as(staff_user)
    page.set_viewport_size(viewport)
    page.goto(f"{overview}?question=1")
    expect(page.locator("main h1")).to_contain_text("Insights for staff")
    expect(page.locator("figure.insights-chart svg[role=img]")).to_have_count(3)

    results = Axe().run(page).response
    assert len(results["passes"]) > 20, "axe-core ran its rules on the page"
    violations = results["violations"]
    name = f"insights overview ({viewport['width']} px)"
    counts = record_axe(request.config, name, violations, results["testEngine"]["version"])
    print(f"axe {name}: {counts}")
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in violations
        if v["impact"] in BLOCKING
    ]
    assert blocking == []

    # On the phone a chart keeps its size (it scrolls sideways) instead of shrinking its text.
    width = page.locator("figure.insights-chart svg").first.evaluate("e => e.clientWidth")
    assert width >= 480


def test_a_matrix_cell_leads_to_its_comments_with_the_filters(
    page, log_in_as, staff_user, overview
):
    log_in_as(staff_user)
    page.goto(f"{overview}?question=1")
    matrix = page.locator("section[aria-labelledby=objective-stakeholder-heading]")
    matrix.get_by_role("row", name=re.compile(r"^4\. ")).get_by_role(
        "link"
    ).first.click()  # civil society, before local government
    expect(page).to_have_url(re.compile(r"question=1"))
    expect(page).to_have_url(re.compile(r"objective=4"))
    expect(page).to_have_url(re.compile(r"stakeholder_type=civil_society"))
