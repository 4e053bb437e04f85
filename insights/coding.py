"""Every write of the analyst coding: codes of a consultation, their assignments to comments
with a note, the "key quote" flag, and the coding log (CodingAction) each change writes.

Each service takes the acting user first, checks consultations.permissions.can_export itself
(whoever calls it: a view, the theme suggestions, a shell), writes in one transaction and logs
what changed, and only that: saving a form that changes nothing logs nothing. The log keeps a
code's name as it was, so it stays readable after the code is renamed or deleted.
"""

from collections.abc import Iterable, Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consultations import permissions
from consultations.models import Comment, Consultation

from .models import Code, CodeAssignment, CodingAction, KeyQuote

NAME_MAX_CHARS = 80
DESCRIPTION_MAX_CHARS = 2000
NOTE_MAX_CHARS = 2000

Kind = CodingAction.Kind


# --- Checks -----------------------------------------------------------------------------------


def check_can_code(actor) -> None:
    if not permissions.can_export(actor):
        raise PermissionDenied(_("Only staff can code comments."))


def clean_name(consultation: Consultation, name: str, *, code: Code | None = None) -> str:
    """The name trimmed (inner runs of spaces made one), or ValidationError: empty, too long, or
    already the name of another code of the consultation, whatever its case."""
    name = " ".join(str(name or "").replace("\x00", "").split())
    if not name:
        raise ValidationError(_("Give the code a name."), code="name_required")
    if len(name) > NAME_MAX_CHARS:
        raise ValidationError(
            _("A code's name has at most %(max)s characters; this one has %(length)s.")
            % {"max": NAME_MAX_CHARS, "length": len(name)},
            code="name_too_long",
        )
    others = Code.objects.filter(consultation=consultation, name__iexact=name)
    if code is not None:
        others = others.exclude(pk=code.pk)
    existing = others.first()
    if existing is not None:
        raise ValidationError(
            _("This consultation already has a code named “%(name)s”.") % {"name": existing.name},
            code="name_taken",
        )
    return name


def clean_description(description: str) -> str:
    description = _normalise_text(description)
    if len(description) > DESCRIPTION_MAX_CHARS:
        raise ValidationError(
            _("A description has at most %(max)s characters; this one has %(length)s.")
            % {"max": DESCRIPTION_MAX_CHARS, "length": len(description)},
            code="description_too_long",
        )
    return description


def clean_note(note: str) -> str:
    note = _normalise_text(note)
    if len(note) > NOTE_MAX_CHARS:
        raise ValidationError(
            _("A note has at most %(max)s characters; this one has %(length)s.")
            % {"max": NOTE_MAX_CHARS, "length": len(note)},
            code="note_too_long",
        )
    return note


def _normalise_text(text: str) -> str:
    # A textarea sends CR LF; stored as LF, like comments (consultations.services). A NUL
    # byte is no text and PostgreSQL refuses it: dropped.
    text = str(text or "").replace("\x00", "")
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _check_same_consultation(comment: Comment, code: Code) -> None:
    if _consultation_id(comment) != code.consultation_id:
        raise ValidationError(
            _("The code “%(name)s” belongs to another consultation than this comment.")
            % {"name": code.name},
            code="other_consultation",
        )


def _consultation_id(comment: Comment) -> int:
    return comment.question.consultation_id


def _log(actor, consultation_id: int, kind: str, *, comment=None, code_name="", note=""):
    return CodingAction.objects.create(
        consultation_id=consultation_id,
        actor=actor,
        kind=kind,
        comment=comment,
        code_name=code_name,
        note=note,
    )


# --- Codes ------------------------------------------------------------------------------------


def create_code(actor, consultation: Consultation, name: str, description: str = "") -> Code:
    check_can_code(actor)
    with transaction.atomic():
        # One writer of a consultation's codes at a time: the case-insensitive check holds.
        # (Every lock here is NO KEY UPDATE where the row stays: inserts that refer to it, such
        # as the log's, take KEY SHARE and are not blocked. Codes are locked `of=("self",)`:
        # their ordering joins the consultation, which FOR UPDATE would lock too, and deadlock.
        # Order everywhere: consultation, comment, code.)
        Consultation.objects.select_for_update(no_key=True).filter(pk=consultation.pk).first()
        name = clean_name(consultation, name)
        description = clean_description(description)
        code = Code.objects.create(
            consultation=consultation, name=name, description=description, created_by=actor
        )
        _log(actor, consultation.pk, Kind.CREATE_CODE, code_name=name, note=description)
    return code


