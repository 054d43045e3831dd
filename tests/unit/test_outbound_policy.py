"""Where the server may fetch from: schemes, address forms and classes, rebinding, redirects."""

from __future__ import annotations

import ipaddress

import pytest

from dashboard.outbound_policy import (
    Policy,
    Refused,
    Target,
    address_refusal,
    mask_url,
    parse_literal,
    parse_url,
    pin,
    redirect_target,
)

PUBLIC = Policy()
PRIVATE_OK = Policy(allow_private=True)


@pytest.mark.parametrize(
    "host",
    ["2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.1", "017700000001", "127.0.0.1"],
)
def test_every_numeric_form_of_loopback_is_recognised(host):
    """Decimal, octal, hex and short forms are the address they stand for, not a name."""
    assert parse_literal(host) == ipaddress.IPv4Address("127.0.0.1")
    target = parse_url(f"http://{host}:8080/x")
    assert target.literal == ipaddress.IPv4Address("127.0.0.1") and target.host == "127.0.0.1"


@pytest.mark.parametrize("host", ["08.0.0.1", "256.0.0.1", "1.2.3.4.5", "0x100.0.0.1"])
def test_numbers_that_make_no_address_are_refused_not_resolved(host):
    """Numeric text that is no address is refused (a resolver might read it otherwise)."""
    if host == "1.2.3.4.5":
        assert parse_literal(host) is None  # five parts: not an address form at all
        return
    with pytest.raises(Refused):
        parse_literal(host)


def test_names_are_not_literals():
    """A host name (even one with digits) is resolved, not parsed as an address."""
    for host in ("hooks.slack.com", "1e100.net", "x1.example", "localhost"):
        assert parse_literal(host) is None


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/x",
        "gopher://example.com:70/_x",
        "dict://example.com:11211/stat",
        "javascript:alert(1)",
        "//example.com/x",
        "example.com/x",
        "http:///nohost",
        "http://example.com:99999/",
        "http://example.com/a b",
        "http://example.com/a\r\nX-Injected: 1",
    ],
)
def test_other_schemes_and_broken_urls_are_refused(url):
    """Only http and https with a host and a valid port."""
    with pytest.raises(Refused):
        parse_url(url)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    ],
)
def test_addresses_inside_the_network_are_refused(address):
    """Every class of non-public address, in every IPv6 form that carries an IPv4 one."""
    assert address_refusal(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34"]
)
def test_public_addresses_pass(address):
    """Public addresses (also mapped into IPv6) may be called."""
    assert address_refusal(ipaddress.ip_address(address)) is None


def test_ipv6_loopback_and_mapped_forms_in_urls_are_refused():
    """``[::1]`` and ``[::ffff:127.0.0.1]`` are literals: refused without any resolution."""
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["93.184.216.34"]

    for url in ("http://[::1]:8080/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/"):
        with pytest.raises(Refused, match="loopback"):
            pin(parse_url(url), PUBLIC, resolve)
    assert calls == []


def test_decimal_and_octal_hosts_are_refused_without_resolving():
    """``http://2130706433/`` and ``http://0177.0.0.1/`` are loopback, whatever DNS says."""
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["93.184.216.34"]

    for url in ("http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/"):
        with pytest.raises(Refused, match="127.0.0.1, a loopback address"):
            pin(parse_url(url), PUBLIC, resolve)
    assert calls == []
    assert pin(parse_url("http://2130706433/"), PRIVATE_OK, resolve) == "127.0.0.1"


def test_every_answer_is_checked_and_the_first_is_pinned():
    """A name that resolves to a public and a private address is refused; else the first wins."""
    target = parse_url("https://hooks.example.com/x")
    with pytest.raises(Refused, match="10.0.0.5"):
        pin(target, PUBLIC, lambda host, port: ["93.184.216.34", "10.0.0.5"])
    assert pin(target, PUBLIC, lambda h, p: ["93.184.216.34", "93.184.216.35"]) == "93.184.216.34"
    with pytest.raises(Refused, match="cannot resolve"):
        pin(target, PUBLIC, lambda h, p: (_ for _ in ()).throw(OSError("no such host")))
    with pytest.raises(Refused, match="no address"):
        pin(target, PUBLIC, lambda h, p: [])


