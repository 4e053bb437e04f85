"""One-click unsubscribe: each reply email carries List-Unsubscribe headers with a link signed
for its recipient; the link stops emails about replies without a login (POST, as mail providers
send it), a GET only asks to confirm, and the profile turns them back on."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from consultations.models import Comment
from notifications import digests, follows, unsubscribe
from notifications.models import Notification
from tests.conftest import create_user

pytestmark = pytest.mark.django_db


def _reply_email(question, parent_author, replier, post_comment, mailoutbox, capture):
    parent = post_comment(question=question, author=parent_author)
    with capture(execute=True):
        post_comment(question=question, author=replier, parent=parent)
    return mailoutbox[-1] if mailoutbox else None


def test_a_reply_email_unsubscribes_in_one_click_without_login_and_stops_the_next_ones(
    question,
    user,
    other_user,
    post_comment,
    mailoutbox,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.SITE_URL = "https://consult.example.org"
    mail = _reply_email(
        question, user, other_user, post_comment, mailoutbox, django_capture_on_commit_callbacks
    )
    header = mail.extra_headers["List-Unsubscribe"]
    assert mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    pattern = r"<(https://consult\.example\.org(/notifications/unsubscribe/[^>]+/))>"
    link = re.fullmatch(pattern, header)
    assert link and link.group(1) in mail.body and link.group(1) in mail.alternatives[0][0]
    assert "https://consult.example.org/accounts/profile/" in mail.body

    # What a mail provider sends: a bare POST, no session, no CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        link.group(2), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert "Emails about replies stopped" in response.content.decode()
    user.profile.refresh_from_db()
    assert user.profile.email_replies is False

    sent = len(mailoutbox)
    _reply_email(
        question, user, other_user, post_comment, mailoutbox, django_capture_on_commit_callbacks
    )
    assert len(mailoutbox) == sent  # no second email about a reply
    assert Notification.objects.filter(state=Notification.State.CANCELLED).count() == 1


def test_opening_the_link_only_asks_to_confirm(client, user):
    path = f"/notifications/unsubscribe/{unsubscribe.token(user=user, kind='reply')}/"
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 200 and 'method="post"' in html
    assert "Stop emails about replies?" in html and "Amina Diallo" in html
    user.profile.refresh_from_db()
    assert user.profile.email_replies is True  # a link prefetcher unsubscribes nobody


@pytest.mark.parametrize("change", ["altered", "other salt", "unknown kind", "no account"])
def test_a_link_that_was_changed_or_lost_its_account_says_so_and_changes_nothing(
    client, user, change
):
    from django.core import signing

    token = unsubscribe.token(user=user, kind="reply")
    if change == "altered":
        token = token[:-3] + ("abc" if token[-3:] != "abc" else "xyz")
    elif change == "other salt":
        token = signing.dumps({"user": user.pk, "kind": "reply"}, salt="elsewhere")
    elif change == "unknown kind":
        token = signing.dumps({"user": user.pk, "kind": "everything"}, salt=unsubscribe.SALT)
    else:
        token = signing.dumps({"user": user.pk + 1000, "kind": "reply"}, salt=unsubscribe.SALT)
    response = client.post(f"/notifications/unsubscribe/{token}/")
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    user.profile.refresh_from_db()
    assert user.profile.email_replies is True


def test_the_profile_turns_the_emails_about_replies_off_and_on(client, user):
    client.force_login(user)
    data = {
        "display_name": "Amina Diallo",
        "organisation": "Sahel Migrant Network",
        "stakeholder_type": user.profile.stakeholder_type,
        "language": "",
    }
    assert 'name="email_replies"' in client.get("/accounts/profile/").content.decode()
    client.post("/accounts/profile/", data)  # the box unticked
    user.profile.refresh_from_db()
    assert user.profile.email_replies is False
    client.post("/accounts/profile/", {**data, "email_replies": "on"})
    user.profile.refresh_from_db()
    assert user.profile.email_replies is True


def _digest_email(question, follower, author, post_comment, mailoutbox, capture):

    follows.follow(follower, question=question)
    post_comment(question=question, author=author)
    before = len(mailoutbox)
    with capture(execute=True):
        digests.schedule_digests(timezone.now() + timedelta(days=1))
    mine = [m for m in mailoutbox[before:] if m.to == [follower.email]]
    return mine[0] if mine else None


def test_a_digest_unsubscribes_in_one_click_and_stops_the_digests_only(
    question,
    user,
    other_user,
    post_comment,
    mailoutbox,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.SITE_URL = "https://consult.example.org"
    mail = _digest_email(
        question, user, other_user, post_comment, mailoutbox, django_capture_on_commit_callbacks
    )
    assert mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    pattern = r"<(https://consult\.example\.org(/notifications/unsubscribe/[^>]+/))>"
    link = re.fullmatch(pattern, mail.extra_headers["List-Unsubscribe"])
    assert link and link.group(1) in mail.body and link.group(1) in mail.alternatives[0][0]
    assert unsubscribe.read(link.group(2).split("/")[-2]) == (user.pk, "digest")

    page = Client().get(link.group(2)).content.decode()
    assert "Stop the digests?" in page and "replies?" not in page
    response = Client(enforce_csrf_checks=True).post(
        link.group(2), {"List-Unsubscribe": "One-Click"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Digests stopped" in html and "replies" not in html.split("<main", 1)[-1].lower()
    user.profile.refresh_from_db()
    assert user.profile.email_digest == "off"
    assert user.profile.email_replies is True  # the other kind is untouched

    # The next period's digest: none for her.
    follows.follow(third := create_user(), question=question)
    new = post_comment(question=question, author=other_user)
    Comment.objects.filter(pk=new.pk).update(created_at=new.created_at + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        created = digests.schedule_digests(timezone.now() + timedelta(days=2))
    assert list(
        Notification.objects.filter(pk__in=created).values_list("recipient", flat=True)
    ) == [third.pk]


def test_a_reply_link_stops_replies_only(client, user):
    token = unsubscribe.token(user=user, kind="reply")
    page = client.get(f"/notifications/unsubscribe/{token}/").content.decode()
    assert "Stop emails about replies?" in page and "digest" not in page.lower()
    client.post(f"/notifications/unsubscribe/{token}/")
    user.profile.refresh_from_db()
    assert (user.profile.email_replies, user.profile.email_digest) == (False, "daily")


def test_every_kind_a_link_may_stop_has_a_stop_function():
    from notifications.views import STOP

    assert set(STOP) == set(unsubscribe.KINDS)
