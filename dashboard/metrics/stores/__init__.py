"""Metric stores: one protocol (``store_interface.MetricStore``); memory, SQLite and PostgreSQL."""

from dashboard.metrics.frame import SeriesFrame, SeriesInfo
from dashboard.metrics.store_interface import MetricStore

__all__ = ["MetricStore", "SeriesFrame", "SeriesInfo"]
