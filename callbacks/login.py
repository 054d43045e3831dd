"""The sign-in form: ``assets/login.js`` posts to the auth API and follows ``next``."""

from __future__ import annotations

from dash import ClientsideFunction, Dash, Input, Output, State

from layouts import login


def register(app: Dash) -> None:
    """Register the sign-in callback on the login app."""
    app.clientside_callback(
        ClientsideFunction(namespace="login", function_name="signIn"),
        Output(login.SINK, "data"),
        Input(login.SUBMIT, "n_clicks"),
        Input(login.USER, "n_submit"),
        Input(login.PASSWORD, "n_submit"),
        State(login.USER, "value"),
        State(login.PASSWORD, "value"),
        prevent_initial_call=True,
    )
