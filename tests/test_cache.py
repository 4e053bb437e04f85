"""The shared cache: the database table by default, Redis with REDIS_URL; the deploy check."""

import socket
import uuid

import pytest
import redis
from django.core import checks
from django.core.cache.backends.base import BaseCache
from django.db import connection
from django.test import override_settings
from django.utils.module_loading import import_string

from forum.settings import cache_settings

TEST_REDIS_URL = "redis://127.0.0.1:6379/7"  # a database number of its own, away from 0


def worker_cache(config: dict) -> BaseCache:
    """A cache object built from a CACHES entry, as each gunicorn worker builds its own."""
    entry = config["default"]
    return import_string(entry["BACKEND"])(entry["LOCATION"], entry)


def redis_listening() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


def test_without_redis_the_default_cache_is_the_database_table_every_worker_reads(db):
    config = cache_settings("")
    first, second = worker_cache(config), worker_cache(config)
    assert config["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"

    first.set("failed-logins:someone@example.org", [1, 2, 3], timeout=300)

    assert second.get("failed-logins:someone@example.org") == [1, 2, 3]
    # The table made by forum's migration holds it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM django_cache")
        assert [key for (key,) in cursor.fetchall()] == [
            "forum:1:failed-logins:someone@example.org"
        ]


@pytest.mark.skipif(not redis_listening(), reason="no Redis at 127.0.0.1:6379")
def test_with_redis_url_the_default_cache_is_redis_shared_by_every_worker(monkeypatch):
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("CACHE_KEY_PREFIX", prefix)
    config = cache_settings(TEST_REDIS_URL)
    first, second = worker_cache(config), worker_cache(config)
    raw = redis.Redis.from_url(TEST_REDIS_URL)
    assert config["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    try:
        first.set("failed-logins", [1, 2], timeout=60)
        first.add("counter", 0, timeout=60)
        first.incr("counter")

        assert second.get("failed-logins") == [1, 2]
        assert second.get("counter") == 1
        assert sorted(raw.keys(f"{prefix}:*")) == [
            f"{prefix}:1:counter".encode(),
            f"{prefix}:1:failed-logins".encode(),
        ]
    finally:
        # Only this test's keys: clear() would empty the whole Redis database.
        keys = raw.keys(f"{prefix}:*")
        if keys:
            raw.delete(*keys)
        raw.close()


def deploy_warnings() -> list[str]:
    messages = checks.run_checks(tags=[checks.Tags.caches], include_deployment_checks=True)
    return [message.id for message in messages]


@pytest.mark.parametrize("backend", ["locmem.LocMemCache", "dummy.DummyCache"])
def test_the_deploy_check_warns_of_a_per_process_cache(settings, backend):
    settings.DEBUG = False
    settings.CACHES = {"default": {"BACKEND": f"django.core.cache.backends.{backend}"}}

    assert deploy_warnings() == ["forum.W001"]


@pytest.mark.parametrize("redis_url", ["", TEST_REDIS_URL])
def test_the_deploy_check_is_silent_with_the_database_or_redis_cache(redis_url):
    # Restored before the conftest clears the cache, which this test cannot reach.
    with override_settings(DEBUG=False, CACHES=cache_settings(redis_url)):
        assert deploy_warnings() == []


def test_the_deploy_check_is_silent_in_development(settings):
    settings.DEBUG = True  # the conftest's per-process cache

    assert deploy_warnings() == []


def test_the_check_runs_only_with_deploy(settings):
    settings.DEBUG = False

    assert [m.id for m in checks.run_checks(tags=[checks.Tags.caches])] == []
