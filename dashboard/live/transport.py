"""What a live viewer's websocket costs the node: one file descriptor, no compressor, and one
encoding of a room's message for all its viewers.

Engine.IO serves websockets on gevent through simple-websocket, which (a) duplicates the
connection's socket, so each viewer holds two file descriptors and 10,000 viewers need more
than 20,000, (b) accepts every offer of permessage-deflate (browsers always make one), so
each viewer holds a zlib compressor of ~256 KB and every message is compressed once per viewer,
and (c) frames each message per viewer after a trip through that viewer's queue and writer
greenlet. ``bench/viewers.py`` measured each (docs/viewers.md).
"""

from __future__ import annotations

import time
from typing import Any

import simple_websocket
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI


def without_websocket_compression(app: Any) -> Any:
    """``app`` behind a WSGI layer that hides a websocket's offer of permessage-deflate: a
    ``points`` message is a few KB, sent as is to every viewer of its room."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return app(environ, start_response)

    return wsgi


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


def single_socket(base: type) -> type:
    """Engine.IO's gevent websocket class ``base``, on the request's own socket, which can
    also take a frame encoded once for a whole room (``send_frame``)."""

    class SingleSocketWebSocket(base):
        """The websocket uses the connection's socket; gevent's handler closes it at the end as
        for any request (simple-websocket closes it too when the peer goes).

        Its Engine.IO socket's ``frames`` is this object. ``writing`` is held while a frame is
        being written, by the socket's writer greenlet or by ``send_frame``, so frames never
        interleave.
        """

        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            from gevent.lock import Semaphore

            own = {**environ, "werkzeug.socket": connection_socket(environ)}
            self.ws = simple_websocket.Server(own, **self.server_args)
            self.writing = Semaphore()
            eio_socket = getattr(self.app, "__self__", None)  # the handler is a bound method
            if eio_socket is not None:
                eio_socket.frames = self
            return self.app(self)

        def send(self, message: Any) -> Any:
            """The writer greenlet's send (Engine.IO's queue, one packet after another)."""
            with self.writing:
                return super().send(message)

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


def _ping_due(eio_socket: Any) -> None:
    """A socket's ping interval has passed (in the event loop): send the ping from a greenlet
    of its own, which ends once the ping is queued."""
    import gevent

    timer, eio_socket.ping_timer = eio_socket.ping_timer, None
    if timer is not None:
        timer.close()
    gevent.spawn(_ping_now, eio_socket)


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
