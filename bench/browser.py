"""In-browser measures on headless chromium: a dashboard of many live metrics with 24 h of history.

A real ``dashboard serve`` (demo off) gets ``series`` metrics back-filled with 24 h at
``resolution_s`` through the ingest API and one stored dashboard of line and stat widgets. The
page is read through the Performance API (navigation and resource timing, paint, long tasks,
animation frames) with the browser cache off, so every load fetches its scripts anew.

Baseline: the sign-in page of the same server, loaded the same way in the same run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import threading
import time
from collections.abc import Iterator

import numpy as np
import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from bench.live import PASSWORD, TOKEN, serve_process

DASHBOARD_ID = "bench-browser"

# Runs in every new document before its own scripts: first paint, long tasks, and the moment
# every chart in the viewport shows data (0 while not yet).
PAGE_PROBE = """
window.__bench = {fcp: 0, fp: 0, longtasks: [], drawnAt: 0};
try {
  new PerformanceObserver(function (list) {
    list.getEntries().forEach(function (e) {
      if (e.name === 'first-contentful-paint') { window.__bench.fcp = e.startTime; }
      if (e.name === 'first-paint') { window.__bench.fp = e.startTime; }
    });
  }).observe({type: 'paint', buffered: true});
  new PerformanceObserver(function (list) {
    list.getEntries().forEach(function (e) { window.__bench.longtasks.push(e.duration); });
  }).observe({type: 'longtask', buffered: true});
} catch (e) {}
function __benchDrawn() {
  var outers = document.querySelectorAll('.widget-graph');
  if (!outers.length) { return false; }
  var seen = 0;
  for (var i = 0; i < outers.length; i++) {
    var r = outers[i].getBoundingClientRect();
    if (r.bottom <= 0 || r.top >= window.innerHeight) { continue; }
    seen += 1;
    var gd = outers[i].classList.contains('js-plotly-plot') ? outers[i]
      : outers[i].querySelector('.js-plotly-plot');
    if (!gd || !gd.data || !gd._fullLayout || !gd.querySelector('.main-svg')) { return false; }
    if (!gd.data.some(function (t) { return t.x && t.x.length; })) { return false; }
  }
  return seen > 0;
}
(function poll() {
  if (__benchDrawn()) { window.__bench.drawnAt = performance.now(); return; }
  requestAnimationFrame(poll);
})();
"""

LOAD_FIGURES = """
var nav = performance.getEntriesByType('navigation')[0];
var before = window.__bench.fcp || window.__bench.fp || Infinity;
var total = 0, early = 0, count = 0, slowest = null;
performance.getEntriesByType('resource').forEach(function (e) {
  if (e.initiatorType === 'fetch' && (!slowest || e.duration > slowest.duration)) { slowest = e; }
  if (e.initiatorType !== 'script' && !/\\.js(\\?|$)/.test(e.name)) { return; }
  count += 1;
  total += e.transferSize;
  if (e.responseEnd <= before) { early += e.transferSize; }
});
return {load_ms: nav.loadEventEnd, dcl_ms: nav.domContentLoadedEventEnd,
        fcp_ms: window.__bench.fcp, drawn_ms: window.__bench.drawnAt,
        js_kb: total / 1024, js_before_paint_kb: early / 1024, scripts: count,
        slowest_fetch_ms: slowest ? slowest.duration : 0,
        after_slowest_fetch_ms: slowest ? window.__bench.drawnAt - slowest.responseEnd : 0};
"""

# Posts ``n`` points to one series from the page itself and times each one to the frame that
# draws it: the clock of the POST and of the drawing are the same.
INGEST_TO_PIXELS = """
var done = arguments[arguments.length - 1];
var token = arguments[0], name = arguments[1], graphId = arguments[2], n = arguments[3],
    gap = arguments[4];
var outer = document.getElementById(graphId);
var gd = outer.classList.contains('js-plotly-plot') ? outer
  : outer.querySelector('.js-plotly-plot');
