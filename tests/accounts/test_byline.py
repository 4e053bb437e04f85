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
