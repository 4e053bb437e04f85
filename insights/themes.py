"""Local theme suggestions for one question: TF-IDF over the published comments' plain text, in
the consultation's language's stop words, factorised by NMF (scikit-learn) into k themes, each
with its top terms and its comments, most representative first. No network, no model download;
the same comments, k and seed give the same themes.

    run, started = start_run(actor=staff, question=question, k=6, seed=0)   # queued, on commit
    execute_run(run.pk)              # what the background task (insights/tasks.py) does
    accept_theme(staff, suggestion, "Birth registration")  # -> an analyst Code, assigned
    dismiss_theme(staff, suggestion)

`suggest()` is the computation alone (texts in, themes out), for the tests and the benchmark.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from consultations import permissions
from consultations.models import Comment, Question

from .models import Code, CodeAssignment, CodingAction, ThemeMember, ThemeRun, ThemeSuggestion

logger = logging.getLogger(__name__)

MIN_K, MAX_K, DEFAULT_K = 2, 15, 6
MAX_SEED = 2**31 - 1
TOP_TERMS = 10
# A comment joins its strongest theme only if its weight there is at least this share of the
# theme's strongest comment: a comment that fits no theme (a greeting, a one-liner) joins none.
MIN_WEIGHT = 0.1
# The vocabulary's size bound: beyond it the rarest terms add time, not themes.
MAX_FEATURES = 20000
# A run still queued or running this long after it was requested has lost its worker (the
# computation takes seconds at 10,000 comments): the page says so and offers to run it again.
STALLED_AFTER = timedelta(minutes=10)
CODE_NAME_MAX = Code._meta.get_field("name").max_length


class TooFewComments(ValueError):
    """The question has too few comments with text for k themes."""


@dataclass(frozen=True)
class Theme:
    terms: list[str]
    # (comment id, weight from 0 to 1), most representative first.
    members: list[tuple[int, float]]


def minimum_comments(k: int) -> int:
    """Fewer comments than this cannot carry k themes worth reading."""
    return max(10, 2 * k)


def too_few_message(k: int, needed: int, count: int) -> str:
    return ngettext(
        "%(k)s themes need at least %(needed)s comments with text; this question has %(count)s.",
        "%(k)s themes need at least %(needed)s comments with text; this question has %(count)s.",
        count,
    ) % {"k": k, "needed": needed, "count": count}


def stop_words_for(language: str) -> list[str] | None:
    """The stop words of a consultation's language (its code: "en", "fr", "es", ...), from the
    `stop-words` package (English adds scikit-learn's list), as the vectoriser tokenises them;
    None for a language neither knows."""
    import stop_words
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    code = (language or "").split("-")[0].lower()
    name = stop_words.LANGUAGE_MAPPING.get(code)
    words: set[str] = set(ENGLISH_STOP_WORDS) if code == "en" else set()
    if name:
        words.update(stop_words.get_stop_words(name))
    if not words:
        return None
    # "l'", "aujourd'hui": split as the vectoriser splits texts, so that every stop word is one
    # of its tokens (scikit-learn warns otherwise, and such words would never match).
    tokenize = TfidfVectorizer().build_tokenizer()
    return sorted({token for word in words for token in tokenize(word.lower())})


def suggest(
    texts: Sequence[tuple[int, str]],
    *,
    k: int,
    seed: int = 0,
    language: str = "en",
    progress: Callable[[int, str], None] | None = None,
) -> list[Theme]:
    """At most k themes of (comment id, plain text) pairs, the largest first (a theme no comment
    joins is left out). Raises TooFewComments."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not MIN_K <= k <= MAX_K:
        raise ValueError(f"k must be from {MIN_K} to {MAX_K}, not {k}")
    report = progress or (lambda percent, message: None)
    texts = [(pk, text) for pk, text in texts if text and text.strip()]
    needed = minimum_comments(k)
    if len(texts) < needed:
        raise TooFewComments(too_few_message(k, needed, len(texts)))

    report(20, _("Vectorising the comments"))
    vectorizer = TfidfVectorizer(
        stop_words=stop_words_for(language),
        ngram_range=(1, 2),
        # A term in one comment only says nothing shared; one in most comments is the
        # question's own vocabulary ("migrants", "the question"), not a theme.
        min_df=2,
        max_df=0.6,
        max_features=MAX_FEATURES,
        sublinear_tf=True,
        dtype=np.float64,
    )
    try:
        matrix = vectorizer.fit_transform(text for _pk, text in texts)
    except ValueError:
        # Every term was a stop word or appeared once.
        raise TooFewComments(
            _("The comments share too few words for themes: nothing to suggest.")
        ) from None
    vocabulary = vectorizer.get_feature_names_out()
    if len(vocabulary) < k:
        raise TooFewComments(_("The comments share too few words for themes: nothing to suggest."))

    report(45, _("Finding the themes"))
    model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=400, tol=1e-4)
    weights = model.fit_transform(matrix)  # comments x themes
    components = model.components_  # themes x terms

    strongest = weights.argmax(axis=1)
    peak = weights.max(axis=0)
    members: list[list[tuple[int, float]]] = [[] for _ in range(k)]
    for row, (pk, _text) in enumerate(texts):
        theme = int(strongest[row])
        if peak[theme] <= 0:
            continue
        weight = float(weights[row, theme] / peak[theme])
        if weight >= MIN_WEIGHT:
            members[theme].append((pk, round(weight, 6)))

    themes = []
    for theme in range(k):
        # A stable sort: equal weights keep the vocabulary's (alphabetical) order.
        order = np.argsort(-components[theme], kind="stable")[:TOP_TERMS]
        terms = [str(vocabulary[i]) for i in order if components[theme, i] > 0]
        ranked = sorted(members[theme], key=lambda member: (-member[1], member[0]))
        themes.append(Theme(terms=terms, members=ranked))
    # The largest first; ties keep NMF's order, so the output is the same for the same seed. A
    # factor no comment chose is no theme to show.
    return sorted((t for t in themes if t.members), key=lambda t: -len(t.members))


