"""The load balancer's probes: /healthz (the process) and /readyz (the database and the cache)."""

import pytest
from django.test import override_settings

from tests.test_database_unavailable import unreachable_database

# A Redis nobody listens on: a real refused connection for the cache.
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1},
    }
}


def assert_plain_and_uncached(response):
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "no-store" in response["Cache-Control"]


def test_healthz_says_ok_without_asking_the_database(client):
    # No database access is allowed in this test: any query would fail it.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert_plain_and_uncached(response)


def test_readyz_is_ready_when_the_database_and_the_cache_answer(client, db):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.content == b"ready\ndatabase: ok\ncache: ok\n"
    assert_plain_and_uncached(response)


def test_readyz_names_the_database_when_it_is_unreachable(client, db, tmp_path):
    with unreachable_database(tmp_path):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.content == b"not ready\ndatabase: unavailable (OperationalError)\ncache: ok\n"
    assert_plain_and_uncached(response)


def test_readyz_names_the_cache_when_it_is_unreachable(client, db):
    with override_settings(CACHES=UNREACHABLE_REDIS):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.content == b"not ready\ndatabase: ok\ncache: unavailable (ConnectionError)\n"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_over_plain_http_are_not_redirected_to_https(client, db, settings, path):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get(path).status_code == 200
    assert client.head(path).status_code == 200
    assert client.get("/").status_code == 301  # every other page is
