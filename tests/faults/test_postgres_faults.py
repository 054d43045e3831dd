"""PostgreSQL under faults: an immediate stop and a start of the server while a writer streams
into the store, and while a producer streams into an embedded-bus node on PostgreSQL.

Restarting needs the local cluster's pg_ctlcluster and root; elsewhere these tests skip."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import uuid

import numpy as np
import psycopg
import pytest
from psycopg import sql

from dashboard.metrics.model import Batch, SeriesPoints
from dashboard.metrics.steps import DAY, RAW, ROLLUPS
from dashboard.metrics.stores.postgres import PostgresStore
from tests.conftest import POSTGRES_URL
from tests.faults.harness import Producer, api_points, assert_stored_exactly_once
from tests.integration.metrics.test_postgres_store import CPU, MEM, D, url_with_schema
from tests.servers import LiveServer

# restarts the PostgreSQL every other test uses: `make test` runs this alone, after the rest
pytestmark = pytest.mark.serial


def _cluster() -> list[str] | None:
    """The pg_ctlcluster command of the local server, when this process may use it."""
    tool = shutil.which("pg_ctlcluster")
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    local = "@127.0.0.1" in POSTGRES_URL or "@localhost" in POSTGRES_URL
    if not tool or not versions or not local or os.geteuid() != 0:
        return None
    return [tool, "--skip-systemctl-redirect", versions[-1], "main"]


@pytest.fixture
def restartable_schema(request):
    """A schema of this test's own that outlives a server restart (new connections each time)."""
    try:
        conn = psycopg.connect(POSTGRES_URL, connect_timeout=2, autocommit=True)
    except psycopg.Error:
        request.getfixturevalue("postgres_schema")  # skips, or fails when services are required
        raise
    schema = f"dashtest_{uuid.uuid4().hex[:10]}"
    with conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield POSTGRES_URL, schema
    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(POSTGRES_URL, connect_timeout=2, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_server_restart_during_writes_loses_nothing_acknowledged(restartable_schema):
    """An immediate stop and a start of PostgreSQL while a writer streams: every write that
    returned is stored exactly once (a failed write is retried by the writer, as the bus does)."""
    cluster = _cluster()
    if cluster is None:
        pytest.skip("needs root and pg_ctlcluster for the local PostgreSQL to restart it")
    url, schema = restartable_schema
    store = PostgresStore(url, schema=schema, max_size=2, timeout=2)
    acked: list[int] = []
    failures: list[str] = []
    restarted = threading.Event()

    def points(i: int) -> Batch:
        ts = D + np.arange(i * 50, i * 50 + 50, dtype=np.int64) * 250
        return Batch(
            [SeriesPoints(k, ts, np.full(50, float(i)) + j) for j, k in enumerate((CPU, MEM))]
        )

    def writer() -> None:
        i = 0
        after = 0
        deadline = time.monotonic() + 45
        while not (restarted.is_set() and after >= 20):
            while True:
                try:
                    store.write(points(i))
                    break
                except Exception as exc:  # noqa: BLE001 - any failure is retried, as the bus does
                    failures.append(type(exc).__name__)
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            acked.append(i)
            after += restarted.is_set()
            i += 1

    thread = threading.Thread(target=writer)
    try:
        thread.start()
        while len(acked) < 20 and thread.is_alive():
            time.sleep(0.01)
        subprocess.run([*cluster, "stop", "-m", "immediate"], check=True, capture_output=True)
        time.sleep(0.3)
        subprocess.run([*cluster, "start"], check=True, capture_output=True)
        restarted.set()
        thread.join(60)
        assert not thread.is_alive()
        n = len(acked)  # at least 20 writes before the stop and 20 after the start
        assert acked == list(range(n))
        for j, key in enumerate((CPU, MEM)):
            raw = store.query(key, D, D + DAY, RAW)
            assert raw.ts.tolist() == (D + np.arange(n * 50) * 250).tolist()
            assert raw.value.tolist() == [float(i) + j for i in range(n) for _ in range(50)]
            for step in ROLLUPS:
                assert int(store.query(key, D, D + DAY, step).count.sum()) == n * 50
    finally:
        restarted.set()
        thread.join(60)
        store.close()


def test_an_embedded_node_on_postgres_answers_503_while_the_database_is_down_and_keeps_every_202(
    restartable_schema, tmp_path
):
    """Stop PostgreSQL (immediate) under a producer: ingest answers 503 with Retry-After while it
    is down; after the start every acknowledged point is stored once, in raw and rollups."""
    cluster = _cluster()
    if cluster is None:
        pytest.skip("needs root and pg_ctlcluster for the local PostgreSQL to restart it")
    url, schema = restartable_schema
    env = {
        "DASHBOARD_DATABASE_URL": url_with_schema(url, schema),
        "DASHBOARD_INGEST_RATE_LIMIT": "10000 per second",
    }
    node = LiveServer(tmp_path / "data", demo=False, env=env)
    producer = Producer(node.url).start()
    try:
        producer.wait_acked(50)
        subprocess.run([*cluster, "stop", "-m", "immediate"], check=True, capture_output=True)
        try:
            # the node answers once its pool gives up waiting for a connection (10 s)
            producer.wait_refused(1, timeout=40)
        finally:
            subprocess.run([*cluster, "start"], check=True, capture_output=True)
        producer.wait_acked(len(producer.acked) + 50)
        producer.stop()
        assert producer.refused and not producer.failed
        assert {(status, retry) for _, status, retry in producer.refused} == {(503, "1")}
        store = PostgresStore(url, schema=schema, max_size=1)
        try:
            stored = assert_stored_exactly_once(store, producer)
        finally:
            store.close()
        # the node's view (its hot store) holds every acknowledged point; a point it refused
        # may still be in the database, committed as the server went down before the node
        # heard back (a client that retries after Retry-After fills the node's view in then)
        shown = {tuple(p) for p in api_points(node.url, producer)}
        assert shown <= set(stored)
        refused = {producer.ts(i) for i, _, _ in producer.refused}
        assert all(t in refused for t, _ in set(stored) - shown)
        assert set(producer.expected().items()) <= shown
    finally:
        producer.stop()
        node.stop()
