"""The pairing rules (docs/conventions.md, "Notes beside code"): one test per rule on small
chapters, and checks over every real chapter."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from labml_optim.literate import parse
from labml_optim.literate.catalogue import discover
from labml_optim.literate.render import Row, import_lines, is_tall, layout, notes_height

REPO = Path(__file__).resolve().parents[1]


def rows_of(source: str) -> list[Row]:
    source = textwrap.dedent(source).lstrip("\n")
    return layout(parse(source), import_lines(source))


def summary(rows: list[Row]) -> list[tuple[str, str, list[int]]]:
    """(kind, first notes line, code line numbers) per row."""
    return [
        (row.kind, (row.section.notes.split("\n") or [""])[0], [n for n, _ in row.section.code])
        for row in rows
    ]


def test_rule_1_the_module_docstring_is_prose_and_the_imports_stand_alone() -> None:
    rows = rows_of('''
        """
        # Title

        Intro.

        ## Derivation

        Words.
        """
        import os
        import sys

        X = 1
    ''')
    assert summary(rows) == [
        ("prose", "# Title", []),
        ("prose", "## Derivation", []),
        ("code", "", [10, 11, 12, 13]),
    ]


def test_rule_2_notes_above_imports_become_prose() -> None:
    rows = rows_of('''
        """Doc."""
        __all__ = ["X"]

        # Only the standard library at module level.
        import os
        from pathlib import (
            Path,
        )

        # A constant.
        X = os.sep
    ''')
    assert summary(rows) == [
        ("prose", "Doc.", []),
        ("code", "", [2]),
        ("prose", "Only the standard library at module level.", []),
        ("code", "", [5, 6, 7, 8]),
        ("pair", "A constant.", [11]),
    ]


def test_rule_3_a_comment_at_the_top_of_a_body_sits_beside_its_header() -> None:
    rows = rows_of('''
        X = 1


        @staticmethod
        def f(
            x,
        ):
            # What f does.
            return x


        class A:
            # What A holds.
            y = 2
    ''')
    assert summary(rows) == [
        ("code", "", [1]),
        ("pair", "What f does.", [4, 5, 6, 7, 9]),
        ("pair", "What A holds.", [12, 14]),
    ]


def test_rule_3_keeps_a_docstring_beside_its_header() -> None:
    rows = rows_of('''
        def f(x):
            """What f does."""
            # The first step.
            y = x
            return y
    ''')
    assert summary(rows) == [("pair", "What f does.", [1]), ("pair", "The first step.", [4, 5])]


def test_rule_4_display_math_makes_a_prose_row_before_the_code() -> None:
    rows = rows_of('''
        def f(x):
            # The update:
            #
            # $$
            # y = 2x
            # $$
            return 2 * x
    ''')
    assert summary(rows) == [("prose", "The update:", []), ("code", "", [1, 7])]


def test_rule_4_notes_much_taller_than_their_code_become_prose() -> None:
    long = "\n".join(f"    # Line {i} of a long explanation that fills the notes column." for i in
                     range(20))
    rows = rows_of(f"def f(x):\n{long}\n    return x\n")
    assert [r.kind for r in rows] == ["prose", "code"]
    short = "\n".join(f"    # Line {i}." for i in range(3))
    assert [r.kind for r in rows_of(f"def f(x):\n{short}\n    return x\n")] == ["pair"]


def test_the_height_estimate() -> None:
    assert notes_height("a" * 110) == 2
    assert notes_height("## Heading\n\ntext") == 2 + 0.5 + 1
    assert notes_height("$$\nx\n$$") == 4.5
    assert notes_height("![figure](f.png)") == 12
    code = [(n, "x") for n in range(1, 11)]
    assert not is_tall("word\n" * 12, code)
    assert is_tall("word\n" * 16, code)


# ------------------------------------------------------------------- every chapter

CHAPTERS = discover(REPO / "labml_optim")


def _body_comment(source: str) -> list[tuple[int, str]]:
    """(header line, first comment line) for defs/classes whose body opens with comments."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None),
                                                          ast.Constant):
                continue  # a docstring opens the body
            for number in range(node.lineno + 1, first.lineno):
                text = lines[number - 1].strip()
                if text.startswith("# ") and text[2:].strip():
                    found.append((node.lineno, text[2:].strip()))
                    break
    return found


@pytest.mark.parametrize("entry", CHAPTERS, ids=[e.name for e in CHAPTERS])
def test_every_chapter_pairs_by_the_rules(entry) -> None:
    chapter = entry.chapter
    imports = import_lines(chapter.source)
    rows = layout(chapter.sections, imports)
    for row in rows:
        code = [n for n, text in row.section.code if text.strip()]
        if row.kind == "pair":
            assert not set(code) <= imports, f"{entry.name}: notes beside imports at L{code[0]}"
            assert code[0] not in imports, f"{entry.name}: notes beside imports at L{code[0]}"
            assert not row.section.module, f"{entry.name}: module docstring beside code"
        if row.section.module:
            assert row.kind == "prose", f"{entry.name}: module docstring beside code"
    # Every heading of the module docstring is in a prose row.
    module_notes = "\n".join(r.section.notes for r in rows if r.section.module)
    headings = [line for line in module_notes.split("\n") if line.startswith("#")]
    paired = "\n".join(r.section.notes for r in rows if r.kind == "pair")
    for heading in headings:
        assert heading not in paired.split("\n"), f"{entry.name}: {heading!r} faces code"
    # A comment at the top of a body sits in the row of its header.
    for header, comment in _body_comment(chapter.source):
        at = next(i for i, r in enumerate(rows) if header in [n for n, _ in r.section.code])
        notes = rows[at].section.notes
        if rows[at].kind == "code" and at and rows[at - 1].kind == "prose":
            notes = rows[at - 1].section.notes
        assert comment in notes, f"{entry.name}:{header}: header not beside {comment!r}"
