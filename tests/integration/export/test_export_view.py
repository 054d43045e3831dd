"""The header's exports take the page's own URL query (``view``): the same dashboard, range and
label filter the page shows, read by the same parser; the export says what it holds."""

from __future__ import annotations

import csv
import io
import time
from urllib.parse import quote

from pypdf import PdfReader

from tests.conftest import ADMIN_PASSWORD, sign_in
from tests.integration.export.test_export_pdf import demo_app  # noqa: F401 - fixture


def rows(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """The CSV's records."""
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_csv_holds_the_pages_dashboard_range_and_filter(demo_app):  # noqa: F811
    """``?dashboard=default&range=1h&filter=route=/login``: only that route's requests (and
    the series without the label are left out, as the page leaves them), over the last hour."""
    client = sign_in(demo_app.test_client(), "admin", ADMIN_PASSWORD)
    now = int(time.time() * 1000)
    page = "?dashboard=default&range=1h&filter=route=/login"
    got = client.get("/api/v1/export.csv?view=" + quote(page))
    assert got.status_code == 200, got.get_data(as_text=True)
    records = rows(got)
    assert {r["series"] for r in records} == {'demo.requests{route="/login"}'}
    assert min(int(r["ts_ms"]) for r in records) >= now - 3_600_000 - 60_000
    view = got.headers["X-Export-View"]
    assert view.startswith("dashboard=default; start=") and view.endswith("filter=route=/login")
    assert "; step=raw;" in view  # the step a chart of the last hour reads, as the page does
    assert 'filename="default-' in got.headers["Content-Disposition"]
    whole = rows(client.get("/api/v1/export.csv?view=" + quote("?range=1h")))
    assert len({r["series"] for r in whole}) > 5  # without a filter: every series of the board


def test_the_pdf_report_follows_the_pages_filter(demo_app):  # noqa: F811
    """The report of a filtered page names the filter and only the series it leaves."""
    client = sign_in(demo_app.test_client(), "admin", ADMIN_PASSWORD)
    page = "?dashboard=default&range=1h&filter=route=/login"
    response = client.get("/api/v1/export.pdf?view=" + quote(page))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "filter route=/login" in text
    assert 'demo.requests{route="/login"}' in text
    assert 'demo.requests{route="/api"}' not in text and "demo.active_users" not in text