def update_code(actor, code: Code, name: str, description: str | None = None) -> Code:
    """Rename a code and/or change its description (None keeps it). Logged as a rename (the
    note keeps the previous name) when anything changed; comments keep the code."""
    check_can_code(actor)
    with transaction.atomic():
        Consultation.objects.select_for_update(no_key=True).filter(pk=code.consultation_id).first()
        code = _lock_code(code)
        name = clean_name(code.consultation, name, code=code)
        description = code.description if description is None else clean_description(description)
        if name == code.name and description == code.description:
            return code
        previous = code.name
        code.name, code.description = name, description
        code.save(update_fields=["name", "description"])
        _log(actor, code.consultation_id, Kind.RENAME_CODE, code_name=name, note=previous)
    return code


rename_code = update_code


def delete_code(actor, code: Code) -> int:
    """Delete a code and its assignments; returns how many comments carried it. The log gets
    one "remove code" row per comment (with the note it had), then the deletion."""
    check_can_code(actor)
    with transaction.atomic():
        code = Code.objects.select_for_update(of=("self",)).filter(pk=code.pk).first()
        if code is None:
            return 0
        assignments = list(code.assignments.values_list("comment_id", "note"))
        CodingAction.objects.bulk_create(
            CodingAction(
                consultation_id=code.consultation_id,
                actor=actor,
                kind=Kind.UNASSIGN,
                comment_id=comment_id,
                code_name=code.name,
                note=note,
            )
            for comment_id, note in assignments
        )
        _log(actor, code.consultation_id, Kind.DELETE_CODE, code_name=code.name)
        code.delete()
    return len(assignments)


# --- Codes on a comment -----------------------------------------------------------------------


def assign(actor, comment: Comment, code: Code, note: str = "") -> CodeAssignment:
    """Put `code` on `comment`. Idempotent: a code already there stays one row and logs nothing,
    unless a new non-empty note is given (then the note changes, logged as a note edit)."""
    check_can_code(actor)
    _check_same_consultation(comment, code)
    note = clean_note(note)
    with transaction.atomic():
        _lock(comment)
        code = _lock_code(code)
        assignment = CodeAssignment.objects.filter(code=code, comment=comment).first()
        if assignment is None:
            assignment = CodeAssignment.objects.create(
                code=code, comment=comment, note=note, assigned_by=actor
            )
            _log(
                actor,
                code.consultation_id,
                Kind.ASSIGN,
                comment=comment,
                code_name=code.name,
                note=note,
            )
        elif note and note != assignment.note:
            _change_note(actor, assignment, code, comment, note)
    return assignment


def unassign(actor, comment: Comment, code: Code) -> bool:
    """Take `code` off `comment`; False (and nothing logged) when it was not there."""
    check_can_code(actor)
    _check_same_consultation(comment, code)
    with transaction.atomic():
        _lock(comment)
        code = _lock_code(code)
        assignment = CodeAssignment.objects.filter(code=code, comment=comment).first()
        if assignment is None:
            return False
        assignment.delete()
        _log(
            actor,
            code.consultation_id,
            Kind.UNASSIGN,
            comment=comment,
            code_name=code.name,
            note=assignment.note,
        )
    return True


def set_note(actor, comment: Comment, code: Code, note: str) -> CodeAssignment:
    """Change the note of a code already on the comment ("" clears it)."""
    check_can_code(actor)
    _check_same_consultation(comment, code)
    note = clean_note(note)
    with transaction.atomic():
        _lock(comment)
        code = _lock_code(code)
        assignment = CodeAssignment.objects.filter(code=code, comment=comment).first()
        if assignment is None:
            raise ValidationError(
                _("The code “%(name)s” is not on this comment: add it first.")
                % {"name": code.name},
                code="not_assigned",
            )
        if note != assignment.note:
            _change_note(actor, assignment, code, comment, note)
    return assignment


def _change_note(actor, assignment: CodeAssignment, code: Code, comment: Comment, note: str):
    assignment.note = note
    assignment.save(update_fields=["note"])
    _log(
        actor, code.consultation_id, Kind.EDIT_NOTE, comment=comment, code_name=code.name, note=note
    )


def flag_key_quote(actor, comment: Comment) -> bool:
    """Flag the comment as a key quote; False (nothing logged) when it already was one."""
    check_can_code(actor)
    with transaction.atomic():
        _lock(comment)
        return _flag(actor, comment) is not None


def unflag_key_quote(actor, comment: Comment) -> bool:
    """Remove the key-quote flag; False (nothing logged) when it was not flagged."""
    check_can_code(actor)
    with transaction.atomic():
        _lock(comment)
        return _unflag(actor, comment) is not None


def _flag(actor, comment: Comment) -> CodingAction | None:
    _quote, created = KeyQuote.objects.get_or_create(
        comment=comment, defaults={"flagged_by": actor, "flagged_at": timezone.now()}
    )
    if not created:
        return None
    return _log(actor, _consultation_id(comment), Kind.FLAG_KEY_QUOTE, comment=comment)


def _unflag(actor, comment: Comment) -> CodingAction | None:
    deleted, _counts = KeyQuote.objects.filter(comment=comment).delete()
    if not deleted:
        return None
    return _log(actor, _consultation_id(comment), Kind.UNFLAG_KEY_QUOTE, comment=comment)


