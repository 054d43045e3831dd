"""A room's websocket frame, built once for all its viewers, as a browser's client reads it;
the websocket read without a reader greenlet, against a client's protocol state machine."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import simple_websocket
from wsproto import ConnectionType
from wsproto.connection import Connection
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage

from dashboard.live.transport import ReaderlessWebSocket, text_frame


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
def test_a_text_frame_of_any_length_reads_back_whole(size):
    """Each length encoding (7 bits, 16 bits, 64 bits) gives one final text message."""
    text = "4" + "é" * (size // 2) + "x" * (size % 2)
    client = Connection(ConnectionType.CLIENT)
    client.receive_data(text_frame(text))
    events = list(client.events())
    assert len(events) == 1
    assert isinstance(events[0], TextMessage)
    assert events[0].message_finished
    assert events[0].data == text


class _Input:
    """gevent's ``wsgi.input`` as far as the transport reads it: ``.raw._sock``."""

    def __init__(self, sock: socket.socket) -> None:
        self.raw = type("Raw", (), {"_sock": sock})()


def _server_and_client(max_message: int = 1_000) -> tuple[ReaderlessWebSocket, socket.socket]:
    """A websocket after its handshake on one end of a socket pair, and the other end (the
    101 answer read off it)."""
    here, there = socket.socketpair()
    environ = {
        "wsgi.input": _Input(here),
        "HTTP_HOST": "localhost",
        "HTTP_UPGRADE": "websocket",
        "HTTP_CONNECTION": "Upgrade",
        "HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ==",
        "HTTP_SEC_WEBSOCKET_VERSION": "13",
    }
    ws = ReaderlessWebSocket(environ, max_message)
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += there.recv(4096)
    assert answer.startswith(b"HTTP/1.1 101")
    assert b"deflate" not in answer.lower()  # never compressed
    return ws, there


def _client_events(sock: socket.socket, client: Connection) -> list:
    """The events the server's next bytes give the client."""
    client.receive_data(sock.recv(65536))
    return list(client.events())


def test_a_message_in_parts_reads_back_whole_text_and_bytes():
    ws, there = _server_and_client()
    client = Connection(ConnectionType.CLIENT)
    there.sendall(client.send(TextMessage(data="ab", message_finished=False)))
    there.sendall(client.send(TextMessage(data="cé", message_finished=True)))
    there.sendall(client.send(BytesMessage(data=b"\x00\x01")))
    assert ws.receive() == "abcé"
    assert ws.receive() == b"\x00\x01"
    ws.send("42/live,[1]")
    (event,) = _client_events(there, client)
    assert event.data == "42/live,[1]"


def test_a_ping_is_answered_and_a_close_is_returned():
    ws, there = _server_and_client()
    client = Connection(ConnectionType.CLIENT)
    there.sendall(client.send(Ping(payload=b"hi")))
    there.sendall(client.send(CloseConnection(code=1000)))
    with pytest.raises(simple_websocket.ConnectionClosed):
        ws.receive()
    events = _client_events(there, client)
    assert isinstance(events[0], Pong) and events[0].payload == b"hi"
    assert isinstance(events[1], CloseConnection) and events[1].code == 1000
    assert not ws.connected


def test_a_message_over_the_limit_closes_with_1009():
    ws, there = _server_and_client(max_message=10)
    client = Connection(ConnectionType.CLIENT)
    there.sendall(client.send(TextMessage(data="x" * 11)))
    with pytest.raises(simple_websocket.ConnectionClosed):
        ws.receive()
    (event,) = _client_events(there, client)
    assert isinstance(event, CloseConnection) and event.code == 1009


def test_closing_wakes_the_reader_of_a_silent_peer():
    """The server's close returns a receive() blocked on a peer that never writes."""
    ws, there = _server_and_client()
    outcome: list[str] = []

    def read() -> None:
        try:
            ws.receive()
        except simple_websocket.ConnectionClosed:
            outcome.append("closed")

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.2)
    ws.close()
    reader.join(5)
    assert outcome == ["closed"]
    (event,) = _client_events(there, Connection(ConnectionType.CLIENT))
    assert isinstance(event, CloseConnection) and event.code == 1000


