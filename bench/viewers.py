"""``python -m bench.viewers``: thousands of live viewers, measured (not extrapolated).

The viewers are ``bench/viewers/viewers.js`` (Node, ``ws``): real Engine.IO 4 / Socket.IO 5
clients over websockets, signed in with the session cookie of ``POST /api/v1/auth/login``, each
subscribed to a stored dashboard of 100 series. This process posts one point a second for each
series (one ingest batch, each value its send time in Unix ms), so a viewer's delay is its
receipt time minus the value. Setups: one ``dashboard serve`` (embedded store and bus: SQLite,
in-process hub), and two nodes on Redis (the bus and the Socket.IO fan-out) and one SQLite file
behind nginx, as ``tests/cluster.py`` runs them.

Per step, over a steady window: delivery p50/p99/max, messages and bytes per viewer per second,
server CPU (psutil, user + system, over the node processes) per viewer per second, server RSS
per connection (after connecting, before any point flows: idle; and after the window: live),
the time to connect them all, and the generator's own CPU. Writes the Viewers section of
bench/RESULTS.md and docs/viewers.md + docs/viewers.svg.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import resource
import selectors
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import requests

from bench.live import PASSWORD, TOKEN, _free_port

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = Path(__file__).with_name("viewers") / "viewers.js"
RESULTS = Path(__file__).with_name("RESULTS.md")
DOCS_MD = ROOT / "docs" / "viewers.md"
DOCS_SVG = ROOT / "docs" / "viewers.svg"
DEPLOY_NGINX = ROOT / "deploy" / "nginx.conf"
REDIS_URL = os.environ.get("DASHBOARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SERIES = 100
DASHBOARD_ID = "bench-viewers"
TITLE = "Viewers"


def raise_nofile() -> tuple[int, int]:
    """Lift this process's open-file soft limit to its hard limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def dashboard_body(series: int = SERIES) -> dict:
    """A stored dashboard with one line chart per bench series."""
    return {
        "id": DASHBOARD_ID,
        "title": "Viewers bench",
        "range": {"from": "now-1h", "to": "now"},
        "widgets": [
            {
                "id": f"w{i:03d}",
                "kind": "line",
                "title": f"metric {i}",
                "series": [{"name": series_name(i), "labels": {}}],
                "layout": {"x": (i % 4) * 3, "y": (i // 4) * 3, "w": 3, "h": 3},
            }
            for i in range(series)
        ],
    }


def series_name(i: int) -> str:
    """The i-th bench series."""
    return f"bench.viewers_{i:03d}"


def sign_in_and_create(url: str) -> str:
    """Sign in as the admin (the browser's sign-in), store the dashboard; the Cookie header."""
    with requests.Session() as http:
        http.post(
            url + "/api/v1/auth/login",
            json={"username": "admin", "password": PASSWORD},
            headers={"Origin": url},
            timeout=30,
        ).raise_for_status()
        answer = http.post(
            url + "/api/v1/dashboards",
            json=dashboard_body(),
            headers={"X-CSRFToken": http.cookies.get("_csrf_token", ""), "Origin": url},
            timeout=30,
        )
        if answer.status_code != 409:  # stored by an earlier step
            answer.raise_for_status()
        return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


class Poster:
    """Posts one point a second for each series, each value its send time in Unix ms."""

    def __init__(self, url: str, series: int = SERIES) -> None:
        """Not started yet."""
        self.url = url
        self.series = series
        self.stop = threading.Event()
        self.sent = 0
        self.failed = 0
        self.post_ms: list[float] = []  # each POST's answer time (a flush to local viewers in it)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Poster:
        """Start posting."""
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop posting."""
        self.stop.set()
        self.thread.join(10)

    def _run(self) -> None:
        """Once a second, on the second: one batch of a point for each series."""
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with requests.Session() as http:
            while not self.stop.wait(1 - time.time() % 1):
                now = time.time() * 1000
                body = {
                    "metrics": [
                        {"name": series_name(i), "points": [[int(now), round(now, 3)]]}
                        for i in range(self.series)
                    ]
                }
                started = time.perf_counter()
                try:
                    ok = http.post(
                        self.url + "/api/v1/ingest", json=body, headers=headers, timeout=10
                    ).ok
                except requests.RequestException:
                    ok = False
                self.post_ms.append((time.perf_counter() - started) * 1000)
                self.sent += ok
                self.failed += not ok


def node_env(port: int, data_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    """The environment of a bench node."""
    return {
        **os.environ,
        "DASHBOARD_DATA_DIR": str(data_dir),
        "DASHBOARD_DEMO": "0",
        "DASHBOARD_INGEST_TOKENS": TOKEN,
        "DASHBOARD_ADMIN_USER": "admin",
        "DASHBOARD_ADMIN_PASSWORD": PASSWORD,
        "DASHBOARD_PORT": str(port),
        "DASHBOARD_DATABASE_URL": "",
        "DASHBOARD_REDIS_URL": "",
        "DASHBOARD_INGEST_RATE_LIMIT": "100000 per second",
        "DASHBOARD_LOGIN_IP_RATE_LIMIT": "1000 per minute",
        "DASHBOARD_API_RATE_LIMIT": "100000 per minute",
        # the session outlives the run: the sweeper would disconnect every viewer at expiry
        "DASHBOARD_ACCESS_TOKEN_MINUTES": "240",
        **extra,
    }


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    """Until ``url``/healthz answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"node exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(url + "/healthz", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not start: {log.read_text()[-2000:]}")


@contextlib.contextmanager
def nodes(folder: Path, count: int, extra: dict[str, str]) -> Iterator[list[tuple[str, int]]]:
    """``count`` ``dashboard serve`` processes; yields (url, pid) of each."""
    procs: list[tuple[subprocess.Popen, Path]] = []
    out = []
    try:
        for i in range(count):
            port = _free_port()
            log = folder / f"node{i}.log"
            with log.open("w") as sink:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "dashboard.cli", "serve"],
                    env=node_env(port, folder / "data", extra),
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )
            procs.append((proc, log))
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, proc, log)
            out.append((url, proc.pid))
        yield out
    finally:
        for proc, _ in procs:
            proc.terminate()
        for proc, _ in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def nginx_conf(folder: Path, ports: list[int], listen: int) -> Path:
    """deploy/nginx.conf for the bench: these nodes, 2 workers with room for 10,000 viewers,
    and round robin: from one client address ``ip_hash`` would send every viewer to one node,
    and a websocket-only client needs no stickiness (only Engine.IO's polling does)."""
    conf = DEPLOY_NGINX.read_text()
    # never marked down: a refused connection in the ramp would send the rest to one node
    servers = "".join(f"        server 127.0.0.1:{p} max_fails=0;\n" for p in ports)
    conf = re.sub(r"(        server 127\.0\.0\.1:\d+ [^\n]*\n)+", servers, conf)
    conf = conf.replace("        ip_hash;", "        # ip_hash: not from one client address")
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{listen} backlog=4096;")
    conf = conf.replace(
        "worker_processes auto;", "worker_processes 2;\nworker_rlimit_nofile 20000;"
    )
    conf = conf.replace("worker_connections 16384;", "worker_connections 19000;")
    conf = f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n" + conf.replace(
        "http {",
        # bodies in memory: the workers (nobody) may not write to the temp folder
        f"http {{\n    access_log off;\n    client_body_buffer_size 1m;\n"
        f"    client_body_temp_path {folder}/body;\n"
        f"    proxy_temp_path {folder}/proxy;",
        1,
    )
    path = folder / "nginx.conf"
    path.write_text(conf)
    return path


