"""One test per section rule of the literate parser."""

from __future__ import annotations

import sys
import textwrap

import pytest

from labml_optim.literate import Section, parse, read_front_matter, split_front_matter


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def code_lines(sections: list[Section]) -> list[int]:
    return [number for section in sections for number, _ in section.code]


def only_code(sections: list[Section]) -> list[str]:
    return [text for section in sections for _, text in section.code]


def test_module_docstring_is_first_notes() -> None:
    sections = parse(
        src('''
        """The module.

        More words.
        """
        import os
    ''')
    )
    assert sections[0].notes == "The module.\n\nMore words."
    assert sections[0].code == [(5, "import os")]
    assert sections[0].notes_lines == [1, 2, 3]


def test_front_matter_removed_from_notes() -> None:
    source = src('''
        r"""
        ---
        title: Rectified Adam
        summary: "Why Adam needs warmup."
        ---

        # Rectified Adam
        """
        import torch
    ''')
    sections = parse(source)
    assert sections[0].notes == "# Rectified Adam"
    assert sections[0].notes_lines == [7]
    meta, line = read_front_matter(source)
    assert meta == {"title": "Rectified Adam", "summary": "Why Adam needs warmup."}
    assert line == 1


def test_split_front_matter() -> None:
    meta, body, removed = split_front_matter("---\na: 1\nb: x: y\n---\nbody\n")
    assert meta == {"a": "1", "b": "x: y"}
    assert body == "body\n"
    assert removed == 4
    assert split_front_matter("no front\n---\n") == ({}, "no front\n---\n", 0)
    assert split_front_matter("---\nunclosed: yes\n") == ({}, "---\nunclosed: yes\n", 0)


def test_def_docstring_starts_section_at_header() -> None:
    sections = parse(
        src('''
        x = 1
        def f(a):
            """Adds one."""
            return a + 1
    ''')
    )
    assert [s.notes for s in sections] == ["", "Adds one."]
    assert sections[0].code == [(1, "x = 1")]
    assert sections[1].code == [(2, "def f(a):"), (4, "    return a + 1")]
    assert sections[1].notes_lines == [3]


def test_class_and_method_docstrings() -> None:
    sections = parse(
        src('''
        class A:
            """Class notes."""

            def m(self):
                """Method notes."""
                return 1
    ''')
    )
    assert [s.notes for s in sections] == ["Class notes.", "Method notes."]
    assert sections[0].code == [(1, "class A:")]
    assert sections[1].code == [(4, "    def m(self):"), (6, "        return 1")]


def test_decorators_belong_to_the_def_section() -> None:
    sections = parse(
        src('''
        y = 0
        @property
        @other(1,
               2)
        def f(self):
            """Doc."""
            return y
    ''')
    )
    assert sections[1].notes == "Doc."
    assert code_lines(sections[1:]) == [2, 3, 4, 5, 7]


def test_comment_between_decorator_and_def_stays_code() -> None:
    sections = parse(
        src('''
        @dec
        # keep me
        def f():
            """Doc."""
    ''')
    )
    assert sections[0].code[1] == (2, "# keep me")
    assert sections[0].notes == "Doc."


def test_multiline_signature() -> None:
    sections = parse(
        src('''
        def f(
            a: int,  # first
            b: int = 2,
        ) -> int:
            """Doc."""
            return a
    ''')
    )
    assert code_lines(sections) == [1, 2, 3, 4, 6]
    assert sections[0].notes == "Doc."


def test_async_def_docstring() -> None:
    sections = parse(
        src('''
        import asyncio
        async def run():
            """Runs."""
            await asyncio.sleep(0)
    ''')
    )
    assert sections[1].notes == "Runs."
    assert sections[1].code[0] == (2, "async def run():")


def test_nested_def_docstrings() -> None:
    sections = parse(
        src('''
        def outer():
            """Outer."""
            def inner():
                """Inner."""
                return 1
            return inner
    ''')
    )
    assert [s.notes for s in sections] == ["Outer.", "Inner."]
    assert sections[0].code == [(1, "def outer():")]
    assert code_lines(sections[1:]) == [3, 5, 6]


def test_single_quoted_triple_and_raw_docstrings() -> None:
    sections = parse(
        src("""
        def f():
            '''Single $\\beta$.'''
        def g():
            r\"\"\"Raw $\\beta_1$.\"\"\"
        def h():
            R'''Upper raw \\n.'''
    """)
    )
    assert [s.notes for s in sections] == [
        "Single $\\beta$.",
        "Raw $\\beta_1$.",
        "Upper raw \\n.",
    ]


def test_docstring_text_is_source_not_doc() -> None:
    sections = parse('def f():\n    """Has \\beta and \\n."""\n')
    assert sections[0].notes == "Has \\beta and \\n."


def test_closing_quotes_on_text_line_and_dedent() -> None:
    sections = parse(
        src('''
        def f():
            """First line.
                indented more
            last line."""
            pass
    ''')
    )
    assert sections[0].notes == "First line.\n    indented more\nlast line."
    assert sections[0].notes_lines == [2, 3, 4]
    assert sections[0].code == [(1, "def f():"), (5, "    pass")]


