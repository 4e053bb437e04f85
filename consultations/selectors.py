"""Page-level reads: each page's data in a fixed number of queries, whatever the comment count."""

from dataclasses import dataclass, field

from django.db.models import Count, Max, Prefetch, Q
from django.shortcuts import get_object_or_404

from accounts.models import User

from . import permissions
from .models import Comment, Consultation, ModerationReason, Objective, Question, Report


@dataclass
class ThreadItem:
    """One comment in a flat list that the template renders as nested <ol>/<li> in one loop.

    new_level: this comment opens a nested list (it is the first reply at its depth);
    closed_levels: how many nested lists close after it.
    """

    comment: Comment
    new_level: bool
    closed_levels: range


@dataclass
class QuestionBlock:
    question: Question
    items: list[ThreadItem] = field(default_factory=list)
    comment_count: int = 0


@dataclass
class ConsultationPage:
    consultation: Consultation
    questions: list[QuestionBlock]
    objectives: list[Objective]  # all 23, for the comment forms
    objective_filter: Objective | None
    comment_count: int


def home_consultations():
    return list(
        Consultation.objects.published()
        .open_first()
        .with_comment_count()
        .prefetch_related("objectives")
    )


def all_objectives() -> list[Objective]:
    return list(Objective.objects.all())


def thread_items(comments: list[Comment]) -> list[ThreadItem]:
    """Turn comments in tree order into open/close markers (the shape of mptt's tree_info)."""
    items = []
    base = comments[0].level if comments else 0
    for index, comment in enumerate(comments):
        previous = comments[index - 1] if index else None
        following = comments[index + 1] if index + 1 < len(comments) else None
        next_level = following.level if following is not None else base
        items.append(
            ThreadItem(
                comment=comment,
                new_level=previous is None or comment.level > previous.level,
                closed_levels=range(max(comment.level - next_level, 0) + (following is None)),
            )
        )
    return items


def _flat_items(comments: list[Comment]) -> list[ThreadItem]:
    return [
        ThreadItem(comment=c, new_level=i == 0, closed_levels=range(int(i == len(comments) - 1)))
        for i, c in enumerate(comments)
    ]


def _published_consultation(slug: str) -> Consultation:
    moderators = User.objects.select_related("profile").order_by("profile__display_name")
    return get_object_or_404(
        Consultation.objects.published().prefetch_related(
            "objectives", Prefetch("moderators", queryset=moderators)
        ),
        slug=slug,
    )


def consultation_page(
    *, slug: str, objective_number: int | None = None, viewer=None
) -> ConsultationPage:
    """The consultation with every question's whole reply tree, or only comments tagged N.

    Each comment carries `flags`: what the viewer may do with it (permissions.comment_flags).
    """
    consultation = _published_consultation(slug)
    objectives = all_objectives()
    objective = next((o for o in objectives if o.number == objective_number), None)
    questions = list(consultation.questions.select_related("created_by__profile"))

    comments = (
        Comment.objects.filter(question__consultation=consultation)
        .select_related("author__profile")
        .prefetch_related("objectives", "attachments")
        .order_by("question__number", "tree_id", "lft")
    )
    if objective is not None:
        comments = comments.published().filter(objectives=objective)
    comments = list(comments)

    # "In reply to <name>": parents are on the page when showing whole trees; a filtered page
    # needs them fetched, in one query.
    by_id = {c.pk: c for c in comments}
    missing = {c.parent_id for c in comments if c.parent_id and c.parent_id not in by_id}
    if missing:
        by_id.update(
            (p.pk, p)
            for p in Comment.objects.filter(pk__in=missing).select_related("author__profile")
        )
    questions_by_id = {q.pk: q for q in questions}
    for question in questions:
        question.consultation = consultation
    for comment in comments:
        parent = by_id.get(comment.parent_id)
        comment.reply_to_name = parent.author.display_name if parent is not None else ""
        comment.question = questions_by_id[comment.question_id]
    attach_flags(comments, viewer=viewer, consultation=consultation)

    blocks = {q.pk: QuestionBlock(question=q) for q in questions}
    grouped: dict[int, list[Comment]] = {q.pk: [] for q in questions}
    for comment in comments:
        grouped[comment.question_id].append(comment)
    build = _flat_items if objective is not None else thread_items
    for question_id, question_comments in grouped.items():
        blocks[question_id].items = build(question_comments)
        blocks[question_id].comment_count = sum(
            1 for c in question_comments if c.status == Comment.Status.PUBLISHED
        )

    return ConsultationPage(
        consultation=consultation,
        questions=list(blocks.values()),
        objectives=objectives,
        objective_filter=objective,
        comment_count=sum(b.comment_count for b in blocks.values()),
    )


def attach_flags(comments: list[Comment], *, viewer, consultation: Consultation) -> None:
    """Set each comment's `flags` for the viewer, in at most one query (their reports) beyond
    the user's own facts, which permissions caches on the user object. The comments' questions
    must be loaded already, with this consultation."""
    if not permissions.is_active_user(viewer):
        for comment in comments:
            comment.flags = permissions.NO_FLAGS
        return
    reported = frozenset(
        Report.objects.filter(
            reporter=viewer, comment__question__consultation=consultation
        ).values_list("comment_id", flat=True)
    )
    for comment in comments:
        comment.flags = permissions.comment_flags(viewer, comment, reported_ids=reported)


def question_for_posting(*, slug: str, number: int) -> Question:
    return get_object_or_404(
        Question.objects.select_related("consultation"),
        consultation__slug=slug,
        consultation__is_published=True,
        number=number,
    )


def reply_parent(*, question: Question, comment_id) -> Comment | None:
    """The comment a reply form answers, shown above it; None if not in this question."""
    try:
        comment_id = int(comment_id)
    except (TypeError, ValueError):
        return None
    return (
        Comment.objects.select_related("author__profile")
        .filter(question=question, pk=comment_id)
        .first()
    )


def reported_comments() -> list[Comment]:
    """Comments with open reports, most recently reported first, with counts per reason."""
    is_open = Q(reports__resolution=Report.Resolution.OPEN)
    open_reports = Report.objects.filter(resolution=Report.Resolution.OPEN).select_related(
        "reporter__profile"
    )
    comments = list(
        Comment.objects.filter(
            pk__in=Report.objects.filter(resolution=Report.Resolution.OPEN).values("comment")
        )
        .annotate(
            open_report_count=Count("reports", filter=is_open),
            latest_report_at=Max("reports__created_at", filter=is_open),
        )
        .select_related("author__profile", "question__consultation")
        .prefetch_related(Prefetch("reports", queryset=open_reports, to_attr="open_reports"))
        .order_by("-latest_report_at", "-pk")
    )
    for comment in comments:
        counts: dict[str, int] = {}
        for report in comment.open_reports:
            counts[report.reason] = counts.get(report.reason, 0) + 1
        comment.reason_counts = [
            (ModerationReason(reason).label, count)
            for reason, count in sorted(counts.items(), key=lambda item: -item[1])
        ]
    return comments
