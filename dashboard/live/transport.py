"""What a live viewer's websocket costs the node: one file descriptor, no compressor, one
encoding of a room's message for all its viewers, and one greenlet.

Engine.IO serves websockets on gevent through simple-websocket, which (a) duplicates the
connection's socket, so each viewer holds two file descriptors and 10,000 viewers need more
than 20,000, (b) accepts every offer of permessage-deflate (browsers always make one), so
each viewer holds a zlib compressor of ~256 KB and every message is compressed once per viewer,
and (c) frames each message per viewer after a trip through that viewer's queue and writer
greenlet. And a viewer held four greenlets, each with its saved stack: the request's handler,
simple-websocket's reader, Engine.IO's writer and Engine.IO's ping timer, asleep most of the
time. Here the request ends once the websocket is open: the websocket keeps the connection
(``ReaderlessWebSocket.take_socket``) and is read by a greenlet the event loop starts when
bytes come (``Listener``), packets go out through a ``WriteQueue`` whose writer lives only
while packets wait, and the next ping waits on a libev timer (``use_ping_timers``): an idle
viewer holds no greenlet. ``bench/viewers.py`` measured each (docs/viewers.md).
"""

from __future__ import annotations

import io
import socket
import time
from collections import deque
from typing import Any

import simple_websocket
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    Request,
    TextMessage,
)
from wsproto.frame_protocol import CloseReason
from wsproto.utilities import LocalProtocolError, RemoteProtocolError


def without_websocket_compression(app: Any) -> Any:
    """``app`` behind a WSGI layer that hides a websocket's offer of permessage-deflate: a
    ``points`` message is a few KB, sent as is to every viewer of its room."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return app(environ, start_response)

    return wsgi


READ_SIZE = 16384  # bytes a websocket read asks for: a viewer's messages are a few dozen
READS_A_WAKE = 4  # reads at most each time the event loop says a websocket has bytes


def connection_socket(environ: dict[str, Any]) -> Any:
    """The socket of gevent's WSGI request (where simple-websocket finds it, not a duplicate)."""
    wsgi_input = environ["wsgi.input"]
    if not hasattr(wsgi_input, "raw") and hasattr(wsgi_input, "rfile"):
        wsgi_input = wsgi_input.rfile
    return wsgi_input.raw._sock


