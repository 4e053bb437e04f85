"""Page-level reads: each page's data in a fixed number of queries, whatever the comment count."""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Max, OuterRef, Prefetch, Q, Subquery, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404
from django.urls import reverse

from accounts.models import StakeholderType, User

from . import permissions, rendering
from .models import Comment, Consultation, ModerationReason, Objective, Question, Report
from .rendering import ShownComment


@dataclass
class ThreadItem:
    """One comment in a flat list that rendering.thread_html turns into nested <ol>/<li>.

    new_level: this comment opens a nested list (it is the first reply at its depth);
    closed_levels: how many nested lists close after it.
    """

    comment: ShownComment
    new_level: bool
    closed_levels: range
    # On the last shown comment of a thread cut short: the replies left out, and where to read
    # them (the thread in full).
    more: int = 0
    more_url: str = ""


@dataclass
class QuestionBlock:
    question: Question
    items: list[ThreadItem] = field(default_factory=list)
    comment_count: int = 0
    participant_count: int = 0
    latest_at: datetime | None = None
    # Top-level threads in all, and whether the page shows only the first ones.
    thread_count: int = 0
    cut_short: bool = False
    # The viewer follows this question (set by the views, for its Follow button).
    following: bool = False

    @property
    def has_more(self) -> bool:
        """Some thread is cut short: the page loads the script that expands it in place."""
        return any(item.more for item in self.items)


@dataclass(frozen=True)
class CommentFilters:
    """Published comments tagged with an objective and/or by participants of a stakeholder type."""

    objective: Objective | None = None
    stakeholder_type: str | None = None

    @property
    def active(self) -> bool:
        return self.objective is not None or self.stakeholder_type is not None

    @property
    def stakeholder_label(self) -> str:
        return StakeholderType(self.stakeholder_type).label if self.stakeholder_type else ""

    @property
    def params(self) -> list[tuple[str, str]]:
        """The query string that selects them, for page links."""
        pairs = [("objective", str(self.objective.number))] if self.objective else []
        return pairs + ([("stakeholder", self.stakeholder_type)] if self.stakeholder_type else [])

    def apply(self, comments):
        # Hidden and deleted comments are never listed: their placeholders only make sense in
        # their thread.
        comments = comments.published()
        if self.objective is not None:
            comments = comments.filter(objectives=self.objective)
        if self.stakeholder_type is not None:
            comments = comments.filter(author__profile__stakeholder_type=self.stakeholder_type)
        return comments


def comment_filters(
    objectives: list[Objective], objective_number: int | None, stakeholder_type: str | None
) -> CommentFilters:
    """The filters for ?objective=N&stakeholder=TYPE; values naming nothing are left out (the
    views explain them)."""
    return CommentFilters(
        objective=next((o for o in objectives if o.number == objective_number), None),
        stakeholder_type=stakeholder_type if stakeholder_type in StakeholderType.values else None,
    )


@dataclass
class ConsultationPage:
    consultation: Consultation
    questions: list[QuestionBlock]
    objectives: list[Objective]  # all 23, for the comment forms
    objective_filter: Objective | None
    comment_count: int
    filters: CommentFilters = field(default_factory=CommentFilters)
    # Filtered: the page of matching comments (the blocks hold those of this page only).
    page: Page | None = None

    @property
    def filtered(self) -> bool:
        return self.filters.active

    @property
    def has_more(self) -> bool:
        return any(block.has_more for block in self.questions)


def home_consultations():
    return list(
        Consultation.objects.published()
        .open_first()
        .with_comment_count()
        .prefetch_related("objectives")
    )


def all_objectives() -> list[Objective]:
    return list(Objective.objects.all())


def thread_items(comments: list[ShownComment]) -> list[ThreadItem]:
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


def _flat_items(comments: list[ShownComment]) -> list[ThreadItem]:
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


