"""The staff pages of the analyst coding: the filtered comments list with a coding form per
comment, the codes, the coding log and its CSV; staff only, CSRF on every form, a fixed number
of queries per page, and codes never on the public pages."""

import csv
import io
import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import StakeholderType
from insights import coding
from insights.models import Code, CodeAssignment, CodingAction, KeyQuote

pytestmark = pytest.mark.django_db


def url(name, consultation, **kwargs):
    return reverse(f"insights:{name}", kwargs={"slug": consultation.slug, **kwargs})


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def city(make_user):
    return make_user(
        display_name="Léa Martin",
        organisation="City of Lyon",
        stakeholder_type=StakeholderType.LOCAL_GOVERNMENT,
    )


@pytest.fixture
def comments(question, question2, user, city, post_comment):
    return [
        post_comment(
            question=question,
            author=city,
            body="<p>Birth registration & IDs for all.</p>",
            objectives=[4],
        ),
        post_comment(
            question=question, author=user, body="Rescue at sea saves lives.", objectives=[8]
        ),
        post_comment(question=question2, author=user, body="Cheaper remittances.", objectives=[20]),
    ]


@pytest.fixture
def code(staff_user, consultation):
    return coding.create_code(staff_user, consultation, "Paperwork gap", "Documents")


# --- Who may see --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, kwargs",
    [("comments", {}), ("codes", {}), ("log", {}), ("log_csv", {}), ("code_comment", {"pk": 1})],
)
def test_anonymous_visitors_are_sent_to_log_in_and_participants_refused(
    client, user, consultation, name, kwargs
):
    response = client.get(url(name, consultation, **kwargs))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(user)
    assert client.get(url(name, consultation, **kwargs)).status_code == 403


def test_a_participant_cannot_post_a_coding(client, user, consultation, comments, code):
    client.force_login(user)
    response = client.post(
        url("code_comment", consultation, pk=comments[0].pk), {"code": [code.pk]}
    )
    assert response.status_code == 403
    response = client.post(url("codes", consultation), {"name": "Sneaky"})
    assert response.status_code == 403
    assert not CodeAssignment.objects.exists() and Code.objects.count() == 1


# --- The comments list ----------------------------------------------------------------------


def test_staff_see_each_comment_with_its_exact_words_author_and_codes(
    staff_client, staff_user, consultation, comments, code
):
    coding.assign(staff_user, comments[0], code, "Names the ID gap")
    coding.flag_key_quote(staff_user, comments[0])
    response = staff_client.get(url("comments", consultation))
    assert response.status_code == 200
    html = response.content.decode()
    assert "3 comments match" in html
    assert "Birth registration &amp; IDs for all." in html  # body_text, escaped once
    assert (
        "Léa Martin" in html and "City of Lyon" in html and "Local or regional government" in html
    )
    assert comments[0].get_absolute_url() in html
    assert "Paperwork gap" in html and "Names the ID gap" in html and "Key quote" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert url("code_comment", consultation, pk=comments[0].pk) in html


def test_filters_narrow_the_list_and_pagination_keeps_them(
    staff_client, staff_user, consultation, comments, code, question, user, post_comment
):
    response = staff_client.get(url("comments", consultation), {"question": "2"})
    assert response.context["total"] == 1 and "Cheaper remittances." in response.content.decode()

    coding.assign(staff_user, comments[1], code)
    response = staff_client.get(url("comments", consultation), {"code": code.pk})
    assert [row["comment"].pk for row in response.context["rows"]] == [comments[1].pk]

    for n in range(51):
        post_comment(question=question, author=user, body=f"Another view, number {n}.")
    response = staff_client.get(url("comments", consultation), {"question": "1"})
    assert response.context["total"] == 53 and len(response.context["rows"]) == 50
    assert "?question=1&amp;page=2" in response.content.decode()
    response = staff_client.get(url("comments", consultation), {"question": "1", "page": "2"})
    assert len(response.context["rows"]) == 3


def test_a_bad_filter_is_reported_and_the_others_still_apply(staff_client, consultation, comments):
    response = staff_client.get(url("comments", consultation), {"objective": "99", "question": "2"})
    assert response.status_code == 200
    assert "There is no objective 99: objectives are numbered 1 to 23." in response.content.decode()
    assert response.context["total"] == 1


