"""The node's Prometheus counters and gauges (served by ``/metrics``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# the hot store's stats() keys: (metric name, help); gauges first, then counters
HOT_GAUGES = {
    "series": ("dashboard_hot_series", "Series held in the hot store"),
    "points": ("dashboard_hot_points", "Points held in the hot store"),
    "bytes": ("dashboard_hot_store_bytes", "Memory held by the hot store"),
    "max_bytes": ("dashboard_hot_store_budget_bytes", "The hot store's budget (0: none)"),
}
HOT_COUNTERS = {
    "hits": ("dashboard_hot_hits", "Reads answered from what the hot store held"),
    "misses": ("dashboard_hot_misses", "Reads that had to load from the database"),
    "loads": ("dashboard_hot_loads", "Database reads that filled the hot store"),
    "evictions": ("dashboard_hot_evictions", "Series evicted to stay within the budget"),
    "refused": ("dashboard_hot_refused_points", "Points older than the raw retention, not held"),
}


class HotStoreCollector(Collector):
    """The hot store's gauges and counters, read from its ``stats()`` at each scrape."""

    def __init__(self, stats: Callable[[], dict[str, int]]) -> None:
        """Collect from ``stats``."""
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        """One family per stat."""
        stats = self.stats()
        for key, (name, text) in HOT_GAUGES.items():
            yield GaugeMetricFamily(name, text, value=stats[key])
        for key, (name, text) in HOT_COUNTERS.items():
            yield CounterMetricFamily(name, text, value=stats[key])


class CheckpointCollector(Collector):
    """The embedded SQLite file's background WAL checkpoints, read at each scrape."""

    def __init__(self, counts: Callable[[], tuple[int, int]]) -> None:
        """Collect ``(done, failed)`` from ``counts``."""
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        """One counter, by outcome."""
        done, failed = self.counts()
        family = CounterMetricFamily(
            "dashboard_sqlite_wal_checkpoints",
            "Background WAL checkpoints of the embedded SQLite file, by outcome (a failed one"
            " is logged; commits checkpoint themselves past 10,000 WAL pages)",
            labels=["outcome"],
        )
        family.add_metric(["done"], done)
        family.add_metric(["failed"], failed)
        yield family


class Metrics:
    """The node's Prometheus counters, in a registry of its own (one per app)."""

    def __init__(self) -> None:
        """Create every counter and gauge."""
        self.registry = CollectorRegistry()
        r = self.registry
        self.ingest_points = Counter(
            "dashboard_ingest_points", "Points accepted", ["source"], registry=r
        )
        self.ingest_batches = Counter(
            "dashboard_ingest_batches", "Batches accepted", ["source"], registry=r
        )
        self.ingest_rejected = Counter(
            "dashboard_ingest_rejected", "Requests refused", ["source", "reason"], registry=r
        )
        self.query_refused = Counter(
            "dashboard_query_refused", "PromQL queries refused, by reason", ["reason"], registry=r
        )
        self.live_messages = Counter(
            "dashboard_live_messages", "Points messages emitted to rooms", registry=r
        )
        self.live_skipped = Counter(
            "dashboard_live_skipped",
            "Messages not sent to a stalled client (it catches up when it drains)",
            registry=r,
        )
        self.live_clients = Gauge(
            "dashboard_live_clients", "Browsers connected to /live", registry=r
        )
        self.live_flush_seconds = Histogram(
            "dashboard_live_flush_seconds",
            "Time to encode and emit one flush",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
            registry=r,
        )
        self.live_expr_seconds = Histogram(
            "dashboard_live_expressions_seconds",
            "Time to evaluate the expressions the viewers' dashboards draw, once a second",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=r,
        )
        self.known_series = Gauge(
            "dashboard_series_known", "Series counted against DASHBOARD_MAX_SERIES", registry=r
        )
        self.retention_dropped = Counter(
            "dashboard_retention_dropped",
            "Removed by retention: raw points (raw), rollup chunks (5m, 1h, 1d)",
            ["tier"],
            registry=r,
        )
        self.sealed_points = Counter(
            "dashboard_sealed_points", "Head points sealed into compressed chunks", registry=r
        )
        self.seal_seconds = Histogram(
            "dashboard_seal_seconds",
            "Time of one pass sealing the head into chunks",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=r,
        )
        self.chunk_faults = Gauge(
            "dashboard_chunk_faults",
            "Stored chunks that did not decode since start (each logged with series and time)",
            registry=r,
        )
        self.db_stored = Gauge(
            "dashboard_db_stored",
            "What the database holds: series, head_points, chunks,"
            " chunk_points, rollup_chunks (read every 10 minutes by the sealer)",
            ["what"],
            registry=r,
        )
        self.db_bytes = Gauge(
            "dashboard_db_bytes",
            "Bytes on disk by part (head, chunks, rollups, series; sqlite: the whole file),"
            " read every 10 minutes by the sealer",
            ["part"],
            registry=r,
        )
        self.db_compression_ratio = Gauge(
            "dashboard_db_compression_ratio",
            "Raw chunks: 16 bytes a point over the chunks' bytes, read every 10 minutes",
            registry=r,
        )
        self.alert_events = Counter(
            "dashboard_alert_events", "Alert transitions recorded here", ["state"], registry=r
        )
        self.webhooks = Counter("dashboard_webhooks", "Webhook deliveries", ["outcome"], registry=r)
        self.bus_lag = Gauge(
            "dashboard_bus_lag",
            "Stream entries the persisters have not acknowledged (-1: Redis unreachable)",
            registry=r,
        )
        self.polls = Counter("dashboard_polls", "Polls of a poll target", ["target"], registry=r)
        self.poll_failures = Counter(
            "dashboard_poll_failures", "Polls that failed, by target", ["target"], registry=r
        )

    def watch_checkpoints(self, counts: Callable[[], tuple[int, int]]) -> None:
        """Export the SQLite file's background checkpoints (done, failed)."""
        self.registry.register(CheckpointCollector(counts))

    def watch_hot_store(self, stats: Callable[[], dict[str, int]]) -> None:
        """Export the hot store's stats (series, points, bytes, hits, misses, evictions...)."""
        self.registry.register(HotStoreCollector(stats))
