"""The Redis Streams bus: durable ingest, a consumer group of persisters, tails for web nodes.

- ``publish`` XADDs the batch (trimmed to 24 h with ``MINID ~``) and returns once Redis has it;
  with ``appendonly yes`` and ``appendfsync always`` that is on disk (``everysec`` may lose up to
  a second on a crash of the Redis host). Redis down: ``BusUnavailable``, so ingest answers 503.
- Persisters form the consumer group ``persisters``: each entry is written to the database once
  (the write is idempotent on series and timestamp, so a retry adds nothing) and acknowledged
  after the write; entries a dead consumer left pending are taken over with ``XAUTOCLAIM``.
- Each web node tails the stream from its own last id for its hot store and live feed, and after
  a Redis outage carries on from that id, so it catches up.
- Back-pressure: when the persisters' lag passes ``max_lag`` entries, ``publish`` refuses with
  ``BusBusy`` (ingest answers 429 with Retry-After) instead of growing Redis without bound.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from dashboard.metrics.model import Batch
from dashboard.metrics.steps import DAY
from ingest.bus import BusBusy, BusUnavailable, Consumer
from ingest.codec import decode_batch, encode_batch

log = logging.getLogger(__name__)

GROUP = "persisters"
CLAIM_IDLE_MS = 30_000
# Test-only (tests/faults): seconds a persister waits between writing an entry and acking it, so
# a test can kill a worker inside that window. Unset in any real deployment.
_ACK_DELAY_S = float(os.environ.get("DASHBOARD_TEST_ACK_DELAY_S") or 0)
STREAM_EPOCH_MS = 1_577_836_800_000  # 2020-01-01: keeps stream cursors below 2**53 for JS


def stream_seq(entry_id: str | bytes) -> int:
    """The sequence number of a Redis stream entry id, equal on every node that reads it (the
    hub's cursor on the Redis bus)."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, n = text.partition("-")
    return (int(ms) - STREAM_EPOCH_MS) * 1000 + min(int(n or 0), 999) if int(ms) else 0


class RedisBus:
    """Batches on a Redis Stream."""

    kind = "redis"

    def __init__(
        self,
        client: redis.Redis,
        *,
        stream: str = "dashboard:points",
        max_lag: int = 200_000,
        retention_ms: int = DAY,
        claim_idle_ms: int = CLAIM_IDLE_MS,
    ) -> None:
        """A bus on ``stream`` in the Redis that ``client`` talks to."""
        self.client = client
        self.claim_idle_ms = claim_idle_ms
        self.stream = stream
        self.max_lag = max_lag
        self.retention_ms = retention_ms
        self._consumers: list[Consumer] = []
        self._lag_checked = 0.0
        self._lag = 0
        self._group_ready = False
        self._lock = threading.Lock()
        self.last_tail_id = b""
        # told where the tail starts when it is decided late (Redis was down at start)
        self.on_tail_start: Callable[[bytes], None] | None = None

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisBus:
        """A bus on the Redis at ``url``."""
        client = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30
        )
        return cls(client, **kwargs)

    def subscribe(self, consumer: Consumer) -> None:
        """Call ``consumer`` with every batch this node's tail reads."""
        self._consumers.append(consumer)

    def ensure_group(self) -> None:
        """Create the stream and the persisters' group (from the start) if missing."""
        if self._group_ready:
            return
        try:
            self.client.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def lag(self) -> int:
        """Entries not yet acknowledged by the persisters (pending plus undelivered)."""
        for group in self.client.xinfo_groups(self.stream):
            if group["name"] in (GROUP, GROUP.encode()):
                undelivered = group.get("lag") or 0
                return int(group.get("pending", 0)) + int(undelivered)
        return 0

    def publish(self, batch: Batch) -> int:
        """Append the batch to the stream; return the number of points once Redis has it."""
        points = batch.point_count
        if points == 0:
            return 0
        try:
            self.ensure_group()
            now = time.monotonic()
            if now - self._lag_checked > 1.0:
                self._lag, self._lag_checked = self.lag(), now
            if self._lag > self.max_lag:
                raise BusBusy(f"the persisters are {self._lag} entries behind")
            min_id = f"{int(time.time() * 1000) - self.retention_ms}-0"
            self.client.xadd(self.stream, encode_batch(batch), minid=min_id, approximate=True)
        except redis.RedisError as exc:
            self._group_ready = False
            raise BusUnavailable(f"Redis: {exc}") from exc
        return points

    def ping(self) -> bool:
        """True when Redis answers."""
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    # ---- persisting -------------------------------------------------------------------------

    def persist_once(
        self, write: Callable[[Batch], Any], consumer: str, *, block_ms: int = 1000
    ) -> int:
        """Take over entries a dead consumer left, read new ones, write and ack each; count."""
        self.ensure_group()
        done = 0
        _, claimed, *_ = self.client.xautoclaim(
            self.stream,
            GROUP,
            consumer,
            min_idle_time=self.claim_idle_ms,
            start_id="0-0",
            count=100,
        )
        done += self._write_and_ack(claimed, write)
        response = self.client.xreadgroup(
            GROUP, consumer, {self.stream: ">"}, count=200, block=block_ms
        )
        for _, entries in response or []:
            done += self._write_and_ack(entries, write)
        return done

    def _write_and_ack(self, entries: list, write: Callable[[Batch], Any]) -> int:
        """Write each entry's batch, then acknowledge it (an entry that fails stays pending)."""
        acked = 0
        for entry_id, fields in entries:
            if not fields:  # trimmed away while pending: nothing left to write
                self.client.xack(self.stream, GROUP, entry_id)
                continue
            write(decode_batch(fields))
            if _ACK_DELAY_S:
                time.sleep(_ACK_DELAY_S)
            self.client.xack(self.stream, GROUP, entry_id)
            acked += 1
        return acked

    def run_persister(
        self,
        write: Callable[[Batch], Any],
        consumer: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        should_stop: Callable[[], bool] = lambda: False,
        on_state: Callable[[str], None] = lambda state: None,
    ) -> None:
        """Persist until told to stop, riding out Redis and database outages with backoff."""
        delay = 0.5
        failing = False
        while not should_stop():
            try:
                self.persist_once(write, consumer)
                if failing:
                    log.info("persister %s: running again", consumer)
                    on_state("running")
                failing, delay = False, 0.5
            except Exception as exc:  # keep going: the entry stays pending and is retried
                if not failing:
                    log.warning("persister %s: %s; retrying with backoff", consumer, exc)
                    on_state(f"failing: {exc}")
                failing = True
                self._group_ready = False
                sleep(delay)
                delay = min(delay * 2, 10.0)

    # ---- tailing (each web node) ------------------------------------------------------------

    def start_id(self) -> bytes:
        """Where a starting node's tail begins: before anything the persisters have not written.

        The node has just loaded the database into its hot store; the oldest pending entry, or
        else anything after the group's last delivered entry, may not be in the database yet.
        """
        self.ensure_group()
        start = "0-0"
        for group in self.client.xinfo_groups(self.stream):
            if group["name"] in (GROUP, GROUP.encode()):
                start = _text(group["last-delivered-id"])
        pending = self.client.xpending(self.stream, GROUP)
        if pending and pending.get("pending") and pending.get("min"):
            start = id_before(_text(pending["min"]))
        return start.encode()

    def tail_once(self, *, block_ms: int = 1000) -> int:
        """Read what came after the last id and hand each batch to the consumers; count."""
        if not self.last_tail_id:
            self.last_tail_id = self.start_id()
            if self.on_tail_start is not None:
                self.on_tail_start(self.last_tail_id)
        response = self.client.xread({self.stream: self.last_tail_id}, count=500, block=block_ms)
        n = 0
        for _, entries in response or []:
            for entry_id, fields in entries:
                batch = decode_batch(fields)
                batch.seq = stream_seq(entry_id)
                for consumer in self._consumers:
                    try:
                        consumer(batch)
                    except Exception:  # one consumer must not stop the tail
                        log.exception("tail consumer %r failed", consumer)
                self.last_tail_id = entry_id
                n += 1
        return n

    def run_tail(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        should_stop: Callable[[], bool] = lambda: False,
        on_state: Callable[[str], None] = lambda state: None,
    ) -> None:
        """Tail until told to stop; after an outage, carry on from the last id read."""
        delay = 0.5
        failing = False
        while not should_stop():
            try:
                self.tail_once()
                if failing:
                    log.info("stream tail: caught up again from %s", self.last_tail_id)
                    on_state("running")
                failing, delay = False, 0.5
            except redis.RedisError as exc:
                if not failing:
                    log.warning("stream tail: %s; retrying with backoff", exc)
                    on_state(f"failing: {exc}")
                failing = True
                self._group_ready = False
                sleep(delay)
                delay = min(delay * 2, 10.0)


