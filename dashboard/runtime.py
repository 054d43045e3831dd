"""One node's running parts: stores, bus, hub, services and counters, wired once per app."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from dashboard.alerts.runner import AlertService, Notifier
from dashboard.alerts.store import AlertStore
from dashboard.auth.bootstrap import secret_config
from dashboard.auth.service import ingest_token_name, token_grant
from dashboard.auth.users import SQLUserStore, TokenGrant, UserStore
from dashboard.boards.store import DashboardStore
from dashboard.clock import now_ms
from dashboard.db.appdb import AppDB, open_app_db
from dashboard.db.audit import AuditLog
from dashboard.export.render_pool import RenderPool
from dashboard.live.health import DependencyProbe
from dashboard.live.hub import Hub
from dashboard.metrics.cardinality import SeriesLimit
from dashboard.metrics.frame import SeriesFrame, SeriesInfo
from dashboard.metrics.metadata import MetadataCache, MetricMetadata
from dashboard.metrics.model import Batch, Limits, SeriesKey
from dashboard.metrics.steps import DAY, RAW, Step
from dashboard.metrics.store_interface import MetricStore
from dashboard.metrics.stores import open_store
from dashboard.metrics.stores.history_cache import HistoryCache, open_history_cache
from dashboard.metrics.stores.hot import HotStore
from dashboard.query.service import QueryLimits
from dashboard.secretbox import SecretBox
from dashboard.settings import Settings
from dashboard.telemetry import Metrics
from ingest.bus import Bus, EmbeddedBus
from ingest.redis_bus import RedisBus, stream_seq

log = logging.getLogger(__name__)


def open_bus(settings: Settings, store: MetricStore) -> Bus:
    """The Redis stream when ``DASHBOARD_REDIS_URL`` is set, else the store itself."""
    if not settings.redis_url:
        return EmbeddedBus(store)
    return RedisBus.from_url(
        settings.redis_url,
        stream=f"{settings.redis_prefix}:points",
        max_lag=settings.bus_max_lag,
        claim_idle_ms=settings.bus_claim_idle_ms,
    )


def batch_limits(settings: Settings) -> Limits:
    """What one ingested batch may hold: its size and how old or early its points may be."""
    return Limits(
        max_points=settings.max_batch_points,
        max_age_ms=settings.max_point_age_s * 1000,
        max_future_ms=settings.max_future_skew_s * 1000,
    )


def secret_box(settings: Settings) -> SecretBox:
    """What encrypts the secrets kept at rest (webhooks): a key from the node's secret."""
    return SecretBox(secret_config(settings)["SECRET_KEY"])


def open_alerts(settings: Settings, app_db: AppDB, metrics: Metrics) -> AlertService:
    """The alert rules at work, with webhooks counted; it emits nothing until wired."""
    return AlertService(
        AlertStore(app_db, box=secret_box(settings)),
        emit=lambda _payload: None,
        notifier=Notifier(
            allow_private=settings.webhook_allow_private,
            on_result=lambda _url, ok: metrics.webhooks.labels(
                "delivered" if ok else "failed"
            ).inc(),
        ),
        global_webhook=settings.alert_webhook,
    )


