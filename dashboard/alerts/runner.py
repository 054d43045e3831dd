"""The alert engine at work: fed by the bus, events stored once, emitted, webhooks sent.

Runs in the web node when embedded and in the worker with Redis (which tails the whole stream,
so its engine sees every point). Events are stored under a unique key, and only the process
that stored an event emits it and calls the webhooks: several engines make one event each.
"""

from __future__ import annotations

import http.client
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from dashboard.alerts import service
from dashboard.alerts.engine import Engine, Event, Rule, slack_payload
from dashboard.alerts.store import AlertStore
from dashboard.metrics.model import Batch, SeriesKey
from dashboard.metrics.service import SeriesReader
from dashboard.outbound import (
    Connector,
    FetchError,
    Policy,
    Refused,
    fetch,
    pinned_connection,
    system_resolver,
)
from dashboard.outbound_policy import Resolver, mask_url
from dashboard.query.series import instant_series
from dashboard.query.service import QueryLimits
from dashboard.query.values import QueryError, format_labels

log = logging.getLogger(__name__)

RULES_RELOAD_S = 5.0
EXPR_EVERY_S = 5.0  # how often the expression rules are evaluated (Prometheus' evaluation_interval)


WEBHOOK_MAX_BYTES = 64 * 1024  # a receiver's answer is read (and dropped) up to this
WEBHOOK_TIMEOUT_S = 10.0  # one attempt, connection to the last byte of the answer