def _filtered_page(comments, *, page_number, count: int | None = None) -> Page:
    """One page of filtered comments (already ordered), each with its author, objectives, files
    and the name of the comment it answers: a fixed number of queries whatever the matches.
    Pages out of range give the nearest (Paginator.get_page)."""
    # Counted before the joins below, which a COUNT does not need (or by the caller already).
    count = comments.count() if count is None else count
    # "In reply to <name>": the parent is rarely among the matches; its author's name comes in
    # the same query rather than by fetching the parents.
    paginator = Paginator(
        rendering.shown_rows(comments, parent_names=True), settings.COMMENTS_PER_FILTERED_PAGE
    )
    paginator.count = count  # Paginator.count is a cached_property: set, it is not queried
    page = paginator.get_page(page_number)
    page.object_list = rendering.shown(page.object_list)
    return page


def _prepare_filtered(
    comments: list[ShownComment], *, consultation, questions, objectives, viewer
) -> None:
    _prepare(
        comments,
        consultation=consultation,
        questions=questions,
        objectives=objectives,
        viewer=viewer,
        by_id={},
    )
    for comment in comments:
        comment.reply_to_name = comment.parent_name


def _filtered_consultation_page(
    consultation: Consultation,
    *,
    objectives: list[Objective],
    filters: CommentFilters,
    page_number,
    viewer,
) -> ConsultationPage:
    """One page of the matching comments, in question order then oldest first, grouped under
    the questions they answer; each block counts its question's matches on all pages."""
    questions = list(consultation.questions.select_related("created_by__profile"))
    matching = filters.apply(Comment.objects.filter(question__consultation=consultation))
    counts = dict(matching.values_list("question_id").annotate(n=Count("pk")).order_by())
    page = _filtered_page(
        matching.order_by("question__number", "created_at", "pk"),
        page_number=page_number,
        count=sum(counts.values()),
    )
    comments = page.object_list
    _prepare_filtered(
        comments,
        consultation=consultation,
        questions=questions,
        objectives=objectives,
        viewer=viewer,
    )
    grouped: dict[int, list[ShownComment]] = {}
    for comment in comments:
        grouped.setdefault(comment.question_id, []).append(comment)
    blocks = [
        QuestionBlock(question=q, items=_flat_items(grouped[q.pk]), comment_count=counts[q.pk])
        for q in questions
        if q.pk in grouped
    ]
    return ConsultationPage(
        consultation=consultation,
        questions=blocks,
        objectives=objectives,
        objective_filter=filters.objective,
        comment_count=page.paginator.count,
        filters=filters,
        page=page,
    )


def consultation_page(
    *,
    slug: str,
    objective_number: int | None = None,
    stakeholder_type: str | None = None,
    page_number=None,
    viewer=None,
) -> ConsultationPage:
    """The consultation with every question's reply trees (a large one: each question's first
    threads), or, filtered by objective and/or stakeholder type, a page of matching comments.

    Each comment carries `flags`: what the viewer may do with it (permissions.comment_flags).
    """
    consultation = _published_consultation(slug)
    objectives = all_objectives()
    filters = comment_filters(objectives, objective_number, stakeholder_type)
    if filters.active:
        return _filtered_consultation_page(
            consultation,
            objectives=objectives,
            filters=filters,
            page_number=page_number,
            viewer=viewer,
        )
    questions = list(consultation.questions.select_related("created_by__profile"))
    blocks = {q.pk: QuestionBlock(question=q) for q in questions}
    _add_question_stats(list(blocks.values()))
    # A small consultation reads as one page; a large one shows each question's first threads,
    # each with its first replies, and links to the question's own pages.
    whole = sum(b.comment_count for b in blocks.values()) <= settings.CONSULTATION_ONE_PAGE_MAX

    comments = Comment.objects.filter(question__consultation=consultation)
    if not whole:
        comments = (
            comments.filter(tree_id__in=_first_threads(questions))
            .annotate(
                position=Window(RowNumber(), partition_by=[F("tree_id")], order_by=F("lft").asc())
            )
            .filter(position__lte=settings.REPLIES_SHOWN + 1)
        )
    comments = rendering.shown(
        rendering.shown_rows(comments).order_by("question__number", "tree_id", "lft")
    )

    # Whole trees, or each cut after a prefix of its tree order: every parent is on the page.
    _prepare(
        comments,
        consultation=consultation,
        questions=questions,
        objectives=objectives,
        viewer=viewer,
    )

    grouped: dict[int, list[ShownComment]] = {q.pk: [] for q in questions}
    for comment in comments:
        grouped[comment.question_id].append(comment)
    for question_id, question_comments in grouped.items():
        block = blocks[question_id]
        if whole:
            block.items = thread_items(question_comments)
        else:
            block.items = _items_with_more(question_comments)
            block.cut_short = block.thread_count > 0

    return ConsultationPage(
        consultation=consultation,
        questions=list(blocks.values()),
        objectives=objectives,
        objective_filter=None,
        comment_count=sum(b.comment_count for b in blocks.values()),
    )


