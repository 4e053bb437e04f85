"""The evidence pack as a Word document (python-docx): title, what it holds, the counts tables,
then per stakeholder type each quote as a block quotation, its attribution and its permalink as
a clickable hyperlink. Staff paste from it into the background note."""

import io
import re

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import RGBColor
from docx.text.paragraph import Paragraph

from .evidence import EvidencePack, Quote, Row

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# Characters XML 1.0 cannot hold at all (a Word file is XML): python-docx refuses them. The
# sanitiser keeps them out of comments; this is the last guard, and the only change to a text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

LINK_COLOUR = RGBColor(0x0B, 0x4F, 0x8A)


def filename(pack: EvidencePack) -> str:
    return f"{pack.consultation.slug}-objective-{pack.objective.number}-evidence.docx"


def add_hyperlink(paragraph: Paragraph, url: str, text: str | None = None):
    """Append a clickable link to `url` to the paragraph: a w:hyperlink whose r:id names an
    external relationship of the document part (python-docx reads links but has no call to
    write one). Returns the w:hyperlink element."""
    r_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    hyperlink = _hyperlink(r_id, text if text is not None else url)
    paragraph._p.append(hyperlink)
    return hyperlink


def _hyperlink(r_id: str, text: str):
    hyperlink = OxmlElement("w:hyperlink", {qn("r:id"): r_id})
    run = OxmlElement("w:r")
    properties = OxmlElement("w:rPr")
    # rPr children in the schema's order: color before u.
    properties.append(OxmlElement("w:color", {qn("w:val"): str(LINK_COLOUR)}))
    properties.append(OxmlElement("w:u", {qn("w:val"): "single"}))
    run.append(properties)
    run.append(_text(text))
    hyperlink.append(run)
    return hyperlink


class _Links:
    """External hyperlink relationships for many distinct addresses, each added in constant
    time: part.relate_to() first looks through every relationship the part has, which makes a
    pack of thousands of permalinks quadratic."""

    def __init__(self, part):
        self.rels = part.rels
        self.number = len(self.rels)

    def add(self, url: str) -> str:
        self.number += 1
        while f"rId{self.number}" in self.rels:
            self.number += 1
        r_id = f"rId{self.number}"
        self.rels.add_relationship(RELATIONSHIP_TYPE.HYPERLINK, url, r_id, is_external=True)
        return r_id


def render(pack: EvidencePack) -> bytes:
    """The .docx file's bytes."""
    document = Document()
    core = document.core_properties
    core.title = _xml_safe(_title(pack))
    core.subject = _xml_safe(pack.consultation.title)

    document.add_heading(_xml_safe(_title(pack)), level=0)
    document.add_paragraph(_xml_safe(pack.consultation.title), style="Subtitle")
    document.add_paragraph(_xml_safe(summary(pack)))

    document.add_heading(_("Comments per stakeholder type"), level=1)
    _counts_table(document, _("Stakeholder type"), pack.by_stakeholder_type, pack.total)
    document.add_heading(_("Comments per question"), level=1)
    question_rows = [
        Row(row.key, question_label(row.key, row.label), row.count) for row in pack.by_question
    ]
    _counts_table(document, _("Question"), question_rows, pack.total)

    quote_style_id = document.styles["Quote"].style_id
    end = document.element.body.get_or_add_sectPr()
    links = _Links(document.part)
    if not pack.groups:
        document.add_paragraph(_("No published comment is tagged with this objective."))
    for group in pack.groups:
        document.add_heading(
            _xml_safe(f"{group.label} ({len(group.quotes)})"),
            level=1,
        )
        for quote in group.quotes:
            _quote(end, links, quote, quote_style_id)

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def summary(pack: EvidencePack) -> str:
    """The line under the title that says what the document holds."""
    generated = pack.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    counts = ngettext(
        "%(count)s published comment tagged with this objective",
        "%(count)s published comments tagged with this objective",
        pack.total,
    ) % {"count": pack.total}
    keys = ngettext("%(count)s key quote", "%(count)s key quotes", pack.key_quote_count) % {
        "count": pack.key_quote_count
    }
    if pack.filter_descriptions:
        filters = _("Filters: %(filters)s.") % {"filters": "; ".join(pack.filter_descriptions)}
    else:
        filters = _("No filters: every published comment tagged with this objective.")
    return _(
        "%(counts)s (%(keys)s), quoted exactly as written. %(filters)s Generated %(date)s."
    ) % {"counts": counts, "keys": keys, "filters": filters, "date": generated}


