"""Signup with the stakeholder profile, then email confirmation (mandatory) and first login."""

import re

import pytest
from allauth.account.models import EmailAddress

from accounts.models import Profile, StakeholderType, User

pytestmark = pytest.mark.django_db

CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/accounts/confirm-email/([-:\w]+)/)")


def signup_data(**overrides) -> dict:
    data = {
        "email": "fatima@example.org",
        "display_name": "Fatima Okafor",
        "organisation": "Lagos Returnee Support",
        "stakeholder_type": StakeholderType.MIGRANT_DIASPORA,
        "password1": "a long and unusual passphrase",
        "password2": "a long and unusual passphrase",
    }
    data.update(overrides)
    return data


def test_signup_page_asks_for_the_public_profile(client):
    response = client.get("/accounts/signup/")

    html = response.content.decode()
    assert response.status_code == 200
    for name in ("email", "display_name", "organisation", "stakeholder_type"):
        assert f'name="{name}"' in html
    assert "Display name" in html
    assert "Stakeholder type" in html


def test_signup_fields_come_in_a_sensible_order(client):
    html = client.get("/accounts/signup/").content.decode()

    names = ["email", "display_name", "organisation", "stakeholder_type", "password1", "password2"]
    positions = [html.index(f'name="{name}"') for name in names]
    assert positions == sorted(positions)


def test_signup_does_not_preselect_a_stakeholder_type(client):
    html = client.get("/accounts/signup/").content.decode()

    assert '<option value="" selected>Choose…</option>' in html
    assert f'<option value="{StakeholderType.OTHER}" selected' not in html


def test_signup_creates_user_profile_and_unverified_email_and_sends_confirmation(
    client, mailoutbox
):
    response = client.post("/accounts/signup/", signup_data())

    assert response.status_code == 302
    assert response.url == "/accounts/confirm-email/"
    user = User.objects.get(email="fatima@example.org")
    profile = Profile.objects.get(user=user)
    assert profile.display_name == "Fatima Okafor"
    assert profile.organisation == "Lagos Returnee Support"
    assert profile.stakeholder_type == StakeholderType.MIGRANT_DIASPORA
    address = EmailAddress.objects.get(user=user)
    assert address.email == "fatima@example.org"
    assert address.primary
    assert not address.verified
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["fatima@example.org"]
    assert CONFIRM_LINK.search(mailoutbox[0].body)
    # Mandatory verification: nobody is logged in until the address is confirmed.
    assert "_auth_user_id" not in client.session


def test_verification_sent_page_explains_what_to_do(client):
    client.post("/accounts/signup/", signup_data())

    response = client.get("/accounts/confirm-email/")

    assert response.status_code == 200
    assert b"Check your email" in response.content
    assert b"spam" in response.content


def test_confirmation_link_asks_before_confirming_then_confirms_and_logs_in(client, mailoutbox):
    client.post("/accounts/signup/", signup_data())
    path, key = CONFIRM_LINK.search(mailoutbox[0].body).groups()

    page = client.get(path)

    html = page.content.decode()
    assert page.status_code == 200
    assert f'<form method="post" action="/accounts/confirm-email/{key}/"' in html
    assert "csrfmiddlewaretoken" in html
    assert "fatima@example.org" in html
    # A GET (a mail scanner following the link, say) must not confirm anything.
    assert not EmailAddress.objects.get(email="fatima@example.org").verified
    assert "_auth_user_id" not in client.session

    response = client.post(path)

    assert response.status_code == 302
    assert EmailAddress.objects.get(email="fatima@example.org").verified
    user = User.objects.get(email="fatima@example.org")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_invalid_confirmation_link_explains_how_to_get_a_new_one(client):
    response = client.get("/accounts/confirm-email/not-a-real-key/")

    assert response.status_code == 200
    assert b"expired or has already been used" in response.content
    assert b'href="/accounts/login/"' in response.content


def test_signup_without_display_name_shows_error_and_keeps_typed_values(client, mailoutbox):
    response = client.post("/accounts/signup/", signup_data(display_name=""))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="field__error"' in html
    assert "This field is required." in html
    assert 'value="fatima@example.org"' in html
    assert 'value="Lagos Returnee Support"' in html
    assert f'<option value="{StakeholderType.MIGRANT_DIASPORA}" selected>' in html
    assert not User.objects.filter(email="fatima@example.org").exists()
    assert mailoutbox == []


def test_signup_without_stakeholder_type_is_refused(client):
    response = client.post("/accounts/signup/", signup_data(stakeholder_type=""))

    assert response.status_code == 200
    assert b"This field is required." in response.content
    assert 'value="Fatima Okafor"' in response.content.decode()
    assert not User.objects.filter(email="fatima@example.org").exists()


def test_signup_with_an_email_already_in_use_creates_no_second_account(client, user):
    response = client.post("/accounts/signup/", signup_data(email=user.email))

    # allauth prevents account enumeration: the page looks like a normal signup.
    assert response.status_code == 302
    assert User.objects.filter(email__iexact=user.email).count() == 1
