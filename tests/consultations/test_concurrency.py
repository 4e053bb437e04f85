"""Concurrent tree writes on PostgreSQL: many writers at once, the tree locks, and the retries."""

import logging
import random
import threading
import time
from collections import Counter, defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

from consultations import counts, services, trees
from consultations.models import Comment, Objective, Question
from tests.conftest import create_consultation, create_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serialises all writers, so there is no race to test",
    ),
    # Real commits, seen by the writers' own connections. The flush after a transactional test
    # empties every table; serialized_rollback restores the objectives and the Moderators group
    # (data migrations) before each of these tests.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WRITERS = 24
# Each writer's comments, in a shuffled order: replies anywhere in the one shared thread,
# new top-level comments, and replies to the new top-level comments of all writers.
PLAN = ["thread reply"] * 10 + ["top level"] * 4 + ["reply to a new thread"] * 6
WAIT = 30  # seconds: a generous bound for anything that should take well under one


@pytest.fixture(autouse=True)
def _tasks_queued_not_run(settings):
    # In production a worker runs the tasks a post enqueues (campaign regrouping, emails) in
    # its own process. The tests' in-process backend would run them inside each writer's
    # commit, adding lock waits between the writers that production does not have, and an
    # error there would look like the writer's own. Here they are only queued.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def question():
    consultation = create_consultation(title="Concurrency", slug="concurrency")
    return Question.objects.create(consultation=consultation, number=1, text="Everyone at once?")


def retries() -> int:
    return trees.TREE_WRITE_RETRIES.value


def in_thread(target, *args):
    """Run target in a thread with its own database connection; closes it at the end."""
    outcome: dict = {}
    started = threading.Event()

    def run():
        try:
            connection.ensure_connection()
            outcome["pid"] = connection.connection.get_backend_pid()
            started.set()
            outcome["result"] = target(*args)
        except BaseException as exc:  # reported by the test
            outcome["error"] = exc
        finally:
            started.set()
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(WAIT)
    return thread, outcome


def wait_until_blocked(pid: int, locktype: str) -> None:
    """Wait until backend pid waits for a lock of this type (advisory, transactionid, tuple)."""
    deadline = time.monotonic() + WAIT
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT locktype FROM pg_locks WHERE pid = %s AND NOT granted", [pid])
            waiting = {row[0] for row in cursor.fetchall()}
            if waiting & {locktype, *(["tuple"] if locktype == "transactionid" else [])}:
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited for a {locktype} lock")


# --- Many writers at once --------------------------------------------------------------------


def independent_tree_check(rows) -> list[str]:
    """The invariants, written again here rather than trusting consultations.trees."""
    problems = []
    by_id = {r[0]: r for r in rows}
    by_tree = defaultdict(list)
    children = defaultdict(list)
    for r in rows:
        by_tree[r[2]].append(r)
        children[r[1]].append(r[0])

    def count_descendants(pk):
        return sum(1 + count_descendants(child) for child in children[pk])

    def depth(pk):
        return 0 if by_id[pk][1] is None else 1 + depth(by_id[pk][1])

    for tree_id, nodes in by_tree.items():
        lefts = [r[3] for r in nodes]
        rights = [r[4] for r in nodes]
        if len(set(lefts)) != len(lefts) or len(set(rights)) != len(rights):
            problems.append(f"tree {tree_id}: duplicate lft or rght")
        if len([r for r in nodes if r[1] is None]) != 1:
            problems.append(f"tree {tree_id}: not exactly one root")
        for pk, parent_id, _tree, lft, rght, level in nodes:
            if not lft < rght:
                problems.append(f"#{pk}: lft {lft} >= rght {rght}")
            if rght - lft != 2 * count_descendants(pk) + 1:
                problems.append(f"#{pk}: width does not match its descendants")
            if level != depth(pk):
                problems.append(f"#{pk}: level {level} != depth {depth(pk)}")
            if parent_id is not None:
                _p, _pp, p_tree, p_lft, p_rght, _pl = by_id[parent_id]
                if p_tree != tree_id or not (p_lft < lft and rght < p_rght):
                    problems.append(f"#{pk}: outside its parent #{parent_id}")
    return problems


