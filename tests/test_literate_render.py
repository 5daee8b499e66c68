"""The Markdown page: rows, real line numbers, figure and download placement, CLI."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from labml_optim.literate import (
    ChapterError,
    Section,
    code_blocks,
    load_chapter,
    render_page,
    split_at_headings,
)

CHAPTER = textwrap.dedent('''
    r"""
    ---
    title: Toy "SGD"
    summary: A toy chapter.
    ---

    # Toy SGD
    """
    import torch


    class Toy(torch.optim.Optimizer):
        """The optimizer."""

        def step(self):
            """One step."""
            # A comment run in the middle
            x = 1
            return x


    def main(argv=None):
        """Draw."""
        print("plot")
''').lstrip("\n")


@pytest.fixture
def chapter_file(tmp_path: Path) -> Path:
    path = tmp_path / "toy.py"
    path.write_text(CHAPTER)
    return path


def fences(page: str) -> list[tuple[int, list[str]]]:
    found = re.findall(r'```python linenums="(\d+)"\n(.*?)\n```', page, flags=re.S)
    return [(int(start), body.split("\n")) for start, body in found]


def test_front_matter_and_rows(chapter_file: Path) -> None:
    chapter = load_chapter(chapter_file)
    assert chapter.name == "toy"
    assert chapter.title == 'Toy "SGD"'
    page = render_page(chapter)
    assert page.startswith('---\ntitle: "Toy \\"SGD\\""\ndescription: "A toy chapter."\n---\n')
    rows = page.count('<div class="lo-section')
    assert len(chapter.sections) == 5
    assert rows == 6  # the module docstring is a prose row, the imports a row of their own
    assert page.count('<div class="lo-notes" markdown>') == rows
    assert page.count('<div class="lo-code" markdown>') == 5
    assert page.count("</div>") == 2 * rows + 5
    ids = re.findall(r'class="lo-section[^"]*" id="([^"]+)"', page)
    assert ids == ["s-n7", "s-9", "s-12", "s-15", "s-18", "s-22"]


def test_linenums_are_real_line_numbers(chapter_file: Path) -> None:
    source_lines = CHAPTER.split("\n")
    page = render_page(load_chapter(chapter_file))
    blocks = fences(page)
    assert blocks
    for start, body in blocks:
        for offset, text in enumerate(body):
            assert source_lines[start - 1 + offset] == text


def test_split_blocks_at_gaps() -> None:
    code = [(3, "def f():"), (5, "    x = 1"), (6, ""), (7, "    return x"), (9, ""), (10, "y")]
    assert code_blocks(code) == [
        [(3, "def f():")],
        [(5, "    x = 1"), (6, ""), (7, "    return x")],
        [(10, "y")],
    ]
    page = render_page(_chapter([Section(notes="n", code=code, notes_lines=[1])]))
    assert [start for start, _ in fences(page)] == [3, 5, 10]


def test_notes_only_section_is_a_prose_row() -> None:
    page = render_page(_chapter([Section(notes="Just words.", code=[], notes_lines=[4])]))
    assert '<div class="lo-section lo-prose" id="s-n4" markdown>' in page
    assert "```" not in page
    assert "lo-code" not in page


def test_notes_are_cut_at_headings_and_the_code_stays_with_the_last_part() -> None:
    notes = "# Title\n\nIntro.\n\n## Derivation\n\n```\n## not a heading\n```\n\n### Code\nWords."
    lines = list(range(2, 2 + len(notes.split("\n"))))
    section = Section(notes=notes, code=[(20, "import torch")], notes_lines=lines)
    parts = split_at_headings(section)
    assert [p.notes.split("\n")[0] for p in parts] == ["# Title", "## Derivation", "### Code"]
    assert [p.code for p in parts] == [[], [], [(20, "import torch")]]
    for part in parts:  # every part keeps the source line of each of its lines
        assert len(part.notes_lines) == len(part.notes.split("\n"))
        for text, line in zip(part.notes.split("\n"), part.notes_lines, strict=True):
            assert notes.split("\n")[line - 2] == text
    page = render_page(_chapter([section]))
    assert page.count("lo-section lo-prose") == 2
    assert page.index("### Code") < page.index('linenums="20"')


def test_long_backtick_runs_get_longer_fence() -> None:
    page = render_page(_chapter([Section(code=[(1, 'x = "````"')])]))
    assert '`````python linenums="1"' in page


def test_download_link(chapter_file: Path) -> None:
    page = render_page(load_chapter(chapter_file), download="toy.py")
    assert "[Download toy.py](toy.py){ .lo-download }" in page
    assert page.index("lo-download") < page.index("lo-section")
    assert "lo-download" not in render_page(load_chapter(chapter_file))


def test_figure_follows_main_in_a_row_of_its_own(chapter_file: Path) -> None:
    page = render_page(load_chapter(chapter_file), figure="toy.png")
    # main's docstring sits beside its code; the figure is the next row, across both columns.
    row = page[page.index('id="s-22"') :]
    assert row.index("Draw.") < row.index('<div class="lo-code"') < row.index("toy.png")
    figure = page[page.index('<div class="lo-section lo-figure-row"') :]
    assert figure.index("![Figure from main](toy.png)") < figure.index("</div>")
    assert '<div class="lo-code"' not in figure
    assert page.count("](toy.png)") == 1


def rows_of(page: str) -> list[tuple[str, str]]:
    """(class, notes) of every row of a rendered page."""
    found = re.findall(r'<div class="(lo-section[^"]*)" id="[^"]+" markdown>\n'
                       r'<div class="lo-notes" markdown>\n\n(.*?)</div>', page, flags=re.S)
    return [(kind, notes.strip()) for kind, notes in found]


FIGURE_IN_DOCSTRING = CHAPTER.replace(
    "# Toy SGD\n", "# Toy SGD\n\nBefore the figure.\n\n"
    "![A toy figure [0, 1],\nover two lines](toy.png){ .lo-rt-chart }\n\n"
    "After the figure.\n\n## References\n\n- A paper.\n")


def test_a_figure_in_the_docstring_is_a_row_of_its_own_in_place(tmp_path: Path) -> None:
    path = tmp_path / "toy.py"
    path.write_text(FIGURE_IN_DOCSTRING)
    rows = rows_of(render_page(load_chapter(path), figure="toy.png"))
    kinds = [kind for kind, _ in rows]
    at = kinds.index("lo-section lo-figure-row")
    assert rows[at][1] == "![A toy figure [0, 1],\nover two lines](toy.png){ .lo-rt-chart }"
    assert rows[at - 1][1].endswith("Before the figure.")
    assert rows[at + 1] == ("lo-section lo-prose", "After the figure.")


def test_a_figure_beside_code_follows_the_row(tmp_path: Path) -> None:
    path = tmp_path / "toy.py"
    path.write_text(CHAPTER.replace("        # A comment run in the middle\n",
                                    "        # A comment run in the middle\n"
                                    "        # ![inline figure](toy.png)\n"
                                    "        # and after it.\n"))
    rows = rows_of(render_page(load_chapter(path), figure="toy.png"))
    at = [kind for kind, _ in rows].index("lo-section lo-figure-row")
    assert rows[at - 1] == ("lo-section", "A comment run in the middle\n\nand after it.")
    assert rows[at][1] == "![inline figure](toy.png)"


def test_a_figure_inside_a_sentence_stays_in_the_notes(tmp_path: Path) -> None:
    path = tmp_path / "toy.py"
    path.write_text(CHAPTER.replace("# Toy SGD\n", "# Toy SGD\n\nSee ![it](toy.png) here.\n"))
    page = render_page(load_chapter(path), figure="toy.png")
    assert "lo-figure-row" not in page
    assert "See ![it](toy.png) here." in page


def test_the_references_end_the_page(tmp_path: Path) -> None:
    path = tmp_path / "toy.py"
    path.write_text(FIGURE_IN_DOCSTRING)
    rows = rows_of(render_page(load_chapter(path), figure="toy.png"))
    assert rows[-1] == ("lo-section lo-prose", "## References\n\n- A paper.")
    assert sum("## References" in notes for _, notes in rows) == 1


def test_figure_already_shown_is_left(tmp_path: Path) -> None:
    path = tmp_path / "toy.py"
    path.write_text(CHAPTER.replace("# Toy SGD", "# Toy SGD\n\n![r_t](toy.png)"))
    page = render_page(load_chapter(path), figure="toy.png")
    assert page.count("](toy.png)") == 1
    assert "Figure from main" not in page


def test_figure_without_place_raises(tmp_path: Path) -> None:
    path = tmp_path / "nomain.py"
    path.write_text('"""\n---\ntitle: T\nsummary: S\n---\n"""\nx = 1\n')
    with pytest.raises(ChapterError, match=r"nomain\.py:1: .*nomain\.png"):
        render_page(load_chapter(path), figure="nomain.png")


def test_notes_filter_sees_sections(chapter_file: Path) -> None:
    seen: list[list[int]] = []

    def shout(section: Section) -> str:
        seen.append(section.notes_lines)
        return section.notes.upper()

    page = render_page(load_chapter(chapter_file), notes_filter=shout)
    assert "ONE STEP." in page
    assert [7] in seen


def test_missing_front_matter_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bare.py"
    path.write_text('x = 1\n"""not a docstring"""\n')
    with pytest.raises(ChapterError, match=r"bare\.py:1: .*title"):
        load_chapter(path)
    path.write_text('\n"""\n---\ntitle: T\n---\n"""\n')
    with pytest.raises(ChapterError, match=r"bare\.py:2: .*summary"):
        load_chapter(path)
    assert load_chapter(path, strict=False).title == "T"


def test_syntax_error_becomes_chapter_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("x = 1\n\ndef f(:\n")
    with pytest.raises(ChapterError, match=r"broken\.py:3: "):
        load_chapter(path)


def test_page_renders_with_markdown_extensions(chapter_file: Path) -> None:
    import markdown
    page = render_page(load_chapter(chapter_file), download="toy.py")
    body = page.split("---\n", 2)[2]
    html = markdown.markdown(
        body,
        extensions=["md_in_html", "attr_list", "pymdownx.highlight", "pymdownx.superfences"],
        extension_configs={"pymdownx.highlight": {"anchor_linenums": False}},
    )
    assert html.count('class="lo-section') == 6
    assert '<a class="lo-download" href="toy.py">' in html
    assert "<h1" in html and "```" not in html
    assert "linenos" in html or "linenums" in html


def test_cli_render(chapter_file: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "labml_optim.literate", "render", str(chapter_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('---\ntitle: "Toy')
    assert 'linenums="18"' in result.stdout


def test_cli_error_is_file_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("x = (\n")
    result = subprocess.run(
        [sys.executable, "-m", "labml_optim.literate", "render", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}:1: ")
    assert result.stdout == ""


def _chapter(sections: list[Section]):
    from labml_optim.literate import Chapter

    return Chapter(name="c", path=Path("c.py"), source="", title="C", summary="", sections=sections)


def _cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labml_optim.literate", "render", str(path)],
        capture_output=True, text=True, check=False,
    )


BAD_FILES = {
    # name: (bytes, line the message must name, words it must hold)
    "latin1_byte": (b'"""Doc."""\nx = 1\ny = "caf\xe9"\n', 3, "byte 0xe9"),
    "bad_cookie": (b"#!/usr/bin/env python\n# -*- coding: klingon -*-\nx = 1\n", 2, "klingon"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 1, "byte 0x89"),
    "nul_byte": (b'x = 1\ny = 2\nz = "\x00"\n', 3, "NUL"),
    "huge_expression": (("x = " + " + ".join(["1"] * 4000) + "\n").encode(), 1, "nested"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_cli_names_the_line_of_bad_bytes_and_never_shows_a_traceback(
    tmp_path: Path, name: str
) -> None:
    data, line, words = BAD_FILES[name]
    path = tmp_path / f"{name}.py"
    path.write_bytes(b"\n\n" + data if name == "huge_expression" else data)
    line += 2 if name == "huge_expression" else 0
    result = _cli(path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}:{line}: "), result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_bom_and_a_latin1_cookie_are_read_as_python_reads_them(tmp_path: Path) -> None:
    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbf" + CHAPTER.encode())
    assert load_chapter(bom).source == CHAPTER
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# coding: latin-1\n" + CHAPTER.replace("toy chapter", "caf\xe9").encode(
        "latin-1"))
    assert "caf\u00e9" in load_chapter(latin, strict=False).source
