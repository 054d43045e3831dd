"""One node's running parts: stores, bus, hub and counters, wired together once per app."""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from dashboard.alerts.runner import AlertService, Notifier
from dashboard.alerts.store import AlertStore
from dashboard.auth.users import SQLUserStore, UserStore
from dashboard.boards.store import DashboardStore
from dashboard.clock import now_ms
from dashboard.db.appdb import AppDB
from dashboard.export.render_pool import RenderPool
from dashboard.live.hub import Hub, stream_seq
from dashboard.metrics.frame import SeriesFrame, SeriesInfo
from dashboard.metrics.model import Batch, Limits, SeriesKey, SeriesPoints
from dashboard.metrics.steps import DAY, RAW, Step
from dashboard.metrics.store_interface import MetricStore
from dashboard.metrics.stores import open_store
from dashboard.metrics.stores.history_cache import HistoryCache, open_history_cache
from dashboard.metrics.stores.memory import MemoryStore
from dashboard.settings import Settings
from dashboard.telemetry import Metrics
from ingest.bus import Bus, EmbeddedBus
from ingest.redis_bus import RedisBus

log = logging.getLogger(__name__)


def open_app_db(settings: Settings) -> AppDB:
    """The database of users, tokens, dashboards and alerts: the metrics' database."""
    from dashboard.db import appdb

    return appdb.open_app_db(settings.resolved_database_url)


def open_user_store(settings: Settings) -> UserStore:
    """The user store in the configured database (for the CLI)."""
    return SQLUserStore(open_app_db(settings), owns_db=True)


def open_alert_store(settings: Settings) -> AlertStore:
    """The alert rules and events in the configured database (for the worker)."""
    return AlertStore(open_app_db(settings), owns_db=True)


