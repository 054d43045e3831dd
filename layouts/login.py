"""The sign-in page (its own small Dash app at /login/, open to anyone)."""

from __future__ import annotations

from dash import dcc, html

from layouts import ids


def layout() -> html.Main:
    """A username and password form; Enter or the button signs in."""
    return html.Main(
        html.Div(
            [
                html.H1("Dashboard", className="login-brand"),
                html.P("Sign in to see your metrics.", className="login-lead"),
                html.Label("Username", htmlFor=ids.LOGIN_USER),
                dcc.Input(
                    id=ids.LOGIN_USER,
                    type="text",
                    autoComplete="username",
                    autoFocus=True,
                    debounce=False,
                    n_submit=0,
                    className="login-input",
                ),
                html.Label("Password", htmlFor=ids.LOGIN_PASSWORD),
                dcc.Input(
                    id=ids.LOGIN_PASSWORD,
                    type="password",
                    autoComplete="current-password",
                    debounce=False,
                    n_submit=0,
                    className="login-input",
                ),
                html.Button(
                    "Sign in", id=ids.LOGIN_SUBMIT, type="button", className="login-button"
                ),
                html.Div(
                    id=ids.LOGIN_ERROR,
                    role="alert",
                    **{"aria-live": "assertive"},
                    className="login-error",
                ),
                dcc.Store(id=ids.LOGIN_SINK),
            ],
            className="login-card",
        ),
        className="login",
    )
