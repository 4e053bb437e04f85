"""Campaign and near-duplicate grouping (insights/campaigns.py): the planted campaign among
unrelated comments, the background task on post and edit, the command and the staff page."""

import random
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from consultations import services
from consultations.models import Comment
from insights import campaigns
from insights.models import CommentSignature, DuplicateGroup

TEMPLATE = (
    "Dear members of the consultation, hello. We, the undersigned, call on states to guarantee "
    "access to legal identity for every migrant child born in transit. Birth registration must "
    "be free, immediate and available regardless of the parents' migration status. Without "
    "documents, children cannot go to school, see a doctor or be protected from trafficking. "
    "We ask that consular services cooperate across borders and that firewalls prevent "
    "immigration enforcement from using civil registries. Please make this a priority in the "
    "background note. Sincerely,"
)

# Twelve comments made from the template with the edits a campaign's signatories make.
VARIANTS = [
    TEMPLATE,
    # typos
    TEMPLATE.replace("registration", "registation").replace("children", "childern"),
    # a sentence added
    TEMPLATE.replace(
        "trafficking.", "trafficking. Our network saw hundreds of such cases this year."
    ),
    # the greeting reordered
    TEMPLATE.replace(
        "Dear members of the consultation, hello.", "Hello, dear members of the consultation."
    ),
    # a signature added
    TEMPLATE + " Ana Lopez, Lima",
    # one word changed
    TEMPLATE.replace("call on states", "call on governments"),
    # a sentence left out
    TEMPLATE.replace(" Please make this a priority in the background note.", ""),
    # a sentence added at the start
    "I fully support this statement. " + TEMPLATE,
    # case and punctuation only
    TEMPLATE.upper().replace(",", "").replace(".", "!"),
    # two typos and a signature
    TEMPLATE.replace("immediate", "imediate").replace("consular", "consualr") + " Best, Omar",
    # the greeting reordered and a name added
    TEMPLATE.replace("Dear members of the consultation, hello.", "Hello! Dear members,")
    + " Fatima",
    # a sentence added in the middle and a typo
    TEMPLATE.replace("status.", "status, as the Compact itself recognises.").replace(
        "doctor", "docter"
    ),
]

WORDS = (
    "migration border labour rights remittance costs bank transfer fees mobile money family "
    "return reintegration detention alternatives children school health clinic language "
    "training skills recognition diploma employer recruitment agency contract wage theft "
    "passport visa permit residence asylum refugee camp shelter housing rent landlord city "
    "mayor council data statistics census survey evidence policy dialogue partnership "
    "funding donor project women gender violence trafficking smuggling route desert sea boat "
    "rescue coast guard search port disembarkation climate drought flood displacement farm "
    "harvest seasonal worker circular mobility diaspora investment community radio "
    "information campaign misinformation hate speech inclusion integration neighbourhood "
    "volunteer church mosque union court lawyer legal aid interpreter consulate embassy"
).split()

REALISTIC = [
    "Search and rescue at sea is a shared responsibility. Coastal states should coordinate "
    "disembarkation in a predictable way so that ships are not left waiting for days with "
    "exhausted survivors on board, and civil society vessels must not be criminalised.",
    "Remittance fees above three percent eat into what families receive. Regulators should "
    "publish price comparisons, open payment systems to mobile money operators and remove "
    "the de-risking practices that push migrants back to informal channels.",
    "In our city the municipality opened a one-stop shop where newcomers can register, find "
    "language classes and have their diplomas assessed. Waiting times fell by half within a "
    "year and employers now call us to ask for candidates.",
    "Birth registration in our region depends on mobile teams that visit remote villages "
    "twice a year. Parents who crossed the border often fear that registering a child will "
    "expose them, so the teams work with community leaders to explain the process.",
    "Seasonal agricultural workers need contracts in a language they understand, a copy they "
    "keep, and a way to change employer without losing their permit when they are abused.",
]


def unrelated_texts(n: int, seed: int = 10) -> list[str]:
    rng = random.Random(seed)
    texts = list(REALISTIC)
    while len(texts) < n:
        words = [rng.choice(WORDS) for _ in range(rng.randint(20, 110))]
        texts.append(" ".join(words).capitalize() + ".")
    return texts[:n]


ORGANISATIONS = [
    "Sahel Migrant Network",
    "Andean Families",
    "Lima Legal Aid",
    "Child Rights Coalition",
    "Harbour Church",
    "Sahel Migrant Network",
    "",
    "Women Across Borders",
    "Diaspora Forum",
    "Andean Families",
    "Clinic Without Papers",
    "Teachers for All",
]


