"""The analyst coding services (insights.coding): staff only whoever calls them, one row per
code on a comment however often it is assigned, and a log row for each change, only then."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from consultations.models import Question
from insights import coding
from insights.models import Code, CodeAssignment, CodingAction, KeyQuote

pytestmark = pytest.mark.django_db

Kind = CodingAction.Kind


@pytest.fixture
def comment(question, user, post_comment):
    return post_comment(question=question, author=user, body="Birth registration for all.")


@pytest.fixture
def code(staff_user, consultation):
    return coding.create_code(staff_user, consultation, "Birth registration", "Documents")


def log(consultation):
    return list(
        CodingAction.objects.filter(consultation=consultation)
        .order_by("pk")
        .values_list("kind", "code_name", "note", "comment_id")
    )


# --- Permissions ------------------------------------------------------------------------------


def test_every_service_refuses_a_participant(user, consultation, comment, code):
    refused = [
        lambda: coding.create_code(user, consultation, "Remittances"),
        lambda: coding.update_code(user, code, "Renamed"),
        lambda: coding.delete_code(user, code),
        lambda: coding.assign(user, comment, code),
        lambda: coding.unassign(user, comment, code),
        lambda: coding.set_note(user, comment, code, "note"),
        lambda: coding.flag_key_quote(user, comment),
        lambda: coding.unflag_key_quote(user, comment),
        lambda: coding.set_coding(user, comment, codes=[code], key_quote=True),
    ]
    for call in refused:
        with pytest.raises(PermissionDenied):
            call()
    assert Code.objects.get().name == "Birth registration"
    assert not CodeAssignment.objects.exists() and not KeyQuote.objects.exists()
    assert [k for k, *_ in log(consultation)] == [Kind.CREATE_CODE]


def test_an_inactive_staff_member_is_refused(make_user, consultation):
    former = make_user(is_staff=True, is_active=False)
    with pytest.raises(PermissionDenied):
        coding.create_code(former, consultation, "Remittances")
    assert not Code.objects.exists()


# --- Codes ------------------------------------------------------------------------------------


def test_create_code_trims_the_name_and_logs_it(staff_user, consultation):
    code = coding.create_code(staff_user, consultation, "  Sea   rescue ", "At sea")
    assert (code.name, code.description, code.created_by) == ("Sea rescue", "At sea", staff_user)
    assert log(consultation) == [(Kind.CREATE_CODE, "Sea rescue", "At sea", None)]


@pytest.mark.parametrize(
    "name, message",
    [
        ("   ", "Give the code a name."),
        ("x" * 81, "at most 80 characters; this one has 81"),
        ("BIRTH registration", "already has a code named “Birth registration”"),
    ],
)
def test_a_bad_name_is_refused_with_a_clear_message(staff_user, consultation, code, name, message):
    with pytest.raises(ValidationError) as exc:
        coding.create_code(staff_user, consultation, name)
    assert message in " ".join(exc.value.messages)
    assert Code.objects.count() == 1 and len(log(consultation)) == 1


def test_nul_bytes_are_dropped_from_names_descriptions_and_notes(staff_user, comment):
    # PostgreSQL refuses NUL in text; a form that sends one must not cause a server error.
    code = coding.create_code(staff_user, comment.question.consultation, "Sea\x00 rescue", "A\x00t")
    assert (code.name, code.description) == ("Sea rescue", "At")
    coding.set_coding(staff_user, comment, [code], {code.pk: "cl\x00ear"})
    assert CodeAssignment.objects.get().note == "clear"
    with pytest.raises(ValidationError, match="Give the code a name"):
        coding.create_code(staff_user, comment.question.consultation, "\x00 ")


def test_an_80_character_name_is_accepted(staff_user, consultation):
    assert len(coding.create_code(staff_user, consultation, "y" * 80).name) == 80


def test_the_same_name_in_another_consultation_is_fine(staff_user, code, make_consultation):
    other = coding.create_code(staff_user, make_consultation(), "birth registration")
    assert other.pk != code.pk


def test_rename_keeps_assignments_and_logs_the_old_name(staff_user, consultation, comment, code):
    coding.assign(staff_user, comment, code, "clear case")
    coding.rename_code(staff_user, code, "Civil registration")
    assert CodeAssignment.objects.get().code.name == "Civil registration"
    assert log(consultation)[-1] == (
        Kind.RENAME_CODE,
        "Civil registration",
        "Birth registration",
        None,
    )


def test_rename_may_change_only_the_case_but_not_take_another_name(staff_user, consultation, code):
    coding.create_code(staff_user, consultation, "Remittances")
    assert coding.update_code(staff_user, code, "birth Registration").name == "birth Registration"
    with pytest.raises(ValidationError, match="already has a code named"):
        coding.update_code(staff_user, code, "remittances")


def test_update_without_change_logs_nothing(staff_user, consultation, code):
    coding.update_code(staff_user, code, " Birth registration ", "Documents")
    assert len(log(consultation)) == 1


def test_delete_removes_assignments_and_the_log_keeps_the_name(
    staff_user, consultation, comment, code
):
    coding.assign(staff_user, comment, code, "clear case")
    assert coding.delete_code(staff_user, code) == 1
    assert not Code.objects.exists() and not CodeAssignment.objects.exists()
    assert log(consultation)[-2:] == [
        (Kind.UNASSIGN, "Birth registration", "clear case", comment.pk),
        (Kind.DELETE_CODE, "Birth registration", "", None),
    ]
    comment.refresh_from_db()  # the comment itself is untouched


# --- Assignments ------------------------------------------------------------------------------


def test_assigning_twice_makes_one_row_and_logs_once(staff_user, consultation, comment, code):
    coding.assign(staff_user, comment, code, "first")
    coding.assign(staff_user, comment, code)
    assert CodeAssignment.objects.get().note == "first"
    assert [k for k, *_ in log(consultation)] == [Kind.CREATE_CODE, Kind.ASSIGN]


def test_assigning_again_with_a_new_note_changes_the_note(staff_user, consultation, comment, code):
    coding.assign(staff_user, comment, code, "first")
    coding.assign(staff_user, comment, code, "second")
    assert CodeAssignment.objects.get().note == "second"
    assert log(consultation)[-1] == (Kind.EDIT_NOTE, "Birth registration", "second", comment.pk)


def test_unassign_logs_only_when_the_code_was_there(staff_user, consultation, comment, code):
    assert coding.unassign(staff_user, comment, code) is False
    coding.assign(staff_user, comment, code, "n")
    assert coding.unassign(staff_user, comment, code) is True
    assert not CodeAssignment.objects.exists()
    assert [k for k, *_ in log(consultation)] == [Kind.CREATE_CODE, Kind.ASSIGN, Kind.UNASSIGN]


def test_set_note_changes_logs_and_refuses_an_unassigned_code(
    staff_user, consultation, comment, code
):
    with pytest.raises(ValidationError, match="not on this comment"):
        coding.set_note(staff_user, comment, code, "x")
    coding.assign(staff_user, comment, code)
    coding.set_note(staff_user, comment, code, "  Strong\r\nevidence  ")
    coding.set_note(staff_user, comment, code, "Strong\nevidence")  # the same: not logged
    assert CodeAssignment.objects.get().note == "Strong\nevidence"
    assert [k for k, *_ in log(consultation)] == [Kind.CREATE_CODE, Kind.ASSIGN, Kind.EDIT_NOTE]


def test_a_note_too_long_is_refused(staff_user, comment, code):
    with pytest.raises(ValidationError, match="at most 2000 characters"):
        coding.assign(staff_user, comment, code, "n" * 2001)
    assert not CodeAssignment.objects.exists()


def test_a_code_of_another_consultation_is_refused(
    staff_user, comment, make_consultation, post_comment, user
):
    elsewhere = make_consultation()
    foreign = coding.create_code(staff_user, elsewhere, "Foreign")
    with pytest.raises(ValidationError, match="another consultation"):
        coding.assign(staff_user, comment, foreign)
    with pytest.raises(ValidationError, match="another consultation"):
        coding.set_coding(staff_user, comment, codes=[foreign])
    other_question = Question.objects.create(consultation=elsewhere, number=1, text="Q")
    other_comment = post_comment(question=other_question, author=user)
    coding.assign(staff_user, other_comment, foreign)  # its own consultation: fine
    assert list(CodeAssignment.objects.values_list("comment_id", flat=True)) == [other_comment.pk]


def test_key_quote_flag_is_idempotent_and_logged(staff_user, consultation, comment):
    assert coding.flag_key_quote(staff_user, comment) is True
    assert coding.flag_key_quote(staff_user, comment) is False
    assert KeyQuote.objects.get().flagged_by == staff_user
    assert coding.unflag_key_quote(staff_user, comment) is True
    assert coding.unflag_key_quote(staff_user, comment) is False
    assert [k for k, *_ in log(consultation)] == [Kind.FLAG_KEY_QUOTE, Kind.UNFLAG_KEY_QUOTE]


# --- A whole form -----------------------------------------------------------------------------


def test_set_coding_applies_the_form_and_logs_only_the_differences(
    staff_user, consultation, comment, code
):
    sea = coding.create_code(staff_user, consultation, "Sea rescue")
    money = coding.create_code(staff_user, consultation, "Remittances")
    coding.assign(staff_user, comment, code, "keep me")
    coding.assign(staff_user, comment, sea, "old")
    before = CodingAction.objects.count()

    actions = coding.set_coding(
        staff_user,
        comment,
        codes=[code.pk, sea, money.pk],
        notes={code.pk: "keep me", sea.pk: "new", money.pk: ""},
        key_quote=True,
    )

    assert [(a.kind, a.code_name, a.note) for a in actions] == [
        (Kind.ASSIGN, "Remittances", ""),
        (Kind.EDIT_NOTE, "Sea rescue", "new"),
        (Kind.FLAG_KEY_QUOTE, "", ""),
    ]
    assert CodingAction.objects.count() == before + 3
    assert dict(CodeAssignment.objects.values_list("code__name", "note")) == {
        "Birth registration": "keep me",
        "Sea rescue": "new",
        "Remittances": "",
    }

    # The same form again: nothing changes, nothing logged.
    assert (
        coding.set_coding(
            staff_user,
            comment,
            codes=[code, sea, money],
            notes={code.pk: "keep me", sea.pk: "new"},
            key_quote=True,
        )
        == []
    )

    actions = coding.set_coding(staff_user, comment, codes=[money], key_quote=False)
    assert [(a.kind, a.code_name, a.note) for a in actions] == [
        (Kind.UNASSIGN, "Birth registration", "keep me"),
        (Kind.UNASSIGN, "Sea rescue", "new"),
        (Kind.UNFLAG_KEY_QUOTE, "", ""),
    ]
    assert list(CodeAssignment.objects.values_list("code__name", flat=True)) == ["Remittances"]
    assert all(a.actor == staff_user and a.comment == comment for a in actions)


def test_set_coding_saves_nothing_when_any_part_is_refused(staff_user, consultation, comment, code):
    sea = coding.create_code(staff_user, consultation, "Sea rescue")
    before = CodingAction.objects.count()
    with pytest.raises(ValidationError) as exc:
        coding.set_coding(
            staff_user,
            comment,
            codes=[code],
            notes={code.pk: "fine", sea.pk: "a note for an unticked code"},
            key_quote=True,
        )
    assert "did not tick that code" in " ".join(exc.value.messages)
    with pytest.raises(ValidationError, match="at most 2000"):
        coding.set_coding(staff_user, comment, codes=[code], notes={code.pk: "n" * 2001})
    assert not CodeAssignment.objects.exists() and not KeyQuote.objects.exists()
    assert CodingAction.objects.count() == before


def test_unticking_a_code_whose_old_note_is_sent_back_removes_it(
    staff_user, consultation, comment, code
):
    coding.assign(staff_user, comment, code, "old note")
    actions = coding.set_coding(staff_user, comment, codes=[], notes={code.pk: "old note"})
    assert [(a.kind, a.note) for a in actions] == [(Kind.UNASSIGN, "old note")]
    assert not CodeAssignment.objects.exists()
