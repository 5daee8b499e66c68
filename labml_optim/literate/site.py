"""The site build without mkdocs: chapter pages, home-page listing, nav, math, figures.

`Site` holds one build. The mkdocs plugin (`mkdocs_plugin.py`, the only module that imports
mkdocs) calls it in this order:

1. `load(taken)`: the catalogue of the chapter package; `taken(path)` says whether the docs
   already have a file of that name (a chapter may not hide a hand-written page);
2. `chapter_page(entry)` for each chapter: its Markdown page, its math pulled out;
3. `docs_page(src_uri, source)` for each hand-written page: the chapter list filled in at
   the `<!-- chapters -->` marker of `index.md`, its math pulled out;
4. `nav(pages)`, `render_math()` (all formulas in one KaTeX run), `draw_figures()`;
5. `page_html(src_uri, html)` for each page after Markdown: math put back (bound to its
   punctuation, `reading.bind_punctuation`), anchors added, code blocks measured for phones
   (`reading.dedent_code`);
   `post_page(html, url)` adds the font preloads.

Every failure raises `SiteError` with `file:line: message` lines.
"""

from __future__ import annotations

import posixpath
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .anchors import AnchorError, anchor_page, heading_ids
from .catalogue import CatalogueError, Entry, discover, groups, listing
from .figure_html import figure_html
from .figures import FigureError, draw_figure, figure_files, figure_path, read_meta
from .katex_assets import KatexAssetError, KatexAssets, katex_assets, preload_links
from .math import MathError, MathItem, extract_math, find_katex, render_math, substitute_math
from .parse import Section, split_front_matter
from .reading import bind_punctuation, dedent_code
from .render import ChapterError, render_page

__all__ = ["INDEX_MARKER", "KATEX_DIR", "Site", "SiteError", "SiteOptions",
           "relative_root_links", "write_search_script"]

INDEX_MARKER = "<!-- chapters -->"
KATEX_DIR = "css/katex"


class SiteError(RuntimeError):
    """The site cannot be built; the message names the file (and line)."""


@dataclass
class SiteOptions:
    """Where things are. Paths are absolute; `project_dir` holds mkdocs.yml."""

    project_dir: Path
    chapters_dir: Path
    docs_dir: Path
    cache_dir: Path
    node_modules: Path | None = None
    figure_workers: int = 2
    figure_timeout: float = 600.0


@dataclass
class ChapterPage:
    entry: Entry
    rel: str  # the chapter file as messages show it: labml_optim/sgd.py
    figure: Path  # the cached figure
    drawn: bool = False


