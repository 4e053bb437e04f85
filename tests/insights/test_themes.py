"""Theme suggestions: planted topics come apart, runs are deterministic, the background task runs
through the page with its progress, staff accept a theme as a code or dismiss it."""

import io
import itertools
import random
from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from consultations import services
from consultations.models import Comment, Question
from insights import themes
from insights.models import (
    Code,
    CodeAssignment,
    CodingAction,
    ThemeMember,
    ThemeRun,
    ThemeSuggestion,
)

# Three topics with their own words; sentences mix them with filler every topic shares.
TOPICS = {
    "birth": {
        "nouns": [
            "birth registration",
            "birth certificate",
            "civil registry",
            "registration office",
            "newborn",
            "identity document",
            "statelessness",
            "parents",
            "civil status",
            "registrar",
        ],
        "verbs": ["register", "record", "certify", "issue", "declare"],
        "adjectives": ["late", "free", "universal", "mobile", "digital"],
    },
    "sea": {
        "nouns": [
            "sea rescue",
            "search and rescue",
            "coast guard",
            "boat",
            "vessel",
            "shipwreck",
            "lifejacket",
            "Mediterranean",
            "disembarkation",
            "crew",
        ],
        "verbs": ["rescue", "drown", "patrol", "disembark", "save"],
        "adjectives": ["overcrowded", "unseaworthy", "maritime", "coastal", "rough"],
    },
    "remittances": {
        "nouns": [
            "remittance",
            "transfer fee",
            "money transfer",
            "exchange rate",
            "bank account",
            "mobile money",
            "transaction cost",
            "sending",
            "wallet",
            "corridor",
        ],
        "verbs": ["send", "transfer", "pay", "charge", "save"],
        "adjectives": ["expensive", "cheaper", "hidden", "digital", "fair"],
    },
}
FILLER = [
    "we believe",
    "in our experience",
    "our members say",
    "it is important that",
    "governments should ensure",
    "the compact calls for",
    "in practice",
    "too often",
    "for families",
    "across the region",
    "this matters because",
    "we recommend that",
]
SHAPES = [
    "{f1} the {a} {n1} must {v} every {n2}.",
    "{F1}, {n1} and {n2} are {a}; we {v} them {f2}.",
    "{F1}: {a} {n1} helps to {v} the {n2} {f2}.",
    "Without {a} {n1}, nobody can {v} the {n2}. {F2}.",
    "{F1} authorities {v} {n1} when the {n2} is {a}.",
]


def _sentence(rng: random.Random, topic: str) -> str:
    words = TOPICS[topic]
    n1, n2 = rng.sample(words["nouns"], 2)
    f1, f2 = rng.sample(FILLER, 2)
    return rng.choice(SHAPES).format(
        f1=f1,
        f2=f2,
        F1=f1.capitalize(),
        F2=f2.capitalize(),
        n1=n1,
        n2=n2,
        v=rng.choice(words["verbs"]),
        a=rng.choice(words["adjectives"]),
    )


def planted_texts(topic: str, count: int) -> list[str]:
    """`count` varied comments about `topic`, the same on every run: two or three sentences of
    its words, and in one comment out of five a sentence about another topic."""
    rng = random.Random(topic)
    others = sorted(set(TOPICS) - {topic})
    texts = []
    for _ in range(count):
        sentences = [_sentence(rng, topic) for _ in range(rng.randint(2, 3))]
        if rng.random() < 0.2:
            sentences.insert(rng.randrange(len(sentences) + 1), _sentence(rng, rng.choice(others)))
        texts.append(" ".join(sentences))
    return texts


@pytest.fixture
def planted(question, user, post_comment):
    """40 comments on each topic, posted in turn through the real service; {comment id: topic}."""
    batches = {topic: planted_texts(topic, 40) for topic in TOPICS}
    topics = {}
    for n in range(40):
        for topic, texts in batches.items():
            topics[post_comment(question=question, author=user, body=texts[n]).pk] = topic
    return topics


def start(client, consultation, question, *, k=3, seed=0, execute=True, capture=None):
    """POST the themes form as staff (the client is logged in) and run the task on commit."""
    with capture(execute=execute):
        response = client.post(
            reverse("insights:themes", kwargs={"slug": consultation.slug}),
            {"question": question.number, "k": k, "seed": seed},
        )
    return response


