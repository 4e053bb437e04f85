"""What people do on the site, in a real browser: read, sign up, post, reply, export, hide."""

import csv
import io
import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.models import StakeholderType, User
from consultations.export import COLUMNS
from consultations.models import Comment
from tests.conftest import create_user
from tests.e2e.conftest import long_body

pytestmark = [
    pytest.mark.e2e,
    # The live server reads committed data; serialized_rollback restores the objectives and the
    # Moderators group (data migrations) that the flush after each test removes.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def thread_item(page, comment_id: int):
    return page.locator(f"article#comment-{comment_id}")


def test_anonymous_visitor_reads_and_is_invited_to_log_in(page, demo):
    page.goto(demo.get_absolute_url())

    expect(page.get_by_role("heading", level=1)).to_have_text(demo.title)
    expect(page.locator("ol.thread article.comment").first).to_be_visible()
    invite = page.get_by_role("link", name="Log in to post a comment").first
    expect(invite).to_be_visible()
    expect(invite).to_have_attribute("href", re.compile(r"^/accounts/login/\?next="))
    # Reading needs no account, and an anonymous visitor is offered no form to fill.
    expect(page.locator("textarea[name=body]")).to_have_count(0)


def test_newcomer_signs_up_confirms_posts_and_replies(page, question, post_comment, mailoutbox):
    other = create_user(display_name="Jonas Berg", organisation="Nordic Cities Forum")
    theirs = post_comment(question=question, author=other, body="Start here.")
    consultation_url = question.consultation.get_absolute_url()

    page.goto(consultation_url)
    page.locator("header.site-header").get_by_role("link", name="Sign up").click()
    page.locator("#id_email").fill("newcomer@example.org")
    page.locator("#id_display_name").fill("Nadia Newcomer")
    page.locator("#id_organisation").fill("Coastal Cities Network")
    page.locator("#id_stakeholder_type").select_option(StakeholderType.LOCAL_GOVERNMENT)
    page.locator("#id_password1").fill("a long and unusual passphrase")
    page.locator("#id_password2").fill("a long and unusual passphrase")
    page.locator("main form button[type=submit]").click()

    # The confirmation link comes by email (the live server runs in this process: locmem).
    expect(page.locator("main h1")).to_be_visible()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["newcomer@example.org"]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mailoutbox[0].body).group(0)
    page.goto(link)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("header.site-header")).to_contain_text("Nadia Newcomer")

    # A comment with two objective tags.
    page.goto(consultation_url)
    page.locator("#question-1 details.comment-compose > summary").click()
    form = page.locator("#question-1-form")
    form.locator("textarea[name=body]").fill("Search and rescue must be coordinated.")
    form.locator("input[name=objectives][value='8']").check()
    form.locator("input[name=objectives][value='10']").check()
    form.locator("button[type=submit]").click()
    mine = Comment.objects.get(author__email="newcomer@example.org")
    expect(page).to_have_url(re.compile(rf"#comment-{mine.pk}$"))
    tags = thread_item(page, mine.pk).locator("ul.tags a.tag")
    expect(tags).to_have_count(2)
    expect(tags.nth(0)).to_have_attribute("href", re.compile(r"\?objective=8#questions$"))
    expect(tags.nth(1)).to_have_attribute("href", re.compile(r"\?objective=10#questions$"))

    # A reply to someone else, then a reply to that reply.
    thread_item(page, theirs.pk).locator(f"a[href$='?parent={theirs.pk}']").click()
    page.locator("#comment-body").fill("Cities can host the coordination centres.")
    page.locator("#comment-form button[type=submit]").click()
    reply = Comment.objects.get(parent=theirs)
    expect(thread_item(page, reply.pk).locator(".comment__reply-to")).to_contain_text("Jonas Berg")

    thread_item(page, reply.pk).locator(f"a[href$='?parent={reply.pk}']").click()
    page.locator("#comment-body").fill("Adding: with a shared budget.")
    page.locator("#comment-form button[type=submit]").click()
    second = Comment.objects.get(parent=reply)
    expect(thread_item(page, second.pk)).to_contain_text("with a shared budget")
    expect(thread_item(page, second.pk).locator(".comment__reply-to")).to_contain_text(
        "Nadia Newcomer"
    )
    # Nested lists: the thread's list, the reply's list, the reply-to-reply's list.
    nested = page.locator(
        f"ol.thread > li > ol.replies > li > ol.replies > li > article#comment-{second.pk}"
    )
    expect(nested).to_have_count(1)
    newcomer = User.objects.get(email="newcomer@example.org")
    assert newcomer.profile.stakeholder_type == StakeholderType.LOCAL_GOVERNMENT
    assert [c.level for c in (mine, reply, second)] == [0, 1, 2]


