"""What every visitor meets around the pages: the home page's invitation and the site icon."""

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_home_page_asks_anonymous_visitors_to_log_in(client):
    html = client.get("/").content.decode()
    assert "log in to take part" in html


def test_home_page_does_not_ask_a_logged_in_user_to_log_in(client, user):
    client.force_login(user)
    html = client.get("/").content.decode()
    assert "log in" not in html.lower()
    assert "Open a consultation to take part." in html


def test_every_page_names_the_site_icon(client, consultation):
    for url in ("/", consultation.get_absolute_url(), "/accounts/login/"):
        html = client.get(url).content.decode()
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html


def test_favicon_ico_redirects_to_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.svg"
    path = finders.find("favicon.svg")
    assert path is not None
    with open(path, encoding="utf-8") as svg:
        assert svg.read().startswith("<svg ")
