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
from docx.shared import Pt, RGBColor
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
    hyperlink = OxmlElement("w:hyperlink")
    hyperlink.set(qn("r:id"), r_id)
    run = OxmlElement("w:r")
    properties = OxmlElement("w:rPr")
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), str(LINK_COLOUR))
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    properties.append(colour)
    properties.append(underline)
    run.append(properties)
    text_element = OxmlElement("w:t")
    text_element.text = _xml_safe(text if text is not None else url)
    text_element.set(qn("xml:space"), "preserve")
    run.append(text_element)
    hyperlink.append(run)
    paragraph._p.append(hyperlink)
    return hyperlink


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

    if not pack.groups:
        document.add_paragraph(_("No published comment is tagged with this objective."))
    for group in pack.groups:
        document.add_heading(
            _xml_safe(f"{group.label} ({len(group.quotes)})"),
            level=1,
        )
        for quote in group.quotes:
            _quote(document, quote)

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


def _quote(document, quote: Quote) -> None:
    if quote.is_key:
        marker = document.add_paragraph()
        marker.paragraph_format.keep_with_next = True
        run = marker.add_run(_("Key quote"))
        run.bold = True
    for text in quote.paragraphs:
        paragraph = document.add_paragraph(style="Quote")
        paragraph.paragraph_format.keep_with_next = True
        lines = text.split("\n")
        run = paragraph.add_run(_xml_safe(lines[0]))
        for line in lines[1:]:
            run.add_break()
            run = paragraph.add_run(_xml_safe(line))
    attribution = document.add_paragraph()
    attribution.paragraph_format.keep_with_next = True
    attribution.add_run(_xml_safe("— " + attribution_line(quote)))
    if quote.codes:
        codes = document.add_paragraph()
        codes.paragraph_format.keep_with_next = True
        run = codes.add_run(
            _xml_safe(_("Analyst codes: %(codes)s") % {"codes": ", ".join(quote.codes)})
        )
        run.font.size = Pt(9)
    link = document.add_paragraph()
    link.paragraph_format.space_after = Pt(14)
    add_hyperlink(link, quote.permalink)


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
