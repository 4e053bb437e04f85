"""Each question's counts (published comments, participants, latest comment, threads), stored on
the question by every write that changes them, in the write's own transaction: pages read them
with the question, whatever its size, and they are never behind a committed comment."""

from django.db import connection, transaction
from django.db.models import Count, Max, Q

from .models import Comment, Question


def counted(question_ids) -> dict[int, dict]:
    """The counts from the comments themselves, per question: one aggregate query."""
    published = Q(status=Comment.Status.PUBLISHED)
    rows = (
        Comment.objects.filter(question_id__in=list(question_ids))
        .values("question_id")
        .annotate(
            comment_count=Count("pk", filter=published),
            participant_count=Count("author_id", filter=published, distinct=True),
            latest_comment_at=Max("created_at", filter=published),
            thread_count=Count("pk", filter=Q(parent__isnull=True)),
        )
        .order_by()
    )
    return {row.pop("question_id"): row for row in rows}


EMPTY = {"comment_count": 0, "participant_count": 0, "latest_comment_at": None, "thread_count": 0}


def refresh(question_id: int) -> None:
    """Count the question's comments again and store the counts. Called inside the transaction
    that changed them: the question's row lock (PostgreSQL) queues concurrent writers, so each
    counts after the one before has committed, and the last to commit leaves the right counts.
    SQLite has one writer at a time already."""
    with transaction.atomic():  # the writer's own transaction; alone, one of its own
        if connection.features.has_select_for_update:
            list(Question.objects.select_for_update().filter(pk=question_id).values_list("pk"))
        values = counted([question_id]).get(question_id, EMPTY)
        Question.objects.filter(pk=question_id).update(**values)
