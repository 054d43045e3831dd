"""``dashboard worker``: the persister (and the demo and pollers when set), on the Redis bus.

It never imports the web app; ``dashboard.cli`` adds the alert rules' evaluation
(``dashboard.background.start_worker_alerts``) as an extra task. Several workers may run: they
share the consumer group, so each entry is persisted once, and a dead worker's pending entries
are taken over by the others.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence

from dashboard.clock import now_ms
from dashboard.metrics.metadata import MetadataCache
from dashboard.metrics.model import Batch
from dashboard.metrics.stores import open_store
from dashboard.settings import Settings
from ingest.redis_bus import RedisBus

log = logging.getLogger(__name__)


class Worker:
    """The worker's tasks, each in a thread, stopped together."""

    def __init__(self, settings: Settings) -> None:
        """Open the store and the bus named by the settings."""
        if not settings.redis_url:
            raise SystemExit(
                "dashboard worker: set DASHBOARD_REDIS_URL. The worker consumes the Redis bus;"
                " in the embedded setup (no Redis) `dashboard serve` persists by itself."
            )
        self.settings = settings
        self.store = open_store(settings)
        self.bus = RedisBus.from_url(
            settings.redis_url,
            stream=f"{settings.redis_prefix}:points",
            max_lag=settings.bus_max_lag,
            claim_idle_ms=settings.bus_claim_idle_ms,
        )
        self.name = f"worker-{socket.gethostname()}-{os.getpid()}"
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.states: dict[str, str] = {}
        self.metadata = MetadataCache(self.store.metadata, self.store.upsert_metadata)

    def spawn(self, name: str, target: Callable[[], None]) -> None:
        """Run ``target`` in a daemon thread."""
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def sleep(self, seconds: float) -> None:
        """Sleep, waking early when the worker stops."""
        self.stopping.wait(seconds)

    def start(self) -> None:
        """Start the persister, and the demo source when DASHBOARD_DEMO=1."""
        self.spawn(
            "persister",
            lambda: self.bus.run_persister(
                self.store.write,
                self.name,
                sleep=self.sleep,
                should_stop=self.stopping.is_set,
                on_state=lambda s: self.states.__setitem__("persister", s),
            ),
        )
        if self.settings.poll_targets:
            from dashboard.telemetry import Metrics
            from ingest.pollers import TargetError, node_exporter_hook, start_pollers

            try:
                start_pollers(
                    self.settings,
                    publish=self.publish,
                    spawn=self.spawn,
                    sleep=self.sleep,
                    metrics=Metrics(),
                    tasks=self.states,
                    should_stop=self.stopping.is_set,
                    on_first_scrape=node_exporter_hook(self.offer_host),
                )
            except TargetError as exc:
                raise SystemExit(f"dashboard worker: {exc}") from exc
        if hasattr(self.store, "retention"):
            from dashboard.metrics.retention import run_retention
            from dashboard.telemetry import Metrics

            counters = Metrics()
            self.spawn(
                "retention",
                lambda: run_retention(store=self.store, metrics=counters, sleep=self.sleep),
            )
        if hasattr(self.store, "seal"):
            from dashboard.metrics.sealing import run_sealer
            from dashboard.telemetry import Metrics

            sealer_counters = Metrics()
            interval = self.settings.seal_interval_s
            self.spawn(
                "seal",
                lambda: run_sealer(
                    store=self.store,  # type: ignore[arg-type]
                    metrics=sealer_counters,
                    sleep=self.sleep,
                    interval_s=interval,
                ),
            )
        if self.settings.demo:
            from ingest import demo

            last = demo.last_demo_ts(self.store.list_series())
            self.spawn(
                "demo",
                lambda: demo.run(
                    self.bus.publish,
                    last_ts=last,
                    step_ms=self.settings.demo_backfill_step_s * 1000,
                    sleep=self.sleep,
                    should_stop=self.stopping.is_set,
                ),
            )
        log.info(
            "worker %s: persisting %s into %s (demo: %s)",
            self.name,
            self.bus.stream,
            self.store.kind,
            "on" if self.settings.demo else "off",
        )

    def publish(self, batch: Batch) -> int:
        """Publish a polled batch; store what it says of its metric families (once a change)."""
        accepted = self.bus.publish(batch)
        if batch.metadata:
            try:
                self.metadata.record(batch.metadata)
            except Exception as exc:  # noqa: BLE001 - the batch is on the bus; it comes again
                log.warning("metadata: not stored (%s)", exc)
        return accepted

    def offer_host(self, instance: str) -> str | None:
        """Save the "Host <instance>" dashboard of a polled node exporter unless there is one;
        its id when saved (the poller's series carry no ``instance`` label: it picks by none)."""
        from dashboard.boards.service import offer_host_dashboard
        from dashboard.boards.store import DashboardStore
        from dashboard.db.appdb import open_app_db

        store = DashboardStore(open_app_db(self.settings.resolved_database_url), owns_db=True)
        try:
            created = offer_host_dashboard(store=store, instance=instance, matchers={})
        finally:
            store.close()
        return created["id"] if created else None

    def new_tail(self) -> RedisBus:
        """A tail of its own over the whole stream from its end (a persister sees its share)."""
        tail = RedisBus(self.bus.client, stream=self.bus.stream)
        client, stream = self.bus.client, self.bus.stream
        info = client.xinfo_stream(stream) if client.exists(stream) else {}
        last = info.get("last-generated-id", b"0-0") if info else b"0-0"
        tail.last_tail_id = last if isinstance(last, bytes) else str(last).encode()
        return tail

    def stop(self, timeout: float = 5.0) -> None:
        """Ask every task to stop and wait for them."""
        self.stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.store.close()


def main(
    settings: Settings | None = None, *, extras: Sequence[Callable[[Worker], None]] = ()
) -> int:
    """Run the worker, and each of ``extras`` on it, until SIGTERM or SIGINT."""
    settings = settings or Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    worker = Worker(settings)
    signal.signal(signal.SIGTERM, lambda *_: worker.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: worker.stopping.set())
    worker.start()
    for extra in extras:
        extra(worker)  # nosec B610 # a start-up hook, not Django's QuerySet.extra
    while not worker.stopping.wait(1.0):
        pass
    log.info("worker %s: stopping at %d", worker.name, now_ms())
    worker.stop()
    return 0
