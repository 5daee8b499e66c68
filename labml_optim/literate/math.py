r"""Math in notes, rendered once at build time by KaTeX.

Three steps, so that Markdown never sees TeX:

1. `extract_math(markdown, file=..., lines=...)` finds `$$...$$` (display, may span
   lines) and `$...$` (inline) and swaps each for a placeholder token of letters and
   digits (`lomathd3z...` display, `lomathi4z...` inline) that Markdown leaves
   alone. It skips fenced code blocks and backtick code spans, turns `\$` into a
   plain `$`, and leaves a `$` that does not close as text. Inline math follows the
   usual rule: the opening `$` is followed by a non-space, the closing `$` is
   preceded by a non-space and not followed by a digit, and no blank line lies
   between them (so "from $5 to $10" stays text). Display math always becomes a
   paragraph of its own: blank lines are added around it, so `$$` written right
   under a line of text still renders as display math. Each `MathItem` records
   `file` and the source line (`lines[i]` is the source line of Markdown line `i`).
2. `render_math(items)` renders all items in one `node` process running
   `katex_batch.js` (beside this file) with KaTeX's `htmlAndMathml` output and
   `throwOnError`; identical snippets are rendered once. Any TeX error raises
   `MathError` listing every failure as `file:line: <KaTeX message>`.
3. `substitute_math(html, rendered)` puts the rendered HTML in place of the
   placeholders in the page HTML; a display placeholder left as `<p>KEY</p>` is
   replaced whole by `<div class="lo-math-display">...</div>`. Inside a tag (an id
   or href derived from a heading) a placeholder becomes the word `math`. A
   placeholder without a rendering raises `MathError`.

KaTeX is looked up in the `node_modules` argument, then in each `NODE_PATH`
entry, then in the repository's `node_modules` (`npm ci` installs the version
pinned in `package-lock.json`) and the working directory's.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MathError", "MathItem", "extract_math", "find_katex", "render_math", "substitute_math"]

_SCRIPT = Path(__file__).with_name("katex_batch.js")
_KEY = re.compile(r"lomath[di][0-9]+z[0-9a-f]{10}")


class MathError(RuntimeError):
    """TeX that KaTeX rejects, or no node/KaTeX to render with."""


@dataclass
class MathItem:
    """One formula: its placeholder `key`, the TeX, and where it was written."""

    key: str
    tex: str
    display: bool
    file: str
    line: int


def _fence_marker(line: str) -> str | None:
    stripped = line.lstrip()
    for ch in "`~":
        if stripped.startswith(ch * 3):
            return ch * (len(stripped) - len(stripped.lstrip(ch)))
    return None


def _run_length(text: str, start: int) -> int:
    """How many copies of `text[start]` begin at `start`."""
    end = start
    while end < len(text) and text[end] == text[start]:
        end += 1
    return end - start


def _skip_escapes_to(text: str, start: int, closing: str) -> int:
    """Index of `closing` at or after `start`, stepping over backslash pairs; -1 if none."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text.startswith(closing, i):
            return i
        else:
            i += 1
    return -1


def _inline_end(text: str, start: int) -> int:
    """Index of the `$` closing inline math opened at `start - 1`, or -1."""
    if start >= len(text) or text[start].isspace() or text[start] == "$":
        return -1
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "\n":
            eol = text.find("\n", i + 1)
            if not text[i + 1 : len(text) if eol < 0 else eol].strip():
                return -1  # a blank line ends the paragraph
        if ch == "$":
            after = text[i + 1 : i + 2]
            if not text[i - 1].isspace() and not after.isdigit():
                return i
            return -1
        i += 1
    return -1