SORTS = ("oldest", "newest", "replies", "activity")


@dataclass
class QuestionPage:
    """One question with a page of its top-level threads (or one thread in full: `thread`)."""

    consultation: Consultation
    question: Question
    block: QuestionBlock
    objectives: list[Objective]
    sort: str
    page: Page | None
    thread: Comment | None
    # Filtered (`page` is then a page of matching comments, oldest first, not of threads).
    filters: CommentFilters = field(default_factory=CommentFilters)

    @property
    def filtered(self) -> bool:
        return self.filters.active

    @property
    def questions(self) -> list[QuestionBlock]:
        # The shape notices.split_messages reads, shared with ConsultationPage.
        return [self.block]


def question_url(question: Question) -> str:
    return reverse(
        "consultations:question",
        kwargs={"slug": question.consultation.slug, "number": question.number},
    )


def _first_threads(questions: list[Question]) -> RawSQL | list:
    """The tree ids of each question's first THREADS_ON_CONSULTATION_PAGE threads, as one
    subquery: a UNION ALL of one short read of the index of top-level comments per question.
    (An OR of per-question subqueries, or a window over every thread, makes PostgreSQL read
    all the consultation's comments; SQLite refuses LIMIT directly inside a UNION, hence the
    derived tables.)"""
    parts, params = [], []
    for question in questions:
        first = (
            Comment.objects.filter(question=question, level=0)
            .order_by("tree_id")
            .values("tree_id")[: settings.THREADS_ON_CONSULTATION_PAGE]
        )
        sql, first_params = first.query.sql_with_params()
        # The ORM's own SQL, its values as parameters: nothing from a request is spliced in.
        parts.append(f"SELECT * FROM ({sql}) AS first_threads_{len(parts)}")  # noqa: S608
        params.extend(first_params)
    if not parts:
        return []
    return RawSQL(" UNION ALL ".join(parts), params)  # noqa: S611


def _add_question_stats(blocks: list[QuestionBlock]) -> None:
    """Published comments, participants, latest activity and threads per question, as the
    writes store them on the question (consultations.counts): no query."""
    for block in blocks:
        question = block.question
        block.comment_count = question.comment_count
        block.participant_count = question.participant_count
        block.latest_at = question.latest_comment_at
        block.thread_count = question.thread_count


def _thread_comments(trees: Q, *, replies_shown: int | None = None) -> list[ShownComment]:
    """The comments of some trees in tree order; with replies_shown, each root and only its
    first replies (a window over each tree, so one query whatever the threads' sizes)."""
    comments = Comment.objects.filter(trees)
    if replies_shown is not None:
        comments = comments.annotate(
            position=Window(RowNumber(), partition_by=[F("tree_id")], order_by=F("lft").asc())
        ).filter(position__lte=replies_shown + 1)
    return rendering.shown(rendering.shown_rows(comments).order_by("tree_id", "lft"))


def _prepare(
    comments: list[ShownComment],
    *,
    consultation,
    questions: list[Question],
    objectives: list[Objective],
    viewer,
    by_id: dict[int, ShownComment] | None = None,
) -> None:
    """Reply-to names (from `by_id`, the comments and any parents fetched beside them; by
    default the comments themselves, as when each thread is cut after a prefix of its tree
    order), the loaded question on each comment, its HTML (rendering.attach_fragments) and the
    viewer's flags."""
    by_id = by_id if by_id is not None else {c.pk: c for c in comments}
    questions_by_id = {q.pk: q for q in questions}
    for question in questions:
        question.consultation = consultation
    for comment in comments:
        parent = by_id.get(comment.parent_id)
        comment.reply_to_name = parent.author_name if parent is not None else ""
        comment.question = questions_by_id[comment.question_id]
    rendering.attach_fragments(comments, consultation=consultation, objectives=objectives)
    attach_flags(comments, viewer=viewer, consultation=consultation)


