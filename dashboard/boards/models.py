"""Dashboard definitions as plain data (pure); the default dashboard shows every demo series."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from dashboard.boards.annotations import valid_notes
from dashboard.boards.exprs import entry_selector, is_expr, valid_entry
from dashboard.boards.finding import valid_tags
from dashboard.boards.thresholds import valid_thresholds
from dashboard.boards.units import valid_format
from dashboard.boards.variables import expr_checker, valid_variables
from dashboard.metrics.model import LABEL_KEY_RE, NAME_RE, Selector, ValidationError
from dashboard.metrics.timerange import resolve_range

SCHEMA_VERSION = 1
DEFAULT_ID = "default"


def _widget(
    wid: str,
    kind: str,
    title: str,
    series: list[dict[str, Any]],
    layout: tuple[int, ...],
    **extra: Any,
) -> dict[str, Any]:
    """A widget definition with the fields every widget has."""
    x, y, w, h = layout
    return {
        "id": wid,
        "kind": kind,
        "title": title,
        "series": series,
        "aggregation": extra.pop("aggregation", "avg"),
        "step": extra.pop("step", "auto"),
        "layout": {"x": x, "y": y, "w": w, "h": h},
        **extra,
    }


# the demo's error rate: green below 2 %, amber from 2 %, red from 5 %
ERROR_STEPS = ({"value": 0.02, "color": "amber"}, {"value": 0.05, "color": "red"})


def default_dashboard() -> dict[str, Any]:
    """The dashboard shown out of the box: KPIs, health, history, revenue and traffic."""
    users = [{"name": "demo.active_users", "labels": {}}]
    revenue = [{"name": "demo.revenue_usd", "labels": {}}]
    errors = [{"name": "demo.error_rate", "labels": {}}]
    health = [{"name": "demo.health", "labels": {}}]
    requests = [{"name": "demo.requests", "labels": {}}]
    by_route = [{"name": "demo.requests", "labels": {"route": "$route"}}]
    return {
        "id": DEFAULT_ID,
        "title": "SaaS overview",
        "schema_version": SCHEMA_VERSION,
        "range": {"from": "now-24h", "to": "now"},
        # the routes the requests chart shows: pick some, or All (the URL carries var-route)
        "variables": [
            {
                "name": "route",
                "type": "query",
                "query": "label_values(demo.requests, route)",
                "multi": True,
                "include_all": True,
            }
        ],
        "widgets": [
            _widget(
                "kpi-users",
                "stat",
                "Active users",
                users,
                (0, 0, 3, 2),
                format={"unit": "none", "decimals": 0},  # the whole count: 98,765, not 98.8k
            ),
            _widget(
                "kpi-revenue",
                "stat",
                "Revenue",
                revenue,
                (3, 0, 3, 2),
                format={"unit": "currencyUSD", "suffix": "/h", "decimals": 0},
            ),
            _widget(
                "kpi-errors",
                "stat",
                "Error rate",
                errors,
                (6, 0, 3, 2),
                format={"unit": "percentunit", "decimals": 2},
                thresholds=[dict(s) for s in ERROR_STEPS],
            ),
            _widget("status-health", "status", "System health", health, (9, 0, 3, 2)),
            _widget(
                "line-users",
                "line",
                "Active users, 24 h",
                users,
                (0, 2, 6, 4),
                format={"unit": "short"},
            ),
            _widget(
                "line-errors",
                "line",
                "Error rate, 24 h",
                errors,
                (6, 2, 6, 4),
                format={"unit": "percentunit", "decimals": 1},
                thresholds=[dict(s) for s in ERROR_STEPS],
            ),
            _widget(
                "line-requests",
                "line",
                "Requests per second: $route",
                by_route,
                (0, 6, 6, 4),
                format={"unit": "short", "suffix": " req/s"},
            ),
            _widget(
                "bar-revenue",
                "bar",
                "Revenue per hour (USD)",
                revenue,
                (6, 6, 3, 4),
                step="1h",
                format={"unit": "currencyUSD", "suffix": "/h", "decimals": 0},
            ),
            _widget(
                "pie-requests",
                "pie",
                "Traffic by route, last hour",
                requests,
                (9, 6, 3, 4),
                range={"from": "now-1h", "to": "now"},
                format={"unit": "short", "suffix": " req/s"},
            ),
        ],
    }


def selectors(dashboard: dict[str, Any]) -> list[Selector]:
    """Every series selector a dashboard's widgets use, without repeats (an expression's picks
    the series it gives, named ``expr_<hash>``)."""
    seen: dict[Selector, None] = {}
    for widget in dashboard.get("widgets", []):
        for s in widget.get("series", []):
            seen[entry_selector(s)] = None
    return list(seen)


KINDS = ("line", "bar", "pie", "stat", "status", "table")
AGGREGATIONS = ("avg", "min", "max", "sum", "last")
STEP_NAMES = ("auto", "raw", "1m", "5m", "1h", "1d")
LEGEND_MODES = ("list", "table", "hidden")
ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
MAX_WIDGETS = 200


def slug(text: str) -> str:
    """A lowercase id made of letters, digits, ``-`` and ``_`` (at most 64 characters)."""
    out = "".join(c if c in ID_CHARS else "-" for c in text.lower()).strip("-")
    return out[:64] or "dashboard"


def _text(value: Any, where: str, max_len: int) -> str:
    """A printable string of at most ``max_len`` characters."""

    if not isinstance(value, str) or not 0 < len(value) <= max_len or not value.isprintable():
        raise ValidationError(where, f"1 to {max_len} printable characters")
    return value


def _ident(value: Any, where: str) -> str:
    """An id: 1 to 64 of ``a-z 0-9 - _``."""

    if not isinstance(value, str) or not 0 < len(value) <= 64 or not set(value) <= ID_CHARS:
        raise ValidationError(where, "1 to 64 of a-z, 0-9, '-' and '_'")
    return value


def validate_dashboard(body: Any) -> dict[str, Any]:
    """A dashboard in its stored form, from JSON (import, API), or ValidationError naming the field.

    The schema is versioned (``schema_version``); version 1 is the only one so far.
    """

    if not isinstance(body, dict):
        raise ValidationError("body", "must be a JSON object")
    version = body.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise ValidationError(
            "schema_version", f"this version reads schema_version {SCHEMA_VERSION}"
        )
    out: dict[str, Any] = {
        "id": _ident(body.get("id"), "id"),
        "title": _text(body.get("title"), "title", 120),
        "schema_version": SCHEMA_VERSION,
    }
    out["range"] = _range(body.get("range", {"from": "now-24h", "to": "now"}))
    tags = valid_tags(body.get("tags"))
    if tags:
        out["tags"] = tags
    notes = valid_notes(body.get("annotations"))
    if notes:
        out["annotations"] = notes
    variables = valid_variables(body.get("variables"))
    if variables:
        out["variables"] = variables
    widgets = body.get("widgets")
    if not isinstance(widgets, list) or len(widgets) > MAX_WIDGETS:
        raise ValidationError("widgets", f"a list of at most {MAX_WIDGETS} widgets")
    seen: set[str] = set()
    out["widgets"] = []
    check = expr_checker(variables) if variables else None
    for i, w in enumerate(widgets):
        out["widgets"].append(_valid_widget(w, f"widgets[{i}]", seen, check))
    return out


def _range(rng: Any, where: str = "range") -> dict[str, Any]:
    """A dashboard's (or a widget's) time range: ``{"from", "to"}``, each relative
    (``now-24h``) or absolute."""

    if not isinstance(rng, dict):
        raise ValidationError(where, 'must be {"from", "to"}')
    try:
        resolve_range(rng, 10**13)
    except ValueError as exc:
        raise ValidationError(where, str(exc)) from None
    return {"from": rng.get("from", "now-24h"), "to": rng.get("to", "now")}


def _valid_widget(
    w: Any, where: str, seen: set[str], check: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """One widget in its stored form; its id joins ``seen``, the ids of the widgets before it
    (``check`` writes the dashboard's variables into an expression before it is parsed)."""

    if not isinstance(w, dict):
        raise ValidationError(where, "must be an object")
    wid = _ident(w.get("id"), f"{where}.id")
    if wid in seen:
        raise ValidationError(f"{where}.id", f"{wid!r} is used twice")
    seen.add(wid)
    kind = _one_of(w.get("kind"), KINDS, f"{where}.kind")
    series = _widget_series(w.get("series"), f"{where}.series", check)
    aggregation = _one_of(w.get("aggregation", "avg"), AGGREGATIONS, f"{where}.aggregation")
    step = _one_of(w.get("step", "auto"), STEP_NAMES, f"{where}.step")
    layout = _layout(w.get("layout") or {}, f"{where}.layout")
    widget: dict[str, Any] = {
        "id": wid,
        "kind": kind,
        "title": _text(w.get("title"), f"{where}.title", 120),
        "series": series,
        "aggregation": aggregation,
        "step": step,
        "layout": layout,
    }
    if "format" in w:
        widget["format"] = valid_format(w["format"], f"{where}.format")
    if "thresholds" in w:
        widget["thresholds"] = valid_thresholds(w["thresholds"], f"{where}.thresholds")
    if "legend" in w:
        widget["legend"] = _legend(w["legend"], f"{where}.legend")
    if "range" in w:
        widget["range"] = _range(w["range"], f"{where}.range")
    return widget


def _legend(legend: Any, where: str) -> dict[str, str]:
    """A widget's legend: ``{"mode": "list" | "table" | "hidden"}``."""

    if not isinstance(legend, dict) or set(legend) != {"mode"}:
        raise ValidationError(where, '{"mode": "list" | "table" | "hidden"}')
    return {"mode": _one_of(legend["mode"], LEGEND_MODES, f"{where}.mode")}


def _one_of(value: Any, allowed: tuple[str, ...], where: str) -> str:
    """``value`` when it is one of ``allowed``."""

    if value not in allowed:
        raise ValidationError(where, f"one of {', '.join(allowed)}")
    return str(value)


def _widget_series(
    series: Any, where: str, check: Callable[[str], str] | None = None
) -> list[dict[str, Any]]:
    """A widget's series: 1 to 50 ``{name, labels}`` or ``{expr, legend}`` (PromQL)."""

    if not isinstance(series, list) or not 0 < len(series) <= 50:
        raise ValidationError(where, "a list of 1 to 50 {name, labels} or {expr, legend}")
    clean = []
    for j, s in enumerate(series):
        sw = f"{where}[{j}]"
        if isinstance(s, dict) and is_expr(s):
            clean.append(valid_entry(s, sw, check))
            continue
        if (
            not isinstance(s, dict)
            or not isinstance(s.get("name"), str)
            or not NAME_RE.match(s["name"])
        ):
            raise ValidationError(f"{sw}.name", "a metric name")
        labels = s.get("labels") or {}
        if not isinstance(labels, dict) or not all(
            isinstance(k, str) and LABEL_KEY_RE.match(k) and isinstance(v, str)
            for k, v in labels.items()
        ):
            raise ValidationError(f"{sw}.labels", "identifier keys with string values")
        clean.append({"name": s["name"], "labels": dict(labels)})
    return clean


def _layout(lay: Any, where: str) -> dict[str, int]:
    """A widget's place on the 12-column grid: x 0-11, w 1-12 with x+w <= 12, h 1-20."""

    try:
        x, y, width, height = (
            int(lay.get(k, d)) for k, d in (("x", 0), ("y", 0), ("w", 6), ("h", 4))
        )
    except (TypeError, ValueError):
        raise ValidationError(where, "x, y, w, h are integers") from None
    if not (
        0 <= x < 12
        and 1 <= width <= 12
        and x + width <= 12
        and 0 <= y <= 1000
        and 1 <= height <= 20
    ):
        raise ValidationError(where, "x 0-11, w 1-12 with x+w <= 12, h 1-20")
    return {"x": x, "y": y, "w": width, "h": height}


EDIT_OPS = (
    "left",
    "right",
    "up",
    "down",
    "wider",
    "narrower",
    "taller",
    "shorter",
    "duplicate",
    "remove",
)


def edit_widget(dashboard: dict[str, Any], widget_id: str, op: str) -> dict[str, Any]:
    """A copy of the dashboard with one widget moved, resized, duplicated or removed."""
    if op not in EDIT_OPS:
        raise ValueError(f"unknown edit {op!r}")
    out = copy.deepcopy(dashboard)
    widgets = out["widgets"]
    index = next((i for i, w in enumerate(widgets) if w["id"] == widget_id), None)
    if index is None:
        raise ValueError(f"no widget {widget_id!r}")
    widget = widgets[index]
    lay = widget["layout"]
    if op == "remove":
        del widgets[index]
    elif op == "duplicate":
        twin = copy.deepcopy(widget)
        taken = {w["id"] for w in widgets}
        n = 2
        while f"{widget_id}-{n}"[:64] in taken:
            n += 1
        twin["id"] = f"{widget_id}-{n}"[:64]
        twin["title"] = f"{widget['title']} (copy)"[:120]
        twin["layout"] = {**lay, "y": max(w["layout"]["y"] + w["layout"]["h"] for w in widgets)}
        widgets.insert(index + 1, twin)
    else:
        x, y, w, h = lay["x"], lay["y"], lay["w"], lay["h"]
        x = {"left": max(0, x - 1), "right": min(12 - w, x + 1)}.get(op, x)
        y = {"up": max(0, y - 1), "down": y + 1}.get(op, y)
        w = {"wider": min(12 - x, w + 1), "narrower": max(1, w - 1)}.get(op, w)
        h = {"taller": min(20, h + 1), "shorter": max(1, h - 1)}.get(op, h)
        widget["layout"] = {"x": x, "y": y, "w": w, "h": h}
        settle(widgets, widget_id)
    return out


def new_widget(
    dashboard: dict[str, Any],
    *,
    kind: str,
    title: str,
    name: str,
    labels: dict[str, str],
    expr: str = "",
) -> dict[str, Any]:
    """A copy of the dashboard with a widget added below the others: of metric ``name`` with
    ``labels``, or of the PromQL expression ``expr``."""
    out = copy.deepcopy(dashboard)
    taken = {w["id"] for w in out["widgets"]}
    base = slug(title or name or "query")[:56] or "widget"
    wid, n = base, 2
    while wid in taken:
        wid, n = f"{base}-{n}", n + 1
    bottom = max((w["layout"]["y"] + w["layout"]["h"] for w in out["widgets"]), default=0)
    size = {"stat": (3, 2), "status": (3, 2), "pie": (4, 4)}.get(kind, (6, 4))
    out["widgets"].append(
        {
            "id": wid,
            "kind": kind,
            "title": title or name or expr[:120],
            "series": [{"expr": expr} if expr else {"name": name, "labels": labels}],
            "aggregation": "avg",
            "step": "1h" if kind == "bar" else "auto",
            "layout": {"x": 0, "y": bottom, "w": size[0], "h": size[1]},
        }
    )
    return out


GRID_COLUMNS = 12
MAX_ROW = 1000
MAX_HEIGHT = 20


def _find(widgets: list[dict[str, Any]], widget_id: str) -> dict[str, Any]:
    """The widget with that id, or ValueError."""
    found = next((w for w in widgets if w["id"] == widget_id), None)
    if found is None:
        raise ValueError(f"no widget {widget_id!r}")
    return found


def place_widget(
    dashboard: dict[str, Any], widget_id: str, x: int, y: int, w: int, h: int
) -> dict[str, Any]:
    """A copy of the dashboard with one widget at ``x, y`` sized ``w`` by ``h``, clamped to the
    12-column grid (a drop past the right edge keeps the width and moves left)."""
    out = copy.deepcopy(dashboard)
    widget = _find(out["widgets"], widget_id)
    width = min(max(int(w), 1), GRID_COLUMNS)
    left = min(max(int(x), 0), GRID_COLUMNS - width)
    top = min(max(int(y), 0), MAX_ROW)
    height = min(max(int(h), 1), MAX_HEIGHT)
    widget["layout"] = {"x": left, "y": top, "w": width, "h": height}
    settle(out["widgets"], widget_id)
    return out


def _overlap(a: dict[str, int], b: dict[str, int]) -> bool:
    """True when two grid places share a cell."""
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def settle(widgets: list[dict[str, Any]], moved_id: str) -> None:
    """Make room for a widget just moved or resized, as react-grid-layout's vertical
    compaction does: the widgets it covers are pushed down below it (and those they then
    cover, in turn), then every other widget rises as far as it can, top to bottom. No two
    widgets share a cell afterwards; the moved one stays where it was put (so a move down into
    free rows holds)."""
    moved = next(w for w in widgets if w["id"] == moved_id)["layout"]
    others = sorted(
        (w["layout"] for w in widgets if w["id"] != moved_id), key=lambda lay: (lay["y"], lay["x"])
    )
    placed = [moved]
    for lay in others:  # push down whatever overlaps what is already placed
        while hits := [p for p in placed if _overlap(lay, p)]:
            lay["y"] = max(p["y"] + p["h"] for p in hits)
        placed.append(lay)
    settled: list[dict[str, int]] = []
    for lay in sorted(placed, key=lambda lay: (lay["y"], lay is not moved, lay["x"])):
        while (
            lay is not moved
            and lay["y"] > 0
            and not any(_overlap({**lay, "y": lay["y"] - 1}, other) for other in settled)
        ):
            lay["y"] -= 1
        while hits := [other for other in settled if _overlap(lay, other)]:
            lay["y"] = max(other["y"] + other["h"] for other in hits)
        settled.append(lay)


def configure_widget(
    dashboard: dict[str, Any],
    widget_id: str,
    *,
    title: str,
    kind: str,
    aggregation: str,
    step: str,
    series: list[dict[str, Any]],
) -> dict[str, Any]:
    """A validated copy of the dashboard with one widget's title, kind, aggregation, step and
    stored series replaced; its expressions stay (ValidationError names the bad field)."""
    out = copy.deepcopy(dashboard)
    widget = _find(out["widgets"], widget_id)
    widget.update(
        title=title.strip(),
        kind=kind,
        aggregation=aggregation,
        step=step,
        series=[{"name": s["name"], "labels": dict(s.get("labels") or {})} for s in series]
        + [s for s in widget["series"] if is_expr(s)],
    )
    return validate_dashboard(out)


def unique_id(base: str, taken: Any) -> str:
    """``base``, or ``base-2``, ``base-3``… : the first that ``taken(id)`` says is free."""
    stem = slug(base)[:56]
    new_id, n = stem, 2
    while taken(new_id):
        new_id, n = f"{stem}-{n}", n + 1
    return new_id


def imported_dashboard(body: Any, title: str | None, taken: Any) -> dict[str, Any]:
    """A dashboard read from an exported file, validated, under ``title`` (the file's own when
    empty) and a fresh id made from it (``taken(id)`` is true for ids in use)."""

    if not isinstance(body, dict):
        raise ValidationError("body", "must be a JSON object")
    name = (title or "").strip() or body.get("title")
    name = _text(name, "title", 120)
    return validate_dashboard({**body, "title": name, "id": unique_id(name, taken)})
