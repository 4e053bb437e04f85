"""The digest benchmark sends through a real SMTP server, prints its figures and leaves the
database as it was."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import User
from notifications.models import Follow, Notification

pytestmark = pytest.mark.django_db


def test_the_digest_benchmark_counts_what_the_smtp_server_received_and_rolls_back():
    out = io.StringIO()
    call_command("benchmark_digests", recipients=4, runs=2, stdout=out)

    lines = out.getvalue().splitlines()
    assert "2 runs, median; in this process" in lines[0]
    figures = dict(line.split(": ", 1) for line in lines[1:])
    assert figures["recipients"] == "4"
    assert figures["scheduled"].startswith("4 digests in ")
    assert figures["emails received"] == "4"
    seconds, rate = float(figures["seconds"]), float(figures["emails/second"])
    assert seconds > 0 and rate == pytest.approx(4 / seconds, rel=0.05)
    assert User.objects.count() == Notification.objects.count() == Follow.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the worker process and the test share the test database: PostgreSQL",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_a_real_worker_it_counts_the_emails_and_deletes_what_it_made():
    from django_tasks_db.models import DBTaskResult

    out = io.StringIO()
    call_command("benchmark_digests", recipients=3, runs=1, worker=True, stdout=out)

    lines = out.getvalue().splitlines()
    assert "one db_worker process" in lines[0]
    figures = dict(line.split(": ", 1) for line in lines[1:])
    assert (figures["recipients"], figures["emails received"]) == ("3", "3")
    assert float(figures["emails/second"]) > 0
    assert User.objects.count() == Notification.objects.count() == Follow.objects.count() == 0
    assert not DBTaskResult.objects.exists()
