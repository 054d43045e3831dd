"""``dashboard db copy``: a populated embedded install moves to PostgreSQL whole (users sign in
with their old passwords, tokens work, dashboards, rules with their webhooks, events, metadata
and every point are there), a second run copies nothing twice, and a destination row that
differs is refused unless ``--overwrite``."""

from __future__ import annotations

import time

import psycopg

from dashboard.app import create_app
from dashboard.boards.models import default_dashboard
from dashboard.cli import main
from dashboard.settings import Settings
from tests.conftest import ADMIN_PASSWORD, sign_in
from tests.integration.metrics.test_postgres_store import url_with_schema

OLD_PASSWORD = "ada-old-password-1234"
NEW_SECRET = "the-new-nodes-secret-key-long-enough-for-hs256"
WEBHOOK = "https://hooks.example.com/services/T000/B000/webhookSECRETpart"
RULE = {
    "id": "errors-high",
    "name": "Errors high",
    "condition": "above",
    "threshold": 0.05,
    "for_s": 0,
    "series": {"name": "svc.error_rate", "labels": {}},
    "webhook": WEBHOOK,
}
APP_TABLES = (
    "users",
    "ingest_tokens",
    "revoked_tokens",
    "dashboards",
    "alert_rules",
    "alert_events",
    "metric_metadata",
)
SERIES = (("jobs_total", "queue:a"), ("svc.error_rate", ""), ("build_queue_depth", ""))