def _text(value: bytes | str) -> str:
    """A Redis reply as text."""
    return value.decode() if isinstance(value, bytes) else str(value)


def id_before(entry_id: str) -> str:
    """The greatest stream id below ``entry_id`` (XREAD returns ids after the one it is given)."""
    ms, seq = (int(x) for x in entry_id.split("-"))
    if seq > 0:
        return f"{ms}-{seq - 1}"
    return f"{ms - 1}-{2**64 - 1}" if ms > 0 else "0-0"


class AlertStream:
    """Alert events on their way to every node's browsers, as a Redis stream that each node
    tails from its own last id.

    The worker evaluates the rules on a Redis setup; it appends each event here. A node whose
    connection to Redis drops (or is killed) reads, when it is back, the events it missed, so
    its browsers get every alert: Pub/Sub, which it replaces for alerts, keeps nothing for a
    listener that is reconnecting. The stream keeps the last ``keep`` events.
    """

    def __init__(self, client: redis.Redis, stream: str, keep: int = 10_000) -> None:
        """A stream named ``stream`` on ``client``'s Redis."""
        self.client = client
        self.stream = stream
        self.keep = keep
        self.last_id = b""

    @classmethod
    def from_url(cls, url: str, stream: str) -> AlertStream:
        """An alert stream on the Redis at ``url``."""
        client = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30
        )
        return cls(client, stream)

    def publish(self, payload: dict[str, Any]) -> None:
        """Append one event (raises redis.RedisError when Redis does not take it)."""
        body = json.dumps(payload, separators=(",", ":"))
        self.client.xadd(self.stream, {"event": body}, maxlen=self.keep, approximate=True)

    def start_id(self) -> bytes:
        """Where a node starts: after the newest event (older ones were for earlier pages)."""
        newest = self.client.xrevrange(self.stream, count=1)
        return newest[0][0] if newest else b"0-0"

    def tail_once(self, deliver: Callable[[dict[str, Any]], None], block_ms: int = 1000) -> int:
        """Hand every event after the last id to ``deliver``; how many."""
        if not self.last_id:
            self.last_id = self.start_id()
        response = self.client.xread({self.stream: self.last_id}, count=100, block=block_ms)
        n = 0
        for _, entries in response or []:
            for entry_id, fields in entries:
                raw = fields.get(b"event") or fields.get("event")
                try:
                    deliver(json.loads(raw))
                except Exception:  # a bad event or a failing sink must not stop the tail
                    log.exception("alert stream: event %s not delivered", entry_id)
                self.last_id = entry_id
                n += 1
        return n

    def run(
        self,
        deliver: Callable[[dict[str, Any]], None],
        *,
        sleep: Callable[[float], None] = time.sleep,
        should_stop: Callable[[], bool] = lambda: False,
        on_state: Callable[[str], None] = lambda state: None,
    ) -> None:
        """Tail until told to stop; after an outage, carry on from the last id delivered."""
        delay = 0.2
        failing = False
        while not should_stop():
            try:
                self.tail_once(deliver)
                if failing:
                    log.info("alert stream: caught up again from %s", self.last_id)
                    on_state("running")
                failing, delay = False, 0.2
            except redis.RedisError as exc:
                if not failing:
                    log.warning("alert stream: %s; retrying", exc)
                    on_state(f"failing: {exc}")
                failing = True
                sleep(delay)
                delay = min(delay * 2, 5.0)


def alert_stream_name(prefix: str) -> str:
    """The alert stream of the setup whose keys start with ``prefix``."""
    return f"{prefix}:alerts"
