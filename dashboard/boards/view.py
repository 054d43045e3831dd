"""What a page URL asks to see (pure): the dashboard, the range, a label filter, a pie
drill-down, the breadcrumb back up and a KPI's change against the previous period; and what a
page shows of a dashboard once its series are read (``BoardView``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode

from dashboard.boards.variables import URL_PREFIX, url_values
from dashboard.metrics.frame import SeriesFrame
from dashboard.metrics.model import LABEL_KEY_RE, SeriesKey
from dashboard.metrics.timerange import (
    DEFAULT_PRESET,
    PRESETS,
    dashboard_from_search,
    from_search,
)

MAX_FILTER_TERMS = 10
MAX_FILTER_LEN = 500


def parse_filter(text: str | None) -> dict[str, str]:
    """``{"region": "eu"}`` from ``region=eu`` (comma-separated ``k=v`` terms; empty: no filter).

    Raises ValueError with a message a user can act on for anything else.
    """
    text = (text or "").strip()
    if not text:
        return {}
    if len(text) > MAX_FILTER_LEN:
        raise ValueError(f"filter: at most {MAX_FILTER_LEN} characters")
    terms = [t.strip() for t in text.split(",") if t.strip()]
    if len(terms) > MAX_FILTER_TERMS:
        raise ValueError(f"filter: at most {MAX_FILTER_TERMS} label=value terms")
    out: dict[str, str] = {}
    for term in terms:
        key, sep, value = (p.strip() for p in term.partition("="))
        if not sep or not value:
            raise ValueError(f"filter: {term[:40]!r} is not label=value (e.g. region=eu)")
        if not LABEL_KEY_RE.match(key):
            raise ValueError(f"filter: {key[:40]!r} is not a label name (letters, digits, _)")
        if key in out and out[key] != value:
            raise ValueError(f"filter: {key!r} given twice with different values")
        out[key] = value
    return out


def filter_text(labels: Mapping[str, str]) -> str:
    """The ``k=v,k=v`` form of a filter or drill path (parse_filter reads it back)."""
    return ",".join(f"{k}={v}" for k, v in labels.items())


def labels_match(labels: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    """Whether a series' labels carry every wanted label with its value (missing: no match)."""
    return all(labels.get(k) == v for k, v in wanted.items())


def parse_drill(text: str | None) -> tuple[str, dict[str, str]] | None:
    """``("pie-requests", {"route": "/api"})`` from ``pie-requests:route=/api`` (None: no drill).

    Several labels (``w:route=/api,region=eu``) are successive drill levels, in order.
    """
    widget, sep, path = (text or "").partition(":")
    if not sep or not widget:
        return None
    try:
        labels = parse_filter(path)
    except ValueError:
        return None
    return (widget, labels) if labels else None


def slice_label(labels: Mapping[str, str], varying: Sequence[str]) -> str:
    """The ``k=v`` a pie slice is known by: its first label that differs between slices."""
    for key in varying:
        if key in labels:
            return f"{key}={labels[key]}"
    return ""


def varying_labels(label_sets: Sequence[Mapping[str, str]]) -> list[str]:
    """Label names whose values differ between the series (all of them for a single series)."""
    names = sorted({k for labels in label_sets for k in labels})
    if len(label_sets) <= 1:
        return names
    return [k for k in names if len({labels.get(k) for labels in label_sets}) > 1]


def drilled_widget(widget: dict[str, Any], path: Mapping[str, str], series_count: int) -> dict:
    """The widget a pie or table drill shows: the slice's (the row's) series as a pie (a table)
    by their other labels, or, when it is one series, a line of it over time."""
    series = [{**s, "labels": {**(s.get("labels") or {}), **path}} for s in widget["series"]]
    return {
        **widget,
        "series": series,
        "kind": widget["kind"] if series_count > 1 else "line",
        "title": f"{widget['title']} › {filter_text(path)}",
        "drilled": dict(path),
    }


