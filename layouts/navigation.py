"""Where the page is: the breadcrumb above the grid, and the dashboard-wide label filter."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard.boards.view import breadcrumbs
from layouts import ids


def filter_controls() -> list[Any]:
    """A labelled input for ``k=v`` filters (comma-separated), its button and its message."""
    return [
        html.Label("Filter", htmlFor=ids.FILTER_INPUT, className="range-label"),
        dcc.Input(
            id=ids.FILTER_INPUT,
            type="text",
            placeholder="region=eu",
            debounce=True,
            className="range-input filter-input",
        ),
        html.Button("Filter", id=ids.FILTER_APPLY, type="button", className="small-button"),
        html.Span(id=ids.FILTER_STATUS, className="filter-status", role="status"),
    ]


def crumbs_for(search: str | None, dashboard: dict[str, Any]) -> list[dict[str, str]]:
    """The breadcrumb levels of a page URL on a dashboard."""
    return breadcrumbs(search, dashboard["title"], dashboard["id"])


def breadcrumb(crumbs: list[dict[str, str]]) -> html.Nav:
    """``Dashboard › Last 24 hours › 14:00–15:00 UTC › route=/api``: each level a link back to
    it, the last one the current page."""
    return html.Nav(
        crumb_list(crumbs),
        id=ids.BREADCRUMB,
        className="breadcrumb",
        **{"aria-label": "Breadcrumb"},
    )


def crumb_list(crumbs: list[dict[str, str]]) -> html.Ol:
    """The breadcrumb's ordered list of levels (what the range callback replaces)."""
    items = []
    for i, crumb in enumerate(crumbs):
        last = i == len(crumbs) - 1
        inner: Any = (
            html.Span(crumb["text"], **{"aria-current": "page"})
            if last
            else dcc.Link(crumb["text"], href=crumb["href"], refresh=False)
        )
        items.append(html.Li(inner, className="breadcrumb-item"))
    return html.Ol(items, className="breadcrumb-list")
