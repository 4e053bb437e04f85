"""The task queue and the sessions as the environment selects them (forum/settings.py): the
database by default, Redis with TASKS_BACKEND=rq and REDIS_URL; sessions cached in Redis."""

import json
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from forum.settings import task_settings
from tests.processes import INHERITED_DROPPED, INHERITED_PREFIXES_DROPPED, ROOT

REDIS = "redis://127.0.0.1:6379/13"


def settings_under(**env: str) -> dict:
    """forum.settings as a process started with this environment computes it."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(INHERITED_PREFIXES_DROPPED) and k not in INHERITED_DROPPED
    }
    clean.update({"SECRET_KEY": "x", **env})
    code = (
        "import json, forum.settings as s; print(json.dumps({'TASKS': s.TASKS, "
        "'RQ_QUEUES': s.RQ_QUEUES, 'RQ': s.RQ, 'apps': s.INSTALLED_APPS, "
        "'SESSION_ENGINE': getattr(s, 'SESSION_ENGINE', None), "
        "'CACHE': s.CACHES['default']['BACKEND']}))"
    )
    done = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout)


def test_by_default_tasks_are_a_database_table_and_sessions_are_in_the_database():
    found = settings_under()
    assert found["TASKS"]["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert found["RQ_QUEUES"] == {} and "django_rq" not in found["apps"]
    assert found["SESSION_ENGINE"] is None  # Django's default: the database
    assert found["CACHE"] == "django.core.cache.backends.db.DatabaseCache"


def test_redis_url_alone_caches_sessions_in_redis_and_keeps_the_database_queue():
    found = settings_under(REDIS_URL=REDIS)
    assert found["TASKS"]["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert found["SESSION_ENGINE"] == "django.contrib.sessions.backends.cached_db"
    assert found["CACHE"] == "django.core.cache.backends.redis.RedisCache"


def test_tasks_backend_rq_queues_tasks_in_the_redis_of_redis_url():
    found = settings_under(TASKS_BACKEND="rq", REDIS_URL=REDIS)
    assert found["TASKS"] == {
        "default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}
    }
    assert found["RQ_QUEUES"] == {"default": {"URL": REDIS, "DEFAULT_TIMEOUT": 300}}
    # `manage.py rqworker default --with-scheduler` runs the jobs through django-tasks.
    assert found["RQ"] == {"JOB_CLASS": "django_tasks_rq.Job"}
    assert {"django_rq", "django_tasks_rq"} <= set(found["apps"])
    assert found["SESSION_ENGINE"] == "django.contrib.sessions.backends.cached_db"


def test_tasks_backend_rq_without_redis_url_refuses_to_start_and_says_why():
    found = settings_under(TASKS_BACKEND="rq")
    assert found["error"].startswith("django.core.exceptions.ImproperlyConfigured: ")
    assert "TASKS_BACKEND=rq" in found["error"] and "set REDIS_URL" in found["error"]


def test_an_unknown_tasks_backend_is_refused():
    with pytest.raises(ImproperlyConfigured, match="'database' .* or 'rq', not 'celery'"):
        task_settings("celery", REDIS)
    assert task_settings(" Database ", "")["TASKS"]["default"]["BACKEND"] == (
        "django_tasks_db.DatabaseBackend"
    )
    assert task_settings("RQ", REDIS)["apps"] == ["django_rq", "django_tasks_rq"]


def test_the_rq_configuration_passes_the_system_checks():
    """django-tasks-rq's own check: django_rq installed, every queue in RQ_QUEUES, rq >= 2.5."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(INHERITED_PREFIXES_DROPPED) and k not in INHERITED_DROPPED
    }
    env.update({"SECRET_KEY": "x", "TASKS_BACKEND": "rq", "REDIS_URL": REDIS})
    done = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout
