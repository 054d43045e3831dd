"""Fan-out: N Socket.IO viewers of one node, against the naive Dash polling app.

Our node: one point a second for each of ten series of the default dashboard (each value is
its send time, so a viewer can tell the latency); the viewers run in a separate gevent process.
The naive app (``bench/naive_app.py``): a 1 s ``dcc.Interval`` rebuilding the whole figure,
polled by M viewers in a separate process. Both servers' CPU time is read from /proc through
psutil over the same window: CPU seconds per viewer per second, and their ratio.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import psutil
import requests

from bench.live import PASSWORD, TOKEN, _free_port, serve_process

ROUTES = [f"/r{i}" for i in range(10)]


def _login_cookie(url: str) -> str:
    """The Cookie header of a signed-in admin."""
    session = requests.Session()
    session.post(url + "/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def _cpu(proc: subprocess.Popen) -> float:
    """CPU seconds (user + system) a process has used."""
    times = psutil.Process(proc.pid).cpu_times()
    return times.user + times.system


def ours(viewers: int, seconds: float) -> dict[str, float]:
    """Deliveries/s, latency and server CPU per viewer with ``viewers`` Socket.IO clients."""
    with serve_process({"DASHBOARD_LOGIN_IP_RATE_LIMIT": "1000 per minute"}) as (url, server):
        cookie = _login_cookie(url)
        clients = subprocess.Popen(
            [sys.executable, "-m", "bench.fanout_clients", url, cookie, str(viewers), str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = json.loads(clients.stdout.readline())
        cpu0, t0 = _cpu(server), time.monotonic()
        session = requests.Session()
        headers = {"Authorization": f"Bearer {TOKEN}"}
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            now = time.time() * 1000
            body = {
                "metrics": [
                    {"name": "demo.requests", "labels": {"route": r}, "points": [[int(now), now]]}
                    for r in ROUTES
                ]
            }
            session.post(url + "/api/v1/ingest", json=body, headers=headers, timeout=10)
            time.sleep(max(0.0, 1.0 - (time.time() * 1000 - now) / 1000))
        cpu = _cpu(server) - cpu0
        elapsed = time.monotonic() - t0
        result = json.loads(clients.stdout.readline())
        clients.wait(30)
    connected = max(ready["ready"], 1)
    return {
        "connected": float(ready["ready"]),
        "deliveries_per_s": result["deliveries"] / result["seconds"],
        "p50_ms": result.get("p50_ms", float("nan")),
        "p99_ms": result.get("p99_ms", float("nan")),
        "server_cpu_ms_per_viewer_s": cpu / elapsed / connected * 1000,
    }


def naive(viewers: int, seconds: float) -> dict[str, float]:
    """Answers, latency and server CPU per viewer of the naive polling app."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.naive_app", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                requests.get(url + "/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        cpu0, t0 = _cpu(server), time.monotonic()
        out = subprocess.run(
            [sys.executable, "-m", "bench.naive_viewers", url, str(viewers), str(seconds)],
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        )
        cpu, elapsed = _cpu(server) - cpu0, time.monotonic() - t0
    finally:
        server.terminate()
        server.wait(10)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "answers_per_s": result["answers"] / result["seconds"],
        "p50_ms": result.get("p50_ms", float("nan")),
        "p99_ms": result.get("p99_ms", float("nan")),
        "server_cpu_ms_per_viewer_s": cpu / elapsed / viewers * 1000,
    }


def fanout(viewers: int = 200, naive_viewers: int = 20, seconds: float = 10) -> dict[str, float]:
    """Ours with ``viewers``, naive with ``naive_viewers``, and the CPU-per-viewer ratio."""
    a = ours(viewers, seconds)
    b = naive(naive_viewers, seconds)
    out = {f"ours_{k}": v for k, v in a.items()} | {f"naive_{k}": v for k, v in b.items()}
    out["naive_over_ours_cpu_per_viewer"] = (
        b["server_cpu_ms_per_viewer_s"] / a["server_cpu_ms_per_viewer_s"]
        if a["server_cpu_ms_per_viewer_s"] > 0
        else float("nan")
    )
    return out
