"""The profile page: name, organisation and stakeholder type shown beside comments."""

import pytest

from accounts.models import Profile, StakeholderType

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/accounts/profile/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/accounts/profile/"


def test_profile_page_shows_current_values(client, user):
    client.force_login(user)

    response = client.get("/accounts/profile/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="Amina Diallo"' in html
    assert 'value="Sahel Migrant Network"' in html
    assert f'<option value="{StakeholderType.CIVIL_SOCIETY}" selected>' in html


def test_profile_post_saves_and_redirects_with_a_message(client, user):
    client.force_login(user)

    response = client.post(
        "/accounts/profile/",
        {
            "display_name": "Amina D.",
            "organisation": "  West Africa Mobility Forum ",
            "stakeholder_type": StakeholderType.ACADEMIA,
        },
        follow=True,
    )

    assert response.redirect_chain == [("/accounts/profile/", 302)]
    assert b"Your profile has been saved." in response.content
    profile = Profile.objects.get(user=user)
    assert profile.display_name == "Amina D."
    assert profile.organisation == "West Africa Mobility Forum"
    assert profile.stakeholder_type == StakeholderType.ACADEMIA


def test_profile_post_without_display_name_shows_error_keeps_input_and_saves_nothing(client, user):
    client.force_login(user)

    response = client.post(
        "/accounts/profile/",
        {
            "display_name": "",
            "organisation": "New Organisation Name",
            "stakeholder_type": StakeholderType.ACADEMIA,
        },
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert 'class="field__error"' in html
    assert 'value="New Organisation Name"' in html
    assert f'<option value="{StakeholderType.ACADEMIA}" selected>' in html
    profile = Profile.objects.get(user=user)
    assert profile.display_name == "Amina Diallo"
    assert profile.organisation == "Sahel Migrant Network"
    assert profile.stakeholder_type == StakeholderType.CIVIL_SOCIETY


def test_user_without_profile_can_create_one(client, make_user):
    user = make_user()
    Profile.objects.filter(user=user).delete()
    client.force_login(user)

    assert client.get("/accounts/profile/").status_code == 200
    client.post(
        "/accounts/profile/",
        {"display_name": "Late Joiner", "organisation": "", "stakeholder_type": "other"},
    )

    assert Profile.objects.get(user=user).display_name == "Late Joiner"
