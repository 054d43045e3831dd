"""The PDF report: it parses, has a page per widget, names the series and the alerts."""

from __future__ import annotations

import io
import time

import pytest
from pypdf import PdfReader

from dashboard.app import create_app
from ingest.demo_data import DemoSource
from tests.conftest import ADMIN_PASSWORD, sign_in


@pytest.fixture
def demo_app(settings):
    """A node holding two hours of demo data and one alert that fired and resolved."""
    app = create_app(settings)
    rt = app.extensions["dashboard"]
    now = int(time.time()) * 1000
    rt.bus.publish(DemoSource().backfill(now - 2 * 3_600_000, now, 30_000))
    yield app
    rt.close()


def test_report_has_a_title_page_a_page_per_widget_and_the_alerts(demo_app):
    """Title page, nine widget pages, an alerts page; series names and events in the text."""
    client = sign_in(demo_app.test_client(), "admin", ADMIN_PASSWORD)
    rule = {
        "id": "users-high",
        "name": "Users <script>alert(1)</script>",
        "condition": "above",
        "threshold": 1_000_000,
        "severity": "error",
        "series": {"name": "demo.active_users"},
    }
    assert client.post("/api/v1/alerts/rules", json=rule).status_code == 201
    now = int(time.time()) * 1000
    body = {
        "metrics": [
            {"name": "demo.active_users", "points": [[now + 1000, 2_000_000.0], [now + 2000, 5.0]]}
        ]
    }
    ingest = demo_app.test_client().post(
        "/api/v1/ingest", json=body, headers={"Authorization": "Bearer test-ingest-token"}
    )
    assert ingest.status_code == 202
    started = time.monotonic()
    response = client.get(
        f"/api/v1/export.pdf?dashboard=default&start={now - 7_200_000}&end={now + 5000}"
    )
    print(f"report of 9 widgets: {time.monotonic() - started:.1f} s")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1 + 9 + 1
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "SaaS overview" in text and "by admin" in text
    for name in (
        "demo.active_users",
        "demo.error_rate",
        'demo.health{service="api"}',
        'demo.requests{route="/login"}',
    ):
        assert name in text, name
    assert "Users <script>alert(1)</script>" in text  # printed as text
    assert "firing" in text and "resolved" in text
    images = sum(len(page.images) for page in reader.pages)
    assert images == 8  # every widget but the status table is a chart


def test_without_chromium_the_api_says_how_to_get_it(settings):
    """No browser on the server: a 503 that names what to install."""
    settings.chromium_path = "/nonexistent/chromium"
    app = create_app(settings)
    client = sign_in(app.test_client(), "admin", ADMIN_PASSWORD)
    response = client.get("/api/v1/export.pdf?dashboard=default")
    assert response.status_code == 503
    assert "apt-get install chromium" in response.get_json()["detail"]
    app.extensions["dashboard"].close()


def test_refusals_say_why_in_the_api_shape(demo_app, settings):
    """Unknown dashboard 404, an empty range 400; without Chromium a 503 comes first, with a
    Retry-After."""
    client = sign_in(demo_app.test_client(), "admin", ADMIN_PASSWORD)
    missing = client.get("/api/v1/export.pdf?dashboard=nope")
    assert missing.status_code == 404
    assert missing.get_json() == {"error": "unknown dashboard", "detail": "nope"}
    empty = client.get("/api/v1/export.pdf?start=1000&end=1000")
    assert empty.status_code == 400
    assert empty.get_json() == {"error": "bad parameter", "detail": "start: must be before end"}
    settings.chromium_path = "/nonexistent/chromium"
    app = create_app(settings)
    client = sign_in(app.test_client(), "admin", ADMIN_PASSWORD)
    response = client.get("/api/v1/export.pdf?dashboard=nope&start=x")
    assert response.status_code == 503 and "Retry-After" in response.headers
    assert response.get_json()["error"] == "PDF export unavailable"
    app.extensions["dashboard"].close()


def test_report_needs_a_session(demo_app):
    """Anonymous callers get 401."""
    assert demo_app.test_client().get("/api/v1/export.pdf").status_code == 401
