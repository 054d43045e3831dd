"""A private Prometheus (Debian's ``prometheus`` binary) over backfilled data, for the
conformance tests and the query benchmark: the data are written as OpenMetrics, turned into
TSDB blocks by ``promtool tsdb create-blocks-from openmetrics`` and served read-only."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import requests

Series = tuple[str, dict[str, str], np.ndarray, np.ndarray]


def binaries() -> tuple[str, str] | None:
    """The paths of ``prometheus`` and ``promtool``, or None when either is missing."""
    prom, tool = shutil.which("prometheus"), shutil.which("promtool")
    return (prom, tool) if prom and tool else None


def _free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _escape(value: str) -> str:
    """A label value in the text formats' escaping."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def write_openmetrics(series: Iterable[Series], path: Path) -> None:
    """Every series as an OpenMetrics gauge family (samples grouped by metric name)."""
    by_name: dict[str, list[Series]] = {}
    for s in series:
        by_name.setdefault(s[0], []).append(s)
    with path.open("w") as out:
        for name, members in by_name.items():
            out.write(f"# TYPE {name} gauge\n")
            for _, labels, ts, values in members:
                inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
                head = f"{name}{{{inner}}}" if inner else name
                stamps = np.char.mod("%.3f", ts / 1000.0)
                vals = [repr(float(v)) for v in values.tolist()]
                out.writelines(f"{head} {v} {t}\n" for v, t in zip(vals, stamps, strict=True))
        out.write("# EOF\n")


class PromServer:
    """Prometheus on a free port over blocks made from ``series``."""

    def __init__(self, folder: Path, series: Iterable[Series]) -> None:
        """Backfill the data and start the server (raises RuntimeError when it fails)."""
        found = binaries()
        if found is None:
            raise RuntimeError("prometheus or promtool not installed")
        prom, tool = found
        folder.mkdir(parents=True, exist_ok=True)
        data, source = folder / "tsdb", folder / "data.om"
        write_openmetrics(series, source)
        subprocess.run(
            [tool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
            check=True,
            capture_output=True,
            timeout=600,
        )
        config = folder / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1h\n")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (folder / "prometheus.log").open("w")
        self.proc = subprocess.Popen(
            [
                prom,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                "--storage.tsdb.retention.time=3650d",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--query.max-samples=500000000",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, seconds: float = 60.0) -> None:
        """Block until ``/-/ready`` answers 200."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.proc.returncode}")
            try:
                if requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("prometheus did not become ready")

    def get(self, endpoint: str, **params: Any) -> dict[str, Any]:
        """A GET of ``/api/v1/<endpoint>``; its JSON."""
        response = requests.get(f"{self.url}/api/v1/{endpoint}", params=params, timeout=120)
        return response.json()

    def stop(self) -> None:
        """Stop the server."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
