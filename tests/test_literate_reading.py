"""Build-time reading touches (labml_optim/literate/reading.py): inline math bound to its
punctuation, and the shared indentation of each code block measured for phones."""

from __future__ import annotations

import pytest

from labml_optim.literate.reading import (
    bind_punctuation,
    common_indent,
    dedent_code,
)

A = "lomathi0z0123456789"
B = "lomathi1z0123456789"
D = "lomathd2z0123456789"


def nobr(text: str) -> str:
    return f'<span class="lo-nobr">{text}</span>'


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (f"<p>so {A}.</p>", f"<p>so {nobr(A + '.')}</p>"),
        (f"<p>{A}, {B};</p>", f"<p>{nobr(A + ',')} {nobr(B + ';')}</p>"),
        (f"<p>(at {A}).</p>", f"<p>(at {nobr(A + ').')}</p>"),
        (f"<p>({A}) and [{B}]:</p>", f"<p>{nobr('(' + A + ')')} and {nobr('[' + B + ']:')}</p>"),
        (f"<p>x {A}?!</p>", f"<p>x {nobr(A + '?!')}</p>"),
        # However long the formula, it is bound the same way (and never allowed to break).
        (f"<p>so ({A}). and {B} x</p>", f"<p>so {nobr('(' + A + ').')} and {B} x</p>"),
        # No punctuation beside it: the formula is left as it is.
        (f"<p>a {A} b</p>", f"<p>a {A} b</p>"),
        # A space between formula and punctuation: nothing to bind.
        (f"<p>a {A} .</p>", f"<p>a {A} .</p>"),
        # Display math is never wrapped; tags (ids, hrefs) are never touched.
        (f"<p>{D}.</p>", f"<p>{D}.</p>"),
        (f'<h2 id="x-{A}.">t</h2>', f'<h2 id="x-{A}.">t</h2>'),
        # Punctuation behind a closing tag is not the formula's.
        (f"<p><em>{A}</em>.</p>", f"<p><em>{A}</em>.</p>"),
    ],
)
def test_bind_punctuation(html: str, expected: str) -> None:
    assert bind_punctuation(html) == expected


def test_bind_punctuation_keeps_every_character() -> None:
    html = f"<p>Let ({A}), then {B}. Done: {A};</p>"
    out = bind_punctuation(html)
    stripped = out.replace('<span class="lo-nobr">', "").replace("</span>", "")
    assert stripped == html
    assert out.count("lo-nobr") == 3


@pytest.mark.parametrize(
    ("lines", "indent"),
    [
        (["        x = 1", "", "        if x:", "            y = 2"], 8),
        (["def f():", "    return 1"], 0),
        (["    a", "  ", "      b"], 4),  # a blank line of fewer spaces does not count
        (["\tx = 1", "\ty = 2"], 0),  # tabs: no width to remove in ch
        ([], 0),
        (["", "   "], 0),
    ],
)
def test_common_indent(lines: list[str], indent: int) -> None:
    assert common_indent(lines) == indent


def block(*lines: str, attrs: str = "") -> str:
    spans = "".join(
        f'<span class="lo-line" id="L{i}">{text}\n</span>' for i, text in enumerate(lines, 10)
    )
    return f"<pre><span></span><code{attrs}>{spans}</code></pre>"


def test_dedent_marks_row_code_blocks() -> None:
    deep = block(
        '<span class="w">        </span><span class="n">x</span> <span class="o">=</span> 1',
        "",
        '<span class="w">            </span><span class="k">return</span> x',
    )
    flat = block('<span class="k">def</span> f():', "    pass")
    html = f"<div>{deep}</div><div>{flat}</div>"
    out = dedent_code(html)
    assert out.count('style="--lo-dedent:8"') == 1
    assert out.replace(' style="--lo-dedent:8"', "") == html  # nothing else changes


def test_dedent_reads_escaped_text_and_leaves_other_code_alone() -> None:
    escaped = block("&#32;&#32;&#32;&#32;a &lt; b", "      c")
    assert 'style="--lo-dedent:4"' in dedent_code(escaped)
    # Code in the notes (no lo-line spans) and inline code are not marked.
    notes = "<pre><code>    x = 1\n    y = 2\n</code></pre><p><code>  z</code></p>"
    assert dedent_code(notes) == notes