def _items_with_more(comments: list[ShownComment]) -> list[ThreadItem]:
    """thread_items, with "Show N more replies" on the last shown comment of each thread cut
    short (a root's descendants are (rght - lft - 1) / 2, whatever is shown)."""
    items = thread_items(comments)
    shown: dict[int, int] = {}
    last: dict[int, ThreadItem] = {}
    roots: dict[int, Comment] = {}
    for item in items:
        tree = item.comment.tree_id
        shown[tree] = shown.get(tree, 0) + 1
        last[tree] = item
        if item.comment.parent_id is None:
            roots[tree] = item.comment
    for tree, root in roots.items():
        more = (root.rght - root.lft - 1) // 2 - (shown[tree] - 1)
        if more > 0:
            item = last[tree]
            item.more = more
            item.more_url = f"{question_url(root.question)}?thread={root.pk}#{item.comment.anchor}"
    return items


def _ordered_roots(question: Question, sort: str):
    """The tree ids of the question's top-level threads in the chosen order."""
    # level=0 rather than parent IS NULL: what the index of top-level comments is built on, and
    # a condition no planner mistakes for a lookup of the parent column's index.
    roots = Comment.objects.filter(question=question, level=0)
    if sort == "newest":
        roots = roots.order_by("-tree_id")
    elif sort == "replies":
        replies = (F("rght") - F("lft") - 1) / 2
        roots = roots.annotate(replies=replies).order_by("-replies", "tree_id")
    elif sort == "activity":
        latest = (
            Comment.objects.published()
            .filter(tree_id=OuterRef("tree_id"))
            .order_by("-created_at")
            .values("created_at")[:1]
        )
        roots = roots.annotate(latest=Subquery(latest)).order_by(
            F("latest").desc(nulls_last=True), "-tree_id"
        )
    else:
        roots = roots.order_by("tree_id")
    return roots.values_list("tree_id", flat=True)


def question_page(
    *,
    slug: str,
    number: int,
    page_number=None,
    sort=None,
    thread_id=None,
    objective_number: int | None = None,
    stakeholder_type: str | None = None,
    viewer=None,
) -> QuestionPage:
    """A question and one page of its top-level threads, each with its first replies; or, with
    thread_id (a top-level comment of this question), that thread in full; or, filtered by
    objective and/or stakeholder type, a page of its matching comments, oldest first (the sort
    orders threads only). A fixed number of queries whatever the number and size of threads.
    Unknown sorts fall back to the oldest first; pages out of range to the nearest
    (Paginator.get_page)."""
    consultation = _published_consultation(slug)
    question = get_object_or_404(
        consultation.questions.select_related("created_by__profile"), number=number
    )
    question.consultation = consultation
    block = QuestionBlock(question=question)
    _add_question_stats([block])
    sort = sort if sort in SORTS else SORTS[0]

    thread = None
    if thread_id not in (None, "") and str(thread_id).isdigit():
        thread = Comment.objects.filter(
            question=question, parent__isnull=True, pk=int(thread_id)
        ).first()
    objectives = all_objectives()
    filters = comment_filters(objectives, objective_number, stakeholder_type)
    page = None
    if thread is not None:
        filters = CommentFilters()  # a thread in full is a thread in full
        # A long thread in pages of its replies (each with all of its own), the root on each.
        page = Paginator(thread_pages(thread), 1).get_page(page_number)
        ((first, last),) = page.object_list
        comments = _thread_comments(
            Q(tree_id=thread.tree_id) & (Q(lft=thread.lft) | Q(lft__range=(first, last)))
        )
    elif filters.active:
        page = _filtered_page(
            filters.apply(Comment.objects.filter(question=question)).order_by("created_at", "pk"),
            page_number=page_number,
        )
        comments = page.object_list
    else:
        paginator = Paginator(_ordered_roots(question, sort), settings.THREADS_PER_PAGE)
        # The threads as the writes counted them (counts.refresh), rather than a COUNT over a
        # large question's comments on every page (Paginator.count is a cached_property).
        paginator.count = question.thread_count
        page = paginator.get_page(page_number)
        tree_ids = list(page.object_list)
        position = {tree_id: index for index, tree_id in enumerate(tree_ids)}
        comments = _thread_comments(
            Q(question=question, tree_id__in=tree_ids), replies_shown=settings.REPLIES_SHOWN
        )
        comments.sort(key=lambda c: (position[c.tree_id], c.lft))
    prepare = _prepare_filtered if filters.active else _prepare
    prepare(
        comments,
        consultation=consultation,
        questions=[question],
        objectives=objectives,
        viewer=viewer,
    )
    if filters.active:
        block.items = _flat_items(comments)
    elif thread is not None:
        block.items = thread_items(comments)
        if page.has_next() and block.items:
            # "Show N more replies" at the end, to the next page (or in place, by threads.js).
            (_first, last) = page.object_list[0]
            block.items[-1].more = (thread.rght - 1 - last) // 2
            block.items[-1].more_url = (
                f"{question_url(question)}?thread={thread.pk}&page={page.next_page_number()}"
                f"#{thread.anchor}"
            )
    else:
        block.items = _items_with_more(comments)
    return QuestionPage(
        consultation=consultation,
        question=question,
        block=block,
        objectives=objectives,
        sort=sort,
        page=page,
        thread=thread,
        filters=filters,
    )


