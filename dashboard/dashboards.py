"""Dashboard definitions as plain data (pure); the default dashboard shows every demo series."""

from __future__ import annotations

from typing import Any

from dashboard.realtime import Selector

SCHEMA_VERSION = 1
DEFAULT_ID = "default"


def _widget(
    wid: str, kind: str, title: str, series: list[dict[str, Any]], layout: tuple[int, ...], **extra
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


def default_dashboard() -> dict[str, Any]:
    """The dashboard shown out of the box: KPIs, health, history, revenue and traffic."""
    users = [{"name": "demo.active_users", "labels": {}}]
    revenue = [{"name": "demo.revenue_usd", "labels": {}}]
    errors = [{"name": "demo.error_rate", "labels": {}}]
    health = [{"name": "demo.health", "labels": {}}]
    requests = [{"name": "demo.requests", "labels": {}}]
    return {
        "id": DEFAULT_ID,
        "title": "SaaS overview",
        "schema_version": SCHEMA_VERSION,
        "range": {"from": "now-24h", "to": "now"},
        "widgets": [
            _widget(
                "kpi-users", "stat", "Active users", users, (0, 0, 3, 2), format={"decimals": 0}
            ),
            _widget(
                "kpi-revenue",
                "stat",
                "Revenue",
                revenue,
                (3, 0, 3, 2),
                format={"prefix": "$", "suffix": "/h", "decimals": 0},
            ),
            _widget(
                "kpi-errors",
                "stat",
                "Error rate",
                errors,
                (6, 0, 3, 2),
                format={"percent": True, "decimals": 2},
                thresholds=[{"value": 0.05, "color": "red"}],
            ),
            _widget("status-health", "status", "System health", health, (9, 0, 3, 2)),
            _widget("line-users", "line", "Active users, 24 h", users, (0, 2, 6, 4)),
            _widget(
                "line-errors",
                "line",
                "Error rate, 24 h",
                errors,
                (6, 2, 6, 4),
                thresholds=[{"value": 0.05, "color": "red"}],
            ),
            _widget(
                "line-requests", "line", "Requests per second by route", requests, (0, 6, 6, 4)
            ),
            _widget(
                "bar-revenue", "bar", "Revenue per hour (USD)", revenue, (6, 6, 3, 4), step="1h"
            ),
            _widget(
                "pie-requests",
                "pie",
                "Traffic by route, last hour",
                requests,
                (9, 6, 3, 4),
                range={"from": "now-1h", "to": "now"},
            ),
        ],
    }


def selectors(dashboard: dict[str, Any]) -> list[Selector]:
    """Every series selector a dashboard's widgets use, without repeats."""
    seen: dict[Selector, None] = {}
    for widget in dashboard.get("widgets", []):
        for s in widget.get("series", []):
            seen[Selector.of(s["name"], s.get("labels") or {})] = None
    return list(seen)


def get_dashboard(dashboard_id: str) -> dict[str, Any] | None:
    """A dashboard by id (only the built-in default for now)."""
    return default_dashboard() if dashboard_id == DEFAULT_ID else None
