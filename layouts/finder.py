"""Finding dashboards: the "Dashboards" list in the range bar (search by title, a tag, starred
only; a star and a home choice on each), the quick picker, and the "Copy link" button.

The list is drawn from what ``boards.prefs.list_for`` answers; nothing here reads a store.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from dash import dcc, html

from layouts import ids

TAG_CHIP = "finder-tag-chip"  # {"type": TAG_CHIP, "tag": t, "dashboard": id}: a row's tag


def finder(
    listing: dict[str, Any] | None, boards: list[dict[str, Any]] | None, current: str
) -> html.Details:
    """A disclosure (a native ``<details>``: Enter or Space opens it, Tab walks it, Escape
    closes it by assets/keys.js) with the search box, the tag and starred filters, the list and
    the quick picker of every dashboard (``boards``) set to ``current``."""
    listing = listing or {"dashboards": [], "tags": []}
    return html.Details(
        [
            html.Summary("Dashboards", className="small-button finder-toggle"),
            html.Div(
                [
                    html.Div(
                        [
                            html.Label(
                                "Search", htmlFor=ids.FINDER_SEARCH, className="range-label"
                            ),
                            dcc.Input(
                                id=ids.FINDER_SEARCH,
                                type="search",
                                placeholder="Title words",
                                debounce=0.3,
                                className="range-input finder-search",
                                autoComplete="off",
                            ),
                            html.Label("Tag", htmlFor=ids.FINDER_TAG, className="range-label"),
                            dcc.Dropdown(
                                id=ids.FINDER_TAG,
                                options=tag_options(listing["tags"]),
                                placeholder="Any tag",
                                className="range-select finder-tag",
                            ),
                            html.Button(
                                "Starred only",
                                id=ids.FINDER_STARRED,
                                type="button",
                                className="small-button finder-starred",
                                **{"aria-pressed": "false"},
                            ),
                        ],
                        className="finder-filters",
                        role="search",
                        **{"aria-label": "Find a dashboard"},
                    ),
                    html.Ul(
                        finder_items(listing["dashboards"]),
                        id=ids.FINDER_LIST,
                        className="finder-list",
                    ),
                    html.Span(id=ids.FINDER_STATUS, className="sr-only", role="status"),
                    html.Div(
                        [
                            html.Label(
                                "Jump to", htmlFor=ids.DASHBOARD_SELECT, className="range-label"
                            ),
                            dcc.Dropdown(
                                id=ids.DASHBOARD_SELECT,
                                options=dashboard_options(boards),
                                value=current,
                                clearable=False,
                                className="range-select",
                            ),
                        ],
                        className="finder-jump",
                    ),
                ],
                className="finder-panel",
            ),
        ],
        id=ids.FINDER,
        className="finder",
    )


def dashboard_options(boards: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    """The quick picker's options: each dashboard's title, by id."""
    return [{"label": b["title"], "value": b["id"]} for b in boards or []]


def tag_options(tags: list[str]) -> list[dict[str, str]]:
    """The tag filter's options."""
    return [{"label": t, "value": t} for t in tags]


def tag_chip(tag: str, dashboard_id: str) -> html.Button:
    """A dashboard's tag: a button that narrows the list to that tag (Enter, Space or a
    click; ``callbacks/finder.py`` sets the tag filter)."""
    return html.Button(
        tag,
        id={"type": TAG_CHIP, "tag": tag, "dashboard": dashboard_id},
        type="button",
        className="finder-tag-chip",
        title=f"Show the dashboards tagged {tag}",
        **{"aria-label": f"Tag {tag}: show the dashboards tagged {tag}"},
    )


def finder_items(boards: list[dict[str, Any]]) -> list[Any]:
    """One row per dashboard: its star toggle, its link, its tags and its home toggle."""
    if not boards:
        return [html.Li("No dashboard matches.", className="finder-empty")]
    return [_item(b) for b in boards]


def _item(board: dict[str, Any]) -> html.Li:
    """A dashboard's row."""
    title, starred, home = board["title"], bool(board.get("starred")), bool(board.get("home"))
    key = {"dashboard": board["id"]}
    return html.Li(
        [
            html.Button(
                "★" if starred else "☆",
                id={"type": ids.FINDER_STAR, **key},
                type="button",
                className="finder-star" + (" on" if starred else ""),
                title="Unstar" if starred else "Star",
                **{"aria-pressed": "true" if starred else "false", "aria-label": f"Star {title}"},
            ),
            dcc.Link(
                title, href="/?dashboard=" + quote(board["id"], safe=""), className="finder-link"
            ),
            html.Span(
                [tag_chip(t, board["id"]) for t in board.get("tags", [])],
                className="finder-tags",
            ),
            html.Button(
                "Home",
                id={"type": ids.FINDER_HOME, **key},
                type="button",
                className="finder-home" + (" on" if home else ""),
                title="Opened at / for you" if home else "Open this dashboard at / for you",
                **{"aria-pressed": "true" if home else "false", "aria-label": f"Home: {title}"},
            ),
        ],
        className="finder-item",
        **{"data-dashboard": board["id"]},
    )


def copy_link() -> list[Any]:
    """ "Copy link": the page's URL with its dashboard, range and variables (``var-*``) to the
    clipboard (assets/keys.js adds the values of variables the URL does not name yet)."""
    return [
        html.Button(
            "Copy link",
            id=ids.COPY_LINK,
            type="button",
            className="small-button",
            title="Copy a link to this view: its dashboard, time range and variables",
        ),
        html.Span(id=ids.COPY_LINK_STATUS, className="copy-link-status", role="status"),
    ]