@dataclass
class Runtime:
    """Everything a node needs at run time; built once by ``Runtime.open``."""

    settings: Settings
    store: MetricStore
    hot: HotStore
    hub: Hub
    bus: Bus
    metrics: Metrics
    app_db: AppDB
    users: UserStore
    dashboards: DashboardStore
    alerts: AlertService
    env_tokens: frozenset[str]
    limits: Limits
    series_limit: SeriesLimit
    started_at: float = field(default_factory=time.time)
    live_clients: int = 0
    live_sink: Callable[[Batch], None] | None = None
    alert_sink: Callable[[dict], None] | None = None
    # what /healthz reports: kept fresh by the serve task that pings (live/socket.py)
    dependencies: DependencyProbe = field(default_factory=DependencyProbe)
    tasks: dict[str, str | dict] = field(default_factory=dict)  # /healthz; pollers: a dict
    metadata_failing: bool = False  # the last metadata write failed (logged once per outage)

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        """Open the stores, warm the hot store, and wire the bus to its consumers."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = open_store(settings)
        metrics = Metrics()
        app_db = open_app_db(settings.resolved_database_url)
        rt = cls(
            settings=settings,
            store=store,
            hot=HotStore(
                max_bytes=settings.hot_memory_mb * 2**20,
                # a series is read from the database the first time it is asked for
                loader=lambda key, start, end: store.query(key, start, end, RAW),
            ),
            hub=Hub(
                window_s=settings.live_window_ms / 1000,
                # nodes on one stream share cursors, so a browser can move to another node
                epoch=f"s{settings.redis_prefix}" if settings.redis_url else None,
            ),
            bus=open_bus(settings, store),
            metrics=metrics,
            app_db=app_db,
            users=SQLUserStore(app_db),
            dashboards=DashboardStore(app_db),
            alerts=open_alerts(settings, app_db, metrics),
            env_tokens=frozenset(settings.ingest_tokens),
            limits=batch_limits(settings),
            series_limit=SeriesLimit(
                settings.max_series, known=(i.key for i in store.list_series())
            ),
        )
        rt.alerts.emit = rt.publish_alert
        rt.alerts.reader, rt.alerts.limits = rt, rt.query_limits  # expression rules read here
        rt.start_tail_at_stream()
        rt.subscribe_consumers()
        return rt

    def start_tail_at_stream(self) -> None:
        """On the Redis bus, start the hub's cursor where the bus's tail starts reading."""
        bus, hub = self.bus, self.hub
        if not isinstance(bus, RedisBus):
            return
        bus.on_tail_start = lambda entry_id: hub.start_at(stream_seq(entry_id))
        # where the tail starts is fixed before the database is read, so an entry persisted
        # in between is both in the hot store's warm-up and replayed (harmless: idempotent)
        try:
            bus.last_tail_id = bus.start_id()
            hub.start_at(stream_seq(bus.last_tail_id))
        except Exception as exc:  # noqa: BLE001 - Redis down: the tail decides when it is back
            log.warning("bus: cannot read the stream's position yet (%s)", exc)

    def subscribe_consumers(self) -> None:
        """Hand every batch on the bus to the hot store, the live edge, the alert rules (when
        this node evaluates them) and the history cache; and publish the node's gauges."""
        bus, hot = self.bus, self.hot
        bus.subscribe(hot.write)
        bus.subscribe(self.publish_live)
        if not isinstance(bus, RedisBus):
            # embedded: this node evaluates the rules; with Redis the worker does
            bus.subscribe(self.alerts.on_batch)
        bus.subscribe(self.forget_history)
        self.metrics.watch_hot_store(hot.stats)
        checkpointer = getattr(self.store, "checkpointer", None)
        if checkpointer is not None:  # the embedded SQLite file
            self.metrics.watch_checkpoints(lambda: (checkpointer.runs, checkpointer.failures))
        self.metrics.known_series.set_function(lambda: len(self.series_limit))
        self.metrics.live_clients.set_function(lambda: self.live_clients)
        self.metrics.bus_lag.set_function(self.bus_lag)

    def publish(self, batch: Batch) -> int:
        """Hand a batch of the node's own sources (pollers, demo) to the bus within the series
        limit (SeriesLimitExceeded otherwise: a poll fails and says why)."""
        self.series_limit.admit(batch)
        accepted = self.bus.publish(batch)
        if batch.metadata:
            self.record_metadata(batch.metadata)
        return accepted

    @cached_property
    def metadata_cache(self) -> MetadataCache:
        """The metric metadata this node has stored, so unchanged families are not rewritten."""
        return MetadataCache(self.store.metadata, self.store.upsert_metadata)

    def record_metadata(self, entries: list[MetricMetadata]) -> None:
        """Store what a taken batch said of its metric families (type, help, unit) in the
        metrics store, once per change; a failure is logged (the points are taken already)."""
        try:
            self.metadata_cache.record(entries)
        except Exception as exc:  # noqa: BLE001 - the batch is durable; metadata comes again
            if not self.metadata_failing:  # once per outage, not once per batch
                log.warning("metadata: not stored (%s)", exc)
            self.metadata_failing = True
        else:
            self.metadata_failing = False

    def metric_metadata(self) -> dict[str, MetricMetadata]:
        """Every metric family's stored metadata (type, help, unit), by name."""
        return self.store.metadata()

    def publish_live(self, batch: Batch) -> None:
        """Hand a batch to the live edge (``live_sink``), or straight to the hub without one."""
        if self.live_sink is not None:
            self.live_sink(batch)
        elif self.hub.publish(batch) is not None:
            self.hub.flush()

    @property
    def query_limits(self) -> QueryLimits:
        """The bounds of one PromQL query here (the API's, the widgets' and the alerts')."""
        return QueryLimits(self.settings.query_max_samples, self.settings.query_timeout_s)

    def dashboard(self, dashboard_id: str) -> dict | None:
        """A saved dashboard by id."""
        return self.dashboards.get(dashboard_id)

    def publish_alert(self, payload: dict) -> None:
        """Count an alert event and hand it to the live edge (which emits it to browsers)."""
        self.metrics.alert_events.labels(str(payload.get("state"))).inc()
        if self.alert_sink is not None:
            self.alert_sink(payload)

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

    def query_many(
        self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """RAW points of many series as flat arrays and offsets (``HotStore.query_many``):
        from the hot store in one call when the range lies in its 24 h, else one series at a
        time through the history cache."""
        now = now_ms()
        if start_ms >= now - DAY:
            return self.hot.query_many(keys, start_ms, end_ms)
        frames = [
            self.history.read(key, start_ms, end_ms, RAW, now=now, load=self.store.query)
            for key in keys
        ]
        offsets = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum([len(f) for f in frames], out=offsets[1:])
        if not frames:
            return np.zeros(0, dtype=np.int64), np.zeros(0), offsets
        ts = np.concatenate([f.ts for f in frames]).astype(np.int64, copy=False)
        return ts, np.concatenate([f.value for f in frames]).astype(np.float64), offsets

    def newest_many(
        self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each series' newest RAW point in ``[start_ms, end_ms]`` (``HotStore.newest_many``)
        when the range lies in the hot store's 24 h, else :meth:`query_many`'s points."""
        if start_ms >= now_ms() - DAY:
            return self.hot.newest_many(keys, start_ms, end_ms)
        return self.query_many(keys, start_ms, end_ms)

    def hour_buckets_many(
        self, keys: Sequence[SeriesKey], start_ms: int, end_ms: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """One-hour buckets of many series' RAW points from the hot store
        (``HotStore.hour_buckets_many``); None past its 24 h (RAW points are read then)."""
        if start_ms < now_ms() - DAY:
            return None
        return self.hot.hour_buckets_many(keys, start_ms, end_ms)

    @cached_property
    def audit(self) -> AuditLog:
        """The audit trail in the app's database (the stores carry it too): exports go here."""
        return AuditLog(self.app_db)

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
        return ingest_token_name(users=self.users, env_tokens=self.env_tokens, token=token)

    def token_grant(self, token: str) -> TokenGrant | None:
        """The name and scope of a valid bearer token of either scope: from the environment
        (``DASHBOARD_INGEST_TOKENS``, ``DASHBOARD_READ_TOKENS``) or stored."""
        return token_grant(
            users=self.users,
            env_tokens=self.env_tokens,
            env_read_tokens=frozenset(self.settings.read_tokens),
            token=token,
        )

    def close(self) -> None:
        """Close the stores."""
        if "history" in self.__dict__:
            self.history.close()
        self.store.close()
        self.hot.close()
        self.users.close()
        self.alerts.store.close()
        self.app_db.close()
        if "render_pool" in self.__dict__:
            self.render_pool.close()
