"""CSV export: the same numbers as the series API, formula-safe cells, streamed long ranges."""

from __future__ import annotations

import io
import time

import numpy as np
import pandas as pd

from dashboard.export.csv import safe_text
from dashboard.metrics.model import Batch, SeriesKey, make_points
from tests.conftest import TOKEN


def _ingest(client, metrics) -> None:
    """Ingest through the API."""
    r = client.post(
        "/api/v1/ingest", json={"metrics": metrics}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert r.status_code == 202, r.get_data(as_text=True)


def test_csv_holds_the_numbers_the_series_api_returns(app, client):
    """pandas reads the export back to the API's points, raw and at a rollup step."""
    t0 = (int(time.time()) - 3600) // 60 * 60 * 1000
    values = [float(v) for v in np.round(np.random.default_rng(3).normal(50, 9, 600), 3)]
    _ingest(
        app.test_client(),
        [
            {
                "name": "exp.temp",
                "labels": {"room": "a"},
                "points": [[t0 + i * 1000, v] for i, v in enumerate(values)],
            }
        ],
    )
    start, end = t0, t0 + 599_000
    for step in ("raw", "1m"):
        api = client.get(
            f"/api/v1/series?name=exp.temp&labels=room:a&start={start}&end={end}"
            f"&step={step}&max_points=20000"
        ).get_json()
        response = client.get(
            f"/api/v1/export.csv?names=exp.temp&start={start}&end={end}&step={step}"
        )
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        frame = pd.read_csv(io.StringIO(response.get_data(as_text=True)))
        assert frame["ts_ms"].tolist() == [p[0] for p in api["points"]]
        assert frame["value"].tolist() == [p[1] for p in api["points"]]
        assert set(frame["labels"]) == {"room=a"}
        assert frame["time"].iloc[0].endswith("Z") and "T" in frame["time"].iloc[0]
        if step == "1m":
            assert frame["count"].tolist() == api["count"]
            assert frame["min"].tolist() == api["min"]


def test_each_row_names_its_series_unit(app, client):
    """The last column is the unit the series was sent with (empty without one), so a
    spreadsheet reads 0.153 as a ratio and 1234 as dollars an hour."""
    t0 = (int(time.time()) - 600) // 60 * 60 * 1000
    _ingest(
        app.test_client(),
        [
            {"name": "exp.errors", "unit": "ratio", "points": [[t0, 0.153], [t0 + 1000, 0.2]]},
            {"name": "exp.revenue", "unit": "USD/h", "points": [[t0, 1234.0]]},
            {"name": "exp.plain", "points": [[t0, 7.0]]},
        ],
    )
    for step in ("raw", "1m"):
        response = client.get(
            "/api/v1/export.csv?names=exp.errors,exp.revenue,exp.plain"
            f"&start={t0}&end={t0 + 60_000}&step={step}"
        )
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert text.splitlines()[0].split(",")[-1] == "unit"
        frame = pd.read_csv(io.StringIO(text), keep_default_na=False)
        units = dict(zip(frame["name"], frame["unit"], strict=True))
        assert units == {"exp.errors": "ratio", "exp.revenue": "USD/h", "exp.plain": ""}


def test_cells_a_spreadsheet_would_run_are_escaped(app, client):
    """Hostile label values come out as text, never as formulas."""
    now = int(time.time() * 1000)
    hostile = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "plain"]
    _ingest(
        app.test_client(),
        [
            {
                "name": "exp.evil",
                "labels": {"v": h.replace("\t", " ") if h == "\tx" else h},
                "points": [[now, 1.0]],
            }
            for h in hostile
        ],
    )
    text = client.get(f"/api/v1/export.csv?names=exp.evil&start={now - 1000}&end={now}").get_data(
        as_text=True
    )
    frame = pd.read_csv(io.StringIO(text))
    for cell in frame["labels"]:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert "v='=HYPERLINK" not in text  # the whole cell starts with the quote, not the label
    assert any(c == '\'v==HYPERLINK("http://evil")' or c.startswith("v=") for c in frame["labels"])
    assert safe_text("=1") == "'=1" and safe_text("-1") == "'-1" and safe_text("a=1") == "a=1"
    assert frame["value"].tolist() == [1.0] * len(hostile)


def test_a_seven_day_raw_export_is_streamed(app, client):
    """A week at 10 s is sent in pieces as it is read, every point exactly once."""
    rt = app.extensions["dashboard"]
    key = SeriesKey.of("exp.week")
    end = int(time.time()) * 1000
    ts = np.arange(end - 7 * 86_400_000, end, 10_000, dtype=np.int64)
    rt.bus.publish(Batch([make_points(key, ts, np.arange(ts.size, dtype=float))]))
    response = client.get(
        f"/api/v1/export.csv?series=exp.week&start={int(ts[0])}&end={end}&step=raw"
    )
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) > 100
    frame = pd.read_csv(
        io.StringIO("".join(c.decode() if isinstance(c, bytes) else c for c in chunks))
    )
    assert len(frame) == ts.size
    assert frame["ts_ms"].is_monotonic_increasing and frame["value"].iloc[-1] == ts.size - 1


def test_export_needs_a_session_and_valid_parameters(app, client):
    """Anonymous callers get 401; a bad step or no selection gets a 400 saying why."""
    assert app.test_client().get("/api/v1/export.csv?names=x").status_code == 401
    assert client.get("/api/v1/export.csv").status_code == 400
    bad = client.get("/api/v1/export.csv?names=x&step=2m")
    assert bad.status_code == 400 and "step" in bad.get_json()["detail"]


def test_each_widget_links_to_its_csv(app, client):
    """The page's widget menus link to exports of exactly what the widget shows."""
    import json
    import re

    now = int(time.time() * 1000)
    _ingest(app.test_client(), [{"name": "demo.active_users", "points": [[now, 1234.0]]}])
    layout = client.get("/_dash-layout").get_data(as_text=True)
    hrefs = [json.loads(f'"{h}"') for h in re.findall(r'"href":"([^"]+)"', layout)]
    links = [h for h in hrefs if h.startswith("/api/v1/export.csv?series=")]
    assert len(links) == 9  # one per widget of the default dashboard
    assert "/api/v1/export.csv?dashboard=default&start=now-24h&end=now" in hrefs  # the header
    users = next(link for link in links if "active_users" in link)
    frame = pd.read_csv(io.StringIO(client.get(users).get_data(as_text=True)))
    assert 1234.0 in frame["value"].tolist()
    assert set(frame["name"]) == {"demo.active_users"}


def test_absurd_ranges_are_refused_quickly(client):
    """Out-of-range times and raw exports over years get a 400, not a stuck worker."""
    for query in (
        "start=-9223372036854775808",
        "end=99999999999999999999999",
        "start=0&end=9007199254740991&step=raw",
    ):
        response = client.get(f"/api/v1/export.csv?names=x&{query}")
        assert response.status_code == 400, query
    assert client.get("/api/v1/export.csv?names=x&start=0&step=auto").status_code == 200
