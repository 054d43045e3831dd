"""The keys and rates of the rate limits, read from a request and the app's settings."""

from __future__ import annotations

import hashlib

from flask import Flask, Response

from dashboard.auth import limits
from dashboard.settings import Settings


def test_keys_name_the_address_the_token_and_the_sign_in_name() -> None:
    """Each limit counts its own kind of caller; a missing one has a fixed key."""
    app = Flask(__name__)
    with app.test_request_context(
        "/api/v1/auth/login",
        method="POST",
        json={"username": "Admin"},
        headers={"Authorization": "Bearer tok"},
        environ_base={"REMOTE_ADDR": "10.0.0.7"},
    ):
        assert limits.remote_address() == "ip:10.0.0.7"
        assert limits.user_key() == "ip:10.0.0.7"  # no one signed in
        assert limits.token_key() == "token:" + hashlib.sha256(b"tok").hexdigest()[:16]
        assert limits.login_username() == "user:admin"
    with app.test_request_context("/api/v1/ingest", method="POST", data="not json"):
        assert limits.token_key() == "token:-"
        assert limits.login_username() == "user:-"


def test_only_failed_answers_spend_the_sign_in_budget() -> None:
    """A 200 costs nothing; a 401 or a 429 does."""
    assert not limits.failed(Response(status=200))
    assert limits.failed(Response(status=401))
    assert limits.failed(Response(status=429))


def test_rates_come_from_the_app_that_answers() -> None:
    """Two apps with different settings each apply their own rates."""
    rates = []
    for api in ("3 per minute", "9 per second"):
        app = Flask(__name__)
        settings = Settings(_env_file=None, api_rate_limit=api, login_rate_limit="1 per hour")
        app.config[limits.RATE_LIMITS] = limits.rates(settings)
        with app.app_context():
            rates.append((limits.api_limit(), limits.login_limit()))
    assert rates == [("3 per minute", "1 per hour"), ("9 per second", "1 per hour")]
