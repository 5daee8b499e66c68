"""The site build: `mkdocs build --strict` over the real chapters and over fixtures.

The real site is built once per session (`built_site` in conftest.py). The fixture tests
build small throw-away mkdocs projects whose chapter directory holds the chapters under
`tests/fixtures/site/fixture_chapters/`, sometimes with one thing broken on purpose, and
check that the build fails with a message that names the file (and line).
"""

from __future__ import annotations

import html
import importlib.util
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from conftest import REPO, chapter_names, mkdocs_build

from labml_optim.literate import parse

FIXTURES = REPO / "tests" / "fixtures" / "site"
FIXTURE_CHAPTERS = FIXTURES / "fixture_chapters"

# A chapter whose `main` needs nothing but the standard library: builds stay fast.
PLAIN_CHAPTER = r'''r"""
---
title: Plain
summary: A chapter with a figure drawn by the standard library alone.
---

# Plain

The step is $\eta$.
"""

import struct
import sys
import zlib


def scale(x, eta=0.5):
    """Returns $\eta x$."""
    return eta * x


# Writes a one-pixel PNG.
def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    out = argv[argv.index("--save") + 1]

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    png += chunk(b"IEND", b"")
    with open(out, "wb") as f:
        f.write(png)


if __name__ == "__main__":
    main()
'''


# ------------------------------------------------------------------------- helpers


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


