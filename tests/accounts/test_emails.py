"""Account emails and messages speak as our product and name people by their display name."""

import pytest

from tests.accounts.test_signup import signup_data

pytestmark = pytest.mark.django_db


def test_confirmation_email_explains_the_product_and_holds_the_link(client, mailoutbox):
    client.post("/accounts/signup/", signup_data())

    (mail,) = mailoutbox
    assert mail.subject.startswith("[GCM consultations]")
    assert "GCM Consultations" in mail.body
    assert "Global Compact for Migration" in mail.body
    assert "/accounts/confirm-email/" in mail.body
    assert "Hello from" not in mail.body


def test_password_reset_email_holds_the_reset_link(client, user, mailoutbox):
    client.post("/accounts/password/reset/", {"email": user.email})

    (mail,) = mailoutbox
    assert "/accounts/password/reset/key/" in mail.body
    assert "your password stays as it is" in mail.body


def test_login_message_uses_the_display_name(client, user):
    response = client.post(
        "/accounts/login/",
        {"login": user.email, "password": "correct horse battery staple"},
        follow=True,
    )
    assert "You are logged in as Amina Diallo." in response.content.decode()
    assert user.username not in response.content.decode()