@pytest.fixture
def planted(make_user, question, question2):
    """Twelve campaign comments among 300 unrelated ones, posted through the services, in a
    shuffled order; returns the campaign's ids in the order of VARIANTS."""
    authors = [make_user(organisation=org) for org in ORGANISATIONS]
    others = [make_user(organisation=f"Org {i}") for i in range(30)]
    texts = unrelated_texts(300)
    campaign = {}
    order = list(range(312))
    random.Random(3).shuffle(order)
    for slot in order:
        if slot < 12:
            comment = services.comment_create(
                question=question if slot % 2 else question2,
                author=authors[slot],
                body=VARIANTS[slot],
            )
            campaign[slot] = comment.pk
        else:
            services.comment_create(
                question=question if slot % 3 else question2,
                author=others[slot % len(others)],
                body=texts[slot - 12],
            )
    return [campaign[slot] for slot in range(12)]


def test_the_planted_campaign_is_one_group_and_no_unrelated_comment_joins_it(planted, consultation):
    started = time.perf_counter()
    campaigns.store_missing_signatures(consultation)
    signed = time.perf_counter()
    result = campaigns.regroup(consultation)
    grouped = time.perf_counter()

    groups = {
        g.pk: set(g.members.values_list("comment_id", flat=True))
        for g in DuplicateGroup.objects.filter(consultation=consultation)
    }
    best = max(groups.values(), key=lambda members: len(members & set(planted)))
    found = len(best & set(planted))
    false_members = len(best - set(planted))
    print(
        f"\ncampaign grouping: {found} of 12 planted comments in one group, "
        f"{false_members} unrelated members, {len(groups)} groups in all, variants left out "
        f"{[i for i in range(12) if planted[i] not in best]}, "
        f"signatures {signed - started:.3f}s, grouping {grouped - signed:.3f}s "
        f"for {result.signatures} comments"
    )
    assert found >= 11
    assert false_members == 0
    group = DuplicateGroup.objects.get(pk=next(g for g, m in groups.items() if m == best))
    assert group.size == len(best)
    # Nine distinct organisations among the members (one author has none).
    assert group.organisation_count == len(
        {ORGANISATIONS[i].casefold() for i in range(12) if planted[i] in best and ORGANISATIONS[i]}
    )
    # The representative is the member closest to the others: the template itself (or its
    # copy in capitals, the same words), the earlier of the two.
    assert campaigns.normalise(group.representative.body_text) == campaigns.normalise(TEMPLATE)
    twins = [planted[0], planted[8]]
    assert (
        group.representative_id
        == min(Comment.objects.filter(pk__in=twins), key=lambda c: (c.created_at, c.pk)).pk
    )
    # Nothing else is grouped: the unrelated texts share no near-identical pair.
    assert len(groups) == 1


def test_regrouping_again_keeps_the_groups_and_their_ids(planted, consultation):
    call_command("group_duplicates", stdout=StringIO())
    before = {
        g.pk: (g.size, g.representative_id, g.organisation_count)
        for g in DuplicateGroup.objects.filter(consultation=consultation)
    }
    campaigns.regroup(consultation)
    after = {
        g.pk: (g.size, g.representative_id, g.organisation_count)
        for g in DuplicateGroup.objects.filter(consultation=consultation)
    }
    assert before == after and before


