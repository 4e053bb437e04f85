"""The evidence pack per objective: exact quotes of published comments tagged with the objective,
grouped by stakeholder type with key quotes first, the same on the printable page and in the
DOCX (whose permalinks are real hyperlinks), for staff only, in a fixed number of queries."""

import io
import re
from datetime import UTC, datetime, timedelta

import docx
import pytest
from django.urls import reverse
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn

from accounts.models import StakeholderType
from consultations import services
from consultations.models import Comment, Objective
from insights import evidence
from insights.evidence_docx import add_hyperlink
from insights.filters import NO_FILTERS, CommentFilters
from insights.models import Code, CodeAssignment, KeyQuote

pytestmark = pytest.mark.django_db

BASE = "http://testserver"


def at(comment, day: int):
    """Backdate a comment (days after 2026-03-01, noon UTC), for a known order."""
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC) + timedelta(days=day)
    Comment.objects.filter(pk=comment.pk).update(created_at=when)
    return when


@pytest.fixture
def people(make_user):
    return {
        "ngo": make_user(
            display_name="Amina Diallo",
            organisation="Sahel Migrant Network",
            stakeholder_type=StakeholderType.CIVIL_SOCIETY,
        ),
        "ngo2": make_user(
            display_name="Lena Ortiz",
            organisation="Sea Watchers",
            stakeholder_type=StakeholderType.CIVIL_SOCIETY,
        ),
        "state": make_user(
            display_name="Delegate of Ruritania",
            organisation="Ministry of Interior",
            stakeholder_type=StakeholderType.MEMBER_STATE,
        ),
        "city": make_user(
            display_name="Jonas Berg",
            organisation="",
            stakeholder_type=StakeholderType.LOCAL_GOVERNMENT,
        ),
    }


@pytest.fixture
def comments(question, question2, people, post_comment, staff_user, moderator):
    """Objective 8 (in focus): four published comments, one hidden, one deleted; objective 20
    (not in focus): one comment; objective 4 (in focus): none."""
    made = {
        "ngo_old": post_comment(
            question=question,
            author=people["ngo"],
            body=(
                "<p>Rescue at sea saves lives.</p><p>States must coordinate — now &amp; always.</p>"
            ),
            objectives=[8],
        ),
        "ngo_key": post_comment(
            question=question2,
            author=people["ngo2"],
            body="Search and rescue is a legal duty, not a favour.",
            objectives=[8, 10],
        ),
        "state": post_comment(
            question=question,
            author=people["state"],
            body="Our coast guard rescued 1,200 people in 2025.",
            objectives=[8],
        ),
        "city": post_comment(
            question=question2,
            author=people["city"],
            body="Cities welcome those rescued.\nLine two stays on its own line.",
            objectives=[8],
        ),
        "hidden": post_comment(
            question=question,
            author=people["ngo"],
            body="A spam text that must never be quoted.",
            objectives=[8],
        ),
        "deleted": post_comment(
            question=question,
            author=people["state"],
            body="Withdrawn words that must never be quoted.",
            objectives=[8],
        ),
        "remittances": post_comment(
            question=question, author=people["ngo"], body="Cheaper remittances.", objectives=[20]
        ),
    }
    for day, name in enumerate(made):
        at(made[name], day)
    services.comment_hide(comment=made["hidden"], by=moderator, reason="spam", note="spam")
    services.comment_delete(comment=made["deleted"], by=people["state"])
    KeyQuote.objects.create(comment=made["ngo_key"], flagged_by=staff_user)
    rescue = Code.objects.create(consultation=question.consultation, name="Rescue duty")
    coordination = Code.objects.create(consultation=question.consultation, name="Coordination")
    CodeAssignment.objects.create(code=rescue, comment=made["ngo_old"])
    CodeAssignment.objects.create(code=coordination, comment=made["ngo_old"])
    CodeAssignment.objects.create(code=rescue, comment=made["ngo_key"])
    for comment in made.values():
        comment.refresh_from_db()
    return made


def objective(number: int) -> Objective:
    return Objective.objects.get(number=number)


