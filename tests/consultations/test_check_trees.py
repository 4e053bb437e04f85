"""check_trees finds trees corrupted on purpose and repairs only those; constraints refuse some."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from consultations import trees
from consultations.models import Comment

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the deferred unique (tree_id, lft/rght) constraints exist on PostgreSQL only",
)


@pytest.fixture
def forest(question, user, other_user, post_comment):
    """Two threads: a (b (c), d) and e (f)."""
    a = post_comment(question=question, author=user, body="A")
    b = post_comment(question=question, author=other_user, body="B", parent=a)
    c = post_comment(question=question, author=user, body="C", parent=b)
    d = post_comment(question=question, author=other_user, body="D", parent=a)
    e = post_comment(question=question, author=user, body="E")
    f = post_comment(question=question, author=other_user, body="F", parent=e)
    return a, b, c, d, e, f


def rows_of(tree_id):
    return list(
        Comment.objects.filter(tree_id=tree_id)
        .order_by("pk")
        .values_list("pk", "parent_id", "tree_id", "lft", "rght", "level", "updated_at")
    )


def run_check(*args):
    """Run the command; returns (exit status as manage.py gives it, output)."""
    out = StringIO()
    try:
        call_command("check_trees", *args, stdout=out)
    except CommandError as error:
        # manage.py prints the error and exits with its returncode.
        return error.returncode, f"{out.getvalue()}{error}"
    return 0, out.getvalue()


def corrupt(comment, **fields):
    # A raw UPDATE, as a bug or a hand edit would do it: no tree code runs.
    Comment.objects.filter(pk=comment.pk).update(**fields)


def test_consistent_trees_pass(forest):
    status, output = run_check()
    assert status == 0
    assert "checked 2 trees, 6 comments: all consistent" in output


# Each corruption here is one that the database constraints accept.
@pytest.mark.parametrize(
    "corruption, reason",
    [
        ("wrong_level", "has level 5 at depth 2"),
        ("reply_outside_its_parent", "lies outside its parent"),
    ],
)
def test_check_names_the_corrupt_tree_and_repair_rebuilds_only_it(forest, corruption, reason):
    a, b, c, d, e, f = forest
    if corruption == "wrong_level":
        corrupt(c, level=5)
    else:
        # D now claims B as its parent, but its positions still say it is A's child.
        corrupt(d, parent_id=b.pk)
    other_tree = rows_of(e.tree_id)

    status, output = run_check()
    assert status == 1
    assert "checked 2 trees, 6 comments: 1 corrupt" in output
    assert f"tree {a.tree_id} corrupt:" in output and reason in output
    assert f"tree {e.tree_id} corrupt" not in output

    status, output = run_check("--repair")
    assert status == 0, output
    assert f"rebuilt tree(s) {a.tree_id}" in output
    assert output.strip().endswith("checked 2 trees, 6 comments: all consistent")
    assert rows_of(e.tree_id) == other_tree
    assert run_check()[0] == 0
    c.refresh_from_db()
    assert c.level == 2
    if corruption == "reply_outside_its_parent":
        d.refresh_from_db()
        b.refresh_from_db()
        assert b.lft < d.lft < d.rght < b.rght and d.level == 2


def test_call_command_raises_for_a_corrupt_tree(forest):
    a, b, c, d, e, f = forest
    corrupt(f, level=0)
    with pytest.raises(CommandError) as error:
        call_command("check_trees")
    assert error.value.returncode == 1


def test_wrong_positions_are_found_and_rebuilt(forest):
    # Inside the test's transaction the deferred unique constraints are not checked yet.
    a, b, c, d, e, f = forest
    corrupt(d, lft=b.lft, rght=b.rght)
    result = trees.check_trees()
    assert list(result.corrupt) == [a.tree_id]
    assert "duplicate lft values" in result.corrupt[a.tree_id]
    assert trees.repair_trees([a.tree_id]) == [a.tree_id]
    assert trees.check_trees().ok


def test_two_threads_sharing_a_tree_id_are_split_again(forest):
    # What a race on tree-id allocation would leave: E's thread carries A's tree id.
    a, b, c, d, e, f = forest
    Comment.objects.filter(tree_id=e.tree_id).update(tree_id=a.tree_id)
    result = trees.check_trees()
    assert list(result.corrupt) == [a.tree_id]
    assert any("2 top-level comments" in r for r in result.corrupt[a.tree_id])

    status, output = run_check("--repair")
    assert status == 0, output
    e.refresh_from_db()
    f.refresh_from_db()
    assert e.tree_id != a.tree_id and f.tree_id == e.tree_id and (e.lft, e.rght) == (1, 4)
    assert trees.check_trees().ok


def test_a_reply_stranded_in_another_tree_goes_back(forest):
    a, b, c, d, e, f = forest
    corrupt(c, tree_id=e.tree_id)
    result = trees.check_trees()
    assert set(result.corrupt) == {a.tree_id, e.tree_id}
    assert any(f"parent #{b.pk} is in tree {a.tree_id}" in r for r in result.corrupt[e.tree_id])

    assert run_check("--repair")[0] == 0
    c.refresh_from_db()
    assert c.tree_id == a.tree_id and c.level == 2
    assert trees.check_trees().ok


def test_a_cycle_of_parents_is_reported_and_not_repaired(forest):
    a, b, c, d, e, f = forest
    corrupt(a, parent_id=c.pk)
    status, output = run_check("--repair")
    assert status == 1
    assert "reaches no top-level comment" in output
    assert "Not repaired" in output and "cycle" in output


def test_check_uses_one_query(forest, django_assert_num_queries):
    with django_assert_num_queries(1):
        trees.check_trees()


def test_lft_not_below_rght_is_refused_by_the_database(forest):
    a, b, c, d, e, f = forest
    for fields in ({"rght": c.lft}, {"lft": c.rght}, {"lft": c.rght + 1}):
        with pytest.raises(IntegrityError), transaction.atomic():
            corrupt(c, **fields)


@on_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_duplicate_lft_or_rght_is_refused_at_the_commit(question, user, post_comment):
    root = post_comment(question=question, author=user, body="Root")
    first = post_comment(question=question, author=user, body="First", parent=root)
    second = post_comment(question=question, author=user, body="Second", parent=root)
    # root (1, 6), first (2, 3), second (4, 5): each change keeps lft < rght.
    for column, value in (("lft", first.lft), ("rght", root.rght)):
        reached_commit = False
        with pytest.raises(IntegrityError) as error:
            with transaction.atomic():
                corrupt(second, **{column: value})
                reached_commit = True  # deferred: the UPDATE itself passes
        assert reached_commit
        assert f"comment_tree_{column}_unique" in str(error.value)
    assert trees.check_trees().ok


@on_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_manage_py_exits_with_status_1_for_a_corrupt_tree_and_0_once_repaired(forest):
    a, b, c, d, e, f = forest
    corrupt(c, level=7)  # committed: this test's writes are real
    db = connection.settings_dict
    env = {
        **os.environ,
        "SECRET_KEY": "test-only",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }

    def manage(*args):
        return subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "check_trees", *args],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    found = manage()
    assert found.returncode == 1
    assert f"tree {a.tree_id} corrupt: #{c.pk} has level 7 at depth 2" in found.stdout
    assert "run check_trees --repair" in found.stderr
    repaired = manage("--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert manage().returncode == 0
    c.refresh_from_db()
    assert c.level == 2
