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


# --- Notification settings ---------------------------------------------------------------------

PROFILE = {
    "display_name": "Amina Diallo",
    "organisation": "Sahel Migrant Network",
    "stakeholder_type": StakeholderType.CIVIL_SOCIETY,
}


def test_notifications_fieldset_shows_each_setting_with_its_choices(client, user):
    client.force_login(user)

    html = client.get("/accounts/profile/").content.decode()

    assert '<fieldset class="form-section" id="notifications"' in html
    assert "<legend>Notifications</legend>" in html
    assert 'id="id_email_replies" checked' in html
    assert 'id="id_follow_on_post" checked' in html
    # The digest frequency as radios: one label per choice, the stored one checked.
    assert "<legend>Digest of new comments in what I follow</legend>" in html
    assert 'type="radio" name="email_digest" value="daily" ' in html
    assert 'value="daily" id="id_email_digest_1" checked' in html
    for label in ("Never", "Daily", "Weekly"):
        assert f"<span>{label}</span>" in html
    # Not a moderator: no setting about reports.
    assert 'name="email_reports"' not in html


def test_a_participant_changes_the_notification_settings(client, user):
    client.force_login(user)

    response = client.post(
        "/accounts/profile/", {**PROFILE, "email_digest": "weekly"}
    )  # both boxes unticked

    assert response.status_code == 302
    profile = Profile.objects.get(user=user)
    assert profile.email_digest == Profile.Digest.WEEKLY
    assert profile.email_replies is False
    assert profile.follow_on_post is False
    client.post(
        "/accounts/profile/",
        {**PROFILE, "email_digest": "off", "email_replies": "on", "follow_on_post": "on"},
    )
    profile.refresh_from_db()
    assert (profile.email_digest, profile.email_replies, profile.follow_on_post) == (
        "off",
        True,
        True,
    )


def test_a_form_without_the_digest_choice_leaves_it_unchanged(client, user):
    Profile.objects.filter(user=user).update(email_digest="weekly")
    client.force_login(user)

    client.post("/accounts/profile/", PROFILE)

    assert Profile.objects.get(user=user).email_digest == "weekly"


def test_an_unknown_digest_frequency_is_refused(client, user):
    client.force_login(user)

    response = client.post("/accounts/profile/", {**PROFILE, "email_digest": "hourly"})

    assert response.status_code == 400
    assert 'id="id_email_digest_error"' in response.content.decode()
    assert Profile.objects.get(user=user).email_digest == "daily"


def test_a_participant_cannot_set_emails_about_reports(client, user):
    client.force_login(user)

    client.post("/accounts/profile/", {**PROFILE, "email_reports": "off"})

    assert Profile.objects.get(user=user).email_reports == Profile.Reports.IMMEDIATE


def test_a_consultation_moderator_chooses_emails_about_reports(client, user, consultation):
    consultation.moderators.add(user)
    client.force_login(user)

    html = client.get("/accounts/profile/").content.decode()
    assert "<legend>Emails about reported comments</legend>" in html
    for label in ("Never", "As reports come in", "Once a day"):
        assert f"<span>{label}</span>" in html
    client.post("/accounts/profile/", {**PROFILE, "email_reports": "daily"})

    assert Profile.objects.get(user=user).email_reports == Profile.Reports.DAILY


def test_staff_who_moderate_every_consultation_choose_emails_about_reports(client, moderator):
    client.force_login(moderator)

    assert 'name="email_reports"' in client.get("/accounts/profile/").content.decode()
    client.post(
        "/accounts/profile/",
        {"display_name": "Mira", "stakeholder_type": "other", "email_reports": "off"},
    )

    assert Profile.objects.get(user=moderator).email_reports == Profile.Reports.OFF


def test_staff_without_moderation_permission_are_not_offered_reports(client, staff_user):
    client.force_login(staff_user)

    assert 'name="email_reports"' not in client.get("/accounts/profile/").content.decode()


def test_the_service_refuses_emails_about_reports_to_a_non_moderator(user):
    from django.core.exceptions import PermissionDenied

    from accounts.services import profile_save

    with pytest.raises(PermissionDenied):
        profile_save(user=user, **PROFILE, email_reports="daily")
    assert Profile.objects.get(user=user).email_reports == Profile.Reports.IMMEDIATE


def test_the_service_leaves_settings_given_as_none_unchanged(user, consultation):
    from accounts.services import profile_save

    consultation.moderators.add(user)
    profile_save(
        user=user, **PROFILE, email_digest="weekly", follow_on_post=False, email_reports="off"
    )
    profile_save(user=user, **PROFILE)

    profile = Profile.objects.get(user=user)
    assert (profile.email_digest, profile.follow_on_post, profile.email_reports) == (
        "weekly",
        False,
        "off",
    )


def test_the_service_refuses_an_unknown_digest_frequency(user):
    from django.core.exceptions import ValidationError

    from accounts.services import profile_save

    with pytest.raises(ValidationError):
        profile_save(user=user, **PROFILE, email_digest="hourly")


def test_profile_page_query_count(client, user, django_assert_num_queries):
    client.force_login(user)
    client.get("/accounts/profile/")  # warms the session and the content types

    # Session, user, the profile, whether they moderate a consultation, then the header's unread
    # count (the user's profile, for their last look, and the count).
    with django_assert_num_queries(6):
        assert client.get("/accounts/profile/").status_code == 200
