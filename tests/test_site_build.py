"""The site build: `mkdocs build --strict` over the real chapters and over fixtures.

The real site is built once per session (`built_site` in conftest.py). The fixture tests
build small throw-away mkdocs projects whose chapter directory holds the chapters under
`tests/fixtures/site/fixture_chapters/`, sometimes with one thing broken on purpose, and
check that the build fails with a message that names the file (and line).
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import pytest
from support.site import (
    FIXTURE_CHAPTERS,
    REPO,
    broken_links,
    build_project,
    check_code_lines,
    code_lines,
    external_references,
    line_of,
    make_project,
    mkdocs_build,
    notes_text,
)

from labml_optim.literate.catalogue import discover

# A chapter whose `main` needs nothing but the standard library: builds stay fast.
PLAIN_CHAPTER = r'''r"""
---
title: Plain
summary: A chapter with a figure drawn by the standard library alone.
group: Optimizers
order: 1
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


# ------------------------------------------------------------------------ real site

CATALOGUE = discover(REPO / "labml_optim")
CHAPTERS = [e.name for e in CATALOGUE]


def test_there_are_chapters() -> None:
    assert CHAPTERS, "no chapter modules in labml_optim/"


@pytest.mark.slow
@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_page_has_every_code_line(built_site: Path, name: str) -> None:
    entry = next(e for e in CATALOGUE if e.name == name)
    page = built_site / f"{entry.stem}.html"
    assert page.is_file(), f"no page for chapter {name}"
    text = page.read_text(encoding="utf-8")
    shown, duplicates = code_lines(text)
    assert not duplicates, f"{name}: lines shown twice: {duplicates}"
    source = entry.path.read_text(encoding="utf-8")
    check_code_lines(name, source, shown)
    base = entry.stem.rsplit("/", 1)[-1]
    assert f'href="{base}.py"' in text and "lo-download" in text
    assert (built_site / f"{entry.stem}.py").read_text(encoding="utf-8") == source
    assert (built_site / f"{entry.stem}.png").stat().st_size > 0
    assert f'src="{base}.png"' in text


@pytest.mark.slow
def test_index_and_nav_list_every_chapter_in_reading_order(built_site: Path) -> None:
    index = (built_site / "index.html").read_text(encoding="utf-8")
    article = index[index.index("<article") :]
    nav = index[: index.index("<article")]
    for where, text in (("index", article), ("nav", nav)):
        positions = []
        for entry in CATALOGUE:
            link = f'href="{entry.stem}.html"'
            assert link in text, f"{where} does not link {entry.name}"
            positions.append(text.index(link))
        assert positions == sorted(positions), f"{where}: chapters out of reading order"
    groups = list(dict.fromkeys(e.group for e in CATALOGUE))
    labels = [re.search(rf">\s*{re.escape(g)}\s*<", nav) for g in ["Home", *groups]]
    assert all(labels), f"nav lacks a group: {groups}"
    starts = [m.start() for m in labels if m]
    assert starts == sorted(starts), "nav groups out of order"
    assert re.search(r">\s*Conventions\s*<", nav)


@pytest.mark.slow
def test_no_unrendered_math_and_no_katex_errors(built_site: Path) -> None:
    for page in sorted(built_site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        assert "katex-error" not in text, f"{page.name}: KaTeX error"
        notes = notes_text(text)
        assert "$$" not in notes, f"{page.name}: raw $$ left in the notes"
        assert "\\begin{" not in notes, f"{page.name}: raw \\begin{{ left in the notes"
        scripts = re.findall(r"<script\b[^>]*>", text)
        assert not [s for s in scripts if "katex" in s.lower()], f"{page.name}: math script"
    for entry in CATALOGUE:
        text = (built_site / f"{entry.stem}.html").read_text(encoding="utf-8")
        assert 'class="katex' in text, f"{entry.name}: no rendered math"


@pytest.mark.slow
def test_every_link_in_the_site_leads_to_a_file_and_an_id(built_site: Path) -> None:
    broken, checked = broken_links(built_site)
    assert checked > 1000, f"only {checked} links: the checker found too few"
    assert broken == [], "\n".join(broken[:40])


@pytest.mark.slow
def test_no_math_placeholder_is_left_anywhere(built_site: Path) -> None:
    files = [*built_site.rglob("*.html"), *built_site.rglob("search_index.json")]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"lomath[di]\d", text), f"{path.name}: a math placeholder is left"


