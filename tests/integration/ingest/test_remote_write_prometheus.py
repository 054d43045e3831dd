"""A real Prometheus (Debian's) scraping a real node exporter remote-writes to a real server;
the values read back through ``/api/v1/series`` equal what Prometheus holds."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import ADMIN_PASSWORD, TOKEN, _missing
from tests.servers import LiveServer, free_port

BINARIES = ("prometheus", "prometheus-node-exporter")
CONFIG = """
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:{exporter}"]
remote_write:
  - url: "{url}/api/v1/write"
    authorization:
      credentials: "{token}"
    queue_config:
      batch_send_deadline: 1s
      max_samples_per_send: 500
"""


def _binaries(nodeid: str) -> None:
    """Skip (or fail under DASHBOARD_REQUIRE_SERVICES) when a binary is not installed; the
    skip is named in the run's UNTESTED summary."""
    missing = [name for name in BINARIES if shutil.which(name) is None]
    if missing:
        _missing(", ".join(missing), f"apt-get install {' '.join(BINARIES)}", nodeid)


def _wait_http(url: str, proc: subprocess.Popen, log: Path) -> None:
    """Wait until ``url`` answers 200 (the process must stay up)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer: {log.read_text()[-2000:]}")


def _start(args: list[str], log: Path) -> subprocess.Popen:
    """A subprocess writing to ``log``."""
    return subprocess.Popen(args, stdout=log.open("w"), stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen) -> None:
    """Terminate a subprocess (kill it if it lingers)."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@pytest.fixture
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    """The dashboard, a node exporter and a Prometheus remote-writing to the dashboard."""
    _binaries(request.node.nodeid)
    server = LiveServer(tmp_path / "dash", demo=False)
    exporter_port, prom_port = free_port(), free_port()
    procs: list[subprocess.Popen] = []
    try:
        exporter_log = tmp_path / "exporter.log"
        procs.append(
            _start(
                ["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{exporter_port}"],
                exporter_log,
            )
        )
        _wait_http(f"http://127.0.0.1:{exporter_port}/metrics", procs[0], exporter_log)
        config = tmp_path / "prometheus.yml"
        config.write_text(CONFIG.format(exporter=exporter_port, url=server.url, token=TOKEN))
        prom_log = tmp_path / "prometheus.log"
        procs.append(
            _start(
                [
                    "prometheus",
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                ],
                prom_log,
            )
        )
        prom = f"http://127.0.0.1:{prom_port}"
        _wait_http(prom + "/-/ready", procs[1], prom_log)
        yield server, prom
    finally:
        for proc in reversed(procs):
            _stop(proc)
        server.stop()


def _signed_in(server: LiveServer) -> requests.Session:
    """A session signed in as the admin."""
    session = requests.Session()
    response = session.post(
        server.url + "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return session


def _listed(session: requests.Session, server: LiveServer) -> list[dict]:
    """The series the dashboard lists."""
    return session.get(server.url + "/api/v1/metrics", timeout=5).json()["series"]


def _prometheus_samples(prom: str, name: str) -> dict[str, dict[int, float]]:
    """Series text -> {ts_ms: value} of ``name``'s raw samples of the last 5 minutes."""
    response = requests.get(prom + "/api/v1/query", params={"query": f"{name}[5m]"}, timeout=5)
    out: dict[str, dict[int, float]] = {}
    for result in response.json()["data"]["result"]:
        labels = {k: v for k, v in result["metric"].items() if k != "__name__"}
        inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        text = f"{name}{{{inner}}}" if inner else name
        out[text] = {round(float(t) * 1000): float(v) for t, v in result["values"]}
    return out


def _dashboard_samples(session: requests.Session, server: LiveServer, key: str) -> dict:
    """{ts_ms: value} of a series' raw points on the dashboard."""
    params = {"key": key, "start": int(time.time() * 1000) - 600_000, "step": "raw"}
    params["end"] = int(time.time() * 1000) + 60_000
    points = session.get(server.url + "/api/v1/series", params=params, timeout=5).json()["points"]
    return {int(t): float(v) for t, v in points}


def test_prometheus_remote_write_delivers_node_exporter_series(stack):
    """node_ series arrive, and each raw value equals the sample Prometheus holds."""
    server, prom = stack
    session = _signed_in(server)
    deadline = time.monotonic() + 60
    names: set[str] = set()
    while time.monotonic() < deadline:
        names = {s["name"] for s in _listed(session, server)}
        if "node_load1" in names and "node_memory_MemAvailable_bytes" in names:
            break
        time.sleep(1)
    assert sum(name.startswith("node_") for name in names) > 50, sorted(names)[:20]
    time.sleep(3)  # a few more scrapes, so several samples per series are compared
    compared = 0
    for name in ("node_load1", "node_memory_MemAvailable_bytes", "node_cpu_seconds_total"):
        held = _prometheus_samples(prom, name)
        assert held, name
        for key, samples in held.items():
            ours = _dashboard_samples(session, server, key)
            assert ours, f"{key} not on the dashboard"
            # a scrape may land between the two reads: compare up to the older of the two
            last = min(max(ours), max(samples))
            ours = {t: v for t, v in ours.items() if t <= last}
            assert ours == {t: v for t, v in samples.items() if t <= last}, key
            compared += len(ours)
    assert compared >= 10
    metrics = session.get(server.url + "/metrics", timeout=5).text
    assert 'dashboard_ingest_points_total{source="remote_write"}' in metrics
    refused = [
        line
        for line in metrics.splitlines()
        if line.startswith("dashboard_ingest_rejected_total{")
        and 'source="remote_write"' in line
        and "dropped_non_finite" not in line
    ]
    assert not [line for line in refused if float(line.rsplit(" ", 1)[1]) > 0], refused