def rebuilt_rows(tree_ids) -> list:
    """What django-mptt's own rebuild computes, inside a transaction that is rolled back."""
    with transaction.atomic():
        for tree_id in tree_ids:
            Comment.objects.partial_rebuild(tree_id)
        rows = sorted(Comment.objects.values_list("pk", "parent_id", "tree_id", "lft", "rght"))
        transaction.set_rollback(True)
    return rows


def test_many_writers_at_once_keep_every_comment_and_every_tree_intact(question):
    authors = [create_user(display_name=f"Writer {n}") for n in range(WRITERS)]
    root = services.comment_create(question=question, author=authors[0], body="The thread")
    objectives = list(Objective.objects.filter(number__in=[4, 10]))
    thread_ids = [root.pk]  # the shared thread's comments, for replies to pick from
    new_tops: list[int] = []
    shared = threading.Lock()
    barrier = threading.Barrier(WRITERS + 1, timeout=WAIT)
    posted: list[int] = []
    errors: list[str] = []

    def writer(n: int) -> None:
        rng = random.Random(n)
        plan = PLAN[:]
        rng.shuffle(plan)
        try:
            author = get_user_model().objects.get(pk=authors[n].pk)
            own_question = Question.objects.select_related("consultation").get(pk=question.pk)
            barrier.wait()
            for i, kind in enumerate(plan):
                with shared:
                    pool = thread_ids if kind == "thread reply" else new_tops or thread_ids
                    parent_id = rng.choice(pool) if kind != "top level" else None
                # As the view does: the parent is read before the service takes the lock.
                parent = Comment.objects.get(pk=parent_id) if parent_id else None
                comment = services.comment_create(
                    question=own_question,
                    author=author,
                    body=f"Writer {n}, comment {i} ({kind})",
                    objectives=objectives[: i % 3],
                    parent=parent,
                )
                with shared:
                    posted.append(comment.pk)
                    if kind == "thread reply":
                        thread_ids.append(comment.pk)
                    elif kind == "top level":
                        new_tops.append(comment.pk)
        except BaseException as exc:
            barrier.abort()
            errors.append(f"writer {n}: {exc!r}")
        finally:
            connection.close()

    retries_before = retries()
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.monotonic()
    for thread in threads:
        thread.join(120)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads)

    check = trees.check_trees()
    print(
        f"\nconcurrency: {WRITERS} writers, {len(posted)} comments, {elapsed:.1f} s, "
        f"{retries() - retries_before} retries, {len(check.corrupt)} corrupt trees"
    )
    assert errors == []

    # Every posted comment exists exactly once.
    assert len(posted) == WRITERS * len(PLAN) == len(set(posted))
    stored = list(Comment.objects.filter(question=question).values_list("pk", "body"))
    assert sorted(pk for pk, _ in stored) == sorted([root.pk, *posted])
    assert max(Counter(body for _, body in stored).values()) == 1
    assert Comment.objects.filter(parent=None).count() == 1 + WRITERS * PLAN.count("top level")
    # The counts each write stored on the question are those of the comments (counts.refresh
    # queued the writers on the question's row).
    question.refresh_from_db()
    assert question.comment_count == len(posted) + 1
    assert question.participant_count == WRITERS
    assert question.thread_count == 1 + WRITERS * PLAN.count("top level")
    assert {field: getattr(question, field) for field in counts.EMPTY} == counts.counted(
        [question.pk]
    )[question.pk]

    # Every tree is intact: by the module under test, by the test's own check, and against
    # django-mptt's rebuild.
    assert check.ok, check.corrupt
    assert check.comments == len(posted) + 1
    rows = list(
        Comment.objects.order_by().values_list("pk", "parent_id", "tree_id", "lft", "rght", "level")
    )
    assert independent_tree_check(rows) == []
    tree_ids = sorted({r[2] for r in rows})
    assert rebuilt_rows(tree_ids) == sorted(r[:5] for r in rows)