class Notifier:
    """Posts webhooks from a bounded queue, with retries and backoff, off the ingest path.

    Each attempt goes through ``dashboard.outbound.fetch``: the host is resolved once, every
    address checked (nothing inside the network unless ``allow_private``), the connection
    pinned to the checked address, no redirect followed (a 3xx fails, naming where it
    pointed). A URL is a credential: logs and ``on_result`` get its masked form only.
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        attempts: int = 5,
        first_delay_s: float = 1.0,
        on_result: Callable[[str, bool], None] = lambda outcome, ok: None,
        sleep: Callable[[float], None] = time.sleep,
        resolve: Resolver = system_resolver,
        connect: Connector = pinned_connection,
    ) -> None:
        """A notifier; ``on_result(masked_url, ok)`` counts each delivery's outcome."""
        self.allow_private = allow_private
        self.attempts = attempts
        self.first_delay_s = first_delay_s
        self.on_result = on_result
        self.sleep = sleep
        self.resolve, self.connect = resolve, connect
        self.policy = Policy(
            allow_private=allow_private,
            max_bytes=WEBHOOK_MAX_BYTES,
            timeout_s=WEBHOOK_TIMEOUT_S,
            max_redirects=0,
        )
        self.queue: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue(maxsize=1000)

    def enqueue(self, url: str, payload: dict[str, Any]) -> bool:
        """Queue a delivery; False (and counted) when the queue is full."""
        try:
            self.queue.put_nowait((url, payload))
            return True
        except queue.Full:
            self.on_result(mask_url(url), False)
            return False

    def deliver(self, url: str, payload: dict[str, Any]) -> bool:
        """POST one payload, retrying with exponential backoff; True when it got a 2xx.

        A refusal (address, scheme, redirect) is not retried: the next attempt would be too.
        """
        shown = mask_url(url)
        body = json.dumps(payload).encode()
        delay = self.first_delay_s
        for attempt in range(1, self.attempts + 1):
            try:
                response = fetch(
                    url,
                    policy=self.policy,
                    method="POST",
                    headers={"Content-Type": "application/json"},
                    body=body,
                    resolve=self.resolve,
                    connect=self.connect,
                )
                if response.ok:
                    self.on_result(shown, True)
                    return True
                problem = f"HTTP {response.status_code}"
            except Refused as exc:
                log.warning("webhook %s refused: %s", shown, exc)
                self.on_result(shown, False)
                return False
            except (FetchError, OSError, http.client.HTTPException) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if attempt < self.attempts:
                log.info(
                    "webhook %s failed (%s); retry %d in %.1f s", shown, problem, attempt, delay
                )
                self.sleep(delay)
                delay = min(delay * 2, 60.0)
        log.warning("webhook %s failed %d times; giving up", shown, self.attempts)
        self.on_result(shown, False)
        return False

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Deliver queued payloads until told to stop."""
        while not should_stop():
            try:
                url, payload = self.queue.get(timeout=0.5)
            except queue.Empty:
                continue
            self.deliver(url, payload)


class AlertService:
    """Feeds the engine, records transitions once, and tells browsers and webhooks."""

    def __init__(
        self,
        store: AlertStore,
        *,
        emit: Callable[[dict[str, Any]], None],
        notifier: Notifier | None = None,
        global_webhook: str = "",
        clock: Callable[[], float] = time.time,
        reader: SeriesReader | None = None,
        limits: QueryLimits | None = None,
    ) -> None:
        """A service over ``store``; ``emit`` sends an event to every browser; ``reader`` is
        where expression rules read (without one they wait)."""
        self.store = store
        self.reader = reader
        self.limits = limits or QueryLimits(timeout_s=10.0)
        self._evaluated_at = 0.0
        self.expr_errors: dict[str, str] = {}  # rule id -> why its expression failed last
        self.emit = emit
        self.notifier = notifier
        self.global_webhook = global_webhook
        self.clock = clock
        self.engine = Engine()
        self._selected: dict[SeriesKey, bool] = {}
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self.reload_rules()

    def reload_rules(self) -> None:
        """Read the rules again (after an edit here, or periodically for other processes)."""
        rules = self.store.rules()
        with self._lock:
            self.engine.set_rules(rules)
            self._selected = {}
            self._loaded_at = time.monotonic()

    def on_batch(self, batch: Batch) -> None:
        """Evaluate the points of a batch (a bus consumer)."""
        if time.monotonic() - self._loaded_at > RULES_RELOAD_S:
            self.reload_rules()
        events: list[Event] = []
        with self._lock:
            if not self.engine.rules:
                return
            for s in batch.series:
                wanted = self._selected.get(s.key)
                if wanted is None:
                    wanted = self._selected[s.key] = any(
                        r.selects(s.key) for r in self.engine.rules.values()
                    )
                    self.engine.watch(s.key, int(self.clock() * 1000))
                if not wanted:
                    continue
                for t, v in zip(s.ts.tolist(), s.values.tolist(), strict=True):
                    events.extend(self.engine.observe(s.key, t, v))
        self._publish(events)

    def tick(self) -> None:
        """Check the no-data rules against the clock (call every second or so)."""
        if time.monotonic() - self._loaded_at > RULES_RELOAD_S:
            self.reload_rules()
        with self._lock:
            events = self.engine.tick(int(self.clock() * 1000))
        self._publish(events)
        if self.reader is not None and time.monotonic() - self._evaluated_at >= EXPR_EVERY_S:
            self._evaluated_at = time.monotonic()
            self.evaluate_expressions(int(self.clock() * 1000))

    def evaluate_expressions(self, at_ms: int) -> None:
        """Evaluate every enabled expression rule at ``at_ms`` and record its transitions."""
        if self.reader is None:
            return
        rules = [r for r in self.engine.rules.values() if r.enabled and r.expr]
        events: list[Event] = []
        for rule in rules:
            try:
                found = instant_series(
                    reader=self.reader, expr=rule.expr, at_ms=at_ms, limits=self.limits
                )
            except QueryError as exc:  # kept, not fatal: the rule waits for the next round
                self.expr_errors[rule.id] = str(exc)
                log.warning("alert rule %s: %s", rule.id, exc)
                continue
            self.expr_errors.pop(rule.id, None)
            values = {
                (format_labels(s.labels) if s.labels else rule.expr): float(s.values[-1])
                for s in found
            }
            with self._lock:
                events.extend(self.engine.evaluated(rule.id, values, at_ms))
        self._publish(events)

    def _publish(self, events: list[Event]) -> None:
        """Store each event; the one process that stored it emits it and notifies."""
        for event in events:
            event_id = self.store.record(event)
            if event_id is None:
                continue  # another engine recorded this transition first
            payload = {**event.to_json(), "id": event_id, "firing": len(self.store.firing())}
            now_ms = int(self.clock() * 1000)
            snoozed = bool(
                service.snoozed_until(store=self.store, rule_id=event.rule_id, now_ms=now_ms)
            )
            payload["snoozed"] = snoozed
            self.emit(payload)
            if snoozed or event.state == "pending" or self.notifier is None:
                continue
            rule: Rule | None = self.engine.rules.get(event.rule_id)
            for url in {u for u in ((rule.webhook if rule else ""), self.global_webhook) if u}:
                self.notifier.enqueue(url, slack_payload(event))

    def run_ticks(
        self, sleep: Callable[[float], None], should_stop: Callable[[], bool] = lambda: False
    ) -> None:
        """Tick every second until told to stop."""
        while not should_stop():
            sleep(1.0)
            try:
                self.tick()
            except Exception:  # keep ticking
                log.exception("alert tick failed")