def duration_text(ms: int) -> str:
    """``24 h``, ``7 d``, ``15 min`` or ``30 s``: a period's length in the largest whole unit."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000)):
        if ms >= size * (2 if unit == "d" else 1) and ms % size == 0:
            return f"{ms // size} {unit}"
    if ms >= 3_600_000:
        return f"{ms / 3_600_000:.1f} h"
    if ms >= 60_000:
        return f"{ms / 60_000:.1f} min"
    return f"{max(ms, 0) // 1000} s"


def span_text(start_ms: int, end_ms: int) -> str:
    """``14:00–15:00 UTC`` within a day, or with the dates when the span crosses days."""
    start = datetime.fromtimestamp(start_ms / 1000, UTC)
    end = datetime.fromtimestamp((end_ms + 1) / 1000, UTC)  # a bucket ends 1 ms before the next
    if start.date() == end.date() or (end - start).total_seconds() < 86_400 and end.hour == 0:
        return f"{start:%H:%M}–{end:%H:%M} UTC"
    return f"{start:%m-%d %H:%M} – {end:%m-%d %H:%M} UTC"


def period_change(current: float | None, previous: float | None) -> float | None:
    """The relative change from ``previous`` to ``current`` (0.123 is +12.3 %), or None when it
    has no meaning: a value missing or not finite, or a previous value of zero."""
    if current is None or previous is None:
        return None
    if not (math.isfinite(current) and math.isfinite(previous)) or previous == 0:
        return None
    return (current - previous) / abs(previous)


def delta_view(current: float | None, previous: float | None, period_ms: int) -> dict[str, str]:
    """A KPI's change against the previous period: the text, its direction and what a screen
    reader says (``▲ 12.3% vs previous 24 h``, ``up``, ``Up 12.3% …``)."""
    period = duration_text(period_ms)
    change = period_change(current, previous)
    if change is None:
        why = "no data" if previous is None or not math.isfinite(previous) else "zero"
        text = f"– vs previous {period} ({why})" if current is not None else ""
        return {"text": text, "direction": "none", "label": f"No change to show: {why} before"}
    if round(change * 100, 1) == 0:
        return {
            "text": f"= 0.0% vs previous {period}",
            "direction": "flat",
            "label": f"Unchanged against the previous {period}",
        }
    direction = "up" if change > 0 else "down"
    arrow = "▲" if change > 0 else "▼"
    pct = f"{abs(change) * 100:,.1f}%"
    return {
        "text": f"{arrow} {pct} vs previous {period}",
        "direction": direction,
        "label": f"{direction.capitalize()} {pct} against the previous {period}",
    }


def _query(search: str | None) -> dict[str, str]:
    """A page URL's query as single values."""
    return {k: v[0] for k, v in parse_qs((search or "").lstrip("?")).items() if v}


def _link(params: Mapping[str, str], keep: Sequence[str]) -> str:
    """``?k=v&…`` of the kept parameters, in a stable order."""
    return "?" + urlencode([(k, params[k]) for k in keep if params.get(k)])


def breadcrumbs(search: str | None, title: str, dashboard_id: str) -> list[dict[str, str]]:
    """The path a page URL is at, each level ``{"text", "href"}`` (the URL without what follows).

    Dashboard › range (the preset, or the one a zoom came from, kept in ``back``; the
    dashboard's default otherwise) › the zoomed span (``from``/``to``) › each pie drill label.
    The label filter is a setting of the whole view, so every level keeps it.
    """
    query = _query(search)
    base = {"dashboard": dashboard_id, "filter": query.get("filter", "")}
    crumbs = [{"text": title, "href": _link(base, ("dashboard", "filter"))}]
    preset = query.get("range") or query.get("back") or ""
    preset = preset if preset in PRESETS else DEFAULT_PRESET
    crumbs.append(
        {
            "text": PRESETS[preset],
            "href": _link({**base, "range": preset}, ("dashboard", "range", "filter")),
        }
    )
    start, end = query.get("from", ""), query.get("to", "")
    fixed = {**base}
    keep: tuple[str, ...] = ("dashboard", "range", "filter")
    if "range" in query and query["range"] in PRESETS:
        fixed["range"] = query["range"]
    elif start.isdigit() and end.isdigit() and int(start) < int(end):
        fixed.update({"from": start, "to": end, "back": preset})
        keep = ("dashboard", "from", "to", "back", "filter")
        crumbs.append({"text": span_text(int(start), int(end)), "href": _link(fixed, keep)})
    panel = query.get("panel", "")
    if panel:
        keep = (*keep, "panel")
        fixed = {**fixed, "panel": panel}
        crumbs.append({"text": f"panel {panel}", "href": _link(fixed, keep)})
    drill = parse_drill(query.get("drill"))
    if drill is not None:
        widget, path = drill
        done: dict[str, str] = {}
        for key, value in path.items():
            done[key] = value
            params = {**fixed, "drill": f"{widget}:{filter_text(done)}"}
            crumbs.append({"text": f"{key}={value}", "href": _link(params, (*keep, "drill"))})
    return crumbs