# --- Per-author limits under concurrency ----------------------------------------------------


def _all_at_once(jobs) -> tuple[list, list]:
    """Run each job in its own thread and connection, released together; (results, errors)."""
    barrier = threading.Barrier(len(jobs), timeout=WAIT)
    results, errors, lock = [], [], threading.Lock()

    def run(job):
        try:
            barrier.wait()
            result = job()
            with lock:
                results.append(result)
        except BaseException as exc:  # the refusals the test counts
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


def test_the_rate_limit_holds_for_replies_sent_at_once_into_different_threads(question, settings):
    author = create_user(display_name="Fast Replier")
    owner = create_user(display_name="Thread Owner")
    roots = [
        services.comment_create(question=question, author=owner, body=f"Thread {n}")
        for n in range(10)
    ]
    settings.COMMENT_RATE_LIMITS = ["5/m"]
    jobs = [
        (lambda n=n: post(question.pk, author.pk, f"Reply {n}", roots[n % 10].pk))
        for n in range(20)
    ]

    results, errors = _all_at_once(jobs)

    assert len(results) == 5
    assert len(errors) == 15 and all(isinstance(e, services.RateLimited) for e in errors)
    assert Comment.objects.filter(author=author).count() == 5
    assert trees.check_trees().ok


def test_identical_replies_sent_at_once_into_different_threads_store_one(question):
    author = create_user(display_name="Copy Paster")
    owner = create_user(display_name="Thread Owner")
    roots = [
        services.comment_create(question=question, author=owner, body=f"Thread {n}")
        for n in range(5)
    ]
    jobs = [
        (lambda r=root: post(question.pk, author.pk, "The same words.", r.pk)) for root in roots
    ]

    results, errors = _all_at_once(jobs)

    assert len(results) == 1
    assert len(errors) == 4 and all(isinstance(e, services.DuplicateComment) for e in errors)
    assert Comment.objects.filter(author=author).count() == 1


# --- The locks -------------------------------------------------------------------------------


def post(question_pk: int, author_pk: int, body: str, parent_pk: int | None = None):
    question = Question.objects.select_related("consultation").get(pk=question_pk)
    author = get_user_model().objects.get(pk=author_pk)
    parent = Comment.objects.get(pk=parent_pk) if parent_pk else None
    return services.comment_create(question=question, author=author, body=body, parent=parent)


def test_a_reply_waits_for_its_trees_lock_and_other_trees_do_not(question, user, other_user):
    root = services.comment_create(question=question, author=user, body="Locked thread")
    other = services.comment_create(question=question, author=user, body="Free thread")
    with transaction.atomic():
        trees.lock_trees([root.tree_id])
        blocked, blocked_outcome = in_thread(post, question.pk, user.pk, "Waits", root.pk)
        wait_until_blocked(blocked_outcome["pid"], "advisory")
        # Another author: the same one's posts are serialised by the author's lock.
        free, free_outcome = in_thread(post, question.pk, other_user.pk, "Passes", other.pk)
        free.join(WAIT)
        assert not free.is_alive() and "error" not in free_outcome
        assert blocked.is_alive()
        assert not Comment.objects.filter(parent=root).exists()
    blocked.join(WAIT)
    assert "error" not in blocked_outcome
    assert Comment.objects.get(parent=root).body == "<p>Waits</p>"
    assert trees.check_trees().ok


