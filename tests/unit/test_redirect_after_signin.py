"""After signing in, `next` leads only to a path on this site, whatever an attacker puts in it."""

from __future__ import annotations

import pytest

from telehub.web import safe_next

HOME = "/spoke"

ATTACKS = [
    "/\t/evil.example/",  # what `next=/%09/evil.example/` becomes once the form is decoded
    "/\n/evil.example/",
    "/\r/evil.example/",
    "/%09/evil.example/",  # the same, still encoded (e.g. from a query string passed along)
    "/%0A/evil.example/",
    "/%0d/evil.example/",
    "/%00/evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/%5Cevil.example/",
    "/%5C%5Cevil.example/",
    "/%2F/evil.example/",
    "/%2f%2fevil.example/",
    "https://evil.example/",
    "http:/evil.example/",
    "javascript:alert(1)",
    "evil.example",
    " /\t/evil.example",
    "",
    "/\u0085/evil.example",  # NEL, a C1 control
    "/\u200b/evil.example",  # zero-width space (format character)
]


@pytest.mark.parametrize("target", ATTACKS)
def test_an_attack_lands_on_the_users_home(target: str) -> None:
    assert safe_next(target, HOME) == HOME


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/spoke", "/spoke"),
        (
            "/spoke/book?slot=2027-03-08T09%3A00%3A00Z&x=1",
            "/spoke/book?slot=2027-03-08T09%3A00%3A00Z&x=1",
        ),
        ("/hub/econsults/12#note", "/hub/econsults/12"),  # a fragment never matters to us
        ("/coordinator//spokes", "/coordinator/spokes"),  # rebuilt: one slash at a time
        ("/a/../b", "/a/../b"),  # still this site: the browser resolves it under our origin
    ],
)
def test_a_path_on_this_site_is_kept(target: str, kept: str) -> None:
    assert safe_next(target, HOME) == kept
