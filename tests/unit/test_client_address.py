"""The client address: the TCP peer, or behind a trusted proxy the client it forwards for."""

from __future__ import annotations

import pytest

from telehub.client_address import address_from
from telehub.settings import parse_networks

PROXIES = parse_networks("10.0.0.0/8, 2001:db8:aaaa::/48")


def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_forwards() -> None:
    assert address_from("203.0.113.7", ["198.51.100.1"], ()) == "203.0.113.7"


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    assert address_from("203.0.113.7", ["198.51.100.1"], PROXIES) == "203.0.113.7"


def test_behind_a_trusted_proxy_the_client_is_the_entry_it_appended() -> None:
    assert address_from("10.0.0.2", ["198.51.100.1"], PROXIES) == "198.51.100.1"


def test_in_a_chain_the_right_most_untrusted_entry_wins_over_what_the_client_wrote() -> None:
    # The client wrote "192.0.2.66" (spoofed); our two proxies appended the real one and theirs.
    chain = ["192.0.2.66, 198.51.100.1", "10.1.2.3"]
    assert address_from("10.0.0.2", chain, PROXIES) == "198.51.100.1"


def test_malformed_entries_are_skipped() -> None:
    chain = ["192.0.2.66, 198.51.100.1, not-an-address, , 10.1.2.3"]
    assert address_from("10.0.0.2", chain, PROXIES) == "198.51.100.1"


def test_a_chain_of_proxies_only_gives_the_peer() -> None:
    assert address_from("10.0.0.2", ["10.9.9.9", "junk"], PROXIES) == "10.0.0.2"
    assert address_from("10.0.0.2", [], PROXIES) == "10.0.0.2"


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("2001:db8:aaaa::1", ["2001:DB8:bbbb:0::5"], "2001:db8:bbbb::5"),
        ("2001:db8:aaaa::1", ["[2001:db8:bbbb::5]:443"], "2001:db8:bbbb::5"),
        ("2001:db8:aaaa::1", ["198.51.100.1:5678"], "198.51.100.1"),
        ("::ffff:10.0.0.2", ["198.51.100.1"], "198.51.100.1"),  # a v4 proxy on a v6 socket
        ("2001:db8:cccc::1", ["198.51.100.1"], "2001:db8:cccc::1"),  # not a trusted v6 peer
        ("10.0.0.2", ["2001:db8:aaaa::9, ::ffff:198.51.100.1"], "198.51.100.1"),
    ],
)
def test_ipv6_peers_and_entries(peer: str, forwarded: list[str], expected: str) -> None:
    assert address_from(peer, forwarded, PROXIES) == expected


def test_no_peer_is_unknown() -> None:
    assert address_from(None, ["198.51.100.1"], PROXIES) == "unknown"
