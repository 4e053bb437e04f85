"""Password reset by emailed link, and password change for a logged-in user."""

import re

import pytest

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the conftest users' password
NEW_PASSWORD = "another quite long passphrase"
RESET_LINK = re.compile(r"https?://[^/\s]+(/accounts/password/reset/key/[^/\s]+/)")


def test_password_reset_request_sends_an_email_with_a_reset_link(client, user, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": user.email})

    assert response.status_code == 302
    assert response.url == "/accounts/password/reset/done/"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [user.email]
    assert RESET_LINK.search(mailoutbox[0].body)


def test_password_reset_done_page_tells_the_user_to_check_their_email(client):
    response = client.get("/accounts/password/reset/done/")

    assert response.status_code == 200
    assert b"Check your email" in response.content


def test_reset_link_lets_the_user_choose_a_new_password_and_log_in(client, user, mailoutbox):
    client.post("/accounts/password/reset/", {"email": user.email})
    link = RESET_LINK.search(mailoutbox[0].body).group(1)

    # allauth moves the key out of the URL into the session, then shows the form.
    form_page = client.get(link, follow=True)
    assert b"Choose a new password" in form_page.content
    set_password_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_password_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, follow=True
    )

    assert b"Your password has been changed" in done.content
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    login = client.post("/accounts/login/", {"login": user.email, "password": NEW_PASSWORD})
    assert login.status_code == 302


def test_used_or_forged_reset_link_says_it_is_not_valid(client, user):
    response = client.get("/accounts/password/reset/key/1-forged-token/", follow=True)

    assert response.status_code == 200
    assert b"This reset link is not valid" in response.content
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_logged_in_user_changes_password(client, user):
    client.force_login(user)

    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_password_change_with_wrong_current_password_changes_nothing(client, user):
    client.force_login(user)

    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": "wrong", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert b'class="field__error"' in response.content
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
