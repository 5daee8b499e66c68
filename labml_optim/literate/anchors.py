"""Anchors on a chapter page's HTML: every row (`#s-12`) and every code line (`#L42`).

`anchor_page(html, where)` works on the HTML that Markdown made of a page from
`render_page` (with `pymdownx.highlight`'s `anchor_linenums` and `line_spans`):

- pymdownx names its line anchors `__codelineno-<block>-<n>`; inside the code cells of rows
  they are renamed after the file's real line numbers: each line is
  `<span class="lo-line" id="L42">`, and its number in the gutter links to `#L42`. The number
  links leave the tab order (`tabindex="-1"`): a keyboard user meets one anchor per row,
  not one per line. A block of example code inside the notes keeps pymdownx's names.
- every row gets a visible `§` link to itself as its first child, in the tab order.
- fewer elements per code line (first paint, scripts/bench_site.py): a gutter number is its
  link alone, without pygments' `<span class="normal">` around it (literate.css gives the
  link the span's padding); whitespace tokens (`<span class="w"> </span>`) and the empty
  `<span></span>` opening each `<pre>` become plain text or nothing. What shows is the same.

`heading_ids(markdown, used)`, run on the Markdown before the math is taken out, gives each
heading with math an id spelled from its TeX.

A line shown twice raises `AnchorError`, naming `where`.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["AnchorError", "anchor_page", "heading_ids", "slim_code"]

_SECTION_OPEN = re.compile(r'<div(?=[^>]*\bclass="lo-section[^"]*")(?=[^>]*\bid="([^"]+)")[^>]*>')
_NUMBERED_BLOCK = re.compile(r'<td class="linenos">.*?href="#__codelineno-(\d+)-', re.S)


class AnchorError(ValueError):
    """The page cannot be anchored (a code line shown twice)."""


def _line_anchors(html: str, where: str) -> tuple[str, set[str]]:
    blocks: set[str] = set()
    for chunk in _SECTION_OPEN.split(html)[1:]:
        code_at = chunk.find('class="lo-code"')
        if code_at >= 0:
            blocks.update(_NUMBERED_BLOCK.findall(chunk[code_at:]))
    if not blocks:
        return html, set()
    alt = "|".join(sorted(blocks))
    seen: set[str] = set()
    duplicates: set[str] = set()

    def span(m: re.Match[str]) -> str:
        anchor = f"L{m.group(2)}"
        if anchor in seen:
            duplicates.add(anchor)
        seen.add(anchor)
        return f'<span class="lo-line" id="{anchor}">'

    html = re.sub(
        rf'<a id="__codelineno-(?:{alt})-\d+" name="__codelineno-(?:{alt})-\d+"></a>', "", html
    )
    html = re.sub(rf'<span id="__span-({alt})-(\d+)">', span, html)
    html = re.sub(rf'<a href="#__codelineno-(?:{alt})-(\d+)"', r'<a href="#L\1" tabindex="-1"',
                  html)
    if duplicates:
        raise AnchorError(f"{where}: code lines shown twice: {', '.join(sorted(duplicates))}")
    return html, seen


_GUTTER_SPAN = re.compile(r'<span class="normal">(<a href="#L\d+" tabindex="-1"> *\d+</a>)</span>')
_SPACE_TOKEN = re.compile(r'<span class="w">(\s*)</span>')


def slim_code(html: str) -> str:
    """The page with fewer elements per code line and the same text (see the docstring)."""
    html = _GUTTER_SPAN.sub(r"\1", html)
    html = _SPACE_TOKEN.sub(r"\1", html)
    return html.replace("<pre><span></span>", "<pre>")


def anchor_page(html: str, where: str) -> tuple[str, set[str]]:
    """Line and row anchors on a chapter page; returns the HTML and the line ids."""
    html, lines = _line_anchors(html, where)
    html = slim_code(html)
    html = _SECTION_OPEN.sub(
        lambda m: (
            f'{m.group(0)}<a class="lo-anchor" href="#{m.group(1)}" '
            f'title="Link to this row" aria-label="Link to this row">§</a>'
        ),
        html,
    )
    return html, lines


_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")


def _slug(text: str) -> str:
    """Python-Markdown's default slug of a heading's text with its TeX spelled out."""
    text = re.sub(r"\$+([^$]*)\$+", lambda m: m.group(1), text)
    text = re.sub(r"\\([A-Za-z]+)", r"\1", text)  # \psi -> psi
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def heading_ids(markdown: str, used: set[str]) -> str:
    """Gives every ATX heading that holds `$` math an id made from its TeX text.

    `## 3. The law of $\\psi_t^2$` gets `{ #3-the-law-of-psi_t2 }` (attr_list), so links and
    the contents name the heading by what it says, not by a placeholder. Ids already in
    `used` get `-2`, `-3`, ...; `used` collects the ids given. Fenced code is left alone, and
    so is a heading that sets its own attributes.
    """
    out: list[str] = []
    fence: str | None = None
    for line in markdown.split("\n"):
        marker = line.lstrip()[:3]
        if marker in ("```", "~~~"):
            fence = None if fence == marker else (fence or marker)
        found = _HEADING.match(line) if fence is None else None
        if found and "$" in found.group(2) and not found.group(2).rstrip().endswith("}"):
            base = _slug(found.group(2)) or "section"
            ident, n = base, 1
            while ident in used:
                n += 1
                ident = f"{base}-{n}"
            used.add(ident)
            line = f"{found.group(1)} {found.group(2)} {{ #{ident} }}"
        out.append(line)
    return "\n".join(out)
