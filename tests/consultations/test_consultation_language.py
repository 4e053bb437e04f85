"""A consultation's language: set in the admin, and marked on its texts (not on the interface)."""

import re

import pytest
from django.conf import settings

from consultations.models import Consultation

pytestmark = pytest.mark.django_db


def test_a_new_consultation_is_in_the_site_language_by_default(make_consultation):
    assert make_consultation().language == settings.LANGUAGE_CODE == "en"
    assert [code for code, _ in Consultation._meta.get_field("language").choices] == [
        code for code, _ in settings.LANGUAGES
    ]


def test_consultation_page_marks_its_own_texts_with_their_language(
    client, make_consultation, user, post_comment
):
    consultation = make_consultation(title="Revue des frontières", language="fr")
    question = consultation.questions.create(number=1, text="Quelles priorités ?")
    comment = post_comment(question=question, author=user, body="Les pare-feu d'abord.")

    html = client.get(consultation.get_absolute_url()).content.decode()

    assert '<html lang="en">' in html  # the interface keeps the reader's language
    assert '<h1 lang="fr">Revue des frontières</h1>' in html
    assert '<div class="consultation__description prose" lang="fr">' in html
    assert '<span class="question__text" lang="fr">Quelles priorités ?</span>' in html
    body = rf'lang="fr" dir="auto" id="comment-{comment.pk}-body">\s*<p>Les pare-feu'
    assert re.search(body, html)
    # The interface around the texts is not marked: its labels are in English.
    assert 'lang="fr">Reply' not in html and re.search(r'<p class="question__meta">\s*<span', html)


def test_home_page_marks_each_consultation_title_with_its_language(client, make_consultation):
    make_consultation(title="Revisión regional", language="es")
    html = client.get("/").content.decode()
    assert re.search(r'lang="es">Revisión regional</a>', html)


def test_moderator_sets_the_language_in_the_admin(client, moderator, consultation):
    client.force_login(moderator)
    url = f"/admin/consultations/consultation/{consultation.pk}/change/"
    form = client.get(url).content.decode()
    assert re.search(r'<select name="language"[^>]*>', form)
    assert '<option value="en" selected>English</option>' in form

    response = client.post(
        url,
        {
            "title": consultation.title,
            "slug": consultation.slug,
            "language": "fr",
            "description": consultation.description,
            "is_published": "on",
            "licence": "cc-by-4.0",  # the admin's select always sends one
            "opens_at_0": consultation.opens_at.strftime("%Y-%m-%d"),
            "opens_at_1": "09:00:00",
            "questions-TOTAL_FORMS": "0",
            "questions-INITIAL_FORMS": "0",
            "questions-MIN_NUM_FORMS": "0",
            "questions-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    consultation.refresh_from_db()
    assert consultation.language == "fr"
