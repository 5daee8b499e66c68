"""The HTML of a chapter's figure: sized, legible on every screen, light and dark.

Markdown turns the chapter's `![alt](name.png)` into a bare `<img>`. `figure_html` swaps it
for

    <figure class="lo-figure">
      <a class="lo-figure-link lo-figure-light" href="name.png">      (the full-size figure)
        <picture>
          <source media="(max-width: ...)" srcset="name.narrow.png" width=... height=...>
          <img alt=... src="name.png" width=... height=... loading="lazy" ...>
        </picture>
      </a>
      <a class="lo-figure-link lo-figure-dark" href="name.dark.png"> ...the same, dark... </a>
    </figure>

- `width`/`height` are the image's pixel size, so the browser reserves its box before the
  image arrives (no layout shift); CSS shows it at most that wide and never wider than
  the row.
- The wide figure (as `main` draws it) is shown while its smallest text stays at least
  `MIN_TEXT_PX` CSS pixels on screen; below the window width where it would not, the
  phone layout (`name.narrow.png`, panels in one column) replaces it. The switch is a
  media query, so the browser fetches only the one it shows.
- Material's scheme is an attribute on `<body>` (`data-md-color-scheme="slate"` when dark),
  which a `<picture>` media query cannot see: CSS shows one link and hides the other, and
  `loading="lazy"` keeps the hidden one from being fetched.
- Each link opens the full-size figure of its scheme, the wide one, which a phone can zoom.
- `data-lo-text-px` / `data-lo-narrow-text-px` carry the smallest text in image pixels,
  so a browser test can check what a reader sees: text px * shown width / image width.
"""

from __future__ import annotations

import html as html_lib
import math
import re
from typing import Any

__all__ = ["MIN_TEXT_PX", "narrow_below", "figure_html"]

# The smallest text a figure may show, in CSS pixels.
MIN_TEXT_PX = 9.0
# What material leaves of the window for the page content: below its 76.25em (1220 px)
# narrow_below its margins (0.8rem each side, 20 px rems), above it also the 12.1rem sidebar
# and wider margins (22 px rems from 100em). Rounded up, so the switch errs towards the
# legible layout.
NARROW_MARGINS_PX = 40
SIDEBAR_BREAK_PX = 1220
WIDE_MARGINS_PX = 340

_IMG_PARAGRAPH = r'<p>\s*(<img\b[^>]*?\bsrc="{src}"[^>]*>)\s*</p>'
_ATTR = re.compile(r'\b([a-zA-Z-]+)="([^"]*)"')


def narrow_below(width: int, min_text_px: float) -> int | None:
    """The widest window (CSS px) that gets the phone layout, or None if never needed.

    The wide figure is shown `min(width, content)` pixels wide; its smallest text is then
    `min_text_px * shown / width`, at least `MIN_TEXT_PX` once the content is
    `MIN_TEXT_PX * width / min_text_px` wide.
    """
    if min_text_px <= 0:
        return None
    needed = MIN_TEXT_PX * width / min_text_px  # content width (CSS px) for legible text
    window = needed + NARROW_MARGINS_PX
    if window >= SIDEBAR_BREAK_PX:
        window = max(needed + WIDE_MARGINS_PX, SIDEBAR_BREAK_PX)
    return math.ceil(window)


def _picture(base: str, suffix: str, meta: dict[str, Any], alt: str, css: str,
             bp: int | None, scheme: str) -> str:
    key = "wide" if suffix == "" else suffix.lstrip(".")
    wide = meta[key]
    narrow = meta["narrow" + suffix]
    width, height = wide["size"]
    nwidth, nheight = narrow["size"]
    full = f"{base}{suffix}.png"
    classes = f' class="{css}"' if css else ""
    source = ""
    if bp is not None:
        source = (f'<source media="(max-width: {bp - 0.02:.2f}px)" '
                  f'srcset="{base}.narrow{suffix}.png" width="{nwidth}" height="{nheight}">')
    label = "Open the full-size figure" + (" (dark)" if suffix else "")
    return (
        f'<a class="lo-figure-link lo-figure-{scheme}" href="{full}" title="{label}">'
        f"<picture>{source}"
        f'<img alt="{alt}" src="{full}" width="{width}" height="{height}"{classes} '
        f'loading="lazy" decoding="async" data-lo-text-px="{wide["min_text_px"]}" '
        f'data-lo-narrow-text-px="{narrow["min_text_px"]}">'
        "</picture></a>"
    )


def figure_html(page: str, base: str, meta: dict[str, Any]) -> str:
    """The page with its figure `<base>.png` (a paragraph holding only the image) swapped
    for the markup above; `meta` is the cached figure's sizes (`figures.read_meta`)."""
    pattern = re.compile(_IMG_PARAGRAPH.format(src=re.escape(f"{base}.png")))

    def swap(found: re.Match[str]) -> str:
        attrs = dict(_ATTR.findall(found.group(1)))
        alt = attrs.get("alt", "")
        css = attrs.get("class", "")
        wide = meta["wide"]
        bp = narrow_below(wide["size"][0], wide["min_text_px"])
        alt = html_lib.escape(html_lib.unescape(alt), quote=True)
        light = _picture(base, "", meta, alt, css, bp, "light")
        dark = _picture(base, ".dark", meta, alt, "", bp, "dark")
        return f'<figure class="lo-figure">{light}{dark}</figure>'

    return pattern.sub(swap, page)