def _ingest(client, token: str, name: str, points: list[list[float]], **extra) -> None:
    """POST one series' points with a bearer token; they must be taken."""
    response = client.post(
        "/api/v1/ingest",
        json={"metrics": [{"name": name, "points": points, **extra}]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 202, response.get_data(as_text=True)


def _points(client, name: str, labels: str, start: int, end: int) -> list[list[float]]:
    """A series' raw points through the API."""
    response = client.get(
        "/api/v1/series",
        query_string={"name": name, "labels": labels, "start": start, "end": end, "step": "raw"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["points"]


def _populate(settings: Settings, t0: int) -> dict:
    """An embedded install with a user, two tokens, a dashboard, a rule with a webhook (and
    an event, a snooze), a revoked session, metadata and points (a counter reset and
    out-of-order timestamps); what was made, and every series' points as the API reads them."""
    app = create_app(settings)
    try:
        admin = sign_in(app.test_client(), "admin", ADMIN_PASSWORD)
        user = {"username": "ada", "password": OLD_PASSWORD, "role": "editor"}
        assert admin.post("/api/v1/users", json=user).status_code == 201
        tokens = {}
        for name, scope in (("producer", "ingest"), ("grafana", "read")):
            response = admin.post("/api/v1/tokens", json={"name": name, "scope": scope})
            assert response.status_code == 201
            tokens[scope] = response.get_json()["token"]
        board = {**default_dashboard(), "id": "ops", "title": "Operations"}
        assert admin.post("/api/v1/dashboards", json=board).status_code == 201
        assert admin.put("/api/v1/dashboards/ops/star").status_code == 200
        assert admin.put("/api/v1/users/me/home", json={"dashboard": "ops"}).status_code == 200
        assert admin.post("/api/v1/alerts/rules", json=RULE).status_code == 201
        snoozed = admin.post("/api/v1/alerts/rules/errors-high/snooze", json={"minutes": 60})
        assert snoozed.status_code == 200
        producer = app.test_client()
        # a counter sent out of order, with a reset (9 -> 1), and a late point in between
        jobs = [[t0 + 3000, 9], [t0, 5], [t0 + 4000, 1], [t0 + 1000, 7]]
        _ingest(producer, tokens["ingest"], "jobs_total", jobs, labels={"queue": "a"})
        _ingest(
            producer,
            tokens["ingest"],
            "jobs_total",
            [[t0 + 2000, 8], [t0 + 5000, 3]],
            labels={"queue": "a"},
        )
        _ingest(producer, tokens["ingest"], "svc.error_rate", [[t0, 0.01], [t0 + 1000, 0.5]])
        exposition = (
            "# HELP build_queue_depth Builds waiting.\n# TYPE build_queue_depth gauge\n"
            f"build_queue_depth 4 {t0}\nbuild_queue_depth 6 {t0 + 1000}\n"
        )
        response = producer.post(
            "/api/v1/ingest/prometheus",
            data=exposition,
            headers={"Authorization": f"Bearer {tokens['ingest']}"},
        )
        assert response.status_code == 202, response.get_data(as_text=True)
        ada = sign_in(app.test_client(), "ada", OLD_PASSWORD)
        assert ada.post("/api/v1/auth/logout").status_code in (200, 204)  # a revoked session
        points = {
            (name, labels): _points(admin, name, labels, t0 - 1000, t0 + 10_000)
            for name, labels in SERIES
        }
        assert [p[1] for p in points[("jobs_total", "queue:a")]] == [5, 7, 8, 9, 1, 3]
        assert admin.get("/api/v1/alerts/events").get_json()["events"]
    finally:
        app.extensions["dashboard"].close()
    return {"tokens": tokens, "board": board, "points": points}


def _counts(url: str) -> dict[str, int]:
    """Rows per app table, the series, and the points of a PostgreSQL schema (in its head and
    in its chunks)."""
    with psycopg.connect(url) as conn:
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in (*APP_TABLES, "series")
        }
        counts["points"] = conn.execute(
            "SELECT (SELECT count(*) FROM points) + (SELECT coalesce(sum(count), 0) FROM chunks)"
        ).fetchone()[0]
        return counts


def _summary(out: str) -> dict[str, str]:
    """The summary's lines by what they are about (a table, ``secrets``, ``history``)."""
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def _copy(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``dashboard db copy`` in process; its exit code, stdout and stderr."""
    code = main(["db", "copy", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_embedded_install_moves_to_postgres_whole(
    tmp_path, postgres_schema, monkeypatch, capsys
):
    """Copy, copy again, then a node on PostgreSQL serves the old install's everything."""
    url, schema = postgres_schema
    pg_url = url_with_schema(url, schema)
    old_dir = tmp_path / "old"
    # the embedded default: no DASHBOARD_SECRET_KEY, the secret kept in the data folder
    old = Settings(
        _env_file=None,
        data_dir=old_dir,
        demo=False,
        admin_user="admin",
        admin_password=ADMIN_PASSWORD,
    )
    t0 = (int(time.time()) - 600) * 1000
    made = _populate(old, t0)
    assert (old_dir / "secret_key").is_file()

    # the new nodes' environment: their own secret, another data folder (no .env read)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DASHBOARD_SECRET_KEY", NEW_SECRET)
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path / "new"))
    source = f"sqlite:///{old_dir / 'dashboard.db'}"

    # a wrong old secret is refused before anything is written
    wrong = tmp_path / "wrong_secret"
    wrong.write_text("not-the-old-secret\n")
    code, _, err = _copy(capsys, "--from", source, "--to", pg_url, "--from-secret-file", str(wrong))
    assert code == 1 and "--from-secret-file" in err
    assert _counts(pg_url)["users"] == 0

    code, out, err = _copy(capsys, "--from", source, "--to", pg_url, "--history")
    assert code == 0, err
    lines = _summary(out)
    assert lines["users"] == "2 new, 0 unchanged", out
    assert lines["ingest_tokens"] == "2 new, 0 unchanged", out
    assert lines["dashboards"] == "2 new, 0 unchanged", out  # the default one and "ops"
    assert lines["alert_rules"] == lines["alert_events"] == "1 new, 0 unchanged", out
    assert lines["revoked_tokens"] == "2 new, 0 unchanged", out  # the access and refresh ids
    assert lines["dashboard_stars"] == lines["user_home"] == "1 new, 0 unchanged", out
    assert f"opened with {old_dir / 'secret_key'}, sealed again with DASHBOARD_SECRET_KEY" in out
    assert "history: 3 series, 10 points copied (10 new in the destination)" in out
    assert "history:" in err and "100.0%" in err  # the progress line
    first = _counts(pg_url)
    assert first["users"] == 2 and first["ingest_tokens"] == 2 and first["points"] == 10
    assert first["alert_events"] >= 1 and first["metric_metadata"] >= 1

    # again: nothing new, nothing duplicated
    code, out, err = _copy(capsys, "--from", source, "--to", pg_url, "--history")
    assert code == 0, err
    assert "users: 0 new, 2 unchanged" in out and "alert_rules: 0 new, 1 unchanged" in out
    assert "(0 new in the destination)" in out
    again = {k: v for k, v in _summary(out).items() if k not in ("secrets", "history")}
    assert all(v.startswith("0 new,") for v in again.values()), out
    assert _counts(pg_url) == first

    new = Settings(
        _env_file=None,
        data_dir=tmp_path / "new",
        database_url=pg_url,
        secret_key=NEW_SECRET,
        demo=False,
    )
    app = create_app(new)
    try:
        ada = sign_in(app.test_client(), "ada", OLD_PASSWORD)
        assert ada.get("/api/v1/auth/me").get_json()["user"]["role"] == "editor"
        assert ada.get("/api/v1/dashboards/ops").get_json() == made["board"]
        rt = app.extensions["dashboard"]
        assert rt.dashboards.stars("admin") == {"ops"} and rt.dashboards.home("admin") == "ops"
        rule = rt.alerts.store.get_rule("errors-high")
        assert rule is not None and rule.webhook == WEBHOOK
        assert rt.alerts.store.snoozed_until("errors-high") > t0
        with psycopg.connect(pg_url) as conn:
            (body,) = conn.execute("SELECT CAST(body AS TEXT) FROM alert_rules").fetchone()
        assert "webhookSECRET" not in body and "enc:v1:" in body
        assert ada.get("/api/v1/alerts/events").get_json()["events"][0]["rule_id"] == "errors-high"
        for (name, labels), points in made["points"].items():
            assert _points(ada, name, labels, t0 - 1000, t0 + 10_000) == points, name
        metrics = {m["key"]: m for m in ada.get("/api/v1/metrics").get_json()["series"]}
        assert metrics["build_queue_depth"].get("type") == "gauge"
        # the old tokens work, each for its own scope
        _ingest(app.test_client(), made["tokens"]["ingest"], "svc.error_rate", [[t0 + 9000, 0]])
        read = app.test_client().get(
            "/prometheus/api/v1/query",
            query_string={"query": "build_queue_depth", "time": (t0 + 1000) / 1000},
            headers={"Authorization": f"Bearer {made['tokens']['read']}"},
        )
        assert read.status_code == 200, read.get_data(as_text=True)

        # a destination row that differs: refused (nothing written), then replaced on request
        changed = {**made["board"], "title": "Operations, renamed on the new node"}
        assert ada.put("/api/v1/dashboards/ops", json=changed).status_code == 200
        code, out, err = _copy(capsys, "--from", source, "--to", pg_url)
        assert code == 1 and "dashboards: id='ops'" in err and "--overwrite" in err
        assert ada.get("/api/v1/dashboards/ops").get_json()["title"] == changed["title"]
        code, out, err = _copy(capsys, "--from", source, "--to", pg_url, "--overwrite")
        assert code == 0, err
        assert "dashboards: 0 new, 1 unchanged, 1 replaced" in out
        assert ada.get("/api/v1/dashboards/ops").get_json() == made["board"]
    finally:
        app.extensions["dashboard"].close()

    # and back into a SQLite file: the same users (hashes as they were) and every point
    back = tmp_path / "back" / "dashboard.db"
    code, out, err = _copy(capsys, "--from", pg_url, "--to", f"sqlite:///{back}", "--history")
    assert code == 0, err
    assert _summary(out)["users"] == "2 new, 0 unchanged", out
    assert "history: 3 series, 11 points copied" in out
    from dashboard.auth.users import SQLUserStore

    with psycopg.connect(pg_url) as conn:
        (hashed,) = conn.execute(
            "SELECT password_hash FROM users WHERE username = 'ada'"
        ).fetchone()
    users = SQLUserStore(back)
    try:
        assert users.get_user("ada").password_hash == hashed
    finally:
        users.close()


def test_history_windows_follow_density_and_lose_no_point(tmp_path):
    """A dense series (read in narrowing windows) and a sparse one (widening windows) arrive
    whole, once, and a second copy adds nothing; the progress line reaches 100 %."""
    import io

    import numpy as np

    from dashboard.dbcopy import copy_history
    from dashboard.metrics.model import Batch, SeriesKey, make_points
    from dashboard.metrics.steps import RAW
    from dashboard.metrics.stores.sqlite import SQLiteStore

    dense, sparse = SeriesKey.of("dense"), SeriesKey.of("sparse", {"k": "v"})
    t0 = 1_700_000_000_000
    dense_ts = t0 + np.arange(60_000) * 1000  # 1 s apart for 16.7 h: 60k points
    sparse_ts = t0 + np.arange(40) * 3 * 86_400_000  # 3 days apart for 117 days
    source, dest = SQLiteStore(tmp_path / "a.db"), SQLiteStore(tmp_path / "b.db")
    try:
        source.write(Batch([make_points(dense, dense_ts, np.sin(dense_ts / 1e6), "s")]))
        source.write(Batch([make_points(sparse, sparse_ts, np.arange(40.0))]))
        stream = io.StringIO()
        result = copy_history(source, dest, progress=stream)
        assert (result.series, result.points) == (2, 60_040)
        assert "100.0%" in stream.getvalue()
        for key in (dense, sparse):
            want = source.query(key, 0, 2 * t0, RAW)
            got = dest.query(key, 0, 2 * t0, RAW)
            assert np.array_equal(got.ts, want.ts) and np.array_equal(got.value, want.value)
        assert copy_history(source, dest).points == 60_040
        assert [i.unit for i in dest.list_series()] == ["s", ""]
        assert len(dest.query(dense, 0, 2 * t0, RAW).ts) == 60_000
    finally:
        source.close()
        dest.close()


def test_a_data_folder_names_its_database_and_a_copy_onto_itself_is_refused(tmp_path, capsys):
    """``--from data`` means data/dashboard.db; the same database on both sides is refused."""
    from dashboard.dbcopy import database_url

    folder = tmp_path / "data"
    folder.mkdir()
    assert database_url(str(folder)) == f"sqlite:///{(folder / 'dashboard.db').as_posix()}"
    code, _, err = _copy(capsys, "--from", str(folder), "--to", database_url(str(folder)))
    assert code == 1 and "same database" in err
