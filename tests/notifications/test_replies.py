"""Reply notifications: to the parent's author, not for one's own replies, never to an
unverified address, and not for a reply hidden or deleted before the email goes out."""

import pytest
from django.db import transaction

from consultations import services
from notifications.models import Notification

State = Notification.State


def test_a_reply_emails_the_parents_author_once_with_text_html_and_the_permalink(
    question,
    user,
    other_user,
    post_comment,
    mailoutbox,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.SITE_URL = "https://consult.example.org"
    parent = post_comment(question=question, author=user, body="Borders need safe routes.")
    with django_capture_on_commit_callbacks(execute=True):
        reply = post_comment(
            question=question, author=other_user, parent=parent, body="Agreed: and legal ones."
        )

    (mail,) = mailoutbox
    assert mail.to == [user.email]
    assert mail.subject == "[GCM consultations] Jonas Berg replied to your comment"
    permalink = f"https://consult.example.org/consultations/c/{reply.pk}/"
    assert "Hello Amina Diallo," in mail.body and "Agreed: and legal ones." in mail.body
    assert permalink in mail.body and "Borders need safe routes." in mail.body
    ((html, mimetype),) = mail.alternatives
    assert mimetype == "text/html" and f'href="{permalink}"' in html and "Jonas Berg" in html
    assert mail.extra_headers["Message-ID"].startswith("<notification-")
    row = Notification.objects.get()
    assert (row.kind, row.recipient, row.comment, row.state, row.attempts) == (
        "reply",
        user,
        reply,
        State.SENT,
        1,
    )
    assert row.sent_at is not None


def test_the_reply_email_is_in_the_recipients_language(
    question, user, other_user, post_comment, mailoutbox, django_capture_on_commit_callbacks
):
    user.profile.language = "fr"
    user.profile.save()
    parent = post_comment(question=question, author=user)
    with django_capture_on_commit_callbacks(execute=True):
        post_comment(question=question, author=other_user, parent=parent)
    (mail,) = mailoutbox
    assert mail.extra_headers["Content-Language"] == "fr"
    assert "Bonjour Amina Diallo," in mail.body  # an existing message, already translated


def test_replying_to_oneself_notifies_nobody(
    question, user, post_comment, mailoutbox, django_capture_on_commit_callbacks
):
    parent = post_comment(question=question, author=user)
    with django_capture_on_commit_callbacks(execute=True):
        post_comment(question=question, author=user, parent=parent)
    assert mailoutbox == [] and not Notification.objects.exists()


def test_no_email_goes_to_an_address_that_is_not_verified(
    question, user, other_user, post_comment, mailoutbox, django_capture_on_commit_callbacks
):
    parent = post_comment(question=question, author=user)
    user.emailaddress_set.update(verified=False)
    with django_capture_on_commit_callbacks(execute=True):
        post_comment(question=question, author=other_user, parent=parent)
    assert mailoutbox == [] and not Notification.objects.exists()


def test_an_address_unverified_before_the_send_is_not_written_to(
    question, user, other_user, post_comment, mailoutbox, django_capture_on_commit_callbacks
):
    parent = post_comment(question=question, author=user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post_comment(question=question, author=other_user, parent=parent)
    user.emailaddress_set.update(verified=False)
    for callback in callbacks:
        callback()
    assert mailoutbox == []
    assert Notification.objects.get().state == State.CANCELLED


@pytest.mark.parametrize("how", ["hidden", "deleted"])
def test_a_reply_hidden_or_deleted_before_the_send_is_cancelled(
    how,
    question,
    user,
    other_user,
    moderator,
    post_comment,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    parent = post_comment(question=question, author=user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reply = post_comment(question=question, author=other_user, parent=parent)
    if how == "hidden":
        services.comment_hide(comment=reply, by=moderator, reason="spam")
    else:
        services.comment_delete(comment=reply, by=other_user)
    for callback in callbacks:
        callback()
    reply_rows = Notification.objects.filter(kind="reply")
    assert [(row.state, row.last_error) for row in reply_rows] == [
        (State.CANCELLED, f"the reply is {how}")
    ]
    assert all("replied" not in mail.subject for mail in mailoutbox)


def test_a_rolled_back_reply_records_and_sends_nothing(
    question, user, other_user, post_comment, mailoutbox, django_capture_on_commit_callbacks
):
    parent = post_comment(question=question, author=user)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            post_comment(question=question, author=other_user, parent=parent)
            raise RuntimeError("the request failed after the post")
    assert mailoutbox == [] and not Notification.objects.exists()


def test_the_reply_email_escapes_names_and_text_in_html_only(
    question, user, make_user, post_comment, mailoutbox, django_capture_on_commit_callbacks
):
    replier = make_user(display_name="Ana & <Co>")
    parent = post_comment(question=question, author=user)
    with django_capture_on_commit_callbacks(execute=True):
        post_comment(question=question, author=replier, parent=parent, body="If a < b & c")
    (mail,) = mailoutbox
    assert mail.subject == "[GCM consultations] Ana & <Co> replied to your comment"
    assert "If a < b & c" in mail.body
    ((html, _mimetype),) = mail.alternatives
    assert "Ana &amp; &lt;Co&gt;" in html and "If a &lt; b &amp; c" in html
    assert "<Co>" not in html
