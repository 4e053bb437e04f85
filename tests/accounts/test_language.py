"""The user's language: remembered on the profile, used for emails; subjects in sentence case."""

import pytest
from django.conf import settings
from django.utils import translation

from accounts import language_for
from accounts.models import Profile
from tests.accounts.test_signup import signup_data

pytestmark = pytest.mark.django_db

PREFIX = "[GCM consultations] "


def _in(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def _prefix_in(language: str) -> str:
    with translation.override(language):
        return f"[{translation.pgettext('email subject prefix', 'GCM consultations')}] "


def test_signup_confirmation_subject_is_in_sentence_case(client, mailoutbox):
    client.post("/accounts/signup/", signup_data())

    (mail,) = mailoutbox
    assert mail.subject == PREFIX + "Please confirm your email address"
    assert Profile.objects.get().language == "en"


def test_signup_in_french_remembers_french_and_writes_the_subject_in_it(client, mailoutbox):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    client.post("/accounts/signup/", signup_data())

    (mail,) = mailoutbox
    # The string goes through the French catalogue (translated by the lead after the merge).
    assert mail.subject == _prefix_in("fr") + _in("fr", "Please confirm your email address")
    profile = Profile.objects.get()
    assert profile.language == "fr"
    assert language_for(profile.user) == "fr"


def test_password_reset_subject_in_english_and_french(client, user, mailoutbox):
    client.post("/accounts/password/reset/", {"email": user.email})
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    client.post("/accounts/password/reset/", {"email": user.email})

    english, french = mailoutbox
    assert english.subject == PREFIX + "Reset your password"
    assert french.subject == _prefix_in("fr") + "Réinitialiser votre mot de passe"


def test_signup_with_a_known_address_sends_a_sentence_case_subject(client, user, mailoutbox):
    client.post("/accounts/signup/", signup_data(email=user.email))

    (mail,) = mailoutbox
    assert mail.to == [user.email]
    assert mail.subject == PREFIX + "You already have an account"


def test_password_reset_for_an_unknown_address_sends_a_sentence_case_subject(client, mailoutbox):
    client.post("/accounts/password/reset/", {"email": "nobody@example.org"})

    (mail,) = mailoutbox
    assert mail.subject == PREFIX + "No account uses this email address"


def test_language_switcher_remembers_a_logged_in_users_choice(client, user):
    client.force_login(user)

    response = client.post("/i18n/setlang/", {"language": "es", "next": "/"})

    assert response.status_code == 302 and response["Location"] == "/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    user.profile.refresh_from_db()
    assert user.profile.language == "es"
    assert language_for(user) == "es"


def test_language_switcher_ignores_an_unknown_language(client, user):
    user.profile.language = "fr"
    user.profile.save()
    client.force_login(user)

    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})

    user.profile.refresh_from_db()
    assert user.profile.language == "fr"


def test_language_switcher_still_works_for_anonymous_visitors(client):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/"})

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert not Profile.objects.exists()


def test_profile_page_edits_the_language_and_switches_the_site_to_it(client, user):
    client.force_login(user)
    form = client.get("/accounts/profile/").content.decode()
    assert '<select name="language"' in form
    assert '<option value="" selected>The site&#x27;s default</option>' in form

    response = client.post(
        "/accounts/profile/",
        {
            "display_name": "Amina Diallo",
            "organisation": "Sahel Migrant Network",
            "stakeholder_type": "civil_society",
            "language": "fr",
        },
    )

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    user.profile.refresh_from_db()
    assert user.profile.language == "fr"


def test_language_for_falls_back_to_the_site_default(make_user):
    user = make_user()
    assert language_for(user) == settings.LANGUAGE_CODE == "en"
    without_profile = type(user).objects.create_user(username="bare", email="bare@example.org")
    assert language_for(without_profile) == "en"
