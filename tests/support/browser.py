"""Opening a page of the built site in the session's browser: shared by the browser tests.

`open_page` gives the page a fresh context whose every request goes through a route that
lets loopback (and data:/blob:) through and aborts, and records, anything else; console
errors and uncaught exceptions are recorded too. Screenshots go to `artifacts/screenshots/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from support.local_site import LOOPBACK
from support.site import REPO

SCREENSHOTS = REPO / "artifacts" / "screenshots"
WIDE = {"width": 1400, "height": 900}
NARROW = {"width": 600, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass
class Watch:
    """What one page did: requests blocked, console errors, uncaught exceptions."""

    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def open_page(
    browser: Any, url: str, viewport: dict[str, int], scheme: str = "light"
) -> tuple[Any, Any, Watch]:
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    watch = Watch()

    def route(route: Any) -> None:
        host = urlsplit(route.request.url).hostname or ""
        scheme_ = urlsplit(route.request.url).scheme
        if scheme_ in ("data", "blob") or host in LOOPBACK:
            route.continue_()
        else:
            watch.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and watch.errors.append(m.text))
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return context, page, watch


def boxes(page: Any) -> tuple[dict[str, float], dict[str, float]]:
    # The first row that pairs notes with code (prose rows have no code cell).
    row = page.locator(".lo-section:not(.lo-code-only):has(> .lo-code)").first
    notes = row.locator("> .lo-notes").bounding_box()
    code = row.locator("> .lo-code").bounding_box()
    assert notes and code, "no notes or code cell"
    return notes, code


def images_loaded(page: Any) -> list[str]:
    """Sources of images that did not load (after waiting for every one to settle)."""
    return page.evaluate(
        """async () => {
            const imgs = [...document.images];
            imgs.forEach(i => { i.loading = "eager"; });
            const settle = i => new Promise(r => {
                i.addEventListener("load", r);
                i.addEventListener("error", r);
            });
            await Promise.all(imgs.map(i => i.complete ? null : settle(i)));
            return imgs.filter(i => !(i.naturalWidth > 0)).map(i => i.src);
        }"""
    )


def shoot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name.replace('/', '-')}.png"), full_page=True)
