"""Where the server may fetch from (pure): the checks every outbound HTTP request passes.

``dashboard.outbound`` does the I/O; this module decides. A request names an ``http`` or
``https`` URL (any other scheme is refused). Its host is resolved once (a literal address in
any form, ``2130706433`` or ``0177.0.0.1`` included, is never sent to a resolver), every address
it resolves to is checked against the ``Policy``, and the connection goes to the first checked
address, so a DNS answer that changes between the check and the connection (rebinding) cannot
move it. A redirect is never followed to another origin; with ``max_redirects`` 0 (webhooks) a
3xx is a failure that says where it pointed.

``mask_url`` is the form of a URL that may be shown or logged: scheme, host, port and the
first path segments that do not look like a key, never credentials, a query or a fragment.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
ELLIPSIS = "\u2026"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""``resolve(host, port)``: the addresses ``host`` resolves to, in preference order."""

# IPv6 prefixes that carry an IPv4 address whose class decides (NAT64, well known and local)
_NAT64 = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
)
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f]")
_NUMERIC_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")
# a path segment shown by mask_url: a short id (T000, v2) or a lower-case word (services,
# webhookb2, integration); anything longer or mixed-case may be a key and is left out
_SHOWN_SEGMENT = re.compile(r"^([A-Za-z0-9]{1,5}|[a-z][a-z_-]{0,23}[0-9]?)$")
MASK_SEGMENTS = 2


class Refused(ValueError):
    """A request the policy forbids; the message says why (with no secret part of the URL)."""


@dataclass(frozen=True)
class Policy:
    """What one kind of outbound request may do.

    ``allow_private``: addresses inside the network (loopback, private, link-local, ...) may be
    called. ``max_bytes`` and ``timeout_s`` cap the answer's size and the whole exchange's time.
    ``max_redirects``: same-origin redirects followed (each hop checked again); 0 makes any
    3xx a failure.
    """

    allow_private: bool = False
    max_bytes: int = 1 << 20
    timeout_s: float = 10.0
    max_redirects: int = 0


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect and what to ask for."""

    scheme: str
    host: str  # lower case, IDNA ASCII, no brackets, no trailing dot
    port: int
    # path and query, at least "/"; with the credentials, kept out of the repr (may be secrets)
    path: str = field(repr=False)
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    literal: IPAddress | None = None  # the address when the host is written as one

    @property
    def origin(self) -> tuple[str, str, int]:
        """Scheme, host and port: what a redirect may not change."""
        return self.scheme, self.host, self.port

    @property
    def host_header(self) -> str:
        """The Host header (and what TLS checks the certificate against, without the port)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def masked(self) -> str:
        """The target as it may be logged."""
        return mask_url(f"{self.scheme}://{self.host_header}{self.path}")


