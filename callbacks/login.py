"""The sign-in form: posts to the auth API from the browser, then goes where it was asked."""

from __future__ import annotations

from dash import Dash, Input, Output, State

from layouts import login

SIGN_IN = """
function (clicks, submitUser, submitPassword, username, password) {
    if (!clicks && !submitUser && !submitPassword) { return window.dash_clientside.no_update; }
    var show = function (text) { window.dash_clientside.set_props('%(error)s', {children: text}); };
    if (!username || !password) { show('Enter your username and password.'); return window.dash_clientside.no_update; }
    show('Signing in…');
    fetch('/api/v1/auth/login', {
        method: 'POST', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({username: username, password: password})
    }).then(function (r) {
        if (r.ok) {
            var next = new URLSearchParams(window.location.search).get('next') || '/';
            if (next.charAt(0) !== '/' || next.charAt(1) === '/' || next.charAt(1) === '\\\\') { next = '/'; }
            window.location.assign(next);
        } else if (r.status === 429) {
            var wait = r.headers.get('Retry-After');
            show('Too many attempts. Try again' + (wait ? ' in ' + wait + ' s.' : ' later.'));
        } else {
            show('Wrong username or password.');
        }
    }).catch(function () { show('The server did not answer. Try again.'); });
    return window.dash_clientside.no_update;
}
""" % {"error": login.ERROR}


def register(app: Dash) -> None:
    """Register the sign-in callback on the login app."""
    app.clientside_callback(
        SIGN_IN,
        Output(login.SINK, "data"),
        Input(login.SUBMIT, "n_clicks"),
        Input(login.USER, "n_submit"),
        Input(login.PASSWORD, "n_submit"),
        State(login.USER, "value"),
        State(login.PASSWORD, "value"),
        prevent_initial_call=True,
    )
