"""The mkdocs hook that turns the chapter modules into the site.

Named in `mkdocs.yml` under `hooks:`. On every build it

- finds the chapters: each top-level `*.py` in the chapter directory (`labml_optim/` unless
  `extra.chapters_dir` in mkdocs.yml or the `LABML_OPTIM_CHAPTERS` environment variable
  says otherwise) whose name does not start with `_`;
- runs each chapter's `main` as `python -m <package>.<chapter> --save <png>`, two at a time,
  caching the figure under `.cache/figures/` by a hash of the chapter's source;
- adds, per chapter, a generated Markdown page, the `.py` file for download and the figure;
- fills the chapter list on the home page and writes the nav (Home, Optimizers, Schedules,
  Conventions);
- pulls the math out of every chapter's notes and every hand-written page, renders all of
  it with KaTeX in one batch, and puts the HTML back into each page;
- gives every code line an anchor named after its real line number (`#L42`).

Any error (bad Python, bad front matter, bad TeX, a failing `main`, a missing figure)
stops the build with a message that names the file, and the line where there is one.
"""

from __future__ import annotations

import ast
import logging
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url
from mkdocs.utils import meta as mkdocs_meta

from labml_optim.literate import (
    ChapterError,
    FigureError,
    MathError,
    Section,
    draw_figure,
    extract_math,
    figure_path,
    load_chapter,
    render_math,
    render_page,
    substitute_math,
)

log = logging.getLogger("mkdocs.hooks.labml_optim")

REPO_ROOT = Path(__file__).resolve().parent.parent

# The order a reader meets the chapters in. Chapters not named here come after their
# group's known ones, alphabetically.
READING_ORDER = [
    "sgd",
    "adagrad",
    "rmsprop",
    "adam",
    "amsgrad",
    "adamw",
    "radam",
    "lamb",
    "noam",
    "warmup",
]
SCHEDULES = {"noam", "warmup"}

INDEX_MARKER = "<!-- chapters -->"
FIGURE_WORKERS = 2
FIGURE_TIMEOUT_S = 600
KATEX_DIR = "css/katex"


@dataclass
class _Chapter:
    name: str
    path: Path
    rel: str  # the path as error messages show it, e.g. labml_optim/sgd.py
    chapter: Any  # labml_optim.literate.Chapter
    schedule: bool
    figure: Path  # where the figure is cached; drawn by _make_figures
    drawn: bool = False


@dataclass
class _State:
    config_dir: Path = REPO_ROOT
    chapters_dir: Path = REPO_ROOT / "labml_optim"
    cache_dir: Path = REPO_ROOT / ".cache" / "figures"
    node_modules: Path = REPO_ROOT / "node_modules"
    chapters: dict[str, _Chapter] = field(default_factory=dict)
    rendered: dict[str, str] = field(default_factory=dict)
    # KaTeX font files, and which elements (sets of classes) use which font.
    font_rules: list[tuple[frozenset[str], str]] = field(default_factory=list)
    base_fonts: list[str] = field(default_factory=list)


_state = _State()


