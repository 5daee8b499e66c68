"""KaTeX's stylesheet and fonts, served by the site itself, and the fonts a page preloads.

`katex_assets(katex_dir)` reads `katex/dist/katex.min.css`, keeps only the woff2 fonts
(every browser the site serves reads them) and returns the CSS with the font files to copy
beside it. `FontPlan.preload(html)` names the fonts a page's formulas are drawn in: KaTeX's
CSS keeps a formula invisible until its font has loaded, and a browser learns which fonts it
needs only after styles and layout, so asking for them with the HTML shows math sooner.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "FontPlan", "KatexAssetError", "KatexAssets", "font_plan", "katex_assets", "preload_links",
]


class KatexAssetError(RuntimeError):
    """KaTeX's files are missing or not what the site expects."""


@dataclass
class FontPlan:
    """Which font file each kind of KaTeX element is drawn in.

    `base` holds the fonts every formula needs (`.katex` is set in KaTeX_Main); `rules`
    pairs the classes an element carries with the font it is then drawn in.
    """

    base: list[str] = field(default_factory=list)
    rules: list[tuple[frozenset[str], str]] = field(default_factory=list)

    def fonts_for(self, html: str) -> list[str]:
        """The font files (paths relative to the CSS) the formulas in `html` use."""
        if 'class="katex' not in html:
            return []
        used = {frozenset(c.split()) for c in re.findall(r'class="([^"]*)"', html)}
        fonts = list(self.base)
        for classes, font in self.rules:
            if font not in fonts and any(classes <= have for have in used):
                fonts.append(font)
        return fonts


@dataclass
class KatexAssets:
    css: str
    fonts: list[Path]
    plan: FontPlan


def _face_key(body: str, family: str) -> tuple[str, str, str]:
    weight = re.search(r"font-weight:\s*(\w+)", body)
    style = re.search(r"font-style:\s*(\w+)", body)
    return (
        family,
        "bold" if weight and weight.group(1) in ("bold", "700") else "normal",
        style.group(1) if style else "normal",
    )


def font_plan(css: str) -> FontPlan:
    """Reads from KaTeX's CSS which font file each kind of element is drawn with."""
    faces: dict[tuple[str, str, str], str] = {}
    for body in re.findall(r"@font-face\s*\{([^}]*)\}", css):
        family = re.search(r"font-family:\s*([\w-]+)", body)
        url = re.search(r"url\(([^)]+\.woff2)\)", body)
        if family and url:
            faces[_face_key(body, family.group(1))] = url.group(1).strip("'\"")
    rules: list[tuple[frozenset[str], str]] = []
    for selectors, body in re.findall(r"([^{}@]+)\{([^{}]*font-family:\s*KaTeX_[^{}]*)\}", css):
        family = re.search(r"font-family:\s*(KaTeX_\w+)", body)
        assert family is not None
        key = _face_key(body, family.group(1))
        if key not in faces:
            continue
        for selector in selectors.split(","):
            last = re.split(r"[\s>+~]+", selector.strip())
            classes = [c for c in (last[-1] if last[-1] != "span" else last[-2]).split(".") if c]
            if classes:
                rules.append((frozenset(classes), faces[key]))
    base = [faces[k] for k in (("KaTeX_Main", "normal", "normal"),) if k in faces]
    return FontPlan(base, rules)


def katex_assets(katex_dir: Path) -> KatexAssets:
    """The site's KaTeX CSS (woff2 fonts only) and the font files it refers to."""
    dist = Path(katex_dir) / "dist"
    css_path = dist / "katex.min.css"
    if not css_path.is_file():
        raise KatexAssetError(f"KaTeX not found at {dist}; run `npm ci`")
    css = css_path.read_text(encoding="utf-8")
    css = re.sub(r',\s*url\([^)]*\.woff\) format\("woff"\)', "", css)
    css = re.sub(r',\s*url\([^)]*\.ttf\) format\("truetype"\)', "", css)
    for url in re.findall(r"url\(([^)]*)\)", css):
        name = url.strip("'\"")
        if not name.endswith(".woff2") or not (dist / name).is_file():
            raise KatexAssetError(
                f"KaTeX CSS refers to {name}, which is not a woff2 font in {dist}"
            )
    fonts = sorted((dist / "fonts").glob("*.woff2"))
    return KatexAssets(css, fonts, font_plan(css))


def preload_links(html: str, fonts: list[str], href: Callable[[str], str]) -> str:
    """`html` with `<link rel="preload">` for `fonts` before its first stylesheet.

    `href(font)` gives the URL of a font relative to the page.
    """
    if not fonts:
        return html
    links = "".join(
        f'<link rel="preload" href="{href(font)}" as="font" type="font/woff2" crossorigin>'
        for font in fonts
    )
    at = html.find('<link rel="stylesheet"')
    if at < 0:
        at = html.find("</head>")
    return html[:at] + links + html[at:] if at >= 0 else html
