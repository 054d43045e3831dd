"""Reading series for charts and the API: step choice, store read, downsampling."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np

from dashboard.metrics.downsample import downsample_indices
from dashboard.metrics.frame import SeriesFrame, SeriesInfo
from dashboard.metrics.metadata import MetricMetadata, select, type_of
from dashboard.metrics.model import Selector, SeriesKey
from dashboard.metrics.steps import RAW, Step, choose_step, step_named


class SeriesReader(Protocol):
    """Where series are read from: the known series and range reads (the node's runtime)."""

    def series_list(self) -> list[SeriesInfo]:
        """Every known series."""
        ...

    def query(self, key: SeriesKey, start_ms: int, end_ms: int, step: Step) -> SeriesFrame:
        """Points (raw) or buckets (rollups) of one series in ``[start_ms, end_ms]``."""
        ...


class StoreReader:
    """A metric store read as a SeriesReader (a process without a hot store: the worker)."""

    def __init__(self, store: Any) -> None:
        """Read through ``store`` (``list_series`` and ``query``)."""
        self.store = store

    def series_list(self) -> list[SeriesInfo]:
        """Every stored series."""
        return list(self.store.list_series())

    def query(self, key: SeriesKey, start_ms: int, end_ms: int, step: Step) -> SeriesFrame:
        """The store's points or buckets of one series."""
        return self.store.query(key, start_ms, end_ms, step)  # type: ignore[no-any-return]


def read_series(
    *,
    reader: SeriesReader,
    key: SeriesKey,
    start_ms: int,
    end_ms: int,
    now: int,
    step: str = "auto",
    max_points: int = 1000,
) -> SeriesFrame:
    """One series over a range at the chosen step, downsampled to ``max_points``."""
    chosen = choose_step(start_ms, end_ms, now, max_points) if step == "auto" else step_named(step)
    frame = reader.query(key, start_ms, end_ms, chosen)
    if len(frame) > max_points:
        frame = frame.take(downsample_indices(frame.ts, frame.value, max_points))
    return frame


def known_keys(*, reader: SeriesReader) -> list[SeriesKey]:
    """The keys of every known series, in key order."""
    return [info.key for info in reader.series_list()]


def matching_keys(
    *,
    reader: SeriesReader,
    selectors: Iterable[Selector],
    known: list[SeriesKey] | None = None,
) -> list[SeriesKey]:
    """Known series (``known``, or the reader's list) picked by any selector, in key order."""
    keys = known if known is not None else known_keys(reader=reader)
    wanted = list(selectors)
    return [k for k in keys if any(s.matches(k) for s in wanted)]


def frame_json(frame: SeriesFrame) -> dict[str, Any]:
    """The API form of a frame: points, plus min/max/count columns for rollups."""
    out: dict[str, Any] = {
        "key": str(frame.key),
        "name": frame.key.name,
        "labels": frame.key.label_dict,
        "step": frame.step.name,
        "points": [
            [int(t), float(v)] for t, v in zip(frame.ts.tolist(), frame.value.tolist(), strict=True)
        ],
    }
    if frame.step != RAW and frame.min is not None:
        out["min"] = np.asarray(frame.min).tolist()
        out["max"] = np.asarray(frame.max).tolist()
        out["count"] = np.asarray(frame.count).astype(int).tolist()
    return out


# --- the series API (``dashboard.metrics.views``) -------------------------------------------


class UnknownSeries(LookupError):
    """No known series has this key."""

    def __init__(self, key: SeriesKey) -> None:
        """The error for ``key``."""
        super().__init__(str(key))
        self.key = key


class LiveFeed(Protocol):
    """What arrived after a cursor: the node's realtime hub."""

    def since(self, cursor: str, selectors: Iterable[Selector]) -> dict[str, object]:
        """The points of the selected series that arrived after ``cursor``."""
        ...


def list_series(*, reader: SeriesReader) -> list[SeriesInfo]:
    """Every known series with its unit and time span, in key order."""
    return reader.series_list()


class MetadataReader(Protocol):
    """Where metric metadata is read from (the node's runtime)."""

    def metric_metadata(self) -> dict[str, MetricMetadata]:
        """Every metric family's stored metadata, by name."""
        ...


def listed_series(*, reader: SeriesReader, metadata: MetadataReader) -> list[dict[str, Any]]:
    """Every known series in its API form, with the ``type`` of its metric family
    (counter, gauge, histogram, summary, or unknown)."""
    known = metadata.metric_metadata()
    return [
        {**info.to_json(), "type": type_of(info.key.name, known)} for info in reader.series_list()
    ]


def metadata_data(
    *, metadata: MetadataReader, metric: str | None = None, limit: int | None = None
) -> dict[str, list[dict[str, str]]]:
    """Prometheus' ``/api/v1/metadata`` data: family name -> [{type, help, unit}]."""
    return select(metadata.metric_metadata(), metric=metric, limit=limit)


def known_series(*, reader: SeriesReader, key: SeriesKey) -> SeriesKey:
    """``key`` when a series is known by it; UnknownSeries otherwise."""
    if key not in set(known_keys(reader=reader)):
        raise UnknownSeries(key)
    return key


def series_since(*, feed: LiveFeed, key: SeriesKey, since: str) -> dict[str, Any]:
    """The API form of the points one series received after the cursor ``since``."""
    result = feed.since(since, [Selector.of(key.name, key.label_dict)])
    received = result["series"]
    return {
        "key": str(key),
        "name": key.name,
        "labels": key.label_dict,
        "step": "raw",
        "cursor": result["cursor"],
        "reset": bool(result.get("reset")),
        "points": received.get(str(key), []) if isinstance(received, dict) else [],
    }
