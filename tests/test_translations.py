"""Languages: every interface message has a French and a Spanish translation, the committed
catalogues are up to date, and pages follow the browser's language or the switcher's choice."""

import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

REPO = Path(settings.BASE_DIR)
LANGUAGES = ("fr", "es")
# What makemessages reads (templates, Python) and the catalogues it merges into; the Makefile's
# `make messages` reads the same files (it ignores .venv, tests, media and staticfiles).
SOURCES = (
    "manage.py",
    "forum",
    "accounts",
    "consultations",
    "notifications",
    "insights",
    "api",
    "templates",
    "locale",
)
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    # A request activates its language for the thread: later tests expect the default.
    yield
    translation.deactivate()


def catalogue(lang: str, root: Path = REPO / "locale") -> polib.POFile:
    return polib.pofile(str(root / lang / "LC_MESSAGES" / "django.po"))


def msgids(po: polib.POFile) -> set[tuple[str | None, str, str]]:
    return {(e.msgctxt, e.msgid, e.msgid_plural) for e in po if not e.obsolete}


@pytest.fixture(scope="module")
def regenerated_locale(tmp_path_factory) -> Path:
    """locale/ as `makemessages` leaves it after reading today's sources, in a copy of the
    project: the repository's own files are never touched."""
    missing = [tool for tool in ("xgettext", "msgmerge", "msguniq") if not shutil.which(tool)]
    if missing:
        pytest.skip(
            f"GNU gettext is not installed ({', '.join(missing)} missing): install the `gettext` "
            "package to check that every message is translated (.ci/run does)"
        )
    work = tmp_path_factory.mktemp("messages")
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, work / name)
    result = subprocess.run(  # noqa: S603 (a fixed command: this Python, manage.py)
        [sys.executable, "manage.py", "makemessages", "--no-obsolete"]
        + [arg for lang in LANGUAGES for arg in ("-l", lang)],
        cwd=work,
        env={**os.environ, "DEBUG": "1", "SECRET_KEY": "makemessages-only"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return work / "locale"


# Completeness


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_in_templates_and_code_is_translated(regenerated_locale, lang):
    po = catalogue(lang, regenerated_locale)

    untranslated = [e.msgid for e in po.untranslated_entries() if not e.obsolete]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]

    assert untranslated == [], f"{len(untranslated)} messages without a {lang} translation"
    assert fuzzy == [], f"fuzzy {lang} entries: check them, then remove the fuzzy flag"
    assert len(po) > 300  # the sources were read, not an empty catalogue


@pytest.mark.parametrize("lang", LANGUAGES)
def test_committed_catalogue_holds_exactly_the_messages_of_the_sources(regenerated_locale, lang):
    committed, regenerated = catalogue(lang), catalogue(lang, regenerated_locale)

    new = msgids(regenerated) - msgids(committed)
    stale = msgids(committed) - msgids(regenerated)

    assert not new and not stale, f"run `make messages` and translate: new {new}, stale {stale}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_committed_catalogue_has_every_entry_translated_and_none_fuzzy(lang):
    po = catalogue(lang)

    assert not po.metadata_is_fuzzy
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert [e.msgid for e in po.obsolete_entries()] == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_every_placeholder(lang):
    for entry in catalogue(lang):
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        expected = set(PLACEHOLDER.findall(entry.msgid))
        for text in translations:
            assert set(PLACEHOLDER.findall(text)) == expected, (entry.msgid, text)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_messages_have_every_form_the_language_needs(lang):
    po = catalogue(lang)
    nplurals = int(re.search(r"nplurals=(\d+)", po.metadata["Plural-Forms"]).group(1))
    for entry in po:
        if entry.msgid_plural:
            forms = entry.msgstr_plural
            assert sorted(forms) == list(range(nplurals)), (entry.msgid, forms)
            assert all(forms.values()), (entry.msgid, forms)


def _translations(entries) -> dict:
    return {
        (e.msgctxt, e.msgid): dict(e.msgstr_plural) if e.msgid_plural else e.msgstr
        for e in entries
        if e.msgid and not e.obsolete and "fuzzy" not in e.flags
    }


@pytest.mark.parametrize("lang", LANGUAGES)
def test_compiled_catalogue_matches_the_committed_po(lang):
    directory = REPO / "locale" / lang / "LC_MESSAGES"
    po, mo = polib.pofile(str(directory / "django.po")), polib.mofile(str(directory / "django.mo"))

    assert _translations(mo) == _translations(po), "run `make messages` to recompile the .mo"
    assert mo.metadata["Plural-Forms"] == po.metadata["Plural-Forms"]


# Behaviour


def test_without_accept_language_pages_are_in_english(client, consultation):
    html = client.get("/").content.decode()

    assert '<html lang="en">' in html
    assert "Log in" in html and "Read freely; log in to take part." in html


@pytest.mark.parametrize(
    "lang, lede, login, comments",
    [
        ("fr", "La lecture est libre", "Se connecter", "0 commentaire"),
        ("es", "La lectura es libre", "Iniciar sesión", "0 comentarios"),
    ],
)
def test_home_page_follows_the_browser_language(client, consultation, lang, lede, login, comments):
    html = client.get("/", headers={"accept-language": f"{lang},en;q=0.5"}).content.decode()

    assert f'<html lang="{lang}">' in html
    assert lede in html and login in html and comments in html
    assert "Read freely" not in html


@pytest.mark.parametrize(
    "lang, heading, no_comments",
    [
        ("fr", "Objectifs prioritaires", "Aucun commentaire pour l’instant."),
        ("es", "Objetivos prioritarios", "Aún no hay comentarios."),
    ],
)
def test_consultation_page_follows_the_browser_language(
    client, consultation, question, lang, heading, no_comments
):
    response = client.get(consultation.get_absolute_url(), headers={"accept-language": lang})
    html = response.content.decode()

    assert f'<html lang="{lang}">' in html
    assert heading in html and no_comments in html
    assert "Objectives in focus" not in html


def test_switcher_lists_languages_in_their_own_names_and_marks_the_current_one(
    client, consultation
):
    url = consultation.get_absolute_url()
    html = client.get(url, headers={"accept-language": "fr"}).content.decode()
    form = html[
        html.index('class="language-switcher"') : html.index(
            "</form>", html.index('class="language-switcher"')
        )
    ]

    assert f'action="{reverse("set_language")}"' in html
    assert 'name="csrfmiddlewaretoken"' in form
    assert f'name="next" value="{url}"' in form
    assert '<button type="submit" name="language" value="en" lang="en"' in form
    assert ">English</button>" in form and ">Français</button>" in form
    assert ">Español</button>" in form
    assert 'value="fr" lang="fr" class="language-switcher__button" aria-current="true"' in form
    assert form.count("aria-current") == 1


def test_switcher_sets_the_language_cookie_and_returns_to_the_page(client, consultation):
    url = consultation.get_absolute_url()

    response = client.post(reverse("set_language"), {"language": "es", "next": url})

    assert response.status_code == 302 and response["Location"] == url
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    # The choice outlasts the browser's own preference.
    html = client.get(url, headers={"accept-language": "fr"}).content.decode()
    assert '<html lang="es">' in html and "Objetivos prioritarios" in html


def test_switcher_refuses_a_post_without_csrf_token(consultation):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        reverse("set_language"), {"language": "fr", "next": "/"}
    )

    assert response.status_code == 403