def outcome(run: ThemeRun) -> list[tuple[list[str], list[tuple[int, float]]]]:
    return [
        (
            theme.terms,
            list(
                theme.members.order_by("-weight", "comment_id").values_list("comment_id", "weight")
            ),
        )
        for theme in run.themes.order_by("position")
    ]


def purity(run: ThemeRun, topics: dict[int, str]) -> float:
    """The share of planted comments whose theme's majority topic is theirs (a comment in no
    theme counts as wrong)."""
    right = 0
    for theme in run.themes.all():
        counter = Counter(topics[pk] for pk in theme.members.values_list("comment_id", flat=True))
        right += max(counter.values(), default=0)
    return right / len(topics)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def run_url(run: ThemeRun) -> str:
    return reverse(
        "insights:theme_run", kwargs={"slug": run.question.consultation.slug, "pk": run.pk}
    )


def decide_url(suggestion: ThemeSuggestion, action: str) -> str:
    return reverse(
        f"insights:theme_{action}",
        kwargs={
            "slug": suggestion.run.question.consultation.slug,
            "pk": suggestion.run_id,
            "theme_pk": suggestion.pk,
        },
    )


# --- The computation --------------------------------------------------------------------------


def test_three_planted_topics_come_apart(
    staff_client, consultation, question, planted, django_capture_on_commit_callbacks
):
    start(staff_client, consultation, question, capture=django_capture_on_commit_callbacks)
    run = ThemeRun.objects.get()
    assert run.state == ThemeRun.State.DONE, run.message
    score = purity(run, planted)
    placed = ThemeMember.objects.filter(theme__run=run).count()
    print(f"\nplanted topics: purity {score:.3f}, {placed} of {len(planted)} comments placed")
    for theme in run.themes.order_by("position"):
        print(f"  theme {theme.position}: {', '.join(theme.terms)}")
    assert score >= 0.8
    # Each theme's top terms come from one topic's words.
    vocabularies = {
        topic: " ".join(words["nouns"] + words["verbs"] + words["adjectives"]).lower()
        for topic, words in TOPICS.items()
    }
    leading = {
        next(t for t, v in vocabularies.items() if theme.terms[0] in v)
        for theme in run.themes.all()
    }
    assert leading == set(TOPICS)


def test_the_same_seed_gives_the_same_themes(question, planted):
    first = ThemeRun.objects.create(question=question, k=3, seed=7)
    second = ThemeRun.objects.create(question=question, k=4, seed=7)
    second_again = ThemeRun.objects.create(question=question, k=4, seed=7)
    for run in (first, second, second_again):
        assert themes.execute_run(run.pk) == ThemeRun.State.DONE
    assert outcome(second) == outcome(second_again)
    assert outcome(first) != outcome(second)
    texts = [(pk, Comment.objects.get(pk=pk).body_text) for pk in planted]
    steps = []
    once = themes.suggest(texts, k=3, seed=7, progress=lambda *step: steps.append(step))
    assert once == themes.suggest(texts, k=3, seed=7)
    assert steps == [(20, "Vectorising the comments"), (45, "Finding the themes")]


def test_each_theme_lists_its_comments_most_representative_first(question, planted):
    run = ThemeRun.objects.create(question=question, k=3)
    themes.execute_run(run.pk)
    for theme in run.themes.all():
        weights = list(theme.members.values_list("weight", flat=True))
        assert weights == sorted(weights, reverse=True)
        assert weights[0] == 1.0 and min(weights) >= themes.MIN_WEIGHT
        assert 8 <= len(theme.terms) <= themes.TOP_TERMS
    # A comment is in one theme at most.
    members = list(ThemeMember.objects.filter(theme__run=run).values_list("comment_id", flat=True))
    assert len(members) == len(set(members))


def test_hidden_and_deleted_comments_are_left_out(question, user, planted, moderator):
    hidden = Comment.objects.filter(pk__in=list(planted)[:5])
    hidden.update(status=Comment.Status.HIDDEN)
    run = ThemeRun.objects.create(question=question, k=3)
    themes.execute_run(run.pk)
    run.refresh_from_db()
    assert run.comment_count == len(planted) - 5
    assert not ThemeMember.objects.filter(theme__run=run, comment__in=hidden).exists()


