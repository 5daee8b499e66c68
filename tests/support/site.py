"""Building sites in tests: mkdocs projects in temp dirs, and reading the pages they make.

`mkdocs_build` runs `mkdocs build --strict` as a subprocess; `make_project` makes a
throw-away project that uses the repo's mkdocs.yml and docs with other chapters; the
`code_lines`, `notes_text`, `external_references` and `broken_links` helpers read a built
site.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from labml_optim.literate import parse

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "site"
FIXTURE_CHAPTERS = FIXTURES / "fixture_chapters"


def mkdocs_build(
    project: Path, out: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict -d OUT` in PROJECT, as a subprocess; never raises on failure.

    The repo goes first on PYTHONPATH, so the plugin and engine are this checkout's.
    """
    run_env = dict(os.environ)
    run_env.setdefault("NO_MKDOCS_2_WARNING", "1")
    run_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
    )
    run_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
        cwd=project,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=900,
    )


class _CodeLines(HTMLParser):
    """Collects the text of every `<span class="lo-line" id="L42">` of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: dict[int, str] = {}
        self.duplicates: list[int] = []
        self._current: int | None = None
        self._depth = 0
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._current is not None:
            if tag == "span":
                self._depth += 1
            return
        found = dict(attrs)
        if tag == "span" and "lo-line" in (found.get("class") or "").split():
            self._current = int((found.get("id") or "L0")[1:])
            self._depth = 0
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if self._current is None or tag != "span":
            return
        if self._depth:
            self._depth -= 1
            return
        if self._current in self.lines:
            self.duplicates.append(self._current)
        self.lines[self._current] = "".join(self._text)
        self._current = None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._text.append(data)


def code_lines(page: str) -> tuple[dict[int, str], list[int]]:
    parser = _CodeLines()
    parser.feed(page)
    parser.close()
    return parser.lines, parser.duplicates


def without_code(page: str) -> str:
    """The page with every `<pre>` and `<code>` element cut out."""
    page = re.sub(r"<pre\b.*?</pre>", "", page, flags=re.S)
    return re.sub(r"<code\b.*?</code>", "", page, flags=re.S)


def notes_text(page: str) -> str:
    """The text of the notes cells, code cut out, math (KaTeX's HTML) cut out."""
    page = re.sub(r'<span class="katex(?:-display)?".*?</math></span>', "", page, flags=re.S)
    # Inline scripts and styles (the file:// search shim) are not text a reader sees.
    page = re.sub(r"<(script|style)\b[^>]*>.*?</\1>", "", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", without_code(page)))


_RESOURCE = re.compile(
    r"<(script|link|img|source|iframe|embed|video|audio|track|object|image|use)\b([^>]*)>",
    re.I,
)
_ATTR = re.compile(r"""\b(src|href|srcset|data|poster|xlink:href)\s*=\s*(["'])(.*?)\2""", re.I)


def external_references(site: Path) -> list[str]:
    """Every reference that would make a browser fetch from outside the site."""
    found: list[str] = []

    def external(url: str) -> bool:
        url = url.strip().lower()
        return url.startswith(("http:", "https:", "//", "ftp:", "ws:", "wss:"))

    for path in sorted(site.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for tag, attrs in _RESOURCE.findall(text):
            for _name, _q, value in _ATTR.findall(attrs):
                urls = [part.split()[0] for part in value.split(",") if part.strip()]
                for url in urls:
                    if external(url):
                        found.append(f"{path.relative_to(site)}: <{tag}> {url}")
        for url in re.findall(r"""url\(\s*["']?([^"')]+)""", text):
            if external(url):
                found.append(f"{path.relative_to(site)}: url({url})")
    for path in sorted(site.rglob("*.css")):
        text = path.read_text(encoding="utf-8")
        for url in re.findall(r"""url\(\s*["']?([^"')]+)""", text):
            if external(url):
                found.append(f"{path.relative_to(site)}: url({url})")
        for url in re.findall(r"""@import\s+["']([^"']+)""", text):
            if external(url):
                found.append(f"{path.relative_to(site)}: @import {url}")
    return found


# A Markdown link to another page of the site: [text](page.md#anchor).
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\(([\w./-]+\.md)(#[^)\s]*)?\)")


def make_project(
    root: Path,
    chapters: dict[str, str] | None = None,
    docs: dict[str, str] | None = None,
    options: dict[str, Any] | None = None,
    cache: Path | None = None,
) -> Path:
    """A throw-away mkdocs project: the repo's config and docs, fixture chapters.

    `chapters` maps a module name to its source (None: the fixture chapters); `docs`
    adds or replaces hand-written pages; `options` sets literate plugin options; `cache`
    is the figure cache (default: inside the project).
    """
    project = root / "project"
    shutil.copytree(REPO / "docs", project / "docs")
    chapter_dir = project / "fixture_chapters"
    chapter_dir.mkdir()
    if chapters is None:
        for path in FIXTURE_CHAPTERS.glob("*.py"):
            shutil.copy(path, chapter_dir / path.name)
    else:
        for name, source in chapters.items():
            (chapter_dir / f"{name}.py").write_text(source, encoding="utf-8")
    # Hand-written pages (notation, conventions, ...) link real chapters: such a link
    # keeps its text and loses its target, which the fixture project does not have.
    pages = {f"{path.stem}.md" for path in chapter_dir.glob("*.py")}
    pages |= {path.relative_to(project / "docs").as_posix()
              for path in (project / "docs").rglob("*.md")}
    for page in (project / "docs").rglob("*.md"):
        text = page.read_text(encoding="utf-8")
        unlinked = _MD_LINK.sub(
            lambda m: m.group(0) if m.group(2) in pages else m.group(1), text)
        if unlinked != text:
            page.write_text(unlinked, encoding="utf-8")
    for name, text in (docs or {}).items():
        (project / "docs" / name).write_text(text, encoding="utf-8")
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    settings = {"chapters": "fixture_chapters", **(options or {})}
    if cache is not None:
        settings["cache_dir"] = str(cache)
    config["plugins"] = [
        {"literate": settings} if isinstance(p, dict) and "literate" in p else p
        for p in config["plugins"]
    ]
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return project


def build_project(tmp_path: Path, **kwargs: Any) -> tuple[int, str, Path]:
    project = make_project(tmp_path, **kwargs)
    out = tmp_path / "site"
    proc = mkdocs_build(project, out)
    return proc.returncode, proc.stdout + proc.stderr, out


def check_code_lines(name: str, source: str, shown: dict[int, str]) -> None:
    """Every non-blank code line `parse` finds is on the page, under its real number,
    and every line the page shows is the file's line of that number."""
    expected = {n: line for section in parse(source) for n, line in section.code}
    missing = sorted(n for n, line in expected.items() if line.strip() and n not in shown)
    assert not missing, f"{name}: code lines missing from the page: {missing[:20]}"
    file_lines = source.splitlines()
    for number, text in shown.items():
        assert number in expected, f"{name}.py:{number}: not a code line of the file"
        assert text.rstrip() == file_lines[number - 1].rstrip(), (
            f"{name}.py:{number}: page shows {text!r}, file has {file_lines[number - 1]!r}"
        )


def line_of(source: str, needle: str) -> int:
    """The 1-based line of the first line of SOURCE containing NEEDLE."""
    for number, line in enumerate(source.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in source")


class _Links(HTMLParser):
    """The ids of a page, and every `href` in it (with the tag it is on)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.hrefs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for key in ("id", "name"):
            if found.get(key) and (key == "id" or tag == "a"):
                self.ids.add(found[key] or "")
        if found.get("href") is not None:
            self.hrefs.append((tag, found["href"] or ""))


def is_outbound_link(tag: str, href: str) -> bool:
    """An `<a>` to another site over https, with a host: loads nothing until clicked."""
    parts = urlsplit(href)
    return (tag == "a" and parts.scheme == "https" and bool(parts.netloc)
            and "." in parts.netloc and not any(c.isspace() for c in href))


def outbound_links(site: Path) -> list[tuple[str, str]]:
    """(page, href) of every link that leaves the site."""
    found = []
    for path in sorted(site.rglob("*.html")):
        parser = _Links()
        parser.feed(path.read_text(encoding="utf-8"))
        parser.close()
        found += [(path.relative_to(site).as_posix(), href) for tag, href in parser.hrefs
                  if is_outbound_link(tag, href)]
    return found


def broken_links(site: Path) -> tuple[list[str], int]:
    """Every `href` in the built site that does not lead to a file (and id) in the site.

    Returns the broken ones as `page: <tag href=...>: why` and how many hrefs were checked.
    Links out of the site (`is_outbound_link`) are not fetched; any other reference to
    another host is broken.
    """
    pages: dict[Path, _Links] = {}
    for path in sorted(site.rglob("*.html")):
        parser = _Links()
        parser.feed(path.read_text(encoding="utf-8"))
        parser.close()
        pages[path.resolve()] = parser
    broken: list[str] = []
    checked = 0
    for page, parser in pages.items():
        where = page.relative_to(site.resolve()).as_posix()
        for tag, href in parser.hrefs:
            checked += 1
            parts = urlsplit(href)
            if parts.scheme or parts.netloc:
                # A link out of the site (a paper, the authors' code) is followed only when
                # a reader clicks it: it must be a plain https link, and it is not fetched.
                if not is_outbound_link(tag, href):
                    broken.append(f"{where}: <{tag} href={href!r}>: leaves the site")
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{where}: <{tag} href={href!r}>: no such file")
                continue
            if not target.is_relative_to(site.resolve()):
                broken.append(f"{where}: <{tag} href={href!r}>: outside the site")
                continue
            fragment = unquote(parts.fragment)
            if "#" in href and target.suffix == ".html":
                if not fragment or fragment not in pages[target].ids:
                    broken.append(f"{where}: <{tag} href={href!r}>: no id {fragment!r}")
    return broken, checked
