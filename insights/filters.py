"""The staff filters over a consultation's comments, one definition shared by the insights page,
the coded-comments list, the evidence pack and the exports (CSV, XLSX): the same query string
gives the same comments everywhere, so a count on the insights page equals the rows of the CSV
downloaded with that count's filter.

    filters, errors = CommentFilters.parse(consultation, request.GET)
    comments = filters.apply(consultation)          # a Comment queryset
    url = f"...?{filters.as_query(objective=3)}"   # the same filters, one changed

A value that is not valid is left out (the others still apply) with a message in `errors` that
says so; the page shows the messages beside the form, which keeps what was typed.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from accounts.models import StakeholderType
from consultations import search
from consultations.models import Comment, Consultation

from .models import AttachmentText, Code, DuplicateGroup

MAX_TEXT_CHARS = 200
MAX_ORGANISATION_CHARS = 200
# A question number the database column (PositiveSmallIntegerField) can hold.
MAX_QUESTION_NUMBER = 32767

# The query-string names, in the order forms and links write them.
NAMES = (
    "question",
    "objective",
    "stakeholder_type",
    "organisation",
    "since",
    "until",
    "status",
    "code",
    "group",
    "q",
)


@dataclass(frozen=True)
class CommentFilters:
    question: int | None = None  # the question's number in the consultation
    objective: int | None = None  # a GCM objective number, 1 to 23
    stakeholder_type: str = ""  # a StakeholderType value
    organisation: str = ""  # the author's organisation, case-insensitive, exact
    since: date | None = None  # posted on or after this day (UTC)
    until: date | None = None  # posted on or before this day (UTC)
    status: str = ""  # a Comment.Status value; empty: every status
    code: int | None = None  # an analyst Code's id, of this consultation
    group: int | None = None  # a DuplicateGroup's id, of this consultation
    q: str = ""  # search text, as on the search page
    # The CSV's older ?hidden=0: leave hidden comments out (whatever `status` says).
    include_hidden: bool = True

    # Reading

    @classmethod
    def parse(
        cls, consultation: Consultation, params: Mapping[str, str]
    ) -> tuple["CommentFilters", list[str]]:
        """The filters of a query string (request.GET) and a message for each value left out."""
        errors: list[str] = []

        def text(name: str) -> str:
            return " ".join(str(params.get(name, "") or "").split())

        # At most `digits` digits: a code's or group's id fits the column, and int() of a
        # string of thousands of digits would raise.
        def number(name: str, message: str, digits: int = 9) -> int | None:
            raw = text(name)
            if not raw:
                return None
            # ASCII digits only: int() would also take "+3", "٣" and "1_000".
            if raw.isascii() and raw.isdigit() and len(raw) <= digits:
                return int(raw)
            errors.append(message % {"value": raw})
            return None

        def day(name: str, message: str) -> date | None:
            raw = text(name)
            if not raw:
                return None
            try:
                return date.fromisoformat(raw)
            except ValueError:
                errors.append(message % {"value": raw})
                return None

        # The question's and objective's messages are the CSV export's, which refuses them.
        question = number(
            "question",
            _("The question filter must be a number, not “%(value)s”."),
            digits=100,
        )
        if question is not None and not (
            question <= MAX_QUESTION_NUMBER
            and consultation.questions.filter(number=question).exists()
        ):
            errors.append(
                _("Consultation “%(slug)s” has no question %(number)s.")
                % {"slug": consultation.slug, "number": question}
            )
            question = None

        objective = number(
            "objective",
            _("The objective filter must be a number, not “%(value)s”."),
            digits=100,
        )
        if objective is not None and not 1 <= objective <= 23:
            errors.append(
                _("There is no objective %(number)s: objectives are numbered 1 to 23.")
                % {"number": objective}
            )
            objective = None

        stakeholder_type = text("stakeholder_type")
        if stakeholder_type and stakeholder_type not in StakeholderType.values:
            errors.append(
                _("There is no stakeholder type “%(value)s”.") % {"value": stakeholder_type}
            )
            stakeholder_type = ""

        organisation = text("organisation")[:MAX_ORGANISATION_CHARS]

        since = day("since", _("“%(value)s” is not a date: write it as 2026-03-31."))
        until = day("until", _("“%(value)s” is not a date: write it as 2026-03-31."))
        if since and until and since > until:
            errors.append(_("The start date is after the end date: both dates are left out."))
            since = until = None

        status = text("status")
        if status and status not in Comment.Status.values:
            errors.append(_("There is no comment status “%(value)s”.") % {"value": status})
            status = ""

        code = number("code", _("There is no analyst code “%(value)s”."))
        if (
            code is not None
            and not Code.objects.filter(pk=code, consultation=consultation).exists()
        ):
            errors.append(_("There is no analyst code “%(value)s”.") % {"value": code})
            code = None

        group = number("group", _("There is no campaign group “%(value)s”."))
        if (
            group is not None
            and not DuplicateGroup.objects.filter(pk=group, consultation=consultation).exists()
        ):
            errors.append(_("There is no campaign group “%(value)s”.") % {"value": group})
            group = None

        hidden = text("hidden")
        if hidden not in ("", "0", "1"):
            errors.append(
                _(
                    "The hidden filter must be 0 (leave out hidden comments) or 1 (include "
                    "them), not “%(value)s”."
                )
                % {"value": hidden}
            )
            hidden = ""

        filters = cls(
            question=question,
            objective=objective,
            stakeholder_type=stakeholder_type,
            organisation=organisation,
            since=since,
            until=until,
            status=status,
            code=code,
            group=group,
            q=search.normalise_query(text("q"))[:MAX_TEXT_CHARS],
            include_hidden=hidden != "0",
        )
        return filters, errors

    # Applying

    def apply(self, consultation: Consultation, comments=None):
        """The consultation's comments (or those of `comments`, a Comment queryset) that pass."""
        if comments is None:
            comments = Comment.objects.all()
        comments = comments.filter(question__consultation=consultation)
        if self.question is not None:
            comments = comments.filter(question__number=self.question)
        if self.objective is not None:
            # Objective numbers are unique: this join adds no duplicate rows.
            comments = comments.filter(objectives__number=self.objective)
        if self.stakeholder_type:
            comments = comments.filter(author__profile__stakeholder_type=self.stakeholder_type)
        if self.organisation:
            comments = comments.filter(author__profile__organisation__iexact=self.organisation)
        if self.since is not None:
            comments = comments.filter(created_at__gte=_start_of(self.since))
        if self.until is not None:
            comments = comments.filter(created_at__lt=_start_of(self.until + timedelta(days=1)))
        if self.status:
            comments = comments.filter(status=self.status)
        if not self.include_hidden:
            comments = comments.exclude(status=Comment.Status.HIDDEN)
        if self.code is not None:
            # (code, comment) is unique: one row per comment.
            comments = comments.filter(code_assignments__code_id=self.code)
        if self.group is not None:
            comments = comments.filter(signature__group_id=self.group)
        if self.q:
            comments = comments.filter(_text_matches(consultation, self.q))
        return comments

    # Writing

    def as_params(self, **changes) -> dict[str, str]:
        """The non-empty filters as query-string values, with `changes` applied (None clears)."""
        values = asdict(replace(self, **{k: v for k, v in changes.items() if v is not None}))
        for name, value in changes.items():
            if value is None:
                values[name] = None
        params = {}
        for name in NAMES:
            value = values[name]
            if value not in (None, ""):
                params[name] = value.isoformat() if isinstance(value, date) else str(value)
        if not values["include_hidden"]:
            params["hidden"] = "0"
        return params

    def as_query(self, **changes) -> str:
        """as_params() url-encoded, for a link: `?{{ filters.as_query }}`."""
        return urlencode(self.as_params(**changes))

    @property
    def is_empty(self) -> bool:
        return self == CommentFilters()

    @property
    def active(self) -> list[str]:
        """The names of the filters that narrow the comments."""
        default = CommentFilters()
        return [f.name for f in fields(self) if getattr(self, f.name) != getattr(default, f.name)]


NO_FILTERS = CommentFilters()


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _text_matches(consultation: Consultation, query: str) -> Q:
    """Comments whose body matches the query as on the search page (consultations.search), or
    one of whose attachments' extracted text holds every word of it (case-insensitive)."""
    in_body = search.matching_text(
        Comment.objects.filter(question__consultation=consultation), consultation, query
    ).values("pk")
    words = search._words(query)  # the search page's words, the fallback's match
    if not words:
        return Q(pk__in=in_body)
    in_files = AttachmentText.objects.filter(
        attachment__comment=OuterRef("pk"), state=AttachmentText.State.DONE
    )
    for word in words:
        in_files = in_files.filter(text__icontains=word)
    return Q(pk__in=in_body) | Q(Exists(in_files))
