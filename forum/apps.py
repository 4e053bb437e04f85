"""The project's own app: its migration (the cache table) and its deployment checks."""

from django.apps import AppConfig
from django.core import checks


class ForumConfig(AppConfig):
    name = "forum"
    verbose_name = "Forum"

    def ready(self) -> None:
        from .checks import check_shared_cache

        checks.register(check_shared_cache, checks.Tags.caches, deploy=True)
