"""Pollers without servers: targets, the JSON mapping, host rates, backoff, state and logging."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from dashboard.metrics.model import Batch, Limits, ValidationError, validate_batch
from dashboard.telemetry import Metrics
from ingest.host import HostCollector, HostSample, host_body, rate, read_host_sample
from ingest.pollers import (
    Poller,
    PollState,
    PollTarget,
    TargetError,
    json_body,
    make_collector,
    next_delay,
    parse_target,
    parse_targets,
    start_pollers,
)
from tests.unit.ingest.server_imports import server_libraries

NOW = 1_764_345_600_000


@pytest.mark.parametrize(
    ("text", "kind", "url", "name"),
    [
        (
            "prometheus+http://127.0.0.1:9100/metrics",
            "prometheus",
            "http://127.0.0.1:9100/metrics",
            "prometheus+http://127.0.0.1:9100/metrics",
        ),
        (
            "prometheus+https://exporter.example:443",
            "prometheus",
            "https://exporter.example:443/metrics",
            "prometheus+https://exporter.example:443/metrics",
        ),
        (
            "json+http://user:secret@app.local:8080/stats?x=1",
            "json",
            "http://user:secret@app.local:8080/stats?x=1",
            "json+http://app.local:8080/stats?x=1",
        ),
        ("json+https://[::1]:8443", "json", "https://[::1]:8443/", "json+https://[::1]:8443/"),
        ("host://", "host", "/", "host://"),
        ("host:///var/lib", "host", "/var/lib", "host:///var/lib"),
    ],
)
def test_targets_are_parsed_into_what_is_fetched_and_a_name_without_secrets(text, kind, url, name):
    """The scheme picks the source; the fetched URL keeps credentials, the shown name does not."""
    target = parse_target(text)
    assert (target.kind, target.url, target.name) == (kind, url, name)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("ftp://example.com/metrics", "unknown scheme 'ftp'"),
        ("prometheus://example.com/metrics", "unknown scheme 'prometheus'"),
        ("json+ftp://example.com/", "unknown scheme 'json+ftp'"),
        ("http://example.com/metrics", "unknown scheme 'http'"),
        ("example.com:9100", "unknown scheme"),
        ("prometheus+http:///metrics", "no host"),
        ("json+http://example.com:99999/", "out of range"),
        ("host://somewhere", "host:// or host:///disk/path"),
    ],
)
def test_a_bad_target_is_refused_naming_it(text, says):
    """Unknown schemes, missing hosts and bad ports raise an error that quotes the target."""
    with pytest.raises(TargetError) as info:
        parse_target(text)
    assert repr(text) in str(info.value) and says in str(info.value)


def test_the_target_list_skips_blanks_and_refuses_duplicates():
    """Empty entries are ignored; the same target twice is a configuration mistake."""
    assert [t.kind for t in parse_targets(["host://", " ", "json+http://a:1/x"])] == [
        "host",
        "json",
    ]
    with pytest.raises(TargetError, match="listed twice"):
        parse_targets(["json+http://a:1/x", "json+http://u:p@a:1/x"])


def test_backoff_doubles_per_failure_and_is_capped():
    """5 s polls back off 10, 20, 40, then 60 s at most; a success returns to the interval."""
    assert [next_delay(5.0, n) for n in range(7)] == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0, 60.0]
    assert next_delay(0.5, 3) == 4.0
    assert next_delay(300.0, 4) == 300.0  # failing never makes a slow schedule faster
    assert next_delay(5.0, 10_000) == 60.0


def test_poll_state_changes_only_between_ok_and_failing():
    """Repeated failures are one change; the last error and times are kept for /healthz."""
    state = PollState()
    assert state.record(now_ms=1, error="refused") is True
    assert state.record(now_ms=2, error="refused again") is False
    assert (state.state, state.failures, state.since_ms, state.last_error) == (
        "failing",
        2,
        1,
        "refused again",
    )
    assert state.record(now_ms=3) is True
    assert state.record(now_ms=4) is False
    assert state.to_json() == {
        "state": "ok",
        "since_ms": 3,
        "failures": 0,
        "last_ok_ms": 4,
        "last_error": "refused again",
        "last_error_ms": 2,
    }


def test_a_json_object_maps_each_number_to_a_dotted_series():
    """Numbers and booleans anywhere in an object become ``json.<path>`` with a source label."""
    doc = {
        "queue": {"depth": 12, "workers": [{"busy": True}, {"busy": False}]},
        "uptime s": 3600.5,
        "version": "1.2.3",
        "note": None,
        "db.pool": {"size": 10},
    }
    body = json_body(doc, source="app:8080", now_ms=NOW)
    got = {m["name"]: m["points"] for m in body["metrics"]}
    assert got == {
        "json.queue.depth": [[NOW, 12.0]],
        "json.queue.workers.0.busy": [[NOW, 1.0]],
        "json.queue.workers.1.busy": [[NOW, 0.0]],
        "json.uptime_s": [[NOW, 3600.5]],
        "json.db_pool.size": [[NOW, 10.0]],
    }
    assert all(m["labels"] == {"source": "app:8080"} for m in body["metrics"])
    assert validate_batch(body, now_ms=NOW).point_count == 5


def test_a_json_object_skips_what_cannot_be_a_series():
    """Non-finite numbers, names over the limit and very deep nesting are left out."""
    deep: dict = {"v": 1}
    for _ in range(40):
        deep = {"d": deep}
    doc = {"nan": float("nan"), "inf": float("inf"), "k" * 300: 1, "deep": deep, "ok": 2}
    body = json_body(doc, source="s", now_ms=NOW, max_name_len=200)
    assert [m["name"] for m in body["metrics"]] == ["json.ok"]


def test_a_json_list_holds_explicit_points():
    """Each item names its series; labels and ts are optional; ``source`` is added if absent."""
    doc = [
        {"name": "orders.open", "value": 5},
        {"name": "orders.open", "labels": {"region": "eu"}, "value": 7, "ts": NOW - 1000},
        {"name": "temp", "labels": {"source": "sensor-1"}, "value": 21.5, "unit": "C"},
    ]
    batch = validate_batch(json_body(doc, source="api:80", now_ms=NOW), now_ms=NOW)
    got = {
        str(s.key): (s.ts.tolist(), s.values.tolist(), s.unit)
        for s in sorted(batch.series, key=lambda s: s.key)
    }
    assert got == {
        'orders.open{region="eu",source="api:80"}': ([NOW - 1000], [7.0], ""),
        'orders.open{source="api:80"}': ([NOW], [5.0], ""),
        'temp{source="sensor-1"}': ([NOW], [21.5], "C"),
    }


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (42, "document"),
        ("text", "document"),
        ([{"name": "a", "value": 1}, 3], "document[1]"),
        ([{"name": "a"}], "metrics[0].points[0][1]"),
        ([{"value": 1}], "metrics[0].name"),
        ([{"name": "a", "value": 1, "ts": 5}], "metrics[0].points[0][0]"),
    ],
)
def test_a_json_document_of_the_wrong_shape_is_refused(doc, field):
    """Scalars, non-object items and items missing a value or name fail the poll, named."""
    with pytest.raises(ValidationError) as info:
        validate_batch(json_body(doc, source="s", now_ms=NOW), now_ms=NOW)
    assert info.value.field == field


def _host(t: float, **changes) -> HostSample:
    """A host reading with round numbers."""
    base = dict(
        t=t,
        cpu_busy_s=100.0,
        cpu_total_s=400.0,
        memory_used_bytes=2e9,
        memory_percent=25.0,
        net_sent_bytes=1_000.0,
        net_recv_bytes=5_000.0,
        disk_used_percent=40.0,
        disk_read_bytes=10_000.0,
        disk_write_bytes=20_000.0,
    )
    return HostSample(**{**base, **changes})


def _values(body: dict) -> dict[str, float]:
    """{series name: value} of a one-point-per-series body."""
    return {m["name"]: m["points"][0][1] for m in body["metrics"]}


def test_the_first_host_reading_gives_gauges_and_the_second_rates():
    """Rates and CPU use need two readings: bytes per second and the busy share between them."""
    first = _host(0.0)
    assert _values(host_body(None, first, host="h", disk_path="/", now_ms=NOW)) == {
        "host.memory_used_bytes": 2e9,
        "host.memory_percent": 25.0,
        "host.disk_used_percent": 40.0,
    }
    second = _host(
        5.0,
        cpu_busy_s=103.0,
        cpu_total_s=408.0,
        net_sent_bytes=6_000.0,
        net_recv_bytes=5_500.0,
        disk_read_bytes=10_000.0,
        disk_write_bytes=70_000.0,
    )
    body = host_body(first, second, host="h", disk_path="/data", now_ms=NOW)
    assert _values(body) == {
        "host.memory_used_bytes": 2e9,
        "host.memory_percent": 25.0,
        "host.disk_used_percent": 40.0,
        "host.cpu_percent": 37.5,
        "host.net_sent_bytes_per_s": 1_000.0,
        "host.net_recv_bytes_per_s": 100.0,
        "host.disk_read_bytes_per_s": 0.0,
        "host.disk_write_bytes_per_s": 10_000.0,
    }
    labels = {m["name"]: m["labels"] for m in body["metrics"]}
    assert labels["host.cpu_percent"] == {"host": "h"}
    assert labels["host.disk_used_percent"] == {"host": "h", "path": "/data"}
    assert validate_batch(body, now_ms=NOW).point_count == 8


def test_a_counter_reset_or_a_missing_counter_gives_no_rate():
    """After a reboot (counters went down) or without disk counters, no rate is invented."""
    first = _host(0.0, disk_read_bytes=None, disk_write_bytes=None)
    rebooted = _host(5.0, net_sent_bytes=10.0, disk_read_bytes=None, disk_write_bytes=None)
    names = set(_values(host_body(first, rebooted, host="h", disk_path="/", now_ms=NOW)))
    assert "host.net_sent_bytes_per_s" not in names
    assert "host.disk_read_bytes_per_s" not in names
    assert "host.net_recv_bytes_per_s" in names
    assert rate(1.0, 2.0, 0.0) is None and rate(None, 2.0, 1.0) is None


def test_this_hosts_reading_is_plausible():
    """psutil reads this machine: positive CPU time, percentages within 0..100."""
    sample = read_host_sample("/", 12.0)
    assert sample.t == 12.0 and sample.cpu_total_s > 0 <= sample.cpu_busy_s
    assert 0 <= sample.memory_percent <= 100 and 0 <= sample.disk_used_percent <= 100
    assert sample.memory_used_bytes > 0


class FakeClock:
    """A clock the test moves by hand (seconds)."""

    def __init__(self, now: float = NOW / 1000) -> None:
        """Start at ``now``."""
        self.now = now

    def __call__(self) -> float:
        """The current time."""
        return self.now


def _poller(get, *, published: list, tasks: dict, metrics: Metrics | None = None) -> Poller:
    """A Prometheus poller with an injected get, a fake clock and a list as the bus."""
    target = parse_target("prometheus+http://exporter:9100/metrics")
    clock = FakeClock()

    def publish(batch: Batch) -> int:
        published.append(batch)
        return batch.point_count

    return Poller(
        target,
        collect=make_collector(target, get=get, clock=clock),
        publish=publish,
        interval=5.0,
        limits=Limits(),
        sleep=lambda _s: None,
        clock=clock,
        metrics=metrics,
        tasks=tasks,
    )


def _counter(metrics: Metrics, name: str, target: str) -> float:
    """A labelled counter's value."""
    return metrics.registry.get_sample_value(f"{name}_total", {"target": target}) or 0.0