def test_receive_ready_reads_what_came_and_never_waits():
    """A reader woken by the event loop takes the messages completed so far (none yet: an
    empty list at once, the socket left open), then learns that the peer has gone."""
    ws, there = _server_and_client(max_message=100_000)
    ws.sock.setblocking(False)
    assert ws.receive_ready() == []
    assert ws.connected
    client = Connection(ConnectionType.CLIENT)
    there.sendall(client.send(TextMessage(data="ab", message_finished=False)))
    assert ws.receive_ready() == []  # half a message
    there.sendall(client.send(TextMessage(data="c")))
    there.sendall(client.send(TextMessage(data="3")))
    assert ws.receive_ready() == ["abc", "3"]
    there.sendall(client.send(TextMessage(data="x" * 40_000)))  # more than one read
    assert ws.receive_ready() == ["x" * 40_000]
    there.close()
    assert ws.receive_ready() == []
    assert not ws.connected


def test_a_peer_that_writes_without_pause_is_read_a_share_at_a_time():
    """One wake of the event loop reads at most READS_A_WAKE x READ_SIZE bytes, so a viewer
    writing without pause cannot hold the node; the rest comes on the next wakes, in order."""
    from dashboard.live.transport import READ_SIZE, READS_A_WAKE

    ws, there = _server_and_client(max_message=100_000)
    ws.sock.setblocking(False)
    there.setblocking(False)
    client = Connection(ConnectionType.CLIENT)
    sent = [f"{i:04d}" + "x" * 996 for i in range(150)]
    backlog = b"".join(client.send(TextMessage(data=m)) for m in sent)
    got: list = []
    wakes = 0
    while len(got) < len(sent) and wakes < 200:
        if backlog:
            try:
                backlog = backlog[there.send(backlog) :]
            except BlockingIOError:
                pass
        taken = ws.receive_ready()
        assert sum(len(m) for m in taken) <= READS_A_WAKE * READ_SIZE
        got += taken
        wakes += 1
    assert got == sent
    assert wakes > 1


class _Client:
    """An Engine.IO socket as the service task sees it."""

    def __init__(self, sid: str, closed: bool = False, closing: bool = False) -> None:
        self.sid, self.closed, self.closing, self.checked = sid, closed, closing, 0

    def check_ping_timeout(self) -> bool:
        self.checked += 1
        if self.sid == "broken":
            raise RuntimeError("a client's trouble")
        return True


class _Server:
    """An Engine.IO server as the service task sees it: its clients, a stop event."""

    def __init__(self, clients: list[_Client], ping_timeout: float) -> None:
        self.sockets = {c.sid: c for c in clients}
        self.ping_timeout = ping_timeout
        self.logger = __import__("logging").getLogger("test")
        self.waits: list[float] = []

    def create_event(self) -> threading.Event:
        server = self

        class Stop(threading.Event):
            def wait(self, timeout: float | None = None) -> bool:
                server.waits.append(timeout or 0)
                if sum(server.waits) >= server.ping_timeout * 2:  # two whole rounds
                    self.set()
                return self.is_set()

        return Stop()


def test_the_service_task_checks_each_client_once_a_timeout_in_a_few_wake_ups():
    """1,000 clients and a 10 s ping timeout: every open client is checked once a round (a
    broken one does not stop the others), closed ones are forgotten, and the task wakes 40
    times a round (every 0.25 s), not once a client."""
    from dashboard.live.transport import service_clients

    clients = [_Client(f"c{i}") for i in range(997)]
    clients += [_Client("gone", closed=True), _Client("closing", closing=True)]
    clients += [_Client("broken")]
    server = _Server(clients, ping_timeout=10)
    service_clients(server, step_s=0.25)
    assert len(server.waits) == 80
    assert {c.checked for c in clients if not (c.closed or c.closing)} == {2}
    assert "gone" not in server.sockets
    assert server.sockets["closing"].checked == 0
