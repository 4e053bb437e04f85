"""The evidence pack of one GCM objective: the consultation's published comments tagged with it, as
exact quotes grouped by stakeholder type, with who said them, where and when, for staff to cite.

    pack = build(consultation, objective, filters, base_url=request.build_absolute_uri("/"))

Nothing in a pack is generated text: each quote is the comment's body_text as stored (the
author's words, never rewritten or shortened); everything else is a label, a name, a date, a
count or an address. The printable page (insights.views) and the DOCX (insights.evidence_docx)
are two renderings of the same pack.
"""

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Count, Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AUTHOR_FIELDS, AUTHOR_TYPE, StakeholderType, public_author
from consultations.models import Comment, Consultation, Objective

from .filters import CommentFilters
from .models import Code, CodeAssignment, KeyQuote

# A primary key no row has, replaced in a reversed URL to get the URL of any row.
_PK_MARK = 987654321


@dataclass(frozen=True)
class Quote:
    pk: int
    text: str  # Comment.body_text, exactly
    author: str
    organisation: str
    stakeholder_type: str  # a StakeholderType value; "" when the author has no profile
    stakeholder_label: str
    created_at: datetime  # UTC
    question_number: int
    question_text: str
    permalink: str  # absolute
    codes: tuple[str, ...]  # the analyst codes' names, sorted
    is_key: bool

    @property
    def paragraphs(self) -> list[str]:
        """The text's paragraphs (body_text separates them with a blank line); the lines within
        a paragraph keep their newlines. Joined with "\\n\\n" they give the text back."""
        return self.text.split("\n\n") if self.text else []


@dataclass(frozen=True)
class Row:
    """One line of a counts table: what is counted (a key and its label) and how many."""

    key: str | int
    label: str
    count: int


@dataclass(frozen=True)
class Group:
    stakeholder_type: str
    label: str
    quotes: list[Quote]


@dataclass(frozen=True)
class EvidencePack:
    consultation: Consultation
    objective: Objective
    in_focus: bool  # one of the consultation's objectives in focus
    filters: CommentFilters
    filter_descriptions: list[str]  # the filters applied, in words ([] when none)
    generated_at: datetime  # UTC
    by_stakeholder_type: list[Row]  # every stakeholder type, in StakeholderType order
    by_question: list[Row]  # every question of the consultation, by number
    groups: list[Group]  # the stakeholder types that have quotes, in StakeholderType order

    @property
    def total(self) -> int:
        return sum(len(group.quotes) for group in self.groups)

    @property
    def key_quote_count(self) -> int:
        return sum(quote.is_key for group in self.groups for quote in group.quotes)


def pack_comments(consultation: Consultation, objective: Objective, filters: CommentFilters):
    """The comments a pack quotes: published (hidden and deleted ones are never quoted), tagged
    with the objective, passing the filters (whose own objective, if any, is replaced)."""
    filters = replace(filters, objective=objective.number)
    return filters.apply(consultation, Comment.objects.published())