def pack_of(consultation, number=8, **params):
    filters, errors = CommentFilters.parse(consultation, params)
    assert errors == []
    return evidence.build(consultation, objective(number), filters, base_url=BASE)


def permalink(comment) -> str:
    return BASE + comment.get_absolute_url()


def quoted_pks(pack) -> list[int]:
    return [quote.pk for group in pack.groups for quote in group.quotes]


def url(name, consultation, number=None, query=""):
    kwargs = {"slug": consultation.slug}
    if number is not None:
        kwargs["number"] = number
    return reverse(f"insights:{name}", kwargs=kwargs) + (f"?{query}" if query else "")


def open_docx(response) -> docx.document.Document:
    return docx.Document(io.BytesIO(response.content))


def hyperlinks(document) -> dict[str, str]:
    """Each w:hyperlink's text and the target of its external relationship."""
    rels = document.part.rels
    links = {}
    for element in document.element.body.iter(qn("w:hyperlink")):
        rel = rels[element.get(qn("r:id"))]
        assert rel.reltype == RELATIONSHIP_TYPE.HYPERLINK and rel.is_external
        text = "".join(t.text for t in element.iter(qn("w:t")))
        links[text] = rel.target_ref
    return links


def quote_texts(document) -> list[str]:
    """The block quotations, each quote's paragraphs joined back with a blank line."""
    texts, current = [], []
    for paragraph in document.paragraphs:
        if paragraph.style.name == "Quote":
            current.append(paragraph.text)
        elif current:
            texts.append("\n\n".join(current))
            current = []
    return texts


# The pack


def test_pack_quotes_published_comments_of_the_objective_grouped_key_quotes_first(
    consultation, comments
):
    pack = pack_of(consultation)

    # StakeholderType order: Member State, civil society, local government; key quote first.
    assert [(g.stakeholder_type, [q.pk for q in g.quotes]) for g in pack.groups] == [
        (StakeholderType.MEMBER_STATE, [comments["state"].pk]),
        (StakeholderType.CIVIL_SOCIETY, [comments["ngo_key"].pk, comments["ngo_old"].pk]),
        (StakeholderType.LOCAL_GOVERNMENT, [comments["city"].pk]),
    ]
    assert pack.total == 4 and pack.key_quote_count == 1 and pack.in_focus


def test_each_quote_is_the_exact_text_with_its_source(consultation, comments, question):
    pack = pack_of(consultation)
    quote = next(q for g in pack.groups for q in g.quotes if q.pk == comments["ngo_old"].pk)

    assert quote.text == comments["ngo_old"].body_text
    assert quote.text == "Rescue at sea saves lives.\n\nStates must coordinate — now & always."
    assert quote.paragraphs == [
        "Rescue at sea saves lives.",
        "States must coordinate — now & always.",
    ]
    assert (quote.author, quote.organisation) == ("Amina Diallo", "Sahel Migrant Network")
    assert quote.stakeholder_label == "Civil society"
    assert quote.created_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert (quote.question_number, quote.question_text) == (1, question.text)
    assert quote.permalink == permalink(comments["ngo_old"])
    assert quote.codes == ("Coordination", "Rescue duty")
    assert not quote.is_key


def test_hidden_and_deleted_comments_are_never_quoted_nor_counted(consultation, comments):
    for params in ({}, {"status": "hidden"}, {"status": "deleted"}, {"hidden": "1"}):
        pack = pack_of(consultation, **params)
        pks = quoted_pks(pack)
        assert comments["hidden"].pk not in pks and comments["deleted"].pk not in pks
        assert sum(row.count for row in pack.by_question) == pack.total


