"""Redis setups under faults: Redis SIGKILLed and restarted, a worker SIGKILLed between reading
and acknowledging. A web node and `dashboard worker` run as subprocesses on a private,
append-only Redis; a producer sends numbered points throughout."""

from __future__ import annotations

import redis

from dashboard.metrics.stores.sqlite import SQLiteStore
from ingest.redis_bus import GROUP, RedisBus
from tests.faults.harness import (
    Producer,
    WorkerProcess,
    api_points,
    assert_stored_exactly_once,
    redis_env,
    wait_until,
    web_node,
)

ACK_DELAY_S = "0.3"  # the test-only hook's window between a worker's write and its ack


def _bus(url: str, env: dict[str, str]) -> RedisBus:
    """A bus client on the setup's stream (to read its group's state)."""
    client = redis.Redis.from_url(url, socket_timeout=5)
    return RedisBus(client, stream=f"{env['DASHBOARD_REDIS_PREFIX']}:points")


def test_redis_sigkill_under_ingest_loses_and_duplicates_nothing_acknowledged(
    private_redis, tmp_path
):
    """SIGKILL Redis while a producer sends and the worker is behind: 503 with Retry-After while
    Redis is down; after its restart every 202 is in the database once (the append-only file
    kept what the worker had not written yet) and in the node's hot store (its tail caught up)."""
    db = tmp_path / "shared" / "dashboard.db"
    env = {**redis_env(private_redis.url, db), "DASHBOARD_PERSIST_IN_WEB": "0"}
    node = web_node(tmp_path / "shared", env)
    worker = WorkerProcess(tmp_path / "worker", env)
    producer = Producer(node.url).start()
    try:
        producer.wait_acked(100)
        # the worker falls behind: acknowledged points that only Redis holds when it dies
        worker.pause()
        producer.wait_acked(len(producer.acked) + 50)
        bus = _bus(private_redis.url, env)
        assert bus.lag() > 0
        private_redis.kill()
        producer.wait_refused(5)
        private_redis.start()
        worker.resume()
        producer.wait_acked(len(producer.acked) + 100)
        producer.stop()
        assert producer.refused, "nothing was refused while Redis was down"
        assert {(status, retry) for _, status, retry in producer.refused} == {(503, "1")}
        store = SQLiteStore(db)
        wait_until(lambda: bus.lag() == 0, what="the worker to catch up")
        stored = assert_stored_exactly_once(store, producer)
        store.close()
        # the node's own view (hot store, fed by its stream tail) has the same points
        hot = api_points(node.url, producer)
        assert hot == [list(p) for p in stored]
    finally:
        producer.stop()
        worker.stop()
        node.stop()


def test_a_worker_killed_between_read_and_ack_has_its_entries_reclaimed_once(
    private_redis, tmp_path
):
    """SIGKILL a worker holding entries it read but never acknowledged; a new worker takes them
    over with XAUTOCLAIM and every acknowledged point is stored exactly once."""
    db = tmp_path / "shared" / "dashboard.db"
    env = {
        **redis_env(private_redis.url, db),
        "DASHBOARD_PERSIST_IN_WEB": "0",
        "DASHBOARD_BUS_CLAIM_IDLE_MS": "1000",
    }
    node = web_node(tmp_path / "shared", env)
    doomed = WorkerProcess(tmp_path / "w1", env, {"DASHBOARD_TEST_ACK_DELAY_S": ACK_DELAY_S})
    producer = Producer(node.url).start()
    bus = _bus(private_redis.url, env)
    successor = None
    try:
        producer.wait_acked(50)

        def pending() -> int:
            return int(bus.client.xpending(bus.stream, GROUP)["pending"])

        wait_until(lambda: pending() > 0, what="the worker to hold unacknowledged entries")
        doomed.kill()
        at_kill = pending()
        assert at_kill > 0
        successor = WorkerProcess(tmp_path / "w2", env)
        producer.wait_acked(len(producer.acked) + 50)
        producer.stop()
        store = SQLiteStore(db)
        wait_until(lambda: bus.lag() == 0, what="the new worker to take everything over")
        assert pending() == 0
        consumers = bus.client.xinfo_consumers(bus.stream, GROUP)
        assert len(consumers) == 2 and all(c["pending"] == 0 for c in consumers)
        assert_stored_exactly_once(store, producer)
        assert not producer.refused and not producer.failed  # the node took every point
        store.close()
    finally:
        producer.stop()
        doomed.stop()
        if successor is not None:
            successor.stop()
        node.stop()
