"""Where a webhook may go, as pure functions over tables: nothing here connects anywhere.

The resolver tests ask a fake resolver (a dictionary), never DNS; the socket factory tests
hand in a maker that records instead of opening a socket.
"""

from __future__ import annotations

import socket
from ipaddress import ip_address

import pytest
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from consults.webhook_address import (
    AddrInfo,
    GuardedResolver,
    RefusedAddress,
    RefusedWebhookUrl,
    check_url,
    guarded_socket_factory,
    is_public,
    parse_host,
)
from tests.webhook_fakes import FakeResolver

# Every one of these reaches inside the network (the first seven are the issue's own).
INSIDE = [
    ("http://127.0.0.1:5432/", "must be an https URL"),
    ("http://[::1]:6379/", "must be an https URL"),
    ("http://localhost:22/", "must be an https URL"),
    ("https://2130706433:5432", "127.0.0.1 is a loopback address"),
    ("https://[::ffff:127.0.0.1]:5432", "a loopback address (127.0.0.1) inside IPv6"),
    ("https://127.1:5432", "127.0.0.1 is a loopback address"),
    ("http://127.0.0.1@127.0.0.1:5432/", "must be an https URL"),
    ("https://127.0.0.1@hooks.example.org/", "user name or password"),
    ("https://localhost/hook", "'localhost' is a local name"),
    ("https://localhost./hook", "'localhost' is a local name"),
    ("https://api.localhost/hook", "is a local name"),
    ("https://db:5432/", "'db' is a local name"),
    ("https://printer.local/", "is a local name"),
    ("https://vault.internal/", "is a local name"),
    ("https://router.home.arpa/", "is a local name"),
    ("https://0x7f.1/", "127.0.0.1 is a loopback address"),
    ("https://0177.0.0.1/", "127.0.0.1 is a loopback address"),
    ("https://017700000001/", "127.0.0.1 is a loopback address"),
    ("https://127.0.0.1./", "127.0.0.1 is a loopback address"),
    ("https://0/", "0.0.0.0 is the unspecified address"),
    ("https://[::]/", "the unspecified address"),
    ("https://10.0.0.5/", "10.0.0.5 is a private address"),
    ("https://10.1.256/", "10.1.1.0 is a private address"),
    ("https://172.16.3.4/", "a private address"),
    ("https://192.168.1.1/", "a private address"),
    ("https://169.254.169.254/latest/meta-data", "a link-local address"),
    ("https://100.64.1.1/", "not a public address"),  # carrier-grade NAT
    ("https://198.18.0.1/", "a private address"),  # benchmarking
    ("https://192.0.2.1/", "a private address"),  # documentation
    ("https://224.0.0.1/", "a multicast address"),
    ("https://255.255.255.255/", "a private address"),
    ("https://[fc00::1]/", "a private address"),
    ("https://[fe80::1]/", "a link-local address"),
    ("https://[fe80::1%25eth0]/", "zone"),
    ("https://[ff0e::1]/", "a multicast address"),
    ("https://[2001:db8::1]/", "a private address"),
    ("https://[::127.0.0.1]/", "not a public address"),  # IPv4-compatible, deprecated
    ("https://[2002:7f00:1::1]/", "a loopback address (127.0.0.1) inside IPv6"),  # 6to4
    ("https://[2002:a00:1::1]/", "a private address (10.0.0.1) inside IPv6"),
    ("https://[64:ff9b::a00:1]/", "a private address (10.0.0.1) inside IPv6"),  # NAT64
    ("https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"),
]

# Malformed whatever the setting says.
MALFORMED = [
    ("ftp://ehr.example/in", "must be an https URL"),
    ("not a url", "must be an https URL"),
    ("https:///in", "must name a host"),
    ("https://user:secret@hooks.example.org/", "user name or password"),
    ("http://127.0.0.1@127.0.0.1:5432/", "user name or password"),
    ("https://hooks.example.org/in#frag", "#fragment"),
    ("https://hooks.example.org/in#", "#fragment"),
    ("https://%31%32%37.0.0.1/", "is not a valid"),
    ("https://1.2.3.4.5/", "not a valid address or host name"),
    ("https://256.1.1.1/", "not a valid address or host name"),
    ("https://08.1.1.1/", "not a valid address or host name"),
    ("https://hooks.123/", "not a valid address or host name"),
    ("https://[fe80::1%25eth0]:8443/", "zone"),
    ("http://hooks.example.org/in", "http only to a test receiver"),
    ("http://8.8.8.8/in", "http only to a test receiver"),
    ("https://[]@", "is not a URL"),  # yarl raises IndexError on it
    ("https://[]\t5c@/in", "is not a URL"),
    ("https://[]/in", "is not a URL"),
]

PUBLIC = [
    "https://hooks.example.org/telehub",
    "https://ehr.riverside-clinic.com:8443/in?source=telehub",
    "https://bücher.example/hook",
    "https://8.8.8.8/hook",
    "https://[2606:4700::1111]/hook",
    "https://[::ffff:8.8.8.8]/hook",
    "https://[2002:808:808::1]/hook",
    "https://hooks.example.org./in",
]