# --- Runs -------------------------------------------------------------------------------------


def _check(actor) -> None:
    if not permissions.can_export(actor):
        raise PermissionDenied(_("Only staff can work with theme suggestions."))


def is_stalled(run: ThemeRun, now=None) -> bool:
    """Queued or running for longer than a computation takes: its worker is gone."""
    now = now or timezone.now()
    return run.state in (ThemeRun.State.QUEUED, ThemeRun.State.RUNNING) and (
        run.created_at < now - STALLED_AFTER
    )


def start_run(*, actor, question: Question, k: int, seed: int = 0) -> tuple[ThemeRun, bool]:
    """Queue a run of k themes for the question (the task is enqueued after the commit), or
    return the one already queued or running for the same question and k: (run, started)."""
    _check(actor)
    if not MIN_K <= k <= MAX_K:
        raise ValidationError(
            _("Choose from %(min)s to %(max)s themes.") % {"min": MIN_K, "max": MAX_K}
        )
    if not 0 <= seed <= MAX_SEED:
        raise ValidationError(
            _("The seed is a whole number from 0 to %(max)s.") % {"max": MAX_SEED}
        )
    now = timezone.now()
    with transaction.atomic():
        # Two staff members pressing the button at once: the second waits here and finds the
        # first one's run.
        locked = Question.objects.select_for_update().get(pk=question.pk)
        # Refused at once when the question's published count (kept by consultations.counts)
        # is too low; the task checks again on the comments it reads.
        needed = minimum_comments(k)
        if locked.comment_count < needed:
            raise ValidationError(too_few_message(k, needed, locked.comment_count), code="too_few")
        pending = ThemeRun.objects.filter(
            question=question, k=k, state__in=[ThemeRun.State.QUEUED, ThemeRun.State.RUNNING]
        )
        # Runs whose worker is gone are failed, so that they neither block nor finish later.
        pending.filter(created_at__lt=now - STALLED_AFTER).update(
            state=ThemeRun.State.FAILED,
            message=_("Stopped: no worker finished this run."),
            finished_at=now,
        )
        existing = pending.first()
        if existing is not None:
            return existing, False
        run = ThemeRun.objects.create(question=question, k=k, seed=seed, requested_by=actor)
        transaction.on_commit(lambda: enqueue(run.pk))
    return run, True


def enqueue(run_id: int) -> None:
    from .tasks import compute_themes

    compute_themes.enqueue(run_id)


def _step(run_id: int, percent: int, message: str) -> None:
    ThemeRun.objects.filter(pk=run_id, state=ThemeRun.State.RUNNING).update(
        progress=percent, message=message[:255]
    )


def execute_run(run_id: int) -> str:
    """The background task's work: claim the queued run, compute, save its themes. Returns the
    run's final state ("done", "failed"), or "skipped" when it was not queued any more."""
    claimed = ThemeRun.objects.filter(pk=run_id, state=ThemeRun.State.QUEUED).update(
        state=ThemeRun.State.RUNNING, progress=5, message=_("Reading the comments")
    )
    if not claimed:
        return "skipped"
    run = ThemeRun.objects.select_related("question__consultation").get(pk=run_id)
    try:
        texts = list(
            Comment.objects.published()
            .filter(question=run.question)
            .order_by("pk")
            .values_list("pk", "body_text")
        )
        ThemeRun.objects.filter(pk=run_id).update(comment_count=len(texts))
        themes = suggest(
            texts,
            k=run.k,
            seed=run.seed,
            language=run.question.consultation.language,
            progress=lambda percent, message: _step(run_id, percent, message),
        )
        _step(run_id, 85, _("Saving the themes"))
        save_themes(run, themes)
    except TooFewComments as error:
        _finish(run_id, ThemeRun.State.FAILED, str(error))
        return ThemeRun.State.FAILED
    except Exception as error:  # the page must say so, not stay "running"
        logger.exception("Theme run %s failed", run_id)
        _finish(
            run_id,
            ThemeRun.State.FAILED,
            _("The computation failed: %(error)s") % {"error": type(error).__name__},
        )
        return ThemeRun.State.FAILED
    return ThemeRun.State.DONE


