"""The user admin shows and searches the public profile."""

import pytest

from accounts.models import Profile, StakeholderType

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client, make_user):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def test_user_list_shows_profile_columns(admin_client_, user):
    response = admin_client_.get("/admin/accounts/user/")

    html = response.content.decode()
    assert response.status_code == 200
    assert user.email in html
    assert "Amina Diallo" in html
    assert "Sahel Migrant Network" in html
    assert "Civil society" in html


def test_user_search_finds_by_organisation_and_display_name(admin_client_, user, other_user):
    by_org = admin_client_.get("/admin/accounts/user/", {"q": "Sahel"}).content.decode()
    by_name = admin_client_.get("/admin/accounts/user/", {"q": "Jonas"}).content.decode()

    assert user.email in by_org
    assert other_user.email not in by_org
    assert other_user.email in by_name
    assert user.email not in by_name


def test_user_list_filters_by_stakeholder_type(admin_client_, user, make_user):
    academic = make_user(stakeholder_type=StakeholderType.ACADEMIA)

    html = admin_client_.get(
        "/admin/accounts/user/", {"profile__stakeholder_type__exact": "academia"}
    ).content.decode()

    assert academic.email in html
    assert user.email not in html


def test_user_change_page_edits_the_profile_inline(admin_client_, user):
    response = admin_client_.get(f"/admin/accounts/user/{user.pk}/change/")

    assert response.status_code == 200
    assert b'name="profile-0-display_name"' in response.content
    assert Profile.objects.filter(user=user).exists()