def build(
    consultation: Consultation,
    objective: Objective,
    filters: CommentFilters,
    *,
    base_url: str | None = None,
) -> EvidencePack:
    """The pack, in four queries whatever the number of comments (five with a code filter, to
    name the code): the comments with their question, author and key-quote flag; their analyst
    codes; the consultation's questions; whether the objective is in focus.

    `base_url` (scheme and host, e.g. the request's) makes the permalinks absolute; default
    settings.SITE_URL."""
    base = (base_url or settings.SITE_URL).rstrip("/")
    comment_url = base + reverse("consultations:permalink", kwargs={"pk": _PK_MARK})
    url_prefix, _mark, url_suffix = comment_url.partition(str(_PK_MARK))

    comments = pack_comments(consultation, objective, filters)
    rows = list(
        comments.annotate(is_key=Exists(KeyQuote.objects.filter(comment=OuterRef("pk"))))
        .order_by()
        .values_list(
            "pk",
            "body_text",
            "created_at",
            "question__number",
            "question__text",
            *(f"author__{name}" for name in AUTHOR_FIELDS),
            "is_key",
        )
    )
    codes: dict[int, list[str]] = {}
    if rows:
        # The ids rather than a subquery of `comments`: the search filter's expression
        # (consultations.search._StoredVector) names the comment table itself, which a
        # subquery aliases. One query either way.
        for comment_id, name in (
            CodeAssignment.objects.filter(comment__pk__in=[row[0] for row in rows])
            .order_by("code__name")
            .values_list("comment_id", "code__name")
        ):
            codes.setdefault(comment_id, []).append(name)

    labels = dict(StakeholderType.choices)
    no_type_label = _("Stakeholder type not given")
    order = {value: position for position, value in enumerate(StakeholderType.values)}
    quotes = []
    for (
        pk,
        text,
        created_at,
        question_number,
        question_text,
        *author,
        is_key,
    ) in rows:
        name, organisation = public_author(*author)
        stakeholder_type = author[AUTHOR_TYPE] or ""
        quotes.append(
            Quote(
                pk=pk,
                text=text,
                author=name,
                organisation=organisation,
                stakeholder_type=stakeholder_type,
                stakeholder_label=str(labels.get(stakeholder_type, no_type_label)),
                created_at=_utc(created_at),
                question_number=question_number,
                question_text=question_text,
                permalink=f"{url_prefix}{pk}{url_suffix}",
                codes=tuple(codes.get(pk, ())),
                is_key=bool(is_key),
            )
        )
    # StakeholderType order (no type last), key quotes first, then oldest first.
    quotes.sort(
        key=lambda q: (
            order.get(q.stakeholder_type, len(order)),
            not q.is_key,
            q.created_at,
            q.pk,
        )
    )
    groups: list[Group] = []
    for quote in quotes:
        if not groups or groups[-1].stakeholder_type != quote.stakeholder_type:
            groups.append(Group(quote.stakeholder_type, quote.stakeholder_label, []))
        groups[-1].quotes.append(quote)

    per_type = Counter(quote.stakeholder_type for quote in quotes)
    by_stakeholder_type = [
        Row(value, str(label), per_type[value]) for value, label in StakeholderType.choices
    ]
    if per_type[""]:
        by_stakeholder_type.append(Row("", no_type_label, per_type[""]))
    per_question = Counter(quote.question_number for quote in quotes)
    by_question = [
        Row(number, text, per_question[number])
        for number, text in consultation.questions.order_by("number").values_list("number", "text")
    ]

    return EvidencePack(
        consultation=consultation,
        objective=objective,
        in_focus=consultation.objectives.filter(pk=objective.pk).exists(),
        filters=filters,
        filter_descriptions=describe_filters(consultation, filters),
        generated_at=timezone.now().astimezone(UTC),
        by_stakeholder_type=by_stakeholder_type,
        by_question=by_question,
        groups=groups,
    )


def describe_filters(consultation: Consultation, filters: CommentFilters) -> list[str]:
    """The filters that narrow a pack, in words, for the line that says what it holds. The
    objective is the pack's own and is not repeated; hidden comments are never in a pack."""
    words = []
    if filters.question is not None:
        words.append(_("question %(number)s") % {"number": filters.question})
    if filters.stakeholder_type:
        label = dict(StakeholderType.choices).get(filters.stakeholder_type, "")
        words.append(_("stakeholder type: %(label)s") % {"label": label})
    if filters.organisation:
        words.append(_("organisation: “%(name)s”") % {"name": filters.organisation})
    if filters.since is not None:
        words.append(_("posted from %(day)s") % {"day": filters.since.isoformat()})
    if filters.until is not None:
        words.append(_("posted until %(day)s") % {"day": filters.until.isoformat()})
    if filters.status:
        label = dict(Comment.Status.choices).get(filters.status, filters.status)
        words.append(_("status: %(label)s") % {"label": label})
    if filters.code is not None:
        name = (
            Code.objects.filter(pk=filters.code, consultation=consultation)
            .values_list("name", flat=True)
            .first()
        )
        words.append(_("analyst code: “%(name)s”") % {"name": name or filters.code})
    if filters.group is not None:
        words.append(_("campaign group %(number)s") % {"number": filters.group})
    if filters.q:
        words.append(_("words: “%(text)s”") % {"text": filters.q})
    return words


def objective_counts(consultation: Consultation, filters: CommentFilters) -> list[dict]:
    """For the evidence index: the objectives in focus (even without comments), then the others
    that have tagged comments, each with the number of comments its pack would quote under
    `filters`. Three queries."""
    comments = replace(filters, objective=None).apply(consultation, Comment.objects.published())
    # Grouped in the comments' own query, not over a subquery of them (see build()).
    counts = dict(
        comments.filter(objectives__isnull=False)
        .order_by()
        .values("objectives__pk")
        .annotate(n=Count("pk"))
        .values_list("objectives__pk", "n")
    )
    in_focus = set(consultation.objectives.values_list("pk", flat=True))
    objectives = Objective.objects.filter(pk__in=in_focus | set(counts)).order_by("number")
    rows = [
        {"objective": o, "count": counts.get(o.pk, 0), "in_focus": o.pk in in_focus}
        for o in objectives
    ]
    return [row for row in rows if row["in_focus"]] + [row for row in rows if not row["in_focus"]]


def _utc(value: datetime) -> datetime:
    if timezone.is_naive(value):
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
