"""One-click unsubscribe: each reply email carries List-Unsubscribe headers with a link signed
for its recipient; the link stops emails about replies without a login (POST, as mail providers
send it), a GET only asks to confirm, and the profile turns them back on."""

import re

import pytest
from django.test import Client

from notifications import unsubscribe
from notifications.models import Notification

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
