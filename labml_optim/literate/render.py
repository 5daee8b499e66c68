"""Turn a chapter (a parsed Python file) into one Markdown page for mkdocs.

The page needs the Markdown extensions `md_in_html`, `attr_list`,
`pymdownx.highlight` and `pymdownx.superfences`. It starts with YAML front matter
(`title`, `description`), then an optional download link, then one grid row per
section:

    <div class="lo-section" id="s-12" markdown>
    <div class="lo-notes" markdown>

    ...notes...

    </div>
    <div class="lo-code" markdown>

    ```python linenums="12"
    ...code...
    ```

    </div>
    </div>

Which notes sit beside which code is decided by `layout` (the pairing rules, listed
above it and in docs/conventions.md): the module docstring and notes that are much taller
than their code or hold display math become prose rows (`<div class="lo-section
lo-prose">`, notes only, read at a book's measure) followed by their code in a row of its
own (`lo-section lo-code-only`); imports never have notes beside them.

A section's id is `s-<first code line>` (`s-n<first notes line>` for a notes-only
section), so links to a row survive edits elsewhere in the file. Where a section's
code lines are not contiguous (a docstring or comment run was lifted out between
them) the code is split into several fenced blocks, each with its real `linenums`.
Math is left as TeX; see `labml_optim.literate.math` for pre-rendering it.
"""

from __future__ import annotations

import ast
import codecs
import dataclasses
import io
import json
import re
import tokenize
import warnings
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from .parse import Section, _Parsed

# PEP 263's coding cookie, on line 1 or 2.
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")

__all__ = [
    "Chapter", "ChapterError", "Row", "code_blocks", "has_display_math", "import_lines",
    "is_tall", "layout", "layout_with_figure", "load_chapter", "notes_height", "read_source",
    "render_page", "split_at_headings",
]


class ChapterError(ValueError):
    """A chapter cannot be rendered; the message starts with `file:line:`."""


@dataclass
class Chapter:
    """A parsed chapter: `name` is the module name (`radam`), `path` its file."""

    name: str
    path: Path
    source: str
    title: str
    summary: str
    sections: list[Section]
    meta: dict[str, str] = field(default_factory=dict)
    meta_line: int = 1  # the line the module docstring (and its front matter) starts on


