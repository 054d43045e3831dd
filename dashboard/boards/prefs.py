"""What each user keeps of the dashboards: their stars and their home dashboard, and the list
of dashboards as one user sees it (searched, by tag, starred first). Any signed-in user may
star and choose a home; tags are part of a dashboard, changed by editors like the rest of it."""

from __future__ import annotations

from typing import Any

from dashboard.boards.finding import all_tags, found
from dashboard.boards.service import DashboardNotFound
from dashboard.boards.store import DashboardStore


def list_for(
    *,
    store: DashboardStore,
    username: str,
    search: str = "",
    tag: str = "",
    starred_only: bool = False,
) -> dict[str, Any]:
    """The dashboards ``username`` looks for (each with ``starred`` and ``home``), starred ones
    first, then by title; every tag in use; the user's home dashboard's id (None: the default)."""
    boards = store.list()
    stars = store.stars(username)
    home = home_dashboard(store=store, username=username)
    shown = found(boards, search=search, tag=tag, stars=stars, starred_only=starred_only)
    return {
        "dashboards": [{**b, "starred": b["id"] in stars, "home": b["id"] == home} for b in shown],
        "tags": all_tags(boards),
        "home": home,
    }


def set_star(*, store: DashboardStore, username: str, dashboard_id: str, starred: bool) -> None:
    """Star or unstar a dashboard for a user; DashboardNotFound when there is no such one."""
    if starred and store.get(dashboard_id) is None:
        raise DashboardNotFound(dashboard_id)
    if starred:
        store.star(username, dashboard_id)
    else:
        store.unstar(username, dashboard_id)


def home_dashboard(*, store: DashboardStore, username: str) -> str | None:
    """The id of a user's home dashboard, when they chose one that still exists."""
    home = store.home(username)
    return home if home is not None and store.get(home) is not None else None


def set_home(*, store: DashboardStore, username: str, dashboard_id: str | None) -> None:
    """Choose a user's home dashboard (None: the default one); DashboardNotFound when there is
    no such dashboard."""
    if dashboard_id is not None and store.get(dashboard_id) is None:
        raise DashboardNotFound(dashboard_id)
    store.set_home(username, dashboard_id)
