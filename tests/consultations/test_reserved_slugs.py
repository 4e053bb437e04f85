"""A consultation cannot take a slug that a fixed URL under /consultations/ uses (the moderation
queue at /consultations/moderation/, say): the reserved list is read from the URL resolver."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import resolve

from consultations import urls as consultation_urls
from consultations.models import Consultation
from consultations.slugs import reserved_slugs

pytestmark = pytest.mark.django_db


def _literal_first_segments() -> set[str]:
    segments = set()
    for pattern in consultation_urls.urlpatterns:
        first = str(pattern.pattern).split("/", 1)[0]
        if first and "<" not in first:
            segments.add(first)
    return segments


def test_every_fixed_path_of_the_consultations_urls_is_reserved():
    literal = _literal_first_segments()
    assert {"moderation", "c", "comments"} <= literal
    # The whole resolver adds none: other apps mount below a slug (/consultations/<slug>/insights/).
    assert reserved_slugs() == literal
    assert resolve("/consultations/moderation/").url_name == "moderation_queue"


@pytest.mark.parametrize("slug", sorted(_literal_first_segments()) + ["Moderation"])
def test_a_reserved_slug_is_refused_with_a_message(slug):
    consultation = Consultation(title="Shadow", slug=slug)
    with pytest.raises(ValidationError) as caught:
        consultation.full_clean(exclude=["opens_at"])
    assert "is used by a page of the site" in str(caught.value.message_dict["slug"])


def test_an_ordinary_slug_is_accepted():
    Consultation(title="Pathways", slug="pathways-review").full_clean()


def test_the_admin_refuses_the_moderation_slug_and_keeps_the_form(client, moderator):
    client.force_login(moderator)
    response = client.post(
        "/admin/consultations/consultation/add/",
        {
            "title": "Shadow of the queue",
            "slug": "moderation",
            "is_published": "on",
            "language": "en",
            "licence": "cc-by-4.0",  # the admin's select always sends one
            "opens_at_0": "2026-01-01",
            "opens_at_1": "09:00:00",
            "questions-TOTAL_FORMS": "0",
            "questions-INITIAL_FORMS": "0",
            "questions-MIN_NUM_FORMS": "0",
            "questions-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "is used by a page of the site; choose another slug." in html
    assert 'value="Shadow of the queue"' in html
    assert not Consultation.objects.filter(slug="moderation").exists()
