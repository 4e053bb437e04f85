"""Full-text search inside a consultation: comment bodies and question texts, ranked, excerpted.

PostgreSQL keeps a tsvector per comment in consultations_comment.search_vector, indexed with GIN
(migration 0009). It is deliberately not a model field: SQLite, which runs the demo, has neither
the type nor the index, and a field present on one database only would leave the models and the
migrations disagreeing. So the column exists on PostgreSQL only, index_comment() writes it with
one UPDATE after each write of body_text (services._insert_comment and services._change), and the
query reads it through a small expression. The vector uses the text-search configuration of the
consultation's language (english, french, spanish; 'simple' otherwise), so "migrants" finds
"migrant"; queries use websearch syntax ("quoted phrases", -exclusions, or).

SQLite gets a plain fallback on the same page: every word must occur in body_text (icontains,
AND), ranked by the number of occurrences, highlighted in Python. No stemming there.

Excerpts are built safely either way: the text is escaped first, then <mark> is inserted around
the matches; user text is never marked safe unescaped.
"""

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorField,
)
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Case, Expression, F, FloatField, IntegerField, Q, Value, When
from django.db.models.functions import Cast, Length, Lower, Replace
from django.shortcuts import get_object_or_404
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from accounts.models import StakeholderType

from .models import Comment, Consultation, Question

PER_PAGE = 20
MAX_QUERY_CHARS = 200
EXCERPT_CHARS = 240

CONFIGS = {"en": "english", "fr": "french", "es": "spanish"}

# ts_headline marks matches with these; they are turned into <mark> only after escaping.
START, STOP = "\ue000", "\ue001"
# PostgreSQL's text-search parser takes "<word…>" for an HTML tag and drops it, so the text it
# indexes and excerpts has this after every "<"; the excerpt removes it again.
GUARD = "\ue002"

# One statement, the language read in the database: the caller's objects need not be loaded.
# Migration 0010 runs the same update over every row.
INDEX_SQL = """
UPDATE consultations_comment AS c
SET search_vector = to_tsvector(
    CASE con.language
        WHEN 'en' THEN 'english' WHEN 'fr' THEN 'french' WHEN 'es' THEN 'spanish'
        ELSE 'simple'
    END::regconfig,
    replace(c.body_text, '<', '<' || chr(57346))
)
FROM consultations_question AS q
JOIN consultations_consultation AS con ON con.id = q.consultation_id
WHERE q.id = c.question_id AND c.id = %s
"""
INDEX_CONSULTATION_SQL = INDEX_SQL.replace("AND c.id = %s", "AND q.consultation_id = %s")


def config_for(language: str) -> str:
    return CONFIGS.get(language, "simple")


def _on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def index_comment(comment: Comment) -> None:
    """Store the comment's search vector (PostgreSQL); nothing to do on SQLite."""
    if not _on_postgresql():
        return
    with connection.cursor() as cursor:
        cursor.execute(INDEX_SQL, [comment.pk])


def index_consultation(consultation: Consultation) -> None:
    """Store again the vectors of all its comments: its language, hence their stemming, changed."""
    if not _on_postgresql():
        return
    with connection.cursor() as cursor:
        cursor.execute(INDEX_CONSULTATION_SQL, [consultation.pk])


class _StoredVector(Expression):
    """consultations_comment.search_vector, the column that only PostgreSQL has."""

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(Comment._meta.db_table)
        return f"{table}.{connection.ops.quote_name('search_vector')}", []


@dataclass(frozen=True)
class Filters:
    question: int | None = None
    objective: int | None = None
    stakeholder_type: str | None = None


@dataclass
class Results:
    query: str
    filters: Filters
    page: Page | None = None
    questions: list[Question] = field(default_factory=list)

    @property
    def count(self) -> int:
        return self.page.paginator.count if self.page is not None else 0


def consultation_for_search(slug: str) -> Consultation:
    return get_object_or_404(Consultation.objects.published(), slug=slug)


def parse_filters(params, consultation: Consultation) -> tuple[Filters, list[str]]:
    """The filters of a query string, and why any of them is ignored."""
    errors = []

    def number(name: str, valid, message: str) -> int | None:
        raw = params.get(name, "")
        if raw == "":
            return None
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or not valid(value):
            errors.append(message % {"value": raw})
            return None
        return value

    question = number(
        "question",
        lambda n: 1 <= n <= 32767,
        _("There is no question “%(value)s”. Searching all questions."),
    )
    objective = number(
        "objective",
        lambda n: 1 <= n <= 23,
        _("There is no GCM objective “%(value)s”. Searching all objectives."),
    )
    stakeholder_type = params.get("stakeholder_type", "") or None
    if stakeholder_type is not None and stakeholder_type not in StakeholderType.values:
        errors.append(
            _("There is no stakeholder type “%(value)s”. Searching all stakeholders.")
            % {"value": stakeholder_type}
        )
        stakeholder_type = None
    return Filters(question, objective, stakeholder_type), errors


def normalise_query(raw: str) -> str:
    return " ".join(raw.split())[:MAX_QUERY_CHARS]


def _words(query: str) -> list[str]:
    # Websearch operators (quotes, a leading minus, "or") are not understood by the fallback.
    words = [w for w in re.findall(r"\w+", query) if w.lower() != "or"]
    return list(dict.fromkeys(w.lower() for w in words))