def test_a_poller_publishes_counts_backs_off_and_recovers():
    """Each poll is counted; failures back off and are counted; /healthz state follows."""
    answers: list = ["up 1\n", OSError("connection refused"), "not an exposition {", "up 1\n"]
    seen: list[tuple[str, str]] = []

    def get(url: str, accept: str) -> str:
        seen.append((url, accept))
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    published: list[Batch] = []
    tasks: dict = {}
    metrics = Metrics()
    poller = _poller(get, published=published, tasks=tasks, metrics=metrics)
    name = "prometheus+http://exporter:9100/metrics"
    assert tasks[f"poll:{name}"]["state"] == "starting"
    assert [poller.step() for _ in range(4)] == [5.0, 10.0, 20.0, 5.0]
    assert seen[0][0] == "http://exporter:9100/metrics"
    assert seen[0][1].startswith("text/plain")  # not OpenMetrics, whose timestamps differ
    assert [b.point_count for b in published] == [1, 1]
    assert _counter(metrics, "dashboard_polls", name) == 4
    assert _counter(metrics, "dashboard_poll_failures", name) == 2
    state = tasks[f"poll:{name}"]
    assert state["state"] == "ok" and state["failures"] == 0
    assert state["last_error"].startswith("invalid data: body: line 1:")
    assert metrics.registry.get_sample_value("dashboard_ingest_points_total", {"source": "poll"})