def test_switcher_does_not_redirect_off_site(client):
    response = client.post(
        reverse("set_language"), {"language": "fr", "next": "https://evil.example/"}
    )

    assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.parametrize(
    "lang, date",
    [
        ("en", "5 November 2099, 17:00"),
        ("fr", "5 novembre 2099 17:00"),
        ("es", "5 de noviembre de 2099 a las 17:00"),
    ],
)
def test_dates_are_written_for_the_language_with_iso_datetime_attributes(
    client, make_consultation, lang, date
):
    closes = datetime(2099, 11, 5, 17, 0, tzinfo=UTC)
    consultation = make_consultation(opens_at=timezone.now() - timedelta(days=1), closes_at=closes)

    html = client.get(
        consultation.get_absolute_url(), headers={"accept-language": lang}
    ).content.decode()

    assert date in html
    assert '<time datetime="2099-11-05T17:00:00+00:00">' in html


def test_comment_bodies_stay_as_written_on_a_french_page(
    client, consultation, question, user, post_comment
):
    post_comment(question=question, author=user, body="Border data should be shared openly.")

    html = client.get(
        consultation.get_absolute_url(), headers={"accept-language": "fr"}
    ).content.decode()

    assert "Border data should be shared openly." in html
    assert "Répondre" not in html and "Connectez-vous pour répondre" in html