def text_frame(text: str) -> bytes:
    """A complete, unmasked websocket text frame (a server's) carrying ``text``."""
    data = text.encode()
    n = len(data)
    if n < 126:
        head = bytes((0x81, n))
    elif n < 1 << 16:
        head = bytes((0x81, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + n.to_bytes(8, "big")
    return head + data


class ReaderlessWebSocket:
    """A server websocket on the request's own socket, read by whoever wants a message (the
    upgrade's handshake) or what has come (a ``Listener``): the part of
    ``simple_websocket.Server`` Engine.IO uses, without its reader thread (a greenlet a
    viewer, with its saved stack, asleep in ``recv``).

    ``writing`` is held while bytes are written (by any greenlet), so frames never interleave.
    A message longer than ``max_message`` bytes closes the connection (1009).
    """

    mode = "gevent"

    def __init__(self, environ: dict[str, Any], max_message: int) -> None:
        """Answer the handshake of ``environ``'s request (no extension: no compression)."""
        from gevent.lock import Semaphore

        self.sock = connection_socket(environ)
        self.writing = Semaphore()
        self.max_message = max_message
        self.conn: Any = WSConnection(ConnectionType.SERVER)
        self.connected = True
        self._inbox: list[str | bytes] = []
        self._parts: list[str | bytes] = []
        self._size = 0
        request = [b"GET / HTTP/1.1"]
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                header = "-".join(p.capitalize() for p in key[5:].split("_"))
                request.append(f"{header}: {value}".encode())
        self.conn.receive_data(b"\r\n".join(request) + b"\r\n\r\n")
        self._handle_events()
        if self.conn.connection is not None:  # open: keep its frames, not the HTTP handshake
            self.conn = self.conn.connection

    def receive(self) -> str | bytes:
        """The next message; ``simple_websocket.ConnectionClosed`` once the peer has gone."""
        while not self._inbox and self.connected:
            try:
                data = self.sock.recv(4096)
            except OSError:
                data = b""
            self._take(data)
        if self._inbox:
            return self._inbox.pop(0)
        raise simple_websocket.ConnectionClosed()

    def receive_ready(self) -> list[str | bytes]:
        """The messages completed by what has arrived, read without waiting (``connected`` is
        False once the peer has gone): for a reader woken by the event loop."""
        raw = getattr(self.sock, "_sock", self.sock)  # gevent's socket: the OS one under it
        for _ in range(READS_A_WAKE):  # a peer that never stops writing waits for its turn
            if not self.connected:
                break
            try:
                data = raw.recv(READ_SIZE)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            self._take(data)
        messages, self._inbox = self._inbox, []
        return messages

    def take_socket(self) -> None:
        """Hold the connection in a socket object of its own: the request's lets go of the file
        descriptor (detached), so the request can end, its handler closing nothing that is
        still in use, while the websocket stays open. A plain TCP connection: ``dashboard
        serve`` speaks no TLS (it ends at the proxy), and a TLS socket's state would not
        survive the detach."""
        from gevent import socket as gevent_socket

        old = self.sock
        family, kind, proto = old.family, old.type, old.proto
        self.sock = gevent_socket.socket(family, kind, proto, fileno=old.detach())

    def _take(self, data: bytes) -> None:
        """Act on ``data`` read off the socket (nothing: the peer has gone)."""
        if not data:
            self.connected = False
            return
        try:
            self.conn.receive_data(data)
        except LocalProtocolError:
            self.connected = False
            return
        self._handle_events()

    def send(self, data: str | bytes) -> None:
        """Send one message (text for a ``str``)."""
        if not self.connected:
            raise simple_websocket.ConnectionClosed()
        event = Message(data=data) if isinstance(data, bytes) else TextMessage(data=data)
        self._write(self.conn.send(event))

    def close(self, reason: int | None = None, message: str | None = None) -> None:
        """Say goodbye, and wake the greenlet waiting in :meth:`receive`."""
        if not self.connected:
            raise simple_websocket.ConnectionClosed()
        self.connected = False
        try:
            self._write(self.conn.send(CloseConnection(reason or CloseReason.NORMAL_CLOSURE)))
        except LocalProtocolError:
            pass
        try:
            self.sock.shutdown(socket.SHUT_RD)  # a peer that never answers: receive() returns
        except OSError:
            pass

    def _write(self, data: bytes) -> None:
        """Write bytes whole, after any frame being written."""
        if data:
            with self.writing:
                try:
                    self.sock.sendall(data)
                except OSError:
                    self.connected = False

    def _handle_events(self) -> None:
        """Act on what the peer sent: the handshake, pings, closing, message parts."""
        for event in self.conn.events():
            if isinstance(event, Request):
                self._write(self.conn.send(AcceptConnection()))
            elif isinstance(event, CloseConnection):
                self.connected = False
                try:
                    self._write(self.conn.send(event.response()))
                except LocalProtocolError:
                    pass
                try:
                    self.sock.shutdown(socket.SHUT_RD)
                except OSError:
                    pass
                return
            elif isinstance(event, Ping):
                self._write(self.conn.send(event.response()))
            elif isinstance(event, (TextMessage, BytesMessage)):
                self._size += len(event.data)
                if self._size > self.max_message:
                    self.close(CloseReason.MESSAGE_TOO_BIG)
                    return
                self._parts.append(event.data)
                if event.message_finished:
                    parts, self._parts, self._size = self._parts, [], 0
                    joined = parts[0] if len(parts) == 1 else parts[0][:0].join(parts)
                    self._inbox.append(joined)


class WriteQueue:
    """The outgoing packets of one websocket viewer, in place of Engine.IO's queue and its
    writer greenlet: a packet put is written by a greenlet that lives only while packets wait
    (a viewer's pings and replies come seconds apart: most of the time none does). ``None``
    closes the websocket after what waits before it. ``qsize`` is what waits, as a stalled
    viewer's measure."""

    def __init__(self, frames: Any, pending: Any) -> None:
        """Write through ``frames`` (the ``SingleSocketWebSocket``), first what ``pending``
        (the queue this replaces) still holds."""
        from gevent.event import Event

        self.frames = frames
        self.waiting: deque[Any] = deque()
        self.writer: Any = None
        self.idle = Event()
        self.idle.set()
        while not pending.empty():
            self.put(pending.get_nowait())
            pending.task_done()

    def put(self, pkt: Any, block: bool = True, timeout: float | None = None) -> None:
        """Queue ``pkt`` to be written (``None``: close after the rest)."""
        self.waiting.append(pkt)
        if self.writer is None:
            import gevent

            self.idle.clear()
            self.writer = gevent.spawn(self._write)

    def _write(self) -> None:
        """Write what waits, one packet after another, then end."""
        frames = self.frames
        try:
            while self.waiting:
                pkt = self.waiting.popleft()
                if pkt is None:
                    if frames.ws.connected:
                        frames.ws.close()
                    self.waiting.clear()
                    break
                frames.send(pkt.encode())
        except OSError:  # the peer went: its reader ends the session
            self.waiting.clear()
        finally:
            self.writer = None
            self.idle.set()

    def join(self) -> None:
        """Wait until everything put has been written."""
        self.idle.wait()

    def empty(self) -> bool:
        """Nothing waits to be written."""
        return not self.waiting

    def qsize(self) -> int:
        """The packets waiting to be written."""
        return len(self.waiting)


class Listener:
    """Reads a viewer's websocket when the event loop says bytes have come, in a greenlet that
    lives only while they are handled: an idle viewer holds no greenlet (each held its
    request's, asleep in ``recv`` with a saved stack of ~5.5 KB), only this watcher. One
    reader at a time, so a viewer's messages are handled in the order sent. Once the peer
    has gone (or its websocket was closed, which shuts the socket's reading side), what waits
    is written, the Engine.IO session closes and so does the socket."""

    def __init__(self, frames: Any, eio_socket: Any) -> None:
        """Listen on ``frames``' websocket (``take_socket`` done) for ``eio_socket``."""
        import gevent

        self.frames = frames
        self.eio_socket = eio_socket
        self.watcher = gevent.get_hub().loop.io(frames.ws.sock.fileno(), 1)  # 1: readable
        self.watcher.start(self._readable)

    def _readable(self) -> None:
        """In the event loop: bytes (or the end) have come; a greenlet reads them."""
        import gevent

        self.watcher.stop()
        gevent.spawn(self._read)

    def _read(self) -> None:
        """Hand each message that has come to the session; listen again, or end."""
        ws, s = self.frames.ws, self.eio_socket
        try:
            going = all(self._deliver(message) for message in ws.receive_ready())
        except Exception:  # never leave a viewer unheard and unclosed
            s.server.logger.exception("websocket read failed")
            going = False
        if going and ws.connected:
            self.watcher.start(self._readable)
        else:
            self._end()

    def _deliver(self, received: str | bytes) -> bool:
        """Engine.IO's handling of one message; False when the session is over."""
        from engineio import exceptions
        from engineio import packet as eio_packet

        s = self.eio_socket
        if len(received) > s.server.max_http_buffer_size:
            return False
        try:
            s.receive(eio_packet.Packet(encoded_packet=received))
        except exceptions.UnknownPacketError:
            pass
        except exceptions.SocketIsClosedError:
            return False
        except Exception:
            s.server.logger.exception("Unknown receive error")
            return False
        return True

    def _end(self) -> None:
        """What waits goes out, then the session and the socket close."""
        s = self.eio_socket
        self.watcher.close()
        try:
            s.queue.put(None)
            s.queue.join()
            s.close(wait=False, abort=True, reason=s.server.reason.TRANSPORT_CLOSE)
        finally:
            self.frames.ws.sock.close()
            self.frames.listener = None


def single_socket(base: type) -> type:
    """Engine.IO's gevent websocket class ``base``, on the request's own socket, read without
    a reader greenlet (``ReaderlessWebSocket``), which can also take a frame encoded once for
    a whole room (``send_frame``)."""

    class SingleSocketWebSocket(base):
        """The websocket uses the connection's socket. Once it is open the request ends: the
        websocket holds the descriptor in a socket of its own (the request's handler closes
        nothing then), its ``Listener`` reads it and closes it when the session ends.

        Its Engine.IO socket's ``frames`` is this object. Its websocket's ``writing`` is held
        while a frame is being written, by the socket's writer greenlet, by ``send_frame`` or
        by the websocket's own answers, so frames never interleave.
        """

        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            eio_socket = getattr(self.app, "__self__", None)  # the handler is a bound method
            limit = getattr(getattr(eio_socket, "server", None), "max_http_buffer_size", None)
            try:
                self.ws = ReaderlessWebSocket(environ, int(limit or 1_000_000))
            except RemoteProtocolError as exc:  # a malformed upgrade: the client's fault
                if eio_socket is not None:
                    eio_socket.close(wait=False, abort=True)
                start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8")])
                return [f"bad websocket handshake: {exc}".encode()]
            self.writing = self.ws.writing
            self.environ = environ
            if eio_socket is None:
                return self.app(self)
            eio_socket.frames = self
            return self._serve(eio_socket)

        def _serve(self, s: Any) -> list:
            """Engine.IO's ``Socket._websocket_handler`` (the upgrade from polling, then each
            packet received), without its writer greenlet (the socket's packets go out through
            a ``WriteQueue``) and without waiting for packets in the request: a ``Listener``
            hands them to the session as they come."""
            from engineio import packet as eio_packet

            server = s.server

            def wait() -> Any:
                """The next message (None once the peer has gone)."""
                data = self.wait()
                if data and len(data) > server.max_http_buffer_size:
                    raise ValueError("packet is too large")
                return data

            if s.connected:  # an upgrade from polling: the probe, then the upgrade packet
                s.upgrading = True
                probe = eio_packet.Packet(encoded_packet=wait())
                if probe.packet_type != eio_packet.PING or probe.data != "probe":
                    s.upgrading = False
                    return []
                self.ws.send(eio_packet.Packet(eio_packet.PONG, data="probe").encode())
                s.queue.put(eio_packet.Packet(eio_packet.NOOP))  # ends the pending poll
                if eio_packet.Packet(encoded_packet=wait()).packet_type != eio_packet.UPGRADE:
                    s.upgraded = s.upgrading = False
                    return []
                s.upgraded, s.upgrading = True, False
            else:
                s.connected = s.upgraded = True
            s.queue = WriteQueue(self, s.queue)
            # the request ends here; the event loop wakes a reader when the viewer writes
            self.environ["wsgi.input"] = io.BytesIO()  # the handshake has no body to read
            try:
                self.ws.take_socket()
                self.listener = Listener(self, s)
            except OSError:  # the connection went in the meantime (the node stopping)
                self.ws.connected = False
                self.ws.sock.close()
                s.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)
            return []

        def send(self, message: Any) -> Any:
            """The writer greenlet's send (Engine.IO's queue, one packet after another)."""
            try:
                return self.ws.send(message)
            except simple_websocket.ConnectionClosed:
                raise OSError() from None

        def send_frame(self, frame: bytes, eio_socket: Any) -> bool:
            """Write ``frame`` now, from the caller's greenlet, when nothing is queued or being
            written before it: True if it went (or its tail is going), False to queue it."""
            if (
                self.writing.locked()
                or not eio_socket.upgraded
                or not eio_socket.queue.empty()
                or not self.ws.connected
            ):
                return False
            try:
                sent = self.ws.sock._sock.send(frame)  # the OS socket: never waits
            except OSError:  # full (BlockingIOError) or gone: the queue's way handles both
                return False
            if sent < len(frame):
                import gevent

                self.writing.acquire()
                gevent.spawn(self._finish, frame[sent:])
            return True

        def _finish(self, rest: bytes) -> None:
            """Write the tail of a frame the socket took only part of, then let others write."""
            try:
                self.ws.sock.sendall(rest)
            except OSError:
                pass  # the peer went: its reader ends the session
            finally:
                self.writing.release()

    return SingleSocketWebSocket


def send_to_room(
    server: Any, namespace: str, room: str, event: str, data: Any, max_queued: int
) -> int:
    """``server.manager.emit(event, data, room=room)`` on this node only (never through a
    message queue), in one pass over the room's viewers; the viewers with more than
    ``max_queued`` packets waiting are skipped (stalled: the next message's ``prev`` shows
    them the gap when they drain); returns how many were skipped. The Socket.IO packet, the
    Engine.IO packet and the websocket frame are encoded once for the room, and each websocket
    viewer with nothing queued gets the frame written at once: no queue, no writer greenlet
    switch and no wsproto per viewer."""
    from engineio import packet as eio_packet
    from socketio import packet as sio_packet

    sockets = server.eio.sockets
    participants = list(server.manager.get_participants(namespace, room))
    encoded = server.packet_class(
        sio_packet.EVENT, namespace=namespace, data=[event, data]
    ).encode()
    if not isinstance(encoded, str):  # binary attachments: several packets
        skip = [sid for sid, eio_sid in participants if _stalled(sockets.get(eio_sid), max_queued)]
        server.manager.emit(
            event, data, namespace=namespace, room=room, skip_sid=skip, ignore_queue=True
        )
        return len(skip)
    pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded)
    frame = text_frame(pkt.encode())
    skipped = 0
    for _, eio_sid in participants:
        eio_socket = sockets.get(eio_sid)
        frames = getattr(eio_socket, "frames", None)
        if frames is not None and frames.send_frame(frame, eio_socket):
            continue  # written at once: nothing was queued
        if _stalled(eio_socket, max_queued):
            skipped += 1
            continue
        server._send_eio_packet(eio_sid, pkt)
    return skipped


