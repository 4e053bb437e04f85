"""The analyst coding pages in a real browser: a staff member codes a comment from the filtered
list and comes back to it; axe-core finds nothing serious on the pages; nothing overflows a phone.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from accounts.models import User
from consultations.models import Comment
from insights import coding
from insights.models import CodeAssignment, KeyQuote
from tests.e2e.conftest import PHONE, record_axe

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

STAFF = "staff@example.org"  # the demo's staff account (README)
BLOCKING = {"serious", "critical"}


@pytest.fixture
def staff(demo, log_in_as):
    user = User.objects.get(email=STAFF)
    log_in_as(user)
    return user


def _base(demo) -> str:
    return f"{demo.get_absolute_url()}insights/"


def test_staff_code_a_comment_from_the_filtered_list_and_come_back_to_it(page, demo, staff):
    code = coding.create_code(staff, demo, "Safe pathways")
    comment = Comment.objects.filter(question__consultation=demo, question__number=2).first()
    page.goto(demo.get_absolute_url())
    page.get_by_role("link", name="Insights for staff").click()
    page.get_by_role("navigation", name="Insights sections").get_by_role(
        "link", name="Comments and coding"
    ).click()
    page.get_by_label("Question", exact=True).select_option("2")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Comments and coding")
    assert "question=2" in page.url
    item = page.locator(f"#comment-{comment.pk}")
    item.get_by_text(f"Code comment #{comment.pk}").click()
    item.get_by_label("Safe pathways", exact=True).check()
    item.get_by_label("Note on “Safe pathways”").fill("Names the routes")
    item.get_by_role("checkbox", name="Key quote").check()
    item.get_by_role("button", name="Save coding").click()

    expect(page.get_by_text(f"Coding of comment #{comment.pk} saved (2 changes).")).to_be_visible()
    assert "question=2" in page.url and page.url.endswith(f"#comment-{comment.pk}")
    expect(page.locator(f"#comment-{comment.pk} .tag--code")).to_have_text("Safe pathways")
    assignment = CodeAssignment.objects.get(code=code, comment=comment)
    assert assignment.note == "Names the routes"
    assert KeyQuote.objects.filter(comment=comment).exists()


def _comments(page, demo):
    page.goto(f"{_base(demo)}comments/")
    page.locator("details.coded-comment__coding > summary").first.click()


def _codes_with_error(page, demo):
    page.goto(f"{_base(demo)}codes/")
    page.get_by_label("Name").fill("Safe pathways")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Add code").click()
    assert posted.value.status == 400


def _coding_refused(page, demo):
    comment = Comment.objects.filter(
        question__consultation=demo, code_assignments__isnull=True
    ).first()
    page.goto(f"{_base(demo)}comments/{comment.pk}/coding/")
    page.get_by_label("Note on “Safe pathways”").fill("A note without its code")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Save coding").click()
    assert posted.value.status == 400
    expect(page.get_by_label("Note on “Safe pathways”")).to_have_value("A note without its code")


PAGES = {
    "insights comments": _comments,
    "insights codes with error": _codes_with_error,
    "insights coding refused": _coding_refused,
    "insights log": lambda page, demo: page.goto(f"{_base(demo)}log/"),
    "insights delete code": lambda page, demo: page.goto(
        f"{_base(demo)}codes/{demo.codes.get().pk}/delete/"
    ),
}


@pytest.mark.parametrize("page_name", PAGES)
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_axe_finds_nothing_serious_and_nothing_overflows(
    page, demo, staff, request, page_name, viewport
):
    code = coding.create_code(staff, demo, "Safe pathways", "Regular routes")
    for comment in Comment.objects.filter(question__consultation=demo)[:3]:
        coding.assign(staff, comment, code, "A note")
        coding.flag_key_quote(staff, comment)
    if viewport == "phone":
        page.set_viewport_size(PHONE)
    PAGES[page_name](page, demo)
    expect(page.locator("main h1")).to_be_visible()

    results = Axe().run(page).response
    violations = results["violations"]
    record_axe(
        request.config, f"{page_name} ({viewport})", violations, results["testEngine"]["version"]
    )
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in violations
        if v["impact"] in BLOCKING
    ]
    assert blocking == []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
