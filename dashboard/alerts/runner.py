"""The alert engine at work: fed by the bus, events stored once, emitted, webhooks sent.

Runs in the web node when embedded and in the worker with Redis (which tails the whole stream,
so its engine sees every point). Events are stored under a unique key, and only the process
that stored an event emits it and calls the webhooks: several engines make one event each.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

from dashboard.alerts import service
from dashboard.alerts.engine import Engine, Event, Rule, slack_payload, webhook_host_allowed
from dashboard.alerts.store import AlertStore
from dashboard.metrics.model import Batch, SeriesKey

log = logging.getLogger(__name__)

RULES_RELOAD_S = 5.0


class Notifier:
    """Posts webhooks from a bounded queue, with retries and backoff, off the ingest path."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        attempts: int = 5,
        first_delay_s: float = 1.0,
        on_result: Callable[[str, bool], None] = lambda outcome, ok: None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """A notifier; ``on_result(url, ok)`` counts each delivery's outcome."""
        self.allow_private = allow_private
        self.attempts = attempts
        self.first_delay_s = first_delay_s
        self.on_result = on_result
        self.sleep = sleep
        self.queue: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue(maxsize=1000)
        self.session = requests.Session()

    def enqueue(self, url: str, payload: dict[str, Any]) -> bool:
        """Queue a delivery; False (and counted) when the queue is full."""
        try:
            self.queue.put_nowait((url, payload))
            return True
        except queue.Full:
            self.on_result(url, False)
            return False

    def refusal(self, url: str) -> str | None:
        """Why ``url`` may not be called (it points inside the network), or None."""
        host = urlsplit(url).hostname or ""
        try:
            resolved = [info[4][0] for info in socket.getaddrinfo(host, None)]
        except OSError as exc:
            return f"cannot resolve {host}: {exc}"
        return webhook_host_allowed(url, resolved, self.allow_private)

    def deliver(self, url: str, payload: dict[str, Any]) -> bool:
        """POST one payload, retrying with exponential backoff; True when it got a 2xx."""
        reason = self.refusal(url)
        if reason:
            log.warning("webhook refused: %s", reason)
            self.on_result(url, False)
            return False
        delay = self.first_delay_s
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.session.post(url, json=payload, timeout=5)
                if 200 <= response.status_code < 300:
                    self.on_result(url, True)
                    return True
                problem = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                problem = str(exc)
            if attempt < self.attempts:
                log.info("webhook %s failed (%s); retry %d in %.1f s", url, problem, attempt, delay)
                self.sleep(delay)
                delay = min(delay * 2, 60.0)
        log.warning("webhook %s failed %d times; giving up", url, self.attempts)
        self.on_result(url, False)
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
    ) -> None:
        """A service over ``store``; ``emit`` sends an event to every browser."""
        self.store = store
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