def read_source(path: str | Path, *, label: str | None = None) -> str:
    """The text of a Python file, decoded as Python would (PEP 263 cookie, BOM).

    Bytes that are not text in the file's encoding, an unknown or misplaced coding cookie
    and NUL bytes raise `ChapterError("<label>:<line>: ...")` with the line they are on.
    """
    label = label or str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ChapterError(f"{label}:1: cannot read the file: {exc.strerror or exc}") from None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        head = data.split(b"\n", 2)[:2]
        line = next((i for i, text in enumerate(head, 1) if _COOKIE.match(text)), None)
        if line is not None:
            raise ChapterError(f"{label}:{line}: {exc.msg}") from None
        encoding = "utf-8"  # not a cookie at fault: bytes that are not UTF-8, found below
    try:
        text = codecs.decode(data, encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise ChapterError(
            f"{label}:{line}: byte 0x{byte} (column {column}) is not valid {encoding}; "
            "is this a text file?"
        ) from None
    if "\0" in text:
        line = text[: text.index("\0")].count("\n") + 1
        raise ChapterError(f"{label}:{line}: NUL byte in the source; is this a binary file?")
    return text.removeprefix("\ufeff")


def load_chapter(path: str | Path, *, strict: bool = True, label: str | None = None) -> Chapter:
    """Read and parse a chapter file.

    The module docstring's front matter must give `title` and `summary`; a missing
    one raises `ChapterError("<file>:<line>: ...")`. With `strict=False` the title
    falls back to the module name and the summary to "" (for rendering any module).
    Invalid Python, bytes that are not text and undecodable files also raise
    `ChapterError`, pointing at the offending line. `label` is how messages name the
    file (default: `path`).
    """
    path = Path(path)
    label = label or str(path)
    source = read_source(path, label=label)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = _Parsed(source)
    except SyntaxError as exc:
        raise ChapterError(f"{label}:{exc.lineno or 1}: {exc.msg}") from None
    meta = parsed.meta
    for key in ("title", "summary"):
        if strict and not meta.get(key):
            raise ChapterError(
                f"{label}:{parsed.meta_line}: front matter of the module docstring "
                f"has no '{key}:' line"
            )
    return Chapter(
        name=path.stem,
        path=path,
        source=source,
        title=meta.get("title") or path.stem,
        summary=meta.get("summary", ""),
        sections=parsed.sections,
        meta=meta,
        meta_line=parsed.meta_line,
    )


def code_blocks(code: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Split code into runs of consecutive line numbers, without edge blank lines."""
    blocks: list[list[tuple[int, str]]] = []
    for number, text in code:
        if blocks and blocks[-1][-1][0] == number - 1:
            blocks[-1].append((number, text))
        else:
            blocks.append([(number, text)])
    trimmed = []
    for block in blocks:
        while block and not block[0][1].strip():
            block = block[1:]
        while block and not block[-1][1].strip():
            block = block[:-1]
        if block:
            trimmed.append(block)
    return trimmed


def _fence(block: list[tuple[int, str]]) -> str:
    longest = 0
    for _, text in block:
        run = 0
        for ch in text:
            run = run + 1 if ch == "`" else 0
            longest = max(longest, run)
    ticks = "`" * max(3, longest + 1)
    body = "\n".join(text for _, text in block)
    return f'{ticks}python linenums="{block[0][0]}"\n{body}\n{ticks}'


def _is_heading(line: str) -> bool:
    hashes = len(line) - len(line.lstrip("#"))
    return 2 <= hashes <= 6 and line[hashes:hashes + 1] == " "


def split_at_headings(section: Section) -> list[Section]:
    """Cut a section's notes before each `##`..`######` heading outside code fences.

    The code stays with the last part; the parts before it are notes-only sections.
    Each part keeps the source line of every notes line, for error messages.
    """
    lines = section.notes.split("\n")
    if len(lines) != len(section.notes_lines):
        return [section]
    starts, fence = [0], None
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        marker = stripped[:3]
        if marker in ("```", "~~~"):
            fence = None if fence == marker else (fence or marker)
        elif fence is None and i > 0 and _is_heading(line):
            starts.append(i)
    parts = []
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        while start < end and not lines[start].strip():
            start += 1
        while end > start and not lines[end - 1].strip():
            end -= 1
        if start < end:
            parts.append(Section(notes="\n".join(lines[start:end]), code=[],
                                 notes_lines=section.notes_lines[start:end]))
    if not parts:
        return [section]
    parts[-1] = dataclasses.replace(parts[-1], code=section.code)
    return parts


# -- pairing ----------------------------------------------------------------------------
#
# How notes and code share rows (docs/conventions.md, "Notes beside code", says the same):
#
# 1. The module docstring is prose: every part of it (cut at `##` headings) is a prose row,
#    read at a book's measure, and the code after it (the imports) gets a row without notes.
# 2. Code that starts with an import statement gets no notes beside it: notes written above
#    imports become a prose row before them.
# 3. A comment or docstring explaining a def/class sits in the row of that header (the
#    parser moves a header down to a comment at the top of its body).
# 4. Notes holding display math, or much taller than their code (see `TALL`), become a prose
#    row followed by the code, so a derivation never stretches a row of a few code lines.
# 5. Other notes sit beside their code; notes cut at a heading put every part before the
#    last in prose rows, and the last part beside the code.

# Characters in a line of the notes column at a desktop width, and how many lines of notes
# one code line is as tall as (code is set smaller and tighter).
NOTES_CHARS = 55
CODE_LINE = 0.75
# Notes are "much taller" than their code when they need more than TALL_MIN lines and more
# than TALL_RATIO times the height of the code.
TALL_MIN = 12
TALL_RATIO = 2.0


@dataclass
class Row:
    """One row of a page: `kind` is "prose" (notes only), "pair" or "code" (no notes)."""

    section: Section
    kind: str


def import_lines(source: str) -> set[int]:
    """The lines of the module's top-level `import` and `from ... import` statements."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source.removeprefix("\ufeff"))
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return set()
    lines: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def has_display_math(notes: str) -> bool:
    """Whether the notes hold `$$` display math outside code."""
    fence = None
    for line in notes.split("\n"):
        marker = line.lstrip()[:3]
        if marker in ("```", "~~~"):
            fence = None if fence == marker else (fence or marker)
        elif fence is None and "$$" in line.replace("\\$", ""):
            return True
    return False


def notes_height(notes: str) -> float:
    """The height of notes in lines of the notes column, estimated from the Markdown."""
    height = 0.0
    display = False
    for line in notes.split("\n"):
        text = line.strip()
        if text.count("$$") % 2:
            display = not display
        if not text:
            height += 0.5
        elif text.startswith("#"):
            height += 2.0
        elif text.startswith("!["):
            height += 12.0
        elif display or text.startswith("$$"):
            height += 1.5
        else:
            height += -(-len(text) // NOTES_CHARS)
    return height


def is_tall(notes: str, code: list[tuple[int, str]]) -> bool:
    """Notes much taller than the code beside them (rule 4)."""
    height = notes_height(notes)
    lines = code[-1][0] - code[0][0] + 1 if code else 0
    return height > TALL_MIN and height > TALL_RATIO * CODE_LINE * lines


def layout(sections: list[Section], imports: Collection[int] = ()) -> list[Row]:
    """The rows of a page, by the pairing rules above."""
    rows: list[Row] = []
    for section in sections:
        parts = split_at_headings(section)
        *before, last = parts
        rows += [Row(dataclasses.replace(p, code=[]), "prose") for p in before]
        if not last.code:
            rows.append(Row(last, "prose"))
            continue
        first_code = next((n for n, text in last.code if text.strip()), None)
        alone = (
            section.module
            or first_code in imports
            or has_display_math(last.notes)
            or is_tall(last.notes, last.code)
        )
        if not last.notes.strip():
            rows.append(Row(last, "code"))
        elif alone:
            rows.append(Row(dataclasses.replace(last, code=[]), "prose"))
            rows.append(Row(Section(code=last.code), "code"))
        else:
            rows.append(Row(last, "pair"))
    return rows


def _section_id(section: Section, used: set[str]) -> str:
    if section.code:
        base = f"s-{section.code[0][0]}"
    elif section.notes_lines:
        base = f"s-n{section.notes_lines[0]}"
    else:
        base = "s-empty"
    ident, n = base, 1
    while ident in used:
        n += 1
        ident = f"{base}-{n}"
    used.add(ident)
    return ident


def _main_line(section: Section) -> int | None:
    """The line of `def main` in a section's code, if any."""
    for number, text in section.code:
        words = text.split()
        for i, word in enumerate(words[:-1]):
            if word == "def" and (words[i + 1] == "main" or words[i + 1].startswith("main(")):
                return number
    return None


def _with_figure(chapter: Chapter, figure: str, label: str) -> list[Section]:
    sections = list(chapter.sections)
    if any(f"]({figure})" in section.notes for section in sections):
        return sections
    for i, section in enumerate(sections):
        line = _main_line(section)
        if line is not None:
            image = f"![Figure from main]({figure})"
            if section.notes:
                notes = f"{section.notes}\n\n{image}"
                notes_lines = [*section.notes_lines, line, line]
            else:
                notes, notes_lines = image, [line]
            sections[i] = dataclasses.replace(section, notes=notes, notes_lines=notes_lines)
            return sections
    raise ChapterError(
        f"{label}:1: no place for figure {figure}: no notes show it "
        f"as ![...]({figure}) and no section defines main()"
    )


# -- figures and references -------------------------------------------------------------
#
# The chapter's figure is a row of its own, across the notes and code columns (class
# `lo-figure-row`), so it is never squeezed into the notes column: where notes show it on
# lines of its own, the notes before it stay in place, and the figure follows the row they
# are in (a prose row is cut in two around it). The module docstring's `## References`
# part (the chapter's sources) is the last row of the page, after the code.

REFERENCES_HEADING = "## References"


def _figure_span(notes: str, figure: str) -> tuple[int, int] | None:
    """The first and last notes line of `![...](figure){...}` standing on lines of its own."""
    # The alt text may hold brackets of its own, one level deep ("the band [0.68, 1.20]").
    alt = r"!\[(?:[^\[\]]|\[[^\[\]]*\])*\]"
    found = re.search(alt + r"\(" + re.escape(figure) + r"\)(\{[^}\n]*\})?", notes)
    if found is None:
        return None
    before = notes[: found.start()].rsplit("\n", 1)[-1]
    after = notes[found.end():].split("\n", 1)[0]
    if before.strip() or after.strip():
        return None
    return notes[: found.start()].count("\n"), notes[: found.end()].count("\n")


def _part(section: Section, start: int, end: int) -> Section:
    lines = section.notes.split("\n")[start:end]
    while lines and not lines[0].strip():
        lines, start = lines[1:], start + 1
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return Section(notes="\n".join(lines), code=[],
                   notes_lines=section.notes_lines[start : start + len(lines)],
                   module=section.module)


def layout_with_figure(sections: list[Section], imports: Collection[int],
                       figure: str | None) -> list[Row]:
    """`layout`, with the figure (shown on lines of its own) in a row of its own.

    In the module docstring the figure stays where it is, the prose cut around it. In other
    notes it follows them: after the row that pairs them with their code, or between the
    prose row they became and its code.
    """
    rows: list[Row] = []
    for section in sections:
        span = _figure_span(section.notes, figure) if figure else None
        if span is None or len(section.notes.split("\n")) != len(section.notes_lines):
            rows += layout([section], imports)
            continue
        first, last = span
        before, shown = _part(section, 0, first), _part(section, first, last + 1)
        after = _part(section, last + 1, len(section.notes_lines))
        figure_row = Row(shown, "figure")
        if section.module:
            if before.notes.strip():
                rows += layout([before], imports)
            rows.append(figure_row)
            rest = dataclasses.replace(section, notes=after.notes,
                                       notes_lines=after.notes_lines)
            if rest.notes.strip() or rest.code:
                rows += layout([rest], imports)
            continue
        notes = [p for p in (before, after) if p.notes.strip()]
        lines: list[int] = []
        for part in notes:
            lines += [lines[-1]] if lines else []  # the blank line that joins the two parts
            lines += part.notes_lines
        rest = dataclasses.replace(section, notes="\n\n".join(p.notes for p in notes),
                                   notes_lines=lines)
        laid = layout([rest], imports) if rest.notes.strip() or rest.code else []
        if len(laid) >= 2 and laid[-1].kind == "code" and laid[-2].kind == "prose":
            laid.insert(len(laid) - 1, figure_row)
        else:
            laid.append(figure_row)
        rows += laid
    return rows


def references_last(rows: list[Row], sections: list[Section]) -> list[Row]:
    """The rows with the module docstring's `## References` prose row moved to the end."""
    docstring = {n for s in sections if s.module for n in s.notes_lines}
    for i, row in enumerate(rows):
        lines = row.section.notes_lines
        if (row.kind == "prose" and lines and lines[0] in docstring
                and row.section.notes.startswith(REFERENCES_HEADING)):
            return [*rows[:i], *rows[i + 1:], row]
    return rows


def render_page(
    chapter: Chapter,
    *,
    figure: str | None = None,
    download: str | None = None,
    notes_filter: Callable[[Section], str] | None = None,
    label: str | None = None,
) -> str:
    """Render a chapter as one Markdown page (see the module docstring).

    `figure` is an image file name placed beside `def main` unless some notes
    already show it; `download` is the URL of the source file, linked near the top;
    `notes_filter(section)` returns the Markdown to use for a section's notes (the
    site uses it to swap math for placeholders); `label` is how errors name the file.
    """
    label = label or str(chapter.path)
    sections = _with_figure(chapter, figure, label) if figure else chapter.sections
    out = [
        "---",
        f"title: {json.dumps(chapter.title)}",
        f"description: {json.dumps(chapter.summary)}",
        "---",
        "",
    ]
    if download:
        out += [f"[Download {chapter.path.name}]({download}){{ .lo-download }}", ""]
    used: set[str] = set()
    rows = layout_with_figure(sections, import_lines(chapter.source), figure)
    for row in references_last(rows, sections):
        section = row.section
        notes = notes_filter(section) if notes_filter else section.notes
        blocks = code_blocks(section.code)
        kind = {"prose": "lo-section lo-prose", "pair": "lo-section",
                "code": "lo-section lo-code-only",
                "figure": "lo-section lo-figure-row"}[row.kind]
        out += [
            f'<div class="{kind}" id="{_section_id(section, used)}" markdown>',
            '<div class="lo-notes" markdown>',
            "",
        ]
        if notes.strip():
            out += [notes.strip("\n"), ""]
        out += ["</div>"]
        if blocks:
            out += ['<div class="lo-code" markdown>', ""]
            for block in blocks:
                out += [_fence(block), ""]
            out += ["</div>"]
        out += ["</div>", ""]
    return "\n".join(out)
