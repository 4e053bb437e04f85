"""Participants' rights in a real browser: the privacy notice, appearing as "Participant from"
one's stakeholder type, downloading one's data (built in the background, emailed as a link),
and deleting one's account, after which the thread shows "Former
participant"; axe-core on each page, the delete page at a phone's width."""

import io
import json
import re
import zipfile

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from playwright.sync_api import expect

from accounts.models import User
from tests.conftest import create_user
from tests.e2e.conftest import PHONE, record_axe

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct horse battery staple"


def axe_clean(page, request, name: str) -> None:
    results = Axe().run(page).response
    assert len(results["passes"]) > 20, "axe-core ran its rules on the page"
    counts = record_axe(
        request.config, name, results["violations"], results["testEngine"]["version"]
    )
    assert counts.get("serious", 0) == counts.get("critical", 0) == 0, results["violations"]


def log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_a_participant_hides_their_name_then_deletes_their_account(
    page, question, post_comment, request
):
    amina = create_user(
        email="amina@example.org", display_name="Amina Diallo", organisation="Sahel Network"
    )
    jonas = create_user(display_name="Jonas Berg")
    mine = post_comment(question=question, author=amina, body="Birth registration at borders.")
    post_comment(question=question, author=jonas, parent=mine, body="Our city registers at once.")
    thread = question.get_absolute_url()
    article = page.locator(f"article#comment-{mine.pk}")

    page.goto("/")
    page.get_by_role("link", name="Privacy notice").click()
    expect(page.locator("main h1")).to_have_text("Privacy notice")
    axe_clean(page, request, "privacy notice")

    log_in(page, "amina@example.org")
    page.goto("/accounts/profile/")
    page.get_by_label("“Participant from” my stakeholder type").check()
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Your profile has been saved.")).to_be_visible()
    axe_clean(page, request, "profile (byline)")
    page.goto(thread)
    expect(article.locator(".comment__author")).to_have_text("Participant from Civil society")
    expect(article).not_to_contain_text("Sahel Network")

    # Download my data: asked for, built in the background, emailed, downloaded.
    page.goto("/accounts/profile/")
    page.get_by_role("link", name="Download my data").click()
    expect(page.locator("main h1")).to_have_text("Download your data")
    page.get_by_role("button", name="Prepare my data").click()
    expect(page.locator(".messages, [role=status]").first).to_contain_text("preparing your data")
    emailed = [m for m in mail.outbox if "/accounts/my-data/download/" in m.body]
    assert len(emailed) == 1
    link = re.search(r"https?://\S+/accounts/my-data/download/\S+/", emailed[0].body).group(0)
    page.reload()
    axe_clean(page, request, "my data (ready)")
    expect(page.get_by_role("link", name="Download my data")).to_be_visible()
    # The emailed link, opened in the logged-in browser, downloads the file.
    response = page.request.get(link)
    assert response.status == 200 and "attachment" in response.headers["content-disposition"]
    files = zipfile.ZipFile(io.BytesIO(response.body()))
    assert {"profile.json", "comments.json", "reports.json", "notifications.json"} <= set(
        files.namelist()
    )
    profile = json.loads(files.read("profile.json"))
    assert "amina@example.org" in json.dumps(profile)
    assert "Birth registration at borders." in files.read("comments.json").decode()
    assert "Jonas" not in files.read("comments.json").decode()

    page.goto("/accounts/profile/")
    page.get_by_role("link", name="Delete my account").click()
    expect(page.locator("main h1")).to_have_text("Delete your account")
    page.get_by_label("Withdraw them").check()
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("That is not your password.")).to_be_visible()
    # The choice made is kept; nothing was deleted.
    expect(page.get_by_label("Withdraw them")).to_be_checked()
    axe_clean(page, request, "delete account (error)")
    page.set_viewport_size(PHONE)
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width

    page.get_by_label("Leave them in the discussion").check()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_text("Your account has been deleted.")).to_be_visible()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()

    page.goto(thread)
    expect(article.locator(".comment__author")).to_have_text("Former participant")
    expect(article).to_contain_text("Birth registration at borders.")
    expect(page.locator("main")).to_contain_text("Our city registers at once.")
    assert not User.objects.get(pk=amina.pk).is_active

    # The address no longer logs in.
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("amina@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".form-errors")).to_be_visible()
