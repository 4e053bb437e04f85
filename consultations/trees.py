"""The comment trees: writing them safely under concurrency (locks, retries), and checking
and repairing their integrity."""

import contextvars
import functools
import logging
import random
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from django.core.files.storage import Storage
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Max

from .models import Comment

logger = logging.getLogger(__name__)

# --- Writing trees: locks and retries ---------------------------------------------------------

# Files written by the tree_write transaction under way, as (storage, name): deleted if it
# does not commit (the storage is not transactional).
_UNCOMMITTED_FILES: contextvars.ContextVar[list[tuple[Storage, str]] | None] = (
    contextvars.ContextVar("uncommitted_files", default=None)
)


def delete_if_rolled_back(storage: Storage, name: str) -> None:
    """Have a file written inside a tree_write transaction deleted should it not commit."""
    uncommitted = _UNCOMMITTED_FILES.get()
    if uncommitted is not None:
        uncommitted.append((storage, name))


# PostgreSQL advisory lock keys. A tree's lock uses the two-int form (namespace, tree id), the
# allocation of new tree ids the one-bigint form: PostgreSQL keeps these two key spaces apart,
# so no tree id can ever share a key with the allocation lock.
_NEW_TREE_LOCK = 0x6C6D_0001
_TREE_LOCK_NAMESPACE = 0x6C6D
# An author's posts, whatever trees they go to (rate and duplicate checks).
_AUTHOR_LOCK_NAMESPACE = 0x6C6E
_TREE_FIELDS = ["tree_id", "lft", "rght", "level", "parent", "status"]


def _lock_tree(tree_id: int | None) -> None:
    """Serialise writes to one comment tree (or to tree-id allocation) until the commit.

    django-mptt computes a new tree id as max + 1 and shifts lft/rght from the values it read,
    so two concurrent writers could corrupt a tree. SQLite already serialises writers.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if tree_id is None:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_NEW_TREE_LOCK])
        else:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_TREE_LOCK_NAMESPACE, tree_id])


def lock_author(author_id: int) -> None:
    """Serialise one author's posts until the commit, whatever trees they go to.

    The per-author checks (rate limit, duplicate text) count committed rows: without this lock,
    posts sent at once into different threads would each pass them. Lock order for every
    writer: the author first, then trees in ascending id, then the allocation of a new tree id.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_AUTHOR_LOCK_NAMESPACE, author_id])


def lock_trees(tree_ids: Iterable[int], *, new_tree: bool = False) -> None:
    """Lock trees in ascending tree-id order, then (when asked) the allocation of a new tree id.

    One order for every writer, so two writers needing the same trees cannot deadlock; the
    allocation lock comes last, and a writer holding only that one waits for no tree.
    """
    for tree_id in sorted(set(tree_ids)):
        _lock_tree(tree_id)
    if new_tree:
        _lock_tree(None)


def lock_trees_of(*nodes: Comment) -> None:
    """Lock the trees of saved comments, then re-read their positions under the locks.

    Positions read before the lock may be stale. A comment that a moderator moved to another
    tree meanwhile gets that tree locked too, out of order: PostgreSQL then may detect a
    deadlock, and tree_write retries.
    """
    locked: set[int] = set()
    while True:
        lock_trees({node.tree_id for node in nodes} - locked)
        locked |= {node.tree_id for node in nodes}
        for node in nodes:
            node.refresh_from_db(fields=_TREE_FIELDS)
        if {node.tree_id for node in nodes} <= locked:
            return


class _Counter:
    """A count shared by threads: tree writes retried since the process started."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def increment(self) -> None:
        with self._lock:
            self.value += 1


TREE_WRITE_RETRIES = _Counter()
TREE_WRITE_ATTEMPTS = 5
_RETRYABLE_CODES = {"40P01", "40001"}  # deadlock detected, serialization failure
_TREE_CONSTRAINTS = {"comment_tree_lft_unique", "comment_tree_rght_unique"}


def is_retryable(exc: Exception) -> bool:
    """Whether PostgreSQL aborted the transaction in a way another attempt may not meet: a
    deadlock, a serialization failure, or (tree writes) a clash of the deferred tree constraints."""
    cause = exc.__cause__
    code = getattr(cause, "pgcode", None)
    if code in _RETRYABLE_CODES:
        return True
    # The tree's unique pairs are deferred: a clash shows at the commit, as a unique violation.
    constraint = getattr(getattr(cause, "diag", None), "constraint_name", None)
    return code == "23505" and constraint in _TREE_CONSTRAINTS


def tree_write(func):
    """Run a service that writes a comment tree in a transaction, retried a few times when
    PostgreSQL aborts it (deadlock, serialization failure, tree constraint at the commit).

    Inside a caller's transaction (a test, seed_demo) a retry is impossible, since the failed
    transaction is the caller's: the service then runs once, in a savepoint.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():
                return func(*args, **kwargs)
        # A one-shot iterator would be empty on a second attempt.
        kwargs = {k: list(v) if isinstance(v, Iterator) else v for k, v in kwargs.items()}
        for attempt in range(1, TREE_WRITE_ATTEMPTS + 1):
            written: list[tuple[Storage, str]] = []
            token = _UNCOMMITTED_FILES.set(written)
            try:
                with transaction.atomic():
                    return func(*args, **kwargs)
            except BaseException as exc:
                # The transaction rolled back (at the commit, perhaps): its files go too.
                for storage, name in written:
                    storage.delete(name)
                if not isinstance(exc, OperationalError | IntegrityError):
                    raise
                if attempt == TREE_WRITE_ATTEMPTS or not is_retryable(exc):
                    raise
                TREE_WRITE_RETRIES.increment()
                # Jittered, growing pauses, so that the writers that collided do not collide again.
                delay = random.uniform(0.005, 0.02 * 2**attempt)
                logger.info(
                    "%s: attempt %d of %d failed (%s), retrying in %.3f s: %s",
                    func.__name__,
                    attempt,
                    TREE_WRITE_ATTEMPTS,
                    getattr(exc.__cause__, "pgcode", "?"),
                    delay,
                    str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                )
                time.sleep(delay)
            finally:
                _UNCOMMITTED_FILES.reset(token)

    return wrapper


