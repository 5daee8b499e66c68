r"""Cut a Python source file into sections of notes and code.

A *section* is one row of a rendered page: Markdown notes on the left, the code
they explain on the right. The source is read with `ast` (to find docstrings and
definitions) and `tokenize` (to find comments and brackets), never with line
patterns, so a `#` inside a string or a `'''` inside a comment cannot confuse it.

The rules, in the order a reader meets them:

1. **Module docstring.** Its text is the notes of the first section. A front
   matter block at its top (`---`, `key: value` lines, `---`) is removed from the
   notes; `read_front_matter` returns it.
2. **Class and function docstrings** (`class`, `def`, `async def`, nested or not)
   start a new section whose notes are the docstring and whose code begins at the
   definition's first decorator (or its header line when it has none).
3. **Comment runs.** Consecutive full-line `#` comments start a new section; their
   text, with the `#` and one following space removed, is the notes. Deeper
   indentation after that space is kept, so Markdown code blocks and nested lists
   work. A bare `#` line inside a run is a paragraph break.
4. **Section breaks.** A run made only of bare `#` lines ends the current section;
   the code that follows starts a section with empty notes.
5. **Comments that stay in the code.** Trailing comments (`x = 1  # why`),
   full-line comments inside brackets or after a backslash continuation (that is,
   in the middle of a statement), comments between a definition's first decorator
   and its docstring, a `#!` line 1 and an encoding cookie on lines 1-2.
6. **Merging.** A section that has no code yet does not stay a notes-only row when
   more notes arrive: a comment run directly followed by a documented `def` (blank
   lines between are fine) gives one section whose notes are the comment text, a
   blank line, then the docstring. The same holds for two comment runs separated
   only by blank lines. A bare-`#` break is the way to force a notes-only row.

Docstring text is taken from the source, not from `__doc__`: the characters between
the quotes exactly as written (escapes are not processed, so `\beta` stays `\beta`
even without an `r` prefix), dedented like `inspect.cleandoc`, with leading and
trailing blank lines dropped. A line holding only docstring text (and whitespace)
is not code; a line where the docstring shares the line with code or a comment
(`def f(): "doc"`, or a docstring followed by `# note`) stays code, and a docstring none of whose
lines is docstring-only is left entirely in the code.

Every other line that is not blank appears exactly once, in source order, in some
section's `code`, as `(line_number, text)` with the true 1-based number and the
exact text (newlines normalised to `\n`). Blank lines between code lines of one
section are kept; leading and trailing blank lines of a section are dropped.
"""

from __future__ import annotations

import ast
import bisect
import io
import tokenize
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["Section", "parse", "read_front_matter", "split_front_matter"]

# Token types that carry no code by themselves.
_LAYOUT = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
    tokenize.ENCODING,
}
# Characters `str.splitlines` treats as line ends besides `\n` and `\r`.
_EXTRA_LINE_ENDS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_DEFS = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
_OPEN = "([{"
_CLOSE = ")]}"


@dataclass
class Section:
    """One row of a page.

    `notes` is Markdown. `code` lists `(line_number, line_text)` pairs with real
    1-based line numbers. `notes_lines[i]` is the source line of the i-th line of
    `notes.splitlines()` (for error messages that point into the file).
    """

    notes: str = ""
    code: list[tuple[int, str]] = field(default_factory=list)
    notes_lines: list[int] = field(default_factory=list)
    module: bool = False  # the notes are (or start with) the module docstring


def split_front_matter(text: str) -> tuple[dict[str, str], str, int]:
    """Split a `---` / `key: value` / `---` block off the top of `text`.

    Returns `(meta, body, removed)`, where `removed` is the number of lines taken
    off the top. Values lose one pair of matching surrounding quotes. Without an
    opening `---` on the first line and a closing `---` below it, the text is
    returned unchanged with `({}, text, 0)`. Lines without a `:` are ignored.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text, 0
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            break
    else:
        return {}, text, 0
    meta: dict[str, str] = {}
    for line in lines[1:end]:
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        meta[key.strip()] = value
    return meta, "\n".join(lines[end + 1 :]), end + 1


def read_front_matter(source: str) -> tuple[dict[str, str], int]:
    """Return the module docstring's front matter and the line the docstring starts on.

    The line is 1 when the module has no docstring. Raises `SyntaxError` like `parse`.
    """
    parsed = _Parsed(source)
    return parsed.meta, parsed.meta_line


def parse(source: str) -> list[Section]:
    """Cut `source` (any valid Python) into sections; see the module docstring.

    Raises `SyntaxError` (with `lineno`) when `source` is not valid Python.
    """
    return _Parsed(source).sections


# ---------------------------------------------------------------------------


def _scopes(tree: ast.Module) -> Iterator[ast.AST]:
    """The module and every class or function in it (they live only in statement lists)."""
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            yield node
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, name, None)
            if isinstance(children, list):
                todo.extend(children)


def _normalise(source: str) -> str:
    """Newlines as `\n`, and no byte-order mark (Python ignores one at the start)."""
    return source.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _longest_statement(tokens: list[tokenize.TokenInfo]) -> tuple[int, int]:
    """(first line, token count) of the logical line with the most tokens."""
    best, count, start = (1, 0), 0, None
    for tok in tokens:
        if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            if start is not None and count > best[1]:
                best = (start, count)
            count, start = 0, None
        elif tok.type not in _LAYOUT:
            start = tok.start[0] if start is None else start
            count += 1
    return best


def _char_col(line: str, byte_col: int) -> int:
    """ast columns count UTF-8 bytes; tokenize columns count characters."""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def _string_body(token: str) -> str:
    """The characters between the quotes of a string token, as written."""
    start = 0
    while token[start] not in "'\"":
        start += 1
    quote = token[start] * 3 if token[start : start + 3] in ('"""', "'''") else token[start]
    return token[start + len(quote) : len(token) - len(quote)]