# The session and the user (2), the consultation (1), the filter form's choices: questions,
# objectives, codes, campaign groups (4); the count, the page of comments with authors, profiles,
# questions and key quotes joined, their objectives, their codes (4), the codes for the forms
# (1); the site header: unread notifications, the viewer's profile, permissions (4).
QUERIES = 16


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_takes_a_fixed_number_of_queries(
    count,
    django_assert_num_queries,
    staff_client,
    staff_user,
    consultation,
    question,
    make_user,
    post_comment,
):
    sea = coding.create_code(staff_user, consultation, "Sea rescue")
    money = coding.create_code(staff_user, consultation, "Remittances")
    for n in range(count):
        author = make_user(organisation=f"Organisation {n}")
        comment = post_comment(question=question, author=author, objectives=[4, 8])
        coding.assign(staff_user, comment, sea, f"note {n}")
        coding.assign(staff_user, comment, money)
        if n % 2:
            coding.flag_key_quote(staff_user, comment)
    with django_assert_num_queries(QUERIES):
        response = staff_client.get(url("comments", consultation), {"objective": "8"})
    assert response.status_code == 200 and response.context["total"] == count
    assert len(response.context["rows"]) == count


# --- The coding form ------------------------------------------------------------------------


def test_saving_the_form_codes_the_comment_logs_it_and_goes_back(
    staff_client, staff_user, consultation, comments, code
):
    sea = coding.create_code(staff_user, consultation, "Sea rescue")
    back = url("comments", consultation) + "?question=1&page=1"
    response = staff_client.post(
        url("code_comment", consultation, pk=comments[1].pk),
        {
            "code": [str(code.pk), str(sea.pk)],
            f"note-{sea.pk}": "Rescue duty",
            f"note-{code.pk}": "",
            "key_quote": "1",
            "next": back,
        },
        follow=True,
    )
    assert response.redirect_chain == [(back + f"#comment-{comments[1].pk}", 302)]
    assert f"Coding of comment #{comments[1].pk} saved (3 changes)." in response.content.decode()
    assert dict(CodeAssignment.objects.values_list("code__name", "note")) == {
        "Paperwork gap": "",
        "Sea rescue": "Rescue duty",
    }
    assert KeyQuote.objects.filter(comment=comments[1]).exists()
    kinds = CodingAction.objects.filter(comment=comments[1]).values_list("kind", flat=True)
    assert sorted(kinds) == ["assign", "assign", "flag_key_quote"]


def test_next_pointing_elsewhere_is_ignored(staff_client, consultation, comments, code):
    response = staff_client.post(
        url("code_comment", consultation, pk=comments[0].pk),
        {"code": [code.pk], "next": "https://evil.example/"},
    )
    assert response["Location"] == url("comments", consultation) + f"#comment-{comments[0].pk}"


