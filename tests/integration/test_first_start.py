"""What ``make run`` does on a fresh data folder (#25): ``dashboard serve`` with the demo is up
within seconds, its console says where to sign in and with which password (generated and
shown once), the password works, and the demo's data is there to see."""

from __future__ import annotations

import re
import time

import requests

from tests.servers import LiveServer


def test_a_fresh_start_says_where_to_sign_in_and_the_password_works(tmp_path):
    """First start: the generated password and the sign-in URL on the console; signed in, the
    dashboard page and the demo's series answer."""
    started = time.monotonic()
    server = LiveServer(tmp_path / "data", demo=True, env={"DASHBOARD_ADMIN_PASSWORD": ""})
    try:
        console = server.log_path.read_text()
        password = re.search(r"Password \(shown this once\): (\S+)", console)
        assert password, console
        assert f"open http://127.0.0.1:{server.port}/login and sign in as 'admin'" in console
        session = requests.Session()
        login = {"username": "admin", "password": password.group(1)}
        assert session.post(server.url + "/api/v1/auth/login", json=login, timeout=10).ok
        assert session.get(server.url + "/", timeout=30).status_code == 200
        deadline = time.monotonic() + 30
        names: set[str] = set()
        while "demo.active_users" not in names and time.monotonic() < deadline:
            listed = session.get(server.url + "/api/v1/metrics", timeout=10).json()
            names = {m["name"] for m in listed.get("metrics", listed.get("series", []))}
            time.sleep(0.3)
        assert "demo.active_users" in names
        # how long it took is printed, not asserted (speed is for bench/, not tests)
        print(f"fresh start to a signed-in page with demo data: {time.monotonic() - started:.1f} s")
    finally:
        server.stop()