def _finish(run_id: int, state: str, message: str) -> None:
    ThemeRun.objects.filter(pk=run_id).update(
        state=state, message=message[:255], finished_at=timezone.now()
    )


def save_themes(run: ThemeRun, themes: list[Theme]) -> None:
    """The run's suggestions and their members, and the run done, in one transaction."""
    with transaction.atomic():
        # A run is computed once (claimed from "queued"); a rerun is a new run.
        suggestions = ThemeSuggestion.objects.bulk_create(
            ThemeSuggestion(run=run, position=position, terms=theme.terms)
            for position, theme in enumerate(themes, start=1)
        )
        ThemeMember.objects.bulk_create(
            (
                ThemeMember(theme=suggestion, comment_id=pk, weight=weight)
                for suggestion, theme in zip(suggestions, themes, strict=True)
                for pk, weight in theme.members
            ),
            batch_size=2000,
        )
        assigned = sum(len(theme.members) for theme in themes)
        ThemeRun.objects.filter(pk=run.pk).update(
            state=ThemeRun.State.DONE,
            progress=100,
            message=ngettext(
                "%(count)s comment placed in a theme.",
                "%(count)s comments placed in a theme.",
                assigned,
            )
            % {"count": assigned},
            finished_at=timezone.now(),
        )


# --- Decisions --------------------------------------------------------------------------------


def default_code_name(suggestion: ThemeSuggestion) -> str:
    return ", ".join(suggestion.terms[:3])[:CODE_NAME_MAX]


def _clean_name(name: str) -> str:
    # A NUL byte is no text and PostgreSQL refuses it: dropped.
    name = " ".join((name or "").replace("\x00", "").split())
    if not name:
        raise ValidationError(_("Give the code a name."), code="required")
    if len(name) > CODE_NAME_MAX:
        raise ValidationError(
            _("A code's name has at most %(max)s characters (this one has %(count)s).")
            % {"max": CODE_NAME_MAX, "count": len(name)},
            code="max_length",
        )
    return name


def _lock_undecided(suggestion: ThemeSuggestion) -> ThemeSuggestion:
    locked = ThemeSuggestion.objects.select_for_update().select_related(
        "run__question__consultation"
    )
    suggestion = locked.get(pk=suggestion.pk)
    if suggestion.status != ThemeSuggestion.Status.SUGGESTED:
        raise ValidationError(
            _("This theme was already %(status)s.")
            % {"status": suggestion.get_status_display().lower()},
            code="decided",
        )
    return suggestion


def accept_theme(actor, suggestion: ThemeSuggestion, name: str) -> Code:
    """Make the theme an analyst code of its consultation (or use the code of that name, in any
    case) and assign it to every comment of the theme; staff then correct the assignments on
    the comments page. One ACCEPT_THEME row in the coding log. Raises ValidationError for a bad
    name or a theme already decided, PermissionDenied for non-staff."""
    _check(actor)
    name = _clean_name(name)
    with transaction.atomic():
        suggestion = _lock_undecided(suggestion)
        consultation = suggestion.run.question.consultation
        code = Code.objects.filter(consultation=consultation, name__iexact=name).first()
        if code is None:
            code = Code.objects.create(consultation=consultation, name=name, created_by=actor)
        comment_ids = list(suggestion.members.values_list("comment_id", flat=True))
        now = timezone.now()
        # A comment that already has the code keeps its assignment (and its note).
        CodeAssignment.objects.bulk_create(
            (
                CodeAssignment(code=code, comment_id=pk, assigned_by=actor, assigned_at=now)
                for pk in comment_ids
            ),
            ignore_conflicts=True,
            batch_size=2000,
        )
        CodingAction.objects.create(
            consultation=consultation,
            actor=actor,
            kind=CodingAction.Kind.ACCEPT_THEME,
            code_name=code.name,
            note=f"{len(comment_ids)} comments",
        )
        suggestion.status = ThemeSuggestion.Status.ACCEPTED
        suggestion.code = code
        suggestion.decided_by = actor
        suggestion.decided_at = now
        suggestion.save(update_fields=["status", "code", "decided_by", "decided_at"])
    return code


def dismiss_theme(actor, suggestion: ThemeSuggestion) -> None:
    """Set the theme aside; logged as DISMISS_THEME with its top terms."""
    _check(actor)
    with transaction.atomic():
        suggestion = _lock_undecided(suggestion)
        now = timezone.now()
        CodingAction.objects.create(
            consultation=suggestion.run.question.consultation,
            actor=actor,
            kind=CodingAction.Kind.DISMISS_THEME,
            code_name=default_code_name(suggestion),
            note=", ".join(suggestion.terms),
        )
        suggestion.status = ThemeSuggestion.Status.DISMISSED
        suggestion.decided_by = actor
        suggestion.decided_at = now
        suggestion.save(update_fields=["status", "decided_by", "decided_at"])
