"""The app factory: apps are independent, and a fresh node answers concurrent first requests."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from socketio import Manager, RedisManager

from dashboard.app import create_app
from tests.conftest import ADMIN_PASSWORD, REDIS_URL, TOKEN, sign_in
from tests.servers import LiveServer


def test_two_apps_in_one_process_keep_their_own_data(settings, tmp_path):
    """A point ingested into one app is not visible in the other."""
    other = settings.model_copy(update={"data_dir": tmp_path / "other"})
    first, second = create_app(settings), create_app(other)
    body = {"metrics": [{"name": "factory.x", "points": [[int(time.time() * 1000), 1.0]]}]}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert first.test_client().post("/api/v1/ingest", json=body, headers=auth).status_code == 202
    names = [
        [
            s["name"]
            for s in sign_in(app.test_client(), "admin", ADMIN_PASSWORD)
            .get("/api/v1/metrics")
            .get_json()["series"]
        ]
        for app in (first, second)
    ]
    assert names == [["factory.x"], []]
    first.extensions["dashboard"].close()
    second.extensions["dashboard"].close()


def test_a_fresh_node_answers_concurrent_first_requests(tmp_path):
    """Dash's own routes all answer when the first requests of a new process arrive at once."""
    node = LiveServer(tmp_path / "data", demo=False)
    try:
        # the very first Dash requests of the process, all at once (the sign-in app is public)
        first = ["/login/", "/login/_dash-layout", "/login/_dash-dependencies"] * 5
        with ThreadPoolExecutor(max_workers=15) as pool:
            early = list(
                pool.map(lambda p: requests.get(node.url + p, timeout=20).status_code, first)
            )
        assert early == [200] * len(first)
        session = requests.Session()
        session.post(
            node.url + "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        cookies = session.cookies.get_dict()
        index = session.get(node.url + "/").text
        scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', index)
        assert scripts
        paths = ["/", "/_dash-layout", "/_dash-dependencies", *scripts] * 3

        def fetch(path: str) -> int:
            return requests.get(node.url + path, cookies=cookies, timeout=20).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(fetch, paths))
        assert statuses == [200] * len(paths)
    finally:
        node.stop()


def test_each_app_counts_its_limits_under_its_own_prefix(settings, redis_prefix, tmp_path):
    """The limiter is made once per process, but each app keeps its own storage and prefix:
    a node built after another one does not count under the first one's prefix."""
    client, prefix = redis_prefix
    settings.redis_url = REDIS_URL
    settings.redis_prefix = prefix + "bus"
    apps = []
    for name in ("first", "second"):
        node = settings.model_copy(
            update={"data_dir": tmp_path / name, "ratelimit_prefix": f"{prefix}{name}"}
        )
        apps.append(create_app(node))
    try:
        refused = (
            apps[1]
            .test_client()
            .post("/api/v1/auth/login", json={"username": "admin", "password": "wrong"})
        )
        assert refused.status_code == 401
        assert list(client.scan_iter(match=f"*{prefix}second*"))
        assert not list(client.scan_iter(match=f"*{prefix}first*"))
    finally:
        for app in apps:
            app.extensions["dashboard"].close()
        for key in client.scan_iter(match=f"*{prefix}*"):
            client.delete(key)


def test_a_node_without_redis_keeps_no_former_node_s_socket_queue(settings, redis_prefix, tmp_path):
    """Socket.IO is made once per process: a node without Redis that follows one with Redis
    keeps its rooms in memory, not on the former node's queue."""
    _, prefix = redis_prefix
    with_redis = settings.model_copy(
        update={"redis_url": REDIS_URL, "redis_prefix": prefix + "bus", "data_dir": tmp_path / "r"}
    )
    first = create_app(with_redis)
    assert isinstance(first.extensions["socketio"].server.manager, RedisManager)
    first.extensions["dashboard"].close()
    second = create_app(settings)
    try:
        assert type(second.extensions["socketio"].server.manager) is Manager
    finally:
        second.extensions["dashboard"].close()