def extract_math(
    markdown: str, *, file: str, lines: Sequence[int] | None = None
) -> tuple[str, list[MathItem]]:
    """Swap the math in `markdown` for placeholders; see the module docstring."""
    suffix = secrets.token_hex(5)
    items: list[MathItem] = []
    out: list[str] = []
    text = markdown
    n = len(text)
    i = 0
    row = 0  # index of the Markdown line `i` is on
    line_start = 0
    at_line_start = True
    fence: str | None = None

    def source_line(index: int) -> int:
        if lines is not None and index < len(lines):
            return lines[index]
        return index + 1

    def new_item(tex: str, display: bool, index: int) -> str:
        key = f"lomath{'d' if display else 'i'}{len(items)}z{suffix}"
        items.append(MathItem(key, tex, display, file, source_line(index)))
        return key

    while i < n:
        if at_line_start:
            line_start = i
            eol = text.find("\n", i)
            eol = n if eol < 0 else eol
            raw = text[i:eol]
            marker = _fence_marker(raw)
            if fence is not None or marker is not None:
                if fence is None:
                    fence = marker
                elif marker is not None and marker[0] == fence[0] and len(marker) >= len(fence):
                    if not raw.strip().lstrip(fence[0]):
                        fence = None
                out.append(text[i : eol + 1])
                i = eol + 1
                row += 1
                continue
            at_line_start = False
        ch = text[i]
        if ch == "\n":
            out.append(ch)
            i += 1
            row += 1
            at_line_start = True
        elif ch == "\\" and text[i + 1 : i + 2] in ("$", "\\"):
            out.append("$" if text[i + 1] == "$" else "\\\\")
            i += 2
        elif ch == "`":
            run = _run_length(text, i)
            ticks = "`" * run
            j = i + run
            while True:
                j = text.find(ticks, j)
                if j < 0 or text[j + run : j + run + 1] != "`":
                    break
                j += _run_length(text, j)
            end = i + run if j < 0 else j + run
            out.append(text[i:end])
            row += text.count("\n", i, end)
            i = end
        elif text.startswith("$$", i):
            end = _skip_escapes_to(text, i + 2, "$$")
            tex = text[i + 2 : end] if end >= 0 else ""
            if not tex.strip():
                out.append("$$")
                i += 2
                continue
            prefix = text[line_start:i]
            indent = prefix[: len(prefix) - len(prefix.lstrip())]
            if prefix.strip():
                out.append("\n")
            out.append(f"\n{indent}{new_item(tex, True, row)}\n\n")
            row += tex.count("\n")
            i = end + 2
            while i < n and text[i] in " \t":
                i += 1
            if i < n and text[i] == "\n":
                i += 1
                row += 1
                at_line_start = True
            elif i < n:
                out.append(indent)
                line_start = i - len(indent)
        elif ch == "$":
            end = _inline_end(text, i + 1)
            if end < 0:
                out.append("$")
                i += 1
                continue
            tex = text[i + 1 : end]
            out.append(new_item(tex, False, row))
            row += tex.count("\n")
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out), items


def find_katex(node_modules: str | Path | None = None) -> Path:
    """The directory of the `katex` package; raises `MathError` when there is none."""
    places: list[Path] = []
    if node_modules is not None:
        places.append(Path(node_modules))
    places += [Path(p) for p in os.environ.get("NODE_PATH", "").split(os.pathsep) if p]
    places.append(Path(__file__).resolve().parents[2] / "node_modules")
    places.append(Path.cwd() / "node_modules")
    for place in places:
        for candidate in (place / "katex", place):
            if (candidate / "package.json").is_file() and candidate.name == "katex":
                return candidate
    looked = ", ".join(str(p) for p in places)
    raise MathError(f"KaTeX not found (looked in {looked}); run `npm ci` in the repository")


def render_math(
    items: Sequence[MathItem], *, node_modules: str | Path | None = None
) -> dict[str, str]:
    """Render every item with KaTeX in one node process; returns key -> HTML."""
    if not items:
        return {}
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        raise MathError("node not found on PATH; install Node.js to render math")
    katex = find_katex(node_modules)
    unique: dict[tuple[str, bool], int] = {}
    for item in items:
        unique.setdefault((item.tex, item.display), len(unique))
    payload = json.dumps({"items": [{"tex": t, "display": d} for t, d in unique]})
    proc = subprocess.run(
        [node, str(_SCRIPT), str(katex)],
        input=payload,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    if proc.returncode != 0:
        raise MathError(f"katex_batch.js failed ({proc.returncode}): {proc.stderr.strip()}")
    results = json.loads(proc.stdout)["results"]
    rendered: dict[str, str] = {}
    errors: list[str] = []
    for item in items:
        result = results[unique[(item.tex, item.display)]]
        if "error" in result:
            errors.append(f"{item.file}:{item.line}: {result['error']}")
        else:
            rendered[item.key] = result["html"]
    if errors:
        raise MathError("KaTeX could not render:\n" + "\n".join(errors))
    return rendered


def substitute_math(html: str, rendered: dict[str, str]) -> str:
    """Put rendered math in place of the placeholders in `html`."""
    missing = sorted({key for key in _KEY.findall(html) if key not in rendered})
    if missing:
        raise MathError(f"no rendering for math placeholder(s): {', '.join(missing)}")

    def display(match: re.Match[str]) -> str:
        return f'<div class="lo-math-display">{rendered[match.group(1)]}</div>'

    html = re.sub(r"<p>\s*(lomathd[0-9]+z[0-9a-f]{10})\s*</p>", display, html)
    parts = re.split(r"(<[^>]*>)", html)
    for index, part in enumerate(parts):
        if index % 2:  # a tag: ids and hrefs derived from a heading
            parts[index] = _KEY.sub("math", part)
        else:
            parts[index] = _KEY.sub(lambda m: _one(m.group(0), rendered), part)
    html = "".join(parts)
    left = _KEY.findall(html)
    if left:
        raise MathError(f"math placeholder(s) left in the page: {', '.join(sorted(set(left)))}")
    return html


def _one(key: str, rendered: dict[str, str]) -> str:
    if key[6] == "d":
        return f'<div class="lo-math-display">{rendered[key]}</div>'
    return rendered[key]
