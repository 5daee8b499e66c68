"""The site logic without mkdocs: catalogue listing, home page, nav, anchors, KaTeX assets."""

from __future__ import annotations

import textwrap
from pathlib import Path

import markdown
import pytest

from labml_optim.literate import load_chapter, render_page
from labml_optim.literate.anchors import AnchorError, anchor_page
from labml_optim.literate.catalogue import discover, groups, listing
from labml_optim.literate.katex_assets import font_plan, katex_assets, preload_links
from labml_optim.literate.math import find_katex
from labml_optim.literate.site import INDEX_MARKER, Site, SiteError, SiteOptions


def write_chapters(package: Path, chapters: dict[str, tuple[str, int]]) -> None:
    package.mkdir(parents=True, exist_ok=True)
    for name, (group, order) in chapters.items():
        (package / f"{name}.py").write_text(textwrap.dedent(f'''\
            r"""
            ---
            title: {name.title()}
            summary: About   {name}, with $x$.
            group: {group}
            order: {order}
            ---
            """

            def main(argv=None):
                pass
            '''))


@pytest.fixture
def site(tmp_path: Path) -> Site:
    package = tmp_path / "pkg"
    write_chapters(package, {"late": ("Schedules", 300), "adam": ("Optimizers", 40),
                             "sgd": ("Optimizers", 10)})
    options = SiteOptions(project_dir=tmp_path, chapters_dir=package, docs_dir=tmp_path / "docs",
                          cache_dir=tmp_path / "cache")
    built = Site(options, log=lambda _: None)
    built.load()
    return built


def test_groups_follow_their_smallest_order_and_chapters_their_order(site: Site) -> None:
    entries = [c.entry for c in site.chapters]
    assert [e.name for e in entries] == ["sgd", "adam", "late"]
    assert [(g, [e.name for e in m]) for g, m in groups(entries)] == [
        ("Optimizers", ["sgd", "adam"]), ("Schedules", ["late"])]
    assert listing(entries) == (
        "## Optimizers\n\n- [Sgd](sgd.md): About sgd, with $x$.\n"
        "- [Adam](adam.md): About adam, with $x$.\n\n## Schedules\n\n"
        "- [Late](late.md): About late, with $x$.\n"
    )


def test_nav_is_home_groups_then_other_pages(site: Site) -> None:
    assert site.nav(["notation.md", "index.md", "conventions.md"]) == [
        {"Home": "index.md"},
        {"Optimizers": ["sgd.md", "adam.md"]},
        {"Schedules": ["late.md"]},
        "conventions.md",
        "notation.md",
    ]


def test_home_page_gets_the_listing_and_math_keeps_its_source_lines(site: Site) -> None:
    source = f"---\ntitle: Home\n---\n\n# Home\n\n{INDEX_MARKER}\n\nAfter, $y$.\n"
    new = site.docs_page("index.md", source)
    assert new is not None and new.startswith("---\ntitle: Home\n---\n")
    assert "- [Sgd](sgd.md)" in new and INDEX_MARKER not in new
    lines = {item.tex: item.line for item in site.items}
    assert lines["y"] == source.splitlines().index("After, $y$.") + 1
    assert lines["x"] == source.splitlines().index(INDEX_MARKER) + 1
    assert site.docs_page("plain.md", "No math here.\n") is None
    with pytest.raises(SiteError, match=r"docs/index\.md:1: .*marker"):
        site.docs_page("index.md", "# Home\n")


def test_a_chapter_may_not_hide_a_docs_page(site: Site) -> None:
    fresh = Site(site.options, log=lambda _: None)
    with pytest.raises(SiteError, match=r"pkg/adam\.py:1: .*adam\.md"):
        fresh.load(lambda name: name == "adam.md")


def test_font_preloads_use_paths_relative_to_the_page(site: Site) -> None:
    site.katex = katex_assets(find_katex())
    html = '<head><link rel="stylesheet" href="x.css"></head><span class="katex">x</span>'
    top = site.post_page(html, "sgd.html")
    deep = site.post_page(html, "experiments/run.html")
    assert 'href="css/katex/fonts/KaTeX_Main-Regular.woff2"' in top
    assert 'href="../css/katex/fonts/KaTeX_Main-Regular.woff2"' in deep
    assert top.index('rel="preload"') < top.index('rel="stylesheet"')
    assert site.post_page("<head></head>no math", "a.html") == "<head></head>no math"


def test_katex_assets_keep_only_woff2_fonts_that_exist() -> None:
    assets = katex_assets(find_katex())
    assert "woff2" in assets.css and ".ttf" not in assets.css and ".woff)" not in assets.css
    assert assets.fonts and all(f.suffix == ".woff2" for f in assets.fonts)
    plan = font_plan(assets.css)
    assert plan.base == ["fonts/KaTeX_Main-Regular.woff2"]
    used = plan.fonts_for('<span class="katex"><span class="mord mathnormal">x</span></span>')
    assert "fonts/KaTeX_Math-Italic.woff2" in used
    assert preload_links("<head></head>", [], str) == "<head></head>"