def question_label(number: int, text: str) -> str:
    return _("Question %(number)s: %(text)s") % {"number": number, "text": text}


def _title(pack: EvidencePack) -> str:
    return _("Evidence pack: objective %(number)s. %(title)s") % {
        "number": pack.objective.number,
        "title": pack.objective.display_title,
    }


def _counts_table(document, heading: str, rows: list[Row], total: int) -> None:
    table = document.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    header = table.rows[0].cells
    header[0].text = heading
    header[1].text = _("Comments")
    for cell in header:
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        cells = table.add_row().cells
        cells[0].text = _xml_safe(str(row.label))
        cells[1].text = str(row.count)
    cells = table.add_row().cells
    cells[0].text = _("Total")
    cells[1].text = str(total)
    for cell in cells:
        for run in cell.paragraphs[0].runs:
            run.bold = True


def _quote(end, links: _Links, quote: Quote, quote_style_id: str) -> None:
    """Add the quote's paragraphs before `end` (the body's last element, its section
    properties). Built as XML elements, in the
    schema's order, and added once each: python-docx's add_paragraph/add_run look up the style
    by name and the place of each child anew, which took most of a large pack's time."""
    paragraphs = []
    if quote.is_key:
        paragraphs.append(_paragraph([_run(_("Key quote"), bold=True)], keep_with_next=True))
    for text in quote.paragraphs:
        run = OxmlElement("w:r")
        for number, line in enumerate(text.split("\n")):
            if number:
                run.append(OxmlElement("w:br"))
            for position, piece in enumerate(line.split("\t")):
                if position:
                    run.append(OxmlElement("w:tab"))
                if piece:
                    run.append(_text(piece))
        paragraphs.append(_paragraph([run], style_id=quote_style_id, keep_with_next=True))
    paragraphs.append(_paragraph([_run("— " + attribution_line(quote))], keep_with_next=True))
    if quote.codes:
        codes = _("Analyst codes: %(codes)s") % {"codes": ", ".join(quote.codes)}
        paragraphs.append(_paragraph([_run(codes, half_points=18)], keep_with_next=True))
    hyperlink = _hyperlink(links.add(quote.permalink), quote.permalink)
    paragraphs.append(_paragraph([hyperlink], space_after_twips=280))
    for paragraph in paragraphs:
        end.addprevious(paragraph)


def _paragraph(
    children, *, style_id: str = "", keep_with_next: bool = False, space_after_twips: int = 0
):
    paragraph = OxmlElement("w:p")
    if style_id or keep_with_next or space_after_twips:
        properties = OxmlElement("w:pPr")  # pStyle, keepNext, spacing: the schema's order
        if style_id:
            properties.append(OxmlElement("w:pStyle", {qn("w:val"): style_id}))
        if keep_with_next:
            properties.append(OxmlElement("w:keepNext"))
        if space_after_twips:
            properties.append(OxmlElement("w:spacing", {qn("w:after"): str(space_after_twips)}))
        paragraph.append(properties)
    for child in children:
        paragraph.append(child)
    return paragraph


def _run(text: str, *, bold: bool = False, half_points: int = 0):
    run = OxmlElement("w:r")
    if bold or half_points:
        properties = OxmlElement("w:rPr")  # b before sz
        if bold:
            properties.append(OxmlElement("w:b"))
        if half_points:
            properties.append(OxmlElement("w:sz", {qn("w:val"): str(half_points)}))
        run.append(properties)
    run.append(_text(text))
    return run


def _text(text: str):
    element = OxmlElement("w:t", {qn("xml:space"): "preserve"})
    element.text = _xml_safe(text)
    return element


def attribution_line(quote: Quote) -> str:
    """Author, organisation, stakeholder type, date (UTC), question: the same on the page."""
    parts = [quote.author]
    if quote.organisation:
        parts.append(quote.organisation)
    parts.append(quote.stakeholder_label)
    parts.append(quote.created_at.strftime("%Y-%m-%d %H:%M UTC"))
    parts.append(_("Question %(number)s") % {"number": quote.question_number})
    return ", ".join(parts)


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text)
