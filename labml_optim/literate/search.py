"""What the site search indexes of a page: prose, and each formula once, as its TeX.

mkdocs-material's search plugin indexes `page.content` in `on_page_context`. The literate
plugin hands it, for that moment only, `search_text(html)`: the page without

* KaTeX's glyph HTML (`span.katex-html`: a span a letter, zero-width spaces) and the
  presentation half of its MathML, so each formula is indexed once, as the TeX of its
  `<annotation>`;
* the code cells (`div.lo-code`): the chapter file itself is one click away;
* the row anchors (`a.lo-anchor`, the §), the download link (`a.lo-download`) and the
  interactive chart's fallback image class (nothing: images are not indexed).

(Material's own `data-search-exclude` attribute cannot do this: its parser tells elements
apart by tag name only, so the first nested `</span>` or `</div>` ends the exclusion.)
The served page is unchanged.
"""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["EXCLUDED_CLASSES", "search_text"]

EXCLUDED_CLASSES = frozenset({"lo-code", "lo-anchor", "lo-download", "katex-html"})
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "source", "track", "wbr"})


class _Strip(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.stack: list[str] = []  # open tags
        self.cut: int | None = None  # depth of the excluded element we are inside
        self.math: int | None = None  # depth of the <math> we are inside
        self.annotation = False

    def _hidden(self) -> bool:
        return self.cut is not None or (self.math is not None and not self.annotation)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if not self._hidden():
                self.out.append(self.get_starttag_text() or "")
            return
        self.stack.append(tag)
        depth = len(self.stack)
        classes = set((dict(attrs).get("class") or "").split())
        if self.cut is None and classes & EXCLUDED_CLASSES:
            self.cut = depth
        if tag == "math" and self.math is None:
            self.math = depth
        if tag == "annotation":
            self.annotation = True
        elif not self._hidden() and self.math is None:
            self.out.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self._hidden():
            self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if tag not in self.stack:
            return  # a stray end tag
        while self.stack:
            open_tag = self.stack.pop()
            depth = len(self.stack) + 1
            if open_tag == "annotation":
                self.annotation = False
                self.out.append(" ")
            elif not self._hidden() and self.math is None:
                self.out.append(f"</{open_tag}>")
            if self.cut == depth:
                self.cut = None
            if self.math == depth:
                self.math = None
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self._hidden():
            self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.handle_data(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.handle_data(f"&#{name};")


def search_text(html: str) -> str:
    """The page's HTML as the search should see it (see the module docstring)."""
    parser = _Strip()
    parser.feed(html)
    parser.close()
    return "".join(parser.out)
