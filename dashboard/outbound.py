"""Every HTTP request the server makes (webhooks, pollers) goes through ``fetch``.

``dashboard.outbound_policy`` decides (schemes, addresses, redirects, the masked form); this
module does the I/O: it resolves the host once, connects to the checked address itself (sending
the original Host header, and for https the TLS SNI and certificate check against the host
name), never follows a redirect the policy does not allow, and reads the answer in chunks up to
``max_bytes`` and ``timeout_s`` for the whole exchange. No proxy from the environment is used:
the check must see the real destination.
"""

from __future__ import annotations

import base64
import functools
import http.client
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dashboard.outbound_policy import Policy, Refused, Resolver, Target, parse_url, pin
from dashboard.outbound_policy import redirect_target as _redirect_target

__all__ = [
    "Connector",
    "FetchError",
    "HTTPStatusError",
    "Policy",
    "Refused",
    "Response",
    "fetch",
    "pinned_connection",
    "system_resolver",
]

CHUNK = 65536
USER_AGENT = "dashboard"


class FetchError(Exception):
    """The answer broke a cap (size, time) or could not be read."""


@dataclass
class Response:
    """A whole answer: status, headers (lower-case names) and the body."""

    status_code: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def ok(self) -> bool:
        """A 2xx status."""
        return 200 <= self.status_code < 300

    def text(self) -> str:
        """The body as UTF-8 text (bad bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")


class HTTPStatusError(Exception):
    """A non-2xx answer (``response`` holds it)."""

    def __init__(self, response: Response) -> None:
        """The error for ``response``."""
        super().__init__(f"HTTP {response.status_code} {response.reason}".strip())
        self.response = response


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, as the system resolver orders them, once each."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for info in infos:
        seen.setdefault(str(info[4][0]), None)
    return list(seen)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a fixed address, whatever the Host header names."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        """A connection that will ask ``host`` but connect to ``address``."""
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        """Connect to the pinned address."""
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@functools.cache
def _default_tls() -> ssl.SSLContext:
    """The system's certificate authorities, host names checked (loaded once, shared)."""
    return ssl.create_default_context()


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to a fixed address; SNI and the certificate check use the host."""

    def __init__(
        self,
        host: str,
        port: int,
        address: str,
        timeout: float,
        context: ssl.SSLContext | None = None,
    ) -> None:
        """A connection that will ask ``host`` (and check its certificate, against the system's
        authorities unless ``context`` says otherwise) at ``address``."""
        self.tls = context or _default_tls()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.address = address

    def connect(self) -> None:
        """Connect to the pinned address and start TLS for the host name."""
        sock = socket.create_connection((self.address, self.port), self.timeout)
        try:
            self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


Connector = Callable[[Target, str, float], http.client.HTTPConnection]
"""``connect(target, address, timeout)``: an unopened connection to ``address`` for ``target``."""


def pinned_connection(target: Target, address: str, timeout: float) -> http.client.HTTPConnection:
    """The connection ``fetch`` uses: to ``address``, for ``target``'s host."""
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    return cls(target.host, target.port, address, timeout)


def fetch(
    url: str,
    *,
    policy: Policy,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    resolve: Resolver = system_resolver,
    connect: Connector = pinned_connection,
    clock: Callable[[], float] = time.monotonic,
) -> Response:
    """Send one request within ``policy``; the whole answer (any status).

    Raises ``Refused`` (scheme, address or redirect not allowed), ``FetchError`` (too large,
    too slow), ``ConnectionError`` (could not connect) or ``OSError`` (the exchange failed).
    """
    deadline = clock() + policy.timeout_s
    target = parse_url(url)
    for hops in range(policy.max_redirects + 1):
        response = _exchange(
            target, policy, method, headers, body, resolve, connect, deadline, clock
        )
        if not 300 <= response.status_code < 400 or "location" not in response.headers:
            return response
        target = _redirect_target(
            target, response.headers["location"], response.status_code, policy, hops
        )
        if response.status_code in (301, 302, 303) and method != "HEAD":
            method, body = "GET", None  # as browsers do
    raise Refused(f"more than {policy.max_redirects} redirects")  # pragma: no cover


def _exchange(
    target: Target,
    policy: Policy,
    method: str,
    headers: Mapping[str, str] | None,
    body: bytes | None,
    resolve: Resolver,
    connect: Connector,
    deadline: float,
    clock: Callable[[], float],
) -> Response:
    """One request and its answer, on a connection to the pinned address."""
    address = pin(target, policy, resolve)
    sent = {"User-Agent": USER_AGENT, "Connection": "close", **(headers or {})}
    if target.username is not None:
        pair = f"{target.username}:{target.password or ''}".encode()
        sent["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    conn = connect(target, address, _remaining(deadline, clock, policy))
    try:
        try:
            conn.connect()
        except TimeoutError:
            raise
        except OSError as exc:
            raise ConnectionError(str(exc)) from exc
        if conn.sock is not None:
            conn.sock.settimeout(_remaining(deadline, clock, policy))
        conn.request(method, target.path, body=body, headers=sent)
        answer = conn.getresponse()
        chunks: list[bytes] = []
        size = 0
        while True:
            if conn.sock is not None:
                conn.sock.settimeout(_remaining(deadline, clock, policy))
            chunk = answer.read1(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > policy.max_bytes:
                raise FetchError(f"answer larger than {policy.max_bytes} bytes")
            chunks.append(chunk)
        return Response(
            answer.status,
            answer.reason or "",
            {k.lower(): v for k, v in answer.getheaders()},
            b"".join(chunks),
        )
    finally:
        conn.close()


def _remaining(deadline: float, clock: Callable[[], float], policy: Policy) -> float:
    """Seconds left of the exchange; FetchError when none are."""
    left = deadline - clock()
    if left <= 0:
        raise FetchError(f"no complete answer within {policy.timeout_s:g} s")
    return left
