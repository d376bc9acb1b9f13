"""Where a webhook may go: https to a public address, checked when saved and when connecting.

A URL is read the way the HTTP client (aiohttp, through yarl) will read it, and its host the
way the C resolver will: `2130706433`, `127.1`, `0x7f.1` and `0177.0.0.1` are all 127.0.0.1 to
`getaddrinfo`, so they are IPv4 addresses here too. An address is public when it is globally
routable unicast; an IPv6 address that carries an IPv4 one (mapped, 6to4, NAT64) is judged by
the IPv4 address inside, and Teredo never passes. Host names are not looked up when a URL is
saved (DNS can change anyway); at delivery the connector's resolver and socket factory refuse
a non-public address, so the address checked is the address connected to. Loopback, private
ranges and plain http are allowed only when `webhook_allow_private` is set (dev, demo, tests).
"""

from __future__ import annotations

import errno
import re
import socket
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

Address = IPv4Address | IPv6Address
AddrInfo = tuple[int, int, int, str, tuple[str, int] | tuple[str, int, int, int]]
SocketFactory = Callable[[AddrInfo], socket.socket]

# RFC 6761 (localhost), RFC 6762 (.local), RFC 8375 (.home.arpa), ICANN 2024 (.internal),
# and the /etc/hosts habit (.localdomain): names that only ever mean something inside.
_LOCAL_SUFFIXES = ("localhost", "local", "internal", "home.arpa", "localdomain")
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_NUMERIC_PART = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_NAT64 = (IPv6Network("64:ff9b::/96"), IPv6Network("64:ff9b:1::/48"))
_SHARED = IPv4Network("100.64.0.0/10")


class RefusedWebhookUrl(ValueError):
    """A webhook URL that may not be used; the message says why, to the person who typed it."""


