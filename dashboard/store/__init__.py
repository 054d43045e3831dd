"""Metric stores: one protocol (``base.MetricStore``), memory and SQLite implementations."""

from dashboard.store.base import MetricStore, SeriesFrame, SeriesInfo

__all__ = ["MetricStore", "SeriesFrame", "SeriesInfo"]
