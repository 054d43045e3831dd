"""The Redis Streams bus against real Redis: persisted once, reclaimed, back-pressure, outages
(a Redis crash under ingest, with a node and a worker, is in tests/faults)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import numpy as np
import pytest
import redis

from dashboard.alerts.engine import validate_rule
from dashboard.alerts.store import AlertStore
from dashboard.background import start_worker_alerts
from dashboard.db.appdb import open_app_db
from dashboard.metrics.model import Batch, SeriesKey, make_points
from dashboard.metrics.steps import RAW
from dashboard.metrics.stores.sqlite import SQLiteStore
from dashboard.settings import Settings
from ingest.bus import BusBusy, BusUnavailable
from ingest.redis_bus import RedisBus
from ingest.worker import Worker

KEY = SeriesKey.of("bus.test", {"n": "1"})


def _batch(t0: int, n: int, value: float = 1.0) -> Batch:
    """``n`` points a second apart from ``t0``."""
    ts = t0 + np.arange(n, dtype=np.int64) * 1000
    return Batch([make_points(KEY, ts, np.full(n, value) + np.arange(n))])


def _now() -> int:
    """Now in Unix ms, on a whole second."""
    return int(time.time()) * 1000


@pytest.fixture
def bus(private_redis):
    """A bus on a fresh stream."""
    client = redis.Redis.from_url(private_redis.url, socket_timeout=5)
    yield RedisBus(client, stream=f"t:{uuid.uuid4().hex[:8]}", claim_idle_ms=200)
    client.close()


def _rows(store: SQLiteStore) -> int:
    """Points stored for the test series."""
    return len(store.query(KEY, 0, 2**62, RAW))


def test_each_entry_is_persisted_once_by_the_group(bus, tmp_path):
    """Two persisters in the group share the entries; every point is stored exactly once."""
    store = SQLiteStore(tmp_path / "a.db")
    t0 = _now() - 60_000
    for i in range(6):
        bus.publish(_batch(t0 + i * 5000, 5))
    done = bus.persist_once(store.write, "p1", block_ms=10)
    done += bus.persist_once(store.write, "p2", block_ms=10)
    assert done == 6
    assert _rows(store) == 30
    assert bus.lag() == 0
    store.close()


def test_entries_of_a_persister_that_died_before_ack_are_reclaimed(bus, tmp_path):
    """A consumer reads and dies before acking; another takes the entries over, once."""
    store = SQLiteStore(tmp_path / "b.db")
    t0 = _now() - 30_000
    bus.publish(_batch(t0, 10))

    def die(_batch: Batch) -> None:
        raise KeyboardInterrupt("killed between read and ack")

    with pytest.raises(KeyboardInterrupt):
        bus.persist_once(die, "doomed", block_ms=10)
    assert bus.lag() == 1  # delivered to the dead consumer, not acknowledged
    assert bus.persist_once(store.write, "survivor", block_ms=10) == 0  # too fresh to claim
    time.sleep(0.3)  # longer than claim_idle_ms
    assert bus.persist_once(store.write, "survivor", block_ms=10) == 1
    assert _rows(store) == 10 and bus.lag() == 0
    # a replay of the same batch (a retried publish) adds nothing twice
    bus.publish(_batch(t0, 10))
    bus.persist_once(store.write, "survivor", block_ms=10)
    assert _rows(store) == 10
    store.close()


def test_back_pressure_refuses_when_persisters_fall_behind(bus):
    """Past the allowed lag, publishing raises BusBusy instead of growing Redis."""
    bus.max_lag = 3
    for i in range(4):
        bus.publish(_batch(_now() - 10_000 + i, 1))
    bus._lag_checked = 0  # re-read the lag now rather than after a second
    with pytest.raises(BusBusy):
        bus.publish(_batch(_now(), 1))


def test_tail_starts_before_unpersisted_entries(bus, tmp_path):
    """A node starting after a backlog replays what the persisters have not written."""
    store = SQLiteStore(tmp_path / "c.db")
    t0 = _now() - 40_000
    bus.publish(_batch(t0, 3))
    bus.persist_once(store.write, "p", block_ms=10)  # persisted: in the database
    bus.publish(_batch(t0 + 10_000, 3))  # not yet persisted
    seen: list[Batch] = []
    bus.subscribe(seen.append)
    assert bus.tail_once(block_ms=10) == 1
    assert seen[0].series[0].ts[0] == t0 + 10_000
    store.close()


def test_worker_process_persists_and_stops_on_sigterm(private_redis, tmp_path):
    """`dashboard worker` persists what web nodes publish and exits cleanly on SIGTERM."""
    prefix = f"w{uuid.uuid4().hex[:6]}"
    db = tmp_path / "worker.db"
    env = {
        **os.environ,
        "DASHBOARD_REDIS_URL": private_redis.url,
        "DASHBOARD_REDIS_PREFIX": prefix,
        "DASHBOARD_DATABASE_URL": f"sqlite:///{db}",
        "DASHBOARD_DATA_DIR": str(tmp_path / "data"),
        "DASHBOARD_DEMO": "0",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        client = redis.Redis.from_url(private_redis.url)
        bus = RedisBus(client, stream=f"{prefix}:points")
        bus.publish(_batch(_now() - 20_000, 5))
        store = SQLiteStore(db)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _rows(store) < 5:
            time.sleep(0.1)
        assert _rows(store) == 5
        store.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, output


def test_publish_raises_bus_unavailable_when_redis_is_gone(bus, private_redis):
    """Without Redis the bus says so, and the caller can answer 503."""
    private_redis.kill()
    with pytest.raises(BusUnavailable):
        bus.publish(_batch(_now(), 1))


def test_the_worker_fires_alert_rules_on_what_any_node_published(private_redis, tmp_path):
    """The alert tasks `dashboard worker` adds read the whole stream with a tail of their own
    and record the rule's firing."""
    settings = Settings(
        _env_file=None,
        redis_url=private_redis.url,
        redis_prefix=f"w{uuid.uuid4().hex[:6]}",
        database_url=f"sqlite:///{tmp_path / 'worker.db'}",
        data_dir=tmp_path / "data",
    )
    rules = AlertStore(open_app_db(settings.resolved_database_url), owns_db=True)
    rules.put_rule(
        validate_rule(
            {
                "id": "bus-high",
                "condition": "above",
                "threshold": 1.5,
                "for_s": 0,
                "series": {"name": KEY.name, "labels": dict(KEY.labels)},
            }
        )
    )
    worker = Worker(settings)
    start_worker_alerts(worker)
    try:
        worker.bus.publish(_batch(_now() - 5_000, 3))  # 1, 2, 3: above 1.5 from the second
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not rules.events():
            time.sleep(0.05)
        assert [(e["rule_id"], e["state"]) for e in rules.events()] == [("bus-high", "firing")]
    finally:
        worker.stop()
        rules.close()


def test_the_alert_stream_hands_each_event_once_and_a_late_reader_catches_up(private_redis):
    """A node starts after the newest event (old ones were for earlier pages), reads each new
    event once, and after its connection is killed carries on from its last id."""
    from ingest.redis_bus import AlertStream

    writer = AlertStream.from_url(private_redis.url, "t:alerts")
    writer.publish({"id": 1, "state": "firing"})  # before the node starts: not replayed
    reader = AlertStream.from_url(private_redis.url, "t:alerts")
    got: list[dict] = []
    assert reader.tail_once(got.append, block_ms=10) == 0
    writer.publish({"id": 2, "state": "firing"})
    assert reader.tail_once(got.append, block_ms=10) == 1
    reader.client.execute_command("CLIENT", "KILL", "TYPE", "normal")  # its own connection too
    writer.publish({"id": 3, "state": "resolved"})
    writer.publish({"id": 4, "state": "firing"})
    delivered = 0
    while delivered < 2:
        try:
            delivered += reader.tail_once(got.append, block_ms=10)
        except redis.RedisError:
            continue  # the killed connection: the next call reconnects from the last id
    assert [e["id"] for e in got] == [2, 3, 4]
