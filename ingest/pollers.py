"""Pollers: scrape Prometheus endpoints, read JSON URLs, sample this host, and publish each poll.

``DASHBOARD_POLL_TARGETS`` lists ``prometheus+http(s)://host:port/path``,
``json+http(s)://host:port/path`` and ``host://`` (this machine: ingest/host.py). Target parsing,
the JSON mapping, backoff and state are pure functions; ``Poller`` is the thin runner
around them, with ``publish``, ``sleep``, ``clock`` and the HTTP ``get`` injected. Nothing here
imports Flask or Socket.IO: the web node and ``dashboard worker`` both call ``start_pollers``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from dashboard.boards.templates import is_node_exporter
from dashboard.metrics.model import Batch, Limits, ValidationError, validate_batch
from dashboard.outbound import HTTPStatusError, Policy, Response, fetch
from ingest.host import HostCollector
from ingest.prometheus_text import exposition_batch, is_finite_value

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 60.0
MAX_JSON_DEPTH = 32
MAX_ERROR_LEN = 300
PROMETHEUS_ACCEPT = "text/plain;version=0.0.4;q=1.0, */*;q=0.1"
JSON_ACCEPT = "application/json, */*;q=0.1"
DEFAULT_PATHS = {"prometheus": "/metrics", "json": "/"}
SCHEMES_HELP = "prometheus+http://, prometheus+https://, json+http://, json+https:// or host://"
_SEGMENT_RE = re.compile(r"[^A-Za-z0-9_:]")
_ERRNO_RE = re.compile(r"\[Errno -?\d+\] [^'\")]+")

Get = Callable[[str, str], str]
"""``get(url, accept)``: the body of a successful GET as text; raises on any failure."""
Publish = Callable[[Batch], int]
Collect = Callable[[int, Limits], Batch]
FirstScrape = Callable[["PollTarget", Batch], None]
"""``on_first_scrape(target, batch)``: called once, after a target's first successful poll."""


class TargetError(ValueError):
    """A poll setting that cannot be used; the message names the target."""


@dataclass(frozen=True)
class PollTarget:
    """One entry of DASHBOARD_POLL_TARGETS.

    ``url`` is what is fetched (or the disk path for ``host``); ``name`` is the target as
    configured minus any credentials (used on /healthz and as the counters' label); ``source``
    is its ``host:port`` (the JSON mapping's ``source`` label).
    """

    kind: str
    url: str
    name: str
    source: str = ""


