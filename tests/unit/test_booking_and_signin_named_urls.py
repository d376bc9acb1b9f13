"""The clinic's booking pages and the sign-in pages name their links and redirects by route."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = (
    "spokes/book.html",
    "spokes/booking.html",
    "spokes/find.html",
    "spokes/patient_new.html",
    "telehub/signin.html",
    "telehub/mfa_code.html",
    "telehub/mfa_enrol.html",
    "telehub/mfa_recovery.html",
    "telehub/error.html",
    "telehub/problem.html",
)
MODULES = (
    "spokes/pages/book.py",
    "spokes/pages/find.py",
    "spokes/pages/visits.py",
    "telehub/signin_pages.py",
    "telehub/mfa_pages.py",
)
LINK = re.compile(r"""(?:href|action)=["'](/[^"'{]*)""")
LITERAL_REDIRECT = re.compile(r"""HTTPSeeOther\(\s*f?["']/|see_other\(\s*request,\s*f?["']/""")


@pytest.mark.parametrize("name", TEMPLATES)
def test_a_template_links_by_route_name_not_by_path(name: str) -> None:
    text = (ROOT / "templates" / name).read_text()

    literal = [path for path in LINK.findall(text) if not path.startswith("/static/")]

    assert literal == []
    assert "'/'" not in text  # not even a fallback to the home page


@pytest.mark.parametrize("name", TEMPLATES)
def test_a_template_shows_zones_kinds_and_statuses_the_shared_way(name: str) -> None:
    text = (ROOT / "templates" / name).read_text()

    assert 'replace("_", " ")' not in text and "replace('_', ' ')" not in text
    assert "kinds[" not in text and "status_labels" not in text  # the `label` filter


@pytest.mark.parametrize("name", MODULES)
def test_a_page_module_redirects_by_route_name(name: str) -> None:
    text = (ROOT / name).read_text()

    assert LITERAL_REDIRECT.findall(text) == []
    assert ".router[" not in text  # through telehub.web.url_for, the one way
    assert "strftime(" not in text  # dates through local_time, the one format
