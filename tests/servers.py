"""A real ``dashboard serve`` (gevent) in a subprocess, for browser and end-to-end tests.

The server is the same command users run, not a test double, so gevent, Socket.IO, the guard
and the assets are exercised.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import ADMIN_PASSWORD, TOKEN


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A ``dashboard serve`` process on a free port with its own data folder."""

    def __init__(
        self,
        data_dir: Path,
        *,
        demo: bool = True,
        env: dict[str, str] | None = None,
        log_name: str = "serve.log",
    ) -> None:
        """Start the server and wait until /healthz answers (``env`` adds or overrides)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / log_name
        data_dir.mkdir(parents=True, exist_ok=True)
        extra = env or {}
        env = {
            **os.environ,
            "DASHBOARD_DATA_DIR": str(data_dir),
            "DASHBOARD_DEMO": "1" if demo else "0",
            # the demo's opening alert would fire in the middle of other tests' pages
            "DASHBOARD_DEMO_ALERT": "0",
            "DASHBOARD_INGEST_TOKENS": TOKEN,
            "DASHBOARD_ADMIN_USER": "admin",
            "DASHBOARD_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "DASHBOARD_PORT": str(self.port),
            "DASHBOARD_DATABASE_URL": "",
            "DASHBOARD_REDIS_URL": "",
            **extra,
        }
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.cli", "serve"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return
            except requests.RequestException:  # not listening yet, or slow to answer its first
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log_path.read_text()}")

    def ingest(self, body: dict) -> requests.Response:
        """POST a batch to the ingest API with the test token."""
        return requests.post(
            self.url + "/api/v1/ingest",
            json=body,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=5,
        )

    def kill(self) -> None:
        """Kill the server outright (a crashed node)."""
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        """Stop the server."""
        if self.proc.poll() is not None:
            self._log.close()
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One demo server for the tests of a module."""
    server = LiveServer(tmp_path_factory.mktemp("serve") / "data")
    yield server
    server.stop()
