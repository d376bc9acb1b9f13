"""The clinic's loop pages, the base layout and the home page name their links by route."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = (
    "telehub/base.html",
    "telehub/home.html",
    *(
        f"spokes/{name}.html"
        for name in (
            "dashboard",
            "econsult",
            "econsult_new",
            "econsults",
            "inbox",
            "macros",
            "note",
            "note_print",
        )
    ),
)
LINK = re.compile(r"""(?:href|action)=["'](/[^"'{]*)""")


@pytest.mark.parametrize("name", TEMPLATES)
def test_a_template_links_by_route_name_not_by_path(name: str) -> None:
    text = (ROOT / "templates" / name).read_text()

    literal = [path for path in LINK.findall(text) if not path.startswith("/static/")]

    assert literal == []


@pytest.mark.parametrize("name", TEMPLATES)
def test_a_template_shows_zones_and_statuses_the_shared_way(name: str) -> None:
    text = (ROOT / "templates" / name).read_text()

    assert 'replace("_", " ")' not in text  # zones: the `zone` filter
    assert "labels.status" not in text  # statuses: the `label` filter
