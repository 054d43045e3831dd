"""The node's Prometheus counters and gauges (served by ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
        self.hot_store_bytes = Gauge(
            "dashboard_hot_store_bytes", "Memory held by the hot store", registry=r
        )
        self.hot_series = Gauge("dashboard_hot_series", "Series in the hot store", registry=r)
        self.retention_dropped = Counter(
            "dashboard_retention_dropped", "Rows removed by retention", ["tier"], registry=r
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
