"""The interactive r_t chart on the RAdam page (rt_chart.js): its JS port of the chapter's
`sma_length`/`rectification` against Python's values (in node), its wiring into the built
page, and the chart in chromium: the slider and the threshold rule redraw the curve, and the
curve matches Python's r_t."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.browser import PHONE, WIDE, open_page

from labml_optim.literate.mkdocs_plugin import RT_CHART, add_script_if
from labml_optim.radam import rectification, sma_length

RULES = {"paper": lambda rho: rho > 4, "official": lambda rho: rho >= 5,
         "torch": lambda rho: rho > 5}


def python_r(t: int, beta2: float, rule: str) -> float:
    rho = sma_length(t, beta2)
    return rectification(rho, 2 / (1 - beta2) - 1) if RULES[rule](rho) else math.nan


def node_eval(expression: str) -> Any:
    node = shutil.which("node")
    assert node, "node is required (it also renders the site's math)"
    script = f"const rt = require({json.dumps(str(RT_CHART))});\n" \
             f"console.log(JSON.stringify({expression}));"
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


BETA2S = [0.6, 0.9, 0.99, 0.999, 0.9999]
TS = [1, 2, 5, 6, 10, 100, 1000, 12345, 100000]


def test_js_port_matches_python() -> None:
    grid = [[t, b] for b in BETA2S for t in TS]
    got = node_eval(
        f"{json.dumps(grid)}.map(([t, b]) => [rt.smaLength(t, b), "
        "rt.rectification(rt.smaLength(t, b), 2 / (1 - b) - 1)])"
    )
    for (t, b), (rho_js, r_js) in zip(grid, got, strict=True):
        rho = sma_length(t, b)
        assert rho_js == pytest.approx(rho, rel=1e-12, abs=1e-9), (t, b)
        if rho > 4:
            assert r_js == pytest.approx(rectification(rho, 2 / (1 - b) - 1), rel=1e-10), (t, b)


@pytest.mark.parametrize(("rule", "first"), [("paper", 5), ("official", 6), ("torch", 6)])
def test_first_rectified_step_per_rule(rule: str, first: int) -> None:
    # beta2 = 0.999: rho_5 = 4.996, rho_6 = 5.994 (the chapter's section on the threshold).
    got = node_eval(f"rt.curves(0.999, {json.dumps(rule)}).first")
    assert got["t"] == first
    assert got["r"] == pytest.approx(python_r(first, 0.999, rule), rel=1e-10)


def test_script_only_on_pages_with_the_chart(built_site: Path) -> None:
    radam = (built_site / "radam.html").read_text(encoding="utf-8")
    assert re.search(r'<img[^>]*class="lo-rt-chart"', radam), "the static PNG fallback is gone"
    assert '<script src="js/literate-rt-chart.js" defer>' in radam
    assert (built_site / "js" / "literate-rt-chart.js").is_file()
    adam = (built_site / "adam.html").read_text(encoding="utf-8")
    assert "literate-rt-chart.js" not in adam
    assert add_script_if("<p></p></body>", "a/b.html", "<p>", "js/x.js") == \
        '<p></p><script src="../js/x.js" defer></script>\n</body>'


def curve_points(page: Any) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(t, r) of the drawn r_t and warmup paths, read back through the plot's scales."""
    data = page.evaluate("""() => {
        const svg = document.querySelector('figure.lo-rt svg');
        return [svg.dataset.plot,
                svg.querySelector('.lo-rt-curve').getAttribute('d'),
                svg.querySelector('.lo-rt-warmup').getAttribute('d')];
    }""")
    left, top, width, height, tmax, ymax = map(float, data[0].split())

    def read(d: str) -> list[tuple[float, float]]:
        points = []
        for xs, ys in re.findall(r"[ML]([-\d.]+) ([-\d.]+)", d):
            t = 10 ** ((float(xs) - left) / width * math.log10(tmax))
            points.append((t, (1 - (float(ys) - top) / height) * ymax))
        return points

    return read(data[1]), read(data[2])


def check_curve(page: Any, beta2: float, rule: str) -> None:
    curve, warmup = curve_points(page)
    assert curve, "no r_t drawn"
    for t, r in curve[:: max(1, len(curve) // 12)]:
        step = round(t)
        assert abs(t - step) < 1e-2 * step, t
        assert r == pytest.approx(python_r(step, beta2, rule), abs=1e-3), (step, beta2, rule)
    first = round(curve[0][0])
    assert not RULES[rule](sma_length(first - 1, beta2)) if first > 1 else True
    for t, w in warmup[::50]:
        assert w == pytest.approx(min(1.0, round(t) * (1 - beta2) / 2), abs=1e-3)


@pytest.mark.browser
def test_interactive_rt_in_browser(browser: Any, site_url: str) -> None:  # noqa: F811
    context, page, watch = open_page(browser, f"{site_url}radam.html", WIDE)
    try:
        figure = page.locator("figure.lo-rt")
        assert figure.count() == 1
        assert page.locator("img.lo-rt-chart").is_hidden()
        slider = page.get_by_label(re.compile("β₂"))
        assert slider.get_attribute("type") == "range"
        check_curve(page, 0.999, "torch")
        before = page.locator(".lo-rt-curve").get_attribute("d")

        # Keyboard: focus the slider, four steps left (0.01 each in log10(1 - beta2)).
        slider.focus()
        for _ in range(4):
            page.keyboard.press("ArrowLeft")
        beta2 = 1 - 10 ** -2.96
        assert float(figure.get_attribute("data-beta2")) == pytest.approx(beta2, rel=1e-12)
        assert page.locator(".lo-rt-curve").get_attribute("d") != before
        check_curve(page, beta2, "torch")

        # Drag to the far end and pick the paper's rule.
        slider.fill("1")
        page.get_by_label(re.compile("paper")).check()
        assert figure.get_attribute("data-rule") == "paper"
        check_curve(page, 0.9, "paper")
        slider.fill("4")
        check_curve(page, 0.9999, "paper")
        assert "20000 steps" in page.locator("figure.lo-rt figcaption").inner_text()
        assert watch.blocked == [] and watch.errors == []
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, WIDE], ids=["390", "1400"])
def test_chart_text_is_legible(browser: Any, site_url: str, viewport: dict[str, int]) -> None:
    """Every text of the chart is at least 9 px on screen (it was about 6 px on a phone,
    a 640-unit plot scaled into 350 px), and the curve still reads back as Python's r_t."""
    context, page, watch = open_page(browser, f"{site_url}radam.html", viewport)
    try:
        sizes = page.evaluate("""() => {
            const figure = document.querySelector('figure.lo-rt');
            const svg = figure.querySelector('svg');
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            const inSvg = [...svg.querySelectorAll('text')]
                .map(t => [t.textContent, parseFloat(getComputedStyle(t).fontSize) * scale]);
            const html = [...figure.querySelectorAll('label, legend, output, figcaption')]
                .map(e => [e.textContent.slice(0, 20), parseFloat(getComputedStyle(e).fontSize)]);
            return [...inSvg, ...html];
        }""")
        assert len(sizes) > 10
        small = [(text, round(px, 1)) for text, px in sizes if px < 9]
        assert small == [], f"text under 9 px: {small}"
        check_curve(page, 0.999, "torch")
        svg = page.locator("figure.lo-rt svg").bounding_box()
        assert svg and svg["x"] + svg["width"] <= viewport["width"]
        assert watch.errors == []
    finally:
        context.close()
