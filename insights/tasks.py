"""The background task that extracts one attachment's text (run by `manage.py db_worker`)."""

from django_tasks import task

from . import extraction


@task()
def extract_attachment_text(attachment_id: int) -> str:
    return extraction.extract(attachment_id)