@pytest.mark.parametrize(
    "lang, error",
    [
        ("fr", "Rédigez votre commentaire avant de le publier."),
        ("es", "Escriba su comentario antes de publicarlo."),
    ],
)
def test_comment_form_errors_are_translated(client, consultation, question, user, lang, error):
    client.force_login(user)
    url = reverse("consultations:comment", args=[consultation.slug, question.number])

    response = client.post(url, {"body": "   ", "parent": ""}, headers={"accept-language": lang})

    assert response.status_code == 400
    assert error in response.content.decode()


def test_csv_export_labels_stay_in_the_default_language(
    client, consultation, question, user, staff_user, post_comment
):
    post_comment(question=question, author=user, body="A comment for the export.")
    client.force_login(staff_user)

    response = client.get(
        reverse("consultations:export", args=[consultation.slug]),
        headers={"accept-language": "fr"},
    )
    text = b"".join(response.streaming_content).decode()

    assert "Civil society" in text and "Société civile" not in text


# GCM objectives: stored in English, shown in the page's language


def test_objective_strings_marked_for_translation_are_those_of_the_database(db):
    from consultations.models import Objective
    from consultations.objectives import SHORT_TITLES, TITLES

    rows = list(Objective.objects.order_by("number").values_list("number", "title", "short_title"))

    assert rows == [(n, t, s) for n, t, s in zip(range(1, 24), TITLES, SHORT_TITLES, strict=True)]


@pytest.mark.parametrize(
    "lang, short, title",
    [
        ("en", "Legal identity and documentation", "Ensure that all migrants have proof of legal"),
        ("fr", "Identité légale et papiers", "Munir tous les migrants d’une preuve d’identité"),
        ("es", "Identidad jurídica y documentación", "Velar por que todos los migrantes tengan"),
    ],
)
def test_objectives_in_focus_are_shown_in_the_page_language(
    client, consultation, question, lang, short, title
):
    html = client.get(consultation.get_absolute_url(), headers={"accept-language": lang})
    html = html.content.decode()
    focus = html[
        html.index('class="objective-list"') : html.index(
            "</ul>", html.index('class="objective-list"')
        )
    ]

    assert f"<span>{short}</span>" in focus and f'title="{title}' in focus
    assert f'<option value="4">4. {short}</option>' in html
    if lang != "en":
        assert "Legal identity and documentation" not in html


@pytest.mark.parametrize(
    "lang, summary",
    [
        ("fr", "4. Munir tous les migrants d’une preuve d’identité légale et de papiers adéquats"),
        ("es", "4. Velar por que todos los migrantes tengan pruebas de su identidad jurídica"),
    ],
)
def test_objective_filter_and_comment_tags_are_translated(
    client, consultation, question, user, post_comment, lang, summary
):
    from consultations.models import Objective

    post_comment(question=question, author=user, body="On documents.", objectives=[4])

    html = client.get(
        consultation.get_absolute_url() + "?objective=4", headers={"accept-language": lang}
    ).content.decode()

    assert summary in html
    assert "Ensure that all migrants" not in html
    with translation.override(lang):
        assert (
            str(Objective.objects.get(number=4))
            == f"4. {Objective.objects.get(number=4).display_short_title}"
        )
        assert str(Objective.objects.get(number=4)) != "4. Legal identity and documentation"
