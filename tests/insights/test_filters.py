"""The staff filters shared by the insights page and the exports: each narrows, bad values are
left out with a message, and the query string round-trips."""

from datetime import UTC, date, timedelta

import pytest
from django.utils import timezone

from accounts.models import StakeholderType
from consultations.models import Attachment, Comment
from insights.filters import CommentFilters
from insights.models import (
    AttachmentText,
    Code,
    CodeAssignment,
    CommentSignature,
    DuplicateGroup,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def comments(question, question2, make_user, post_comment):
    city = make_user(organisation="City of Lyon", stakeholder_type=StakeholderType.LOCAL_GOVERNMENT)
    ngo = make_user(organisation="Sea Watchers", stakeholder_type=StakeholderType.CIVIL_SOCIETY)
    return {
        "city_q1": post_comment(
            question=question, author=city, body="Birth registration for all.", objectives=[4]
        ),
        "ngo_q1": post_comment(
            question=question, author=ngo, body="Rescue at sea saves lives.", objectives=[8]
        ),
        "ngo_q2": post_comment(
            question=question2, author=ngo, body="Cheaper remittances.", objectives=[20, 8]
        ),
    }


def pks(filters, consultation):
    return set(filters.apply(consultation).values_list("pk", flat=True))


def parse(consultation, **params):
    return CommentFilters.parse(consultation, params)


def test_no_filters_give_every_comment_of_the_consultation(
    consultation, comments, make_consultation
):
    filters, errors = parse(consultation)
    assert errors == [] and filters.is_empty
    assert pks(filters, consultation) == {c.pk for c in comments.values()}
    assert pks(filters, make_consultation()) == set()


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"question": "2"}, {"ngo_q2"}),
        ({"objective": "8"}, {"ngo_q1", "ngo_q2"}),
        ({"stakeholder_type": "local_government"}, {"city_q1"}),
        ({"organisation": "  sea   WATCHERS "}, {"ngo_q1", "ngo_q2"}),
        ({"q": "rescue"}, {"ngo_q1"}),
        ({"question": "1", "objective": "8"}, {"ngo_q1"}),
        ({"status": "hidden"}, set()),
    ],
)
def test_each_filter_narrows(consultation, comments, params, expected):
    filters, errors = parse(consultation, **params)
    assert errors == []
    assert pks(filters, consultation) == {comments[name].pk for name in expected}


def test_dates_are_whole_utc_days(consultation, comments):
    old = comments["city_q1"]
    Comment.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    today = timezone.now().astimezone(UTC).date()
    since, _ = parse(consultation, since=today.isoformat())
    assert old.pk not in pks(since, consultation) and len(pks(since, consultation)) == 2
    until, _ = parse(consultation, until=(today - timedelta(days=10)).isoformat())
    assert pks(until, consultation) == {old.pk}


def test_codes_groups_and_hidden(consultation, comments, staff_user):
    code = Code.objects.create(consultation=consultation, name="Children")
    CodeAssignment.objects.create(code=code, comment=comments["city_q1"], assigned_by=staff_user)
    group = DuplicateGroup.objects.create(consultation=consultation, size=1)
    CommentSignature.objects.create(
        comment=comments["ngo_q2"], consultation=consultation, minhash=b"", group=group
    )
    Comment.objects.filter(pk=comments["ngo_q1"].pk).update(status=Comment.Status.HIDDEN)

    assert pks(parse(consultation, code=str(code.pk))[0], consultation) == {comments["city_q1"].pk}
    assert pks(parse(consultation, group=str(group.pk))[0], consultation) == {comments["ngo_q2"].pk}
    assert comments["ngo_q1"].pk not in pks(parse(consultation, hidden="0")[0], consultation)
    assert pks(parse(consultation, status="hidden")[0], consultation) == {comments["ngo_q1"].pk}


def test_bad_values_are_left_out_with_a_message_each(consultation, comments, make_consultation):
    elsewhere = Code.objects.create(consultation=make_consultation(), name="Elsewhere")
    filters, errors = parse(
        consultation,
        question="9",
        objective="24",
        stakeholder_type="spy",
        since="31/03/2026",
        status="gone",
        code=str(elsewhere.pk),
        group="x",
        hidden="maybe",
    )
    assert len(errors) == 8, errors
    assert filters.is_empty
    assert "“31/03/2026” is not a date: write it as 2026-03-31." in errors


def test_a_start_after_the_end_drops_both(consultation):
    filters, errors = parse(consultation, since="2026-05-02", until="2026-05-01")
    assert filters.since is None and filters.until is None and len(errors) == 1


def test_the_query_string_round_trips_and_changes_one_filter(consultation, question):
    filters, _ = parse(consultation, question="1", since="2026-03-01", q="sea  rescue", hidden="0")
    assert filters.as_params() == {
        "question": "1",
        "since": "2026-03-01",
        "q": "sea rescue",
        "hidden": "0",
    }
    assert parse(consultation, **filters.as_params())[0] == filters
    assert (
        filters.as_query(objective=8, question=None)
        == "objective=8&since=2026-03-01&q=sea+rescue&hidden=0"
    )
    assert filters.since == date(2026, 3, 1)
    assert set(filters.active) == {"question", "since", "q", "include_hidden"}


def test_huge_numbers_are_refused_with_a_message_not_an_error(consultation):
    filters, errors = parse(consultation, question="9" * 5000, objective="1" * 30, code="7" * 20)

    assert filters.is_empty
    assert len(errors) == 3
    assert errors[0] == f"The question filter must be a number, not “{'9' * 5000}”."
    assert errors[1] == f"There is no objective {'1' * 30}: objectives are numbered 1 to 23."


def test_text_search_matches_attachment_text_only_when_extracted(consultation, comments):
    attachment = Attachment.objects.create(
        comment=comments["city_q1"], file="attachments/a.pdf", original_name="a.pdf", size=1
    )
    record = AttachmentText.objects.create(
        attachment=attachment, state=AttachmentText.State.DONE, text="Report on Lampedusa ports"
    )

    assert pks(parse(consultation, q="lampedusa PORTS")[0], consultation) == {
        comments["city_q1"].pk
    }
    assert pks(parse(consultation, q="lampedusa rescue")[0], consultation) == set()
    assert pks(parse(consultation, q="rescue")[0], consultation) == {comments["ngo_q1"].pk}
    AttachmentText.objects.filter(pk=record.pk).update(state=AttachmentText.State.FAILED)
    assert pks(parse(consultation, q="lampedusa")[0], consultation) == set()