def test_a_failing_poll_is_logged_once_per_state_change(caplog):
    """Ten failures in a row log one warning; the recovery logs one line; steady ok logs nothing."""
    outcomes = [False] * 10 + [True] * 3 + [False]

    def get(url: str, accept: str) -> str:
        if not outcomes.pop(0):
            raise ConnectionError("refused")
        return "up 1\n"

    poller = _poller(get, published=[], tasks={})
    with caplog.at_level(logging.INFO, logger="ingest.pollers"):
        for _ in range(14):
            poller.step()
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "poll prometheus+http://exporter:9100/metrics: failing: ConnectionError: refused",
        "poll prometheus+http://exporter:9100/metrics: recovered after 10 failed polls",
        "poll prometheus+http://exporter:9100/metrics: failing: ConnectionError: refused",
    ]


def test_a_poll_that_the_bus_refuses_is_a_failure():
    """When publishing fails (storage down), the poll is failing and backs off."""
    tasks: dict = {}
    poller = _poller(lambda url, accept: "up 1\n", published=[], tasks=tasks)

    def refuse(batch: Batch) -> int:
        raise RuntimeError("storage down")

    poller.publish = refuse
    assert poller.step() == 10.0
    assert tasks[poller.key]["last_error"] == "RuntimeError: storage down"


