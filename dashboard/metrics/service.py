"""Reading series for charts and the API: step choice, store read, downsampling."""

from __future__ import annotations

from typing import Any

import numpy as np

from dashboard.live.hub import Selector
from dashboard.metrics.downsample import downsample_indices
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.model import SeriesKey
from dashboard.metrics.steps import RAW, choose_step, step_named
from dashboard.runtime import Runtime


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


def widget_keys(
    rt: Runtime, widget: dict[str, Any], known: list[SeriesKey] | None = None
) -> list[SeriesKey]:
    """The series a widget shows (one frame each, in this order)."""
    selectors = [Selector.of(s["name"], s.get("labels") or {}) for s in widget["series"]]
    return matching_keys(rt, selectors, known)


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
    from dashboard.metrics.steps import HOUR
    from dashboard.metrics.timerange import resolve_range

    keys = widget_keys(rt, widget, known)
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
    if kind == "table":  # whole buckets, never downsampled: min, max and avg stay exact
        chosen = choose_step(start, end, now, 500) if step == "auto" else step_named(step)
        return [rt.query(k, start, end, chosen) for k in keys]
    return [read_series(rt, k, start, end, step=step, max_points=1000, now=now) for k in keys]


def frame_summary(frame: SeriesFrame) -> dict[str, float | None]:
    """last, min, max, avg and sum of a frame's points or buckets."""
    from dashboard.boards.view import summarize

    rollup = frame.step != RAW and frame.count is not None
    return summarize(
        frame.value.tolist(),
        mins=frame.min.tolist() if rollup and frame.min is not None else None,
        maxs=frame.max.tolist() if rollup and frame.max is not None else None,
        sums=frame.sum.tolist() if rollup and frame.sum is not None else None,
        counts=frame.count.tolist() if rollup and frame.count is not None else None,
        lasts=frame.last.tolist() if rollup and frame.last is not None else None,
    )


def period_values(
    rt: Runtime,
    widget: dict[str, Any],
    dashboard_range: dict[str, Any],
    now: int,
    known: list[SeriesKey] | None = None,
) -> tuple[float | None, float | None, int]:
    """A stat widget's aggregation over the range and over the same-length period just before
    it, with that length in ms (None where a period has no data)."""
    from dashboard.metrics.timerange import resolve_range

    keys = widget_keys(rt, widget, known)
    start, end = resolve_range(widget.get("range") or dashboard_range, now)
    length = end - start
    if not keys:
        return None, None, length
    how = widget.get("aggregation", "avg")
    step = choose_step(start - length, end, now, 500)  # one step for both: like for like

    def value(a: int, b: int) -> float | None:
        """The aggregation over ``[a, b]``."""
        summary = frame_summary(rt.query(keys[0], a, b, step))
        return summary["avg" if how not in summary else how]

    return value(start, end), value(start - length, start - 1), length


def view_widget(
    rt: Runtime,
    widget: dict[str, Any],
    drill: tuple[str, dict[str, str]] | None,
    known: list[SeriesKey] | None = None,
) -> dict[str, Any]:
    """The widget as the page shows it: a drilled-into pie becomes its slice's breakdown."""
    from dashboard.boards.view import drilled_widget

    if drill is None or drill[0] != widget["id"] or widget["kind"] != "pie":
        return widget
    path = drill[1]
    selectors = [
        Selector.of(s["name"], {**(s.get("labels") or {}), **path}) for s in widget["series"]
    ]
    return drilled_widget(widget, path, len(matching_keys(rt, selectors, known)))
