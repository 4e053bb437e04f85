"""The coding services under concurrency on PostgreSQL: staff saving at once leave one row per
code on a comment, one log entry per change, one code per name, and no deadlock."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from consultations import services
from consultations.models import Question
from insights import coding
from insights.models import Code, CodeAssignment, CodingAction, KeyQuote
from tests.conftest import create_consultation, create_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serialises all writers, so there is no race to test",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

THREADS = 8
WAIT = 30


def _all_at_once(jobs) -> tuple[list, list]:
    barrier = threading.Barrier(len(jobs), timeout=WAIT)
    results, errors, lock = [], [], threading.Lock()

    def run(job):
        try:
            barrier.wait()
            result = job()
            with lock:
                results.append(result)
        except BaseException as exc:  # counted by the test
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


@pytest.fixture
def setting():
    consultation = create_consultation(title="Coding at once", slug="coding-at-once")
    question = Question.objects.create(consultation=consultation, number=1, text="Priorities?")
    author = create_user()
    comment = services.comment_create(question=question, author=author, body="Rescue at sea.")
    staff = [create_user(is_staff=True) for _ in range(THREADS)]
    code = coding.create_code(staff[0], consultation, "Sea rescue")
    return consultation, comment, code, staff


def test_the_same_coding_saved_at_once_is_written_and_logged_once(setting):
    consultation, comment, code, staff = setting
    jobs = [
        (lambda actor=actor: coding.set_coding(actor, comment, codes=[code], key_quote=True))
        for actor in staff
    ]
    results, errors = _all_at_once(jobs)
    assert errors == []
    assert CodeAssignment.objects.filter(comment=comment).count() == 1
    assert KeyQuote.objects.filter(comment=comment).count() == 1
    kinds = sorted(CodingAction.objects.filter(comment=comment).values_list("kind", flat=True))
    assert kinds == ["assign", "flag_key_quote"]
    assert sorted(len(r) for r in results) == [0] * (THREADS - 1) + [2]


def test_one_name_at_once_makes_one_code(setting):
    consultation, _comment, _code, staff = setting
    jobs = [
        (lambda actor=actor: coding.create_code(actor, consultation, "REMITTANCES"))
        for actor in staff
    ]
    results, errors = _all_at_once(jobs)
    assert len(results) == 1 and len(errors) == THREADS - 1
    assert all(isinstance(e, ValidationError) for e in errors)
    assert Code.objects.filter(consultation=consultation, name__iexact="remittances").count() == 1


def test_coding_renaming_and_deleting_at_once_do_not_deadlock(setting):
    consultation, comment, code, staff = setting
    jobs = [
        lambda: coding.set_coding(staff[1], comment, codes=[code], notes={code.pk: "a"}),
        lambda: coding.update_code(staff[2], code, "Rescue at sea"),
        lambda: coding.assign(staff[3], comment, code, "b"),
        lambda: coding.delete_code(staff[4], code),
    ]
    _results, errors = _all_at_once(jobs)
    # A job that came after the deletion is refused with a message, never a deadlock or a 500.
    assert all(isinstance(e, ValidationError) for e in errors), errors
    assert not Code.objects.filter(pk=code.pk).exists()
    assert not CodeAssignment.objects.filter(code_id=code.pk).exists()