def test_run_sleeps_the_delay_each_step_returns_until_stopped():
    """The loop polls, sleeps what step() asked, and stops when told."""
    slept: list[float] = []
    poller = _poller(lambda url, accept: "up 1\n", published=[], tasks={})
    poller.sleep = slept.append
    poller.run(should_stop=lambda: len(slept) >= 3)
    assert slept == [5.0, 5.0, 5.0]


def test_the_host_collector_turns_two_readings_into_rates():
    """The host source remembers its last reading between polls."""
    readings = [_host(0.0), _host(2.0, net_recv_bytes=7_000.0)]
    collector = HostCollector("/", clock=lambda: 0.0, read=lambda path, t: readings.pop(0))
    first = {s.key.name for s in collector(NOW, Limits()).series}
    second = {s.key.name: float(s.values[0]) for s in collector(NOW + 2000, Limits()).series}
    assert "host.net_recv_bytes_per_s" not in first
    assert second["host.net_recv_bytes_per_s"] == 1_000.0


def test_start_pollers_validates_everything_before_starting_anything():
    """One bad target, or a bad interval, raises before a single poller is spawned."""
    spawned: list[str] = []

    def spawn(name, run):
        spawned.append(name)

    bad = SimpleNamespace(
        poll_targets=["host://", "gopher://x"],
        poll_interval=5.0,
        max_batch_points=100,
        max_point_age_s=60,
        max_future_skew_s=60,
        max_body_bytes=1000,
    )
    with pytest.raises(TargetError, match="gopher://x"):
        start_pollers(bad, publish=lambda batch: 0, spawn=spawn, sleep=lambda s: None)
    bad.poll_targets, bad.poll_interval = ["host://"], 0.0
    with pytest.raises(TargetError, match="DASHBOARD_POLL_INTERVAL"):
        start_pollers(bad, publish=lambda batch: 0, spawn=spawn, sleep=lambda s: None)
    assert spawned == []
    bad.poll_targets, bad.poll_interval = ["host://", "json+http://a:1/s"], 2.0
    tasks: dict = {}
    pollers = start_pollers(
        bad, publish=lambda batch: 0, spawn=spawn, sleep=lambda s: None, tasks=tasks
    )
    assert spawned == ["poll:host://", "poll:json+http://a:1/s"] == list(tasks)
    assert [p.interval for p in pollers] == [2.0, 2.0]
    assert isinstance(pollers[0].target, PollTarget)


def test_the_poller_module_imports_no_web_framework():
    """The worker can use the pollers without importing Flask or Socket.IO."""
    for module in ("pollers.py", "host.py"):
        source = (Path(__file__).resolve().parents[3] / "ingest" / module).read_text()
        assert server_libraries(source) <= {"requests"}