@contextlib.contextmanager
def nginx(folder: Path, ports: list[int]) -> Iterator[tuple[str, int]]:
    """nginx in front of ``ports``; yields its URL and master pid."""
    folder.mkdir(parents=True, exist_ok=True)
    listen = _free_port()
    conf = nginx_conf(folder, ports, listen)
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen(
        [binary, "-p", str(folder), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{listen}"
    try:
        wait_healthy(url, proc, folder / "error.log")
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def tree(pids: list[int]) -> list[psutil.Process]:
    """The processes and their children."""
    out = []
    for pid in pids:
        p = psutil.Process(pid)
        out.extend([p, *p.children(recursive=True)])
    return out


def cpu_seconds(procs: list[psutil.Process]) -> float:
    """User + system CPU seconds of the processes."""
    return sum(t.user + t.system for t in (p.cpu_times() for p in procs))


def rss_bytes(procs: list[psutil.Process]) -> int:
    """Resident memory of the processes."""
    return sum(p.memory_info().rss for p in procs)


def flush_histogram(urls: list[str]) -> list[dict[str, float]]:
    """Each node's ``dashboard_live_flush_seconds`` (sum, count and buckets): how long the node
    took to push a flush to all its viewers, apart from the viewers' own reading."""
    out = []
    for url in urls:
        text = requests.get(
            url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        ).text
        found: dict[str, float] = {}
        for line in text.splitlines():
            if line.startswith("dashboard_live_flush_seconds"):
                name, value = line.rsplit(" ", 1)
                found[name] = float(value)
        out.append(found)
    return out


def flush_figures(before: list[dict[str, float]], after: list[dict[str, float]]) -> dict:
    """Mean flush time (the slowest node's) and the share of flushes over 100 and 250 ms."""
    mean, over_100, over_250 = 0.0, 0.0, 0.0
    for a, b in zip(before, after, strict=True):

        def delta(key: str, a: dict = a, b: dict = b) -> float:
            return b.get(key, 0.0) - a.get(key, 0.0)

        count = delta("dashboard_live_flush_seconds_count")
        if not count:
            continue
        mean = max(mean, delta("dashboard_live_flush_seconds_sum") / count * 1000)
        le_01 = delta('dashboard_live_flush_seconds_bucket{le="0.1"}')
        le_025 = delta('dashboard_live_flush_seconds_bucket{le="0.25"}')
        over_100 = max(over_100, 1 - le_01 / count)
        over_250 = max(over_250, 1 - le_025 / count)
    return {
        "flush_ms_mean": mean,
        "flushes_over_100ms": over_100,
        "flushes_over_250ms": over_250,
    }


class Generator:
    """The Node viewers in a process group of their own at a fixed priority."""

    def __init__(self, url: str, cookie: str, viewers: int, batch: int, deflate: bool) -> None:
        """Start connecting ``viewers``."""
        node = shutil.which("node") or "node"
        # a larger young generation: fewer scavenges of the ~6 KB strings that arrive per viewer
        cmd = ["nice", "-n", "0", node, "--max-semi-space-size=64", str(GENERATOR)]
        cmd += ["--url", url, "--cookie", cookie]
        cmd += ["--dashboard", DASHBOARD_ID, "--viewers", str(viewers), "--batch", str(batch)]
        cmd += ["--deflate", "1" if deflate else "0"]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.selector = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)

    def read(self, timeout: float) -> dict:
        """The next JSON line, or RuntimeError after ``timeout`` seconds."""
        assert self.proc.stdout is not None
        if not self.selector.select(timeout):
            raise RuntimeError(f"viewers said nothing for {timeout:.0f} s")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"viewers exited ({self.proc.wait(5)})")
        return json.loads(line)

    def send(self, command: str) -> None:
        """A command on the generator's stdin."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        """End it (and its group) if it still runs."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
        self.proc.wait(20)


