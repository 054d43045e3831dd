"""The official ``influxdb-client`` library writing to a real server (v2 API, gzip or not), and a
v1 client's ``/write``; the values read back through ``/api/v1/series``."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

from tests.conftest import ADMIN_PASSWORD, TOKEN
from tests.servers import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One dashboard for the module."""
    live = LiveServer(tmp_path_factory.mktemp("influx") / "data", demo=False)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def session(server: LiveServer) -> requests.Session:
    """A session signed in as the admin."""
    s = requests.Session()
    login = {"username": "admin", "password": ADMIN_PASSWORD}
    assert s.post(server.url + "/api/v1/auth/login", json=login, timeout=5).ok
    return s


def raw(session: requests.Session, server: LiveServer, key: str) -> list[list[float]]:
    """The raw points of a series (text key) of the last ten minutes."""
    now = int(time.time() * 1000)
    params = {"key": key, "start": now - 600_000, "end": now + 60_000, "step": "raw"}
    response = session.get(server.url + "/api/v1/series", params=params, timeout=5)
    return response.json()["points"] if response.status_code != 404 else []


@pytest.mark.parametrize("gzip", [False, True])
def test_the_influxdb_client_writes_points_and_records(server, session, gzip):
    """Points (ms precision), line protocol records (ns): numbers stored, strings left out."""
    t = int(time.time() * 1000) - 5000
    host = f"h-{int(gzip)}"
    with InfluxDBClient(url=server.url, token=TOKEN, org="org", enable_gzip=gzip) as client:
        writer = client.write_api(write_options=SYNCHRONOUS)
        point = (
            Point("cpu")
            .tag("host", host)
            .field("usage_user", 12.5)
            .field("threads", 7)
            .field("state", "running")
            .time(t, WritePrecision.MS)
        )
        writer.write(bucket="telegraf", record=point, write_precision=WritePrecision.MS)
        writer.write(bucket="telegraf", record=f"mem,host={host} used=1024i {(t + 1000) * 10**6}")
    assert raw(session, server, f'cpu_usage_user{{host="{host}"}}') == [[t, 12.5]]
    assert raw(session, server, f'cpu_threads{{host="{host}"}}') == [[t, 7.0]]
    assert raw(session, server, f'mem_used{{host="{host}"}}') == [[t + 1000, 1024.0]]
    assert raw(session, server, f'cpu_state{{host="{host}"}}') == []


def test_a_bad_token_and_a_bad_line_raise_in_the_client(server):
    """401 and 400 reach the client as errors."""
    with InfluxDBClient(url=server.url, token="wrong", org="org") as client:
        with pytest.raises(ApiException) as caught:
            client.write_api(write_options=SYNCHRONOUS).write(bucket="b", record="m v=1")
        assert caught.value.status == 401
    with InfluxDBClient(url=server.url, token=TOKEN, org="org") as client:
        with pytest.raises(ApiException) as caught:
            client.write_api(write_options=SYNCHRONOUS).write(bucket="b", record="m v=oops")
        assert caught.value.status == 400


def test_a_v1_client_writes_with_user_and_password(server, session):
    """``/write?db=..&u=..&p=TOKEN&precision=s`` as InfluxDB 1.x clients send it."""
    t = int(time.time()) - 5
    response = requests.post(
        server.url + "/write",
        params={"db": "telegraf", "u": "any", "p": TOKEN, "precision": "s"},
        data=f"load,host=v1 avg=0.25 {t}",
        timeout=5,
    )
    assert response.status_code == 204, response.text
    assert raw(session, server, 'load_avg{host="v1"}') == [[t * 1000, 0.25]]