def matching_text(comments, consultation: Consultation, query: str):
    """Comments (a queryset of the consultation's) whose text matches the query, unranked: the
    same match as the search page (PostgreSQL: the stored vector, websearch syntax; SQLite:
    every word, case-insensitive). Used by the staff filters (insights.filters)."""
    query = normalise_query(query)
    if not query:
        return comments
    if _on_postgresql():
        search_query = SearchQuery(
            query, config=config_for(consultation.language), search_type="websearch"
        )
        return comments.annotate(vector=_StoredVector()).filter(vector=search_query)
    words = _words(query)
    if not words:
        return comments.none()
    condition = Q()
    for word in words:
        condition &= Q(body_text__icontains=word)
    return comments.filter(condition)


def search_comments(consultation: Consultation, query: str, filters: Filters, page=1) -> Results:
    """Published comments of the consultation matching the query and filters, best first, one
    page of them with .rank and .excerpt (safe HTML); and the questions whose text matches."""
    results = Results(query=query, filters=filters)
    if not query:
        return results
    comments = Comment.objects.filter(
        question__consultation=consultation, status=Comment.Status.PUBLISHED
    ).select_related("author__profile", "question__consultation")
    if filters.question is not None:
        comments = comments.filter(question__number=filters.question)
    if filters.objective is not None:
        comments = comments.filter(objectives__number=filters.objective)
    if filters.stakeholder_type is not None:
        comments = comments.filter(author__profile__stakeholder_type=filters.stakeholder_type)
    questions = consultation.questions.order_by("number")

    if _on_postgresql():
        config = config_for(consultation.language)
        search_query = SearchQuery(query, config=config, search_type="websearch")
        comments = (
            comments.annotate(vector=_StoredVector(), body_length=Length("body_text"))
            .filter(vector=search_query)
            .annotate(
                rank=SearchRank(_StoredVector(), search_query),
                # A short comment is shown whole: ts_headline's fragments would cut it off
                # after the match ("Birth registration and IDs for all." gave "Birth
                # registration"). A long one shows up to two fragments round its matches.
                headline=Case(
                    When(
                        Q(body_length__lte=WHOLE_EXCERPT_CHARS),
                        then=_headline(search_query, config, max_fragments=0),
                    ),
                    default=_headline(search_query, config, max_fragments=2),
                ),
            )
        )
        questions = questions.annotate(vector=SearchVector("text", config=config)).filter(
            vector=search_query
        )
        words = []
    else:
        words = _words(query)
        if not words:
            return results
        condition = Q()
        occurrences = Value(0, output_field=IntegerField())
        for word in words:
            condition &= Q(body_text__icontains=word)
            # (length - length without the word) / length of the word: its occurrences.
            occurrences += (
                Length("body_text") - Length(Replace(Lower("body_text"), Value(word), Value("")))
            ) / len(word)
        comments = comments.filter(condition).annotate(rank=Cast(occurrences, FloatField()))
        question_condition = Q()
        for word in words:
            question_condition &= Q(text__icontains=word)
        questions = questions.filter(question_condition)

    comments = comments.order_by(F("rank").desc(), "-created_at", "-pk")
    results.page = Paginator(comments, PER_PAGE).get_page(page)
    for comment in results.page:
        if words:
            comment.excerpt = highlight_excerpt(comment.body_text, words)
        else:
            comment.excerpt = marked_headline(comment.headline)
    results.questions = list(questions)
    return results


# Comments up to this long are excerpted whole (ts_headline's MaxWords still applies).
WHOLE_EXCERPT_CHARS = 300


def _headline(search_query, config, *, max_fragments: int) -> SearchHeadline:
    return SearchHeadline(
        Replace("body_text", Value("<"), Value("<" + GUARD)),
        search_query,
        config=config,
        start_sel=START,
        stop_sel=STOP,
        max_words=35,
        min_words=15,
        max_fragments=max_fragments,
        fragment_delimiter=" … ",
    )


def marked_headline(headline: str) -> SafeString:
    """ts_headline's output, escaped, its markers turned into <mark>…</mark> (balanced even if the
    text itself contained a marker character)."""
    out, open_mark = [], False
    for part in re.split(f"([{START}{STOP}])", headline):
        if part == START:
            if not open_mark:
                out.append("<mark>")
                open_mark = True
        elif part == STOP:
            if open_mark:
                out.append("</mark>")
                open_mark = False
        else:
            out.append(escape(part.replace(GUARD, "")))
    if open_mark:
        out.append("</mark>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text above is escaped


def highlight_excerpt(text: str, words: list[str], size: int = EXCERPT_CHARS) -> SafeString:
    """About `size` characters of text around the first match, escaped, matches in <mark>."""
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.I)
    first = pattern.search(text)
    start = max(0, (first.start() if first else 0) - size // 3)
    if start:
        # Start on a word boundary rather than in the middle of a word.
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + size // 2 else end
    window = text[start:end]
    out, position = [], 0
    for match in pattern.finditer(window):
        out.append(escape(window[position : match.start()]))
        out.append(f"<mark>{escape(match.group())}</mark>")
        position = match.end()
    out.append(escape(window[position:]))
    prefix = "… " if start else ""
    suffix = " …" if end < len(text) else ""
    return mark_safe(prefix + "".join(out) + suffix)  # noqa: S308 - pieces escaped above
