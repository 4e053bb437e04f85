"""Deleting one's account: anonymised, not removed; comments stay as "Former participant" or are
withdrawn; pages, the staff export and the API show it at once."""

import csv
import io
import re

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import Profile, User
from accounts.services import CommentsOnDelete, account_delete
from consultations.models import Comment, ModerationAction, Report
from consultations.services import comment_report
from notifications.models import Follow

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def thread(question, user, other_user, post_comment):
    mine = post_comment(question=question, author=user, body="Birth registration matters.")
    reply = post_comment(question=question, author=other_user, body="Agreed.", parent=mine)
    return mine, reply


def test_the_account_is_anonymised_and_its_comments_stay_as_former_participant(
    user, thread, question
):
    assert Follow.objects.filter(user=user, question=question).exists()  # posting follows
    account_delete(user=user, password=PASSWORD)

    user.refresh_from_db()
    assert (user.email, user.first_name, user.last_name) == ("", "", "")
    assert user.username == f"deleted-{user.pk}"
    assert not user.is_active and not user.has_usable_password()
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not Follow.objects.filter(user=user).exists()
    profile = Profile.objects.get(user=user)
    assert (profile.display_name, profile.organisation) == ("", "")
    assert profile.byline == Profile.Byline.FORMER and profile.deleted_at is not None
    assert profile.email_digest == Profile.Digest.OFF and not profile.email_replies
    mine, reply = thread
    mine.refresh_from_db()
    assert (
        mine.status == Comment.Status.PUBLISHED and mine.body_text == "Birth registration matters."
    )
    assert user.display_name == "Former participant"


def test_withdrawn_comments_show_as_deleted_by_the_author_and_replies_stay(user, thread, client):
    mine, reply = thread
    account_delete(user=user, password=PASSWORD, comments=CommentsOnDelete.WITHDRAW)

    mine.refresh_from_db()
    reply.refresh_from_db()
    assert mine.status == Comment.Status.DELETED
    assert reply.status == Comment.Status.PUBLISHED and reply.parent_id == mine.pk
    page = client.get(mine.question.get_absolute_url()).content.decode()
    assert "Deleted by the author" in page and "Birth registration matters." not in page
    assert "Agreed." in page


def test_a_wrong_password_changes_nothing(user, thread):
    with pytest.raises(ValidationError, match="not your password"):
        account_delete(user=user, password="guess")
    user.refresh_from_db()
    assert user.is_active and user.email and user.profile.byline == Profile.Byline.NAME


def test_an_unknown_choice_is_refused(user):
    with pytest.raises(ValidationError):
        account_delete(user=user, password=PASSWORD, comments="erase-everything")
    assert User.objects.get(pk=user.pk).is_active


def test_an_account_is_deleted_once(user):
    account_delete(user=user, password=PASSWORD)
    with pytest.raises(PermissionDenied):
        account_delete(user=user, password=PASSWORD)


def test_reports_and_moderation_records_keep_their_rows(user, other_user, moderator, thread):
    mine, reply = thread
    comment_report(comment=reply, reporter=user, reason="spam", details="Looks like spam.")
    actions = ModerationAction.objects.count()
    account_delete(user=user, password=PASSWORD)
    report = Report.objects.get(comment=reply)
    assert report.reporter_id == user.pk and report.reporter.display_name == "Former participant"
    assert ModerationAction.objects.count() == actions


def test_the_thread_the_api_and_the_staff_export_show_former_participant_at_once(
    user, thread, client, staff_user
):
    mine, _reply = thread
    url = mine.question.get_absolute_url()
    assert "Amina Diallo" in client.get(url).content.decode()  # the stored fragment is made
    api_before = client.get(f"/api/v1/comments/{mine.pk}/")
    etag = api_before["ETag"]

    account_delete(user=user, password=PASSWORD)

    page = client.get(url).content.decode()
    assert "Former participant" in page
    assert "Amina Diallo" not in page and "Sahel Migrant Network" not in page
    api = client.get(f"/api/v1/comments/{mine.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert api.status_code == 200
    author = api.json()["author"]
    assert author["display_name"] == "Former participant" and author["organisation"] == ""
    client.force_login(staff_user)
    export = client.get(
        reverse("consultations:export", kwargs={"slug": mine.question.consultation.slug})
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    row = next(r for r in rows if r["id"] == str(mine.pk))
    assert row["author"] == "Former participant" and row["organisation"] == ""


def test_the_page_asks_for_the_password_and_keeps_the_choice_on_a_mistake(client, user, thread):
    email = user.email
    client.force_login(user)
    page = client.get(reverse("accounts:delete"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "csrfmiddlewaretoken" in html and 'type="password"' in html
    assert "Former participant" in html

    wrong = client.post(reverse("accounts:delete"), {"comments": "withdraw", "password": "nope"})
    html = wrong.content.decode()
    assert wrong.status_code == 400
    assert "That is not your password." in html
    assert re.search(r'<input type="radio" name="comments" value="withdraw"[^>]* checked', html)
    assert User.objects.get(pk=user.pk).is_active

    done = client.post(reverse("accounts:delete"), {"comments": "keep", "password": PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("home")
    assert "_auth_user_id" not in client.session
    assert not User.objects.get(pk=user.pk).is_active
    # The deleted account cannot log in again.
    login = client.post(reverse("account_login"), {"login": email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session and "form-errors" in login.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("accounts:delete"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_another_session_of_the_deleted_account_is_logged_out(client, user):
    from django.test import Client

    other = Client()
    other.force_login(user)
    account_delete(user=user, password=PASSWORD)
    response = other.get(reverse("accounts:profile"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