def test_a_refused_form_keeps_what_was_typed_and_saves_nothing(
    staff_client, staff_user, consultation, comments, code
):
    sea = coding.create_code(staff_user, consultation, "Sea rescue")
    response = staff_client.post(
        url("code_comment", consultation, pk=comments[0].pk),
        {"code": [code.pk], f"note-{code.pk}": "Kept text", f"note-{sea.pk}": "Orphan note"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "You wrote a note for “Sea rescue” but did not tick that code." in html
    assert 'value="Kept text"' in html and 'value="Orphan note"' in html
    assert not CodeAssignment.objects.exists()


def test_a_comment_of_another_consultation_is_not_found(
    staff_client, consultation, make_consultation, comments
):
    other = make_consultation()
    assert staff_client.get(url("code_comment", other, pk=comments[0].pk)).status_code == 404


def test_csrf_is_enforced_on_every_form(staff_user, consultation, comments, code):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    posts = [
        (url("code_comment", consultation, pk=comments[0].pk), {"code": [code.pk]}),
        (url("codes", consultation), {"name": "New"}),
        (url("code_edit", consultation, code_id=code.pk), {"name": "Renamed"}),
        (url("code_delete", consultation, code_id=code.pk), {}),
    ]
    for path, data in posts:
        assert client.post(path, data).status_code == 403
    assert not CodeAssignment.objects.exists()
    assert list(Code.objects.values_list("name", flat=True)) == ["Paperwork gap"]

    # With the token the coding form itself carries, the same post goes through.
    html = client.get(url("comments", consultation)).content.decode()
    form = html[html.index('class="coding-form"') :]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    response = client.post(
        url("code_comment", consultation, pk=comments[0].pk),
        {"code": [code.pk], "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302 and CodeAssignment.objects.count() == 1


# --- Codes page -----------------------------------------------------------------------------


def test_codes_page_lists_counts_and_links_to_the_comments(
    staff_client, staff_user, consultation, comments, code
):
    coding.assign(staff_user, comments[0], code)
    coding.assign(staff_user, comments[2], code)
    response = staff_client.get(url("codes", consultation))
    html = response.content.decode()
    assert f'href="{url("comments", consultation)}?code={code.pk}">2<' in html
    assert "<caption>" in html and 'scope="col"' in html


def test_adding_a_code_and_a_refused_name_keeps_the_typed_text(staff_client, consultation, code):
    response = staff_client.post(
        url("codes", consultation), {"name": "Sea rescue", "description": "At sea"}
    )
    assert response.status_code == 302
    assert Code.objects.filter(name="Sea rescue", description="At sea").exists()

    response = staff_client.post(
        url("codes", consultation), {"name": " paperwork GAP ", "description": "Typed text"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "This consultation already has a code named “Paperwork gap”." in html
    assert "paperwork GAP" in html and "Typed text" in html
    assert Code.objects.count() == 2


def test_renaming_and_deleting_a_code(staff_client, staff_user, consultation, comments, code):
    coding.assign(staff_user, comments[0], code)
    response = staff_client.post(
        url("code_edit", consultation, code_id=code.pk),
        {"name": "Identity papers", "description": "Documents"},
    )
    assert response.status_code == 302 and Code.objects.get().name == "Identity papers"

    confirm = staff_client.get(url("code_delete", consultation, code_id=code.pk))
    assert confirm.status_code == 200 and "It is on 1 comment" in confirm.content.decode()
    assert Code.objects.exists()  # asking does not delete
    response = staff_client.post(url("code_delete", consultation, code_id=code.pk))
    assert response.status_code == 302
    assert not Code.objects.exists() and not CodeAssignment.objects.exists()


def test_a_code_of_another_consultation_cannot_be_edited_here(
    staff_client, staff_user, consultation, make_consultation
):
    foreign = coding.create_code(staff_user, make_consultation(), "Foreign")
    assert staff_client.get(url("code_edit", consultation, code_id=foreign.pk)).status_code == 404
    response = staff_client.post(url("code_delete", consultation, code_id=foreign.pk))
    assert response.status_code == 404 and Code.objects.filter(pk=foreign.pk).exists()


# --- The log --------------------------------------------------------------------------------


def test_the_log_shows_who_what_and_which_comment_newest_first(
    staff_client, staff_user, consultation, comments, code
):
    coding.assign(staff_user, comments[0], code, "First note")
    coding.rename_code(staff_user, code, "Identity papers")
    response = staff_client.get(url("log", consultation))
    actions = list(response.context["page"].object_list)
    assert [a.kind for a in actions] == ["rename_code", "assign", "create_code"]
    html = response.content.decode()
    assert "Staff Member" in html and "First note" in html and "was “Paperwork gap”" in html
    assert f"#{comments[0].pk}" in html


def test_the_log_csv_neutralises_formulas(staff_client, staff_user, consultation, comments):
    evil = coding.create_code(staff_user, consultation, "=HYPERLINK(1)")
    coding.assign(staff_user, comments[0], evil, "+1 call me")
    response = staff_client.get(url("log_csv", consultation))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:6] == ["id", "when", "staff", "action", "code", "note"]
    assign = rows[1]
    assert assign[3] == "Assign code" and assign[4] == "'=HYPERLINK(1)"
    assert assign[5] == "'+1 call me" and assign[6] == str(comments[0].pk)
    assert assign[8].endswith(comments[0].get_absolute_url())


# --- Never public ---------------------------------------------------------------------------


def test_codes_notes_and_key_quotes_never_appear_on_public_pages(
    client, staff_user, consultation, question, comments, code
):
    coding.assign(staff_user, comments[0], code, "SecretAnalystNote")
    coding.flag_key_quote(staff_user, comments[0])
    public = [
        consultation.get_absolute_url(),
        reverse("consultations:question", kwargs={"slug": consultation.slug, "number": 1}),
        reverse("consultations:search", kwargs={"slug": consultation.slug}) + "?q=registration",
        comments[0].get_absolute_url(),
    ]
    for viewer in (None, staff_user):
        if viewer:
            client.force_login(viewer)
        for path in public:
            html = client.get(path, follow=True).content.decode()
            assert "IDs for all" in html  # the coded comment is on the page
            assert "Paperwork gap" not in html and "SecretAnalystNote" not in html
            assert "Key quote" not in html


def test_the_consultation_page_links_staff_to_the_insights(
    client, user, staff_user, consultation, question
):
    link = url("overview", consultation)
    assert link not in client.get(consultation.get_absolute_url()).content.decode()
    client.force_login(user)
    assert link not in client.get(consultation.get_absolute_url()).content.decode()
    client.force_login(staff_user)
    assert link in client.get(consultation.get_absolute_url()).content.decode()