def _dedent(text: str, first_line: int) -> list[tuple[int, str]]:
    """cleandoc-style dedent, keeping each line's source line number."""
    raw = text.split("\n")
    margin = None
    for line in raw[1:]:
        stripped = line.lstrip()
        if stripped:
            indent = len(line) - len(stripped)
            margin = indent if margin is None else min(margin, indent)
    out = [(first_line, raw[0].lstrip())]
    for i, line in enumerate(raw[1:], start=1):
        out.append((first_line + i, line[margin or 0 :] if line.strip() else ""))
    return out


def _trim(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    start, end = 0, len(lines)
    while start < end and not lines[start][1].strip():
        start += 1
    while end > start and not lines[end - 1][1].strip():
        end -= 1
    return lines[start:end]


def _clean_notes(text: str) -> str:
    for ch in _EXTRA_LINE_ENDS:
        text = text.replace(ch, " ")
    return text


class _Builder:
    def __init__(self) -> None:
        self.notes: list[tuple[int, str]] = []
        self.code: list[tuple[int, str]] = []
        self.module = False

    def add_notes(self, lines: list[tuple[int, str]]) -> None:
        lines = _trim(lines)
        if not lines:
            return
        if self.notes:
            self.notes.append((lines[0][0], ""))
        self.notes.extend(lines)

    def has_code(self) -> bool:
        return any(text.strip() for _, text in self.code)

    def build(self) -> Section:
        notes = _trim(self.notes)
        return Section(
            notes="\n".join(_clean_notes(text) for _, text in notes),
            code=_trim(self.code),
            notes_lines=[line for line, _ in notes],
            module=self.module,
        )


class _Parsed:
    """Classifies every line, then walks the lines once to build sections."""

    def __init__(self, source: str) -> None:
        source = _normalise(source)
        self.lines = source.split("\n")
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self._check_nul(source)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escapes in the parsed file
                tree = ast.parse(source)
        except (RecursionError, MemoryError):
            # A statement nested too deeply for CPython's parser (thousands of terms).
            tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
            line, count = _longest_statement(tokens)
            raise SyntaxError(
                f"statement too deeply nested for Python's parser ({count} tokens)",
                ("<string>", line, 1, ""),
            ) from None
        self.tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
        self.meta: dict[str, str] = {}
        self.meta_line = 1
        # line -> notes to add when the walk reaches that line; line -> "module"/"def"
        self.notes_at: dict[int, tuple[str, list[tuple[int, str]]]] = {}
        self.docstring_lines: set[int] = set()
        self.header_lines: set[int] = set()
        # (first line of a header, first line of its body) for every class and def
        self.bodies: list[tuple[int, int]] = []
        self._find_docstrings(tree)
        self.comment_lines: dict[int, str] = self._find_comment_lines()
        self.sections = self._walk()

    def _check_nul(self, source: str) -> None:
        if "\0" in source:
            lineno = source[: source.index("\0")].count("\n") + 1
            raise SyntaxError("source code cannot contain null bytes", ("<string>", lineno, 1, ""))

    # -- docstrings ---------------------------------------------------------

    def _find_docstrings(self, tree: ast.Module) -> None:
        self.starts = [tok.start for tok in self.tokens]
        for node in _scopes(tree):
            if isinstance(node, _DEFS) and node.decorator_list:
                # Comments between a decorator and its `def` stay in the code.
                self.header_lines.update(range(self._header_start(node), node.lineno))
            if isinstance(node, _DEFS) and node.body:
                self.bodies.append((self._header_start(node), node.body[0].lineno))
            if not isinstance(node, (ast.Module, *_DEFS)) or not node.body:
                continue
            first = node.body[0]
            if not (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                continue
            only = self._docstring_only_lines(first)
            if not only:
                continue
            text_lines = _trim(self._docstring_text(first))
            self.docstring_lines.update(only)
            if isinstance(node, ast.Module):
                meta, _, removed = split_front_matter("\n".join(t for _, t in text_lines))
                self.meta, self.meta_line = meta, first.lineno
                self.notes_at[min(only)] = ("module", text_lines[removed:])
            else:
                start = self._header_start(node)
                self.header_lines.update(range(node.lineno, first.lineno))
                self.notes_at[start] = ("def", text_lines)

    def _span(self, node: ast.expr | ast.stmt) -> tuple[tuple[int, int], tuple[int, int]]:
        """A node's (row, char column) start and end."""
        assert node.end_lineno is not None and node.end_col_offset is not None
        start_col = _char_col(self.lines[node.lineno - 1], node.col_offset)
        end_col = _char_col(self.lines[node.end_lineno - 1], node.end_col_offset)
        return (node.lineno, start_col), (node.end_lineno, end_col)

    def _docstring_only_lines(self, expr: ast.Expr) -> set[int]:
        (first, start_col), (last, end_col) = self._span(expr)
        only = set()
        for line in range(first, last + 1):
            text = self.lines[line - 1]
            before = text[:start_col] if line == first else ""
            after = text[end_col:] if line == last else ""
            if not before.strip() and not after.strip():
                only.add(line)
        return only

    def _docstring_text(self, expr: ast.Expr) -> list[tuple[int, str]]:
        start, end = self._span(expr)
        pieces = []
        first_line = None
        for i in range(bisect.bisect_left(self.starts, start), len(self.tokens)):
            tok = self.tokens[i]
            if tok.start >= end:
                break
            if tok.type == tokenize.STRING:
                if first_line is None:
                    first_line = tok.start[0]
                pieces.append(_string_body(tok.string))
        return _dedent("".join(pieces), first_line or expr.lineno)

    def _header_start(self, node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> int:
        """The line of a definition's first `@`, or of its header."""
        if not node.decorator_list:
            return node.lineno
        dec = node.decorator_list[0]
        start, _ = self._span(dec)
        # The last token before a decorator's expression is its `@`.
        for i in range(bisect.bisect_left(self.starts, start) - 1, -1, -1):
            tok = self.tokens[i]
            if tok.type == tokenize.OP and tok.string == "@":
                return tok.start[0]
            if tok.type not in _LAYOUT:
                break
        return dec.lineno

    # -- comments -----------------------------------------------------------

    def _find_comment_lines(self) -> dict[int, str]:
        """Full-line comments at the start of a logical line, outside brackets."""
        found: dict[int, str] = {}
        depth = 0
        at_start = True  # at the start of a logical line
        for tok in self.tokens:
            kind = tok.type
            if kind == tokenize.OP:
                if tok.string in _OPEN:
                    depth += 1
                elif tok.string in _CLOSE:
                    depth = max(0, depth - 1)
            if kind == tokenize.COMMENT:
                row, col = tok.start
                if depth == 0 and at_start and not self.lines[row - 1][:col].strip():
                    if not self._keep_comment(row, tok.string):
                        found[row] = tok.string
                continue
            if kind in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING):
                at_start = True
            elif kind == tokenize.NL:
                at_start = depth == 0
            else:
                at_start = False
        return found

    def _keep_comment(self, row: int, text: str) -> bool:
        if row in self.header_lines:
            return True
        if row == 1 and text.startswith("#!"):
            return True
        if row <= 2 and "coding" in text:
            # PEP 263: `coding[:=]\s*([-\w.]+)` anywhere in the comment.
            head, _, tail = text.partition("coding")
            return tail[:1] in (":", "=")
        return False

    def _header_above(self, row: int) -> int | None:
        """The first line of the header whose body a comment run at `row` opens, if any.

        A comment at the top of a function's (or class's) body explains that function, so
        its header moves down into the comment's section.
        """
        for start, body in self.bodies:
            if start < row < body and all(
                line in self.comment_lines or not self.lines[line - 1].strip()
                for line in range(row, body)
            ):
                header_end = row - 1
                while header_end > start and (
                    header_end in self.comment_lines or not self.lines[header_end - 1].strip()
                ):
                    header_end -= 1
                if all(line not in self.comment_lines for line in range(start, header_end + 1)
                       if line not in self.header_lines):
                    return start
        return None

    # -- the walk -------------------------------------------------------------

    def _walk(self) -> list[Section]:
        sections: list[Section] = []
        current = _Builder()

        def fresh(builder: _Builder) -> _Builder:
            if builder.has_code():
                sections.append(builder.build())
                return _Builder()
            return builder

        row = 1
        total = len(self.lines)
        while row <= total:
            if row in self.notes_at:
                kind, notes = self.notes_at[row]
                if kind == "def":
                    current = fresh(current)
                current.add_notes(notes)
                current.module = current.module or kind == "module"
            if row in self.docstring_lines:
                row += 1
                continue
            if row in self.comment_lines:
                run = []
                while row in self.comment_lines:
                    text = self.comment_lines[row][1:]
                    run.append((row, text[1:] if text.startswith(" ") else text))
                    row += 1
                if all(not text.strip() for _, text in run):
                    if current.has_code() or current.notes:
                        sections.append(current.build())
                    current = _Builder()
                else:
                    header = self._header_above(run[0][0])
                    moved = [c for c in current.code if header is not None and c[0] >= header]
                    current.code = [c for c in current.code if c not in moved]
                    current = fresh(current)
                    current.code.extend(moved)
                    current.add_notes(run)
                continue
            current.code.append((row, self.lines[row - 1]))
            row += 1
        if current.has_code() or current.notes:
            sections.append(current.build())
        return sections
