"""The periodic seal on a real store: what it moves into chunks is counted in ``/metrics``,
and ``dashboard db stats`` reports what the database holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dashboard.cli import main as cli_main
from dashboard.metrics.model import Batch, SeriesKey, SeriesPoints
from dashboard.metrics.sealing import run_sealer, seal_once
from dashboard.metrics.steps import HOUR, RAW, SECOND
from dashboard.metrics.stores.sqlite import SQLiteStore
from dashboard.telemetry import Metrics

T0 = 1_700_006_400_000


def _live_writes(store: SQLiteStore, n: int) -> None:
    """``n`` one-point writes of two series, as a live feed sends them (through the head)."""
    keys = [SeriesKey.of("seal.cpu", {"host": h}) for h in ("a", "b")]
    for i in range(n):
        ts = np.array([T0 + i * SECOND], dtype=np.int64)
        store.write(Batch([SeriesPoints(k, ts, np.array([float(i)])) for k in keys]))


def test_a_seal_pass_is_counted_and_the_database_gauges_follow(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "d.db")
    metrics = Metrics()
    try:
        _live_writes(store, 50)
        assert store.stats()["head_points"] == 100
        done = seal_once(store=store, metrics=metrics)
        assert done == {"series": 2, "points": 100, "chunks": 2}
        sample = metrics.registry.get_sample_value
        assert sample("dashboard_sealed_points_total") == 100
        assert sample("dashboard_db_stored", {"what": "chunk_points"}) == 100
        assert sample("dashboard_db_stored", {"what": "head_points"}) == 0
        assert sample("dashboard_db_bytes", {"part": "file"}) > 0
        assert sample("dashboard_db_compression_ratio") > 1
        assert sample("dashboard_seal_seconds_count") == 1
        key = SeriesKey.of("seal.cpu", {"host": "b"})
        assert store.query(key, T0, T0 + HOUR, RAW).value.tolist() == [float(i) for i in range(50)]
    finally:
        store.close()


def test_the_sealer_task_seals_at_each_interval(tmp_path: Path) -> None:
    """``run_sealer`` sleeps, then seals, and again; a failing pass does not stop it."""
    store = SQLiteStore(tmp_path / "d.db")
    metrics = Metrics()
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            _live_writes(store, 3)
        if len(sleeps) == 3:
            store.close()  # the next pass fails (the store is closed): logged, not raised
        if len(sleeps) == 4:
            raise SystemExit

    _live_writes(store, 5)
    try:
        run_sealer(store=store, metrics=metrics, sleep=sleep, interval_s=7.0)
    except SystemExit:
        pass
    assert sleeps == [7.0] * 4
    assert metrics.registry.get_sample_value("dashboard_sealed_points_total") == 16


def test_the_database_stats_are_read_every_ten_minutes_not_at_every_seal(tmp_path: Path) -> None:
    """Reading what the database holds counts every chunk: the sealer does it at its first pass
    and then once ``stats_every_s`` has passed, not at every seal."""
    store = SQLiteStore(tmp_path / "d.db")
    metrics = Metrics()
    reads: list[int] = []
    stats = store.stats

    def counted() -> dict:
        reads.append(1)
        return stats()

    store.stats = counted  # type: ignore[method-assign]
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds
        if now[0] > 60 * 25:
            raise SystemExit

    try:
        run_sealer(store=store, metrics=metrics, sleep=sleep, interval_s=60.0, clock=lambda: now[0])
    except SystemExit:
        pass
    finally:
        store.close()
    assert len(reads) == 3  # minutes 1, 11 and 21 of 25 passes


def test_db_stats_prints_what_the_database_holds(tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "d.db"
    store = SQLiteStore(path)
    _live_writes(store, 20)
    store.seal()
    store.close()
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", f"sqlite:///{path}")
    assert cli_main(["db", "stats"]) == 0
    out = capsys.readouterr().out
    assert "chunk points" in out and "40" in out and "compression ratio" in out