@pytest.mark.slow
def test_contents_render_heading_math_and_ids_follow_the_tex(built_site: Path) -> None:
    math_headings = 0
    for entry in CATALOGUE:
        page = (built_site / f"{entry.stem}.html").read_text(encoding="utf-8")
        for _level, ident, body in re.findall(r'<h([2-6]) id="([^"]+)">(.*?)</h\1>', page, re.S):
            if "katex" in body:
                math_headings += 1
                assert not ident.endswith("math") and "-math-" not in ident, ident
                # The contents entry for it shows the rendered formula.
                link = re.search(rf'<a href="#{re.escape(ident)}" class="md-nav__link">'
                                 r'(.*?)</a>', page, re.S)
                assert link and 'class="katex' in link.group(1), f"{entry.name}: #{ident}"
    assert math_headings > 0


@pytest.mark.slow
def test_previous_and_next_follow_the_reading_order(built_site: Path) -> None:
    stems = [e.stem for e in CATALOGUE]
    for i, stem in enumerate(stems):
        page = (built_site / f"{stem}.html").read_text(encoding="utf-8")
        footer = page[page.index('class="md-footer"') :]
        prev = re.search(r'href="([^"]+)" class="md-footer__link md-footer__link--prev"', footer)
        nxt = re.search(r'href="([^"]+)" class="md-footer__link md-footer__link--next"', footer)
        # Links are relative to the page's folder (`experiments/`, or the root).
        def target(link: re.Match | None, stem: str = stem) -> str | None:
            return link and posixpath.normpath(
                posixpath.join(posixpath.dirname(stem), link.group(1)))

        if i > 0:
            assert target(prev) == f"{stems[i - 1]}.html", stem
        if i + 1 < len(stems):
            assert target(nxt) == f"{stems[i + 1]}.html", stem


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
def figure_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One figure cache for the fixture builds: each fixture chapter is drawn once."""
    return tmp_path_factory.mktemp("figures")


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory: pytest.TempPathFactory, figure_cache: Path) -> Path:
    code, output, out = build_project(tmp_path_factory.mktemp("fixture"), cache=figure_cache)
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
    assert 'href="toy_descent.html#L53"' in page


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


def test_bytes_that_are_not_utf8_name_their_line(tmp_path: Path) -> None:
    source = PLAIN_CHAPTER.replace("def scale(x, eta=0.5):", "def scale(x, eta=0.5):  # \udcff")
    data = source.encode("utf-8", "surrogateescape")
    line = line_of(source, "def scale(")
    project = make_project(tmp_path, chapters={"plain": PLAIN_CHAPTER})
    (project / "fixture_chapters" / "plain.py").write_bytes(data)
    proc = mkdocs_build(project, tmp_path / "out")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"fixture_chapters/plain.py:{line}: byte 0xff" in output, output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    "where", ["python", "tex"], ids=["4000-term Python expression", "4000-term TeX"]
)
def test_a_huge_expression_fails_naming_the_chapter(tmp_path: Path, where: str) -> None:
    terms = " + ".join(["x"] * 4000)
    if where == "python":
        source = PLAIN_CHAPTER.replace("    return eta * x\n", f"    return {terms}\n")
        needle = "    return x + x"
    else:
        tex = "{" * 4000 + "x" + "}" * 4000
        source = PLAIN_CHAPTER.replace("The step is $\\eta$.", f"The step is ${tex}$.")
        needle = "The step is"
    code, output, _ = build_project(tmp_path, chapters={"plain": source})
    assert code != 0
    assert f"fixture_chapters/plain.py:{line_of(source, needle)}: " in output, output
    assert "Traceback" not in output


HANGING_MAIN = '''
    import os, subprocess
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.pid"), "w") as f:
        f.write(str(child.pid))
    import time
    time.sleep(120)
'''


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            state = next(line for line in f if line.startswith("State:"))
    except (FileNotFoundError, StopIteration):
        return False
    return "Z" not in state.split()[1]


def test_a_hanging_main_fails_after_the_figure_timeout_and_its_group_is_killed(
    tmp_path: Path,
) -> None:
    import time

    source = PLAIN_CHAPTER.replace(
        "    argv = sys.argv[1:] if argv is None else argv\n",
        "    argv = sys.argv[1:] if argv is None else argv\n" + HANGING_MAIN,
    )
    start = time.monotonic()
    code, output, _ = build_project(tmp_path, chapters={"plain": source},
                                    options={"figure_timeout": 4})
    assert code != 0
    assert time.monotonic() - start < 100
    assert "fixture_chapters/plain.py" in output and "timeout of 4 s" in output, output
    pid = int((tmp_path / "project" / "fixture_chapters" / "child.pid").read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid), "the process main started outlived the build"
