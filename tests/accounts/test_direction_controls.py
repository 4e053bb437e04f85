"""Names cannot carry text-direction controls (issue 12): "\u202eSECRETARIAT NU\u202c moderator"
would read "UN SECRETARIAT moderator". Refused at signup, on the profile and in the service; and
user text on the page sits in its own bidirectional island (<bdi>, dir="auto")."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Profile, StakeholderType, User
from accounts.services import profile_save
from tests.accounts.test_signup import signup_data

pytestmark = pytest.mark.django_db

SPOOF = "\u202eSECRETARIAT NU\u202c"
CONTROLS = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]
MESSAGE = "Remove the invisible text-direction characters"


@pytest.mark.parametrize("control", CONTROLS)
def test_the_service_refuses_every_direction_control(user, control):
    with pytest.raises(ValidationError):
        profile_save(
            user=user,
            display_name=f"Amina{control} Diallo",
            organisation="",
            stakeholder_type=StakeholderType.ACADEMIA,
        )
    assert Profile.objects.get(user=user).display_name == "Amina Diallo"


def test_signup_refuses_a_spoofed_name_and_keeps_what_was_typed(client):
    response = client.post(
        "/accounts/signup/", signup_data(display_name=f"{SPOOF} moderator", organisation="Real Org")
    )
    html = response.content.decode()
    assert response.status_code == 200 and MESSAGE in html
    assert 'value="Real Org"' in html and 'value="fatima@example.org"' in html
    assert not User.objects.filter(email="fatima@example.org").exists()


def test_the_profile_refuses_a_spoofed_organisation(client, user):
    client.force_login(user)
    response = client.post(
        "/accounts/profile/",
        {
            "display_name": "Amina D.",
            "organisation": SPOOF,
            "stakeholder_type": StakeholderType.ACADEMIA,
        },
    )
    assert response.status_code == 400 and MESSAGE in response.content.decode()
    assert 'value="Amina D."' in response.content.decode()
    assert Profile.objects.get(user=user).organisation == "Sahel Migrant Network"


def test_names_files_and_bodies_are_isolated_on_the_thread(client, question, user, post_comment):
    # A name stored before the rule (or by a path that skipped it) still cannot spill over.
    Profile.objects.filter(user=user).update(organisation=SPOOF)
    comment = post_comment(question=question, author=user, body="Text \u202e with an override")
    html = client.get(question.consultation.get_absolute_url()).content.decode()
    assert '<bdi class="comment__author">Amina Diallo</bdi>' in html
    assert f'<bdi class="comment__org">{SPOOF}</bdi>' in html
    assert f'id="comment-{comment.pk}-body"' in html
    body_tag = html[: html.index(f'id="comment-{comment.pk}-body"')].rsplit("<div", 1)[1]
    assert 'dir="auto"' in body_tag
