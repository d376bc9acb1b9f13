"""The address a request comes from: the TCP peer, or behind a trusted proxy the client it names.

Behind a TLS proxy every request's peer is the proxy, so throttling per peer would make one
attacker's failures everyone's wait. When the peer is one of TELEHUB_TRUSTED_PROXIES, the client
is the right-most X-Forwarded-For entry that is not itself a trusted proxy: entries to its left
were written by the client and prove nothing. A request from any other peer is its peer, whatever
X-Forwarded-For it sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from aiohttp import web

from telehub.keys import SETTINGS

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address
UNKNOWN = "unknown"


def _address(text: str) -> Address | None:
    """An address as a proxy writes it (`1.2.3.4`, `::1`, `[::1]:443`, `1.2.3.4:80`), or None."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        found = ip_address(text)
    except ValueError:
        return None
    if isinstance(found, IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def _trusted(address: Address, proxies: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def address_from(peer: str | None, forwarded_for: Iterable[str], proxies: Sequence[Network]) -> str:
    """The client's address given the TCP peer, the X-Forwarded-For header values (in order)
    and the trusted proxies; malformed entries are skipped."""
    found = _address(peer or "")
    if found is None:
        return peer or UNKNOWN
    if not _trusted(found, proxies):
        return str(found)
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is not None and not _trusted(address, proxies):
            return str(address)
    # Only proxies (or nothing readable) in the chain: the proxy is all we know.
    return str(found)


def client_address(request: web.Request) -> str:
    """The address this request came from, as throttles and the audit trail record it."""
    proxies = request.app[SETTINGS].trusted_proxies
    forwarded = request.headers.getall("X-Forwarded-For", []) if proxies else []
    return address_from(request.remote, forwarded, proxies)