def read_or_create_secret(path: Path, nbytes: int = 32) -> str:
    """A secret kept in a file readable only by its owner, created on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    path.touch(mode=0o600)
    path.write_text(value + "\n")
    return value


@dataclass
class Runtime:
    """Everything a node needs at run time; built once by ``Runtime.open``."""

    settings: Settings
    store: MetricStore
    hot: MemoryStore
    hub: Hub
    bus: Bus
    metrics: Metrics
    users: UserStore
    env_tokens: frozenset[str]
    limits: Limits
    started_at: float = field(default_factory=time.time)
    live_clients: int = 0
    live_sink: Callable[[Batch], None] | None = None
    alerts: AlertService | None = None
    dashboards: DashboardStore | None = None
    app_db: AppDB | None = None
    alert_sink: Callable[[dict], None] | None = None
    tasks: dict[str, str | dict] = field(default_factory=dict)  # /healthz; pollers: a dict

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        """Open the store, warm the hot store from it, and wire the bus to its consumers."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = open_store(settings)
        hot = MemoryStore()
        hub = Hub(
            window_s=settings.live_window_ms / 1000,
            # nodes on one stream share cursors, so a browser can move to another node
            epoch=f"s{settings.redis_prefix}" if settings.redis_url else None,
        )
        bus: Bus = (
            RedisBus.from_url(
                settings.redis_url,
                stream=f"{settings.redis_prefix}:points",
                max_lag=settings.bus_max_lag,
                claim_idle_ms=settings.bus_claim_idle_ms,
            )
            if settings.redis_url
            else EmbeddedBus(store)
        )
        limits = Limits(
            max_points=settings.max_batch_points,
            max_age_ms=settings.max_point_age_s * 1000,
            max_future_ms=settings.max_future_skew_s * 1000,
        )
        app_db = open_app_db(settings)
        users = SQLUserStore(app_db)
        env_tokens = frozenset(settings.ingest_tokens)
        rt = cls(settings, store, hot, hub, bus, Metrics(), users, env_tokens, limits)
        rt.app_db = app_db
        if isinstance(bus, RedisBus):
            bus.on_tail_start = lambda entry_id: hub.start_at(stream_seq(entry_id))
            # where the tail starts is fixed before the database is read, so an entry persisted
            # in between is both in the hot store's warm-up and replayed (harmless: idempotent)
            try:
                bus.last_tail_id = bus.start_id()
                hub.start_at(stream_seq(bus.last_tail_id))
            except Exception as exc:  # noqa: BLE001 - Redis down: the tail decides when it is back
                log.warning("bus: cannot read the stream's position yet (%s)", exc)
        rt.warm_hot_store()
        bus.subscribe(hot.write)
        bus.subscribe(rt.publish_live)
        rt.dashboards = DashboardStore(app_db)
        rt.alerts = AlertService(
            AlertStore(app_db),
            emit=rt.publish_alert,
            notifier=Notifier(
                allow_private=settings.webhook_allow_private,
                on_result=lambda url, ok: rt.metrics.webhooks.labels(
                    "delivered" if ok else "failed"
                ).inc(),
            ),
            global_webhook=settings.alert_webhook,
        )
        if not isinstance(bus, RedisBus):
            # embedded: this node evaluates the rules; with Redis the worker does
            bus.subscribe(rt.alerts.on_batch)
        bus.subscribe(rt.forget_history)
        rt.metrics.hot_store_bytes.set_function(hot.memory_bytes)
        rt.metrics.hot_series.set_function(lambda: len(hot.list_series()))
        rt.metrics.live_clients.set_function(lambda: rt.live_clients)
        rt.metrics.bus_lag.set_function(rt.bus_lag)
        return rt

    def publish_live(self, batch: Batch) -> None:
        """Hand a batch to the live edge (``live_sink``), or straight to the hub without one."""
        if self.live_sink is not None:
            self.live_sink(batch)
        elif self.hub.publish(batch) is not None:
            self.hub.flush()

    def dashboard(self, dashboard_id: str) -> dict | None:
        """A saved dashboard by id."""
        return self.dashboards.get(dashboard_id) if self.dashboards else None

    def publish_alert(self, payload: dict) -> None:
        """Count an alert event and hand it to the live edge (which emits it to browsers)."""
        self.metrics.alert_events.labels(str(payload.get("state"))).inc()
        if self.alert_sink is not None:
            self.alert_sink(payload)

    def warm_hot_store(self) -> None:
        """Load the last 24 h of raw points from the persistent store into the hot store."""
        end = now_ms()
        start = end - DAY
        loaded = 0
        for info in self.store.list_series():
            if info.last_ts < start:
                continue
            frame = self.store.query(info.key, start, end + DAY, RAW)
            if len(frame):
                self.hot.write(Batch([SeriesPoints(info.key, frame.ts, frame.value, info.unit)]))
                loaded += len(frame)
        if loaded:
            log.info("hot store warmed with %d points from %s", loaded, self.store.kind)

    def series_list(self) -> list[SeriesInfo]:
        """Known series: the persistent store's, with the hot store's newer last timestamps."""
        merged = {i.key: i for i in self.store.list_series()}
        for info in self.hot.list_series():
            old = merged.get(info.key)
            if old is None or info.last_ts > old.last_ts:
                merged[info.key] = SeriesInfo(
                    info.key,
                    info.unit or (old.unit if old else ""),
                    min(info.first_ts, old.first_ts) if old else info.first_ts,
                    info.last_ts,
                )
        return [merged[k] for k in sorted(merged)]

    def query(self, key: SeriesKey, start_ms: int, end_ms: int, step: Step) -> SeriesFrame:
        """Read from the hot store when the range lies in its 24 h, else from the database
        through the history cache."""
        now = now_ms()
        if start_ms >= now - DAY:
            return self.hot.query(key, start_ms, end_ms, step)
        return self.history.read(key, start_ms, end_ms, step, now=now, load=self.store.query)

    @cached_property
    def render_pool(self) -> RenderPool:
        """The warm kaleido processes for PDF reports, started on first use."""
        return RenderPool(size=self.settings.render_processes, chromium=self.settings.chromium_path)

    @cached_property
    def history(self) -> HistoryCache:
        """The cache of database reads (L2 on Redis when configured), built on first use."""
        return open_history_cache(self.settings.redis_url, self.settings.redis_prefix)

    def forget_history(self, batch: Batch) -> None:
        """Drop cached history blocks that a late batch changes."""
        self.history.invalidate(batch, now_ms())

    def bus_lag(self) -> float:
        """The persisters' backlog on the Redis bus (0 embedded, -1 when Redis is down)."""
        if not isinstance(self.bus, RedisBus):
            return 0
        try:
            return float(self.bus.lag())
        except Exception:  # noqa: BLE001 - a scrape must not fail because Redis did
            return -1

    def ingest_token_name(self, token: str) -> str | None:
        """The name of a valid ingest token: one from the environment, or a stored one."""
        found = None
        for i, accepted in enumerate(sorted(self.env_tokens)):
            if hmac.compare_digest(token.encode(), accepted.encode()):
                found = f"env-{i}"
        return found or self.users.token_name(token)

    def close(self) -> None:
        """Close the stores."""
        if "history" in self.__dict__:
            self.history.close()
        self.store.close()
        self.hot.close()
        self.users.close()
        if self.alerts is not None:
            self.alerts.store.close()
        if self.app_db is not None:
            self.app_db.close()
        if "render_pool" in self.__dict__:
            self.render_pool.close()
