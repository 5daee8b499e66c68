"""Accessibility: the row anchors (§) and the code's line numbers keep a contrast of at
least 3:1 with what is behind them, in the light and the dark scheme (computed in chromium
from the computed styles: colour and opacity blended over the first opaque background)."""

from __future__ import annotations

from typing import Any

import pytest
from support.browser import WIDE, open_page

pytestmark = pytest.mark.browser

# WCAG 2 contrast of an element's text: its colour (alpha and the opacity of it and its
# ancestors applied) over the blended backgrounds behind it.
CONTRAST = """(selector) => {
    const parse = c => { const m = c.match(/[\\d.]+/g).map(Number);
                         return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
    const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3]));
    const lum = c => { const [r, g, b] = c.map(v => { v /= 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const el = document.querySelector(selector);
    if (!el) return null;
    const layers = [];
    let opacity = 1;
    for (let n = el; n; n = n.parentElement) {
        const s = getComputedStyle(n);
        opacity *= Number(s.opacity);
        layers.push(parse(s.backgroundColor));
    }
    let bg = [255, 255, 255];
    for (const layer of layers.reverse()) bg = over(layer, bg);
    const fg = parse(getComputedStyle(el).color);
    const text = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
    const [a, b] = [lum(text), lum(bg)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
}"""

TARGETS = {
    "§ anchor": ".lo-section > .lo-anchor",
    "line number": ".lo-code .linenodiv a, .lo-code .linenos a, .lo-code .linenodiv pre",
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_anchor_and_line_number_contrast(browser: Any, site_url: str, scheme: str) -> None:  # noqa: F811
    context, page, watch = open_page(browser, f"{site_url}adam.html", WIDE, scheme)
    try:
        page.mouse.move(0, 0)  # nothing hovered: the resting colours
        for name, selector in TARGETS.items():
            ratio = page.evaluate(CONTRAST, selector)
            assert ratio is not None, f"no {name} ({selector}) on the page"
            assert ratio >= 3.0, f"{scheme}: {name} contrast {ratio:.2f}:1 is under 3:1"
    finally:
        context.close()