def measure(
    url: str,
    server_pids: list[int],
    viewers: int,
    seconds: float,
    *,
    batch: int = 200,
    warmup: float = 5,
    deflate: bool = True,
    extra_pids: list[int] | None = None,
    node_urls: list[str] | None = None,
) -> dict:
    """Connect ``viewers`` to ``url``, then post points and measure a ``seconds`` window."""
    cookie = sign_in_and_create(url)
    servers = tree(server_pids)
    time.sleep(1)
    rss0 = rss_bytes(servers)
    ramp_cpu0 = cpu_seconds(servers)
    gen = Generator(url, cookie, viewers, batch, deflate)
    try:
        ready = gen.read(timeout=max(120, viewers / 20))
        connected = ready["connected"]
        ramp_cpu = cpu_seconds(servers) - ramp_cpu0
        time.sleep(3)  # settle: the last handshakes' garbage
        rss_idle = rss_bytes(servers)
        fds = [psutil.Process(pid).num_fds() for pid in server_pids]
        with Poster(url) as poster:
            time.sleep(warmup)
            extra = tree(extra_pids or [])
            flush0 = flush_histogram(node_urls or [url])
            cpu0, extra0, t0 = cpu_seconds(servers), cpu_seconds(extra), time.monotonic()
            gen.send("start")
            time.sleep(seconds)
            gen.send("stop")
            result = gen.read(timeout=60)
            flushes = flush_figures(flush0, flush_histogram(node_urls or [url]))
            elapsed = time.monotonic() - t0
            cpu = cpu_seconds(servers) - cpu0
            extra_cpu = cpu_seconds(extra) - extra0
            rss_live = rss_bytes(servers)
            load = os.getloadavg()
        sent, failed = poster.sent, poster.failed
        post_ms = sorted(poster.post_ms)
    finally:
        gen.close()
    per = max(connected, 1)
    return {
        "viewers": viewers,
        "nodes": len(server_pids),
        "connected": connected,
        "connect_errors": ready["errors"],
        "connect_s": ready["connect_seconds"],
        "connect_p99_ms": ready["connect_p99_ms"],
        "server_cpu_ms_per_connect": ramp_cpu / per * 1000,
        "delay_p50_ms": result["delay_p50_ms"],
        "delay_p99_ms": result["delay_p99_ms"],
        "delay_max_ms": result["delay_max_ms"],
        **flushes,
        "messages_per_s_per_viewer": result["messages_per_s_per_viewer"],
        "bytes_per_s_per_viewer": result["bytes_per_s_per_viewer"],
        "gaps": result["gaps"],
        "checked_messages": result["checked_messages"],
        "points_per_message": result["checked_points_per_message"],
        "check_mismatches": result["check_mismatches"],
        "disconnects": result["disconnects"],
        "viewers_live_at_end": result["viewers_live"],
        "server_cpu_cores": cpu / elapsed,
        # nodes, nginx and the viewers' process: the machine's work for each second's message
        "all_cpu_cores": (cpu + extra_cpu) / elapsed + result["generator_cpu_share"],
        "server_cpu_ms_per_viewer_s": cpu / elapsed / per * 1000,
        "proxy_cpu_cores": extra_cpu / elapsed,
        "server_open_files": sum(fds),
        "open_files_by_node": fds,
        "rss_before_mb": rss0 / 1e6,
        "rss_idle_mb": rss_idle / 1e6,
        "idle_kb_per_connection": (rss_idle - rss0) / per / 1024,
        "live_kb_per_connection": (rss_live - rss0) / per / 1024,
        "generator_cpu_share": result["generator_cpu_share"],
        "generator_loop_delay_p99_ms": result["generator_loop_delay_p99_ms"],
        "ingest_post_p50_ms": post_ms[len(post_ms) // 2] if post_ms else None,
        "batches_posted": sent,
        "batches_failed": failed,
        "load_avg_1m": load[0],
        "seconds": elapsed,
    }


def one_node(viewers: int, seconds: float, **kw: object) -> dict:
    """One node on the embedded default (SQLite, in-process bus)."""
    with tempfile.TemporaryDirectory() as tmp, nodes(Path(tmp), 1, {}) as running:
        url, pid = running[0]
        return measure(url, [pid], viewers, seconds, **kw)  # type: ignore[arg-type]


def two_nodes(viewers: int, seconds: float, **kw: object) -> dict:
    """Two nodes on Redis (bus and Socket.IO fan-out) and one SQLite file, behind nginx."""
    import redis

    prefix = f"bv{uuid.uuid4().hex[:8]}"
    extra = {
        "DASHBOARD_REDIS_URL": REDIS_URL,
        "DASHBOARD_REDIS_PREFIX": prefix,
        "DASHBOARD_RATELIMIT_PREFIX": prefix,
        "DASHBOARD_SECRET_KEY": "a-shared-secret-for-both-bench-nodes-0123456789",
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        extra["DASHBOARD_DATABASE_URL"] = f"sqlite:///{folder}/shared.db"
        try:
            with nodes(folder, 2, extra) as running:
                ports = [int(u.rsplit(":", 1)[1]) for u, _ in running]
                with nginx(folder / "nginx", ports) as (url, nginx_pid):
                    out = measure(
                        url,
                        [pid for _, pid in running],
                        viewers,
                        seconds,
                        extra_pids=[nginx_pid],
                        node_urls=[u for u, _ in running],
                        **kw,  # type: ignore[arg-type]
                    )
        finally:
            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(match=f"{prefix}*"):
                client.delete(key)
    return out


def machine() -> str:
    """Cores and their model, OS, Python, Node and the date."""
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    os_name, model = "Linux", platform.machine()
    with contextlib.suppress(OSError):
        found = re.search(r'PRETTY_NAME="([^"]+)"', Path("/etc/os-release").read_text())
        os_name = found.group(1) if found else os_name
    with contextlib.suppress(OSError):
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        model = f"{found.group(1).strip()}, {model}" if found else model
    return (
        f"{os.cpu_count()} cores ({model}), {os_name}, "
        f"Python {platform.python_version()}, Node {node.lstrip('v')}, run started {STARTED}"
    )


STARTED = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def fmt(value: object, digits: int = 1) -> str:
    """A table cell."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


COLUMNS = [
    ("viewers asked", "viewers", 0),
    ("viewers connected", "connected", 0),
    ("nodes", "nodes", 0),
    ("connect all (s)", "connect_s", 1),
    ("server CPU ms per connect", "server_cpu_ms_per_connect", 2),
    ("delay p50 (ms)", "delay_p50_ms", 1),
    ("delay p99 (ms)", "delay_p99_ms", 1),
    ("delay max (ms)", "delay_max_ms", 1),
    ("server flush mean (ms)", "flush_ms_mean", 1),
    ("msgs/s per viewer", "messages_per_s_per_viewer", 2),
    ("bytes/s per viewer", "bytes_per_s_per_viewer", 0),
    ("server CPU ms per viewer-s", "server_cpu_ms_per_viewer_s", 3),
    ("server cores busy", "server_cpu_cores", 2),
    ("idle KB per conn", "idle_kb_per_connection", 1),
    ("live KB per conn", "live_kb_per_connection", 1),
    ("generator CPU (of 1 core)", "generator_cpu_share", 2),
    ("proxy cores busy", "proxy_cpu_cores", 2),
    ("all cores busy", "all_cpu_cores", 2),
    ("connect errors", "connect_errors", 0),
    ("gaps", "gaps", 0),
    ("load avg 1m", "load_avg_1m", 2),
]


def table(rows: list[dict]) -> list[str]:
    """The results as a markdown table, one row a step."""
    lines = [
        "| " + " | ".join(c[0] for c in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        cells = []
        for _, key, digits in COLUMNS:
            value = row.get(key)
            if isinstance(value, dict):  # errors by kind
                value = sum(value.values())
            cells.append(fmt(value if not isinstance(value, float) else float(value), digits))
        lines.append("| " + " | ".join(cells) + " |")
    failed = [r for r in rows if r.get("error")]
    lines += [""] if failed else []
    lines += [f"Step {r['nodes']}x{r['viewers']:,} failed: `{r['error']}`" for r in failed]
    return lines


def ratios(rows: list[dict]) -> list[str]:
    """Each figure at 10,000 viewers over 1,000, on one node, in the same run."""
    one = {r["viewers"]: r for r in rows if r["nodes"] == 1}
    if 1000 not in one or 10000 not in one:
        return []
    a, b = one[1000], one[10000]
    lines = ["| figure | 1,000 | 10,000 | 10,000 / 1,000 |", "|---|---|---|---|"]
    for label, key, digits in COLUMNS[3:16]:
        x, y = a.get(key), b.get(key)
        ratio = y / x if isinstance(x, float | int) and isinstance(y, float | int) and x else None
        lines.append(f"| {label} | {fmt(x, digits)} | {fmt(y, digits)} | {fmt(ratio, 2)} |")
    return lines


def section(rows: list[dict], note: str) -> str:
    """The Viewers section of RESULTS.md."""
    lines = [
        f"## {TITLE}",
        "",
        f"Written by `make bench-viewers` (`python -m bench.viewers`) on {machine()}; the "
        "load average (1 min) at the end of each step is in the table. "
        f"{note}",
        "",
        *table(rows),
    ]
    extra = ratios(rows)
    if extra:
        lines += ["", "10,000 viewers against 1,000 on one node, same run:", "", *extra]
    return "\n".join(lines) + "\n"


NOTE = (
    "Viewers: `bench/viewers/viewers.js` (Node, `ws`; Engine.IO 4 / Socket.IO 5 over websockets, "
    "permessage-deflate offered as a browser does, and declined), each subscribed to a dashboard "
    "of 100 series; "
    "this process posts the 100 points once a second (value = send time, ms). One node: the "
    "embedded default (SQLite, in-process bus). Two nodes: the Redis bus (a stream each node "
    "tails, pushing to its own viewers) and Socket.IO's Redis manager, one SQLite file, nginx "
    "(round robin) in front. Server CPU is user + system of the node "
    "processes over the window; KB per connection is RSS growth over the viewers connected "
    "(idle: before any point flows; live: after the window). Delay = receipt - send time of a "
    "message's first point (its oldest; one message in 50 is decoded whole to check that); "
    "gaps = messages whose `prev` was not the viewer's last cursor. All cores busy = nodes + "
    "nginx + viewers' process: most of it is spent in the burst after each second's points, "
    "so that figure over the machine's cores bounds how soon the last viewer can read them."
)


def write_results(rows: list[dict]) -> None:
    """Replace (or add) the Viewers section of RESULTS.md."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    head, *sections = text.split("\n## ")
    kept = [s for s in sections if s.split("\n", 1)[0] != TITLE]
    new = section(rows, NOTE).removeprefix("## ")
    body = "\n## ".join([head.rstrip("\n") + "\n", *(s.rstrip("\n") + "\n" for s in kept), new])
    RESULTS.write_text(body)


def svg(rows: list[dict]) -> str:
    """Four small charts against viewers (log scale): p99 delay, CPU, memory and bytes."""
    panels = [  # title, figure, goals (dashed)
        ("delay p99 (ms); goals 250 one node, 100 two", "delay_p99_ms", (250, 100)),
        ("server CPU ms per viewer-s", "server_cpu_ms_per_viewer_s", ()),
        ("idle KB per connection; goal 20", "idle_kb_per_connection", (20,)),
        ("connect all (s)", "connect_s", ()),
    ]
    one = sorted((r for r in rows if r["nodes"] == 1), key=lambda r: r["viewers"])
    two = [r for r in rows if r["nodes"] == 2]
    w, h, pad = 300, 200, 44
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w + 20}" height="{2 * h + 40}" '
        'font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="10" y="{2 * h + 32}">blue: one node; orange: two nodes behind nginx; '
        "green dashes: goals. x: viewers (log)</text>",
    ]
    xs = [1000, 2000, 5000, 10000]
    import math

    def px(v: float) -> float:
        return pad + (math.log10(v) - 3) / 1 * (w - pad - 14)

    for k, (label, key, goals) in enumerate(panels):
        ox, oy = (k % 2) * (w + 10) + 5, (k // 2) * (h + 10) + 5
        values = [r[key] for r in one + two if r.get(key) is not None] + list(goals)
        top = max(values or [1]) * 1.15 or 1

        def py(v: float, oy: float = oy, top: float = top) -> float:
            return oy + h - pad / 2 - v / top * (h - pad)

        out.append(f'<g><text x="{ox + pad}" y="{oy + 14}" font-weight="bold">{label}</text>')
        out.append(
            f'<line x1="{ox + pad}" y1="{oy + h - pad / 2}" x2="{ox + w - 10}" '
            f'y2="{oy + h - pad / 2}" stroke="#888"/>'
        )
        out.append(
            f'<line x1="{ox + pad}" y1="{oy + 22}" x2="{ox + pad}" '
            f'y2="{oy + h - pad / 2}" stroke="#888"/>'
        )
        for x in xs:
            out.append(
                f'<text x="{ox + px(x)}" y="{oy + h - pad / 2 + 13}" text-anchor="middle">'
                f"{x:,}</text>"
            )
        for frac in (0.5, 1.0):
            v = top / 1.15 * frac
            out.append(
                f'<text x="{ox + pad - 4}" y="{py(v) + 4}" text-anchor="end">{v:,.3g}</text>'
            )
        for goal in goals:
            out.append(
                f'<line x1="{ox + pad}" y1="{py(goal):.1f}" x2="{ox + w - 10}" y2="{py(goal):.1f}" '
                'stroke="#2ca02c" stroke-dasharray="4 3"/>'
            )
        pts = [(ox + px(r["viewers"]), py(r[key])) for r in one if r.get(key) is not None]
        if pts:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            out.append(f'<polyline points="{path}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
            out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1f77b4"/>' for x, y in pts]
        for r in two:
            if r.get(key) is not None:
                x, y = ox + px(r["viewers"]), py(r[key])
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#ff7f0e"/>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_docs(rows: list[dict]) -> None:
    """docs/viewers.md (the table, the 10,000 / 1,000 ratios) and docs/viewers.svg."""
    DOCS_SVG.write_text(svg(rows))
    extra = ratios(rows)
    lines = [
        "# Live viewers: measured",
        "",
        f"Measured by `make bench-viewers` on {machine()}. {NOTE}",
        "",
        "![delay p99, server CPU per viewer, memory per connection and connect time against "
        "viewers](viewers.svg)",
        "",
        *table(rows),
    ]
    if extra:
        lines += ["", "How each figure grows: 10,000 viewers against 1,000, same run.", "", *extra]
    # what is written by hand below the marker stays
    old = DOCS_MD.read_text() if DOCS_MD.exists() else ""
    notes = old[old.index(NOTES_MARKER) :] if NOTES_MARKER in old else NOTES_MARKER + "\n"
    DOCS_MD.write_text("\n".join(lines) + "\n\n" + notes)


NOTES_MARKER = "<!-- notes: kept when make bench-viewers rewrites the tables above -->"


STEPS = [(1, 1000), (1, 2000), (1, 5000), (1, 10000), (2, 10000)]


def main(argv: list[str] | None = None) -> int:
    """Run the steps (or those asked), print each as JSON, write the tables unless --dry."""
    parser = argparse.ArgumentParser(prog="python -m bench.viewers")
    parser.add_argument(
        "--steps",
        default=",".join(f"{n}x{v}" for n, v in STEPS),
        help="NODESxVIEWERS, comma separated (default: %(default)s)",
    )
    parser.add_argument("--seconds", type=float, default=30, help="the measured window")
    parser.add_argument("--batch", type=int, default=200, help="viewers connecting at once")
    parser.add_argument("--no-deflate", action="store_true", help="viewers offer no compression")
    parser.add_argument("--dry", action="store_true", help="print only; write no file")
    parser.add_argument("--json", type=Path, help="also save the rows here")
    args = parser.parse_args(argv)
    print(f"open files: {raise_nofile()}", file=sys.stderr)
    rows = []
    for step in args.steps.split(","):
        count, viewers = (int(x) for x in step.split("x"))
        run = one_node if count == 1 else two_nodes
        try:
            row = run(viewers, args.seconds, batch=args.batch, deflate=not args.no_deflate)
        except Exception as exc:  # noqa: BLE001 - a failed step is reported, the rest still run
            row = {"viewers": viewers, "nodes": count, "connected": 0, "error": repr(exc)[:300]}
        print(json.dumps(row), flush=True)
        rows.append(row)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
    if not args.dry:
        write_results(rows)
        write_docs(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