class RefusedAddress(OSError):
    """A webhook host resolved to (or is) an address it may not reach."""

    def __init__(self, message: str) -> None:
        # With an errno, aiohttp's connection errors show the message as the reason.
        super().__init__(errno.EACCES, message)


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse a webhook URL that is not https to a public host.

    With `allow_private`, loopback and private hosts are allowed too, and plain http to them
    (a test or demo receiver); http to a public host never is, since a note would cross the
    internet in clear. A user name (`a@b`) or a fragment is refused whatever the setting.
    """
    try:
        parsed = URL(url)
    except ValueError as exc:
        raise RefusedWebhookUrl(f"is not a URL ({exc})") from None
    except Exception:
        # yarl's parser fails in other ways too (IndexError on "https://[]@"). Whatever it
        # trips on, the answer is this refusal (422 naming url), never a 500; its own words
        # would mean nothing to the person who typed the URL.
        raise RefusedWebhookUrl("is not a URL") from None
    if parsed.scheme not in ({"https", "http"} if allow_private else {"https"}):
        raise RefusedWebhookUrl(
            "must be an https URL" + ("" if allow_private else " to a public address")
        )
    if (
        parsed.raw_user is not None
        or parsed.raw_password is not None
        or "@" in (parsed.raw_authority)
    ):
        raise RefusedWebhookUrl("must not carry a user name or password (nothing before '@')")
    if parsed.raw_fragment or "#" in url:
        raise RefusedWebhookUrl("must not have a #fragment")
    if not parsed.raw_host:
        raise RefusedWebhookUrl("must name a host")
    address = parse_host(parsed.raw_host)
    name = parsed.raw_host.rstrip(".")
    inside = not is_public(address) if address else "." not in name or _is_local_name(name)
    if parsed.scheme == "http" and not inside:
        raise RefusedWebhookUrl(
            "must be an https URL (http only to a test receiver on a private address)"
        )
    if allow_private or not inside:
        return
    if address is None:
        raise RefusedWebhookUrl(f"must name a public host ('{name}' is a local name)")
    raise RefusedWebhookUrl(f"must point to a public address ({address} is {describe(address)})")


def _is_local_name(name: str) -> bool:
    return any(name == s or name.endswith("." + s) for s in _LOCAL_SUFFIXES)


def parse_host(host: str) -> Address | None:
    """The IP address a URL's host stands for, read as getaddrinfo would; None for a name.

    Raises RefusedWebhookUrl for a host no resolver should be asked about (a zone index,
    a malformed address, a name with a numeric top label or characters DNS does not carry).
    """
    if ":" in host:  # yarl gives IPv6 literals without their brackets
        if "%" in host:
            raise RefusedWebhookUrl("must not name an IPv6 zone (the part after '%')")
        try:
            return IPv6Address(host)
        except ValueError:
            raise RefusedWebhookUrl(f"'{host}' is not an IPv6 address") from None
    name = host.lower()
    if name.endswith("."):
        name = name[:-1]  # a fully qualified name; "127.0.0.1." is still 127.0.0.1
    labels = name.split(".")
    if _NUMERIC_PART.match(labels[-1]):
        # A top-level label is never numeric (RFC 3696 2), so this is an IPv4 address in
        # one of inet_aton's forms, or nothing anyone may use.
        address = _inet_aton(labels)
        if address is None:
            raise RefusedWebhookUrl(f"'{host}' is not a valid address or host name")
        return address
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise RefusedWebhookUrl(f"'{host}' is not a valid host name")
    return None


def _inet_aton(parts: list[str]) -> IPv4Address | None:
    """BSD/glibc inet_aton: 1 to 4 parts, each decimal, 0x hex or 0-led octal; the last part
    fills the remaining bytes (so 127.1 is 127.0.0.1 and 2130706433 is too)."""
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        if not _NUMERIC_PART.match(part):
            return None
        if part.startswith("0x"):
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if not set(part) <= set("01234567"):
                return None
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *head, last = values
    if any(v > 255 for v in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    number = 0
    for value in head:
        number = number << 8 | value
    return IPv4Address(number << (8 * (4 - len(head))) | last)


def is_public(address: Address) -> bool:
    """Globally routable unicast; an IPv6 address carrying an IPv4 one is judged by that one."""
    if isinstance(address, IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
        if address.teredo is not None:
            return False  # a tunnel to wherever its client part says: never a webhook
        return address.is_global and not address.is_multicast and not address.is_reserved
    return address.is_global and not address.is_multicast and address not in _SHARED


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in network for network in _NAT64):
        return IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def describe(address: Address) -> str:
    """What kind of non-public address this is, in a few words for a refusal."""
    if isinstance(address, IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and not is_public(embedded):
            return f"{describe(embedded)} ({embedded}) inside IPv6"
        if address.teredo is not None:
            return "a Teredo tunnel address"
    kinds = (
        ("is_loopback", "a loopback address"),
        ("is_unspecified", "the unspecified address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
    )
    for attribute, words in kinds:
        if getattr(address, attribute):
            return words
    return "not a public address"


def check_address(host: str, *, allow_private: bool) -> None:
    """Refuse a resolved or connected-to address that is not public (unless allowed)."""
    if allow_private:
        return
    try:
        address = ip_address(host.split("%", 1)[0])
    except ValueError:
        raise RefusedAddress(f"{host!r} is not an IP address") from None
    if not is_public(address):
        raise RefusedAddress(f"webhook refused: {address} is {describe(address)}")


class GuardedResolver(AbstractResolver):
    """Resolves through another resolver and refuses a name if any address it gives is not
    public: the name is refused whole, so no happy-eyeballs attempt reaches the bad one."""

    def __init__(self, inner: AbstractResolver, *, allow_private: bool) -> None:
        self._inner = inner
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The inner resolver's answer, once every address in it is allowed."""
        found = await self._inner.resolve(host, port, family)
        for result in found:
            try:
                check_address(result["host"], allow_private=self._allow_private)
            except RefusedAddress as exc:
                raise RefusedAddress(f"{host} resolves to {result['host']}: {exc}") from None
        return found

    async def close(self) -> None:
        """Close the inner resolver."""
        await self._inner.close()


def _plain_socket(addr_info: AddrInfo) -> socket.socket:
    family, type_, proto, _, _ = addr_info
    return socket.socket(family=family, type=type_, proto=proto)


def guarded_socket_factory(
    *, allow_private: bool, make: SocketFactory = _plain_socket
) -> SocketFactory:
    """A socket factory for the connector that refuses to open a socket to a non-public
    address: the last check, on the very address about to be connected to (IP literals in
    URLs never pass through the resolver)."""

    def factory(addr_info: AddrInfo) -> socket.socket:
        check_address(str(addr_info[4][0]), allow_private=allow_private)
        return make(addr_info)

    return factory


def webhook_connector(
    *,
    allow_private: bool,
    resolver: AbstractResolver | None = None,
    make_socket: SocketFactory = _plain_socket,
    limit: int = 100,
    limit_per_host: int = 0,
) -> aiohttp.TCPConnector:
    """The connector for webhook calls: every name and address checked where it is used.

    `resolver` and `make_socket` are seams for tests (a fake DNS answer, a recording socket).
    A resolver passed in is not closed with the connector: the default (a thread calling
    getaddrinfo, as aiodns is not installed) holds nothing to close.
    """
    return aiohttp.TCPConnector(
        resolver=GuardedResolver(
            resolver or aiohttp.DefaultResolver(), allow_private=allow_private
        ),
        socket_factory=guarded_socket_factory(allow_private=allow_private, make=make_socket),
        limit=limit,
        limit_per_host=limit_per_host,
    )
