"""The background task that computes one theme run (run by `manage.py db_worker`)."""

from django_tasks import task

from . import themes


@task()
def compute_themes(run_id: int) -> str:
    return themes.execute_run(run_id)
