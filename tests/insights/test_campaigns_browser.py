"""The Campaigns page in a real browser: axe-core finds nothing serious, on a desktop and on a
phone, and a phone needs no sideways scrolling (Chromium as in tests/e2e; skipped without it)."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from consultations import services
from consultations.models import Question
from tests.conftest import create_consultation, create_user
from tests.e2e.conftest import PHONE, _plain_http, browser, context, log_in_as, page  # noqa: F401
from tests.insights.test_campaigns import REALISTIC, VARIANTS

# Above: the browser fixtures of tests/e2e, used here too (pytest finds the fixtures a module
# imports).
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_campaigns_page_has_no_serious_axe_violation_and_fits_a_phone(
    page,  # noqa: F811
    log_in_as,  # noqa: F811
):
    consultation = create_consultation(title="Safe borders review", slug="safe-borders")
    question = Question.objects.create(consultation=consultation, number=1, text="Priorities?")
    for i, text in enumerate(VARIANTS[:6] + [REALISTIC[0], REALISTIC[0] + " Thank you."]):
        author = create_user(organisation=f"Organisation {i % 4}")
        services.comment_create(question=question, author=author, body=text)  # tasks run here
    log_in_as(create_user(is_staff=True))
    for viewport in (None, PHONE):
        if viewport:
            page.set_viewport_size(viewport)
        page.goto(f"/consultations/{consultation.slug}/insights/campaigns/")
        expect(page.locator("main h1")).to_have_text("Campaigns and near-identical comments")
        expect(page.locator("article.campaign")).to_have_count(2)
        violations = Axe().run(page).response["violations"]
        serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
        assert serious == []
        width = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert width <= 0
