"""The sign-in page (its own small Dash app at /login/, open to anyone)."""

from __future__ import annotations

from dash import dcc, html

USER = "login-username"
PASSWORD = "login-password"
SUBMIT = "login-submit"
ERROR = "login-error"
SINK = "login-sink"


def layout() -> html.Main:
    """A username and password form; Enter or the button signs in."""
    return html.Main(
        html.Div(
            [
                html.H1("Dashboard", className="login-brand"),
                html.P("Sign in to see your metrics.", className="login-lead"),
                html.Label("Username", htmlFor=USER),
                dcc.Input(
                    id=USER,
                    type="text",
                    autoComplete="username",
                    autoFocus=True,
                    debounce=False,
                    n_submit=0,
                    className="login-input",
                ),
                html.Label("Password", htmlFor=PASSWORD),
                dcc.Input(
                    id=PASSWORD,
                    type="password",
                    autoComplete="current-password",
                    debounce=False,
                    n_submit=0,
                    className="login-input",
                ),
                html.Button("Sign in", id=SUBMIT, type="button", className="login-button"),
                html.Div(
                    id=ERROR, role="alert", **{"aria-live": "assertive"}, className="login-error"
                ),
                dcc.Store(id=SINK),
            ],
            className="login-card",
        ),
        className="login",
    )