def render_html(page_markdown: str) -> str:
    return markdown.markdown(
        page_markdown.split("---\n", 2)[2],
        extensions=["md_in_html", "attr_list", "pymdownx.highlight", "pymdownx.superfences"],
        extension_configs={"pymdownx.highlight": {
            "anchor_linenums": True, "line_spans": "__span", "linenums_style": "table"}},
    )


def test_anchors_name_lines_after_the_file_and_rows_after_their_first_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.py"
    path.write_text('"""\n---\ntitle: C\nsummary: S\n---\n"""\n\n# Notes.\nx = 1\ny = 2\n')
    html, lines = anchor_page(render_html(render_page(load_chapter(path))), "c.py")
    assert lines == {"L9", "L10"}
    assert '<span class="lo-line" id="L9">' in html
    assert '<a href="#L10" tabindex="-1">' in html
    assert "__codelineno" not in html
    assert '<a class="lo-anchor" href="#s-9"' in html
    twice = ('---\n---\n<div class="lo-section" id="s-9" markdown>\n'
             '<div class="lo-code" markdown>\n\n```python linenums="9"\nx = 1\n```\n\n'
             '```python linenums="9"\nx = 1\n```\n\n</div>\n</div>\n')
    with pytest.raises(AnchorError, match="c.py: code lines shown twice: L9"):
        anchor_page(render_html(twice), "c.py")


def test_code_cells_lose_wrapper_spans_but_keep_their_text(tmp_path: Path) -> None:
    import html as htmllib
    import re

    path = tmp_path / "c.py"
    path.write_text('"""\n---\ntitle: C\nsummary: S\n---\n"""\n\n# Notes.\n'
                    "def f(a, b):\n    return a  +  b\n")
    before = render_html(render_page(load_chapter(path)))
    assert '<span class="w">' in before and '<span class="normal">' in before
    html, _ = anchor_page(before, "c.py")
    assert '<span class="w">' not in html and '<span class="normal">' not in html
    assert "<pre><span></span>" not in html
    gutter = '<pre><a href="#L9" tabindex="-1"> 9</a>\n<a href="#L10" tabindex="-1">10</a></pre>'
    assert gutter in html

    def text(page: str) -> str:
        return htmllib.unescape(re.sub(r"<[^>]*>", "", page))

    assert text(html).replace("§", "") == text(before)
    assert html.count("<span") == before.count("<span") - 2 - 2 - before.count('class="w"')


def test_the_file_worker_is_inlined_only_where_its_tag_is(tmp_path: Path) -> None:
    from labml_optim.literate.mkdocs_plugin import inline_script

    source = tmp_path / "w.js"
    source.write_text('x = "<b></b>";\n')
    page = '<head><script src="../js/w.js"></script></head>'
    assert inline_script(page, "sub/p.html", "js/w.js", source) == (
        '<head><script>x = "<b><\\/b>";\n</script></head>')
    assert inline_script(page, "p.html", "js/w.js", source) == page


def test_the_catalogue_is_the_real_package_in_reading_order() -> None:
    entries = discover(Path(__file__).resolve().parents[1] / "labml_optim")
    orders = [(e.group, e.order) for e in entries]
    assert [e.order for e in entries if e.group == "Optimizers"] == sorted(
        e.order for e in entries if e.group == "Optimizers")
    assert entries[0].name == "sgd" and len(set(orders)) == len(orders)


def test_headings_with_math_get_ids_spelled_from_their_tex() -> None:
    from labml_optim.literate.anchors import heading_ids

    used: set[str] = set()
    text = ("## 3. The law of $\\psi_t^2$\n\n```\n## $x$ in code\n```\n"
            "## Plain\n## Again $\\psi_t^2$")
    out = heading_ids(text, used)
    assert out.split("\n")[0] == "## 3. The law of $\\psi_t^2$ { #3-the-law-of-psi_t2 }"
    assert "## $x$ in code" in out and "## Plain\n" in out
    assert heading_ids("## The law of $\\psi_t^2$", used).endswith("{ #the-law-of-psi_t2 }")
    assert heading_ids("## The law of $\\psi_t^2$", used).endswith("{ #the-law-of-psi_t2-2 }")
    assert heading_ids("## Own $x$ {#mine}", used) == "## Own $x$ {#mine}"


def test_the_404_page_links_work_from_disk() -> None:
    from labml_optim.literate.site import relative_root_links

    html = '<a href="/index.html"><link href="/css/a.css"><a href="//x.org/">'
    assert relative_root_links(html) == (
        '<a href="index.html"><link href="css/a.css"><a href="//x.org/">')


def test_the_search_index_is_also_written_as_a_script(tmp_path: Path) -> None:
    from labml_optim.literate.site import write_search_script

    assert write_search_script(tmp_path) is False
    (tmp_path / "search").mkdir()
    (tmp_path / "search" / "search_index.json").write_text('{"docs": []}')
    assert write_search_script(tmp_path) is True
    assert (tmp_path / "search" / "search_index.js").read_text() == 'var __index = {"docs": []}'
