"""The figure's HTML: sized, a link to the full-size image, light and dark, wide and phone."""

from __future__ import annotations

import re

import pytest

from labml_optim.literate.figure_html import MIN_TEXT_PX, figure_html, narrow_below

META = {
    "wide": {"size": [1210, 462], "min_text_px": 12.22},
    "dark": {"size": [1210, 462], "min_text_px": 12.22},
    "narrow": {"size": [736, 1104], "min_text_px": 21.11},
    "narrow.dark": {"size": [736, 1104], "min_text_px": 21.11},
}
PAGE = ('<div class="lo-section lo-figure-row" id="s-n90">\n<div class="lo-notes">\n'
        '<p><img alt="Steps &amp; rates" class="lo-rt-chart" src="adam.png" /></p>\n'
        "</div>\n</div>")


def attrs(tag: str) -> dict[str, str]:
    return dict(re.findall(r'([a-z-]+)="([^"]*)"', tag))


def test_the_image_becomes_a_figure_with_a_light_and_a_dark_link() -> None:
    html = figure_html(PAGE, "adam", META)
    assert "<p><img" not in html
    figure = re.search(r'<figure class="lo-figure">(.*?)</figure>', html, re.S)
    assert figure
    links = re.findall(r"<a ([^>]*)>(.*?)</a>", figure.group(1), re.S)
    assert [attrs(a)["class"] for a, _ in links] == ["lo-figure-link lo-figure-light",
                                                     "lo-figure-link lo-figure-dark"]
    assert [attrs(a)["href"] for a, _ in links] == ["adam.png", "adam.dark.png"]
    for (_, body), suffix in zip(links, ("", ".dark"), strict=True):
        img = attrs(re.search(r"<img [^>]*>", body).group(0))
        source = attrs(re.search(r"<source [^>]*>", body).group(0))
        # The image's own size, so the browser reserves its box; the same alt text.
        assert (img["src"], img["width"], img["height"]) == (f"adam{suffix}.png", "1210", "462")
        assert img["alt"] == "Steps &amp; rates"
        assert img["loading"] == "lazy"
        assert (source["srcset"], source["width"], source["height"]) == (
            f"adam.narrow{suffix}.png", "736", "1104")
        assert img["data-lo-text-px"] == "12.22"
        assert img["data-lo-narrow-text-px"] == "21.11"
    # The interactive chart finds its static image by class: only the light one has it.
    assert html.count('class="lo-rt-chart"') == 1


def test_only_the_chapter_figure_is_changed() -> None:
    other = '<p><img alt="x" src="other.png" /></p>'
    assert figure_html(other, "adam", META) == other
    inline = '<p>See <img alt="x" src="adam.png" /> here.</p>'
    assert figure_html(inline, "adam", META) == inline


@pytest.mark.parametrize(
    ("width", "min_text_px", "expected"),
    [
        # Legible down to a content width of 9 * 1210 / 12.22 = 891.2 px, a window of 932 px.
        (1210, 12.22, 932),
        # Wider than material's sidebar break (1220 px): the sidebar's width counts too.
        (1540, 11.46, 1550),
        (1000, 0.0, None),
    ],
)
def test_the_phone_layout_takes_over_where_the_wide_text_would_be_too_small(
    width: int, min_text_px: float, expected: int | None
) -> None:
    assert narrow_below(width, min_text_px) == expected
    if expected is not None and expected < 1220:
        content = expected - 40  # material's margins below its sidebar break
        assert min_text_px * min(width, content) / width == pytest.approx(MIN_TEXT_PX, abs=0.05)


def test_the_media_query_uses_the_switch_width() -> None:
    html = figure_html(PAGE, "adam", META)
    queries = re.findall(r'media="\(max-width: ([0-9.]+)px\)"', html)
    assert queries == ["931.98", "931.98"]
