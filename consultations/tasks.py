"""The background tasks of consultations (run by `manage.py db_worker`, like the emails)."""

from django_tasks import task

from . import open_data


@task()
def build_open_data(consultation_id: int) -> str:
    """The consultation's open-data ZIP, switched in at its stable URL once whole."""
    return open_data.build(consultation_id)
