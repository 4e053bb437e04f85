"""The evidence pack in a real browser, on the demo data: axe-core on the index and the printable
page, a phone's width, what printing hides and keeps whole, and the DOCX the link downloads."""

import io

import docx
import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import User
from insights import evidence
from insights.filters import NO_FILTERS
from tests.e2e.conftest import PHONE, record_axe

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

STAFF = "staff@example.org"  # a demo account (consultations/demo_data.py)
BLOCKING = {"serious", "critical"}


def busiest_objective(consultation):
    """The objective with the most quotes in the demo consultation."""
    rows = evidence.objective_counts(consultation, NO_FILTERS)
    return max(rows, key=lambda row: row["count"])["objective"]


def index_url(consultation) -> str:
    return reverse("insights:evidence", kwargs={"slug": consultation.slug})


def pack_url(consultation, objective) -> str:
    return reverse(
        "insights:evidence_objective",
        kwargs={"slug": consultation.slug, "number": objective.number},
    )


def assert_axe_passes(page, request, name: str) -> None:
    results = Axe().run(page).response
    assert len(results["passes"]) > 20, "axe-core ran its rules on the page"
    violations = results["violations"]
    counts = record_axe(request.config, name, violations, results["testEngine"]["version"])
    print(f"axe {name}: {counts}")
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in violations
        if v["impact"] in BLOCKING
    ]
    assert blocking == []


def test_staff_open_an_objective_pack_print_it_and_download_it(page, demo, log_in_as, request):
    log_in_as(User.objects.get(email=STAFF))
    objective = busiest_objective(demo)
    pack = evidence.build(demo, objective, NO_FILTERS)
    assert pack.total > 0

    page.goto(index_url(demo))
    expect(page.locator("main h1")).to_have_text("Evidence pack per objective")
    assert_axe_passes(page, request, "evidence index")

    page.get_by_role("link", name=f"{objective.number}. {objective.display_title}").click()
    expect(page.locator("main h1")).to_contain_text(f"objective {objective.number}.")
    assert_axe_passes(page, request, "evidence pack")
    expect(page.locator("figure.evidence-quote")).to_have_count(pack.total)

    page.emulate_media(media="print")
    for hidden in (".insights-tabs", "form.filters", ".site-nav", ".evidence__actions"):
        expect(page.locator(hidden).first).to_be_hidden()
    first = page.locator("figure.evidence-quote").first
    assert first.evaluate("el => getComputedStyle(el).breakInside") == "avoid"
    permalink = pack.groups[0].quotes[0].permalink.split("/", 3)[3]
    expect(first.locator("a.evidence-quote__permalink")).to_contain_text(permalink)
    page.emulate_media(media="screen")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download as Word (DOCX)").click()
    assert download.value.suggested_filename == (
        f"{demo.slug}-objective-{objective.number}-evidence.docx"
    )
    document = docx.Document(io.BytesIO(open(download.value.path(), "rb").read()))
    text = "\n".join(p.text for p in document.paragraphs if p.style.name == "Quote")
    for group in pack.groups:
        for quote in group.quotes:
            for paragraph in quote.paragraphs:
                assert paragraph in text


def test_the_pack_fits_a_phone(browser, live_server, demo, request):
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport=PHONE)
    client = Client()
    client.force_login(User.objects.get(email=STAFF))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    page = context.new_page()
    try:
        for url in (index_url(demo), pack_url(demo, busiest_objective(demo))):
            page.goto(url)
            expect(page.locator("main h1")).to_be_visible()
            width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1], f"{url} scrolls sideways at {PHONE['width']} px: {width}"
        assert_axe_passes(page, request, "evidence pack (phone)")
    finally:
        context.close()
