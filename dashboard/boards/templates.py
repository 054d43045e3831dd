"""Ready-made dashboards (pure): "Host" for a Prometheus node exporter.

``host_dashboard`` draws one machine from the node exporter's metrics, as they are stored here
(the exporter's own names and labels): CPU % by mode, load, memory used, disk and network
throughput, filesystems used, each a PromQL expression series of a line widget. Series that
Prometheus remote-writes carry ``instance`` and ``job`` labels and are picked by them; those
the dashboard's own ``prometheus+http`` poller stores have no such labels, so its dashboard
passes ``matchers={}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dashboard.boards.models import SCHEMA_VERSION, slug

NODE_EXPORTER_METRIC = "node_cpu_seconds_total"
HOST_ID_PREFIX = "host-"
WINDOW = "5m"
# filesystems that are no disk: in memory, the container's layers, kernel views
VIRTUAL_FS = "tmpfs|ramfs|devtmpfs|overlay|squashfs|nsfs|autofs|fuse.lxcfs"
PERCENT = {"unit": "percent", "decimals": 1}
BYTES_PER_S = {"unit": "Bps", "decimals": 1}  # 12.3kB/s
LOAD = {"unit": "none", "decimals": 2}


def is_node_exporter(names: Iterable[str]) -> bool:
    """True when a scrape's metric names are a node exporter's (``node_cpu_seconds_total``)."""
    return NODE_EXPORTER_METRIC in set(names)


def host_dashboard_id(instance: str) -> str:
    """The id of the Host dashboard of ``instance``: ``host-<slug>``."""
    return HOST_ID_PREFIX + slug(instance)[: 64 - len(HOST_ID_PREFIX)]


def _quote(text: str) -> str:
    """A label value between double quotes, escaped as PromQL reads it."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _selector(name: str, matchers: Mapping[str, str], *extra: str) -> str:
    """``name{k="v",...,<extra>}``, or the bare name without matchers."""
    parts = [f"{k}={_quote(v)}" for k, v in sorted(matchers.items())] + list(extra)
    return f"{name}{{{','.join(parts)}}}" if parts else name


def _line(
    wid: str,
    title: str,
    series: list[dict[str, str]],
    layout: tuple[int, int, int, int],
    fmt: dict[str, Any],
) -> dict[str, Any]:
    """A line widget of expression series."""
    x, y, w, h = layout
    return {
        "id": wid,
        "kind": "line",
        "title": title,
        "series": series,
        "aggregation": "avg",
        "step": "auto",
        "layout": {"x": x, "y": y, "w": w, "h": h},
        "format": dict(fmt),
    }


def host_dashboard(
    instance: str, job: str, *, matchers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The "Host <instance>" dashboard (id ``host-<slug>``) of a node exporter's metrics.

    Series are picked by ``matchers`` (by default ``instance`` and ``job``, each when given:
    how Prometheus labels what it scrapes).
    """
    if matchers is None:
        matchers = {k: v for k, v in (("instance", instance), ("job", job)) if v}

    def sel(name: str, *extra: str) -> str:
        """A selector of ``name`` on this host."""
        return _selector(name, matchers, *extra)

    def rate(name: str, *extra: str) -> str:
        """The per-second rate of a counter on this host."""
        return f"rate({sel(name, *extra)}[{WINDOW}])"

    cpus = f"scalar(count(count by (cpu) ({sel('node_cpu_seconds_total')})))"
    filesystems = (f'fstype!~"{VIRTUAL_FS}"',)
    widgets = [
        _line(
            "cpu",
            "CPU by mode",
            [
                {
                    "expr": f"100 * sum by (mode) ({rate('node_cpu_seconds_total')}) / {cpus}",
                    "legend": "{{mode}}",
                }
            ],
            (0, 0, 6, 4),
            PERCENT,
        ),
        _line(
            "load",
            "Load average",
            [
                {"expr": sel("node_load1"), "legend": "1 min"},
                {"expr": sel("node_load5"), "legend": "5 min"},
                {"expr": sel("node_load15"), "legend": "15 min"},
            ],
            (6, 0, 6, 4),
            LOAD,
        ),
        _line(
            "memory",
            "Memory used",
            [
                {
                    "expr": f"100 * (1 - {sel('node_memory_MemAvailable_bytes')}"
                    f" / {sel('node_memory_MemTotal_bytes')})",
                    "legend": "used",
                }
            ],
            (0, 4, 6, 4),
            PERCENT,
        ),
        _line(
            "filesystem",
            "Filesystem used",
            [
                {
                    "expr": f"100 * (1 - {sel('node_filesystem_avail_bytes', *filesystems)}"
                    f" / {sel('node_filesystem_size_bytes', *filesystems)})",
                    "legend": "{{mountpoint}}",
                }
            ],
            (6, 4, 6, 4),
            PERCENT,
        ),
        _line(
            "disk",
            "Disk throughput",
            [
                {"expr": rate("node_disk_read_bytes_total"), "legend": "{{device}} read"},
                {"expr": rate("node_disk_written_bytes_total"), "legend": "{{device}} written"},
            ],
            (0, 8, 6, 4),
            BYTES_PER_S,
        ),
        _line(
            "network",
            "Network throughput",
            [
                {
                    "expr": rate("node_network_receive_bytes_total", 'device!="lo"'),
                    "legend": "{{device}} received",
                },
                {
                    "expr": rate("node_network_transmit_bytes_total", 'device!="lo"'),
                    "legend": "{{device}} sent",
                },
            ],
            (6, 8, 6, 4),
            BYTES_PER_S,
        ),
    ]
    title = f"Host {instance}"
    return {
        "id": host_dashboard_id(instance),
        "title": title if len(title) <= 120 else title[:117] + "...",
        "schema_version": SCHEMA_VERSION,
        "range": {"from": "now-1h", "to": "now"},
        "widgets": widgets,
    }
