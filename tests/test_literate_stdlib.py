"""Round trip of the section parser over every module of the Python standard library.

The oracle below is written independently of the parser: a line is code when a
token other than a comment or layout token covers it (strings cover every line they
span), unless the line lies entirely inside a docstring's span.
"""

from __future__ import annotations

import ast
import io
import multiprocessing
import os
import sysconfig
import time
import tokenize
import warnings
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from labml_optim.literate import parse

_LAYOUT = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
    tokenize.ENCODING,
}


def _docstring_exprs(tree: ast.Module) -> list[ast.Expr]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                found.append(body[0])
    return found


def oracle_code_lines(source: str, tree: ast.Module) -> set[int]:
    """Lines that carry code, computed from tokens and docstring spans only."""
    lines = source.split("\n")
    covered: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in _LAYOUT:
            covered.update(range(tok.start[0], tok.end[0] + 1))
    for expr in _docstring_exprs(tree):
        first = lines[expr.lineno - 1].encode()
        last = lines[expr.end_lineno - 1].encode()
        for line in range(expr.lineno, expr.end_lineno + 1):
            before = first[: expr.col_offset] if line == expr.lineno else b""
            after = last[expr.end_col_offset :] if line == expr.end_lineno else b""
            if not before.strip() and not after.strip():
                covered.discard(line)
    return covered


def _stdlib_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    return sorted(p for p in root.rglob("*.py") if "site-packages" not in p.parts)


def _read(path: Path) -> str | None:
    try:
        with tokenize.open(path) as handle:
            return handle.read()
    except (SyntaxError, UnicodeDecodeError, LookupError, OSError):
        return None


def check_round_trip(source: str) -> None:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return
    lines = source.split("\n")
    expected = oracle_code_lines(source, tree)
    sections = parse(source)
    seen = Counter(number for section in sections for number, _ in section.code)
    duplicates = [number for number, count in seen.items() if count > 1]
    assert not duplicates, f"lines shown twice: {duplicates[:5]}"
    missing = sorted(expected - set(seen))
    assert not missing, f"code lines missing: {missing[:5]}"
    numbers = [number for section in sections for number, _ in section.code]
    assert numbers == sorted(numbers), "code out of source order"
    for section in sections:
        assert len(section.notes.splitlines()) == len(section.notes_lines)
        for number, text in section.code:
            assert text == lines[number - 1], f"line {number} text differs"
            if number not in expected:
                # Only blank lines, comments kept in code, or a lone continuation.
                assert text.strip() in ("", "\\") or text.lstrip().startswith("#"), number


def _check_files(paths: list[Path]) -> tuple[int, list[str]]:
    """Check a batch of files; returns (files checked, failure messages)."""
    warnings.simplefilter("ignore")  # invalid escapes in old stdlib modules
    checked, failures = 0, []
    for path in paths:
        source = _read(path)
        if source is None:
            continue
        try:
            check_round_trip(source)
        except Exception as exc:  # a crash is a failure too, reported with the file
            failures.append(f"{path}: {type(exc).__name__}: {exc}")
        checked += 1
    return checked, failures


@pytest.mark.slow
def test_stdlib_round_trip() -> None:
    files = _stdlib_files()
    assert len(files) > 500
    started = time.perf_counter()
    workers = max(1, min(4, os.cpu_count() or 1))
    # Interleave so each worker gets a similar mix of large and small modules.
    batches = [files[i::workers] for i in range(workers)]
    if workers == 1:
        results = [_check_files(batches[0])]
    else:
        # fork: the workers inherit this module however pytest imported it.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            results = list(pool.map(_check_files, batches))
    checked = sum(count for count, _ in results)
    failures = [message for _, batch in results for message in batch]
    elapsed = time.perf_counter() - started
    print(f"stdlib round trip: {checked} files in {elapsed:.1f}s with {workers} workers")
    assert not failures, "\n".join(failures[:20])
    assert checked > 500


def test_oracle_can_fail() -> None:
    """The oracle sees a dropped code line; a test that can never fail proves nothing."""
    source = 'def f():\n    """doc"""\n    return 1\n'
    tree = ast.parse(source)
    assert oracle_code_lines(source, tree) == {1, 3}
    sections = parse(source)
    sections[0].code.pop()
    seen = {number for section in sections for number, _ in section.code}
    assert oracle_code_lines(source, tree) - seen == {3}