def parse_target(text: str) -> PollTarget:
    """Parse one target, or raise TargetError naming it."""
    raw = text.strip()
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError as exc:
        raise TargetError(f"poll target {raw!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme == "host":
        if parts.netloc or parts.query:
            raise TargetError(f"poll target {raw!r}: write host:// or host:///disk/path")
        return PollTarget("host", parts.path or "/", "host://" + parts.path)
    kind, plus, transport = scheme.partition("+")
    if kind not in DEFAULT_PATHS or not plus or transport not in ("http", "https"):
        raise TargetError(f"poll target {raw!r}: unknown scheme {scheme!r}; use {SCHEMES_HELP}")
    if not parts.hostname:
        raise TargetError(f"poll target {raw!r}: no host")
    path = parts.path or DEFAULT_PATHS[kind]
    netloc = parts.netloc.rpartition("@")[2]
    return PollTarget(
        kind,
        urlunsplit((transport, parts.netloc, path, parts.query, "")),
        urlunsplit((scheme, netloc, path, parts.query, "")),
        netloc,
    )


def parse_targets(texts: Iterable[str]) -> list[PollTarget]:
    """Every configured target, validated; the first bad one raises TargetError naming it."""
    targets: list[PollTarget] = []
    for text in texts:
        if not text.strip():
            continue
        target = parse_target(text)
        if any(t.name == target.name for t in targets):
            raise TargetError(f"poll target {target.name!r} is listed twice")
        targets.append(target)
    return targets


def next_delay(interval: float, failures: int, cap: float = MAX_BACKOFF_S) -> float:
    """Seconds until the next poll: the interval, doubled per consecutive failure, capped.

    The cap never goes below the interval, so failing never makes a slow schedule faster.
    """
    if failures <= 0:
        return interval
    return min(interval * 2.0 ** min(failures, 30), max(cap, interval))


@dataclass
class PollState:
    """What /healthz shows of a target: ``ok`` or ``failing``, since when, the last error."""

    state: str = "starting"
    since_ms: int | None = None
    failures: int = 0
    last_ok_ms: int | None = None
    last_error: str | None = None
    last_error_ms: int | None = None

    def record(self, *, now_ms: int, error: str | None = None) -> bool:
        """Account for one poll (failed when ``error`` is given); True when the state changed."""
        if error is None:
            new, self.failures, self.last_ok_ms = "ok", 0, now_ms
        else:
            new, self.failures = "failing", self.failures + 1
            self.last_error, self.last_error_ms = error, now_ms
        if new == self.state:
            return False
        self.state, self.since_ms = new, now_ms
        return True

    def to_json(self) -> dict[str, Any]:
        """The state as a JSON object."""
        return asdict(self)


def json_body(doc: Any, *, source: str, now_ms: int, max_name_len: int = 200) -> dict[str, Any]:
    """Map a polled JSON document to an ingest body (the README's "Sources" documents it).

    A list: each item ``{"name", "value", "labels"?, "ts"?, "unit"?}`` is one point. An object:
    each number (or boolean, as 1/0) inside it is a point of ``json.<keys.joined.by.dots>``.
    Every point gets a ``source`` label, the target's ``host:port``, unless it has one.
    """
    if isinstance(doc, list):
        return {"metrics": [_listed_point(item, i, source, now_ms) for i, item in enumerate(doc)]}
    if isinstance(doc, dict):
        leaves = numeric_leaves(doc, prefix="json", max_name_len=max_name_len)
        return {
            "metrics": [
                {"name": name, "labels": {"source": source}, "points": [[now_ms, value]]}
                for name, value in leaves
            ]
        }
    raise ValidationError("document", "must be a JSON object or a list of points")


def _listed_point(item: Any, index: int, source: str, now_ms: int) -> dict[str, Any]:
    """One item of a list document as a metric entry (validation checks its fields)."""
    if not isinstance(item, dict):
        raise ValidationError(f"document[{index}]", "must be an object with 'name' and 'value'")
    labels = item.get("labels", {})
    if isinstance(labels, dict) and "source" not in labels:
        labels = {**labels, "source": source}
    metric = {
        "name": item.get("name"),
        "labels": labels,
        "points": [[item.get("ts", now_ms), item.get("value")]],
    }
    if "unit" in item:
        metric["unit"] = item["unit"]
    return metric


def numeric_leaves(doc: Any, *, prefix: str, max_name_len: int = 200) -> list[tuple[str, float]]:
    """The finite numbers and booleans inside nested objects and lists, as (dotted name, value).

    Key characters outside ``[A-Za-z0-9_:]`` become ``_``; list items are named by index;
    strings and nulls are skipped, as are names longer than ``max_name_len`` and anything
    nested deeper than MAX_JSON_DEPTH.
    """
    found: list[tuple[str, float]] = []
    stack: list[tuple[str, Any, int]] = [(prefix, doc, 0)]
    while stack:
        path, node, depth = stack.pop()
        if len(path) > max_name_len:
            continue
        if isinstance(node, bool):
            found.append((path, 1.0 if node else 0.0))
        elif isinstance(node, int | float):
            if is_finite_value(node):
                found.append((path, float(node)))
        elif isinstance(node, dict | list) and depth < MAX_JSON_DEPTH:
            items = node.items() if isinstance(node, dict) else enumerate(node)
            children = [(f"{path}.{_segment(key)}", value, depth + 1) for key, value in items]
            stack.extend(reversed(children))
    return found


def _segment(key: Any) -> str:
    """A JSON key as one part of a metric name."""
    return _SEGMENT_RE.sub("_", str(key)) or "_"


def make_collector(
    target: PollTarget, *, get: Get, clock: Callable[[], float]
) -> Callable[[int, Limits], Batch]:
    """The function that reads one poll of ``target`` as a validated batch."""
    if target.kind == "host":
        return HostCollector(target.url, clock=clock)
    if target.kind == "prometheus":

        def scrape(now_ms: int, limits: Limits) -> Batch:
            """Scrape the exposition and convert it."""
            text = get(target.url, PROMETHEUS_ACCEPT)
            # a summary with no observations yet exposes NaN quantiles: skip, don't fail
            return exposition_batch(text, now_ms=now_ms, limits=limits, skip_non_finite=True)

        return scrape

    def read_json(now_ms: int, limits: Limits) -> Batch:
        """Read the document and map it."""
        try:
            doc = json.loads(get(target.url, JSON_ACCEPT))
        except json.JSONDecodeError as exc:
            raise ValidationError("document", f"not JSON: {exc}") from None
        body = json_body(doc, source=target.source, now_ms=now_ms, max_name_len=limits.max_name_len)
        return validate_batch(body, now_ms=now_ms, limits=limits)

    return read_json


def describe_error(exc: BaseException) -> str:
    """A failed poll's reason, short enough for a log line and /healthz."""
    response = getattr(exc, "response", None)
    if response is not None and getattr(response, "status_code", None):
        # not the response's URL: requests keeps a target's credentials in it
        text = f"HTTP {response.status_code} {getattr(response, 'reason', '') or ''}".strip()
    elif isinstance(exc, ValidationError):
        text = f"invalid data: {exc}"
    else:
        # urllib3 wraps "[Errno 111] Connection refused" in two layers of reprs
        errno = _ERRNO_RE.search(str(exc))
        text = f"{type(exc).__name__}: {errno.group(0) if errno else exc}"
    return text if len(text) <= MAX_ERROR_LEN else text[: MAX_ERROR_LEN - 3] + "..."


class Poller:
    """Polls one target on its schedule: counts each poll, backs off, logs state changes."""

    def __init__(
        self,
        target: PollTarget,
        *,
        collect: Collect,
        publish: Publish,
        interval: float,
        limits: Limits,
        sleep: Callable[[float], None],
        clock: Callable[[], float] = time.time,
        metrics: Any = None,
        tasks: MutableMapping[str, Any] | None = None,
        on_first_scrape: FirstScrape | None = None,
    ) -> None:
        """A poller; ``metrics`` is a ``dashboard.telemetry.Metrics``, ``tasks`` /healthz's dict."""
        self.target, self.collect, self.publish = target, collect, publish
        self.on_first_scrape = on_first_scrape
        self.interval, self.limits, self.sleep, self.clock = interval, limits, sleep, clock
        self.metrics = metrics
        self.tasks = tasks if tasks is not None else {}
        self.state = PollState()
        self.key = f"poll:{target.name}"
        self.tasks[self.key] = self.state.to_json()

    def poll_once(self) -> int:
        """Read the target once and publish it; the points accepted (raises on any failure)."""
        batch = self.collect(int(self.clock() * 1000), self.limits)
        accepted = self.publish(batch)
        if self.on_first_scrape is not None:
            hook, self.on_first_scrape = self.on_first_scrape, None
            try:
                hook(self.target, batch)
            except Exception as exc:  # noqa: BLE001 - the poll itself went well
                log.warning("poll %s: after the first scrape: %s", self.target.name, exc)
        return accepted

    def step(self) -> float:
        """Poll once with its accounting; return the seconds to wait before the next poll."""
        started = self.clock()
        name = self.target.name
        if self.metrics is not None:
            self.metrics.polls.labels(name).inc()
        was, failures = self.state.state, self.state.failures
        try:
            accepted = self.poll_once()
        except Exception as exc:  # noqa: BLE001 - a failed poll is reported, never raised
            error = describe_error(exc)
            if self.metrics is not None:
                self.metrics.poll_failures.labels(name).inc()
            if self.state.record(now_ms=int(self.clock() * 1000), error=error):
                log.warning("poll %s: failing: %s", name, error)
        else:
            if self.metrics is not None:
                self.metrics.ingest_points.labels("poll").inc(accepted)
                self.metrics.ingest_batches.labels("poll").inc()
            if self.state.record(now_ms=int(self.clock() * 1000)):
                if was == "failing":  # as loud as the failure, so a log filtered to warnings pairs
                    log.warning("poll %s: recovered after %d failed polls", name, failures)
                else:
                    log.info("poll %s: ok (%d points)", name, accepted)
        self.tasks[self.key] = self.state.to_json()
        elapsed = self.clock() - started
        return max(0.0, next_delay(self.interval, self.state.failures) - elapsed)

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Poll until told to stop."""
        while not should_stop():
            self.sleep(self.step())


def node_exporter_hook(offer: Callable[[str], Any]) -> FirstScrape:
    """An ``on_first_scrape`` that calls ``offer(host:port)`` when a ``prometheus+http(s)``
    target's first scrape is a node exporter's (the web node and the worker offer its Host
    dashboard); ``offer`` returns what it created, if anything, to log."""

    def hook(target: PollTarget, batch: Batch) -> None:
        """Offer the dashboard of a node exporter."""
        if target.kind == "prometheus" and is_node_exporter(s.key.name for s in batch.series):
            created = offer(target.source)
            if created:
                log.info("poll %s: a node exporter; created dashboard %s", target.name, created)

    return hook


POLL_MAX_REDIRECTS = 3  # same-origin only (e.g. /metrics -> /metrics/); each hop checked again


def poll_policy(*, timeout: float, max_bytes: int) -> Policy:
    """What a poll may fetch: targets are set by the operator, so addresses inside the network
    are allowed (a node exporter on 127.0.0.1:9100 is the main use), but only http(s), no
    redirect to another origin, and the answer within ``max_bytes`` and ``timeout`` seconds."""
    return Policy(
        allow_private=True,
        max_bytes=max_bytes,
        timeout_s=timeout,
        max_redirects=POLL_MAX_REDIRECTS,
    )


def http_getter(*, timeout: float, max_bytes: int, fetch: Callable[..., Response] = fetch) -> Get:
    """A ``get`` through ``dashboard.outbound`` (one resolution per poll, the address pinned,
    no redirect to another origin), refusing bodies over ``max_bytes``; credentials in the
    target's URL are sent as HTTP basic auth."""
    policy = poll_policy(timeout=timeout, max_bytes=max_bytes)

    def get(url: str, accept: str) -> str:
        """GET ``url``; its body as text, or raise (HTTPStatusError for a non-2xx answer)."""
        headers = {"Accept": accept, "User-Agent": "dashboard-poller"}
        response = fetch(url, policy=policy, headers=headers)
        if not response.ok:
            raise HTTPStatusError(response)
        return response.text()

    return get


def limits_of(settings: Any) -> Limits:
    """The ingest limits the settings name (as the web node applies them)."""
    return Limits(
        max_points=settings.max_batch_points,
        max_age_ms=settings.max_point_age_s * 1000,
        max_future_ms=settings.max_future_skew_s * 1000,
    )


def start_pollers(
    settings: Any,
    *,
    publish: Publish,
    spawn: Callable[[str, Callable[[], None]], Any],
    sleep: Callable[[float], None],
    metrics: Any = None,
    tasks: MutableMapping[str, Any] | None = None,
    clock: Callable[[], float] = time.time,
    get: Get | None = None,
    limits: Limits | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_first_scrape: FirstScrape | None = None,
) -> list[Poller]:
    """Validate the poll settings, then run one Poller per target through ``spawn(name, run)``
    (``on_first_scrape`` runs after each target's first successful poll).

    A bad target or interval raises TargetError before anything starts.
    """
    targets = parse_targets(settings.poll_targets)
    interval = float(settings.poll_interval)
    if not math.isfinite(interval) or interval <= 0:
        raise TargetError(f"DASHBOARD_POLL_INTERVAL: {interval} is not a positive number")
    limits = limits or limits_of(settings)
    timeout = min(10.0, max(1.0, interval))

    def getter() -> Get:
        """The injected ``get``, or a new HTTP one."""
        # a session per target: each poller runs in a thread (or greenlet) of its own
        return get or http_getter(timeout=timeout, max_bytes=settings.max_body_bytes)

    pollers = [
        Poller(
            target,
            collect=make_collector(target, get=getter(), clock=clock),
            publish=publish,
            interval=interval,
            limits=limits,
            sleep=sleep,
            clock=clock,
            metrics=metrics,
            tasks=tasks,
            on_first_scrape=on_first_scrape,
        )
        for target in targets
    ]
    for poller in pollers:
        spawn(poller.key, lambda poller=poller: poller.run(should_stop))
    if pollers:
        log.info("polling %s every %gs", ", ".join(t.name for t in targets), interval)
    return pollers
