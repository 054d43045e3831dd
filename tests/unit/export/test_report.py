"""The PDF report (pure): a title page, a page per widget, the alerts; data printed, not run."""

from __future__ import annotations

import io

from pypdf import PdfReader

from dashboard.export.report import Section, build_pdf


def text_of(pdf: bytes) -> tuple[int, str]:
    """The page count and the text of a PDF."""
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def report(sections: list[Section], alerts: list[dict[str, object]]) -> bytes:
    """A report over a fixed range, by ann."""
    return build_pdf(
        title="Ops <font size=40>",
        range_text="2025-11-29T13:00:00.000Z to 2025-11-29T14:00:00.000Z",
        generated="2025-11-29T14:00:05.000Z",
        user="ann & co",
        sections=sections,
        alerts=alerts,
    )


def test_a_page_per_widget_with_its_summary_and_markup_printed_as_text():
    """Titles, series names and notes holding markup are printed as written."""
    sections = [
        Section("Requests <b>", rows=[('req{route="<i>"}', 1.0, 2_000_000.0, 1.5, 2.0)]),
        Section("Health", note="Shown as a table: this widget has no chart."),
    ]
    pages, text = text_of(report(sections, []))
    assert pages == 1 + 2 + 1
    assert "Ops <font size=40>" in text and "by ann & co" in text
    assert "2 widgets; 0 alert events in the range." in text
    assert "Requests <b>" in text and 'req{route="<i>"}' in text and "2,000,000" in text
    assert "No alert events in this range." in text


def test_the_alerts_page_lists_each_event():
    """A row per event; an event without a value says so."""
    alerts: list[dict[str, object]] = [
        {
            "time": "2025-11-29 13:30:00",
            "rule": "CPU <high>",
            "series": "cpu",
            "state": "firing",
            "value": 97.5,
            "severity": "error",
        },
        {
            "time": "2025-11-29 13:40:00",
            "rule": "CPU <high>",
            "series": "cpu",
            "state": "resolved",
            "value": None,
            "severity": "error",
        },
    ]
    _pages, text = text_of(report([], alerts))
    assert "CPU <high>" in text and "97.5" in text and "no data" in text
    assert "firing" in text and "resolved" in text