def test_docstring_on_def_line_is_code() -> None:
    sections = parse('def f(): "doc"\nx = 1\n')
    assert len(sections) == 1
    assert sections[0].notes == ""
    assert sections[0].code == [(1, 'def f(): "doc"'), (2, "x = 1")]


def test_docstring_with_trailing_comment_is_code() -> None:
    sections = parse('def f():\n    """doc"""  # note\n    return 1\n')
    assert only_code(sections) == ["def f():", '    """doc"""  # note', "    return 1"]


def test_comment_run_starts_section() -> None:
    sections = parse(
        src("""
        x = 1
        # Now the **update**:
        #
        #     indented code block
        y = 2
    """)
    )
    assert sections[1].notes == "Now the **update**:\n\n    indented code block"
    assert sections[1].notes_lines == [2, 3, 4]
    assert sections[1].code == [(5, "y = 2")]


def test_bare_hash_run_ends_section() -> None:
    sections = parse(
        src("""
        # Notes
        x = 1
        #
        y = 2
    """)
    )
    assert [(s.notes, code_lines([s])) for s in sections] == [("Notes", [2]), ("", [4])]


def test_trailing_comments_stay_in_code() -> None:
    sections = parse("x = 1  # why\ny = 2 # how\n")
    assert only_code(sections) == ["x = 1  # why", "y = 2 # how"]
    assert sections[0].notes == ""


def test_comments_inside_brackets_stay_in_code() -> None:
    sections = parse(
        src("""
        x = [
            # first
            1,
        ]
        y = f(a,
        # between
              b)
    """)
    )
    assert len(sections) == 1
    assert code_lines(sections) == [1, 2, 3, 4, 5, 6, 7]


def test_comment_after_backslash_continuation_stays_in_code() -> None:
    sections = parse("x = 1 \\\n# mid-statement\ny = 2\n")
    assert code_lines(sections) == [1, 2, 3]


def test_hash_inside_strings() -> None:
    sections = parse(
        src('''
        a = "# not a comment"
        b = '# nor this'
        c = """
        # still a string
        """
        d = 1
    ''')
    )
    assert len(sections) == 1
    assert code_lines(sections) == [1, 2, 3, 4, 5, 6]


def test_blank_lines_inside_multiline_string_are_code() -> None:
    source = 'x = """a\n\nb"""\ny = 1\n'
    sections = parse(source)
    assert sections[0].code == [(1, 'x = """a'), (2, ""), (3, 'b"""'), (4, "y = 1")]


def test_comment_run_merges_with_following_docstring() -> None:
    sections = parse(
        src('''
        x = 1

        # Helpers.

        def f():
            """Doc."""
            return 2
    ''')
    )
    assert [s.notes for s in sections] == ["", "Helpers.\n\nDoc."]
    assert sections[1].notes_lines == [3, 6, 6]
    assert sections[1].code == [(5, "def f():"), (7, "    return 2")]


def test_leading_and_trailing_blank_lines_trimmed() -> None:
    sections = parse("x = 1\n\n\n# Notes\n\ny = 2\n\n")
    assert sections[0].code == [(1, "x = 1")]
    assert sections[1].code == [(6, "y = 2")]


def test_shebang_and_encoding_cookie_stay_code() -> None:
    sections = parse("#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nx = 1\n")
    assert code_lines(sections) == [1, 2, 3]


def test_notes_lines_match_notes() -> None:
    sections = parse(
        src('''
        """Top.

        ---not front matter
        """
        # One
        #
        # Two
        x = 1
        class A:
            """
            Body.

            More.
            """
    ''')
    )
    for section in sections:
        assert len(section.notes.splitlines()) == len(section.notes_lines)
    assert sections[0].notes == "Top.\n\n---not front matter\n\nOne\n\nTwo"
    assert sections[0].notes_lines == [1, 2, 3, 5, 5, 6, 7]
    assert sections[1].notes_lines == [11, 12, 13]


def test_syntax_error_carries_line() -> None:
    with pytest.raises(SyntaxError) as info:
        parse("x = 1\ndef f(:\n")
    assert info.value.lineno == 2


def test_empty_source() -> None:
    assert parse("") == []


def test_a_leading_bom_in_a_str_is_ignored() -> None:
    source = '"""Doc."""\nimport os\n'
    assert parse("\ufeff" + source) == parse(source)


def test_a_statement_too_deep_for_the_parser_is_a_syntax_error_with_its_line() -> None:
    # CPython converts the parse tree under the interpreter's recursion limit, which other
    # code in the same process may have raised (torch.compile does): pin Python's default,
    # the limit a fresh `python -m labml_optim.literate` or site build runs under.
    source = "import os\n\nx = " + " + ".join(["1"] * 4000) + "\n"
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        with pytest.raises(SyntaxError, match="too deeply nested") as raised:
            parse(source)
    finally:
        sys.setrecursionlimit(limit)
    assert raised.value.lineno == 3