def test_posting_a_comment_groups_it_in_the_background(
    post_comment, question, make_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = post_comment(question=question, author=make_user(), body=VARIANTS[0])
    assert len(callbacks) >= 1
    assert CommentSignature.objects.get(comment=first).group_id is None  # alone: no group
    with django_capture_on_commit_callbacks(execute=True):
        second = post_comment(question=question, author=make_user(), body=VARIANTS[4])
    group = CommentSignature.objects.get(comment=second).group
    assert group is not None and group.size == 2
    assert set(group.members.values_list("comment_id", flat=True)) == {first.pk, second.pk}
    assert campaigns.siblings_of([first.pk, second.pk]) == {
        first.pk: [second.pk],
        second.pk: [first.pk],
    }


def test_the_tasks_of_a_burst_of_posts_regroup_once(post_comment, question, make_user):
    # Posted while no task ran (the test's transaction never commits): then the tasks run.
    posted = [post_comment(question=question, author=make_user(), body=v) for v in VARIANTS[:3]]
    last = post_comment(question=question, author=make_user(), body=REALISTIC[0])
    # The first task stores every missing signature and regroups; the others have nothing to do.
    assert campaigns.group_comment_now(last.pk).grouped == 3
    assert [campaigns.group_comment_now(c.pk) for c in posted] == [None, None, None]
    assert DuplicateGroup.objects.get().size == 3
    assert CommentSignature.objects.count() == 4


def test_a_short_comment_never_groups(
    post_comment, question, make_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        a = post_comment(question=question, author=make_user(), body="I agree with this.")
        b = post_comment(question=question, author=make_user(), body="I agree with this!")
    assert CommentSignature.objects.get(comment=a).minhash == b""
    assert CommentSignature.objects.get(comment=b).group_id is None
    assert not DuplicateGroup.objects.exists()


def test_editing_a_comment_out_of_the_template_removes_it_from_the_group(
    post_comment, question, make_user, django_capture_on_commit_callbacks
):
    authors = [make_user() for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        posted = [
            post_comment(question=question, author=a, body=v)
            for a, v in zip(authors, VARIANTS[:3], strict=True)
        ]
    group = DuplicateGroup.objects.get()
    assert group.size == 3
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_edit(comment=posted[2], by=authors[2], body=REALISTIC[0], objectives=[])
    # The group keeps its id: it took over the old group with most members.
    group.refresh_from_db()
    assert group.size == 2
    assert CommentSignature.objects.get(comment=posted[2]).group_id is None
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_edit(comment=posted[1], by=authors[1], body=REALISTIC[1], objectives=[])
    # A group of one is not a group.
    assert not DuplicateGroup.objects.exists()
    assert not CommentSignature.objects.filter(group__isnull=False).exists()


def test_the_command_computes_missing_signatures_and_says_what_it_did(
    question, make_user, make_consultation
):
    # Comments from before the grouping existed: no signature yet.
    authors = [make_user(organisation=org) for org in ("A", "B", "a", "")]
    for author, variant in zip(authors, VARIANTS[:4], strict=True):
        Comment.objects.create(
            question=question, author=author, body=f"<p>{variant}</p>", body_text=variant
        )
    other = make_consultation()
    out = StringIO()
    call_command("group_duplicates", "--consultation", question.consultation.slug, stdout=out)
    assert out.getvalue().strip() == (
        f"{question.consultation.slug}: 4 signatures computed, 4 compared, 1 groups of 4 comments"
    )
    group = DuplicateGroup.objects.get()
    assert (group.size, group.organisation_count) == (4, 2)  # "A" and "a" are one organisation
    # Again: nothing is missing, the same group.
    out = StringIO()
    call_command("group_duplicates", stdout=out)
    assert f"{question.consultation.slug}: 0 signatures computed" in out.getvalue()
    assert f"{other.slug}: 0 signatures computed" in out.getvalue()
    assert DuplicateGroup.objects.get().pk == group.pk


def test_the_command_refuses_an_unknown_consultation(db):
    with pytest.raises(Exception, match="no consultation"):
        call_command("group_duplicates", "--consultation", "nope", stdout=StringIO())


# The page


@pytest.fixture
def grouped(question, make_user, django_capture_on_commit_callbacks):
    """Two groups: four campaign comments (three organisations) and two copies of another."""
    authors = [
        make_user(organisation=org, display_name=f"Signatory {i}")
        for i, org in enumerate(["Andean Families", "Lima Legal Aid", "", "andean families"])
    ]
    with django_capture_on_commit_callbacks(execute=True):
        campaign = [
            services.comment_create(question=question, author=a, body=v)
            for a, v in zip(
                authors, [VARIANTS[0], VARIANTS[4], VARIANTS[5], VARIANTS[7]], strict=True
            )
        ]
        pair = [
            services.comment_create(question=question, author=make_user(), body=REALISTIC[0]),
            services.comment_create(
                question=question, author=make_user(), body=REALISTIC[0] + " Thank you."
            ),
        ]
        services.comment_create(question=question, author=make_user(), body=REALISTIC[2])
    return campaign, pair


def campaigns_url(consultation) -> str:
    return reverse("insights:campaigns", kwargs={"slug": consultation.slug})


def test_the_page_is_for_staff_only(client, consultation, user):
    url = campaigns_url(consultation)
    response = client.get(url)
    assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(user)
    assert client.get(url).status_code == 403


def test_the_page_lists_the_groups_largest_first_with_their_members(
    client, staff_user, consultation, grouped
):
    campaign, pair = grouped
    client.force_login(staff_user)
    response = client.get(campaigns_url(consultation))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Campaign: 4 comments from 2 organisations" in html
    assert "Campaign: 2 comments, no organisation given" in html
    assert html.index("Campaign: 4 comments") < html.index("Campaign: 2 comments")
    group = DuplicateGroup.objects.get(size=4)
    # The representative text, exactly as posted (the stored, sanitised body).
    assert group.representative.body in html
    for comment in campaign:
        assert f'id="campaign-comment-{comment.pk}"' in html
        assert comment.get_absolute_url() in html
        assert comment.author.display_name in html
    assert "Lima Legal Aid" in html and "Civil society" in html
    # Each member links to the others.
    others = ", ".join(f'<a href="#campaign-comment-{c.pk}">#{c.pk}</a>' for c in campaign[1:])
    assert f"Also in this group: {others}" in html
    # The ungrouped comment is not listed.
    lone = Comment.objects.exclude(pk__in=[c.pk for c in campaign + pair]).get()
    assert f"campaign-comment-{lone.pk}" not in html


def test_the_filters_narrow_the_groups_to_those_with_a_matching_member(
    client, staff_user, consultation, grouped
):
    campaign, pair = grouped
    client.force_login(staff_user)
    html = client.get(campaigns_url(consultation), {"organisation": "Lima Legal Aid"}).content
    html = html.decode()
    assert "Campaign: 4 comments" in html and "Campaign: 2 comments" not in html
    # A bad filter value: a message, the value kept, the other groups still listed.
    html = client.get(campaigns_url(consultation), {"since": "yesterday"}).content.decode()
    assert "is not a date" in html and 'value="yesterday"' in html
    assert "Campaign: 2 comments" in html


def test_the_page_reads_a_fixed_number_of_queries(
    client,
    staff_user,
    consultation,
    question,
    grouped,
    make_user,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    client.force_login(staff_user)
    url = campaigns_url(consultation)
    client.get(url)
    with django_assert_num_queries(14) as few:
        client.get(url)
    # More groups, more members: the same number of queries.
    with django_capture_on_commit_callbacks(execute=True):
        for text in REALISTIC[3:5]:
            for _ in range(3):
                services.comment_create(question=question, author=make_user(), body=text + " Yes.")
    assert DuplicateGroup.objects.count() == 4
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count('class="campaign"') == 4


def test_siblings_include_links_each_comment_to_the_others(consultation, grouped):
    from django.template.loader import render_to_string

    campaign, _pair = grouped
    siblings = campaigns.siblings_of([c.pk for c in campaign])
    html = render_to_string(
        "insights/includes/_also_in_group.html", {"others": siblings[campaign[0].pk]}
    )
    assert "Also in this group:" in html
    for comment in campaign[1:]:
        assert f'href="{comment.get_absolute_url()}">#{comment.pk}</a>' in html


def test_a_comment_like_no_other_leaves_the_groups_as_they_are(
    post_comment, question, make_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for variant in VARIANTS[:2]:
            post_comment(question=question, author=make_user(), body=variant)
    group = DuplicateGroup.objects.get()
    unique = post_comment(question=question, author=make_user(), body=REALISTIC[1])
    # Its task compares it with the stored signatures and stops: no regrouping, same group.
    assert campaigns.group_comment_now(unique.pk) is None
    assert CommentSignature.objects.get(comment=unique).group_id is None
    assert DuplicateGroup.objects.get().updated_at == group.updated_at
    # A copy of it, though, regroups: the two form a group of their own.
    copy = post_comment(question=question, author=make_user(), body=REALISTIC[1] + " Thanks.")
    assert campaigns.group_comment_now(copy.pk).groups == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_regrouping_chosen_as_a_deadlocks_victim_runs_again(
    post_comment, question, user, monkeypatch
):
    # PostgreSQL aborts one transaction of a deadlock with SQLSTATE 40P01; Django wraps the
    # driver's error, which stays as __cause__. The regrouping is retried in a new transaction
    # (as the worker runs it: outside any transaction; inside one, a retry is impossible).
    from django.db import OperationalError

    class Deadlock(Exception):
        pgcode = "40P01"

    comment = post_comment(question=question, author=user, body="Recruitment fees " * 20)
    once = campaigns._group_comment_once
    calls = []

    def flaky(comment_id):
        calls.append(comment_id)
        if len(calls) == 1:
            raise OperationalError("deadlock detected") from Deadlock()
        return once(comment_id)

    monkeypatch.setattr(campaigns, "_group_comment_once", flaky)
    CommentSignature.objects.all().delete()
    campaigns.group_comment_now(comment.pk)
    assert calls == [comment.pk, comment.pk]
    assert CommentSignature.objects.filter(comment=comment).exists()


def test_other_database_errors_are_not_retried(post_comment, question, user, monkeypatch):
    from django.db import OperationalError

    calls = []

    def broken(comment_id):
        calls.append(comment_id)
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(campaigns, "_group_comment_once", broken)
    with pytest.raises(OperationalError):
        campaigns.group_comment_now(1)
    assert calls == [1]