def test_read_more_expands_a_long_comment(page, question, post_comment):
    long = post_comment(question=question, author=create_user(), body=long_body())
    page.goto(question.consultation.get_absolute_url())

    body = page.locator(f"#comment-{long.pk}-body")
    summary = thread_item(page, long.pk).locator("details.read-more > summary")
    expect(summary).to_have_accessible_name(re.compile(r"^Read more"))
    clipped = body.evaluate("el => el.scrollHeight - el.clientHeight")
    assert clipped > 50, "a long comment starts shortened"

    summary.click()
    expect(summary).to_have_accessible_name(re.compile(r"^Show less"))
    assert body.evaluate("el => el.scrollHeight - el.clientHeight") <= 1
    last = body.locator("p").last
    last.scroll_into_view_if_needed()
    expect(last).to_be_visible()
    box, frame = last.bounding_box(), body.bounding_box()
    assert box["y"] + box["height"] <= frame["y"] + frame["height"] + 1, "nothing cut off"


def test_objective_filter_narrows_and_leads_back_into_the_thread(page, question, post_comment):
    author, other = create_user(), create_user()
    tagged = post_comment(question=question, author=author, body="On 8.", objectives=[8])
    untagged = post_comment(question=question, author=other, body="Untagged.")
    # A tagged reply in the untagged comment's thread: the filter finds it too.
    reply = post_comment(
        question=question, author=author, parent=untagged, body="Also on 8.", objectives=[8]
    )
    page.goto(question.consultation.get_absolute_url())
    expect(page.locator("article.comment")).to_have_count(3)

    page.locator("#objective-filter").select_option("8")
    page.locator("form.filter-form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"\?objective=8&stakeholder=#questions$"))
    expect(page.locator("article.comment")).to_have_count(2)
    expect(thread_item(page, tagged.pk)).to_have_count(1)
    expect(thread_item(page, untagged.pk)).to_have_count(0)
    link = thread_item(page, reply.pk).locator(f"a[href$='/c/{reply.pk}/']").last
    expect(link).to_contain_text("View in thread")
    link.click()

    # Through the comment's permalink, to its question's page.
    expect(page).to_have_url(re.compile(rf"/safe-borders/questions/1/#comment-{reply.pk}$"))
    expect(page.locator("article.comment")).to_have_count(3)  # the whole thread again
    assert page.evaluate("document.querySelector(':target').id") == f"comment-{reply.pk}"
    expect(thread_item(page, reply.pk)).to_be_in_viewport()
    expect(thread_item(page, reply.pk).locator(".comment__reply-to")).to_be_visible()


def test_refused_post_keeps_the_typed_text(page, question, settings, log_in_as):
    settings.COMMENT_RATE_LIMITS = ["1/m"]
    log_in_as(create_user(display_name="Quick Poster"))
    page.goto(question.consultation.get_absolute_url())
    page.locator("#question-1-body").fill("My first point.")
    page.locator("#question-1-form button[type=submit]").click()
    expect(page.locator("article.comment")).to_have_count(1)

    page.locator("#question-1 details.comment-compose > summary").click()
    page.locator("#question-1-body").fill("A second point, typed with care.")
    page.locator("#question-1-form input[name=objectives][value='4']").check()
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#question-1-form button[type=submit]").click()

    assert posted.value.status == 429
    expect(page.get_by_role("alert").first).to_be_visible()
    expect(page.locator("#comment-body")).to_have_value("A second point, typed with care.")
    expect(page.locator("#comment-form input[name=objectives][value='4']")).to_be_checked()
    assert Comment.objects.count() == 1


def test_staff_downloads_the_csv(page, question, post_comment, log_in_as):
    author = create_user(display_name="Amina Diallo", organisation="Sahel Migrant Network")
    first = post_comment(question=question, author=author, body="=1+1 first")
    reply = post_comment(question=question, author=author, parent=first, body="A reply.")
    log_in_as(create_user(display_name="Staff Member", is_staff=True))
    page.goto(question.consultation.get_absolute_url())

    with page.expect_download() as download:
        page.locator("a[href$='/export.csv']").click()

    assert download.value.suggested_filename.endswith(".csv")
    raw = download.value.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM, so Excel reads the accents"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == COLUMNS
    assert len(rows) == 3
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [r["id"] for r in records] == [str(first.pk), str(reply.pk)]
    assert records[0]["author"] == "Amina Diallo"
    assert records[0]["text"].startswith("'=1+1"), "no formula reaches the spreadsheet"
    assert records[1]["parent_id"] == str(first.pk)


def test_moderator_hides_a_comment_with_a_reason(page, question, post_comment, log_in_as):
    comment = post_comment(question=question, author=create_user(), body="Buy cheap watches!")
    moderator = create_user(display_name="Mira Moderator", is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderators"))
    log_in_as(moderator)

    page.goto(f"/consultations/comments/{comment.pk}/moderate/")
    page.locator("select[name=reason]").select_option("off_topic")
    page.locator("textarea[name=note]").fill("About another consultation.")
    page.locator("form:has(input[name=action][value=hide]) button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Hidden")

    page.locator(f"nav.breadcrumbs a[href$='/c/{comment.pk}/']").click()
    placeholder = thread_item(page, comment.pk).locator(".comment__placeholder")
    expect(placeholder).to_have_text("Hidden by a moderator: off-topic")
    expect(thread_item(page, comment.pk)).not_to_contain_text("watches")
    comment.refresh_from_db()
    assert comment.is_hidden and comment.hidden_reason == "off_topic"
