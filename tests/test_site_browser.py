"""The built site in a real browser: Debian's chromium, driven by Playwright.

The site is served from a thread on 127.0.0.1; every request the browser makes is routed
through a handler that lets loopback through and aborts (and counts) anything else.
Screenshots go to `artifacts/screenshots/`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from support.browser import NARROW, WIDE, boxes, images_loaded, open_page, shoot
from support.site import REPO

from labml_optim.literate.catalogue import discover

pytestmark = pytest.mark.browser

# Page paths of the chapters (`sgd`, `experiments/radam_variance`), in reading order.
CHAPTERS = [e.stem for e in discover(REPO / "labml_optim")]


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_page_in_browser(browser: Any, site_url: str, name: str) -> None:
    context, page, watch = open_page(browser, f"{site_url}{name}.html", WIDE)
    try:
        # Wide: notes on the left, code on the right, tops aligned.
        notes, code = boxes(page)
        assert code["x"] >= notes["x"] + notes["width"] - 1, (notes, code)
        assert abs(code["y"] - notes["y"]) <= 2, (notes, code)
        assert page.locator(".katex").count() > 0, "no rendered math"
        assert page.locator(".katex-error").count() == 0
        assert page.locator("script[src*='katex']").count() == 0
        assert images_loaded(page) == []
        assert page.locator("a.lo-download").count() >= 1
        assert page.locator(".lo-code [id^='L']").count() > 0
        shoot(page, f"{name}-wide-light")

        # Narrow: stacked, notes first; nothing wider than the window.
        page.set_viewport_size(NARROW)
        page.wait_for_timeout(100)
        notes, code = boxes(page)
        assert code["y"] >= notes["y"] + notes["height"] - 1, (notes, code)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"page is {overflow}px wider than the window at 600px"
        shoot(page, f"{name}-narrow-light")
        assert watch.blocked == [], f"requests outside the site: {watch.blocked}"
        assert watch.errors == [], f"console errors: {watch.errors}"
    finally:
        context.close()


@pytest.mark.parametrize("name", CHAPTERS[:2])
def test_chapter_page_dark(browser: Any, site_url: str, name: str) -> None:
    for viewport, label in ((WIDE, "wide"), (NARROW, "narrow")):
        context, page, watch = open_page(browser, f"{site_url}{name}.html", viewport, "dark")
        try:
            scheme = page.evaluate("() => document.body.getAttribute('data-md-color-scheme')")
            assert scheme == "slate"
            shoot(page, f"{name}-{label}-dark")
            assert watch.blocked == [] and watch.errors == []
        finally:
            context.close()


@pytest.mark.parametrize("path", ["index.html", "conventions.html"])
def test_hand_written_pages(browser: Any, site_url: str, path: str) -> None:
    context, page, watch = open_page(browser, f"{site_url}{path}", WIDE)
    try:
        if path == "index.html":
            for name in CHAPTERS:
                assert page.locator(f"article a[href='{name}.html']").count() >= 1
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        assert page.locator(".katex-error").count() == 0
        shoot(page, path.replace(".html", "-wide-light"))
        assert watch.blocked == [] and watch.errors == []
    finally:
        context.close()


def test_search_works_offline(browser: Any, site_url: str) -> None:
    context, page, watch = open_page(browser, f"{site_url}index.html", WIDE)
    try:
        box = page.locator("input.md-search__input")
        box.click()
        box.press_sequentially("learning rate", delay=20)
        page.locator(".md-search-result__item").first.wait_for(timeout=15000)
        assert page.locator(".md-search-result__item").count() > 0
        assert watch.blocked == [] and watch.errors == []
    finally:
        context.close()


def test_line_anchor_scrolls_to_line(browser: Any, site_url: str) -> None:
    if not CHAPTERS:
        pytest.skip("no chapters")
    name = CHAPTERS[0]
    context, page, watch = open_page(browser, f"{site_url}{name}.html", WIDE)
    try:
        anchor = page.locator(".lo-code [id^='L']").last
        target = anchor.get_attribute("id")
        page.goto(f"{site_url}{name}.html#{target}")
        page.wait_for_timeout(300)
        top = page.evaluate("id => document.getElementById(id).getBoundingClientRect().top", target)
        assert 0 <= top < WIDE["height"]
        assert watch.blocked == [] and watch.errors == []
    finally:
        context.close()


PHONE = {"width": 390, "height": 844}


def _target_box(page: Any, ident: str) -> dict[str, float]:
    return page.evaluate(
        """id => {
            const r = document.getElementById(id).getBoundingClientRect();
            const h = document.querySelector('.md-header').getBoundingClientRect();
            return {top: r.top, bottom: r.bottom, header: h.bottom, height: innerHeight};
        }""",
        ident,
    )


def _anchors(page: Any) -> list[str]:
    """A row in the middle, a line in the middle and the last line of a chapter page."""
    rows = page.eval_on_selector_all(".lo-section[id]", "els => els.map(e => e.id)")
    lines = page.eval_on_selector_all(".lo-code .lo-line[id]", "els => els.map(e => e.id)")
    assert rows and lines
    return [rows[len(rows) // 2], lines[len(lines) // 2], lines[-1]]


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1400", "390"])
@pytest.mark.parametrize("name", CHAPTERS)
def test_anchors_land_below_the_header(
    browser: Any, site_url: str, name: str, viewport: dict[str, int]
) -> None:
    context, page, watch = open_page(browser, f"{site_url}{name}.html", viewport)
    try:
        for ident in _anchors(page):
            page.goto(f"{site_url}{name}.html#{ident}", wait_until="load")
            page.wait_for_timeout(250)
            box = _target_box(page, ident)
            assert box["top"] >= box["header"] - 1, f"#{ident} under the header: {box}"
            assert box["top"] < box["height"] - 10, f"#{ident} not on screen: {box}"
        assert watch.blocked == [] and watch.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1400", "390"])
def test_row_anchors_are_visible_clickable_and_in_the_tab_order(
    browser: Any, site_url: str, viewport: dict[str, int]
) -> None:
    name = "radam" if "radam" in CHAPTERS else CHAPTERS[0]
    context, page, _ = open_page(browser, f"{site_url}{name}.html", viewport)
    try:
        anchors = page.locator(".lo-section > a.lo-anchor")
        assert anchors.count() == page.locator(".lo-section").count()
        anchor = anchors.nth(anchors.count() // 2)
        anchor.scroll_into_view_if_needed()
        page.wait_for_timeout(100)
        box = anchor.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
        hit = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y)?.closest('a.lo-anchor') !== null",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert hit, "the row anchor is covered or clipped"
        opacity = anchor.evaluate("a => parseFloat(getComputedStyle(a).opacity)")
        assert opacity >= 0.5
        assert anchor.evaluate("a => a.tabIndex") == 0
        href = anchor.get_attribute("href")
        anchor.click()
        page.wait_for_timeout(100)
        assert page.evaluate("() => location.hash") == href
        numbers = page.locator(".lo-code td.linenos a")
        assert numbers.count() > 0
        assert numbers.first.evaluate("a => a.tabIndex") == -1
        assert numbers.first.get_attribute("href").startswith("#L")
    finally:
        context.close()


def test_scroll_height_is_stable_while_scrolling(browser: Any, site_url: str) -> None:
    name = max(CHAPTERS, key=lambda n: len((REPO / "labml_optim" / f"{n}.py").read_text()))
    context, page, _ = open_page(browser, f"{site_url}{name}.html", WIDE)
    try:
        heights = page.evaluate(
            """async () => {
                const seen = [];
                const frame = () => new Promise(r => requestAnimationFrame(r));
                for (let y = 0; y < document.documentElement.scrollHeight; y += innerHeight / 2) {
                    scrollTo(0, y);
                    await frame(); await frame();
                    seen.push(document.documentElement.scrollHeight);
                }
                return seen;
            }"""
        )
        assert len(heights) > 10
        assert max(heights) - min(heights) <= 1, f"scroll height moved: {sorted(set(heights))}"
    finally:
        context.close()


def test_prose_reads_at_a_book_measure(browser: Any, site_url: str) -> None:
    context, page, _ = open_page(browser, f"{site_url}{CHAPTERS[0]}.html", WIDE)
    try:
        per_line = page.evaluate(
            """() => {
                const p = [...document.querySelectorAll('.lo-prose .lo-notes > p')]
                    .find(p => p.textContent.length > 250 && !p.querySelector('.katex'));
                const ctx = document.createElement('canvas').getContext('2d');
                const cs = getComputedStyle(p);
                ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
                const text = p.textContent;
                const perChar = ctx.measureText(text).width / text.length;
                return p.getBoundingClientRect().width / perChar;
            }"""
        )
        assert 70 <= per_line <= 95, f"{per_line:.0f} characters a line"
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1400", "390"])
def test_contents_show_the_headings_with_their_math(
    browser: Any, site_url: str, viewport: dict[str, int]
) -> None:
    name = "radam" if "radam" in CHAPTERS else CHAPTERS[0]
    context, page, watch = open_page(browser, f"{site_url}{name}.html", viewport)
    try:
        if viewport is PHONE:
            # The drawer, then its "contents" panel of the page (material's toc.integrate).
            page.locator("label.md-header__button[for='__drawer']").click()
            page.wait_for_timeout(400)
            page.locator("label.md-nav__link[for='__toc']").first.click()
            page.wait_for_timeout(400)
        toc = page.locator(".md-nav--primary .md-nav--secondary").first
        links = toc.locator("a.md-nav__link")
        assert links.count() >= 3
        visible = [links.nth(i) for i in range(links.count()) if links.nth(i).is_visible()]
        assert len(visible) >= 3, "the contents are not on screen"
        text = toc.inner_text()
        assert "lomath" not in text
        assert toc.locator(".katex").count() > 0, "no rendered math in the contents"
        href = visible[2].get_attribute("href")
        visible[2].click()
        page.wait_for_timeout(300)
        assert page.evaluate("() => location.hash") == href
        assert watch.errors == []
    finally:
        context.close()


def test_search_and_navigation_work_from_disk(browser: Any, built_site: Path) -> None:
    """Opened as file://, the site searches and navigates, and asks for nothing else."""
    context = browser.new_context(viewport=WIDE)
    outside: list[str] = []
    errors: list[str] = []

    def route(route: Any) -> None:
        if urlsplit(route.request.url).scheme in ("file", "data", "blob", "about"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto((built_site / "index.html").as_uri(), wait_until="load")
        box = page.locator("input.md-search__input")
        box.click()
        box.press_sequentially("learning rate", delay=20)
        result = page.locator(".md-search-result__item").first
        result.wait_for(timeout=15000)
        href = result.locator("a").first.get_attribute("href")
        assert href and href.startswith("file://"), href
        result.locator("a").first.click()
        page.wait_for_load_state("load")
        assert page.locator(".lo-section").count() > 0, page.url
        # The last top-level chapter (the experiments' pages sit one folder down).
        name = [c for c in CHAPTERS if "/" not in c][-1]
        page.locator(f".md-nav--primary a.md-nav__link[href$='{name}.html']").first.click()
        page.wait_for_load_state("load")
        assert page.url.endswith(f"{name}.html") and page.locator(".lo-section").count() > 0
        assert page.locator(".katex").count() > 0
        assert outside == [], f"requests outside the site: {outside}"
        # Chromium refuses web fonts to file:// pages (CORS), so from disk KaTeX falls back to
        # local fonts: the math is there, in plainer type. Any other error fails.
        blocked_fonts = [e for e in errors if re.search(r"Access to font at 'file:.*CORS", e)]
        failed = [e for e in errors if e == "Failed to load resource: net::ERR_FAILED"]
        assert len(failed) <= len(blocked_fonts), f"console errors: {errors}"
        others = [e for e in errors if e not in blocked_fonts and e not in failed]
        assert others == [], f"console errors: {others}"
    finally:
        context.close()