@dataclass
class Site:
    options: SiteOptions
    chapters: list[ChapterPage] = field(default_factory=list)
    by_page: dict[str, ChapterPage] = field(default_factory=dict)
    items: list[MathItem] = field(default_factory=list)
    rendered: dict[str, str] = field(default_factory=dict)
    katex: KatexAssets | None = None
    log: Callable[[str], None] = print

    # -- paths ------------------------------------------------------------------------

    def display(self, path: Path) -> str:
        """A path relative to the project when it lies inside it."""
        try:
            return path.resolve().relative_to(self.options.project_dir).as_posix()
        except ValueError:
            return str(path)

    # -- 1. the catalogue ---------------------------------------------------------------

    def load(self, taken: Callable[[str], bool] = lambda _: False) -> list[Entry]:
        opts = self.options
        try:
            entries = discover(opts.chapters_dir, label=self.display(opts.chapters_dir))
        except CatalogueError as exc:
            raise SiteError(f"chapters failed to load:\n{exc}") from None
        errors = []
        for entry in entries:
            rel = self.display(entry.path)
            for suffix in (".md", ".py", ".png"):
                name = entry.stem + suffix
                if taken(name):
                    errors.append(f"{rel}:1: chapter page clashes with the docs' {name}")
            page = ChapterPage(entry, rel, figure_path(opts.cache_dir, entry.name,
                                                       entry.chapter.source))
            self.chapters.append(page)
            self.by_page[entry.page] = page
        if errors:
            raise SiteError("chapters failed to load:\n" + "\n".join(errors))
        return entries

    def chapter_for(self, src_uri: str) -> ChapterPage | None:
        return self.by_page.get(src_uri)

    # -- 2. chapter pages ---------------------------------------------------------------

    def chapter_page(self, page: ChapterPage) -> str:
        """The Markdown of one chapter page, its math swapped for placeholders."""
        entry = page.entry
        base = posixpath.basename(entry.stem)
        used: set[str] = set()

        def notes_filter(section: Section) -> str:
            notes = heading_ids(section.notes, used)
            markdown, found = extract_math(notes, file=page.rel, lines=section.notes_lines)
            self.items.extend(found)
            return markdown

        try:
            markdown = render_page(entry.chapter, figure=f"{base}.png", download=f"{base}.py",
                                   notes_filter=notes_filter, label=page.rel)
        except (ChapterError, MathError) as exc:
            raise SiteError(str(exc)) from None
        return markdown

    # -- 3. hand-written pages ------------------------------------------------------------

    def docs_page(self, src_uri: str, source: str) -> str | None:
        """A hand-written page with the chapter list filled in and its math swapped out.

        Returns None when the page needs no change.
        """
        rel = f"{self.display(self.options.docs_dir)}/{src_uri}"
        marker_line = None
        if src_uri == "index.md":
            if INDEX_MARKER not in source:
                raise SiteError(f"{rel}:1: the chapter list marker {INDEX_MARKER} is missing")
            marker_line = source[: source.index(INDEX_MARKER)].count("\n") + 1
        _meta, markdown, removed = split_front_matter(source)
        head = source[: len(source) - len(markdown)]
        lines = list(range(removed + 1, removed + 2 + markdown.count("\n")))
        if marker_line is not None:
            prefix = "../" * src_uri.count("/")
            chapters = listing([c.entry for c in self.chapters], link_prefix=prefix)
            at = markdown.index(INDEX_MARKER)
            row = markdown[:at].count("\n")
            lines = lines[:row] + [marker_line] * chapters.count("\n") + lines[row + 1 :]
            markdown = markdown.replace(INDEX_MARKER, chapters.rstrip("\n"), 1)
        markdown = heading_ids(markdown, set())
        try:
            new, found = extract_math(markdown, file=rel, lines=lines)
        except MathError as exc:
            raise SiteError(str(exc)) from None
        self.items.extend(found)
        if new == markdown and marker_line is None:
            return None
        return head + new

    # -- 4. nav, math, figures ----------------------------------------------------------

    def nav(self, docs_pages: list[str]) -> list[Any]:
        """Home, one section per chapter group in reading order, then the other pages."""
        nav: list[Any] = []
        if "index.md" in docs_pages:
            nav.append({"Home": "index.md"})
        for group, members in groups([c.entry for c in self.chapters]):
            nav.append({group: [e.page for e in members]})
        nav += sorted(p for p in docs_pages if p != "index.md")
        return nav

    def render_math(self) -> None:
        start = time.perf_counter()
        node_modules = self.options.node_modules
        try:
            katex = find_katex(node_modules)
            self.katex = katex_assets(katex)
            self.rendered = render_math(self.items, node_modules=katex.parent)
        except (MathError, KatexAssetError) as exc:
            raise SiteError(f"math: {exc}") from None
        self.log(f"math: {len(self.items)} formulas in {time.perf_counter() - start:.2f} s")

    def katex_files(self) -> list[tuple[str, str | Path]]:
        """(site path, text or source file) of the KaTeX stylesheet and fonts."""
        if self.katex is None:
            katex = katex_assets(find_katex(self.options.node_modules))
            self.katex = katex
        files: list[tuple[str, str | Path]] = [(f"{KATEX_DIR}/katex.css", self.katex.css)]
        files += [(f"{KATEX_DIR}/fonts/{f.name}", f) for f in self.katex.fonts]
        return files

    def _draw(self, page: ChapterPage) -> str | None:
        opts = self.options
        try:
            page.drawn = draw_figure(
                page.entry.path, page.figure, label=page.rel, timeout=opts.figure_timeout,
                module=page.entry.module, root=opts.chapters_dir.parent,
            )
        except FigureError as exc:
            return str(exc)
        return None

    def draw_figures(self) -> None:
        """Runs every chapter's `main --save` whose figure is not cached."""
        self.options.cache_dir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=self.options.figure_workers) as pool:
            errors = [e for e in pool.map(self._draw, self.chapters) if e]
        drawn = [c.entry.name for c in self.chapters if c.drawn]
        if drawn:
            self.log(f"figures: drew {', '.join(drawn)} in {time.perf_counter() - start:.1f} s "
                     f"({len(self.chapters) - len(drawn)} cached)")
        if errors:
            raise SiteError("chapter figures failed:\n" + "\n\n".join(errors))

    # -- 5. HTML -------------------------------------------------------------------------

    def page_html(self, src_uri: str, html: str) -> tuple[str, set[str]]:
        """A page's HTML with the math put back and, on chapter pages, the anchors."""
        chapter = self.by_page.get(src_uri)
        where = chapter.rel if chapter else src_uri
        try:
            html = substitute_math(bind_punctuation(html), self.rendered)
        except MathError as exc:
            raise SiteError(f"{where}: {exc}") from None
        if chapter is None:
            return html, set()
        if all(p.is_file() for p in figure_files(chapter.figure)):
            base = posixpath.basename(chapter.entry.stem)
            html = figure_html(html, base, read_meta(chapter.figure))
        try:
            html, lines = anchor_page(html, where)
        except AnchorError as exc:
            raise SiteError(str(exc)) from None
        return dedent_code(html), lines

    def retitle(self, items: list[Any]) -> None:
        """Renders the math in contents entries (objects with `title` and `children`)."""
        for item in items:
            try:
                item.title = substitute_math(item.title, self.rendered)
            except MathError:
                pass  # a title without a rendering stays as it is; the page check reports it
            self.retitle(list(getattr(item, "children", []) or []))

    def post_page(self, html: str, page_url: str, src_uri: str | None = None) -> str:
        """Marks chapter pages on `<body>` and preloads the KaTeX fonts their math uses."""
        if src_uri is not None and src_uri in self.by_page:
            html = html.replace("<body ", "<body data-lo-chapter ", 1)
        if self.katex is None:
            return html
        fonts = self.katex.plan.fonts_for(html)
        base = posixpath.dirname(page_url)

        def href(font: str) -> str:
            return posixpath.relpath(f"{KATEX_DIR}/{font}", base or ".")

        return preload_links(html, fonts, href)


def relative_root_links(html: str) -> str:
    """Links of a page at the site's root written `/x` (mkdocs' 404 page without a
    `site_url`) as `x`, so they also work when the site is opened from disk."""
    return re.sub(r'\b(href|src)="/(?!/)', r'\1="', html)


def write_search_script(site_dir: Path) -> bool:
    """Copies the search index into `search/search_index.js` (`var __index = ...`).

    mkdocs-material reads that script instead of fetching the JSON when the site is opened
    from disk, where a page may not fetch files. Returns False when there is no index.
    """
    index = site_dir / "search" / "search_index.json"
    if not index.is_file():
        return False
    data = index.read_text(encoding="utf-8")
    (site_dir / "search" / "search_index.js").write_text(f"var __index = {data}",
                                                         encoding="utf-8")
    return True