def _lock_code(code: Code) -> Code:
    """The code, locked until the commit (a deletion waits), or ValidationError if deleted."""
    locked = Code.objects.select_for_update(no_key=True, of=("self",)).filter(pk=code.pk).first()
    if locked is None:
        raise ValidationError(
            _("The code “%(name)s” no longer exists.") % {"name": code.name}, code="missing_code"
        )
    return locked


def _lock(comment: Comment) -> None:
    # Two staff saving the same comment's coding at once: one waits, then sees the other's rows
    # (PostgreSQL; SQLite serialises writers anyway). NO KEY UPDATE: inserting rows that refer
    # to the comment (log, assignments) elsewhere takes KEY SHARE locks, which this does not
    # block, so no deadlock with a code's deletion.
    Comment.objects.select_for_update(no_key=True).filter(pk=comment.pk).values_list("pk").first()


# --- A whole form at once ---------------------------------------------------------------------


def set_coding(
    actor,
    comment: Comment,
    codes: Iterable[Code | int] = (),
    notes: Mapping[int, str] | None = None,
    key_quote: bool = False,
) -> list[CodingAction]:
    """Make the comment's coding what a form says: exactly `codes` (Code objects or ids) on it,
    with `notes` ({code id: note}) and the key-quote flag as given. Only the differences are
    written and logged (returned, in order). Nothing is saved when anything is refused: a
    code of another consultation, a note too long, or a note for a code not ticked."""
    check_can_code(actor)
    notes = dict(notes or {})
    with transaction.atomic():
        # The comment first, then its codes: a code deleted meanwhile is reported, not written.
        _lock(comment)
        consultation_id = _consultation_id(comment)
        current = {
            a.code_id: a
            for a in CodeAssignment.objects.filter(comment=comment).select_related("code")
        }
        wanted_ids = {code if isinstance(code, int) else code.pk for code in codes}
        available = {
            code.pk: code
            for code in Code.objects.select_for_update(no_key=True, of=("self",)).filter(
                pk__in=wanted_ids | {int(pk) for pk in notes}
            )
        }
        errors = []
        missing = wanted_ids - available.keys()
        if missing:
            errors.append(
                ValidationError(
                    _("Some of these codes no longer exist; reload the page."), code="missing_code"
                )
            )
        for code in available.values():
            if code.consultation_id != consultation_id:
                errors.append(
                    ValidationError(
                        _("The code “%(name)s” belongs to another consultation than this comment.")
                        % {"name": code.name},
                        code="other_consultation",
                    )
                )
        cleaned_notes: dict[int, str] = {}
        for pk, note in notes.items():
            pk = int(pk)
            try:
                cleaned = clean_note(note)
            except ValidationError as exc:
                name = available[pk].name if pk in available else pk
                errors.append(ValidationError(f"{name}: {' '.join(exc.messages)}", code=exc.code))
                continue
            # The form shows each code's note: unticking a code sends its old note back, which
            # is no new note. A note typed for a code left unticked would be lost: refused.
            previous = current[pk].note if pk in current else ""
            if cleaned and pk not in wanted_ids and cleaned != previous:
                name = available[pk].name if pk in available else pk
                errors.append(
                    ValidationError(
                        _("You wrote a note for “%(name)s” but did not tick that code.")
                        % {"name": name},
                        code="note_without_code",
                    )
                )
            cleaned_notes[pk] = cleaned
        if errors:
            raise ValidationError(errors)

        logged: list[CodingAction] = []
        for pk, assignment in sorted(current.items(), key=lambda item: item[1].code.name):
            if pk not in wanted_ids:
                assignment.delete()
                logged.append(
                    _log(
                        actor,
                        consultation_id,
                        Kind.UNASSIGN,
                        comment=comment,
                        code_name=assignment.code.name,
                        note=assignment.note,
                    )
                )
        for code in sorted((available[pk] for pk in wanted_ids), key=lambda c: c.name):
            note = cleaned_notes.get(code.pk, "")
            assignment = current.get(code.pk)
            if assignment is None:
                CodeAssignment.objects.create(
                    code=code, comment=comment, note=note, assigned_by=actor
                )
                logged.append(
                    _log(
                        actor,
                        consultation_id,
                        Kind.ASSIGN,
                        comment=comment,
                        code_name=code.name,
                        note=note,
                    )
                )
            elif code.pk in cleaned_notes and note != assignment.note:
                assignment.note = note
                assignment.save(update_fields=["note"])
                logged.append(
                    _log(
                        actor,
                        consultation_id,
                        Kind.EDIT_NOTE,
                        comment=comment,
                        code_name=code.name,
                        note=note,
                    )
                )
        action = _flag(actor, comment) if key_quote else _unflag(actor, comment)
        if action is not None:
            logged.append(action)
    return logged