def test_counts_per_stakeholder_type_and_per_question(consultation, comments):
    pack = pack_of(consultation)

    per_type = {row.key: row.count for row in pack.by_stakeholder_type}
    assert [row.key for row in pack.by_stakeholder_type] == list(StakeholderType.values)
    assert per_type[StakeholderType.CIVIL_SOCIETY] == 2
    assert per_type[StakeholderType.MEMBER_STATE] == 1
    assert per_type[StakeholderType.LOCAL_GOVERNMENT] == 1
    assert per_type[StakeholderType.ACADEMIA] == 0
    assert [(row.key, row.count) for row in pack.by_question] == [(1, 2), (2, 2)]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"question": "2"}, {"ngo_key", "city"}),
        ({"stakeholder_type": "civil_society"}, {"ngo_key", "ngo_old"}),
        ({"organisation": "sea watchers"}, {"ngo_key"}),
        ({"since": "2026-03-02", "until": "2026-03-03"}, {"ngo_key", "state"}),
        ({"q": "legal duty"}, {"ngo_key"}),
        # The pack's objective replaces the filters' own.
        ({"objective": "20"}, {"ngo_old", "ngo_key", "state", "city"}),
    ],
)
def test_filters_narrow_the_pack(consultation, comments, params, expected):
    pack = pack_of(consultation, **params)
    assert set(quoted_pks(pack)) == {comments[name].pk for name in expected}
    assert bool(pack.filter_descriptions) == ("objective" not in params)


def test_the_analyst_code_filter_is_named_in_words(consultation, comments):
    code = Code.objects.get(name="Coordination")
    pack = pack_of(consultation, code=str(code.pk))
    assert quoted_pks(pack) == [comments["ngo_old"].pk]
    assert pack.filter_descriptions == ["analyst code: “Coordination”"]


def test_objective_outside_focus_and_empty_objective(consultation, comments):
    pack = pack_of(consultation, 20)
    assert not pack.in_focus and quoted_pks(pack) == [comments["remittances"].pk]
    empty = pack_of(consultation, 4)
    assert empty.in_focus and empty.groups == [] and empty.total == 0


def test_permalinks_default_to_the_site_url(consultation, comments, settings):
    settings.SITE_URL = "https://consult.example.org"
    pack = evidence.build(consultation, objective(20), NO_FILTERS)
    assert pack.groups[0].quotes[0].permalink == (
        "https://consult.example.org" + comments["remittances"].get_absolute_url()
    )


def test_building_a_pack_takes_the_same_queries_for_3_and_30_comments(
    consultation, question, make_user, post_comment, django_assert_num_queries, staff_user
):
    code = Code.objects.create(consultation=consultation, name="Theme")

    def add(n):
        for i in range(n):
            author = make_user(stakeholder_type=StakeholderType.values[i % 10])
            comment = post_comment(question=question, author=author, objectives=[8])
            CodeAssignment.objects.create(code=code, comment=comment)
            if i % 3 == 0:
                KeyQuote.objects.create(comment=comment, flagged_by=staff_user)

    eight = objective(8)
    add(3)
    with django_assert_num_queries(4):
        assert evidence.build(consultation, eight, NO_FILTERS, base_url=BASE).total == 3
    add(27)
    with django_assert_num_queries(4):
        assert evidence.build(consultation, eight, NO_FILTERS, base_url=BASE).total == 30


def test_objective_counts_in_focus_first_then_others_with_comments(consultation, comments):
    rows = evidence.objective_counts(consultation, NO_FILTERS)
    in_focus = list(consultation.objectives.order_by("number").values_list("number", flat=True))
    numbers = [row["objective"].number for row in rows]
    # 10 is in focus (the default fixture's objectives); 20 is not, and has a comment.
    assert numbers == in_focus + [20]
    counts = {row["objective"].number: row["count"] for row in rows}
    assert counts[8] == 4 and counts[10] == 1 and counts[20] == 1 and counts[4] == 0


def test_objective_counts_follow_the_filters(consultation, comments):
    def counts(**params):
        filters, errors = CommentFilters.parse(consultation, params)
        rows = evidence.objective_counts(consultation, filters)
        return {row["objective"].number: row["count"] for row in rows if row["count"]}

    assert counts(q="legal duty") == {8: 1, 10: 1}
    assert counts(question="1", objective="20") == {8: 2, 20: 1}
    code = Code.objects.get(name="Rescue duty")
    assert counts(code=str(code.pk)) == {8: 2, 10: 1}


# The hyperlink helper