def make_project(
    root: Path,
    chapters: dict[str, str] | None = None,
    docs: dict[str, str] | None = None,
) -> Path:
    """A throw-away mkdocs project: the repo's config and docs, fixture chapters.

    `chapters` maps a module name to its source (None: the fixture chapters); `docs`
    adds or replaces hand-written pages.
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
    for name, text in (docs or {}).items():
        (project / "docs" / name).write_text(text, encoding="utf-8")
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    config["hooks"] = [str(REPO / "scripts" / "hooks.py")]
    config["extra"]["chapters_dir"] = "fixture_chapters"
    config.pop("nav", None)
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


# ------------------------------------------------------------------------ real site

CHAPTERS = chapter_names()
READING_ORDER = "sgd adagrad rmsprop adam amsgrad adamw radam lamb noam warmup".split()


def test_there_are_chapters() -> None:
    assert CHAPTERS, "no chapter modules in labml_optim/"


@pytest.mark.slow
@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_page_has_every_code_line(built_site: Path, name: str) -> None:
    page = built_site / f"{name}.html"
    assert page.is_file(), f"no page for chapter {name}"
    text = page.read_text(encoding="utf-8")
    shown, duplicates = code_lines(text)
    assert not duplicates, f"{name}: lines shown twice: {duplicates}"
    source = (REPO / "labml_optim" / f"{name}.py").read_text(encoding="utf-8")
    check_code_lines(name, source, shown)
    assert f'href="{name}.py"' in text and "lo-download" in text
    assert (built_site / f"{name}.py").read_text(encoding="utf-8") == source
    assert (built_site / f"{name}.png").stat().st_size > 0
    assert f'src="{name}.png"' in text


@pytest.mark.slow
def test_index_lists_every_chapter_in_reading_order(built_site: Path) -> None:
    index = (built_site / "index.html").read_text(encoding="utf-8")
    article = index[index.index("<article") :]
    positions = []
    for name in CHAPTERS:
        link = f'href="{name}.html"'
        assert link in article, f"index does not link {name}"
        positions.append((article.index(link), name))
    order = [name for _, name in sorted(positions)]
    known = [n for n in READING_ORDER if n in CHAPTERS]
    assert [n for n in order if n in known] == known
    nav = index[: index.index("<article")]
    for label in ("Home", "Optimizers", "Schedules", "Conventions"):
        assert re.search(rf">\s*{label}\s*<", nav), f"nav has no {label}"


@pytest.mark.slow
def test_no_unrendered_math_and_no_katex_errors(built_site: Path) -> None:
    for page in sorted(built_site.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        assert "katex-error" not in text, f"{page.name}: KaTeX error"
        notes = notes_text(text)
        assert "$$" not in notes, f"{page.name}: raw $$ left in the notes"
        assert "\\begin{" not in notes, f"{page.name}: raw \\begin{{ left in the notes"
        scripts = re.findall(r"<script\b[^>]*>", text)
        assert not [s for s in scripts if "katex" in s.lower()], f"{page.name}: math script"
    for name in CHAPTERS:
        text = (built_site / f"{name}.html").read_text(encoding="utf-8")
        assert 'class="katex' in text, f"{name}: no rendered math"


@pytest.mark.slow
def test_site_requests_nothing_outside_itself(built_site: Path) -> None:
    assert external_references(built_site) == []
    css = (built_site / "css" / "katex" / "katex.css").read_text(encoding="utf-8")
    for font in re.findall(r"url\(([^)]+)\)", css):
        assert font.endswith(".woff2")
        assert (built_site / "css" / "katex" / font).is_file(), font
    for page in built_site.glob("*.html"):
        assert "fonts.googleapis" not in page.read_text(encoding="utf-8")


# -------------------------------------------------------------------- fixture site


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    code, output, out = build_project(tmp_path_factory.mktemp("fixture"))
    assert code == 0, output
    return out


def test_fixture_site_pages(fixture_site: Path) -> None:
    page = (fixture_site / "toy_descent.html").read_text(encoding="utf-8")
    source = (FIXTURE_CHAPTERS / "toy_descent.py").read_text(encoding="utf-8")
    shown, duplicates = code_lines(page)
    assert not duplicates
    check_code_lines("toy_descent", source, shown)
    step = line_of(source, "def step(")
    assert f'id="L{step}"' in page and f'href="#L{step}"' in page
    assert "__codelineno" not in page.split('class="lo-code"', 1)[1]
    assert 'class="lo-anchor"' in page
    assert 'class="katex-display"' in page
    assert "katex-error" not in page
    notes = notes_text(page)
    assert "$" not in notes.replace("\\$", "")
    assert "\\begin{" not in notes
    assert (fixture_site / "toy_descent.png").stat().st_size > 0
    assert (fixture_site / "toy_descent.py").read_text(encoding="utf-8") == source
    assert list((fixture_site / "css" / "katex" / "fonts").glob("*.woff2"))
    assert external_references(fixture_site) == []


def test_link_to_a_code_line(fixture_site: Path) -> None:
    page = (fixture_site / "toy_schedule.html").read_text(encoding="utf-8")
    assert 'href="toy_descent.html#L51"' in page


def test_broken_line_anchor_fails(tmp_path: Path) -> None:
    source = PLAIN_CHAPTER.replace("The step is $\\eta$.", "See [line 9999](plain.md#L9999).")
    code, output, _ = build_project(tmp_path, chapters={"plain": source})
    assert code != 0
    assert "plain.md" in output and "L9999" in output, output


def test_fixture_index_and_nav(fixture_site: Path) -> None:
    index = (fixture_site / "index.html").read_text(encoding="utf-8")
    assert "A small optimizer chapter used to test the site build" in index
    assert "A learning-rate schedule chapter used to test the site build" in index
    article = index[index.index("<article") :]
    assert article.index('href="toy_descent.html"') < article.index('href="toy_schedule.html"')
    assert 'class="katex' in article  # the summary's math
    nav = index[: index.index("<article")]
    for label in ("Home", "Optimizers", "Schedules", "Conventions"):
        assert re.search(rf">\s*{label}\s*<", nav), f"nav has no {label}"


def test_hook_watches_chapters_when_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("lo_hooks", REPO / "scripts" / "hooks.py")
    assert spec and spec.loader
    hooks: ModuleType = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "lo_hooks", hooks)
    spec.loader.exec_module(hooks)

    from mkdocs.config import load_config

    config = load_config(str(REPO / "mkdocs.yml"))
    hooks.on_config(config)

    class Server:
        watched: list[str] = []

        def watch(self, path: str) -> None:
            self.watched.append(path)

    server = Server()
    hooks.on_serve(server, config=config, builder=None)
    assert str(REPO / "labml_optim") in server.watched


# ------------------------------------------------------------ failures, by design


def test_tex_error_names_file_and_line(tmp_path: Path) -> None:
    source = PLAIN_CHAPTER.replace("The step is $\\eta$.", "The step is $\\frac{1}{$.")
    code, output, _ = build_project(tmp_path, chapters={"plain": source})
    assert code != 0
    line = line_of(source, "The step is")
    assert f"fixture_chapters/plain.py:{line}" in output, output


def test_tex_error_in_code_comment_names_its_line(tmp_path: Path) -> None:
    source = PLAIN_CHAPTER.replace("# Writes a one-pixel PNG.", "# Writes $\\badmacro$ PNG.")
    code, output, _ = build_project(tmp_path, chapters={"plain": source})
    assert code != 0
    line = line_of(source, "badmacro")
    assert f"fixture_chapters/plain.py:{line}" in output, output


def test_tex_error_in_docs_page_names_file_and_line(tmp_path: Path) -> None:
    index = (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    index += "\nA broken formula: $\\sqrt{x$.\n"
    code, output, _ = build_project(
        tmp_path, chapters={"plain": PLAIN_CHAPTER}, docs={"index.md": index}
    )
    assert code != 0
    assert f"docs/index.md:{line_of(index, 'A broken formula')}" in output, output


def test_failing_main_names_chapter_and_shows_traceback(tmp_path: Path) -> None:
    source = PLAIN_CHAPTER.replace(
        "    argv = sys.argv[1:]",
        "    raise RuntimeError('the plot broke')\n    argv = sys.argv[1:]",
    )
    code, output, _ = build_project(tmp_path, chapters={"plain": source})
    assert code != 0
    assert "plain" in output and "fixture_chapters/plain.py" in output
    assert "Traceback" in output and "RuntimeError: the plot broke" in output


def test_missing_figure_fails(tmp_path: Path) -> None:
    source = PLAIN_CHAPTER.replace('    with open(out, "wb") as f:\n        f.write(png)\n', "")
    code, output, _ = build_project(tmp_path, chapters={"plain": source})
    assert code != 0
    assert "fixture_chapters/plain.py" in output and "figure" in output, output


def test_broken_link_fails(tmp_path: Path) -> None:
    source = PLAIN_CHAPTER.replace("The step is $\\eta$.", "See [nowhere](nowhere.md).")
    code, output, _ = build_project(tmp_path, chapters={"plain": source})
    assert code != 0
    assert "plain.md" in output and "nowhere.md" in output, output
    assert "fixture_chapters/plain.py" in output, output


def test_invalid_python_fails(tmp_path: Path) -> None:
    source = PLAIN_CHAPTER.replace("def scale(x, eta=0.5):", "def scale(x, eta=0.5:")
    code, output, _ = build_project(tmp_path, chapters={"plain": source})
    assert code != 0
    assert "plain.py" in output, output


def test_bad_front_matter_fails(tmp_path: Path) -> None:
    source = PLAIN_CHAPTER.replace("title: Plain\n", "")
    code, output, _ = build_project(tmp_path, chapters={"plain": source})
    assert code != 0
    assert "plain.py" in output and "title" in output, output


def test_fixture_chapters_are_valid_python() -> None:
    for path in FIXTURE_CHAPTERS.glob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
