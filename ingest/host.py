"""The ``host://`` poll source: this machine's CPU, memory, network and disk through psutil.

The rates and the mapping to series are pure functions of two readings; only
``read_host_sample`` touches the machine.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dashboard.metrics.model import Batch, Limits, validate_batch


@dataclass(frozen=True)
class HostSample:
    """One reading of this host (psutil) at ``t`` seconds; counters are totals since boot."""

    t: float
    cpu_busy_s: float
    cpu_total_s: float
    memory_used_bytes: float
    memory_percent: float
    net_sent_bytes: float
    net_recv_bytes: float
    disk_used_percent: float
    disk_read_bytes: float | None = None
    disk_write_bytes: float | None = None


def rate(prev: float | None, cur: float | None, seconds: float) -> float | None:
    """A counter's increase per second; None without both readings, elapsed time, or on a reset."""
    if prev is None or cur is None or seconds <= 0 or cur < prev:
        return None
    return (cur - prev) / seconds


def cpu_percent(prev: HostSample, cur: HostSample) -> float | None:
    """The busy share of CPU time between two readings, in percent."""
    total = cur.cpu_total_s - prev.cpu_total_s
    if total <= 0:
        return None
    return min(100.0, max(0.0, 100.0 * (cur.cpu_busy_s - prev.cpu_busy_s) / total))


def host_body(
    prev: HostSample | None, cur: HostSample, *, host: str, disk_path: str, now_ms: int
) -> dict[str, Any]:
    """This host's series: gauges from ``cur``; CPU use and rates since ``prev`` when given."""
    labels = {"host": host}
    rows: list[tuple[str, float | None, str, dict[str, str]]] = [
        ("host.memory_used_bytes", cur.memory_used_bytes, "bytes", labels),
        ("host.memory_percent", cur.memory_percent, "%", labels),
        ("host.disk_used_percent", cur.disk_used_percent, "%", {**labels, "path": disk_path}),
    ]
    if prev is not None:
        dt = cur.t - prev.t
        rows.append(("host.cpu_percent", cpu_percent(prev, cur), "%", labels))
        for name, before, after in (
            ("host.net_sent_bytes_per_s", prev.net_sent_bytes, cur.net_sent_bytes),
            ("host.net_recv_bytes_per_s", prev.net_recv_bytes, cur.net_recv_bytes),
            ("host.disk_read_bytes_per_s", prev.disk_read_bytes, cur.disk_read_bytes),
            ("host.disk_write_bytes_per_s", prev.disk_write_bytes, cur.disk_write_bytes),
        ):
            rows.append((name, rate(before, after, dt), "B/s", labels))
    return {
        "metrics": [
            {"name": name, "labels": row_labels, "unit": unit, "points": [[now_ms, value]]}
            for name, value, unit, row_labels in rows
            if value is not None
        ]
    }


def read_host_sample(disk_path: str, t: float) -> HostSample:
    """Read this host's CPU times, memory, network and disk counters through psutil."""
    import psutil

    times = psutil.cpu_times()._asdict()
    # Linux already counts guest time inside user and nice
    total = sum(v for k, v in times.items() if k not in ("guest", "guest_nice"))
    idle = times.get("idle", 0.0) + times.get("iowait", 0.0)
    memory = psutil.virtual_memory()
    net = psutil.net_io_counters()
    disk_io = psutil.disk_io_counters()
    return HostSample(
        t=t,
        cpu_busy_s=total - idle,
        cpu_total_s=total,
        memory_used_bytes=float(memory.used),
        memory_percent=float(memory.percent),
        net_sent_bytes=float(net.bytes_sent) if net else 0.0,
        net_recv_bytes=float(net.bytes_recv) if net else 0.0,
        disk_used_percent=float(psutil.disk_usage(disk_path).percent),
        disk_read_bytes=float(disk_io.read_bytes) if disk_io else None,
        disk_write_bytes=float(disk_io.write_bytes) if disk_io else None,
    )


class HostCollector:
    """The ``host://`` source: keeps the previous reading to turn counters into rates."""

    def __init__(
        self,
        disk_path: str,
        *,
        clock: Callable[[], float],
        read: Callable[[str, float], HostSample] = read_host_sample,
    ) -> None:
        """A collector for this host, measuring the disk that holds ``disk_path``."""
        self.disk_path, self.clock, self.read = disk_path, clock, read
        self.host = socket.gethostname()
        self.prev: HostSample | None = None

    def __call__(self, now_ms: int, limits: Limits) -> Batch:
        """Read the host and return its points."""
        cur = self.read(self.disk_path, self.clock())
        body = host_body(self.prev, cur, host=self.host, disk_path=self.disk_path, now_ms=now_ms)
        self.prev = cur
        return validate_batch(body, now_ms=now_ms, limits=limits)