def parse_ipv4_number(host: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address in any form ``inet_aton`` takes (``2130706433``, ``0177.0.0.1``,
    ``0x7f.1``, ``127.1``), or None when ``host`` is not written as numbers.

    Refused when it is numbers that make no address (``08.0.0.1``, ``256.0.0.1``): a resolver
    might look such a name up, and its answer is not what the text says.
    """
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_PART.match(p) for p in parts):
        return None
    values = []
    for part in parts:
        try:
            if part[:2].lower() == "0x":
                values.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                values.append(int(part, 8))
            else:
                values.append(int(part))
        except ValueError:
            raise Refused(f"{host!r} is numbers that make no IPv4 address") from None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        raise Refused(f"{host!r} is numbers that make no IPv4 address")
    number = last
    for i, value in enumerate(head):
        number += value << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


def parse_literal(host: str) -> IPAddress | None:
    """The address ``host`` is written as (IPv6, dotted IPv4 or another numeric IPv4 form),
    or None for a name."""
    bare = host.strip("[]")
    if ":" in bare:
        try:
            return ipaddress.IPv6Address(bare)
        except ValueError:
            raise Refused(f"{host!r} is not an IPv6 address") from None
    return parse_ipv4_number(bare)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, Teredo), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def address_refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` is inside the network (loopback, private, ...), or None for a public one."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            why = address_refusal(inner)
            return f"{why} (inside {ip})" if why else None
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "shared (carrier NAT)"),
        (not ip.is_global, "not global"),
    )
    for hit, name in checks:
        if hit:
            return f"a {name} address"
    return None


def parse_url(url: str) -> Target:
    """The target of ``url``; Refused for a scheme other than http(s), no host, a bad port,
    spaces or control characters (the messages never quote the URL: it may be a secret)."""
    if _UNSAFE_CHARS.search(url.strip()):
        raise Refused("the URL has spaces or control characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused("not a usable URL (a bad port or address)") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise Refused(f"the scheme {scheme or '(none)'!r} is not allowed; use http or https")
    raw_host = (parts.hostname or "").rstrip(".")
    if not raw_host:
        raise Refused("the URL names no host")
    literal = parse_literal(raw_host)
    if literal is not None:
        host = str(literal)
    else:
        try:
            host = raw_host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise Refused("the host is not a valid name") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(
        scheme=scheme,
        host=host,
        port=port or DEFAULT_PORTS[scheme],
        path=path,
        username=None if parts.username is None else unquote(parts.username),
        password=None if parts.password is None else unquote(parts.password),
        literal=literal,
    )


def check_addresses(host: str, addresses: Sequence[str], policy: Policy) -> list[IPAddress]:
    """Every address ``host`` resolved to, each checked; Refused naming the first bad one."""
    checked: list[IPAddress] = []
    for text in addresses:
        try:
            ip = ipaddress.ip_address(text.split("%")[0])
        except ValueError:
            raise Refused(f"{host} resolves to {text!r}, not an address") from None
        if not policy.allow_private:
            why = address_refusal(ip)
            if why:
                raise Refused(f"{host} resolves to {ip}, {why}")
        checked.append(ip)
    if not checked:
        raise Refused(f"{host} resolves to no address")
    return checked


def pin(target: Target, policy: Policy, resolve: Resolver) -> str:
    """The one address to connect to: ``target``'s host resolved once (a literal is not
    resolved), every answer checked. Connect to it and never resolve the host again."""
    if target.literal is not None:
        addresses: Sequence[str] = [str(target.literal)]
    else:
        try:
            addresses = resolve(target.host, target.port)
        except OSError as exc:
            raise Refused(f"cannot resolve {target.host}: {exc}") from None
    return str(check_addresses(target.host, addresses, policy)[0])


def redirect_target(
    current: Target, location: str, status: int, policy: Policy, hops: int
) -> Target:
    """Where a ``status`` redirect to ``location`` goes, when the policy lets it be followed
    (same origin, within ``max_redirects``); Refused saying where it pointed otherwise."""
    where = urljoin(f"{current.scheme}://{current.host_header}{current.path}", location)
    shown = mask_url(where)
    try:
        nxt = parse_url(where)
    except Refused as exc:
        raise Refused(f"redirected (HTTP {status}) to {shown}: {exc}") from None
    if policy.max_redirects <= 0:
        raise Refused(f"redirected (HTTP {status}) to {shown}; redirects are not followed")
    if nxt.origin != current.origin:
        raise Refused(f"redirected (HTTP {status}) to {shown}, another origin; not followed")
    if hops >= policy.max_redirects:
        raise Refused(f"more than {policy.max_redirects} redirects (the last to {shown})")
    # the same origin keeps the credentials the first URL gave
    return Target(
        nxt.scheme,
        nxt.host,
        nxt.port,
        nxt.path,
        current.username,
        current.password,
        nxt.literal,
    )


def mask_url(url: str) -> str:
    """``url`` as it may be shown: scheme, host, port and up to two leading path segments that
    are short ids or lower-case words; ``…`` marks anything left out. Never credentials, a
    query or a fragment."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ELLIPSIS
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    shown = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
    segments = [s for s in parts.path.split("/") if s]
    kept = 0
    for segment in segments[:MASK_SEGMENTS]:
        if not _SHOWN_SEGMENT.match(segment):
            break
        shown += "/" + segment
        kept += 1
    hidden = kept < len(segments) or parts.query or parts.fragment or parts.username
    if hidden:
        shown += "/" + ELLIPSIS
    return shown
