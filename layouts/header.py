"""The top of the page: the header (title, connection state, alerts, exports, the user) and the
bar that picks the dashboard, the time range and the label filter."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard.boards.variables import ALL
from dashboard.metrics.timerange import DEFAULT_PRESET, PRESETS
from layouts import ids, navigation
from layouts.finder import copy_link, finder


def header(dashboard: dict[str, Any], user: Any = None, firing: int = 0) -> html.Header:
    """Title, connection state, a retry button (shown when the live feed gave up), the user."""
    return html.Header(
        [
            html.H1("Dashboard", className="brand"),
            html.H2(dashboard["title"], id=ids.HEADER_TITLE, className="dashboard-title"),
            live_box(),
            alerts_box(firing),
            html.Div(user_box(user), className="user-box"),
        ],
        className="header",
    )


def live_box() -> html.Div:
    """The live feed's state, its retry button and the pause switch."""
    return html.Div(
        [
            html.Span(
                "Connecting…",
                id=ids.LIVE_STATE,
                className="live-state connecting",
                role="status",
                **{"aria-live": "polite"},
            ),
            html.Button(
                "Retry", id=ids.LIVE_RETRY, className="live-retry", hidden=True, type="button"
            ),
            html.Button(
                "Pause",
                id=ids.LIVE_PAUSE,
                className="live-pause",
                type="button",
                title="Pause live updates (what arrives meanwhile is kept)",
                **{"aria-pressed": "false"},
            ),
        ],
        className="live-box",
    )


def alerts_box(firing: int) -> html.Div:
    """The firing alerts' badge, the CSV and PDF exports, the theme and the alert sound."""
    badge = html.Span(str(firing), id=ids.ALERTS_BADGE, className="badge", hidden=firing == 0)
    return html.Div(
        [
            html.A(
                ["Alerts ", badge],
                href="#alerts-panel",
                className="alerts-link",
                **{"aria-label": "Alerts firing"},
            ),
            html.A(
                "CSV",
                id=ids.EXPORT_CSV,
                # assets/export.js points it at what the page shows when it is clicked
                href="/api/v1/export.csv?dashboard=default&start=now-24h&end=now",
                download="",
                className="header-link",
                **{"aria-label": "Download the dashboard's data as CSV"},
            ),
            html.Button(
                "PDF report",
                id=ids.EXPORT_PDF,
                className="live-pause",
                type="button",
                title="A PDF report of what the page shows",
            ),
            html.Button(
                "Dark theme",
                id=ids.THEME_TOGGLE,
                className="live-pause",
                type="button",
                **{"aria-pressed": "false"},
            ),
            html.Button(
                "Sound: off",
                id=ids.ALERTS_SOUND,
                className="live-pause",
                type="button",
                title="Alert sound: off, critical only, or all",
                **{"aria-pressed": "false"},
            ),
        ],
        className="alerts-box",
    )


def user_box(user: Any) -> list[Any]:
    """The signed-in user's name and role, the audit trail's link for admins (the page checks
    the role itself), and the sign-out button (nothing without a user)."""
    if user is None:
        return []
    audit = [html.A("Audit", id=ids.HEADER_AUDIT, href="/audit", className="header-link")]
    return [
        html.Span(f"{user.username} ({user.role})", id=ids.HEADER_USER, className="user"),
        *(audit if getattr(user, "role", None) == "admin" else []),
        html.Button("Sign out", id=ids.HEADER_LOGOUT, className="logout", type="button"),
    ]


def variables_bar(views: list[dict[str, Any]] | None) -> list[Any]:
    """A dropdown for each of the dashboard's variables (``boards.service.pick_variables``
    describes them): multi-select when the variable is, with "All" when it offers it."""
    out: list[Any] = []
    for view in views or []:
        control = {"type": ids.VARS_SELECT, "name": view["name"]}
        options = [{"label": "All", "value": ALL}] if view["include_all"] else []
        options += [{"label": o, "value": o} for o in view["options"]]
        out.append(
            html.Div(
                [
                    html.Label(view["label"], className="range-label"),
                    dcc.Dropdown(
                        id=control,
                        options=options,
                        value=view["value"] if view["multi"] else (view["value"][:1] or [None])[0],
                        multi=view["multi"],
                        clearable=False,
                        className="range-select vars-select",
                        placeholder="no values",
                    ),
                ],
                className="vars-item",
                role="group",
                **{"data-var": view["name"], "aria-label": f"Variable {view['label']}"},
            )
        )
    return out


def range_bar(
    boards: list[dict[str, Any]] | None = None,
    current: str = "default",
    listing: dict[str, Any] | None = None,
) -> html.Nav:
    """The dashboards' list (``finder``: search, tags, stars, home, the quick picker), the time
    range (presets that follow now, a custom from/to, live), the filter and "Copy link"."""
    return html.Nav(
        [
            finder(listing, boards, current),
            html.Label("Range", htmlFor=ids.RANGE_SELECT, className="range-label"),
            dcc.Dropdown(
                id=ids.RANGE_SELECT,
                options=[{"label": text, "value": key} for key, text in PRESETS.items()],
                value=DEFAULT_PRESET,
                clearable=False,
                searchable=False,
                className="range-select",
            ),
            html.Label("From", htmlFor=ids.RANGE_FROM, className="range-label"),
            dcc.Input(id=ids.RANGE_FROM, type="datetime-local", className="range-input"),
            html.Label("To", htmlFor=ids.RANGE_TO, className="range-label"),
            dcc.Input(id=ids.RANGE_TO, type="datetime-local", className="range-input"),
            html.Button("Apply", id=ids.RANGE_APPLY, type="button", className="small-button"),
            html.Span(
                "Live: follows now", id=ids.RANGE_TEXT, className="range-text", role="status"
            ),
            html.Button(
                "▶ Live",
                id=ids.RANGE_LIVE,
                type="button",
                hidden=True,
                className="small-button",
                title="Back to live: the range follows now again",
                **{"aria-label": "Back to live"},
            ),
            *navigation.filter_controls(),
            *copy_link(),
        ],
        className="range-bar",
        **{"aria-label": "Time range"},
    )
