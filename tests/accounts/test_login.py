"""Logging in and out by email, and allauth's rate limit on failed logins."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the conftest users' password


def test_login_page_says_why_to_log_in_and_links_to_signup_and_reset(client):
    response = client.get("/accounts/login/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "to post comments and replies" in html
    assert 'href="/accounts/signup/"' in html
    assert 'href="/accounts/password/reset/">Forgot your password?</a>' in html


def test_verified_user_logs_in_with_email_and_password(client, user):
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == "/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_follows_next_to_the_page_the_user_came_from(client, user):
    response = client.post(
        "/accounts/login/?next=/accounts/profile/", {"login": user.email, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response.url == "/accounts/profile/"


def test_wrong_password_shows_an_error_and_logs_nobody_in(client, user):
    response = client.post("/accounts/login/", {"login": user.email, "password": "wrong"})

    assert response.status_code == 200
    assert b'class="form-errors"' in response.content
    assert "_auth_user_id" not in client.session


def test_unverified_user_login_is_blocked_with_the_verification_sent_page(
    client, unverified_user, mailoutbox
):
    response = client.post(
        "/accounts/login/",
        {"login": unverified_user.email, "password": PASSWORD},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/accounts/confirm-email/"
    assert b"Check your email" in response.content
    assert "_auth_user_id" not in client.session
    # A fresh confirmation link is sent, as the page promises.
    assert [m.to for m in mailoutbox] == [[unverified_user.email]]


def test_logout_by_get_only_asks_for_confirmation(client, user):
    client.force_login(user)

    response = client.get("/accounts/logout/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<form method="post" action="/accounts/logout/"' in html
    assert client.session["_auth_user_id"] == str(user.pk)


def test_logout_by_post_logs_out(client, user):
    client.force_login(user)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_sixth_login_after_five_failures_is_refused_even_with_the_right_password(client, user):
    for _ in range(5):
        failed = client.post("/accounts/login/", {"login": user.email, "password": "wrong"})
        assert failed.status_code == 200

    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})

    assert response.status_code == 200
    assert b"Too many failed login attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_failed_logins_for_one_email_do_not_lock_out_another(client, user, make_user):
    other = make_user()
    for _ in range(5):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong"})

    response = client.post("/accounts/login/", {"login": other.email, "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other.pk)


def test_login_post_without_csrf_token_is_forbidden(user):
    csrf_client = Client(enforce_csrf_checks=True)

    response = csrf_client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})

    assert response.status_code == 403
    assert "_auth_user_id" not in csrf_client.session


def test_logout_post_without_csrf_token_is_forbidden_and_keeps_the_session(user):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)

    response = csrf_client.post("/accounts/logout/")

    assert response.status_code == 403
    assert csrf_client.session["_auth_user_id"] == str(user.pk)


def test_failures_with_unknown_emails_from_one_address_lock_out_no_other_user(
    client, make_user, settings
):
    """The attack of issue 12: a stream of failed logins with unknown emails from one address
    (behind the proxy, everyone's address) refused the others' correct passwords."""
    users = [make_user() for _ in range(10)]
    for n in range(60):
        client.post("/accounts/login/", {"login": f"nobody{n}@example.org", "password": "x"})

    refused = 0
    for user in users:
        response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
        refused += response.status_code != 302
        client.post("/accounts/logout/")
    assert refused == 0


def test_behind_the_proxy_addresses_come_from_x_forwarded_for(client, user, settings):
    """With the proxy trusted, the per-address limit counts each client, not the proxy."""
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/m/ip,100/m/key"}
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(3):
        client.post(
            "/accounts/login/",
            {"login": f"nobody{n}@example.org", "password": "x"},
            HTTP_X_FORWARDED_FOR="203.0.113.9",
            **proxy,
        )
    attacker = client.post(
        "/accounts/login/",
        {"login": user.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        **proxy,
    )
    assert b"Too many failed login attempts" in attacker.content
    other = client.post(
        "/accounts/login/",
        {"login": user.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
        **proxy,
    )
    assert other.status_code == 302