@pytest.mark.parametrize(("url", "why"), INSIDE)
def test_an_address_inside_the_network_is_refused_unless_private_webhooks_are_allowed(
    url: str, why: str
) -> None:
    with pytest.raises(RefusedWebhookUrl, match=why.replace("(", r"\(").replace(")", r"\)")):
        check_url(url, allow_private=False)


@pytest.mark.parametrize(("url", "why"), MALFORMED)
def test_a_malformed_url_is_refused_even_where_private_webhooks_are_allowed(
    url: str, why: str
) -> None:
    with pytest.raises(RefusedWebhookUrl, match=why):
        check_url(url, allow_private=True)


@pytest.mark.parametrize("url", PUBLIC)
def test_https_to_a_public_address_or_name_is_accepted(url: str) -> None:
    check_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8123/hook",
        "http://[::1]:8123/hook",
        "http://localhost:8123/hook",
        "https://10.0.0.5/hook",
        "http://receiver:8080/hook",
    ],
)
def test_loopback_private_and_plain_http_are_allowed_only_by_the_setting(url: str) -> None:
    check_url(url, allow_private=True)
    with pytest.raises(RefusedWebhookUrl):
        check_url(url, allow_private=False)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7F000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("10.1.256", "10.1.1.0"),
        ("1.0xffffff", "1.255.255.255"),
        ("00", "0.0.0.0"),
        ("8.8.8.8", "8.8.8.8"),
        ("::ffff:7f00:1", "::ffff:7f00:1"),
        ("hooks.example.org", None),
        ("xn--bcher-kva.example", None),
    ],
)
def test_a_host_is_read_as_the_c_resolver_reads_it(host: str, address: str | None) -> None:
    expected = ip_address(address) if address else None
    assert parse_host(host) == expected


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("1.1.1.1", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("100.64.0.1", False),
        ("169.254.169.254", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),
        ("2606:4700::1111", True),
        ("::1", False),
        ("::ffff:8.8.8.8", True),
        ("::ffff:10.0.0.1", False),
        ("2002:808:808::1", True),
        ("2002:7f00:1::1", False),
        ("64:ff9b::808:808", True),
        ("64:ff9b::7f00:1", False),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),
        ("ff0e::1", False),
    ],
)
def test_public_means_globally_routable_unicast_judged_by_any_ipv4_inside(
    address: str, public: bool
) -> None:
    assert is_public(ip_address(address)) is public


async def test_a_name_resolving_to_any_inside_address_is_refused_whole() -> None:
    fake = FakeResolver(
        {
            "rebind.clinic.test": ["10.0.0.5"],
            "mixed.clinic.test": ["93.184.215.14", "127.0.0.1"],
            "mapped.clinic.test": ["::ffff:169.254.169.254"],
            "public.clinic.test": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
        }
    )
    guarded = GuardedResolver(fake, allow_private=False)

    for name, bad in [
        ("rebind.clinic.test", "10.0.0.5"),
        ("mixed.clinic.test", "127.0.0.1"),
        ("mapped.clinic.test", "::ffff:169.254.169.254"),
    ]:
        with pytest.raises(RefusedAddress, match=f"{name} resolves to {bad}"):
            await guarded.resolve(name, 443)
    found = await guarded.resolve("public.clinic.test", 443)
    assert [r["host"] for r in found] == fake.answers["public.clinic.test"]
    allowed = GuardedResolver(fake, allow_private=True)
    assert [r["host"] for r in await allowed.resolve("rebind.clinic.test", 443)] == ["10.0.0.5"]


def test_no_socket_is_made_for_an_inside_address_and_one_is_for_a_public_one() -> None:
    made: list[AddrInfo] = []

    def record(addr_info: AddrInfo) -> socket.socket:
        made.append(addr_info)
        return socket.socket(addr_info[0], addr_info[1], addr_info[2])  # made, never connected

    guard = guarded_socket_factory(allow_private=False, make=record)
    for inside in [("127.0.0.1", 5432), ("10.0.0.5", 443)]:
        with pytest.raises(RefusedAddress):
            guard((socket.AF_INET, socket.SOCK_STREAM, 6, "", inside))
    with pytest.raises(RefusedAddress):
        guard((socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", 443, 0, 0)))
    assert made == []

    guard((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))).close()
    assert [info[4][0] for info in made] == ["93.184.215.14"]


# Text shaped like the start of a URL, then the characters URL parsers split on: arbitrary
# text alone rarely reaches the corners of the authority where yarl's parser breaks.
_URL_PARTS = "[]@:/%#?.\\ \t\n\x00-_~xX0179afAF:é\u3002\uff0e\u2100"
_URLISH = st.builds(
    str.__add__,
    st.sampled_from(["", "https://", "http://", "https://[", "https://a@", "https://[::"]),
    st.text(alphabet=_URL_PARTS, max_size=30),
)


@hypothesis_settings(max_examples=2000)
@given(st.text() | _URLISH, st.booleans())
@example("https://[]@", False)
@example("https://[]@", True)
def test_any_text_is_a_url_or_the_modules_own_refusal(url: str, allow_private: bool) -> None:
    try:
        check_url(url, allow_private=allow_private)
    except RefusedWebhookUrl as refused:
        assert str(refused)
