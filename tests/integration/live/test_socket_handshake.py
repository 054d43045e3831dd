"""The /live handshake on a real gevent server: Origin and session checks, both transports."""

from __future__ import annotations

import re
import socket

import pytest
import requests
import socketio

from tests.conftest import ADMIN_PASSWORD
from tests.servers import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """A real node without demo data."""
    node = LiveServer(tmp_path_factory.mktemp("handshake") / "data", demo=False)
    yield node
    node.stop()


@pytest.fixture(scope="module")
def session_cookie(server: LiveServer) -> str:
    """The Cookie header of a signed-in admin."""
    response = requests.post(
        server.url + "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        timeout=5,
    )
    assert response.status_code == 200
    return "; ".join(f"{c.name}={c.value}" for c in response.cookies)


def _connect(server: LiveServer, transport: str, headers: dict[str, str]) -> bool:
    """Try to open /live; True when the server accepted it."""
    # websocket-client adds its own Origin unless told not to; the test sets it explicitly
    client = socketio.Client(reconnection=False, websocket_extra_options={"suppress_origin": True})
    try:
        client.connect(
            server.url,
            namespaces=["/live"],
            transports=[transport],
            headers=headers,
            wait_timeout=5,
        )
    except socketio.exceptions.ConnectionError:
        return False
    accepted = client.connected and "/live" in client.namespaces
    client.disconnect()
    return accepted


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_own_origin_with_a_session_is_accepted(server, session_cookie, transport):
    """A signed-in browser on the dashboard's own origin connects."""
    headers = {"Cookie": session_cookie, "Origin": server.url}
    assert _connect(server, transport, headers)


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_foreign_origin_is_refused_even_with_a_session(server, session_cookie, transport):
    """A page on another site cannot open the socket with the user's cookie."""
    headers = {"Cookie": session_cookie, "Origin": "https://evil.example"}
    assert not _connect(server, transport, headers)


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_no_session_is_refused(server, transport):
    """Without a session cookie the namespace refuses the connection."""
    assert not _connect(server, transport, {"Origin": server.url})


def test_a_websocket_upgrade_without_its_key_is_a_400(server, session_cookie):
    """A malformed handshake (no Sec-WebSocket-Key or -Version) is the client's error."""
    host, port = server.url.split("//")[1].split(":")
    request = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Origin: {server.url}\r\nCookie: {session_cookie}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:  # the head, then as much body as it announces
            answer += conn.recv(4096)
        head, body = answer.split(b"\r\n\r\n", 1)
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        while len(body) < length:
            body += conn.recv(4096)
        answer = head + b"\r\n\r\n" + body
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"bad websocket handshake: Missing header" in answer
