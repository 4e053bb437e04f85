"""Deployment checks (`manage.py check --deploy`) of what the project needs in production."""

from django.conf import settings
from django.core import checks

# Caches that live inside one process: each gunicorn worker would keep its own.
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


def check_shared_cache(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if settings.DEBUG or backend not in PER_PROCESS_CACHES:
        return []
    return [
        checks.Warning(
            f"The default cache ({backend.rsplit('.', 1)[-1]}) is kept in each process, so "
            "every worker counts the limits on failed logins and signups on its own.",
            hint="Use the database cache (the default when REDIS_URL is unset) or set REDIS_URL.",
            id="forum.W001",
        )
    ]
