"""The site search: what the index holds (each formula once as TeX; no code cells, §,
download link or KaTeX glyphs) and, in chromium over the real search, that "Adam" finds the
Adam chapter first and "bias correction" gives a readable excerpt."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from support.browser import WIDE, open_page

from labml_optim.literate.mkdocs_plugin import prefix_boost
from labml_optim.literate.search import search_text

FORMULA = (
    '<span class="katex"><span class="katex-mathml"><math><semantics><mrow><msub><mi>β</mi>'
    '<mn>2</mn></msub></mrow><annotation encoding="application/x-tex">\\beta_2</annotation>'
    '</semantics></math></span><span class="katex-html" aria-hidden="true"><span class="base">'
    '<span class="mord">β</span><span>\u200b</span></span></span></span>'
)


@pytest.mark.parametrize(("html", "expected"), [
    (f"<p>With {FORMULA}, fine.</p>",
     '<p>With <span class="katex"><span class="katex-mathml">\\beta_2</span></span>, fine.</p>'),
    ('<div class="lo-section"><div class="lo-notes"><p>a</p></div><div class="lo-code">'
     '<div class="highlight"><pre><span>x = 1</span></pre></div></div></div>',
     '<div class="lo-section"><div class="lo-notes"><p>a</p></div></div>'),
    ('<p><a class="lo-download" href="a.py">Download a.py</a></p><h2 id="x">X</h2>'
     '<a class="lo-anchor" href="#s-1">§</a>', '<p></p><h2 id="x">X</h2>'),
    ("<p>a &amp; b<br>c</p>", "<p>a &amp; b<br>c</p>"),
])
def test_search_text(html: str, expected: str) -> None:
    got = search_text(html)
    assert re.sub(r"\s+", "", got) == re.sub(r"\s+", "", expected)


def test_prefix_boost() -> None:
    titles = ["Adam", "AdamW", "Adamax", "Rectified Adam (RAdam)", "Adagrad"]
    assert prefix_boost("Adam", titles) == 5
    assert prefix_boost("AdamW", titles) == 1
    assert prefix_boost("Adagrad", titles) == 1


def test_search_index(built_site: Path) -> None:
    raw = (built_site / "search" / "search_index.json").read_text(encoding="utf-8")
    docs = json.loads(raw)["docs"]
    text = " ".join(d["title"] + " " + d["text"] for d in docs)
    assert "\u200b" not in text, "KaTeX glyph HTML is indexed"
    # Row anchors (§ alone) are gone; the prose's "§2" of a paper stays.
    assert not re.search(r"§(?!\d)", text) and "Download " not in text
    assert "exp_avg_sq.mul_(" not in text, "code cells are indexed"
    # Each formula once, as its TeX: RAdam's r_t formula appears as TeX and not as glyphs.
    assert "\\rho_\\infty" in text and "ρ∞" not in text
    # Bytes per page: 284 KB for 12 pages before the cleanup (23.7 KB a page), 129 KB after.
    # The prose has grown since (the fast chapter's sections and tables): 468 KB for 29
    # pages, 16.2 KB a page, when the write-back section was added. The bound stays well
    # below what glyph HTML cost.
    pages = {d["location"].split("#")[0] for d in docs}
    assert len(raw.encode()) / len(pages) < 18_000, (len(raw.encode()), len(pages))
    # The served pages keep their math and code.
    page = (built_site / "adam.html").read_text(encoding="utf-8")
    assert 'class="katex-html"' in page and 'class="lo-code"' in page
    assert "data-search-exclude" not in page


def search(page: Any, query: str) -> Any:
    box = page.locator("input.md-search__input")
    box.click()
    box.press_sequentially(query, delay=10)
    items = page.locator(".md-search-result__item > a")
    items.first.wait_for(timeout=15000)
    page.wait_for_timeout(300)
    return items


@pytest.mark.browser
def test_search_ranking_and_excerpt(browser: Any, site_url: str) -> None:  # noqa: F811
    for query, first, snippet in [("Adam", "adam.html", None),
                                  ("bias correction", "adam.html", "bias correction")]:
        context, page, watch = open_page(browser, f"{site_url}index.html", WIDE)
        try:
            items = search(page, query)
            href = items.first.get_attribute("href") or ""
            assert href.split("?")[0].rsplit("/", 1)[-1] == first, (query, href)
            shown = " ".join(items.nth(i).inner_text() for i in range(min(3, items.count())))
            assert "\u200b" not in shown and "Download" not in shown
            if snippet:
                assert snippet in shown.lower(), shown
            assert watch.blocked == [] and watch.errors == []
        finally:
            context.close()
