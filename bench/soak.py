"""``python -m bench.soak``: a long run of one ``dashboard serve`` under steady load and viewers.

Sends ``--series`` x ``--rate`` points/s (batched ``--batches-per-s`` times a second) to series
that no dashboard shows, plus a few probe points a second to ``demo.active_users`` (on the
default dashboard, value = send time in Unix ms) that ``--viewers`` Socket.IO clients in a
separate process receive. Each ``--sample-s`` it records the server's RSS (with its children)
and the viewers' push latency p50/p99. Fails (exit 1) when memory keeps growing (the RSS slope
over the last five samples above ``--max-rss-slope-mb-min``) or the push latency drifts (the last
sample's p99 above twice the second sample's, and above ``--p99-floor-ms``). Writes or replaces
the "Soak" section of bench/RESULTS.md, leaving the rest of the file as it is.
"""

from __future__ import annotations

import argparse
import inspect
import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import psutil
import requests

from bench.fanout import _login_cookie
from bench.ingest import _cleanup
from bench.live import TOKEN, serve_process
from dashboard.live.hub import Hub

TITLE = "Soak"
RESULTS = Path(__file__).with_name("RESULTS.md")
PROBE = "demo.active_users"
# the bounds of the live hub's catch-up log (age and points)
HUB_LOG_S = int(inspect.signature(Hub).parameters["log_seconds"].default)
HUB_LOG_POINTS = int(inspect.signature(Hub).parameters["log_points"].default)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    proc = psutil.Process(pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 1e6


def rss_slope_mb_per_min(samples: list[dict], last: int = 5) -> float:
    """Least-squares slope of RSS (MB per minute) over the last ``last`` samples (0 if < 3)."""
    tail = samples[-last:]
    if len(tail) < 3:
        return 0.0
    minutes = np.array([s["t_s"] for s in tail]) / 60
    rss = np.array([s["rss_mb"] for s in tail])
    return float(np.polyfit(minutes, rss, 1)[0])


def verdict(samples: list[dict], max_slope: float, p99_floor_ms: float) -> list[str]:
    """Why the run failed (empty when it passed)."""
    problems = []
    slope = rss_slope_mb_per_min(samples)
    if slope > max_slope:
        problems.append(f"RSS grows {slope:.2f} MB/min over the last samples (> {max_slope})")
    if len(samples) >= 2:
        second, last = samples[1].get("p99_ms"), samples[-1].get("p99_ms")
        if second is None or last is None:
            problems.append("no live push reached the viewers in the second or last sample")
        elif last > 2 * second and last > p99_floor_ms:
            problems.append(f"p99 drifted: last {last:.1f} ms > 2 x second {second:.1f} ms")
    return problems


def batch_body(series: int, per_series: int, step_ms: int, probes: int) -> dict:
    """One ingest body: ``per_series`` points for each load series, and ``probes`` probe points."""
    now_ms = int(time.time() * 1000)
    stamps = [now_ms - step_ms * (per_series - 1 - j) for j in range(per_series)]
    metrics = [
        {
            "name": "soak.load",
            "labels": {"series": str(i)},
            "points": [[t, float((t // step_ms + i) % 1000)] for t in stamps],
        }
        for i in range(series)
    ]
    sent = time.time() * 1000
    if probes:
        metrics.append(
            {"name": PROBE, "points": [[now_ms - probes + 1 + j, sent] for j in range(probes)]}
        )
    return {"metrics": metrics}


class Sender:
    """Posts the load from a thread at a steady pace, counting points, errors and lag."""

    def __init__(self, url: str, args: argparse.Namespace) -> None:
        """A sender for ``url`` with the run's sizes."""
        self.url = url
        self.args = args
        self.points = 0
        self.errors = 0
        self.behind = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        """Send one batch each tick until stopped."""
        a = self.args
        period = 1.0 / a.batches_per_s
        per_series = max(1, round(a.rate / a.batches_per_s))
        step_ms = max(1, int(1000 / a.rate))
        probe_every = max(1, round(a.batches_per_s / a.probes_per_s))
        session = requests.Session()
        headers = {"Authorization": f"Bearer {TOKEN}"}
        tick, next_at = 0, time.monotonic()
        while not self.stop.is_set():
            probes = 1 if tick % probe_every == 0 else 0
            body = batch_body(a.series, per_series, step_ms, probes)
            try:
                r = session.post(
                    self.url + "/api/v1/ingest", json=body, headers=headers, timeout=30
                )
                if r.status_code < 300:
                    self.points += a.series * per_series + probes
                else:
                    self.errors += 1
            except requests.RequestException:
                self.errors += 1
            tick += 1
            next_at += period
            delay = next_at - time.monotonic()
            if delay > 0:
                self.stop.wait(delay)
            else:
                # late: send the next batch at once to catch up, unless hopelessly behind
                self.behind += 1
                if delay < -5:
                    next_at = time.monotonic()


def soak(args: argparse.Namespace) -> dict:
    """Run the soak; the per-sample figures, the totals and the problems found."""
    prefix = f"soak{uuid.uuid4().hex[:6]}"
    env = {"DASHBOARD_LOGIN_IP_RATE_LIMIT": "1000 per minute"}
    if args.redis_url:
        env |= {"DASHBOARD_REDIS_URL": args.redis_url, "DASHBOARD_REDIS_PREFIX": prefix}
    samples: list[dict] = []
    with serve_process(env) as (url, server), _cleanup(args.redis_url, prefix):
        cookie = _login_cookie(url)
        viewers = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.soak_viewers",
                url,
                cookie,
                str(args.viewers),
                str(args.duration_s),
                str(args.sample_s),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = json.loads(viewers.stdout.readline())["ready"]
        sender = Sender(url, args)
        started = time.monotonic()
        rss0 = rss_mb(server.pid)
        sender.thread.start()
        sent_before = 0
        for line in viewers.stdout:
            figures = json.loads(line)
            sample = {
                "t_s": round(time.monotonic() - started, 1),
                "rss_mb": round(rss_mb(server.pid), 1),
                "points_per_s": (sender.points - sent_before) / max(figures["seconds"], 1e-9),
                "deliveries": figures["deliveries"],
                "p50_ms": figures.get("p50_ms"),
                "p99_ms": figures.get("p99_ms"),
            }
            sent_before = sender.points
            samples.append(sample)
            print(json.dumps(sample), file=sys.stderr, flush=True)
        sender.stop.set()
        sender.thread.join(60)
        viewers.wait(60)
    return {
        "viewers": ready,
        "rss_start_mb": round(rss0, 1),
        "samples": samples,
        "points": sender.points,
        "errors": sender.errors,
        "late_ticks": sender.behind,
        "slope_mb_min": rss_slope_mb_per_min(samples),
        "problems": verdict(samples, args.max_rss_slope_mb_min, args.p99_floor_ms),
    }


def section(result: dict, args: argparse.Namespace) -> str:
    """The soak's section of RESULTS.md for one run (titled ``--section``)."""
    bus = "Redis Streams bus" if args.redis_url else "embedded bus, SQLite store"
    lines = [
        f"## {args.section}",
        "",
        f"Written by `make soak` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: one "
        f"`dashboard serve` ({bus}), {args.series} series x {args.rate:g} points/s "
        f"({args.series * args.rate:,.0f} points/s in {args.batches_per_s:g} batches/s) for "
        f"{args.duration_s / 60:g} min, {result['viewers']} of {args.viewers} live viewers "
        f"connected (python-socketio in a separate process), {args.probes_per_s:g} probe points/s "
        f"on the default dashboard timed from POST to each viewer's `points` message. "
        f"The machine (2 cores) was shared: other work ran alongside, so latency includes "
        f"their load. The live hub's catch-up log keeps at most {HUB_LOG_S} s and "
        f"{HUB_LOG_POINTS:,} points, so RSS levels off once that many points have arrived.",
        "",
        f"Server RSS at start {result['rss_start_mb']} MB; slope over the last 5 samples "
        f"{result['slope_mb_min']:.2f} MB/min (limit {args.max_rss_slope_mb_min:g}). "
        f"Points accepted {result['points']:,}, failed posts {result['errors']}, "
        f"ticks the sender ran late {result['late_ticks']}. "
        f"Verdict: {'FAIL: ' + '; '.join(result['problems']) if result['problems'] else 'PASS'}.",
        "",
        f"| sample (every {args.sample_s:g} s) | t (s) | server RSS (MB) | points/s accepted "
        "| deliveries | p50 (ms) | p99 (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, s in enumerate(result["samples"], 1):
        p50 = "-" if s["p50_ms"] is None else f"{s['p50_ms']:.1f}"
        p99 = "-" if s["p99_ms"] is None else f"{s['p99_ms']:.1f}"
        lines.append(
            f"| {i} | {s['t_s']:.0f} | {s['rss_mb']:.1f} | {s['points_per_s']:,.0f} | "
            f"{s['deliveries']:,} | {p50} | {p99} |"
        )
    return "\n".join(lines) + "\n"


def merge(existing: str, text: str) -> str:
    """``existing`` RESULTS.md with the section of ``text``'s title replaced (or appended)."""
    title = text.split("\n", 1)[0].removeprefix("## ")
    head, *sections = existing.rstrip("\n").split("\n## ")
    kept = ["## " + s for s in sections if s.split("\n", 1)[0] != title]
    return (
        "\n\n".join([head.rstrip("\n"), *(s.rstrip("\n") for s in kept), text.rstrip("\n")]) + "\n"
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    p.add_argument("--duration-s", type=float, default=600)
    p.add_argument("--sample-s", type=float, default=60, help="seconds between samples")
    p.add_argument("--series", type=int, default=100)
    p.add_argument("--rate", type=float, default=100, help="points/s of each series")
    p.add_argument("--batches-per-s", type=float, default=10)
    p.add_argument("--probes-per-s", type=float, default=5)
    p.add_argument("--viewers", type=int, default=200)
    p.add_argument("--redis-url", default="", help="run the node on this Redis (default embedded)")
    p.add_argument("--max-rss-slope-mb-min", type=float, default=4.0)
    p.add_argument("--p99-floor-ms", type=float, default=100.0)
    p.add_argument("--section", default=TITLE, help="the title of the section to write")
    p.add_argument("--results", type=Path, default=RESULTS, help="the RESULTS.md to update")
    p.add_argument("--no-write", action="store_true", help="print the section only")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the soak, update RESULTS.md's Soak section; 1 when memory or latency drifted."""
    args = parse(argv)
    result = soak(args)
    text = section(result, args)
    print(text)
    if not args.no_write:
        old = args.results.read_text() if args.results.exists() else "# Benchmark results\n"
        args.results.write_text(merge(old, text))
    for problem in result["problems"]:
        print("soak failed:", problem, file=sys.stderr)
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