def _stalled(eio_socket: Any, max_queued: int) -> bool:
    """True when a viewer has more than ``max_queued`` packets waiting to be sent."""
    queue = getattr(eio_socket, "queue", None)
    return queue is not None and queue.qsize() > max_queued


def use_ping_timers(eio: Any) -> bool:
    """Make an Engine.IO server on gevent wait for each socket's next ping on a libev timer,
    not in a greenlet asleep for the whole ping interval (one of the four greenlets a viewer
    held, each with its saved stack: ``bench/viewers.py`` measures the memory per viewer);
    False (nothing changed) on any other stack."""
    if eio.async_mode != "gevent":
        return False
    from engineio import socket as eio_socket

    eio.ping_timers = True
    eio._service_task = lambda: service_clients(eio)  # started with the first request
    if getattr(eio_socket.Socket.schedule_ping, "__name__", "") != "_schedule_ping":
        original = eio_socket.Socket.schedule_ping

        def _schedule_ping(self: Any) -> None:
            """Engine.IO's ``schedule_ping``: the next ping once the interval has passed
            (only after the previous one was answered), on a timer where the server asks."""
            if not getattr(self.server, "ping_timers", False):
                original(self)
                return
            if self.last_ping:
                self.last_ping = None
                import gevent

                timer = gevent.get_hub().loop.timer(self.server.ping_interval)
                self.ping_timer = timer  # held by its socket while it waits
                timer.start(_ping_due, self)

        eio_socket.Socket.schedule_ping = _schedule_ping
    return True


