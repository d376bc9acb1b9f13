"""Does a page fit its screen and pass axe-core? One check for the phone and desktop tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from playwright.async_api import Page

from tests.e2e.axe import axe_script, violations
from tests.e2e.conftest import screenshot

# The page's width against the screen's, and the first elements that reach past its right edge.
OVERFLOW = """() => {
  const root = document.documentElement;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > root.clientWidth + 0.5)
    .slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + [...e.classList].join('.'));
  return {scroll: root.scrollWidth, client: root.clientWidth, wide};
}"""


async def misfits(
    page: Page, *, axe: bool = True, every_element: bool = False, shot: str | None = None
) -> dict[str, Any]:
    """What is wrong with the page as laid out now: "too_wide" (it scrolls sideways, or with
    every_element any element reaches past the screen's edge) and "axe" (WCAG 2.1 A/AA
    violations); empty when it fits and passes. A screenshot called `shot` is kept first."""
    if shot:
        await screenshot(page, shot)
    found: dict[str, Any] = {}
    measured = await page.evaluate(OVERFLOW)
    if measured["scroll"] > measured["client"] or (every_element and measured["wide"]):
        found["too_wide"] = measured
    if axe and (problems := await violations(page, axe_script())):
        found["axe"] = problems
    return found


async def misfit_pages(
    page: Page, pages: Iterable[tuple[str | None, str]], *, axe: bool = True
) -> dict[str, dict[str, Any]]:
    """Go to each (screenshot name, path) in turn, keeping a screenshot where it is named: what
    does not fit or pass axe there (see misfits), by path; empty when every page is fine."""
    problems = {}
    for shot, path in pages:
        await page.goto(path)
        if found := await misfits(page, axe=axe):
            problems[path] = found
        if shot:
            await screenshot(page, shot)
    return problems


async def assert_fits(
    page: Page, name: str, *, axe: bool = True, every_element: bool = False
) -> None:
    """Keep a screenshot called name, then assert the page fits its screen and passes axe."""
    found = await misfits(page, axe=axe, every_element=every_element, shot=name)
    assert not found, (name, found)
