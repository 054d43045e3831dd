"""Expression widgets through a real node: saved by the API, pushed live every second, exported
as CSV with the values the Prometheus API gives, refused with the parser's words."""

from __future__ import annotations

import csv
import io
import time

import pytest
from pypdf import PdfReader

from dashboard.boards.exprs import expr_name
from dashboard.clock import now_ms
from dashboard.live.socket import feed_expressions
from dashboard.metrics.steps import MINUTE, SECOND

NAMESPACE = "/live"
RATE = "sum by (route) (rate(req_total[5m]))"


@pytest.fixture
def t0() -> int:
    """The start of the data: a whole minute 20 minutes ago."""
    return (now_ms() - 20 * MINUTE) // MINUTE * MINUTE


@pytest.fixture
def loaded(client, auth_headers, t0):
    """Counters of two routes (+1 and +2 every 15 s, one with a restart) and a board of their
    rates."""
    metrics = []
    for route, slope in (("/a", 1.0), ("/b", 2.0)):
        values = [slope * i for i in range(80)]
        if route == "/b":
            values = values[:40] + [slope * i for i in range(40)]  # a restart halfway
        points = [[t0 + i * 15 * SECOND, v] for i, v in enumerate(values)]
        metrics.append({"name": "req_total", "labels": {"route": route}, "points": points})
    response = client.post("/api/v1/ingest", json={"metrics": metrics}, headers=auth_headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    board = {
        "id": "rates",
        "title": "Rates",
        "widgets": [
            {
                "id": "rate",
                "kind": "line",
                "title": "Requests per second",
                "series": [{"expr": RATE, "legend": "{{route}}"}],
            }
        ],
    }
    created = client.post("/api/v1/dashboards", json=board)
    assert created.status_code == 201, created.get_data(as_text=True)
    return client


def test_a_bad_expression_is_refused_with_its_position(client):
    """Saving a widget whose expression does not parse: 400 naming the field and the char."""
    board = {
        "id": "bad",
        "title": "Bad",
        "widgets": [{"id": "w", "kind": "line", "title": "W", "series": [{"expr": "rate(x[5m]"}]}],
    }
    response = client.post("/api/v1/dashboards", json=board)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "widgets[0].series[0].expr" in text and "parse error at char" in text


def test_the_live_feed_pushes_an_expressions_value_each_second(app, loaded, t0):
    """A viewer of the board gets the rate of each route in its ``points`` messages, under the
    keys its chart's traces have (``expr_<hash>{route=...}``)."""
    sio = app.extensions["socketio"].test_client(app, namespace=NAMESPACE, flask_test_client=loaded)
    try:
        ack = sio.emit("subscribe", {"dashboard": "rates"}, namespace=NAMESPACE, callback=True)
        assert "error" not in ack, ack
        rt = app.extensions["dashboard"]
        namespace = app.extensions["live_namespace"]
        at = t0 + 19 * 60 * SECOND  # within the data (last point at t0 + 79 * 15 s)
        assert feed_expressions(rt, namespace.emitter, at) == 2
        received: dict[str, list] = {}
        deadline = time.monotonic() + 2.0
        while len(received) < 2 and time.monotonic() < deadline:
            for packet in sio.get_received(NAMESPACE):
                if packet["name"] == "points":
                    received.update(packet["args"][0]["series"])
            time.sleep(0.01)
        name = expr_name(RATE)
        assert received[f'{name}{{route="/a"}}'] == [[at, pytest.approx(1 / 15)]]
        assert received[f'{name}{{route="/b"}}'] == [[at, pytest.approx(2 / 15)]]
    finally:
        sio.disconnect(namespace=NAMESPACE)


def test_the_csv_of_an_expression_holds_what_the_prometheus_api_answers(loaded, t0):
    """``export.csv?query=`` at 1m: one row a step and route, equal to ``query_range``."""
    start, end = t0 + 6 * MINUTE, t0 + 18 * MINUTE
    got = loaded.get(
        "/api/v1/export.csv",
        query_string={"query": RATE, "start": str(start), "end": str(end), "step": "1m"},
    )
    assert got.status_code == 200, got.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(got.get_data(as_text=True))))
    assert {r["name"] for r in rows} == {RATE}
    api = loaded.get(
        "/prometheus/api/v1/query_range",
        query_string={"query": RATE, "start": start / 1000, "end": end / 1000, "step": "60"},
    ).get_json()["data"]["result"]
    expected = {
        (r["metric"]["route"], int(float(t) * 1000)): float(v) for r in api for t, v in r["values"]
    }
    exported = {(r["labels"].split("=", 1)[1], int(r["ts_ms"])): float(r["value"]) for r in rows}
    assert exported == pytest.approx(expected)
    assert len(exported) == 2 * 13
    bad = loaded.get("/api/v1/export.csv", query_string={"query": "sum(", "start": str(start)})
    assert bad.status_code == 400 and "parse error" in bad.get_data(as_text=True)


def test_the_page_draws_the_expression_with_its_legend(loaded):
    """The dashboard's page renders the expression's series as traces named by the legend."""
    rt = loaded.application.extensions["dashboard"]
    from dashboard.boards import service

    board = service.get_dashboard(store=rt.dashboards, dashboard_id="rates")
    view = service.read_board(
        reader=rt,
        dashboard=board,
        rng={"from": "now-1h", "to": "now"},
        live=True,
        now=now_ms(),
        cursor=rt.hub.cursor,
        deferred=lambda _w: False,
    )
    [widget] = view.widgets
    assert not widget.error
    assert [f.key.label_dict for f in widget.frames] == [{"route": "/a"}, {"route": "/b"}]
    page = loaded.get("/?dashboard=rates")
    assert page.status_code == 200


@pytest.mark.serial  # alone: Chromium renders for it while no other report is being drawn
def test_the_pdf_report_of_an_expression_widget_summarises_its_result(loaded, t0):
    """``export.pdf`` of the board: the widget's page draws the expression and its table has a
    row per route (named by the legend) with the rate's last value; the counter's restart on
    /b shows as no negative rate."""
    start, end = t0 + 6 * MINUTE, t0 + 18 * MINUTE
    response = loaded.get(f"/api/v1/export.pdf?dashboard=rates&start={start}&end={end}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1 + 1 + 1  # title, the widget, the alerts
    page = reader.pages[1]
    text = page.extract_text()
    assert "Requests per second" in text
    assert list(page.images), "the expression's chart is drawn on its page"
    cells = text.split("\n")  # the table's cells, one a line: series, min, max, mean, last
    rows = {cell: cells[i + 1 : i + 5] for i, cell in enumerate(cells) if cell in ("/a", "/b")}
    assert set(rows) == {"/a", "/b"}
    for route, slope in (("/a", 1.0), ("/b", 2.0)):
        low, _high, _mean, last = (float(x) for x in rows[route])
        assert low >= 0  # a counter's restart is no drop in its rate
        assert last == pytest.approx(slope / 15, rel=0.02)