PING_FRAME = text_frame("2")  # Engine.IO's ping, as a websocket frame


def _ping_due(eio_socket: Any) -> None:
    """A socket's ping interval has passed (in the event loop): write the ping frame straight
    to a websocket with nothing queued (no greenlet, no framing: at 10,000 viewers a ping a
    viewer every 10 s through two greenlets and wsproto cost the node more than the points),
    else send it from a greenlet of its own, which ends once the ping is queued."""
    import gevent

    timer, eio_socket.ping_timer = eio_socket.ping_timer, None
    if timer is not None:
        timer.close()
    frames = getattr(eio_socket, "frames", None)
    if frames is not None and not eio_socket.closing and not eio_socket.closed:
        eio_socket.last_ping = time.time()
        if frames.send_frame(PING_FRAME, eio_socket):
            return
    gevent.spawn(_ping_now, eio_socket)


def service_clients(server: Any, step_s: float = 0.25) -> None:
    """Engine.IO's ``_service_task`` (each client's ping timeout checked, the closed ones
    forgotten, all of them once a ping timeout), waking every ``step_s`` for a slice of the
    clients instead of once a client: at 10,000 clients and a 10 s timeout that was a
    wake-up every millisecond."""
    server.service_task_event = server.create_event()
    while not server.service_task_event.is_set():
        clients = list(server.sockets.values())
        steps = max(1, int(server.ping_timeout / step_s))
        size = max(1, -(-len(clients) // steps))
        for start in range(0, max(len(clients), 1), size):
            for s in clients[start : start + size]:
                try:
                    if s.closed:
                        server.sockets.pop(s.sid, None)
                    elif not s.closing:
                        s.check_ping_timeout()
                except Exception:  # one client's trouble never stops the others' checks
                    server.logger.exception("service task exception")
            if server.service_task_event.wait(timeout=step_s):
                return


def _ping_now(eio_socket: Any) -> None:
    """What Engine.IO's ``_send_ping`` does after its sleep."""
    from engineio import packet as eio_packet

    if not eio_socket.closing and not eio_socket.closed:
        eio_socket.last_ping = time.time()
        eio_socket.send(eio_packet.Packet(eio_packet.PING))


def use_single_socket(eio: Any) -> bool:
    """Make an Engine.IO server on gevent + simple-websocket give each websocket one file
    descriptor; False (nothing changed) on any other stack."""
    base = eio._async.get("websocket")
    if eio.async_mode != "gevent" or not (
        isinstance(base, type) and issubclass(base, SimpleWebSocketWSGI)
    ):
        return False
    if getattr(base, "__name__", "") == "SingleSocketWebSocket":
        return True
    eio._async = {**eio._async, "websocket": single_socket(base)}
    return True