def test_add_hyperlink_writes_an_external_relationship_word_can_follow():
    document = docx.Document()
    paragraph = document.add_paragraph("See ")
    add_hyperlink(paragraph, "https://example.org/c/1?a=1&b=2", "the comment")
    buffer = io.BytesIO()
    document.save(buffer)

    reopened = docx.Document(io.BytesIO(buffer.getvalue()))
    assert hyperlinks(reopened) == {"the comment": "https://example.org/c/1?a=1&b=2"}
    assert reopened.paragraphs[0].text == "See the comment"
    # python-docx's own reader sees it as a link too.
    assert reopened.paragraphs[0].hyperlinks[0].address == "https://example.org/c/1?a=1&b=2"


# The pages and the download


def test_anonymous_visitors_are_sent_to_log_in_and_participants_refused(
    client, consultation, comments, user
):
    for page in (
        url("evidence", consultation),
        url("evidence_objective", consultation, 8),
        url("evidence_docx", consultation, 8),
    ):
        response = client.get(page)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(user)
    for page in (
        url("evidence", consultation),
        url("evidence_objective", consultation, 8),
        url("evidence_docx", consultation, 8),
    ):
        assert client.get(page).status_code == 403


def test_unknown_objective_or_consultation_is_404(client, staff_user, consultation):
    client.force_login(staff_user)
    assert client.get(url("evidence_objective", consultation, 24)).status_code == 404
    assert client.get(url("evidence_docx", consultation, 99)).status_code == 404
    missing = reverse("insights:evidence_objective", kwargs={"slug": "nope", "number": 8})
    assert client.get(missing).status_code == 404


def test_docx_holds_each_quote_exactly_with_its_permalink_as_a_hyperlink(
    client, staff_user, consultation, comments
):
    client.force_login(staff_user)
    response = client.get(url("evidence_docx", consultation, 8))

    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert response["Content-Disposition"] == (
        'attachment; filename="safe-borders-objective-8-evidence.docx"'
    )
    assert response["Cache-Control"] == "private, no-store"

    document = open_docx(response)
    order = ["state", "ngo_key", "ngo_old", "city"]
    assert quote_texts(document) == [comments[name].body_text for name in order]
    links = hyperlinks(document)
    assert list(links.values()) == [permalink(comments[name]) for name in order]
    assert all(text == target for text, target in links.items())

    text = "\n".join(p.text for p in document.paragraphs)
    assert text.index("Member State (1)") < text.index("Civil society (2)")
    assert text.index("Civil society (2)") < text.index("Key quote")
    assert text.index("Key quote") < text.index(comments["ngo_key"].body_text)
    assert text.count("Key quote") == 1
    assert (
        "— Amina Diallo, Sahel Migrant Network, Civil society, 2026-03-01 12:00 UTC, Question 1"
        in text
    )
    assert "Analyst codes: Coordination, Rescue duty" in text
    assert document.paragraphs[0].text == "Evidence pack: objective 8. " + objective(8).title
    assert "Safe borders review" in text
    assert "4 published comments tagged with this objective (1 key quote)" in text
    assert "never be quoted" not in text and "Cheaper remittances" not in text


def test_docx_counts_tables(client, staff_user, consultation, comments):
    client.force_login(staff_user)
    document = open_docx(client.get(url("evidence_docx", consultation, 8)))

    by_type, by_question = (
        [[cell.text for cell in row.cells] for row in table.rows] for table in document.tables
    )
    assert by_type[0] == ["Stakeholder type", "Comments"]
    assert ["Member State", "1"] in by_type and ["Civil society", "2"] in by_type
    assert by_type[-1] == ["Total", "4"]
    assert by_question[1:] == [
        ["Question 1: What are the key priorities?", "2"],
        ["Question 2: Which practices should be highlighted?", "2"],
        ["Total", "4"],
    ]


def test_docx_keeps_the_filters_and_says_so(client, staff_user, consultation, comments):
    client.force_login(staff_user)
    response = client.get(url("evidence_docx", consultation, 8, "stakeholder_type=member_state"))
    document = open_docx(response)

    assert quote_texts(document) == [comments["state"].body_text]
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Filters: stakeholder type: Member State." in text


