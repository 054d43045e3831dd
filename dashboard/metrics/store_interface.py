"""The store boundary: what every metric store offers, whatever keeps the data."""

from __future__ import annotations

from typing import Protocol

from dashboard.metrics.frame import SeriesFrame, SeriesInfo
from dashboard.metrics.metadata import MetricMetadata
from dashboard.metrics.model import Batch, SeriesKey
from dashboard.metrics.steps import Step


class MetricStore(Protocol):
    """Keeps points and answers range queries at any step."""

    kind: str

    def write(self, batch: Batch) -> int:
        """Store a validated batch idempotently; return the number of points given."""
        ...

    def list_series(self) -> list[SeriesInfo]:
        """Every known series."""
        ...

    def query(self, key: SeriesKey, start_ms: int, end_ms: int, step: Step) -> SeriesFrame:
        """Points (raw) or buckets (rollups) of one series in ``[start_ms, end_ms]``."""
        ...

    def upsert_metadata(self, entries: list[MetricMetadata]) -> None:
        """Store metric families' metadata; the latest non-empty value of each field wins."""
        ...

    def metadata(self) -> dict[str, MetricMetadata]:
        """Every stored family's metadata (type, help, unit), by family name."""
        ...

    def ping(self) -> bool:
        """True when the store answers."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