@dataclass(frozen=True)
class PageQuery:
    """What a page URL asks for: a dashboard over a range, narrowed by a filter and a drill."""

    search: str
    dashboard_id: str
    rng: dict[str, Any]
    live: bool
    label_filter: dict[str, str]
    drill: tuple[str, dict[str, str]] | None
    filter_note: str  # the filter's status line: what it does, or what is wrong with it
    typed_filter: str  # the filter as the URL spells it (the filter box shows it)
    preset: str  # the URL's range preset, "" without one
    panel: str = ""  # a widget shown alone at full size (``?panel=ID``), "" for the whole board
    variables: dict[str, list[str]] = field(default_factory=dict)  # ``var-NAME`` values


def read_search(search: str | None) -> PageQuery:
    """A page URL's query read: a bad filter shows everything, and the note says why."""
    query = _query(search)
    typed = query.get("filter", "")
    try:
        label_filter = parse_filter(typed)
        note = f"Only series with {filter_text(label_filter)}" if label_filter else ""
    except ValueError as exc:
        label_filter, note = {}, f"{exc}; showing everything"
    rng, live = from_search(search)
    return PageQuery(
        search=search or "",
        dashboard_id=dashboard_from_search(search),
        rng=rng,
        live=live,
        label_filter=label_filter,
        drill=parse_drill(query.get("drill")),
        filter_note=note,
        typed_filter=typed,
        preset=query.get("range", ""),
        panel=query.get("panel", "")[:64],
        variables=url_values(parse_qsl((search or "").lstrip("?"))),
    )


def with_variables(search: str | None, values: Mapping[str, Sequence[str]]) -> str:
    """The page URL's query with these variables' ``var-NAME`` values (Grafana's convention,
    one parameter per value), the rest kept as it was."""
    names = {URL_PREFIX + n for n in values}
    kept = [(k, v) for k, v in parse_qsl((search or "").lstrip("?")) if k not in names]
    added = [(URL_PREFIX + n, v) for n, vs in values.items() for v in vs]
    query = urlencode(kept + added)
    return f"?{query}" if query else ""


def panel_board(dashboard: dict[str, Any], panel: str) -> dict[str, Any]:
    """The board a panel view shows: the one widget across the grid, twice as tall as it was
    (at least 8 rows); the whole board when it has no such widget."""
    widget = next((w for w in dashboard.get("widgets", []) if w["id"] == panel), None)
    if widget is None:
        return dashboard
    lay = widget["layout"]
    big = {**widget, "layout": {"x": 0, "y": 0, "w": 12, "h": max(8, min(20, lay["h"] * 2))}}
    return {**dashboard, "widgets": [big]}


@dataclass
class WidgetView:
    """A widget as a page shows it (its range, the drill), with what was read for it."""

    widget: dict[str, Any]
    frames: list[SeriesFrame] = field(default_factory=list)
    keys: list[SeriesKey] = field(default_factory=list)  # a deferred chart's series
    deferred: bool = False  # a chart read when it scrolls near: its keys now, no frames
    delta: dict[str, str] | None = None  # a stat tile's change against the previous period
    filtered_out: bool = False  # the label filter left it no series
    error: str = ""  # why its expression could not be drawn (over a query limit)


@dataclass
class BoardView:
    """A dashboard's widgets as read for a page over a range, and where its live feed starts."""

    dashboard_id: str
    cursor: str
    rng: dict[str, Any]
    live: bool
    now: int
    widgets: list[WidgetView]
    label_filter: dict[str, str] = field(default_factory=dict)
    variables: dict[str, list[str]] = field(default_factory=dict)  # picked, for the live feed
