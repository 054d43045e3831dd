"""``dashboard.outbound.fetch`` against local servers: pinning, Host header, redirects, caps."""

from __future__ import annotations

import base64
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dashboard import outbound
from dashboard.outbound import FetchError, HTTPStatusError, Policy, Refused, fetch
from ingest.pollers import http_getter


class _Handler(BaseHTTPRequestHandler):
    """Answers by path; records each request's Host and Authorization headers."""

    seen: list[tuple[str, str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        """One answer per path."""
        type(self).seen.append(
            (self.path, self.headers.get("Host", ""), self.headers.get("Authorization", ""))
        )
        if self.path == "/meta":
            self._send(302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})
        elif self.path == "/moved":
            self._send(301, b"", {"Location": "/ok"})
        elif self.path == "/loop":
            self._send(302, b"", {"Location": "/loop"})
        elif self.path == "/big":
            self._send(200, b"x" * 200_000)
        elif self.path == "/fail":
            self._send(500, b"oops")
        else:
            self._send(200, b"hello")

    do_POST = do_GET  # noqa: N815

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        """Answer ``status`` with ``body``."""
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        """Quiet."""


@pytest.fixture
def server() -> Iterator[int]:
    """A local HTTP server; its port."""
    _Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()
    httpd.server_close()


class Recorder:
    """A connector that records the address it was asked for and connects to the local server
    instead (standing in for the public address the resolver gave)."""

    def __init__(self, port: int) -> None:
        """Connect every request to 127.0.0.1:``port``."""
        self.port = port
        self.addresses: list[str] = []

    def __call__(self, target, address: str, timeout: float) -> http.client.HTTPConnection:
        """The pinned connection, redirected to the local server's socket."""
        self.addresses.append(address)
        conn = outbound._PinnedHTTPConnection(target.host, target.port, "127.0.0.1", timeout)
        conn.port = self.port  # the socket goes to the test server; Host stays the target's
        return conn


def test_the_connection_goes_to_the_pinned_address_with_the_original_host(server):
    """A name resolved (by an injected resolver) to 127.0.0.1 is connected there, asking for
    the name: the server sees ``Host: hooks.example.com:<port>``."""
    policy = Policy(allow_private=True)
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    response = fetch(f"http://hooks.example.com:{server}/ok", policy=policy, resolve=resolve)
    assert response.status_code == 200 and response.text() == "hello"
    assert asked == ["hooks.example.com"]
    assert _Handler.seen == [("/ok", f"hooks.example.com:{server}", "")]


def test_dns_rebinding_connects_to_the_first_checked_address_and_never_resolves_again(server):
    """First answer public, any later one private: one resolution, the public address used."""
    answers = iter([["93.184.216.34"], ["127.0.0.1"], ["127.0.0.1"]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    connect = Recorder(server)
    response = fetch(
        f"http://rebind.example:{server}/ok", policy=Policy(), resolve=rebinding, connect=connect
    )
    assert response.text() == "hello"
    assert calls == ["rebind.example"] and connect.addresses == ["93.184.216.34"]


def test_a_redirect_to_the_metadata_address_fails_saying_where(server):
    """A webhook's 302 to 169.254.169.254 is not followed: one request, a refusal naming it."""
    connect = Recorder(server)
    with pytest.raises(Refused, match=r"169\.254\.169\.254.*not followed"):
        fetch(
            f"http://hooks.example.com:{server}/meta",
            policy=Policy(),
            resolve=lambda h, p: ["93.184.216.34"],
            connect=connect,
        )
    assert connect.addresses == ["93.184.216.34"]
    assert [p for p, _, _ in _Handler.seen] == ["/meta"]
    # a poller's policy follows same-origin hops only: the metadata address is another origin
    with pytest.raises(Refused, match="another origin"):
        fetch(f"http://127.0.0.1:{server}/meta", policy=Policy(allow_private=True, max_redirects=3))


def test_a_same_origin_redirect_is_followed_when_allowed_and_loops_end(server):
    """Pollers follow ``/moved`` -> ``/ok`` on the same origin; a loop stops at the limit."""
    policy = Policy(allow_private=True, max_redirects=3)
    assert fetch(f"http://127.0.0.1:{server}/moved", policy=policy).text() == "hello"
    with pytest.raises(Refused, match="more than 3 redirects"):
        fetch(f"http://127.0.0.1:{server}/loop", policy=policy)


def test_loopback_in_any_form_is_refused_before_connecting(server):
    """Decimal, octal, IPv6 and mapped forms of loopback never reach a socket by default."""
    connect = Recorder(server)
    for host in ("2130706433", "0177.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "localhost"):
        with pytest.raises(Refused):
            fetch(f"http://{host}:{server}/ok", policy=Policy(), connect=connect)
    assert connect.addresses == [] and _Handler.seen == []


def test_the_size_cap_stops_reading(server):
    """An answer over ``max_bytes`` is a FetchError, not a 200."""
    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        fetch(f"http://127.0.0.1:{server}/big", policy=Policy(allow_private=True, max_bytes=1000))


def test_the_time_cap_covers_the_whole_exchange():
    """A server that drips its answer a byte at a time is cut off at ``timeout_s`` in all."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def drip() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        while not stop.is_set():
            try:
                conn.sendall(b"x")
            except OSError:
                break
            time.sleep(0.02)
        conn.close()

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    started = time.monotonic()
    with pytest.raises((FetchError, TimeoutError)):
        fetch(f"http://127.0.0.1:{port}/", policy=Policy(allow_private=True, timeout_s=0.5))
    assert time.monotonic() - started < 2.0
    stop.set()
    thread.join(timeout=2)
    listener.close()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/", "gopher://x:70/"])
def test_other_schemes_are_refused(url):
    """Only http(s), even with private addresses allowed."""
    with pytest.raises(Refused, match="scheme"):
        fetch(url, policy=Policy(allow_private=True))


def test_the_poll_getter_sends_credentials_and_raises_on_an_error_status(server):
    """A poll target's ``user:pass@`` becomes basic auth; a 500 is HTTPStatusError."""
    get = http_getter(timeout=5, max_bytes=1000)
    assert get(f"http://scraper:s%40cret@127.0.0.1:{server}/ok", "text/plain") == "hello"
    expected = "Basic " + base64.b64encode(b"scraper:s@cret").decode()
    assert _Handler.seen[-1] == ("/ok", f"127.0.0.1:{server}", expected)
    with pytest.raises(HTTPStatusError) as info:
        get(f"http://127.0.0.1:{server}/fail", "text/plain")
    assert info.value.response.status_code == 500
    with pytest.raises(FetchError):
        get(f"http://127.0.0.1:{server}/big", "text/plain")


def _certificate(tmp_path, name: str) -> tuple[str, str]:
    """A self-signed certificate for ``name`` and its key, as PEM files."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_https_to_a_pinned_address_checks_sni_and_the_certificate_against_the_host(tmp_path):
    """Connected to 127.0.0.1, TLS still names and verifies ``hooks.example.com``: the server
    sees that SNI, and a host the certificate does not name fails verification."""
    import ssl

    cert, key = _certificate(tmp_path, "hooks.example.com")
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_tls.sni_callback = lambda sock, name, ctx: names.append(name)
    _Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.socket = server_tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    port = httpd.server_port
    client_tls = ssl.create_default_context(cafile=cert)
    try:

        def connect(target, address: str, timeout: float) -> http.client.HTTPConnection:
            return outbound._PinnedHTTPSConnection(
                target.host, target.port, address, timeout, context=client_tls
            )

        response = fetch(
            f"https://hooks.example.com:{port}/ok",
            policy=Policy(allow_private=True),
            resolve=lambda h, p: ["127.0.0.1"],
            connect=connect,
        )
        assert response.text() == "hello" and names == ["hooks.example.com"]
        assert _Handler.seen == [("/ok", f"hooks.example.com:{port}", "")]
        with pytest.raises(ConnectionError, match="CERTIFICATE_VERIFY_FAILED|match"):
            fetch(
                f"https://other.example:{port}/ok",
                policy=Policy(allow_private=True),
                resolve=lambda h, p: ["127.0.0.1"],
                connect=connect,
            )
    finally:
        httpd.shutdown()
        httpd.server_close()
