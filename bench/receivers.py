"""Points per second through each ecosystem receiver into the durable bus, beside the JSON API,
in one run, each case against a fresh real ``dashboard serve`` for each bus (a case measured
after others would find their series in the SQLite head, and pay more a commit): embedded (a
2xx once the batch is committed to SQLite, then in the hot store, live hub and history cache)
and Redis (a 2xx once the batch is XADDed to the stream; the node's tail and persister work in
the same process).

Each receiver gets its senders' usual batch: remote write 500 samples (500 series, one sample
each, as Prometheus sends a scrape; 1.0 and 2.0), OTLP one export of 1,000 points (100 metrics x
10 attribute sets, protobuf; and the same export as OTLP/JSON), line protocol 1,000 points (200
lines x 5 fields, as Telegraf sends). The JSON API gets the same 500 one-point series, and its
usual bulk shape (100 series x 100 points). Each receiver's ``_over_json`` figure is its rate
over the JSON API's for the same shape (500 one-point series) on the same bus in the same run.
Sender-shaped batches come from a fleet of ``FLEET`` sources (hosts, service instances, sites):
batch ``b`` carries source ``b % FLEET``'s series, so a sender's 500 series are 500 of 10,000,
as a Prometheus with many targets sends them; each node is first sent one batch of every source
(its series known, as in a running install), then the measured batches, in a steady state.
Sender-shaped batches carry recent timestamps (two minutes old at most, as a sender's are); the
bulk shape starts an hour ago. Bodies are encoded before the clock starts, so the figure is
points accepted and durable per second. ``_points_per_server_cpu_s``: the same points over the
server process's CPU seconds for them (on the Redis bus until the persisters have caught up),
which holds on a machine shared with other work, where wall-clock rates do not.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable

import cramjam
import psutil
import requests
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from bench.ingest import _cleanup
from bench.live import PASSWORD, TOKEN, serve_process
from ingest import remote_write as rw
from ingest import remote_write_v2 as rw2

Body = tuple[str, bytes, dict[str, str], int]  # path, body, headers, points
FLEET = 20  # sources a sender's batches take turns over (20 x 500 = 10,000 series)


def _start_ms(batch: int, step_ms: int = 1000, ago_s: int = 120) -> int:
    """The timestamp of a batch: ``ago_s`` ago (recent, as a sender's samples are) plus
    ``step_ms`` a batch."""
    return (int(time.time()) - ago_s) * 1000 + batch * step_ms


def remote_write_bodies(
    batches: int, first: int = 0, samples: int = 500, sources: int = FLEET
) -> list[Body]:
    """Remote write requests ``first`` on of ``samples`` one-sample series, as a scrape is
    sent, from ``sources`` sources in turn."""
    headers = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"}
    out = []
    for b in range(first, first + batches):
        req = rw.WriteRequest()
        for s in range(samples):
            series = req.timeseries.add()
            for name, value in (
                ("__name__", "bench_cpu_seconds_total"),
                ("cpu", str(s % 16)),
                ("instance", f"host{b % sources}:9100"),
                ("job", "node"),
                ("mode", f"m{s // 16}"),
            ):
                series.labels.add(name=name, value=value)
            series.samples.add(timestamp=_start_ms(b), value=b * 1.5 + s)
        out.append(("/api/v1/write", rw.encode(req), headers, samples))
    return out


def remote_write_v2_bodies(batches: int, first: int = 0, samples: int = 500) -> list[Body]:
    """Remote write 2.0 requests ``first`` on of ``samples`` one-sample series (symbols
    interned once)."""
    headers = {
        "Content-Encoding": "snappy",
        "Content-Type": f"application/x-protobuf;proto={rw2.PROTO}",
    }
    out = []
    for b in range(first, first + batches):
        req = rw2.Request()
        symbols: dict[str, int] = {"": 0}
        for s in range(samples):
            series = req.timeseries.add()
            for text in (
                "__name__",
                "bench_v2_cpu_seconds_total",  # not 1.0's series: new points
                "cpu",
                str(s % 16),
                "instance",
                f"host{b % FLEET}:9100",
                "job",
                "node",
                "mode",
                f"m{s // 16}",
            ):
                series.labels_refs.append(symbols.setdefault(text, len(symbols)))
            series.samples.add(timestamp=_start_ms(b), value=b * 1.5 + s)
        req.symbols.extend(symbols)
        body = bytes(cramjam.snappy.compress_raw(req.SerializeToString()))
        out.append(("/api/v1/write", body, headers, samples))
    return out


def otlp_export(batch: int, metrics: int = 100, sets: int = 10) -> ExportMetricsServiceRequest:
    """An export of ``metrics`` gauges with ``sets`` attribute sets each."""
    req = ExportMetricsServiceRequest()
    resource = req.resource_metrics.add()
    attr = resource.resource.attributes.add(key="service.name")
    attr.value.string_value = "bench"
    attr = resource.resource.attributes.add(key="service.instance.id")
    attr.value.string_value = f"i{batch % FLEET}"
    scope = resource.scope_metrics.add()
    t = _start_ms(batch) * 1_000_000
    for m in range(metrics):
        metric = scope.metrics.add(name=f"bench.gauge{m}", unit="ms")
        for s in range(sets):
            point = metric.gauge.data_points.add(time_unix_nano=t, as_double=batch + m + s / 10)
            label = point.attributes.add(key="worker")
            label.value.string_value = str(s)
    return req


def otlp_bodies(batches: int, first: int = 0, *, as_json: bool) -> list[Body]:
    """OTLP exports ``first`` on of 1,000 points, protobuf or JSON."""
    from google.protobuf import json_format

    out = []
    for b in range(first, first + batches):
        req = otlp_export(b)
        if as_json:
            body = json_format.MessageToJson(req, indent=None).encode()
            headers = {"Content-Type": "application/json"}
        else:
            body, headers = req.SerializeToString(), {"Content-Type": "application/x-protobuf"}
        out.append(("/api/v1/otlp/v1/metrics", body, headers, 1000))
    return out


def influx_bodies(batches: int, first: int = 0, lines: int = 200) -> list[Body]:
    """Line protocol bodies ``first`` on of ``lines`` lines of 5 fields."""
    out = []
    for b in range(first, first + batches):
        t = _start_ms(b)
        text = "\n".join(
            f"cpu,host=h{b % FLEET}-{i % 20},cpu=cpu{i // 20} usage_user={b + i * 0.5},"
            f"usage_system=1.5,usage_idle=90.25,usage_iowait=0.5,threads={i}i {t}"
            for i in range(lines)
        )
        out.append(("/api/v2/write?precision=ms", text.encode(), {}, lines * 5))
    return out


def json_bodies(batches: int, series: int, points: int, first: int = 0) -> list[Body]:
    """JSON API batches ``first`` on of ``series`` x ``points`` (one-point series: from the
    fleet, as a sender's)."""
    headers = {"Content-Type": "application/json"}
    out = []
    for b in range(first, first + batches):
        source = {"source": str(b % FLEET)} if points == 1 else {}
        # the bulk shape spans 100 s a batch: start an hour ago, as bench/ingest.py does
        t0 = _start_ms(b, step_ms=points * 1000, ago_s=3600 if points > 1 else 120)
        metrics = [
            {
                "name": "bench.json",
                "labels": {"s": str(s), "shape": f"{series}x{points}", **source},
                "points": [[t0 + i * 1000, float(i + s)] for i in range(points)],
            }
            for s in range(series)
        ]
        body = json.dumps({"metrics": metrics}).encode()
        out.append(("/api/v1/ingest", body, headers, series * points))
    return out


def _cpu(proc: subprocess.Popen) -> float:
    """CPU seconds (user + system) the server has used."""
    times = psutil.Process(proc.pid).cpu_times()
    return times.user + times.system


def _settle(session: requests.Session, url: str, redis_bus: bool) -> None:
    """On the Redis bus, wait until the persisters have written everything (the node's CPU for
    a batch includes its tail's and persister's work)."""
    deadline = time.monotonic() + 60
    while redis_bus and time.monotonic() < deadline:
        if session.get(url + "/healthz", timeout=10).json()["bus"].get("lag", 0) <= 0:
            break
        time.sleep(0.01)


def _rate(session: requests.Session, url: str, bodies: list[Body]) -> float:
    """Points/s of posting ``bodies`` one after another (each must be a 2xx)."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    started = time.perf_counter()
    for path, body, headers, _ in bodies:
        response = session.post(url + path, data=body, headers={**auth, **headers}, timeout=60)
        response.raise_for_status()
    return sum(b[3] for b in bodies) / (time.perf_counter() - started)


REDIS_URL = "redis://127.0.0.1:6379/0"
REFERENCE = "json_500x1"  # the JSON API with the senders' shape: what each receiver is put beside
CASES: dict[str, Callable[[int, int], list[Body]]] = {  # (batches, first batch) -> bodies
    "json_500x1": lambda n, first: json_bodies(n, 500, 1, first),
    "json_100x100": lambda n, first: json_bodies(max(1, n // 10), 100, 100, first // 10),
    "remote_write_500": remote_write_bodies,
    # one source sending the same 500 series a second: 120 points a series in the head by
    # the end (a seal every 60 s leaves up to 60), against the fleet's 6
    "remote_write_500_one_source": lambda n, first: remote_write_bodies(n, first, sources=1),
    "remote_write_v2_500": remote_write_v2_bodies,
    "otlp_protobuf_1000": lambda n, first: otlp_bodies(n, first, as_json=False),
    "otlp_json_1000": lambda n, first: otlp_bodies(n, first, as_json=True),
    "influx_1000": influx_bodies,
}


def receivers(batches: int = 100, redis_url: str = REDIS_URL) -> dict[str, float]:
    """Points/s accepted (durable) by each receiver and by the JSON API, on the embedded bus and
    (with ``redis_url``) the Redis bus, each with its ratio to the JSON API on the same bus in
    the same run; and each decoder's own rate in-process (body to checked batch, no HTTP)."""
    # one batch of each source first (the series known, code paths warm), then the measured
    warm = {name: make(FLEET, 0) for name, make in CASES.items()}
    prepared = {name: make(batches, FLEET) for name, make in CASES.items()}
    out: dict[str, float] = {}
    buses = {"embedded": ""}
    if redis_url:
        buses["redis"] = redis_url
    for bus, url_of_redis in buses.items():
        rates: dict[str, float] = {}
        cpu_rates: dict[str, float] = {}
        for name, bodies in prepared.items():
            # a fresh node each: a case run after others would find their points in the
            # SQLite head (each case sends new series), and its commits cost more for that
            prefix = f"benchrcv{uuid.uuid4().hex[:6]}"
            env = {"DASHBOARD_REDIS_URL": url_of_redis, "DASHBOARD_REDIS_PREFIX": prefix}
            with serve_process(env) as (url, proc), _cleanup(url_of_redis, prefix):
                session = requests.Session()
                if url_of_redis:  # signed in to read the persisters' lag from /healthz
                    login = {"username": "admin", "password": PASSWORD}
                    session.post(url + "/api/v1/auth/login", json=login, timeout=10)
                _rate(session, url, warm[name])
                _settle(session, url, bool(url_of_redis))
                cpu = _cpu(proc)
                rates[name] = _rate(session, url, bodies)
                _settle(session, url, bool(url_of_redis))
                cpu_rates[name] = sum(b[3] for b in bodies) / max(_cpu(proc) - cpu, 1e-9)
        for name, rate in rates.items():
            out[f"{bus}_{name}_points_per_s"] = rate
        for name, rate in cpu_rates.items():
            out[f"{bus}_{name}_points_per_server_cpu_s"] = rate
        for name, rate in rates.items():
            if name.startswith("json_"):
                continue
            out[f"{bus}_{name}_over_json"] = rate / rates[REFERENCE]
    return {**out, **decoders(batches)}


def decoders(batches: int = 40) -> dict[str, float]:
    """In-process points/s of each decoder (body to checked Batch), no HTTP and no bus."""
    from dashboard.metrics.model import validate_batch
    from ingest import line_protocol, otlp

    def run(bodies: list[Body], decode: Callable[[bytes, int], object]) -> float:
        """Points/s of decoding ``bodies``."""
        now = int(time.time() * 1000)
        started = time.perf_counter()
        for _, body, _, _ in bodies:
            decode(body, now)
        return sum(b[3] for b in bodies) / (time.perf_counter() - started)

    limit = 64 * 1024 * 1024
    cases = {
        "decode_json_500x1_points_per_s": (
            json_bodies(batches, 500, 1),
            lambda b, now: validate_batch(json.loads(b), now_ms=now),
        ),
        "decode_remote_write_500_points_per_s": (
            remote_write_bodies(batches),
            lambda b, now: rw.decode(b, now_ms=now, max_bytes=limit),
        ),
        "decode_remote_write_v2_500_points_per_s": (
            remote_write_v2_bodies(batches),
            lambda b, now: rw2.decode(b, now_ms=now, max_bytes=limit),
        ),
        "decode_otlp_protobuf_1000_points_per_s": (
            otlp_bodies(batches, as_json=False),
            lambda b, now: otlp.request_batch(otlp.parse_protobuf(b), now_ms=now),
        ),
        "decode_otlp_json_1000_points_per_s": (
            otlp_bodies(batches, as_json=True),
            lambda b, now: otlp.json_batch(b, now_ms=now),
        ),
        "decode_influx_1000_points_per_s": (
            influx_bodies(batches),
            lambda b, now: line_protocol.decode(b.decode(), now_ms=now, precision="ms"),
        ),
    }
    return {name: run(bodies, decode) for name, (bodies, decode) in cases.items()}


if __name__ == "__main__":
    for key, value in receivers().items():
        print(
            f"{key:44s} {value:12,.2f}"
            if key.endswith("_over_json")
            else f"{key:44s} {value:12,.0f}"
        )
