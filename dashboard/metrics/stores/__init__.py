"""Metric stores: one protocol (``store_interface.MetricStore``); memory, SQLite and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dashboard.metrics.frame import SeriesFrame, SeriesInfo
from dashboard.metrics.store_interface import MetricStore
from dashboard.metrics.stores.sqlite import SQLiteStore

if TYPE_CHECKING:
    from dashboard.settings import Settings

__all__ = ["MetricStore", "SeriesFrame", "SeriesInfo", "open_store"]


def open_store(settings: Settings) -> MetricStore:
    """The persistent store the database URL names."""
    url = settings.resolved_database_url
    if url.startswith("sqlite:///"):
        return SQLiteStore(url.removeprefix("sqlite:///"))
    if url.startswith("sqlite://"):
        return SQLiteStore(":memory:")
    if url.startswith(("postgresql://", "postgres://")):
        from dashboard.metrics.stores.postgres import PostgresStore

        return PostgresStore(url, raw_retention_days=settings.raw_retention_days)
    raise SystemExit(f"DASHBOARD_DATABASE_URL: unsupported scheme in {url.split(':', 1)[0]!r}")
