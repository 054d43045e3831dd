"""Sessions: sign-in, refresh, sign-out, bad tokens, CSRF, Origin, limits, headers, CLI."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from flask_jwt_extended import create_access_token

from dashboard.app import create_app
from dashboard.auth.passwords import HASHER, hash_password, verify_password
from dashboard.live.socket import sweep_expired_sessions
from tests.conftest import ADMIN_PASSWORD, sign_in


def _b64(data: dict) -> str:
    """Base64url JSON without padding, as in a JWT."""
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _set_access(client, token: str) -> None:
    """Put a hand-made access token in the client's cookie jar."""
    client.set_cookie("access_token", token, domain="localhost")


def test_sign_in_sets_httponly_samesite_cookies(anon_client):
    """The session lives in httpOnly, SameSite cookies; the CSRF values are readable by JS."""
    response = anon_client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert {"access_token", "refresh_token", "_csrf_token", "_csrf_refresh"} <= set(cookies)
    for name in ("access_token", "refresh_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name]
    assert "HttpOnly" not in cookies["_csrf_token"]
    assert "Path=/api/v1/auth" in cookies["refresh_token"]
    assert "Secure" not in cookies["access_token"]  # plain HTTP here


def test_cookies_are_secure_behind_a_tls_proxy(settings):
    """With a trusted proxy saying https, cookies get Secure and responses get HSTS."""
    settings.trusted_proxies = 1
    app = create_app(settings)
    response = app.test_client().post(
        "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert all("; Secure" in c for c in response.headers.getlist("Set-Cookie"))
    assert "max-age" in response.headers["Strict-Transport-Security"]
    app.extensions["dashboard"].close()


@pytest.mark.parametrize(
    "password", ["wrong-password", "", "admin-password-for-test"], ids=["wrong", "empty", "near"]
)
def test_wrong_passwords_and_unknown_users_are_refused_alike(anon_client, password):
    """A wrong password and an unknown user both get the same 401, and no cookies."""
    for username in ("admin", "nobody"):
        response = anon_client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code in (400, 401)
        assert response.get_json()["error"] in ("invalid credentials", "invalid credentials format")
        assert not response.headers.getlist("Set-Cookie")


def test_expired_tampered_and_unsigned_tokens_are_refused(app, anon_client):
    """alg=none, a changed signature, a changed claim and an expired token all get 401."""
    with app.app_context():
        good = create_access_token(identity="admin")
        expired = create_access_token(identity="admin", expires_delta=timedelta(seconds=-5))
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged_claims = _b64({**claims, "sub": "someone-else"})
    cases = {
        "alg-none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "bad-signature": f"{header}.{payload}.{signature[:-4]}AAAA",
        "changed-claim": f"{header}.{forged_claims}.{signature}",
        "expired": expired,
        "other-alg": f"{_b64({'alg': 'HS512', 'typ': 'JWT'})}.{payload}.{signature}",
    }
    for name, token in cases.items():
        _set_access(anon_client, token)
        assert anon_client.get("/api/v1/auth/me").status_code == 401, name
    _set_access(anon_client, good)
    assert anon_client.get("/api/v1/auth/me").status_code == 200


def test_refresh_gives_a_new_access_token_and_logout_revokes_both(anon_client):
    """Refresh works with its CSRF header; after logout neither old token is accepted."""
    client = sign_in(anon_client, "admin", ADMIN_PASSWORD)
    refresh_csrf = client.get_cookie("_csrf_refresh").value
    assert client.post("/api/v1/auth/refresh").status_code == 401  # no refresh CSRF header
    response = client.post("/api/v1/auth/refresh", headers={"X-CSRFToken": refresh_csrf})
    assert response.status_code == 200
    old_access = client.get_cookie("access_token").value
    old_refresh = client.get_cookie("refresh_token", path="/api/v1/auth").value
    assert client.post("/api/v1/auth/logout").status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 401
    _set_access(client, old_access)
    assert client.get("/api/v1/auth/me").status_code == 401
    client.set_cookie("refresh_token", old_refresh, domain="localhost", path="/api/v1/auth")
    client.set_cookie("_csrf_refresh", refresh_csrf, domain="localhost")
    response = client.post("/api/v1/auth/refresh", headers={"X-CSRFToken": refresh_csrf})
    assert response.status_code == 401


def test_state_changing_requests_need_the_csrf_header(client):
    """Without the double-submit header a signed-in POST is refused, Dash callbacks too."""
    csrf = client.environ_base.pop("HTTP_X_CSRFTOKEN")
    assert client.post("/api/v1/tokens", json={"name": "t1"}).status_code == 401
    assert client.post("/_dash-update-component", json={}).status_code == 401
    wrong = {"X-CSRFToken": "not-the-token"}
    assert client.post("/api/v1/tokens", json={"name": "t1"}, headers=wrong).status_code == 401
    ok = {"X-CSRFToken": csrf}
    assert client.post("/api/v1/tokens", json={"name": "t1"}, headers=ok).status_code == 201


def test_cross_origin_requests_with_a_session_are_refused(client):
    """A foreign Origin is refused even with the session cookie and the CSRF header."""
    evil = {"Origin": "https://evil.example"}
    assert client.post("/api/v1/tokens", json={"name": "t2"}, headers=evil).status_code == 403
    assert client.post("/_dash-update-component", json={}, headers=evil).status_code == 403
    own = {"Origin": "http://localhost"}
    assert client.post("/api/v1/tokens", json={"name": "t2"}, headers=own).status_code == 201


def test_wildcard_cors_origin_is_refused_by_settings(settings):
    """``*`` can never be configured as an allowed origin."""
    from pydantic import ValidationError

    from dashboard.settings import Settings

    with pytest.raises(ValidationError, match="not allowed"):
        Settings(_env_file=None, data_dir=settings.data_dir, cors_allowed_origins="*")


def test_sign_in_brute_force_meets_429_with_retry_after(anon_client):
    """Sixth wrong password for one user within a minute: 429 and Retry-After."""
    statuses = []
    for _ in range(6):
        response = anon_client.post(
            "/api/v1/auth/login", json={"username": "admin", "password": "guess"}
        )
        statuses.append(response.status_code)
    assert statuses == [401] * 5 + [429]
    assert int(response.headers["Retry-After"]) > 0
    # the limit is per user: another name from the same address is still answered
    other = anon_client.post("/api/v1/auth/login", json={"username": "eve", "password": "x"})
    assert other.status_code == 401


def test_successful_sign_ins_do_not_spend_the_budget(anon_client):
    """Only failed attempts count: a user who signs in often is never locked out."""
    for _ in range(8):
        response = anon_client.post(
            "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        assert response.status_code == 200


def test_sign_in_limits_hold_across_two_nodes_on_one_redis(settings, redis_prefix, tmp_path):
    """Two app instances sharing Redis share the per-user sign-in budget."""
    _, prefix = redis_prefix
    settings.redis_url = "redis://127.0.0.1:6379/0"
    settings.ratelimit_prefix = prefix + "limits"
    first = create_app(settings)
    second_settings = settings.model_copy(update={"data_dir": tmp_path / "node2"})
    second = create_app(second_settings)
    statuses = []
    for i in range(6):
        node = (first if i % 2 == 0 else second).test_client()
        response = node.post("/api/v1/auth/login", json={"username": "admin", "password": "no"})
        statuses.append(response.status_code)
    assert statuses == [401] * 5 + [429]
    first.extensions["dashboard"].close()
    second.extensions["dashboard"].close()


def test_password_hash_is_upgraded_on_sign_in_when_parameters_change(app, anon_client):
    """A hash made with weaker parameters is replaced by an OWASP-strength one at sign-in."""
    store = app.extensions["auth_users"]
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    store.create_user("old-timer", weak.hash("an-old-password-1"), "viewer")
    response = anon_client.post(
        "/api/v1/auth/login", json={"username": "old-timer", "password": "an-old-password-1"}
    )
    assert response.status_code == 200
    stored = store.get_user("old-timer").password_hash
    assert stored.startswith("$argon2id$") and not HASHER.check_needs_rehash(stored)
    assert verify_password(stored, "an-old-password-1") == (True, None)


def test_argon2id_hashes_use_owasp_parameters():
    """Hashes are Argon2id with 19 MiB, 2 passes, 1 lane, and salted."""
    first, second = hash_password("same password"), hash_password("same password")
    assert first.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert first != second


def test_security_headers_on_every_response(anon_client, client):
    """CSP without unsafe-eval, framing refused, no sniffing, a referrer policy (scripts: no
    sniffing only)."""
    for response in (anon_client.get("/login/"), client.get("/"), client.get("/api/v1/metrics")):
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    # a script is never a document: it is only kept from being sniffed as something else
    page = client.get("/").get_data(as_text=True)
    script = client.get(page.split('<script src="')[1].split('"')[0])
    assert script.mimetype in ("application/javascript", "text/javascript")
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in script.headers


def test_expired_live_sessions_are_disconnected(app, client):
    """A socket whose session ends is disconnected by the sweep, not kept open forever."""
    socketio = app.extensions["socketio"]
    namespace = app.extensions["live_namespace"]
    sio = socketio.test_client(app, namespace="/live", flask_test_client=client)
    assert sio.is_connected("/live")
    assert sweep_expired_sessions(socketio, namespace) == 0
    for sid, (user, _) in list(namespace.sessions.items()):
        namespace.sessions[sid] = (user, int(time.time()) - 1)
    assert sweep_expired_sessions(socketio, namespace) == 1
    assert not sio.is_connected("/live")


def test_ingest_tokens_are_stored_hashed_and_revocable(app, anon_client, client):
    """An admin-made token works for ingest, is not stored in clear, and stops when revoked."""
    token = client.post("/api/v1/tokens", json={"name": "producer"}).get_json()["token"]
    database = app.extensions["dashboard"].settings.resolved_database_url.removeprefix("sqlite:///")
    with open(database, "rb") as db:
        assert token.encode() not in db.read()
    body = {"metrics": [{"name": "t.x", "points": [[int(time.time() * 1000), 1.0]]}]}
    auth = {"Authorization": f"Bearer {token}"}
    assert anon_client.post("/api/v1/ingest", json=body, headers=auth).status_code == 202
    assert client.delete("/api/v1/tokens/producer").status_code == 200
    assert anon_client.post("/api/v1/ingest", json=body, headers=auth).status_code == 401


def test_cli_creates_users_and_tokens(tmp_path):
    """`dashboard users create` and `dashboard tokens create` work from the command line."""
    env = {"DASHBOARD_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "dashboard.cli"]
    made = subprocess.run(
        [*run, "users", "create", "carol", "--role", "editor", "--password-stdin"],
        input="carol-has-a-long-password\n",
        env=env,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    listed = subprocess.run([*run, "users", "list"], env=env, capture_output=True, text=True)
    assert "carol\teditor" in listed.stdout
    token = subprocess.run(
        [*run, "tokens", "create", "ci"], env=env, capture_output=True, text=True
    )
    assert token.returncode == 0 and token.stdout.startswith("dsh_")
    short = subprocess.run(
        [*run, "users", "create", "dave", "--password-stdin"],
        input="short\n",
        env=env,
        capture_output=True,
        text=True,
    )
    assert short.returncode == 1 and "12 characters" in short.stderr


def test_first_start_creates_the_admin_and_prints_a_generated_password(settings, capsys):
    """With no admin password set, the first start prints one that works, once."""
    settings.admin_password = None
    app = create_app(settings)
    printed = capsys.readouterr().err
    password = printed.split("Password (shown this once): ")[1].split()[0]
    client = app.test_client()
    response = client.post("/api/v1/auth/login", json={"username": "admin", "password": password})
    assert response.status_code == 200
    app.extensions["dashboard"].close()
    again = create_app(settings)
    assert "Password (shown this once)" not in capsys.readouterr().err
    again.extensions["dashboard"].close()


def test_api_is_limited_per_user_and_ingest_per_token(settings):
    """Over the per-user API limit and the per-token ingest limit: 429 with Retry-After."""
    from tests.conftest import TOKEN

    settings.api_rate_limit = "3 per minute"
    settings.ingest_rate_limit = "2 per minute"
    app = create_app(settings)
    client = sign_in(app.test_client(), "admin", ADMIN_PASSWORD)
    statuses = [client.get("/api/v1/metrics").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    body = {"metrics": [{"name": "t.x", "points": [[int(time.time() * 1000), 1.0]]}]}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    anon = app.test_client()
    statuses = [anon.post("/api/v1/ingest", json=body, headers=auth).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]
    last = anon.post("/api/v1/ingest", json=body, headers=auth)
    assert last.status_code == 429 and int(last.headers["Retry-After"]) > 0
    assert last.get_json()["error"]
    app.extensions["dashboard"].close()


def test_absurdly_nested_json_is_a_400_everywhere(anon_client, client):
    """A body nested 100,000 deep is refused as bad input on every JSON route, never a 500."""
    deep = "[" * 100_000
    headers = {"Content-Type": "application/json"}
    assert anon_client.post("/api/v1/auth/login", data=deep, headers=headers).status_code == 400
    for path in ("/api/v1/dashboards", "/api/v1/alerts/rules", "/api/v1/users"):
        assert client.post(path, data=deep, headers=headers).status_code == 400, path
