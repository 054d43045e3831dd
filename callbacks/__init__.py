"""Dash callbacks, one module per concern, each with ``register(app, rt)``."""

from __future__ import annotations

from dash import Dash

from callbacks import (
    alerts,
    edit_boards,
    edit_variables,
    edit_widgets,
    finder,
    live,
    time_range,
    variables,
    widgets,
)
from dashboard.runtime import Runtime


def register_all(app: Dash, rt: Runtime) -> None:
    """Register every callback on this app."""
    live.register(app, rt)
    widgets.register(app, rt)
    alerts.register(app, rt)
    time_range.register(app, rt)
    variables.register(app, rt)
    edit_widgets.register(app, rt)
    edit_boards.register(app, rt)
    edit_variables.register(app, rt)
    finder.register(app, rt)