def test_dns_rebinding_cannot_move_the_connection():
    """First answer public, second private: pin resolves once and returns the checked address."""
    answers = [["93.184.216.34"], ["127.0.0.1"]]
    asked: list[tuple[str, int]] = []

    def rebinding(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return answers[len(asked) - 1]

    address = pin(parse_url("https://evil.example/hook"), PUBLIC, rebinding)
    assert address == "93.184.216.34" and asked == [("evil.example", 443)]


def test_a_redirect_to_the_metadata_address_is_refused_under_both_policies():
    """Webhooks follow no redirect; pollers follow none to another origin."""
    here = parse_url("https://hooks.example.com/x")
    meta = "http://169.254.169.254/latest/meta-data/"
    with pytest.raises(Refused, match=r"HTTP 302.*169\.254\.169\.254.*not followed"):
        redirect_target(here, meta, 302, Policy(max_redirects=0), 0)
    with pytest.raises(Refused, match="another origin"):
        redirect_target(here, meta, 302, Policy(allow_private=True, max_redirects=3), 0)
    with pytest.raises(Refused, match="not allowed"):
        redirect_target(here, "file:///etc/passwd", 301, Policy(max_redirects=3), 0)


def test_a_same_origin_redirect_is_followed_within_the_limit_keeping_credentials():
    """``/metrics`` -> ``/metrics/`` on the same host and port is a hop; the limit holds."""
    here = parse_url("http://user:p%40ss@exporter:9100/metrics")
    policy = Policy(allow_private=True, max_redirects=2)
    nxt = redirect_target(here, "/metrics/", 301, policy, 0)
    assert isinstance(nxt, Target)
    assert (nxt.host, nxt.port, nxt.path) == ("exporter", 9100, "/metrics/")
    assert (nxt.username, nxt.password) == ("user", "p@ss")
    with pytest.raises(Refused, match="more than 2 redirects"):
        redirect_target(here, "/metrics/", 301, policy, 2)
    with pytest.raises(Refused, match="another origin"):
        redirect_target(here, "http://exporter:9101/metrics", 301, policy, 0)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "https://hooks.slack.com/services/T000/\u2026",
        ),
        (
            "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue",
            "https://events.pagerduty.com/integration/\u2026",
        ),
        (
            "https://x.webhook.office.com/webhookb2/1f0c2a9e-aaaa@bbbb/IncomingWebhook/c/d",
            "https://x.webhook.office.com/webhookb2/\u2026",
        ),
        ("https://user:secret@example.com/", "https://example.com/\u2026"),
        ("https://example.com/hook?token=abc", "https://example.com/hook/\u2026"),
        ("http://127.0.0.1:8080/hook", "http://127.0.0.1:8080/hook"),
        ("http://[::1]:8080/a3f9c2d18b7e/x", "http://[::1]:8080/\u2026"),
        ("", ""),
    ],
)
def test_the_masked_form_keeps_scheme_host_and_leading_words_only(url, masked):
    """Credentials, queries and key-like path segments never show."""
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    "url",
    [
        "https://h.example/abc/SECRETSECRETSECRET",
        "https://h.example/SecretToken/x",
        "https://h.example/a1b2c3/x",
        "https://h.example/hook/abc123",
    ],
)
def test_key_like_segments_are_never_shown(url):
    """Mixed-case, longer mixed or digit-bearing segments may be keys: masked away."""
    masked = mask_url(url)
    assert masked.endswith("\u2026")
    assert not any(k in masked for k in ("SECRET", "Secret", "a1b2c3", "abc123"))