def test_printable_page_shows_the_same_quotes_and_links_the_docx_with_the_filters(
    client, staff_user, consultation, comments
):
    client.force_login(staff_user)
    response = client.get(url("evidence_objective", consultation, 8, "question=2"))

    assert response.status_code == 200
    html = response.content.decode()
    pack = response.context["pack"]
    assert quoted_pks(pack) == [comments["ngo_key"].pk, comments["city"].pk]
    for name in ("ngo_key", "city"):
        assert f'href="{permalink(comments[name])}">{permalink(comments[name])}</a>' in html
    assert "Cities welcome those rescued.<br>Line two stays on its own line." in html
    assert html.index("Key quote") < html.index("Search and rescue is a legal duty")
    assert "Rescue at sea saves lives" not in html and "never be quoted" not in html
    docx_link = url("evidence_docx", consultation, 8, "question=2")
    assert f'href="{docx_link}"' in html and "Download as Word (DOCX)" in html
    assert 'id="filters-title"' in html  # the shared filter form
    assert "<caption>Comments per stakeholder type</caption>" in html

    docx_response = client.get(docx_link)
    assert quote_texts(open_docx(docx_response)) == [q.text for g in pack.groups for q in g.quotes]


def test_page_and_docx_quote_the_same_text_with_markup_characters(
    client, staff_user, consultation, question, people, post_comment
):
    comment = post_comment(
        question=question,
        author=people["ngo"],
        body="<p>Fees &lt;5% &amp; “fair” &gt; nothing</p><ul><li>one</li><li>two</li></ul>",
        objectives=[8],
    )
    client.force_login(staff_user)
    page = client.get(url("evidence_objective", consultation, 8)).content.decode()
    document = open_docx(client.get(url("evidence_docx", consultation, 8)))

    assert quote_texts(document) == [comment.body_text]
    first, *rest = comment.body_text.split("\n\n")
    assert first.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in page


def test_choosing_another_objective_in_the_form_opens_its_pack(
    client, staff_user, consultation, question
):
    client.force_login(staff_user)
    response = client.get(url("evidence_objective", consultation, 8, "objective=20&question="))
    assert response.status_code == 302
    assert response["Location"] == url("evidence_objective", consultation, 20)
    response = client.get(url("evidence_docx", consultation, 8, "objective=20&question=1"))
    assert response["Location"] == url("evidence_docx", consultation, 20, "question=1")


def test_filter_errors_are_shown_and_the_typed_value_kept(
    client, staff_user, consultation, comments
):
    client.force_login(staff_user)
    response = client.get(url("evidence_objective", consultation, 8, "since=31/03/2026"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "is not a date" in html and 'value="31/03/2026"' in html
    assert response.context["pack"].total == 4


def test_index_lists_objectives_with_links_keeping_the_filters(
    client, staff_user, consultation, comments
):
    client.force_login(staff_user)
    response = client.get(url("evidence", consultation, query="stakeholder_type=civil_society"))

    assert response.status_code == 200
    html = response.content.decode()
    link = url("evidence_objective", consultation, 8, "stakeholder_type=civil_society")
    assert f'href="{link}"' in html
    docx_link = url("evidence_docx", consultation, 8, "stakeholder_type=civil_society")
    assert f'href="{docx_link}" download>Objective 8 as Word (DOCX)</a>' in html
    rows = {row["objective"].number: row["count"] for row in response.context["objectives"]}
    assert rows[8] == 2 and rows[20] == 1
    assert re.search(r'aria-current="page">Evidence pack<', html)


def test_pages_take_the_same_queries_for_3_and_30_comments(
    client, staff_user, consultation, question, make_user, post_comment, django_assert_num_queries
):
    client.force_login(staff_user)

    def add(n):
        for i in range(n):
            author = make_user(stakeholder_type=StakeholderType.values[i % 10])
            post_comment(question=question, author=author, objectives=[8, 10 + i % 5])

    # Session and user, consultation, the objective, then the pack's own four
    # (insights.evidence.build) or the index's three; the pages add the filter form's choices
    # and the site's context processors.
    pages = [
        (url("evidence", consultation), 14),
        (url("evidence_objective", consultation, 8), 16),
        (url("evidence_docx", consultation, 8), 8),
    ]
    for n in (3, 27):
        add(n)
        for page, queries in pages:
            with django_assert_num_queries(queries):
                assert client.get(page).status_code == 200
