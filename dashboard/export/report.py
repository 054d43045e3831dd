"""The PDF report of a dashboard, assembled with reportlab (no web, no rendering here).

Every text that comes from data (titles, series names, labels, rule names) is escaped before
it reaches reportlab's paragraph markup, so a hostile label is printed, never interpreted.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape  # nosec B406 # escapes text for reportlab; parses no XML

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import StyleSheet1, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from dashboard.boards.units import format_number


@dataclass
class Section:
    """One widget: its title, its chart as PNG (if it has one), a summary row per series."""

    title: str
    image: bytes | None = None
    rows: list[tuple[str, float, float, float, float]] = field(default_factory=list)
    note: str = ""
    fmt: dict[str, Any] = field(default_factory=dict)  # the widget's number format


def _fmt(value: float, fmt: dict[str, Any] | None = None) -> str:
    """A number for the summary tables: in the widget's format (15.3%, $1,234/h) when it has
    one, else with 4 significant digits."""
    if fmt:
        return format_number(value, fmt)
    return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"


def _table(header: list[str], rows: list[list[str]]) -> Table:
    """A plain, striped table; its cells are text, not markup."""
    table = Table([header, *rows], repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#111827")),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f3f4f6")]),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#d1d5db")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def build_pdf(
    *,
    title: str,
    range_text: str,
    generated: str,
    user: str,
    sections: list[Section],
    alerts: list[dict[str, object]],
) -> bytes:
    """The report as PDF bytes: a title page, a page per widget, the alerts of the range."""
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        title=title,
        author=user,
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.2 * cm,
        bottomMargin=1.2 * cm,
    )
    story: list[object] = [
        Spacer(1, 4 * cm),
        Paragraph(escape(title), styles["Title"]),
        Paragraph(f"Range: {escape(range_text)}", styles["Normal"]),
        Paragraph(f"Generated {escape(generated)} by {escape(user)}", styles["Normal"]),
        Paragraph(
            f"{len(sections)} widgets; {len(alerts)} alert events in the range.", styles["Normal"]
        ),
    ]
    for section in sections:
        story += _section_page(section, doc.width, styles)
    story += _alerts_page(alerts, styles)
    doc.build(story)
    return out.getvalue()


def _section_page(section: Section, width: float, styles: StyleSheet1) -> list[object]:
    """A widget's page: its title, its chart scaled to the page, its note and summary table."""
    story: list[object] = [PageBreak(), Paragraph(escape(section.title), styles["Heading2"])]
    if section.image:
        image = Image(io.BytesIO(section.image))
        scale = min(width / image.imageWidth, 11 * cm / image.imageHeight)
        image.drawWidth, image.drawHeight = image.imageWidth * scale, image.imageHeight * scale
        story.append(image)
    if section.note:
        story.append(Paragraph(escape(section.note), styles["Italic"]))
    if section.rows:
        story += [
            Spacer(1, 0.3 * cm),
            _table(
                ["Series", "Min", "Max", "Mean", "Last"],
                [
                    [name, *(_fmt(v, section.fmt) for v in (mn, mx, mean, last))]
                    for name, mn, mx, mean, last in section.rows
                ],
            ),
        ]
    return story


def _alerts_page(alerts: list[dict[str, object]], styles: StyleSheet1) -> list[object]:
    """The last page: a row per alert event of the range, or a line saying there was none."""
    story: list[object] = [PageBreak(), Paragraph("Alerts in the range", styles["Heading2"])]
    if not alerts:
        story.append(Paragraph("No alert events in this range.", styles["Normal"]))
        return story
    story.append(
        _table(
            ["Time (UTC)", "Rule", "Series", "State", "Value", "Severity"],
            [
                [
                    str(a["time"]),
                    str(a["rule"]),
                    str(a["series"]),
                    str(a["state"]),
                    "no data" if a["value"] is None else f"{a['value']:g}",
                    str(a["severity"]),
                ]
                for a in alerts
            ],
        )
    )
    return story
