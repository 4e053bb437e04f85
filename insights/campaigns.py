"""Campaign and near-duplicate grouping: comments of one consultation whose texts are
near-identical fall in one DuplicateGroup, for staff to see (nothing is hidden or merged).

A comment's plain text is normalised (NFKC, lower case, punctuation out, whitespace collapsed),
cut into overlapping word shingles and summarised as a MinHash (datasketch), stored in
CommentSignature. A consultation is grouped from its stored signatures: MinHashLSH finds the
candidate pairs, each pair is kept when its estimated Jaccard similarity reaches THRESHOLD
(0.8), and the groups are the connected components of the kept pairs (a campaign's variants join
through each other even when two of them differ a little more).

    campaigns.comment_changed(comment)    # from consultations.services, on post and body edit
    campaigns.regroup(consultation)       # recompute the consultation's groups (deterministic)
    campaigns.siblings_of(comment_ids)    # {comment id: [other members' ids]} for "Also in ..."

Group ids stay stable across recomputes: each new group takes over the old group it shares the
most members with (a group whose membership is unchanged always keeps its id); old groups left
without members are deleted.
"""

import functools
import random
import re
import time
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH
from django.db import OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from consultations.models import Comment, Consultation
from consultations.trees import is_retryable

from .models import CommentSignature, DuplicateGroup

# Three-word shingles: a typo changes three shingles of an 80-word text (similarity still about
# 0.93), while two unrelated texts share almost none.
SHINGLE_WORDS = 3
# Shorter texts ("I agree.", "Thank you for this") are alike by accident, not by campaign:
# they get an empty signature and never group.
MIN_WORDS = 8
NUM_PERM = 128
# A fixed seed and scheme: signatures stored today compare with those computed next year.
SEED = 20260310
SCHEME = "affine32"
DTYPE = np.dtype("<u4")  # the affine32 scheme's hash values, stored little-endian
THRESHOLD = 0.8
# MinHashLSH tuned for 0.8 finds a pair at similarity 0.8 only four times in ten (9 bands of 13
# rows): it balances misses against false candidates. Candidates are verified anyway, so the
# index is built for 0.6 (18 bands of 7 rows), which finds 0.8 pairs 98.6% of the time and
# 0.3 pairs almost never; the verification keeps those at THRESHOLD or above.
CANDIDATE_THRESHOLD = 0.6

_PUNCTUATION = re.compile(r"[^\w\s]|_", re.UNICODE)


def normalise(text: str) -> list[str]:
    """The words of a text, compared: NFKC, lower case (casefold), punctuation removed."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return _PUNCTUATION.sub(" ", text).split()


def shingles(words: list[str]) -> set[str]:
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def minhash_of(text: str) -> MinHash | None:
    """The text's MinHash, or None when it is too short to group."""
    words = normalise(text)
    if len(words) < MIN_WORDS:
        return None
    # The permutations are derived from the seed: made once, not for every text.
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, permutations=_permutations())
    minhash.update_batch([s.encode("utf-8") for s in sorted(shingles(words))])
    return minhash


@functools.cache
def _permutations():
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def signature_bytes(text: str) -> bytes:
    """What CommentSignature.minhash stores: the hash values, or b"" for a text too short."""
    minhash = minhash_of(text)
    return b"" if minhash is None else minhash.hashvalues.astype(DTYPE).tobytes()


def minhash_from_bytes(data: bytes) -> LeanMinHash | None:
    """A stored signature, to compare (LeanMinHash: no permutations to rebuild, 30 times faster
    to make than a MinHash, which matters when a consultation's thousands are read)."""
    if not data or len(data) != NUM_PERM * DTYPE.itemsize:
        return None
    values = np.frombuffer(bytes(data), dtype=DTYPE).astype(np.uint32)
    return LeanMinHash(seed=SEED, hashvalues=values, scheme=SCHEME)


# Writing signatures


def store_signature(comment: Comment) -> bool:
    """Compute and store one comment's signature (its group is left to regroup). Returns
    whether it changed (or is new)."""
    data = signature_bytes(comment.body_text)
    stored = CommentSignature.objects.filter(comment=comment).values_list("minhash", flat=True)
    stored = stored.first()
    if stored is not None and bytes(stored) == data:
        return False
    CommentSignature.objects.update_or_create(
        comment=comment,
        defaults={
            "consultation_id": comment.question.consultation_id,
            "minhash": data,
            "computed_at": timezone.now(),
        },
    )
    return True


def store_missing_signatures(consultation: Consultation, *, recompute: bool = False) -> int:
    """Signatures for the consultation's comments that have none, or whose body was edited
    since (all of them with recompute=True). Returns how many were written."""
    comments = Comment.objects.filter(question__consultation=consultation)
    if not recompute:
        comments = comments.filter(
            Q(signature__isnull=True) | Q(signature__computed_at__lt=F("edited_at"))
        )
    now = timezone.now()
    written = 0
    batch: list[CommentSignature] = []
    for pk, text in comments.values_list("pk", "body_text").order_by("pk").iterator():
        batch.append(
            CommentSignature(
                comment_id=pk,
                consultation=consultation,
                minhash=signature_bytes(text),
                computed_at=now,
            )
        )
        if len(batch) >= 500:
            written += _write(batch)
            batch = []
    written += _write(batch)
    return written


