"""Small build-time touches to a page's HTML that make it read well on every screen.

- `bind_punctuation(html, long)`: an inline formula and the punctuation written right after
  it (`$x$,` or `$x$).`), and an opening bracket right before it, go into one
  `<span class="lo-nobr">`, so a "." or "," never starts a line on its own. It works on the
  HTML that still holds the math placeholders (`lomathi...`, see `math.extract_math`), so it
  runs before `math.substitute_math`; text inside tags (ids, hrefs) is left alone. The
  stylesheet keeps the span, and inline formulas in the notes, on one line. A formula too
  long for a phone's column (`long`, the keys `long_formulas` picks) cannot stay on one
  line: its span is `lo-nobr lo-long`, where the stylesheet lets it break only where TeX
  would (after a top-level relation or operator, between KaTeX's `.base` boxes). Its
  punctuation is then held only by the span's nowrap, which Chromium does not honour after
  an inline-block: when the formula's last box ends a line, the "." may start the next.
- `dedent_code(html)`: every code block shown in a row's code cell (its lines marked
  `<span class="lo-line">` by `anchors.anchor_page`) gets `style="--lo-dedent:N"` on its
  `<code>`, N being the spaces every non-blank line of the block starts with. On phones the
  stylesheet moves each line N characters left, so deep code is not pushed off screen by
  indentation it shares; the text (and what the copy button copies) and the line numbers
  are the file's own.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Collection

__all__ = ["LONG_GLYPHS", "bind_punctuation", "common_indent", "dedent_code", "glyphs",
           "long_formulas"]

_INLINE_KEY = r"lomathi[0-9]+z[0-9a-f]{10}"
# An opening bracket right before the formula, and closing punctuation right after it.
_BOUND = re.compile(rf"([(\[]?)({_INLINE_KEY})([.,;:!?)\]]*)")
_TAG = re.compile(r"(<[^>]*>)")


# More glyphs than this (about 11 px each in the notes' math) and an inline formula may not
# fit a phone's notes column (358 px at 390 px) or the notes beside code at 1400 px.
LONG_GLYPHS = 24


def glyphs(rendered: str) -> int:
    """The visible characters of a KaTeX rendering (its HTML part, not the MathML)."""
    at = rendered.find('class="katex-html"')
    part = rendered[rendered.index(">", at) + 1 :] if at >= 0 else rendered
    text = htmllib.unescape(_TAG.sub("", part))
    return sum(1 for ch in text if not ch.isspace() and ch not in "\u200b\u2060")


def long_formulas(rendered: dict[str, str], limit: int = LONG_GLYPHS) -> set[str]:
    """The keys of inline formulas whose rendering shows more than `limit` glyphs."""
    return {key for key, html in rendered.items()
            if key.startswith("lomathi") and glyphs(html) > limit}


def bind_punctuation(html: str, long: Collection[str] = ()) -> str:
    """Wraps each inline-math placeholder with its adjacent punctuation in a no-break span."""

    def bind(match: re.Match[str]) -> str:
        before, key, after = match.groups()
        if key in long:
            return f'<span class="lo-nobr lo-long">{before}{key}{after}</span>'
        if not before and not after:
            return key
        return f'<span class="lo-nobr">{before}{key}{after}</span>'

    parts = _TAG.split(html)
    for index in range(0, len(parts), 2):  # even parts are text between tags
        if "lomathi" in parts[index]:
            parts[index] = _BOUND.sub(bind, parts[index])
    return "".join(parts)


def common_indent(lines: list[str]) -> int:
    """The number of spaces every non-blank line starts with (0 if a line starts with a tab)."""
    indents = []
    for line in lines:
        if not line.strip():
            continue
        lead = line[: len(line) - len(line.lstrip())]
        if "\t" in lead.replace("\f", ""):
            return 0
        indents.append(len(lead.replace("\f", "")))
    return min(indents, default=0)


_CODE = re.compile(r"<code(\s[^>]*)?>(.*?)</code>", re.S)
_LINE = '<span class="lo-line"'


def _line_texts(inner: str) -> list[str]:
    """The text of each `lo-line` span in a code element's HTML (up to its newline)."""
    texts = []
    for chunk in inner.split(_LINE)[1:]:
        text = htmllib.unescape(_TAG.sub("", chunk[chunk.find(">") + 1 :]))
        texts.append(text.split("\n", 1)[0])
    return texts


def dedent_code(html: str) -> str:
    """Adds `style="--lo-dedent:N"` to every row code block whose lines share N spaces."""

    def mark(match: re.Match[str]) -> str:
        attrs, inner = match.group(1) or "", match.group(2)
        if _LINE not in inner or "style=" in attrs:
            return match.group(0)
        indent = common_indent(_line_texts(inner))
        if indent == 0:
            return match.group(0)
        return f'<code{attrs} style="--lo-dedent:{indent}">{inner}</code>'

    return _CODE.sub(mark, html)
