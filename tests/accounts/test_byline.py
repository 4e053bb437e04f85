"""What readers see beside a participant's comments: accounts.models.public_author."""

import pytest

from accounts.models import Profile, StakeholderType, public_author

pytestmark = pytest.mark.django_db


def test_a_named_participant_shows_name_and_organisation(user):
    user.profile.organisation = "Lagos Returnee Support"
    assert user.public_author == (user.profile.display_name, "Lagos Returnee Support")


def test_a_participant_who_asked_not_to_be_named_shows_their_stakeholder_type(user):
    user.profile.byline = Profile.Byline.STAKEHOLDER_TYPE
    user.profile.stakeholder_type = StakeholderType.CIVIL_SOCIETY
    user.profile.organisation = "Lagos Returnee Support"
    assert user.public_author == ("Participant from Civil society", "")
    assert user.public_display_name == "Participant from Civil society"


def test_a_deleted_account_is_a_former_participant():
    assert public_author("Ana", "", "", "ana", "Org", "academia", "former") == (
        "Former participant",
        "",
    )


def test_an_unknown_stakeholder_type_reads_as_other():
    name, _ = public_author("Ana", "", "", "ana", "", "gone", "stakeholder_type")
    assert name == "Participant from Other"


def test_without_a_profile_the_username_is_shown():
    assert public_author(None, "", "", "ana", None, None, None) == ("ana", "")


@pytest.fixture
def hidden_name_comment(user, question, post_comment):
    comment = post_comment(question=question, author=user, body="Our shelters are full.")
    return comment


def _choose_type_byline(client, user):
    client.force_login(user)
    response = client.post(
        "/accounts/profile/",
        {
            "display_name": user.profile.display_name,
            "organisation": user.profile.organisation,
            "stakeholder_type": StakeholderType.CIVIL_SOCIETY,
            "byline": Profile.Byline.STAKEHOLDER_TYPE,
        },
    )
    assert response.status_code == 302
    client.logout()


def test_the_profile_offers_the_choice_but_not_former_participant(client, user):
    client.force_login(user)
    html = client.get("/accounts/profile/").content.decode()
    assert 'name="byline" value="name"' in html and 'value="stakeholder_type"' in html
    assert 'value="former"' not in html
    response = client.post(
        "/accounts/profile/",
        {"display_name": "Amina", "stakeholder_type": "academia", "byline": "former"},
    )
    assert response.status_code == 400 and 'value="Amina"' in response.content.decode()
    assert Profile.objects.get(user=user).byline == Profile.Byline.NAME


def test_signup_asks_whether_to_show_the_name(client):
    html = client.get("/accounts/signup/").content.decode()
    assert 'name="byline"' in html and "Participant from" in html


def test_choosing_not_to_be_named_reaches_the_thread_the_api_and_the_export_at_once(
    client, user, hidden_name_comment, staff_user
):
    url = hidden_name_comment.question.get_absolute_url()
    assert "Amina Diallo" in client.get(url).content.decode()
    _choose_type_byline(client, user)

    page = client.get(url).content.decode()
    assert "Participant from Civil society" in page
    assert "Amina Diallo" not in page and "Sahel Migrant Network" not in page
    author = client.get(f"/api/v1/comments/{hidden_name_comment.pk}/").json()["author"]
    assert author == {
        "display_name": "Participant from Civil society",
        "organisation": "",
        "stakeholder_type": "civil_society",
    }
    client.force_login(staff_user)
    slug = hidden_name_comment.question.consultation.slug
    export = b"".join(client.get(f"/consultations/{slug}/export.csv").streaming_content)
    assert b"Participant from Civil society" in export and b"Amina Diallo" not in export


def test_the_privacy_notice_is_linked_from_every_page_and_says_what_is_kept(client):
    home = client.get("/").content.decode()
    assert 'href="/privacy/"' in home
    page = client.get("/privacy/")
    html = page.content.decode()
    assert page.status_code == 200
    for heading in ("What we keep", "What everyone can see", "What is exported", "For how long"):
        assert heading in html
    assert 'href="/accounts/delete/"' in html and 'href="/accounts/profile/"' in html
    assert 'href="/accounts/my-data/"' in html