def _write(batch: list[CommentSignature]) -> int:
    if batch:
        CommentSignature.objects.bulk_create(
            batch,
            update_conflicts=True,
            unique_fields=["comment"],
            update_fields=["consultation", "minhash", "computed_at"],
        )
    return len(batch)


# Grouping


@dataclass
class Regrouped:
    groups: int  # groups of two or more
    grouped: int  # comments in them
    signatures: int  # signatures compared


def _components(minhashes: dict[int, LeanMinHash]) -> list[list[int]]:
    """Connected components (of two or more) of the pairs at or above THRESHOLD, each sorted,
    largest first."""
    lsh = MinHashLSH(threshold=CANDIDATE_THRESHOLD, num_perm=NUM_PERM)
    with lsh.insertion_session() as session:
        for pk, minhash in minhashes.items():
            session.insert(pk, minhash, check_duplication=False)
    parent = {pk: pk for pk in minhashes}

    def find(pk: int) -> int:
        while parent[pk] != pk:
            parent[pk] = parent[parent[pk]]
            pk = parent[pk]
        return pk

    for pk in sorted(minhashes):
        for other in sorted(lsh.query(minhashes[pk])):
            if other <= pk:
                continue
            if minhashes[pk].jaccard(minhashes[other]) >= THRESHOLD:
                a, b = find(pk), find(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    members: dict[int, list[int]] = defaultdict(list)
    for pk in sorted(minhashes):
        members[find(pk)].append(pk)
    components = [m for m in members.values() if len(m) > 1]
    components.sort(key=lambda m: (-len(m), m[0]))
    return components


def _representative(members: list[int], minhashes: dict[int, LeanMinHash], dates: dict) -> int:
    """The member most similar to the others (summed estimated similarity); ties: the earliest.

    A member's summed similarity counts, at each of the NUM_PERM positions, the others holding
    the same hash value there: counted per position, that is linear in the group's size, not
    quadratic (a campaign of thousands costs milliseconds)."""
    values = np.stack([minhashes[pk].hashvalues for pk in members])
    scores = np.zeros(len(members), dtype=np.int64)
    for column in values.T:
        _unique, inverse, counts = np.unique(column, return_inverse=True, return_counts=True)
        scores += counts[inverse] - 1
    best = scores.max()
    tied = [pk for pk, score in zip(members, scores, strict=True) if score == best]
    return min(tied, key=lambda pk: (dates[pk], pk))


def _lock(consultation_id: int) -> Consultation:
    """One regrouping per consultation at a time: two tasks at once queue here. FOR NO KEY
    UPDATE: rows that refer to the consultation (questions, codes) can still be inserted."""
    return Consultation.objects.select_for_update(no_key=True).get(pk=consultation_id)


@transaction.atomic
def regroup(consultation: Consultation) -> Regrouped:
    """Recompute the consultation's groups from its stored signatures. Deterministic: the same
    signatures give the same groups, the same representatives and (see the module) the same ids.
    """
    _lock(consultation.pk)
    rows = list(
        CommentSignature.objects.filter(consultation=consultation)
        .values_list(
            "comment_id",
            "minhash",
            "group_id",
            "comment__created_at",
            "comment__author__profile__organisation",
        )
        .order_by("comment_id")
    )
    minhashes: dict[int, LeanMinHash] = {}
    dates, organisations, current = {}, {}, {}
    old_members: dict[int, set[int]] = defaultdict(set)
    for pk, data, group_id, created_at, organisation in rows:
        dates[pk], current[pk] = created_at, group_id
        # Organisations compare as the filters do: case-insensitive, exact.
        organisations[pk] = (organisation or "").strip().casefold()
        if group_id is not None:
            old_members[group_id].add(pk)
        minhash = minhash_from_bytes(data)
        if minhash is not None:
            minhashes[pk] = minhash
    components = _components(minhashes)

    now = timezone.now()
    existing = {g.pk: g for g in DuplicateGroup.objects.filter(consultation=consultation)}
    unused = set(existing)
    assignment: dict[int, int] = {}  # comment id -> group id
    for members in components:
        member_set = set(members)
        # Take over the unused old group sharing the most members (ties: the lowest id).
        overlaps = [
            (len(member_set & old_members[g]), -g) for g in unused if member_set & old_members[g]
        ]
        representative = _representative(members, minhashes, dates)
        organisation_count = len({organisations[pk] for pk in members} - {""})
        if overlaps:
            group = existing[-max(overlaps)[1]]
            unused.discard(group.pk)
            changed = (
                group.size != len(members)
                or group.organisation_count != organisation_count
                or group.representative_id != representative
                or old_members[group.pk] != member_set
            )
            if changed:
                group.size, group.organisation_count = len(members), organisation_count
                group.representative_id, group.updated_at = representative, now
                group.save(
                    update_fields=["size", "organisation_count", "representative", "updated_at"]
                )
        else:
            group = DuplicateGroup.objects.create(
                consultation=consultation,
                representative_id=representative,
                size=len(members),
                organisation_count=organisation_count,
                updated_at=now,
            )
        for pk in members:
            assignment[pk] = group.pk

    # Only the signatures whose group changed are written.
    moves: dict[int | None, list[int]] = defaultdict(list)
    for pk, group_id in current.items():
        new = assignment.get(pk)
        if new != group_id:
            moves[new].append(pk)
    for group_id, pks in moves.items():
        for start in range(0, len(pks), 1000):
            chunk = pks[start : start + 1000]
            CommentSignature.objects.filter(comment_id__in=chunk).update(group_id=group_id)
    if unused:
        DuplicateGroup.objects.filter(pk__in=unused).delete()
    return Regrouped(
        groups=len(components),
        grouped=sum(len(c) for c in components),
        signatures=len(minhashes),
    )


# The hook consultations.services calls


def comment_changed(comment: Comment) -> None:
    """A comment was posted or its body edited: after the commit, recompute its signature and
    regroup its consultation in the background (insights.tasks.group_comment)."""
    from .tasks import group_comment

    pk = comment.pk
    transaction.on_commit(lambda: group_comment.enqueue(pk))


# A regrouping that PostgreSQL picks as a deadlock's victim (two workers, or a worker and a
# comment being written, locking rows in other orders) runs again, in a new transaction.
GROUP_ATTEMPTS = 4


def group_comment_now(comment_id: int) -> Regrouped | None:
    """_group_comment_once, retried after a deadlock when it has a transaction of its own."""
    for attempt in range(1, GROUP_ATTEMPTS + 1):
        try:
            return _group_comment_once(comment_id)
        except OperationalError as exc:
            if (
                attempt == GROUP_ATTEMPTS
                or transaction.get_connection().in_atomic_block
                or not is_retryable(exc)
            ):
                raise
            time.sleep(random.uniform(0.005, 0.02 * 2**attempt))  # noqa: S311 (jitter)
    raise AssertionError("unreachable")


@transaction.atomic
def _group_comment_once(comment_id: int) -> Regrouped | None:
    """What the task does: the comment's signature, any other missing one of its consultation,
    then the consultation's groups; None when nothing changed (no regrouping).

    Tasks coalesce: after a burst of posts the first task to run stores every signature still
    missing and regroups once; the others find their signature already there, unchanged, and
    stop. And most comments resemble no other: one that was in no group and has no near-identical
    comment now changes no group, which a direct comparison with the stored signatures (one
    NumPy pass) shows faster than the LSH index would. All under the consultation's lock, so two
    workers do not interleave."""
    comment = Comment.objects.select_related("question").filter(pk=comment_id).first()
    if comment is None:
        return None  # deleted before the task ran
    consultation = _lock(comment.question.consultation_id)
    changed = store_signature(comment)
    others = store_missing_signatures(consultation)
    if not (changed or others):
        return None
    if not others and _stays_alone(comment.pk, consultation):
        return None
    return regroup(consultation)


def _stays_alone(comment_id: int, consultation: Consultation) -> bool:
    """Whether this comment is in no group and near-identical to no other stored comment."""
    data, group_id = CommentSignature.objects.values_list("minhash", "group_id").get(
        comment_id=comment_id
    )
    if group_id is not None:
        return False
    if not data:
        return True  # too short to group
    size = NUM_PERM * DTYPE.itemsize
    others = [
        bytes(other)
        for other in CommentSignature.objects.filter(consultation=consultation)
        .exclude(comment_id=comment_id)
        .values_list("minhash", flat=True)
        if len(other) == size
    ]
    if not others:
        return True
    values = np.frombuffer(b"".join(others), dtype=DTYPE).reshape(len(others), NUM_PERM)
    mine = np.frombuffer(bytes(data), dtype=DTYPE)
    return not ((values == mine).mean(axis=1) >= THRESHOLD).any()


# Reading


def siblings_of(comment_ids: Iterable[int]) -> dict[int, list[int]]:
    """For each of these comments that is in a group, the other members' ids, in order (one
    query). For "Also in this group: #12, #34" wherever comments are listed."""
    comment_ids = list(comment_ids)
    if not comment_ids:
        return {}
    groups = CommentSignature.objects.filter(
        comment_id__in=comment_ids, group__isnull=False
    ).values("group_id")
    members: dict[int, list[int]] = defaultdict(list)
    for group_id, pk in (
        CommentSignature.objects.filter(group_id__in=groups)
        .values_list("group_id", "comment_id")
        .order_by("group_id", "comment_id")
    ):
        members[group_id].append(pk)
    asked = set(comment_ids)
    result: dict[int, list[int]] = {}
    for pks in members.values():
        for pk in pks:
            if pk in asked:
                result[pk] = [other for other in pks if other != pk]
    return result
