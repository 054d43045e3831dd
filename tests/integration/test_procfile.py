"""The Procfile, the user's way to deploy to a PaaS, run as a PaaS runs it: ``honcho`` starts
``web`` (gunicorn, gevent) and ``worker`` from the Procfile against PostgreSQL and Redis after the
release phase (``dashboard db upgrade``); a point posted to that web process is persisted by the
worker and read back from a second web process started from the same Procfile."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from dashboard.metrics.model import SeriesKey
from dashboard.metrics.steps import RAW
from dashboard.metrics.stores.postgres import PostgresStore
from tests.conftest import ADMIN_PASSWORD, TOKEN
from tests.postgres_server import private_postgres  # noqa: F401 - fixture
from tests.redis_server import private_redis  # noqa: F401 - fixture
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _honcho(env: dict[str, str], log: Path, *processes: str) -> subprocess.Popen:
    """``honcho start PROCESSES`` from the repository's Procfile, in a process group of its own."""
    binary = BIN / "honcho"
    if not binary.exists():
        pytest.fail("honcho is not installed: pip install -e '.[test]'")
    return subprocess.Popen(
        [str(binary), "-f", str(ROOT / "Procfile"), "start", *processes],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen) -> None:
    """Stop a honcho and everything it started."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _healthy(url: str, log: Path, timeout: float = 60) -> None:
    """Wait until ``url/healthz`` answers 200, or fail with the process output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} did not become healthy:\n{log.read_text()[-3000:]}")


def test_procfile_web_and_worker_persist_a_point_a_second_web_reads_it(
    private_postgres,  # noqa: F811
    private_redis,  # noqa: F811
    tmp_path,
):
    """Release, then web + worker by honcho; POST a point; it reaches PostgreSQL through the
    worker, and a second web process (PORT differs) serves it."""
    base = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "DASHBOARD_DATABASE_URL": private_postgres.url,
        "DASHBOARD_REDIS_URL": private_redis.url,
        "DASHBOARD_REDIS_PREFIX": "procfile",
        "DASHBOARD_SECRET_KEY": "a-shared-secret-for-the-procfile-test-0123456789",
        "DASHBOARD_INGEST_TOKENS": TOKEN,
        "DASHBOARD_ADMIN_USER": "admin",
        "DASHBOARD_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "DASHBOARD_DATA_DIR": str(tmp_path / "data"),
        "DASHBOARD_DEMO": "0",
        "DASHBOARD_PERSIST_IN_WEB": "0",  # the worker persists, as on a PaaS with a worker dyno
    }
    release = subprocess.run(
        [str(BIN / "dashboard"), "db", "upgrade"],
        env=base,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert release.returncode == 0, release.stdout + release.stderr
    first_port, second_port = free_port(), free_port()
    first = _honcho({**base, "PORT": str(first_port)}, tmp_path / "first.log", "web", "worker")
    second = None
    try:
        _healthy(f"http://127.0.0.1:{first_port}", tmp_path / "first.log")
        ts = int(time.time() * 1000)
        posted = requests.post(
            f"http://127.0.0.1:{first_port}/api/v1/ingest",
            json={"metrics": [{"name": "procfile.point", "points": [[ts, 42.5]]}]},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
        assert posted.status_code == 202, posted.text
        second = _honcho({**base, "PORT": str(second_port)}, tmp_path / "second.log", "web")
        _healthy(f"http://127.0.0.1:{second_port}", tmp_path / "second.log")

        def stored() -> list[tuple]:
            """The point in PostgreSQL (the worker wrote it), in the head or sealed."""
            store = PostgresStore(private_postgres.url, max_size=1)
            try:
                frame = store.query(SeriesKey.of("procfile.point"), ts - 1000, ts + 1000, RAW)
            finally:
                store.close()
            return [(float(v),) for v in frame.value]

        deadline = time.monotonic() + 30
        while not stored() and time.monotonic() < deadline:
            time.sleep(0.3)
        assert stored() == [(42.5,)]
        session = requests.Session()
        login = {"username": "admin", "password": ADMIN_PASSWORD}
        url = f"http://127.0.0.1:{second_port}"
        assert session.post(url + "/api/v1/auth/login", json=login, timeout=10).ok
        got = session.get(
            url + "/api/v1/series",
            params={"name": "procfile.point", "start": ts - 60_000, "end": ts + 1000},
            timeout=10,
        ).json()
        assert [p[1] for p in got["points"]] == [42.5]
    finally:
        _stop(first)
        if second is not None:
            _stop(second)


def _procfile() -> dict[str, str]:
    """The Procfile's processes: name -> command."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_the_compose_file_and_dockerfile_run_what_the_procfile_runs_with_known_settings():
    """This machine runs no Docker, so docker-compose.yml and the Dockerfile are checked by
    reading them: the web and worker commands are the Procfile's, the release step migrates
    before any node starts, every DASHBOARD_* variable is a setting, and nginx's config is
    deploy/nginx.conf with the nodes by their service names (and nginx accepts it)."""
    import yaml

    from dashboard.settings import Settings

    procfile = _procfile()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web1", "web2", "worker", "nginx"}
    for web in ("web1", "web2"):
        assert services[web]["command"][-1] == f"exec {procfile['web']}"
        assert services[web]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert " ".join(services["worker"]["command"]) == procfile["worker"]
    assert services["migrate"]["command"] == ["dashboard", "db", "upgrade"]
    assert services["redis"]["command"][1:5] == ["--appendonly", "yes", "--appendfsync", "always"]
    known = {f"DASHBOARD_{name.upper()}" for name in Settings.model_fields}
    for name, service in services.items():
        env = service.get("environment") or {}
        unknown = {k for k in env if k.startswith("DASHBOARD_")} - known
        assert not unknown, f"{name}: not settings: {unknown}"
    web_env = services["web1"]["environment"]
    assert web_env["DASHBOARD_DATABASE_URL"].startswith("postgresql://")
    assert web_env["DASHBOARD_REDIS_URL"] == "redis://redis:6379/0"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f'"exec {procfile["web"]}"' in dockerfile
    ours = (ROOT / "deploy" / "compose" / "nginx.conf").read_text()
    base = (ROOT / "deploy" / "nginx.conf").read_text()
    body = ours[ours.index("worker_processes") :]
    expected = base[base.index("worker_processes") :]
    expected = expected.replace("server 127.0.0.1:8051", "server web1:8050")
    assert body == expected.replace("server 127.0.0.1:8052", "server web2:8050")
    nginx = "/usr/sbin/nginx"
    if os.path.exists(nginx):  # the syntax, with the service names as local addresses
        conf = Path(tempfile_dir()) / "nginx.conf"
        conf.write_text(
            ours.replace("web1:8050", "127.0.0.1:8051").replace("web2:8050", "127.0.0.1:8052")
        )
        checked = subprocess.run(
            [nginx, "-t", "-c", str(conf), "-g", f"pid {conf.parent}/nginx.pid;"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert checked.returncode == 0, checked.stderr


def tempfile_dir() -> str:
    """A new temporary folder."""
    import tempfile

    return tempfile.mkdtemp(prefix="nginx-check-")
