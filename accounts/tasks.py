"""The background task that builds a participant's "Download my data" file (`manage.py
db_worker` runs it)."""

from django_tasks import task

from . import my_data


@task()
def build_data_export(export_id: int) -> str:
    return my_data.build(export_id)