# --- Integrity: checks and repair ---------------------------------------------------------------


class Row(NamedTuple):
    id: int
    parent_id: int | None
    tree_id: int
    lft: int
    rght: int
    level: int


class Position(NamedTuple):
    tree_id: int
    lft: int
    rght: int
    level: int


@dataclass
class TreeCheck:
    trees: int
    comments: int
    # Corrupt tree id -> what is wrong with it, in tree-id order.
    corrupt: dict[int, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.corrupt


class TreeRepairError(Exception):
    """A tree that rebuilding cannot fix (its parent links form a cycle)."""


def fetch_rows(tree_ids: Iterable[int] | None = None) -> list[Row]:
    """The tree columns of every comment (or of some trees), in one query."""
    queryset = Comment.objects.order_by()
    if tree_ids is not None:
        queryset = queryset.filter(tree_id__in=list(tree_ids))
    return [
        Row(*values)
        for values in queryset.values_list("id", "parent_id", "tree_id", "lft", "rght", "level")
    ]


def expected_positions(rows: Iterable[Row]) -> dict[int, Position]:
    """The positions django-mptt's rebuild computes from the parent links.

    As TreeManager.rebuild does without order_insertion_by, a root keeps its tree id and
    siblings keep their order by (tree_id, lft); the id only breaks ties, which are corrupt
    anyway. A comment in a parent cycle reaches no root and has no expected position.
    """
    children: dict[int | None, list[Row]] = defaultdict(list)
    for row in rows:
        children[row.parent_id].append(row)
    for siblings in children.values():
        siblings.sort(key=lambda row: (row.tree_id, row.lft, row.id))

    expected: dict[int, Position] = {}
    for root in children[None]:
        # Depth first without recursion: a long chain of replies is deep.
        lefts = {root.id: 1}
        counter = 2
        stack = [(root.id, 0, iter(children[root.id]))]
        while stack:
            node_id, level, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                stack.pop()
                expected[node_id] = Position(root.tree_id, lefts[node_id], counter, level)
                counter += 1
            else:
                lefts[child.id] = counter
                counter += 1
                stack.append((child.id, level + 1, iter(children[child.id])))
    return expected


def check_rows(rows: Iterable[Row]) -> TreeCheck:
    """Check every tree's invariants; a tree is corrupt when any one fails.

    For each tree: one root; every parent in the same tree; lft and rght unique and all the
    values 1..2n used; lft < rght; rght - lft = 2 x descendants + 1; each comment inside its
    parent's range; level = depth; and the stored positions equal what a rebuild computes.
    """
    rows = list(rows)
    by_id = {row.id: row for row in rows}
    by_tree: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        by_tree[row.tree_id].append(row)
    expected = expected_positions(rows)

    corrupt: dict[int, list[str]] = {}
    for tree_id in sorted(by_tree):
        nodes = by_tree[tree_id]
        reasons: list[str] = []
        roots = [row for row in nodes if row.parent_id is None]
        if len(roots) != 1:
            ids = ", ".join(f"#{row.id}" for row in roots)
            reasons.append(f"{len(roots)} top-level comments ({ids or 'none'})")
        lefts = [row.lft for row in nodes]
        rights = [row.rght for row in nodes]
        if len(set(lefts)) != len(nodes):
            reasons.append("duplicate lft values")
        if len(set(rights)) != len(nodes):
            reasons.append("duplicate rght values")
        if sorted(lefts + rights) != list(range(1, 2 * len(nodes) + 1)):
            reasons.append(f"lft and rght values are not exactly 1..{2 * len(nodes)}")
        for row in sorted(nodes, key=lambda row: (row.lft, row.id)):
            parent = by_id.get(row.parent_id) if row.parent_id is not None else None
            position = expected.get(row.id)
            if row.lft >= row.rght:
                reasons.append(f"#{row.id} has lft {row.lft} >= rght {row.rght}")
            if row.parent_id is not None and parent is None:
                reasons.append(f"#{row.id}'s parent #{row.parent_id} does not exist")
            if parent is not None and parent.tree_id != tree_id:
                reasons.append(f"#{row.id}'s parent #{parent.id} is in tree {parent.tree_id}")
            if parent is not None and not (parent.lft < row.lft and row.rght < parent.rght):
                reasons.append(
                    f"#{row.id} ({row.lft}, {row.rght}) lies outside its parent "
                    f"#{parent.id} ({parent.lft}, {parent.rght})"
                )
            if position is None:
                reasons.append(f"#{row.id} reaches no top-level comment (a cycle of parents)")
                continue
            descendants = (position.rght - position.lft - 1) // 2
            if row.rght - row.lft != 2 * descendants + 1:
                reasons.append(
                    f"#{row.id} spans {row.rght - row.lft + 1} positions "
                    f"but has {descendants} replies below it"
                )
            if row.level != position.level:
                reasons.append(f"#{row.id} has level {row.level} at depth {position.level}")
            if Position(row.tree_id, row.lft, row.rght, row.level) != position:
                reasons.append(
                    f"#{row.id} is stored at (tree {row.tree_id}, {row.lft}, {row.rght}, "
                    f"level {row.level}); a rebuild puts it at (tree {position.tree_id}, "
                    f"{position.lft}, {position.rght}, level {position.level})"
                )
        if reasons:
            corrupt[tree_id] = reasons
    return TreeCheck(trees=len(by_tree), comments=len(rows), corrupt=corrupt)


def check_trees() -> TreeCheck:
    return check_rows(fetch_rows())


def repair_trees(tree_ids: Iterable[int]) -> list[int]:
    """Rebuild the given trees from their parent links, under their locks, in one transaction.

    Usually that is django-mptt's partial_rebuild of each tree. When parent links cross trees
    or a tree holds two top-level comments, each comment first takes its root's tree id (a
    second root gets a new one). Returns the ids of the trees rebuilt; raises TreeRepairError
    (and changes nothing) when parent links form a cycle or the result is still corrupt.
    """
    trees = set(tree_ids)
    locked: set[int] = set()
    with transaction.atomic():
        while True:
            lock_trees(trees - locked)  # later additions out of order, rarely
            locked |= trees
            rows = fetch_rows()  # read under the locks: no writer changes these trees now
            by_id = {row.id: row for row in rows}
            root_of = _roots(rows)
            # The trees' comments, and those elsewhere whose root is in them.
            involved = {
                row.id
                for row in rows
                if row.tree_id in trees
                or (row.id in root_of and by_id[root_of[row.id]].tree_id in trees)
            }
            closure = {by_id[pk].tree_id for pk in involved}
            closure |= {by_id[root_of[pk]].tree_id for pk in involved if pk in root_of}
            if closure <= locked:
                break
            trees |= closure
        cycle = sorted(pk for pk in involved if pk not in root_of)
        if cycle:
            raise TreeRepairError(
                f"#{', #'.join(map(str, cycle))}: their parent links form a cycle; "
                "set their parents by hand"
            )

        # Each root keeps its tree id, unless an earlier root of that tree already has it.
        roots = sorted(
            (by_id[pk] for pk in involved if by_id[pk].parent_id is None),
            key=lambda row: (row.tree_id, row.lft, row.id),
        )
        root_tree: dict[int, int] = {}
        extra_roots = []
        for root in roots:
            if root.tree_id in root_tree.values():
                extra_roots.append(root)
            else:
                root_tree[root.id] = root.tree_id
        if extra_roots:
            lock_trees((), new_tree=True)
            next_id = (Comment.objects.aggregate(top=Max("tree_id"))["top"] or 0) + 1
            for offset, root in enumerate(extra_roots):
                root_tree[root.id] = next_id + offset

        regroup: dict[int, list[int]] = defaultdict(list)
        for pk in involved:
            tree_id = root_tree[root_of[pk]]
            if by_id[pk].tree_id != tree_id:
                regroup[tree_id].append(pk)
        for tree_id, pks in regroup.items():
            Comment.objects.filter(pk__in=pks).update(tree_id=tree_id)

        rebuilt = sorted(set(root_tree.values()))
        for tree_id in rebuilt:
            Comment.objects.partial_rebuild(tree_id)
        after = check_rows(fetch_rows(rebuilt))
        if not after.ok:
            raise TreeRepairError(f"trees still corrupt after rebuilding: {after.corrupt}")
    return rebuilt


def _roots(rows: list[Row]) -> dict[int, int]:
    """Each comment's top-level ancestor by parent links; comments in a cycle are left out."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for row in rows:
        children[row.parent_id].append(row.id)
    root_of: dict[int, int] = {}
    for root in children[None]:
        stack = [root]
        while stack:
            pk = stack.pop()
            root_of[pk] = root
            stack.extend(children[pk])
    return root_of
