"""Math extraction, the KaTeX batch render under node, and substitution into HTML."""

from __future__ import annotations

import re
import shutil

import pytest

from labml_optim.literate import MathError, MathItem, extract_math, render_math, substitute_math

KEY = re.compile(r"lomath[di][0-9]+z[0-9a-f]+")
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")


def test_inline_and_display_detection() -> None:
    text, items = extract_math("We set $\\beta_1$.\n\n$$m_t = \\beta_1 m_{t-1}$$\n", file="a.py")
    assert [(item.tex, item.display) for item in items] == [
        ("\\beta_1", False),
        ("m_t = \\beta_1 m_{t-1}", True),
    ]
    assert "$" not in text
    assert text.startswith(f"We set {items[0].key}.")
    assert f"\n\n{items[1].key}\n\n" in text
    assert all(KEY.fullmatch(item.key) for item in items)
    assert len({item.key for item in items}) == 2


def test_display_math_spanning_lines() -> None:
    text, items = extract_math(
        "$$\n\\begin{aligned}\na &= b \\\\\nc &= d\n\\end{aligned}\n$$\nafter", file="a.py"
    )
    assert len(items) == 1 and items[0].display
    assert "\\begin{aligned}" in items[0].tex
    assert "begin" not in text and text.rstrip().endswith("after")


def test_escaped_dollar_and_lone_dollar() -> None:
    text, items = extract_math("Costs \\$5, or $ 3 or from $5 to $10.", file="a.py")
    assert items == []
    assert text == "Costs $5, or $ 3 or from $5 to $10."


def test_code_spans_and_fences_untouched() -> None:
    source = "Use `$x$` or ``a $y$ b``.\n\n```python\nprice = '$z$'\n$$w$$\n```\nthen $v$"
    text, items = extract_math(source, file="a.py")
    assert [item.tex for item in items] == ["v"]
    assert "`$x$`" in text and "``a $y$ b``" in text
    assert "price = '$z$'\n$$w$$\n```" in text


def test_display_under_text_becomes_own_paragraph() -> None:
    text, items = extract_math("The update is\n$$x = y$$\nwhere x is new.", file="a.py")
    key = items[0].key
    assert text == f"The update is\n\n{key}\n\nwhere x is new."
    text, items = extract_math("Inline then $$x$$ rest", file="a.py")
    assert text == f"Inline then \n\n{items[0].key}\n\nrest"


def test_display_in_list_keeps_indent() -> None:
    text, items = extract_math("- item\n  $$x$$\n- next", file="a.py")
    lines = [line if line.strip() else "" for line in text.split("\n")]
    assert lines == ["- item", "", f"  {items[0].key}", "", "- next"]


def test_item_lines_follow_source_map() -> None:
    notes = "first $a$\nsecond\n\n$$\nb\n$$\nthird $c$"
    _, items = extract_math(notes, file="ch.py", lines=[10, 11, 12, 14, 15, 16, 20])
    assert [(item.tex, item.line, item.file) for item in items] == [
        ("a", 10, "ch.py"),
        ("\nb\n", 14, "ch.py"),
        ("c", 20, "ch.py"),
    ]
    _, items = extract_math("x\n$y$", file="ch.py")
    assert items[0].line == 2


@needs_node
def test_katex_batch_render() -> None:
    items = [
        MathItem("lomathi0z0000000000", "\\beta_1", False, "a.py", 3),
        MathItem("lomathd1z0000000000", "\\sum_i x_i", True, "a.py", 4),
        MathItem("lomathi2z0000000000", "\\beta_1", False, "b.py", 9),
    ]
    rendered = render_math(items)
    assert set(rendered) == {item.key for item in items}
    for html in rendered.values():
        assert 'class="katex"' in html
        assert "<math" in html and "katex-mathml" in html
    assert "katex-display" in rendered["lomathd1z0000000000"]
    assert rendered["lomathi0z0000000000"] == rendered["lomathi2z0000000000"]


@needs_node
def test_broken_tex_names_every_file_and_line() -> None:
    items = [
        MathItem("lomathi0z0000000000", "\\frac{a", False, "radam.py", 42),
        MathItem("lomathi1z0000000000", "ok", False, "radam.py", 43),
        MathItem("lomathd2z0000000000", "\\nosuchmacro", True, "adam.py", 7),
    ]
    with pytest.raises(MathError) as info:
        render_math(items)
    message = str(info.value)
    assert "radam.py:42: " in message and "adam.py:7: " in message
    assert "radam.py:43" not in message


def test_missing_katex_is_a_clear_error(tmp_path, monkeypatch) -> None:
    from labml_optim.literate import math as lmath

    monkeypatch.setenv("NODE_PATH", "")
    monkeypatch.setattr(lmath, "find_katex", _no_katex)
    with pytest.raises(MathError, match="KaTeX not found"):
        render_math([MathItem("lomathi0z0000000000", "x", False, "a.py", 1)])


def _no_katex(node_modules=None):
    raise MathError("KaTeX not found (looked in nowhere); run `npm ci` in the repository")


def test_substitute_replaces_display_paragraph_and_inline() -> None:
    rendered = {
        "lomathd0z0123456789": '<span class="katex-display">D</span>',
        "lomathi1z0123456789": '<span class="katex">I</span>',
    }
    html = (
        '<h2 id="step-lomathi1z0123456789">Step lomathi1z0123456789</h2>'
        "<p>lomathd0z0123456789</p>\n<p>and lomathi1z0123456789s.</p>"
    )
    out = substitute_math(html, rendered)
    assert '<div class="lo-math-display"><span class="katex-display">D</span></div>' in out
    assert "<p>lomathd0" not in out and "<p><div" not in out
    assert '<p>and <span class="katex">I</span>s.</p>' in out
    assert 'id="step-math"' in out
    assert "lomath" not in out


def test_substitute_fails_on_unknown_placeholder() -> None:
    with pytest.raises(MathError, match="lomathi7z0123456789"):
        substitute_math("<p>lomathi7z0123456789</p>", {})


@needs_node
def test_round_trip_through_markdown() -> None:
    import markdown
    text, items = extract_math("Let $x_1$ be\n$$\\frac{a}{b}$$\ndone.", file="a.py")
    html = markdown.markdown(text)
    out = substitute_math(html, render_math(items))
    assert out.count('class="lo-math-display"') == 1
    assert 'class="katex"' in out and "lomath" not in out