def test_too_few_comments_are_refused_with_a_message(
    staff_client, consultation, question, user, post_comment, django_capture_on_commit_callbacks
):
    for text in planted_texts("sea", 9):
        post_comment(question=question, author=user, body=text)
    response = start(
        staff_client, consultation, question, k=6, capture=django_capture_on_commit_callbacks
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "6 themes need at least 12 comments with text; this question has 9." in page
    assert 'value="6"' in page and not ThemeRun.objects.exists()


def test_a_run_left_with_too_few_comments_fails_with_a_message(
    staff_client, staff_user, question, user, post_comment
):
    # Enough when it was asked for; then moderators hid some before the worker read them.
    comments = [
        post_comment(question=question, author=user, body=text) for text in planted_texts("sea", 12)
    ]
    run, _started = themes.start_run(actor=staff_user, question=question, k=6)
    Comment.objects.filter(pk__in=[c.pk for c in comments[:3]]).update(status=Comment.Status.HIDDEN)
    assert themes.execute_run(run.pk) == ThemeRun.State.FAILED
    run.refresh_from_db()
    assert run.message == "6 themes need at least 12 comments with text; this question has 9."
    page = staff_client.get(run_url(run)).content.decode()
    assert run.message in page and "Run again" in page
    assert 'http-equiv="refresh"' not in page
    assert not ThemeSuggestion.objects.exists()


def test_comments_sharing_no_words_fail_with_a_message(question):
    texts = [(n, f"word{n}") for n in range(12)]
    with pytest.raises(themes.TooFewComments, match="share too few words"):
        themes.suggest(texts, k=3)


def test_a_french_consultation_uses_french_stop_words(
    make_consultation, user, post_comment, staff_client, django_capture_on_commit_callbacks
):
    consultation = make_consultation(language="fr")
    question = Question.objects.create(consultation=consultation, number=1, text="Quelles?")
    words = {
        "état civil": [
            "l'enregistrement des naissances",
            "le registre d'état civil",
            "l'acte de naissance",
            "les officiers d'état civil",
            "la déclaration des naissances",
        ],
        "mer": [
            "le sauvetage en mer",
            "les garde-côtes",
            "le naufrage des bateaux",
            "les navires de sauvetage",
            "le débarquement des rescapés",
        ],
    }
    openings = ["Nous pensons que", "Il est clair que", "Selon nous,", "Dans les faits,"]
    for n in range(30):
        # Every text differs: the site refuses the same text twice from one author.
        pairs = list(itertools.permutations(words["état civil" if n % 2 else "mer"], 2))
        first, second = pairs[n // 2]
        body = (
            f"{openings[n % 4]} {first} est pour les familles aussi important que {second}. "
            f"Dans notre expérience, il faut que {first} soit avec {second} dans les pays."
        )
        post_comment(question=question, author=user, body=body)
    start(staff_client, consultation, question, k=2, capture=django_capture_on_commit_callbacks)
    run = ThemeRun.objects.get()
    assert run.state == ThemeRun.State.DONE, run.message
    french = set(themes.stop_words_for("fr"))
    assert {"les", "des", "pour", "que", "est", "dans", "il"} <= french
    terms = [term for theme in run.themes.all() for term in theme.terms]
    assert terms and not [t for t in terms if set(t.split()) & french]
    assert any("naissances" in t or "sauvetage" in t for t in terms)
    # An English consultation would have kept them: they are not English stop words.
    assert "les" not in set(themes.stop_words_for("en"))


# --- The task through the pages ---------------------------------------------------------------


def test_a_run_goes_through_the_page_to_done(
    staff_client, consultation, question, planted, django_capture_on_commit_callbacks
):
    response = start(
        staff_client, consultation, question, capture=django_capture_on_commit_callbacks
    )
    run = ThemeRun.objects.get()
    assert response.status_code == 302 and response.url == run_url(run)
    assert run.state == ThemeRun.State.DONE and run.progress == 100
    assert run.finished_at is not None and run.comment_count == 120
    assert run.message == "120 comments placed in a theme."
    page = staff_client.get(run_url(run)).content.decode()
    assert 'http-equiv="refresh"' not in page and "<progress" not in page
    assert page.count("Accept as a code") == 3 and page.count(">Dismiss<") == 3
    theme = run.themes.get(position=1)
    first = theme.members.order_by("-weight", "comment_id").first().comment
    # The most representative comment, its author, organisation, type and permalink.
    assert first.body_text.split(".")[0] in page
    assert "Amina Diallo" in page and "Sahel Migrant Network" in page and "Civil society" in page
    assert f'href="{first.get_absolute_url()}"' in page
    assert f'value="{", ".join(theme.terms[:3])}"' in page
    listing = staff_client.get(reverse("insights:themes", kwargs={"slug": consultation.slug}))
    assert run_url(run) in listing.content.decode()


def test_a_queued_run_shows_its_progress_and_reloads(
    staff_client, consultation, question, planted, django_capture_on_commit_callbacks
):
    start(
        staff_client,
        consultation,
        question,
        execute=False,
        capture=django_capture_on_commit_callbacks,
    )
    run = ThemeRun.objects.get()
    assert run.state == ThemeRun.State.QUEUED
    ThemeRun.objects.filter(pk=run.pk).update(
        state=ThemeRun.State.RUNNING, progress=45, message="Finding the themes"
    )
    response = staff_client.get(run_url(run))
    page = response.content.decode()
    assert response["Refresh"] == "3"
    assert 'max="100" value="45"' in page and "45%" in page and "Finding the themes" in page
    # Whoever needs the page to hold still turns the reloading off; the progress stays.
    held = staff_client.get(run_url(run) + "?reload=off")
    still = held.content.decode()
    assert "Refresh" not in held and 'value="45"' in still


def test_a_run_already_queued_is_not_started_twice(
    staff_client, consultation, question, planted, django_capture_on_commit_callbacks
):
    for _ in range(2):
        response = start(
            staff_client,
            consultation,
            question,
            execute=False,
            capture=django_capture_on_commit_callbacks,
        )
    run = ThemeRun.objects.get()
    assert response.url == run_url(run)
    # Another k is another run.
    start(staff_client, consultation, question, k=4, capture=django_capture_on_commit_callbacks)
    assert ThemeRun.objects.count() == 2


def test_a_stalled_run_is_shown_and_can_run_again(
    staff_client, consultation, question, planted, django_capture_on_commit_callbacks
):
    start(
        staff_client,
        consultation,
        question,
        execute=False,
        capture=django_capture_on_commit_callbacks,
    )
    stalled = ThemeRun.objects.get()
    ThemeRun.objects.filter(pk=stalled.pk).update(
        state=ThemeRun.State.RUNNING,
        created_at=timezone.now() - themes.STALLED_AFTER - timedelta(seconds=1),
    )
    page = staff_client.get(run_url(stalled)).content.decode()
    assert "has stalled" in page and "Run again" in page and 'http-equiv="refresh"' not in page
    start(staff_client, consultation, question, capture=django_capture_on_commit_callbacks)
    stalled.refresh_from_db()
    assert stalled.state == ThemeRun.State.FAILED
    fresh = ThemeRun.objects.exclude(pk=stalled.pk).get()
    assert fresh.state == ThemeRun.State.DONE
    # The dead worker's task, if it ever ran, finds nothing to do.
    assert themes.execute_run(stalled.pk) == "skipped"


def test_bad_form_input_is_explained_and_kept(staff_client, consultation, question):
    response = staff_client.post(
        reverse("insights:themes", kwargs={"slug": consultation.slug}),
        {"question": question.number, "k": "40", "seed": "abc"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "less than or equal to 15" in page and "Enter a whole number" in page
    assert 'value="40"' in page and 'value="abc"' in page
    assert not ThemeRun.objects.exists()


def test_the_run_page_reads_a_fixed_number_of_queries(
    staff_client, question, planted, django_assert_num_queries
):
    small = ThemeRun.objects.create(question=question, k=2)
    large = ThemeRun.objects.create(question=question, k=5)
    for run in (small, large):
        themes.execute_run(run.pk)
    for run in (small, large):
        # Session, user, consultation; the run, its themes with their counts, their shown
        # members with authors (one query); the filter choices page_context reads and the
        # site's header (profile, permissions, moderation count): none per theme or comment.
        with django_assert_num_queries(14):
            assert staff_client.get(run_url(run)).status_code == 200


# --- Decisions --------------------------------------------------------------------------------


@pytest.fixture
def done_run(question, planted):
    run = ThemeRun.objects.create(question=question, k=3)
    themes.execute_run(run.pk)
    return run


def test_accepting_a_theme_makes_it_a_code_on_its_comments(staff_client, staff_user, done_run):
    theme = done_run.themes.get(position=1)
    members = set(theme.members.values_list("comment_id", flat=True))
    response = staff_client.post(decide_url(theme, "accept"), {"name": "  Sea   rescue "})
    assert response.status_code == 302
    code = Code.objects.get()
    assert code.name == "Sea rescue" and code.consultation == done_run.question.consultation
    assignments = CodeAssignment.objects.filter(code=code)
    assert set(assignments.values_list("comment_id", flat=True)) == members
    assert {a.assigned_by for a in assignments} == {staff_user}
    action = CodingAction.objects.get()
    assert action.kind == CodingAction.Kind.ACCEPT_THEME and action.actor == staff_user
    assert action.code_name == "Sea rescue" and action.note == f"{len(members)} comments"
    theme.refresh_from_db()
    assert theme.status == ThemeSuggestion.Status.ACCEPTED and theme.code == code
    assert theme.decided_by == staff_user
    page = staff_client.get(run_url(done_run)).content.decode()
    assert "Accepted as the code “Sea rescue”." in page
    assert page.count("Accept as a code") == 2


def test_accepting_reuses_a_code_of_that_name(staff_user, done_run, question):
    existing = Code.objects.create(consultation=question.consultation, name="Remittance costs")
    first, second = done_run.themes.order_by("position")[:2]
    already = first.members.first().comment
    CodeAssignment.objects.create(code=existing, comment=already, note="kept")
    assert themes.accept_theme(staff_user, first, "remittance COSTS") == existing
    assert Code.objects.count() == 1
    assert CodeAssignment.objects.get(comment=already).note == "kept"
    assert CodeAssignment.objects.count() == first.members.count()
    with pytest.raises(ValidationError, match="already accepted"):
        themes.accept_theme(staff_user, first, "Another")
    assert themes.accept_theme(staff_user, second, "Remittance costs") == existing


def test_a_nul_byte_in_the_accepted_name_is_dropped(staff_user, done_run):
    theme = done_run.themes.get(position=1)
    assert themes.accept_theme(staff_user, theme, "Sea\x00 rescue").name == "Sea rescue"


def test_a_bad_code_name_is_explained_and_nothing_is_saved(staff_client, done_run):
    theme = done_run.themes.get(position=2)
    response = staff_client.post(decide_url(theme, "accept"), {"name": "x" * 81})
    assert response.status_code == 400
    page = response.content.decode()
    assert "at most 80 characters" in page and f'value="{"x" * 81}"' in page
    response = staff_client.post(decide_url(theme, "accept"), {"name": "   "})
    assert response.status_code == 400 and "Give the code a name." in response.content.decode()
    assert not Code.objects.exists() and not CodingAction.objects.exists()
    theme.refresh_from_db()
    assert theme.status == ThemeSuggestion.Status.SUGGESTED


def test_dismissing_a_theme_is_logged(staff_client, staff_user, done_run):
    theme = done_run.themes.get(position=3)
    assert staff_client.post(decide_url(theme, "dismiss")).status_code == 302
    theme.refresh_from_db()
    assert theme.status == ThemeSuggestion.Status.DISMISSED and theme.decided_by == staff_user
    action = CodingAction.objects.get()
    assert action.kind == CodingAction.Kind.DISMISS_THEME and action.actor == staff_user
    assert action.note == ", ".join(theme.terms)
    assert not Code.objects.exists() and not CodeAssignment.objects.exists()
    response = staff_client.post(decide_url(theme, "dismiss"), follow=True)
    assert "This theme was already dismissed." in response.content.decode()
    assert CodingAction.objects.count() == 1


# --- Permissions ------------------------------------------------------------------------------


def test_only_staff_reach_the_pages(client, user, consultation, done_run):
    theme = done_run.themes.first()
    urls = [
        ("get", reverse("insights:themes", kwargs={"slug": consultation.slug})),
        ("get", run_url(done_run)),
        ("post", reverse("insights:themes", kwargs={"slug": consultation.slug})),
        ("post", decide_url(theme, "accept")),
        ("post", decide_url(theme, "dismiss")),
    ]
    for method, url in urls:
        response = getattr(client, method)(url, {"question": 1, "k": 3, "seed": 0, "name": "x"})
        assert response.status_code == 302 and "/login/" in response.url
    client.force_login(user)
    for method, url in urls:
        response = getattr(client, method)(url, {"question": 1, "k": 3, "seed": 0, "name": "x"})
        assert response.status_code == 403
    assert ThemeRun.objects.count() == 1 and not Code.objects.exists()
    theme.refresh_from_db()
    assert theme.status == ThemeSuggestion.Status.SUGGESTED


def test_the_services_check_the_permission_too(user, question, done_run):
    theme = done_run.themes.first()
    with pytest.raises(PermissionDenied):
        themes.start_run(actor=user, question=question, k=3)
    with pytest.raises(PermissionDenied):
        themes.accept_theme(user, theme, "A code")
    with pytest.raises(PermissionDenied):
        themes.dismiss_theme(user, theme)
    assert ThemeRun.objects.count() == 1 and not CodingAction.objects.exists()


def test_a_run_of_another_consultation_is_not_found(staff_client, make_consultation, done_run):
    other = make_consultation()
    url = reverse("insights:theme_run", kwargs={"slug": other.slug, "pk": done_run.pk})
    assert staff_client.get(url).status_code == 404


def test_themes_never_reach_the_public_page(client, consultation, done_run):
    theme = done_run.themes.get(position=1)
    themes_terms = ", ".join(theme.terms[:3])
    page = client.get(consultation.get_absolute_url()).content.decode()
    assert themes_terms not in page and "/insights/" not in page


# --- The benchmark ----------------------------------------------------------------------------


def test_the_benchmark_reports_and_leaves_nothing(db, capsys):
    before = Comment.objects.count()
    call_command("benchmark_themes", comments=60, k=3, runs=2)
    output = capsys.readouterr().out
    assert "60 comments made" in output and "comments per second" in output
    assert "median" in output and "purity" in output
    assert Comment.objects.count() == before and not ThemeRun.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_database_queue_and_its_worker_compute_a_run(settings, staff_user, make_consultation):
    """The production path: the run is enqueued in the task table after the commit, and
    `manage.py db_worker` computes it (its progress written outside any transaction)."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    consultation = make_consultation()
    question = Question.objects.create(consultation=consultation, number=1, text="Which?")
    for topic in TOPICS:
        for text in planted_texts(topic, 8):
            services.comment_create(question=question, author=staff_user, body=text, objectives=[])
    run, started = themes.start_run(actor=staff_user, question=question, k=3)
    queued = DBTaskResult.objects.get(task_path="insights.tasks.compute_themes")
    assert started and queued.args_kwargs["args"] == [run.pk]
    run.refresh_from_db()
    assert run.state == ThemeRun.State.QUEUED
    call_command("db_worker", batch=True, no_startup_delay=True, stdout=io.StringIO())
    run.refresh_from_db()
    assert run.state == ThemeRun.State.DONE and run.progress == 100
    assert run.themes.count() == 3


def test_the_runs_page_reads_a_fixed_number_of_queries(
    staff_client, staff_user, consultation, question, question2, django_assert_num_queries
):
    url = reverse("insights:themes", kwargs={"slug": consultation.slug})

    def add_runs(count: int) -> None:
        ThemeRun.objects.bulk_create(
            ThemeRun(question=(question, question2)[n % 2], k=2 + n % 5, requested_by=staff_user)
            for n in range(count)
        )

    add_runs(1)
    with django_assert_num_queries(13) as one:
        assert staff_client.get(url).status_code == 200
    add_runs(12)
    with django_assert_num_queries(len(one)):
        page = staff_client.get(url).content.decode()
    assert page.count("Queued (0%)") == 13
