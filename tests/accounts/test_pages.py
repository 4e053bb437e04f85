"""Every account page is part of the site, works without JavaScript and carries a CSRF token."""

import pytest
from allauth.account.models import EmailAddress

pytestmark = pytest.mark.django_db

ANONYMOUS_FORM_PAGES = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
]
LOGGED_IN_FORM_PAGES = [
    "/accounts/profile/",
    "/accounts/logout/",
    "/accounts/email/",
    "/accounts/password/change/",
]


def _assert_site_page_with_post_form(response):
    html = response.content.decode()
    assert response.status_code == 200
    assert "· GCM Consultations</title>" in html
    assert 'class="site-header"' in html
    assert '<form method="post"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "<script" not in html


@pytest.mark.parametrize("url", ANONYMOUS_FORM_PAGES)
def test_anonymous_account_pages_render_in_our_layout_with_a_csrf_token(client, url):
    _assert_site_page_with_post_form(client.get(url))


@pytest.mark.parametrize("url", LOGGED_IN_FORM_PAGES)
def test_logged_in_account_pages_render_in_our_layout_with_a_csrf_token(client, user, url):
    client.force_login(user)

    _assert_site_page_with_post_form(client.get(url))


def test_account_inactive_page_renders_in_our_layout(client):
    response = client.get("/accounts/inactive/")

    assert response.status_code == 200
    assert b"This account is inactive" in response.content
    assert b'class="site-header"' in response.content


def test_inactive_user_with_right_password_is_shown_the_inactive_page(client, make_user):
    user = make_user(is_active=False)

    response = client.post(
        "/accounts/login/",
        {"login": user.email, "password": "correct horse battery staple"},
        follow=True,
    )

    assert response.redirect_chain == [("/accounts/inactive/", 302)]
    assert b"This account is inactive" in response.content
    assert "_auth_user_id" not in client.session


def test_adding_an_email_address_sends_a_confirmation_link(client, user, mailoutbox):
    client.force_login(user)

    response = client.post(
        "/accounts/email/", {"email": "amina@work.example.org", "action_add": ""}, follow=True
    )

    assert response.status_code == 200
    assert b"amina@work.example.org" in response.content
    assert b"Not confirmed" in response.content
    assert not EmailAddress.objects.get(email="amina@work.example.org").verified
    assert [m.to for m in mailoutbox] == [["amina@work.example.org"]]


def test_secondary_email_address_can_be_removed_without_javascript(client, user):
    EmailAddress.objects.create(user=user, email="old@example.org", verified=True, primary=False)
    client.force_login(user)
    page = client.get("/accounts/email/").content.decode()
    assert "Remove old@example.org" in page

    client.post("/accounts/email/", {"email": "old@example.org", "action_remove": ""})

    assert not EmailAddress.objects.filter(email="old@example.org").exists()
    assert EmailAddress.objects.filter(email=user.email, primary=True).exists()


def test_primary_email_address_offers_no_remove_button(client, user):
    client.force_login(user)

    html = client.get("/accounts/email/").content.decode()

    assert f"Remove {user.email}" not in html