# ---------------------------------------------------------------------------- config


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Works out where the chapters, the figure cache and KaTeX live."""
    global _state
    config_dir = Path(config.config_file_path).resolve().parent
    chapters = os.environ.get("LABML_OPTIM_CHAPTERS") or config.extra.get(
        "chapters_dir", "labml_optim"
    )
    chapters_dir = (config_dir / chapters).resolve()
    if not chapters_dir.is_dir():
        raise PluginError(f"chapter directory not found: {chapters_dir}")
    node_modules = config_dir / "node_modules"
    if not (node_modules / "katex").is_dir():
        node_modules = REPO_ROOT / "node_modules"
    _state = _State(
        config_dir=config_dir,
        chapters_dir=chapters_dir,
        cache_dir=config_dir / ".cache" / "figures",
        node_modules=node_modules,
    )
    _install_log_filter()
    return config


class _NameChapterFiles(logging.Filter):
    """Adds the chapter file to mkdocs' link warnings about a generated chapter page."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        found = re.match(r"Doc file '([^'/]+)\.md'", message)
        ch = _state.chapters.get(found.group(1)) if found else None
        if found is not None and ch is not None:
            record.msg = message.replace(found.group(0), f"{found.group(0)} (from {ch.rel})", 1)
            record.args = ()
        return True


def _install_log_filter() -> None:
    pages_log = logging.getLogger("mkdocs.structure.pages")
    for old in list(pages_log.filters):
        if type(old).__name__ == _NameChapterFiles.__name__:
            pages_log.removeFilter(old)  # one left by an earlier build under `mkdocs serve`
    pages_log.addFilter(_NameChapterFiles())


def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    """`mkdocs serve` rebuilds when a chapter changes."""
    server.watch(str(_state.chapters_dir))
    return server


# ----------------------------------------------------------------------------- files


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Adds the chapter pages, files, figures and KaTeX assets; renders all the math."""
    chapters = _load_chapters(files)

    items: list[Any] = []
    for ch in chapters:
        _add_chapter(files, config, ch, items)
    _add_katex(files, config)
    _prepare_docs_pages(files, config, chapters, items)
    config.nav = _nav(files, chapters)

    # Math first: a TeX error is reported in a second, before any figure is drawn.
    start = time.perf_counter()
    try:
        _state.rendered = render_math(items, node_modules=str(_state.node_modules))
    except MathError as e:
        raise PluginError(f"math: {e}") from None
    log.debug("math: %d formulas in %.2f s", len(items), time.perf_counter() - start)

    _make_figures(chapters)
    _state.chapters = {ch.name: ch for ch in chapters}
    return files


def _display_path(path: Path) -> str:
    """A path relative to the mkdocs project when it lies inside it."""
    try:
        return path.resolve().relative_to(_state.config_dir).as_posix()
    except ValueError:
        return str(path)


def _chapter_paths() -> list[Path]:
    return sorted(
        p for p in _state.chapters_dir.glob("*.py") if p.is_file() and not p.name.startswith("_")
    )


def _order_key(name: str) -> tuple[int, str]:
    if name in READING_ORDER:
        return (READING_ORDER.index(name), name)
    return (len(READING_ORDER), name)


def _is_schedule(name: str, source: str) -> bool:
    """Schedules subclass an LR scheduler; everything else counts as an optimizer."""
    if name in SCHEDULES:
        return True
    if name in READING_ORDER:
        return False
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                text = ast.unparse(base)
                if "LRScheduler" in text or text.endswith(("LambdaLR", "_LRScheduler")):
                    return True
    return False


def _load_chapters(files: Files) -> list[_Chapter]:
    errors: list[str] = []
    chapters: list[_Chapter] = []
    for path in _chapter_paths():
        name = path.stem
        rel = _display_path(path)
        for taken in (f"{name}.md", f"{name}.py", f"{name}.png"):
            if files.get_file_from_path(taken) is not None:
                errors.append(f"{rel}: chapter name clashes with docs/{taken}")
        try:
            chapter = load_chapter(path)
            schedule = _is_schedule(name, chapter.source)
        except ChapterError as e:
            errors.append(str(e).replace(str(path), rel, 1))
            continue
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError) as e:
            errors.append(f"{rel}: {e}")
            continue
        if not getattr(chapter, "title", None):
            errors.append(f"{rel}: front matter has no title")
        if not getattr(chapter, "summary", None):
            errors.append(f"{rel}: front matter has no summary")
        figure = figure_path(_state.cache_dir, name, chapter.source)
        ch = _Chapter(name, path, rel, chapter, schedule, figure)
        chapters.append(ch)
    if errors:
        raise PluginError("chapters failed to load:\n" + "\n".join(errors))
    if not chapters:
        raise PluginError(f"no chapters found in {_display_path(_state.chapters_dir)}")
    chapters.sort(key=lambda c: (c.schedule, *_order_key(c.name)))
    return chapters


# --------------------------------------------------------------------------- figures


def _run_main(ch: _Chapter) -> str | None:
    """Draws one figure into the cache; returns an error message or None."""
    try:
        ch.drawn = draw_figure(ch.path, ch.figure, label=ch.rel, timeout=FIGURE_TIMEOUT_S)
    except FigureError as e:
        return str(e)
    return None


def _make_figures(chapters: list[_Chapter]) -> None:
    _state.cache_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=FIGURE_WORKERS) as pool:
        errors = [e for e in pool.map(_run_main, chapters) if e]
    drawn = [c.name for c in chapters if c.drawn]
    if drawn:
        log.info(
            "figures: drew %s in %.1f s (%d cached)",
            ", ".join(drawn),
            time.perf_counter() - start,
            len(chapters) - len(drawn),
        )
    if errors:
        raise PluginError("chapter figures failed:\n" + "\n\n".join(errors))


# --------------------------------------------------------------------------- chapters


def _add_chapter(files: Files, config: MkDocsConfig, ch: _Chapter, items: list[Any]) -> None:
    def notes_filter(section: Section) -> str:
        markdown, found = extract_math(section.notes, file=ch.rel, lines=section.notes_lines)
        items.extend(found)
        return markdown

    try:
        page = render_page(
            ch.chapter,
            figure=f"{ch.name}.png",
            download=f"{ch.name}.py",
            notes_filter=notes_filter,
        )
    except (ChapterError, MathError) as e:
        raise PluginError(str(e)) from None
    if f"({ch.name}.png)" not in page:
        raise PluginError(f"{ch.rel}: the page does not show the figure {ch.name}.png")
    files.append(File.generated(config, f"{ch.name}.md", content=page))
    files.append(File.generated(config, f"{ch.name}.py", abs_src_path=str(ch.path)))
    files.append(File.generated(config, f"{ch.name}.png", abs_src_path=str(ch.figure)))


def _add_katex(files: Files, config: MkDocsConfig) -> None:
    """KaTeX's stylesheet and woff2 fonts, served from the site itself."""
    dist = _state.node_modules / "katex" / "dist"
    css_path = dist / "katex.min.css"
    if not css_path.is_file():
        raise PluginError(f"KaTeX not found at {dist}; run `npm ci`")
    css = css_path.read_text(encoding="utf-8")
    # Every browser we serve reads woff2, so drop the woff and ttf fallbacks.
    css = re.sub(r',\s*url\([^)]*\.woff\) format\("woff"\)', "", css)
    css = re.sub(r',\s*url\([^)]*\.ttf\) format\("truetype"\)', "", css)
    fonts = sorted((dist / "fonts").glob("*.woff2"))
    for url in re.findall(r"url\(([^)]*)\)", css):
        name = url.strip("'\"")
        if not (dist / name).is_file() or not name.endswith(".woff2"):
            raise PluginError(f"KaTeX CSS refers to {name}, which is not a woff2 font in {dist}")
    files.append(File.generated(config, f"{KATEX_DIR}/katex.css", content=css))
    _state.base_fonts, _state.font_rules = _font_rules(css)
    for font in fonts:
        files.append(
            File.generated(config, f"{KATEX_DIR}/fonts/{font.name}", abs_src_path=str(font))
        )


# ------------------------------------------------------------------ hand-written pages


def _chapter_list(chapters: list[_Chapter]) -> str:
    parts: list[str] = []
    for heading, group in (
        ("Optimizers", [c for c in chapters if not c.schedule]),
        ("Schedules", [c for c in chapters if c.schedule]),
    ):
        if not group:
            continue
        parts.append(f"## {heading}\n")
        for c in group:
            summary = " ".join(c.chapter.summary.split())
            parts.append(f"- [{c.chapter.title}]({c.name}.md): {summary}")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def _prepare_docs_pages(
    files: Files, config: MkDocsConfig, chapters: list[_Chapter], items: list[Any]
) -> None:
    """Fills the home page's chapter list and swaps every page's math for placeholders."""
    for file in files.documentation_pages():
        if file.generated_by is not None:
            continue
        source = file.content_string
        rel = f"{_display_path(Path(config.docs_dir))}/{file.src_uri}"
        marker_line = None
        if file.src_uri == "index.md":
            if INDEX_MARKER not in source:
                raise PluginError(f"{rel}: the chapter list marker {INDEX_MARKER} is missing")
            marker_line = source[: source.index(INDEX_MARKER)].count("\n") + 1
        markdown, _meta = mkdocs_meta.get_data(source)
        head = source[: len(source) - len(markdown)] if source.endswith(markdown) else ""
        first = head.count("\n") + 1
        lines = list(range(first, first + markdown.count("\n") + 1))
        if marker_line is not None:
            listing = _chapter_list(chapters)
            at = markdown.index(INDEX_MARKER)
            row = markdown[:at].count("\n")
            added = listing.count("\n")
            markdown = markdown.replace(INDEX_MARKER, listing.rstrip("\n"), 1)
            lines = lines[:row] + [marker_line] * added + lines[row + 1 :]
        new, found = extract_math(markdown, file=rel, lines=lines)
        items.extend(found)
        if new != markdown or marker_line is not None:
            file.content_string = head + new


def _nav(files: Files, chapters: list[_Chapter]) -> list[Any]:
    nav: list[Any] = [{"Home": "index.md"}]
    optimizers = [f"{c.name}.md" for c in chapters if not c.schedule]
    schedules = [f"{c.name}.md" for c in chapters if c.schedule]
    if optimizers:
        nav.append({"Optimizers": optimizers})
    if schedules:
        nav.append({"Schedules": schedules})
    others = sorted(
        f.src_uri
        for f in files.documentation_pages()
        if f.generated_by is None and f.src_uri not in ("index.md", "conventions.md")
    )
    nav.extend(others)
    if files.get_file_from_path("conventions.md") is not None:
        nav.append({"Conventions": "conventions.md"})
    return nav


# ------------------------------------------------------------------------------ pages


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Chapter pages are titled by their front matter and use the full width (no toc)."""
    ch = _state.chapters.get(page.file.src_uri[:-3])
    if ch is not None and page.file.generated_by is not None:
        page.meta.setdefault("title", ch.chapter.title)
        hide = list(page.meta.get("hide") or [])
        if "toc" not in hide:
            hide.append("toc")
        page.meta["hide"] = hide
    return markdown


_SECTION_OPEN = re.compile(r'<div(?=[^>]*\bclass="lo-section")(?=[^>]*\bid="([^"]+)")[^>]*>')
_NUMBERED_BLOCK = re.compile(r'<td class="linenos">.*?href="#__codelineno-(\d+)-', re.S)


def _anchor_lines(html: str, where: str) -> tuple[str, set[str]]:
    """Renames pymdownx's per-line anchors to the real line numbers: `L42`.

    Only the numbered blocks of code cells are renamed; a block of example code inside
    the notes keeps pymdownx's names.
    """
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
    html = re.sub(rf'href="#__codelineno-(?:{alt})-(\d+)"', r'href="#L\1"', html)
    if duplicates:
        raise PluginError(f"{where}: code lines shown twice: {', '.join(sorted(duplicates))}")
    return html, seen


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Puts the rendered math in, and anchors on every section and code line."""
    where = page.file.src_uri
    name = where[:-3] if where.endswith(".md") else where
    ch = _state.chapters.get(name) if page.file.generated_by is not None else None
    if ch is not None:
        where = ch.rel
    try:
        html = substitute_math(html, _state.rendered)
    except MathError as e:
        raise PluginError(f"{where}: {e}") from None
    except (KeyError, ValueError) as e:
        raise PluginError(f"{where}: math placeholder left unrendered: {e}") from None
    if ch is None:
        return html
    html, anchors = _anchor_lines(html, ch.rel)
    html = _SECTION_OPEN.sub(
        lambda m: (
            f'{m.group(0)}<a class="lo-anchor" href="#{m.group(1)}" '
            f'title="Link to this section" aria-label="Link to this section">§</a>'
        ),
        html,
    )
    if page.present_anchor_ids is not None:
        page.present_anchor_ids |= anchors
    return html


def _font_rules(css: str) -> tuple[list[str], list[tuple[frozenset[str], str]]]:
    """Reads from KaTeX's CSS which font file each kind of element is drawn with.

    Returns the fonts every formula needs (`.katex` is set in KaTeX_Main) and, for the
    other fonts, the classes an element carries when it is drawn in them.
    """
    faces: dict[tuple[str, str, str], str] = {}
    for body in re.findall(r"@font-face\s*\{([^}]*)\}", css):
        family = re.search(r"font-family:\s*([\w-]+)", body)
        url = re.search(r"url\(([^)]+\.woff2)\)", body)
        if family and url:
            weight = re.search(r"font-weight:\s*(\w+)", body)
            style = re.search(r"font-style:\s*(\w+)", body)
            key = (
                family.group(1),
                "bold" if weight and weight.group(1) in ("bold", "700") else "normal",
                style.group(1) if style else "normal",
            )
            faces[key] = url.group(1).strip("'\"")
    rules: list[tuple[frozenset[str], str]] = []
    for selectors, body in re.findall(r"([^{}@]+)\{([^{}]*font-family:\s*KaTeX_[^{}]*)\}", css):
        family = re.search(r"font-family:\s*(KaTeX_\w+)", body)
        weight = re.search(r"font-weight:\s*(\w+)", body)
        style = re.search(r"font-style:\s*(\w+)", body)
        assert family is not None
        key = (
            family.group(1),
            "bold" if weight and weight.group(1) in ("bold", "700") else "normal",
            style.group(1) if style else "normal",
        )
        if key not in faces:
            continue
        for selector in selectors.split(","):
            last = re.split(r"[\s>+~]+", selector.strip())
            classes = [c for c in (last[-1] if last[-1] != "span" else last[-2]).split(".") if c]
            if classes:
                rules.append((frozenset(classes), faces[key]))
    base = [faces[k] for k in (("KaTeX_Main", "normal", "normal"),) if k in faces]
    return base, rules


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Pages with math ask for the KaTeX fonts they use at once, with the HTML.

    KaTeX's CSS hides a formula until its font has loaded, and a browser finds out
    which fonts it needs only after the stylesheets and a layout; preloading them
    shows the math sooner.
    """
    if 'class="katex' not in output:
        return output
    used = {frozenset(c.split()) for c in re.findall(r'class="([^"]*)"', output)}
    fonts = list(_state.base_fonts)
    for classes, font in _state.font_rules:
        if font not in fonts and any(classes <= have for have in used):
            fonts.append(font)
    links = "".join(
        f'<link rel="preload" href="{get_relative_url(f"{KATEX_DIR}/{font}", page.url)}" '
        'as="font" type="font/woff2" crossorigin>'
        for font in fonts
    )
    at = output.find('<link rel="stylesheet"')
    if at < 0:
        at = output.find("</head>")
    return output[:at] + links + output[at:] if at >= 0 else output
