"""A private PostgreSQL server for tests that refuse, stop and restart it (never the machine's
own cluster, which other tests share): ``initdb`` in a folder of the test's, on a free port.

PostgreSQL does not run as root; as root the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.servers import free_port


def _bin(name: str) -> str | None:
    """The path of a PostgreSQL server program (Debian keeps them out of PATH)."""
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if isinstance(found, list):
        return found[-1] if found else None
    return found


class PrivatePostgres:
    """A throwaway cluster: trust auth on 127.0.0.1, fsync off (a test's data only)."""

    def __init__(self, folder: Path | None = None) -> None:
        """Create the cluster (in ``folder``, else a new folder under /tmp that the server's
        user can reach) and start it."""
        folder = folder or Path(tempfile.mkdtemp(prefix="dashboard-pg-"))
        self.folder = folder
        self.data = folder / "pgdata"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/template1"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        folder.mkdir(parents=True, exist_ok=True)
        if self._as:
            shutil.chown(folder, "postgres", "postgres")
        self._run(
            _bin("initdb") or "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
        )
        self.start()

    def _run(self, *args: str) -> None:
        """Run a server program as the server's user; raise with its output on failure."""
        done = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        """Start (or restart) the server and wait until it answers."""
        options = f"-p {self.port} -k {self.folder} -h 127.0.0.1 -c fsync=off"
        self._run(
            _bin("pg_ctl") or "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "start",
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                psycopg.connect(self.admin_url, connect_timeout=1).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError("the private PostgreSQL did not answer")

    def refuse_connections(self) -> None:
        """New connections to the database are refused and the open ones are ended (the state
        of a database set to refuse connections under a running node)."""
        with psycopg.connect(self.admin_url, autocommit=True) as c:
            c.execute("ALTER DATABASE postgres ALLOW_CONNECTIONS false")
            c.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = 'postgres' AND pid <> pg_backend_pid()"
            )

    def allow_connections(self) -> None:
        """Accept connections to the database again."""
        with psycopg.connect(self.admin_url, autocommit=True) as c:
            c.execute("ALTER DATABASE postgres ALLOW_CONNECTIONS true")

    def stop(self) -> None:
        """Stop the server at once (a crash: no checkpoint)."""
        self._run(_bin("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")


@pytest.fixture
def private_postgres(request: pytest.FixtureRequest) -> Iterator[PrivatePostgres]:
    """A private PostgreSQL for this test, stopped after it."""
    if _bin("initdb") is None or _bin("pg_ctl") is None:
        from tests.conftest import _missing

        _missing(
            "PostgreSQL server", "no initdb/pg_ctl: apt-get install postgresql", request.node.nodeid
        )
    server = PrivatePostgres()
    yield server
    try:
        server.stop()
    except RuntimeError:
        pass  # already stopped by the test
    shutil.rmtree(server.folder, ignore_errors=True)
