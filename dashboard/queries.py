"""Reading series for charts and the API: step choice, store read, downsampling."""

from __future__ import annotations

from typing import Any

import numpy as np

from dashboard.downsample import downsample_indices
from dashboard.model import SeriesKey
from dashboard.realtime import Selector
from dashboard.runtime import Runtime
from dashboard.steps import RAW, choose_step, step_named
from dashboard.store.base import SeriesFrame


def read_series(
    rt: Runtime,
    key: SeriesKey,
    start_ms: int,
    end_ms: int,
    *,
    step: str = "auto",
    max_points: int = 1000,
    now: int,
) -> SeriesFrame:
    """One series over a range at the chosen step, downsampled to ``max_points``."""
    chosen = choose_step(start_ms, end_ms, now, max_points) if step == "auto" else step_named(step)
    frame = rt.query(key, start_ms, end_ms, chosen)
    if len(frame) > max_points:
        frame = frame.take(downsample_indices(frame.ts, frame.value, max_points))
    return frame


def matching_keys(
    rt: Runtime, selectors: list[Selector], known: list[SeriesKey] | None = None
) -> list[SeriesKey]:
    """Known series (``known``, or the runtime's list) picked by any selector, in key order."""
    keys = known if known is not None else [i.key for i in rt.series_list()]
    return [k for k in keys if any(s.matches(k) for s in selectors)]


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


def widget_frames(
    rt: Runtime,
    widget: dict[str, Any],
    dashboard_range: dict[str, Any],
    now: int,
    known: list[SeriesKey] | None = None,
) -> list[SeriesFrame]:
    """The frames a widget draws, one per matching series, read as its kind needs them.

    ``known`` saves listing the series again for each widget of a page.
    """
    from dashboard.steps import HOUR
    from dashboard.timerange import resolve_range

    selectors = [Selector.of(s["name"], s.get("labels") or {}) for s in widget["series"]]
    keys = matching_keys(rt, selectors, known)
    kind = widget["kind"]
    start, end = resolve_range(widget.get("range") or dashboard_range, now)
    step = widget.get("step", "auto")
    if kind == "stat":
        return [
            read_series(rt, k, now - HOUR, now, step="raw", max_points=120, now=now) for k in keys
        ]
    if kind == "status":
        return [
            read_series(rt, k, now - 5 * 60_000, now, step="raw", max_points=10, now=now)
            for k in keys
        ]
    if kind == "pie":
        return [read_series(rt, k, start, end, step="1m", max_points=10_000, now=now) for k in keys]
    return [read_series(rt, k, start, end, step=step, max_points=1000, now=now) for k in keys]
