"""The insights page's charts, drawn on the server as SVG with pygal and inlined in the page.

No JavaScript (pygal's tooltips and its config <script> are left out), no external fonts (our
system font stack), our colours. The SVG is an image with a name (role="img", aria-label, and its
<title>); the page puts it in a <figure> with a caption and follows it with the same numbers as a
table, which is what screen readers and a phone's narrow screen read.

pygal escapes every text it writes (lxml): a question's text or an organisation's name cannot
open an element. `_sanitise` still drops any <script> from the tree before it is written.
"""

import pygal
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from pygal.style import Style

from .stats import Insights, Table, Timeline

# site.css tokens: --c-primary, a lighter blue for the other objectives, the warning ink for the
# closing period; text and guides in --c-text and --c-border.
PRIMARY = "#0b4f8a"
SECONDARY = "#6b9ac4"
CLOSING = "#b35c00"
TEXT = "#1b1f23"
FONT = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", Arial, '
    "sans-serif"
)


def _style(*colours: str) -> Style:
    return Style(
        font_family=FONT,
        background="transparent",
        plot_background="#ffffff",
        foreground=TEXT,
        foreground_strong=TEXT,
        foreground_subtle="#d5dbe1",
        colors=colours,
        opacity="1",
        opacity_hover="1",
        transition="0s",
        title_font_size=20,
        label_font_size=16,
        major_label_font_size=16,
        legend_font_size=16,
        value_font_size=16,
        tooltip_font_size=16,
        no_data_font_size=24,
    )


# The series' colours, in the order charts add them.
TIMELINE_STYLE = _style(PRIMARY, CLOSING)  # comments, then the closing period
BARS_STYLE = _style(PRIMARY, SECONDARY)  # objectives in focus, then the others


def _sanitise(label: str):
    """An xml_filter: no <script> (pygal always writes its config in one), and the root named
    as an image (role, aria-label) with `label` as its <title>."""

    def apply(root):
        for parent in list(root.iter()):
            for child in list(parent):
                tag = child.tag if isinstance(child.tag, str) else ""
                if tag.rsplit("}", 1)[-1] == "script":
                    parent.remove(child)
                elif tag.rsplit("}", 1)[-1] == "title" and parent is root:
                    child.text = label
        root.set("role", "img")
        root.set("aria-label", label)
        return root

    return apply


def _config(**options) -> dict:
    return {
        "js": [],
        "disable_xml_declaration": True,
        "style": BARS_STYLE,
        "show_legend": False,
        "print_values": False,
        "tooltip_fancy_mode": False,
        "truncate_label": -1,
        "truncate_legend": -1,
        "width": 640,
        "no_data_text": _("No comments"),
        "margin": 12,
        **options,
    }


def _render(chart, label: str) -> SafeString:
    chart.add_xml_filter(_sanitise(label))
    # pygal escaped every text in the tree (lxml); what it returns is markup we made.
    return mark_safe(chart.render(is_unicode=True))  # noqa: S308


def timeline_chart(timeline: Timeline, label: str) -> SafeString:
    """Comments and replies per day or week, the closing period's bar in its own colour."""
    many = len(timeline.periods) > 8
    chart = pygal.StackedBar(
        **_config(
            style=TIMELINE_STYLE,
            height=380,
            show_legend=timeline.closing_period is not None,
            legend_at_bottom=True,
            x_label_rotation=-45 if many else 0,
            show_minor_x_labels=not many,
            x_labels_major_every=max(1, len(timeline.periods) // 12) if many else None,
            show_y_guides=True,
            min_scale=1,
            max_scale=6,
        )
    )
    chart.x_labels = [date_format(p.start, "j M") for p in timeline.periods]
    closing = _("Week of the closing date") if timeline.unit == "week" else _("Closing date")
    chart.add(
        _("Comments and replies"),
        [None if p.closes else p.count for p in timeline.periods],
    )
    if timeline.closing_period is not None:
        chart.add(closing, [p.count if p.closes else None for p in timeline.periods])
    return _render(chart, label)


def bar_chart(table: Table, label: str, *, column: int = 0, focus: bool = False) -> SafeString:
    """One column of a table as horizontal bars, a bar a row; with focus, the objectives in
    focus in the primary colour and the others lighter (a legend says which)."""
    rows = table.rows
    chart = pygal.HorizontalStackedBar(
        **_config(
            height=90 + 30 * len(rows),
            show_legend=focus,
            legend_at_bottom=True,
            show_x_guides=True,
            show_y_guides=False,
            min_scale=1,
            max_scale=6,
        )
    )
    # Horizontal bars draw the first label at the bottom: reversed, the chart reads like the table.
    rows = list(reversed(rows))
    chart.x_labels = [row.label for row in rows]
    if focus:
        chart.add(_("In focus"), [r.values[column] if r.in_focus else None for r in rows])
        chart.add(_("Other objectives"), [None if r.in_focus else r.values[column] for r in rows])
    else:
        chart.add(table.columns[column], [row.values[column] for row in rows])
    return _render(chart, label)


def overview_charts(insights: Insights) -> dict[str, SafeString]:
    return {
        "timeline": timeline_chart(
            insights.timeline,
            _("Bar chart: comments and replies per week")
            if insights.timeline.unit == "week"
            else _("Bar chart: comments and replies per day"),
        ),
        "stakeholders": bar_chart(
            insights.by_stakeholder, _("Bar chart: comments and replies by stakeholder type")
        ),
        "objectives": bar_chart(
            insights.by_objective,
            _("Bar chart: comments and replies per GCM objective, those in focus first"),
            focus=True,
        ),
    }
