"""A private redis-server for tests that kill and restart Redis (never the machine's own)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import REQUIRE_SERVICES
from tests.servers import free_port


class PrivateRedis:
    """redis-server on a free port, append-only with fsync on every write, in its own folder."""

    def __init__(self, folder: Path) -> None:
        """Start it."""
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        folder.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        """Start (or restart) the server on the same port and data folder."""
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    client.close()
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def kill(self) -> None:
        """SIGKILL the server (what a crash looks like)."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)
            self.proc = None

    def stop(self) -> None:
        """Stop it for good."""
        self.kill()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of this test's own, append-only with fsync always (import to use)."""
    try:
        server = PrivateRedis(tmp_path / "redis")
    except (OSError, RuntimeError) as exc:
        if REQUIRE_SERVICES:
            pytest.fail(f"cannot start redis-server: {exc}")
        pytest.skip(f"redis-server unavailable: {exc}")
    yield server
    server.stop()
