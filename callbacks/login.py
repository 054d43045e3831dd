"""The sign-in form: ``assets/login.js`` posts to the auth API and follows ``next``."""

from __future__ import annotations

from dash import ClientsideFunction, Dash, Input, Output, State

from layouts import ids


def register(app: Dash) -> None:
    """Register the sign-in callback on the login app."""
    app.clientside_callback(
        ClientsideFunction(namespace="login", function_name="signIn"),
        Output(ids.LOGIN_SINK, "data"),
        Input(ids.LOGIN_SUBMIT, "n_clicks"),
        Input(ids.LOGIN_USER, "n_submit"),
        Input(ids.LOGIN_PASSWORD, "n_submit"),
        State(ids.LOGIN_USER, "value"),
        State(ids.LOGIN_PASSWORD, "value"),
        prevent_initial_call=True,
    )