def thread_pages(root: Comment) -> list[tuple[int, int]]:
    """The pages of a thread in full: for each, the (lft, rght) span of the run of the root's
    direct replies it shows, each with all of its own replies, about THREAD_COMMENTS_PER_PAGE
    comments a page (a reply is never parted from its replies). One page, and no query, for
    a thread that fits."""
    per_page = settings.THREAD_COMMENTS_PER_PAGE
    if (root.rght - root.lft + 1) // 2 <= per_page:
        return [(root.lft, root.rght)]
    pages: list[tuple[int, int]] = []
    first = last = None
    size = 1  # the root, on every page
    replies = Comment.objects.filter(tree_id=root.tree_id, level=1).order_by("lft")
    for lft, rght in replies.values_list("lft", "rght"):
        comments = (rght - lft + 1) // 2
        if first is not None and size + comments > per_page:
            pages.append((first, last))
            first, size = None, 1
        if first is None:
            first = lft
        last = rght
        size += comments
    if first is not None:
        pages.append((first, last))
    return pages or [(root.lft, root.rght)]


def comment_location(pk: int) -> str:
    """Where a comment shows with the default sort: its question's page that lists its thread,
    or the thread in full when the reply is beyond the first shown; with its anchor. Hidden
    and deleted comments too (their placeholder shows); 404 in an unpublished consultation."""
    comment = get_object_or_404(
        Comment.objects.select_related("question__consultation").filter(
            question__consultation__is_published=True
        ),
        pk=pk,
    )
    url = question_url(comment.question)
    if comment.parent_id is None:
        root = comment
    else:
        root = Comment.objects.get(tree_id=comment.tree_id, parent__isnull=True)
        before = Comment.objects.filter(tree_id=comment.tree_id, lft__lt=comment.lft).count()
        if before - 1 >= settings.REPLIES_SHOWN:  # replies before it, the root aside
            spans = enumerate(thread_pages(root), start=1)
            number = next((n for n, (first, last) in spans if first <= comment.lft <= last), 1)
            page = f"&page={number}" if number > 1 else ""
            return f"{url}?thread={root.pk}{page}#{comment.anchor}"
    earlier = Comment.objects.filter(
        question_id=comment.question_id, level=0, tree_id__lt=root.tree_id
    ).count()
    number = earlier // settings.THREADS_PER_PAGE + 1
    return f"{url}?page={number}#{comment.anchor}" if number > 1 else f"{url}#{comment.anchor}"


def attach_flags(comments: list[ShownComment], *, viewer, consultation: Consultation) -> None:
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
