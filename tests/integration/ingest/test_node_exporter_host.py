"""A real node exporter (Debian's) polled as a ``prometheus+http`` target: its families' types are
listed, and its first scrape creates the "Host" dashboard, whose expressions answer."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.background import offer_host
from ingest.pollers import node_exporter_hook, start_pollers
from tests.conftest import _missing
from tests.integration.ingest.test_remote_write_prometheus import _start, _stop, _wait_http
from tests.servers import free_port

API = "/prometheus/api/v1"
BINARY = "prometheus-node-exporter"


@pytest.fixture
def exporter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[int]:
    """A node exporter on a loopback port (the port)."""
    if shutil.which(BINARY) is None:
        _missing(BINARY, f"apt-get install {BINARY}", request.node.nodeid)
    port = free_port()
    log = tmp_path / "exporter.log"
    proc: subprocess.Popen = _start([BINARY, f"--web.listen-address=127.0.0.1:{port}"], log)
    try:
        _wait_http(f"http://127.0.0.1:{port}/metrics", proc, log)
        yield port
    finally:
        _stop(proc)


def test_a_polled_node_exporter_is_typed_and_gets_its_host_dashboard(app, client, exporter):
    """Two polls: node_cpu_seconds_total is a counter; "Host 127.0.0.1:<port>" is created once
    and each of its expressions gives series."""
    rt = app.extensions["dashboard"]
    rt.settings.poll_targets = [f"prometheus+http://127.0.0.1:{exporter}/metrics"]
    [poller] = start_pollers(
        rt.settings,
        publish=rt.publish,
        spawn=lambda name, run: None,
        sleep=lambda seconds: None,
        metrics=rt.metrics,
        tasks=rt.tasks,
        limits=rt.limits,
        on_first_scrape=node_exporter_hook(lambda instance: offer_host(rt, instance)),
    )
    poller.step()
    time.sleep(1.1)  # a second scrape a second later: counters have moved, rate() has two points
    poller.step()
    assert rt.tasks[poller.key]["state"] == "ok", rt.tasks[poller.key]

    meta = client.get(f"{API}/metadata?metric=node_cpu_seconds_total").get_json()["data"]
    assert meta["node_cpu_seconds_total"][0]["type"] == "counter"
    assert meta["node_cpu_seconds_total"][0]["help"].startswith("Seconds the CPUs spent")
    types = {s["name"]: s["type"] for s in client.get("/api/v1/metrics").get_json()["series"]}
    assert types["node_cpu_seconds_total"] == "counter"
    assert types["node_load1"] == "gauge"

    board_id = f"host-127-0-0-1-{exporter}"
    board = client.get(f"/api/v1/dashboards/{board_id}").get_json()
    assert board["title"] == f"Host 127.0.0.1:{exporter}"
    answers = {}
    for widget in board["widgets"]:
        for entry in widget["series"]:
            data = client.get(f"{API}/query", query_string={"query": entry["expr"]}).get_json()
            assert data["status"] == "success", (entry["expr"], data)
            answers[(widget["id"], entry.get("legend"))] = data["data"]["result"]
    cpu = answers[("cpu", "{{mode}}")]
    assert {"idle", "user", "system"} <= {r["metric"]["mode"] for r in cpu}
    assert sum(float(r["value"][1]) for r in cpu) > 0
    # rate() over 5m of a series one second old is extrapolated down (as Prometheus does);
    # the same arithmetic over the last two scrapes shows the modes add up to 100 %
    [cpu_expr] = [e["expr"] for w in board["widgets"] if w["id"] == "cpu" for e in w["series"]]
    last_two = cpu_expr.replace("rate(", "irate(")
    data = client.get(f"{API}/query", query_string={"query": last_two}).get_json()
    assert 80 <= sum(float(r["value"][1]) for r in data["data"]["result"]) <= 120
    assert 0 < float(answers[("memory", "used")][0]["value"][1]) < 100
    for key in (("load", "1 min"), ("filesystem", "{{mountpoint}}"), ("disk", "{{device}} read")):
        assert answers[key], key
    assert answers[("network", "{{device}} received")] is not None  # "lo" only: may be empty

    # the dashboard is offered once: kept (with the user's changes) on a later node start
    assert offer_host(rt, f"127.0.0.1:{exporter}") is None
