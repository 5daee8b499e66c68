"""Small build-time touches to a page's HTML that make it read well on every screen.

- `bind_punctuation(html)`: an inline formula and the punctuation written right after it
  (`$x$,` or `$x$).`), and an opening bracket right before it, go into one
  `<span class="lo-nobr">`, so a "." or "," never starts a line on its own. It works on the
  HTML that still holds the math placeholders (`lomathi...`, see `math.extract_math`), so it
  runs before `math.substitute_math`; text inside tags (ids, hrefs) is left alone. The
  stylesheet makes the span, and every inline formula in the notes, one unbreakable box
  (`display: inline-block` with `white-space: nowrap`: Chromium breaks around KaTeX's
  inline-block `.base` boxes even inside a nowrap inline span, never inside an
  inline-block). An inline formula therefore never wraps; one too wide for a phone's column
  belongs in display math in the chapter's source (tests/test_site_browser.py measures every
  chapter at 390 and 1400 px).
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

__all__ = ["bind_punctuation", "common_indent", "dedent_code"]

_INLINE_KEY = r"lomathi[0-9]+z[0-9a-f]{10}"
# An opening bracket right before the formula, and closing punctuation right after it.
_BOUND = re.compile(rf"([(\[]?)({_INLINE_KEY})([.,;:!?)\]]*)")
_TAG = re.compile(r"(<[^>]*>)")


def bind_punctuation(html: str) -> str:
    """Wraps each inline-math placeholder with its adjacent punctuation in a no-break span."""

    def bind(match: re.Match[str]) -> str:
        before, key, after = match.groups()
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