def test_a_new_top_level_comment_waits_for_the_tree_id_allocation_lock(question, user, other_user):
    existing = services.comment_create(question=question, author=user, body="Existing")
    with transaction.atomic():
        trees.lock_trees((), new_tree=True)
        blocked, blocked_outcome = in_thread(post, question.pk, user.pk, "New thread")
        wait_until_blocked(blocked_outcome["pid"], "advisory")
        reply, reply_outcome = in_thread(post, question.pk, other_user.pk, "Reply", existing.pk)
        reply.join(WAIT)
        assert not reply.is_alive() and "error" not in reply_outcome
        assert blocked.is_alive()
    blocked.join(WAIT)
    assert "error" not in blocked_outcome
    new = Comment.objects.get(body="<p>New thread</p>")
    assert new.tree_id == existing.tree_id + 1 and new.level == 0


# --- The retries -----------------------------------------------------------------------------


def test_a_real_deadlock_is_retried_and_the_reply_saved_once(question, user, caplog):
    root = services.comment_create(question=question, author=user, body="Root")
    before = retries()
    caplog.set_level(logging.INFO, logger="consultations.trees")
    with transaction.atomic(), connection.cursor() as cursor:
        # This transaction holds the root's row; the writer takes the tree lock, then waits
        # for the row (its insert shifts the root's rght) ...
        cursor.execute("SELECT id FROM consultations_comment WHERE id = %s FOR UPDATE", [root.pk])
        writer, outcome = in_thread(post, question.pk, user.pk, "Reply", root.pk)
        wait_until_blocked(outcome["pid"], "transactionid")
        # ... and now this one waits for the tree lock: a cycle. The writer's deadlock check
        # runs first (deadlock_timeout, 1 s by default, 10 s here), so PostgreSQL aborts it.
        cursor.execute("SET LOCAL deadlock_timeout = '10s'")
        trees.lock_trees([root.tree_id])
    writer.join(WAIT)
    assert "error" not in outcome, outcome.get("error")
    assert retries() == before + 1
    assert "40P01" in caplog.text and "retrying" in caplog.text
    assert list(Comment.objects.filter(parent=root).values_list("body", flat=True)) == [
        "<p>Reply</p>"
    ]
    assert trees.check_trees().ok


def test_a_tree_constraint_broken_at_the_commit_is_retried(question, user):
    root = services.comment_create(question=question, author=user, body="Root")
    first = services.comment_create(question=question, author=user, body="1", parent=root)
    second = services.comment_create(question=question, author=user, body="2", parent=root)
    attempts = []

    @trees.tree_write
    def clumsy_write():
        attempts.append(1)
        if len(attempts) == 1:  # a duplicate lft, refused only at the commit
            Comment.objects.filter(pk=second.pk).update(lft=first.lft)

    before = retries()
    clumsy_write()
    assert len(attempts) == 2 and retries() == before + 1
    assert trees.check_trees().ok


def test_other_integrity_errors_are_not_retried(question):
    attempts = []

    @trees.tree_write
    def duplicate_question():
        attempts.append(1)
        Question.objects.create(consultation=question.consultation, number=1, text="Again")

    before = retries()
    with pytest.raises(IntegrityError):
        duplicate_question()
    assert len(attempts) == 1 and retries() == before


def test_files_of_an_attempt_refused_at_the_commit_are_removed(question, user, settings, tmp_path):
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    from consultations.models import Attachment

    settings.MEDIA_ROOT = tmp_path / "media"
    root = services.comment_create(question=question, author=user, body="Root")
    first = services.comment_create(question=question, author=user, body="1", parent=root)
    second = services.comment_create(question=question, author=user, body="2", parent=root)
    pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    upload = SimpleUploadedFile("report.pdf", pdf, content_type="application/pdf")
    attempts = []

    @trees.tree_write
    def write_with_a_file():
        attempts.append(1)
        services._store_attachments(comment=first, files=[upload])
        if len(attempts) == 1:  # a duplicate lft: the commit of this attempt is refused
            Comment.objects.filter(pk=second.pk).update(lft=first.lft)

    write_with_a_file()

    files = [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert len(attempts) == 2
    assert Attachment.objects.count() == 1
    assert [p.name for p in files] == [Path(Attachment.objects.get().file.name).name]
    assert files[0].read_bytes() == pdf