var lat = [], i = 0, want = null, sentAt = 0, timer = null;
function lastY() { var y = gd.data[0].y; return y[y.length - 1]; }
function check() {
  if (want !== null && lastY() === want) {
    lat.push(performance.now() - sentAt);
    want = null;
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(next, gap * (0.5 + Math.random()));
  }
}
gd.on('plotly_afterplot', check);
(function frame() { check(); if (i <= n) { requestAnimationFrame(frame); } })();
function next() {
  timer = null;
  if (want !== null) { want = null; }  // lost: counted by the caller as not delivered
  if (i >= n) { i += 1; done(lat); return; }
  i += 1;
  var value = 1e6 + i + Math.random();
  var body = JSON.stringify({metrics: [{name: name, points: [[Date.now(), value]]}]});
  want = value;
  sentAt = performance.now();
  fetch('/api/v1/ingest', {method: 'POST', body: body,
    headers: {'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token}});
  timer = setTimeout(next, 5000);
}
next();
"""

# Frames and long tasks over ``seconds`` while the page takes live updates. For each frame: the
# interval since the previous one (bound below by the display's 16.7 ms), and its work: from the
# frame's start to the first task after its rendering (a message posted in its animation frame
# callback runs once this frame's scripts, style, layout and paint are done).
FRAMES = """
var done = arguments[arguments.length - 1];
var seconds = arguments[0];
var deltas = [], works = [], last = 0, start = performance.now();
var tasks = window.__bench.longtasks.length;
var drawnBefore = window.dashLive ? window.dashLive.stats.points : 0;
var channel = new MessageChannel(), begun = [];
channel.port1.onmessage = function () { works.push(performance.now() - begun.shift()); };
function frame(now) {
  if (last) { deltas.push(now - last); }
  last = now;
  begun.push(now);
  channel.port2.postMessage(0);
  if (now - start < seconds * 1000) { requestAnimationFrame(frame); return; }
  setTimeout(function () {
    done({deltas: deltas, works: works, longtasks: window.__bench.longtasks.slice(tasks),
          points: window.dashLive ? window.dashLive.stats.points - drawnBefore : 0});
  }, 50);
}
requestAnimationFrame(frame);
"""


def series_name(i: int) -> str:
    """The name of the i-th bench series."""
    return f"bench.metric_{i:03d}"


def graph_widget_ids(series: int) -> list[str]:
    """Which widgets are line charts (the others are stat tiles): four in five."""
    return [f"w{i:03d}" for i in range(series) if i % 5 != 4]


def dashboard_body(series: int) -> dict:
    """A stored dashboard with one widget per series: line charts and stat tiles."""
    widgets = []
    for i in range(series):
        line = i % 5 != 4
        widgets.append(
            {
                "id": f"w{i:03d}",
                "kind": "line" if line else "stat",
                "title": series_name(i),
                "series": [{"name": series_name(i), "labels": {}}],
                "layout": {"x": (i % 4) * 3, "y": (i // 4) * 3, "w": 3, "h": 3},
            }
        )
    return {
        "id": DASHBOARD_ID,
        "title": "Browser bench",
        "range": {"from": "now-24h", "to": "now"},
        "widgets": widgets,
    }


def backfill(url: str, series: int, hours: float, resolution_s: float) -> int:
    """POST ``hours`` of history per series at ``resolution_s``; how many points went in."""
    now_ms = int(time.time() * 1000)
    step_ms = int(resolution_s * 1000)
    # a minute short of the full span: the ingest API refuses points older than 24 h
    ts = np.arange(now_ms - int(hours * 3600_000) + 60_000, now_ms, step_ms, dtype=np.int64)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    rng = np.random.default_rng(1)
    sent = 0
    with requests.Session() as http:
        for i in range(series):
            values = 100 + np.cumsum(rng.normal(0, 1, ts.size))
            points = [[int(t), round(float(v), 3)] for t, v in zip(ts, values, strict=True)]
            body = {"metrics": [{"name": series_name(i), "points": points}]}
            http.post(
                url + "/api/v1/ingest", json=body, headers=headers, timeout=60
            ).raise_for_status()
            sent += len(points)
    return sent


def create_dashboard(url: str, series: int) -> None:
    """Store the bench dashboard through the API, signed in as the admin."""
    with requests.Session() as http:
        signed = http.post(
            url + "/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}
        )
        signed.raise_for_status()
        csrf = http.cookies.get("_csrf_token", "")
        answer = http.post(
            url + "/api/v1/dashboards",
            json=dashboard_body(series),
            headers={"X-CSRFToken": csrf},
            timeout=30,
        )
        answer.raise_for_status()


def chromium_options(binary: str | None = None) -> Options:
    """Headless chromium flags that work offline, as root, on a machine with no screen (the
    browser tests use them too)."""
    options = Options()
    options.binary_location = binary or shutil.which("chromium") or "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    return options


@contextlib.contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """Headless Debian chromium through its chromedriver, with the HTTP cache off."""
    options = chromium_options()
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.set_script_timeout(120)
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PAGE_PROBE})
        yield driver
    finally:
        driver.quit()


def sign_in(driver: webdriver.Chrome, url: str) -> None:
    """Open the sign-in page and sign in through the API from the page (sets the cookies)."""
    driver.get(url + "/login")
    driver.execute_async_script(
        "var done = arguments[1];"
        "fetch('/api/v1/auth/login', {method: 'POST',"
        " headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({username: 'admin', password: arguments[0]})})"
        ".then(function (r) { done(r.status); });",
        PASSWORD,
    )


def load(driver: webdriver.Chrome, page: str, charts: bool, timeout_s: float = 60) -> dict:
    """Load ``page`` anew and read its timings once it is loaded (and its charts drawn)."""
    driver.get(page)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready = driver.execute_script(
            "var n = performance.getEntriesByType('navigation')[0];"
            "return n && n.loadEventEnd > 0 && (!arguments[0] || window.__bench.drawnAt > 0);",
            charts,
        )
        if ready:
            break
        time.sleep(0.05)
    else:
        raise TimeoutError(f"{page} not drawn within {timeout_s} s")
    time.sleep(0.3)  # let late paint entries arrive
    return driver.execute_script("return (function () {" + LOAD_FIGURES + "})();")


class Producer:
    """A thread that posts one point for every series each ``period_s``, as live metrics do."""

    def __init__(self, url: str, series: int, period_s: float = 1.0) -> None:
        """A producer for ``series`` metrics of the server at ``url``."""
        self.url, self.series, self.period_s = url, series, period_s
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        """Post a batch of one point per series every period until stopped."""
        headers = {"Authorization": f"Bearer {TOKEN}"}
        rng = np.random.default_rng(2)
        with requests.Session() as http:
            while not self.stop_event.is_set():
                started = time.monotonic()
                now_ms = int(time.time() * 1000)
                body = {
                    "metrics": [
                        {"name": series_name(i), "points": [[now_ms, float(rng.normal(100, 5))]]}
                        for i in range(self.series)
                    ]
                }
                http.post(self.url + "/api/v1/ingest", json=body, headers=headers, timeout=10)
                self.stop_event.wait(max(0.0, self.period_s - (time.monotonic() - started)))

    def __enter__(self) -> Producer:
        """Start posting."""
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop posting."""
        self.stop_event.set()
        self.thread.join(15)


def _pct(values: list[float], q: float) -> float:
    """The q-th percentile, or 0 for an empty list."""
    return float(np.percentile(values, q)) if values else 0.0


def _share(values: list[float], above: float) -> float:
    """The share of ``values`` over ``above`` (0 for an empty list)."""
    return sum(v > above for v in values) / len(values) if values else 0.0


def page_metrics(
    series: int = 100,
    hours: float = 24,
    resolution_s: float = 10,
    loads: int = 5,
    samples: int = 50,
    gap_ms: float = 200,
    update_seconds: float = 20,
) -> dict[str, float]:
    """Ingest to pixels, initial load, JS transferred, long tasks and frame times (see module)."""
    with serve_process() as (url, _):
        backfill(url, series, hours, resolution_s)
        create_dashboard(url, series)
        with chromium() as driver:
            sign_in(driver, url)
            page = f"{url}/?dashboard={DASHBOARD_ID}"
            load(driver, page, charts=True)  # warm the server's caches once
            base = [load(driver, url + "/login", charts=False) for _ in range(loads)]
            full = [load(driver, page, charts=True) for _ in range(loads)]
            driver.execute_script("document.documentElement.scrollTop = 0;")
            _wait_live(driver)
            lat = driver.execute_async_script(
                INGEST_TO_PIXELS, TOKEN, series_name(0), "widget-w000-graph", samples, gap_ms
            )
            with Producer(url, series):
                frames = driver.execute_async_script(FRAMES, update_seconds)
    med = statistics.median
    deltas, works, tasks = frames["deltas"], frames["works"], frames["longtasks"]
    drawn, login = med(r["drawn_ms"] for r in full), med(r["load_ms"] for r in base)
    return {
        "ingest_to_pixels_p50_ms": _pct(lat, 50),
        "ingest_to_pixels_p99_ms": _pct(lat, 99),
        "ingest_to_pixels_delivered": len(lat) / samples,
        "load_all_visible_charts_ms": drawn,
        "load_over_baseline_login_load": drawn / login if login else 0.0,
        "load_slowest_fetch_ms": med(r["slowest_fetch_ms"] for r in full),
        "load_drawing_after_that_fetch_ms": med(r["after_slowest_fetch_ms"] for r in full),
        "load_event_ms": med(r["load_ms"] for r in full),
        "first_contentful_paint_ms": med(r["fcp_ms"] for r in full),
        "js_transferred_kb": med(r["js_kb"] for r in full),
        "js_before_first_paint_kb": med(r["js_before_paint_kb"] for r in full),
        "js_files": med(r["scripts"] for r in full),
        "updating_long_tasks": float(len(tasks)),
        "updating_long_task_max_ms": max(tasks, default=0.0),
        "updating_frame_work_p50_ms": _pct(works, 50),
        "updating_frame_work_p95_ms": _pct(works, 95),
        "updating_frame_work_max_ms": max(works, default=0.0),
        "updating_frame_interval_p50_ms": _pct(deltas, 50),
        "updating_frame_interval_p95_ms": _pct(deltas, 95),
        # a frame the display waited for: more than one and a half refresh intervals
        "updating_frames_dropped_pct": 100 * _share(deltas, 1.5 * _pct(deltas, 50)),
        "updating_points_drawn_per_s": frames["points"] / update_seconds,
        "baseline_login_load_event_ms": login,
        "baseline_login_fcp_ms": med(r["fcp_ms"] for r in base),
        "baseline_login_js_kb": med(r["js_kb"] for r in base),
        # other work on the machine stretches long tasks and frames: say how busy it was
        "machine_load_avg_1m": os.getloadavg()[0],
    }


def _wait_live(driver: webdriver.Chrome, timeout_s: float = 30) -> None:
    """Wait until the page's live feed is connected and subscribed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if driver.execute_script("return window.dashLive && window.dashLive.state() === 'live';"):
            time.sleep(0.5)  # the subscribe's ack
            return
        time.sleep(0.05)
    raise TimeoutError("live feed not connected")
