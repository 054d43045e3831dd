"""The page with its database down (#24, #26): on a Redis setup a real ``dashboard serve`` and
``dashboard worker`` on a private PostgreSQL that is set to refuse connections under a running
page. The banner says what is wrong within 5 s, live points keep coming through Redis (kept
there until the database is back), and the banner leaves when the database answers again."""

from __future__ import annotations

import time

import pytest

from dashboard.metrics.model import SeriesKey
from dashboard.metrics.steps import RAW
from dashboard.metrics.stores.postgres import PostgresStore
from tests.browser.test_live_page import JS_TRACE_Y, open_dashboard, wait_until
from tests.conftest import REDIS_URL
from tests.faults.harness import WorkerProcess, redis_env, web_node
from tests.postgres_server import private_postgres  # noqa: F401 - fixture

# serial: it times the banner (within 5 s), which another test's load on the 2 cores can delay
pytestmark = [pytest.mark.browser, pytest.mark.serial]

DOWN = "Database unreachable: live updates go on; saving and history wait."


def _users(driver) -> list[float]:  # type: ignore[no-untyped-def]
    """The active-users chart's newest values."""
    return driver.execute_script(JS_TRACE_Y, "widget-line-users-graph", 0) or []


def _post(node, value: float):  # type: ignore[no-untyped-def]
    """POST one active-users point now; the response."""
    point = [int(time.time() * 1000), value]
    return node.ingest({"metrics": [{"name": "demo.active_users", "points": [point]}]})


def test_banner_within_5_s_while_postgres_refuses_and_live_points_go_on(
    dash_br,
    private_postgres,  # noqa: F811
    tmp_path,
):
    """Refused: the banner names the database within 5 s, a new point is accepted and drawn
    live; allowed again: the banner goes and the point is in the database."""
    env = {
        **redis_env(REDIS_URL, tmp_path / "unused.db"),
        "DASHBOARD_DATABASE_URL": private_postgres.url,
    }
    node = web_node(tmp_path / "node", env)
    worker = WorkerProcess(tmp_path / "worker", env)
    try:
        open_dashboard(dash_br, node)
        driver = dash_br.driver
        banner = dash_br.find_element("#live-banner")
        assert not banner.is_displayed()
        assert _post(node, 111.0).status_code == 202
        wait_until(lambda: 111.0 in _users(driver), timeout=15)

        refused = time.monotonic()
        private_postgres.refuse_connections()
        wait_until(lambda: banner.is_displayed() and banner.text == DOWN, timeout=10)
        assert time.monotonic() - refused <= 5.0 + 1.0  # 5 s, and the poll's own interval
        answer = _post(node, 222.0)
        assert answer.status_code == 202, answer.text  # Redis keeps it until the database is back
        wait_until(lambda: 222.0 in _users(driver), timeout=10)  # drawn live meanwhile

        private_postgres.allow_connections()
        wait_until(lambda: not banner.is_displayed(), timeout=60)
        dash_br.wait_for_text_to_equal("#live-state", "Live", timeout=20)
        store = PostgresStore(private_postgres.url)
        try:
            key = SeriesKey.of("demo.active_users")
            now = int(time.time() * 1000)
            wait_until(
                lambda: 222.0 in store.query(key, now - 120_000, now, RAW).value.tolist(),
                timeout=60,
            )  # the worker wrote what Redis kept
        finally:
            store.close()
    finally:
        worker.stop()
        node.stop()
