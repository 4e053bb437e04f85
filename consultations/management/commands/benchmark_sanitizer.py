"""Print what the comment sanitiser costs for the worst bodies we know, next to a normal comment."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from consultations.management.benchmarking import median_ms
from consultations.sanitize import (
    MAX_ATTRIBUTES,
    MAX_NESTING,
    MAX_SPECIAL_CHARACTERS,
    MAX_TAGS,
    editable_text,
    html_to_text,
    sanitize_comment,
)

_PARAGRAPH = (
    "Regular pathways matter more than any single border measure. In our region, seasonal "
    "workers who can renew a visa from home come back year after year; those who cannot "
    "overstay. We would ask the review to look at <b>portability of social security</b> "
    "(see https://www.ilo.org/global/topics/labour-migration/ for the ILO's work) and at "
    "<em>fair recruitment</em>, which objective 6 covers.\n\n"
    "<ul><li>visa renewal from the country of origin</li><li>recognition of skills</li></ul>\n\n"
)


def normal_comment(length: int = 2000) -> str:
    """A comment as stakeholders write them: paragraphs, a list, emphasis, a link."""
    return (_PARAGRAPH * (length // len(_PARAGRAPH) + 1))[:length]


def _repeat(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def pathological_bodies(length: int | None = None) -> dict[str, str]:
    """The most expensive bodies we could construct, each as long as a comment may be.

    Some are refused by the markup budget; the others were slow because of bleach's linkify
    patterns or html5lib's bookkeeping, and must now cost about as much as text of that length.
    """
    length = length or settings.COMMENT_MAX_LENGTH
    link = '<a href="https://example.org/a">a link</a> '
    return {
        "nested <ol>": _repeat("<ol>", length),
        "nested <b>": _repeat("<b>", length),
        "nested <blockquote>": _repeat("<blockquote>", length),
        "misnested <b><p>": _repeat("<b><p>", length),
        "misnested <b></p>": _repeat("<b></p>", length),
        "misnested <b><i></b>": _repeat("<b><i></b>", length),
        "<ol><li> unclosed": _repeat("<ol><li>", length),
        "links, 20,000 chars": _repeat(link, length),
        "links, at the tag limit": (link * (MAX_TAGS // 2))[:length],
        # As many 20-deep blocks as the tag limit allows.
        "nesting at the limit": (
            "<blockquote>" * (MAX_NESTING // 2)
            + "<b>" * (MAX_NESTING // 2)
            + "x"
            + "</b>" * (MAX_NESTING // 2)
            + "</blockquote>" * (MAX_NESTING // 2)
        )
        * (MAX_TAGS // (2 * MAX_NESTING)),
        "attributes, one tag": _repeat("<b " + " ".join(f"a{i}=1" for i in range(length)), length),
        "attributes at the limit": _repeat(
            "<b " + " ".join(f"a{i}=1" for i in range(MAX_ATTRIBUTES)) + ">x</b> ", length
        ),
        "entities &amp;": _repeat("&amp;", length),
        "bare &": _repeat("&", length),
        "entities &#x": _repeat("&#x", length),
        "20,000 chars of <": _repeat("<", length),
        "< and spaces": _repeat("< ", length),
        # As many as the budget admits, the rest of the length ordinary text.
        "bare & at the limit": "&" * MAX_SPECIAL_CHARACTERS
        + normal_comment(length - MAX_SPECIAL_CHARACTERS).replace("&", "and"),
        "< at the limit": "< " * MAX_SPECIAL_CHARACTERS
        + _repeat("plain words ", length - 2 * MAX_SPECIAL_CHARACTERS),
        "entities &#x at the limit": _repeat("&#x", 3 * MAX_SPECIAL_CHARACTERS)
        + _repeat("plain words ", length - 3 * MAX_SPECIAL_CHARACTERS),
        "one long word": _repeat("a", length),
        "host-like word a-.": _repeat("a-.", length),
        "address-like word a.": _repeat("a.", length),
        "parentheses": _repeat("(", length),
        "<pre> of spaces": "<pre>x" + " " * (length - 12) + "x</pre>",
        "paragraph of spaces": "x" + " " * (length - 2) + "x",
    }


class Command(BaseCommand):
    help = (
        "Measure sanitize_comment (and reading the stored HTML back: html_to_text, "
        "editable_text) on pathological bodies, median of several runs, as a multiple of the "
        "cost of a normal 2,000-character comment."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--runs", type=int, default=5)

    def handle(self, *args, runs: int, **options) -> None:
        sanitize_comment(normal_comment())  # builds the cleaner outside the measurement
        bodies = {
            "normal comment, 2,000 chars": normal_comment(),
            "normal comment, 20,000 chars": normal_comment(settings.COMMENT_MAX_LENGTH),
            **pathological_bodies(),
        }
        baseline = None
        self.stdout.write(f"median of {runs} runs, ms; x = multiple of the 2,000-char comment")
        self.stdout.write(f"{'body':32} {'chars':>6} {'sanitise':>9} {'x':>6} {'read':>6}  result")
        for label, body in bodies.items():
            try:
                html = sanitize_comment(body)
                outcome = f"stored, {len(html):,} chars"
            except ValidationError as exc:
                html = ""
                outcome = "refused: " + exc.messages[0].split("(", 1)[-1].split(")", 1)[0]
            cost = median_ms(runs, lambda b=body: self._sanitize(b))
            read = median_ms(runs, lambda h=html: (html_to_text(h), editable_text(h)))
            baseline = baseline or cost
            self.stdout.write(
                f"{label:32} {len(body):>6,} {cost:>9.1f} {cost / baseline:>6.1f} {read:>6.1f}"
                f"  {outcome}"
            )

    @staticmethod
    def _sanitize(body: str) -> None:
        try:
            sanitize_comment(body)
        except ValidationError:
            pass
