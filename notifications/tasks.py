"""The background task that sends one notification (run by `manage.py db_worker`)."""

from django_tasks import task

from . import delivery


@task()
def send_notification(notification_id: int) -> str:
    return delivery.deliver(notification_id)
