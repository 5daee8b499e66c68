"""Benchmarks the site: build times, time to math on the largest page, page weight.

    .venv/bin/python scripts/bench_site.py [--runs N] [--no-cold]

- cold build: `mkdocs build --strict` after clearing the figure cache (`.cache/figures`),
  so every chapter's `main` runs again;
- warm build: the same build again, figures cached;
- math ready: for one chapter page (`--page`, default radam), in chromium, the time from
  navigation start to the frame that paints its first formula (no earlier than the first
  contentful paint), or
  to the load of the fonts that formula needs if that comes later. The math is
  pre-rendered HTML, so there is no script to wait for. Median of N loads, each in a fresh
  browser context (cold cache); first paint and DOMContentLoaded are shown beside it;
- page weight: bytes of the HTML and of every resource the page loads (workers included);
- the same page without the literate layout (the chapter's HTML in a bare mkdocs-material
  page: `css/literate.css` left out), measured in the same run, alternating loads; the
  layout may cost at most 100 ms of first paint and of math ready over it.

Prints a table and the targets (warm build <= 10 s, math ready <= 300 ms, layout <= 100 ms).
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]
from support.local_site import LOOPBACK, launch_chromium, serve  # noqa: E402

from labml_optim.literate.catalogue import discover  # noqa: E402

WARM_TARGET_S = 10.0
MATH_TARGET_MS = 300.0
LAYOUT_TARGET_MS = 100.0

# Records when the math is on screen in its final form: the later of the frame that first
# has a formula in the DOM (that frame paints it; taken no earlier than the first paint)
# and the moment the fonts its layout asked for have loaded (KaTeX's CSS keeps text
# invisible until its font is there).
MATH_PROBE = """
(() => {
  const frame = () => new Promise(r => requestAnimationFrame(r));
  (async () => {
    while (!document.querySelector(".katex")) await frame();
    const shown = performance.now();
    await frame();
    let fonts = 0;
    const loading = [...document.fonts].filter(f => f.status === "loading");
    await Promise.all(loading.map(f => f.loaded.then(() => { fonts = performance.now(); })));
    window.__lo_math = Math.max(shown, fonts);
  })();
  document.addEventListener("DOMContentLoaded", () => { window.__lo_dcl = performance.now(); });
})();
"""


def build(out: Path) -> float:
    """Seconds for one `mkdocs build --strict` into OUT; exits on failure."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"build failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def chapter_page(site: Path, name: str | None) -> Path:
    """The page of chapter NAME, or the largest chapter page."""
    stems = [e.stem for e in discover(REPO / "labml_optim")]
    pages = [site / f"{stem}.html" for stem in stems if (site / f"{stem}.html").is_file()]
    if not pages:
        sys.exit("no chapter pages in the built site")
    if name is not None:
        page = site / f"{name}.html"
        if page not in pages:
            sys.exit(f"no chapter page {name}.html")
        return page
    return max(pages, key=lambda p: p.stat().st_size)


def bare_copy(page: Path) -> Path:
    """The page as a bare mkdocs-material page: the same HTML without the literate layout."""
    html = page.read_text(encoding="utf-8")
    bare = re.sub(r'<link rel="stylesheet" href="[^"]*css/literate\.css">', "", html)
    if bare == html:
        sys.exit(f"{page.name}: no literate.css link to leave out")
    out = page.with_name(f"{page.stem}-bare.html")
    out.write_text(bare, encoding="utf-8")
    return out


def measure_page(
    site: Path, page: Path, runs: int
) -> tuple[list[float], list[float], list[float], int, int]:
    """(math-ready, first-contentful-paint, DOMContentLoaded ms per run, bytes, requests)."""
    return measure_pages(site, [page], runs)[page]


def measure_pages(
    site: Path, pages: list[Path], runs: int
) -> dict[Path, tuple[list[float], list[float], list[float], int, int]]:
    """`measure_page` for several pages in one browser, their loads taken in turn."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium is not installed")
    results: dict[Path, tuple[list[float], list[float], list[float], int, int]] = {
        page: ([], [], [], 0, 0) for page in pages
    }
    with serve(site) as base, sync_playwright() as p:
        browser = launch_chromium(p, chromium)
        for run, page in [(r, pg) for r in range(runs + 1) for pg in pages]:
            # run 0 warms up the server and the browser
            math, fcp, dcl, _, _ = results[page]
            url = base + page.relative_to(site).as_posix()
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            sizes: dict[str, int] = {}
            blocked: list[str] = []

            def route(r: Any, blocked: list[str] = blocked) -> None:
                if urlsplit(r.request.url).hostname in LOOPBACK:
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            def on_response(response: Any, sizes: dict[str, int] = sizes) -> None:
                try:
                    sizes[response.url] = len(response.body())
                except Exception:  # a redirect or an aborted body has no bytes
                    sizes.setdefault(response.url, 0)

            context.route("**/*", route)
            context.on("response", on_response)
            context.add_init_script(MATH_PROBE)
            tab = context.new_page()
            tab.goto(url, wait_until="load")
            tab.wait_for_function("() => window.__lo_math !== undefined", timeout=30000)
            tab.wait_for_load_state("networkidle")
            if tab.locator(".katex").count() == 0:
                sys.exit(f"{page.name}: no .katex on the page")
            ready = tab.evaluate("() => window.__lo_math")
            loaded = tab.evaluate("() => window.__lo_dcl")
            painted = tab.evaluate(
                "() => performance.getEntriesByName('first-contentful-paint')[0].startTime"
            )
            ready = max(ready, painted)  # nothing is on screen before the first paint
            if blocked:
                sys.exit(f"{page.name}: requests outside the site: {blocked}")
            if run:
                math.append(ready)
                fcp.append(painted)
                dcl.append(loaded)
                results[page] = (math, fcp, dcl, sum(sizes.values()), len(sizes))
            context.close()
        browser.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="page loads to take the median of")
    parser.add_argument("--no-cold", action="store_true", help="keep the figure cache")
    parser.add_argument("--page", default="radam", help="chapter page to time (default radam)")
    parser.add_argument("--site", type=Path, help="time the pages of this built site (no builds)")
    args = parser.parse_args(argv)

    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="lo-bench-") as tmp:
        site = Path(tmp) / "site"
        if args.site is not None:
            shutil.copytree(args.site, site)
        elif not args.no_cold:
            shutil.rmtree(REPO / ".cache" / "figures", ignore_errors=True)
            cold = build(site)
            rows.append(("cold build (figure cache cleared)", f"{cold:.1f} s", ""))
        else:
            build(site)
        if args.site is None:
            warm = build(site)
            verdict = "ok" if warm <= WARM_TARGET_S else "OVER 10 s"
            rows.append(("warm build", f"{warm:.1f} s", verdict))
        page = chapter_page(site, args.page)
        bare = bare_copy(page)
        measured = measure_pages(site, [page, bare], args.runs)
        math, fcp, dcl, weight, requests = measured[page]
        ready = statistics.median(math)
        size = f"{page.stat().st_size / 1024:.0f} KiB HTML"
        rows.append((f"page: {page.name}", size, ""))
        rows.append(("  first contentful paint (median)", f"{statistics.median(fcp):.0f} ms", ""))
        rows.append(("  DOMContentLoaded (median)", f"{statistics.median(dcl):.0f} ms", ""))
        rows.append(
            (
                f"  math ready (median of {len(math)})",
                f"{ready:.0f} ms",
                "ok" if ready <= MATH_TARGET_MS else "OVER 300 ms",
            )
        )
        rows.append(("  page weight", f"{weight / 1024:.0f} KiB in {requests} requests", ""))
        b_math, b_fcp, _b_dcl, _, _ = measured[bare]
        rows.append(("same HTML, bare mkdocs-material (no literate.css)", "", ""))
        rows.append(("  first contentful paint (median)", f"{statistics.median(b_fcp):.0f} ms",
                     ""))
        rows.append(("  math ready (median)", f"{statistics.median(b_math):.0f} ms", ""))
        for label, ours, theirs in (("first paint", fcp, b_fcp), ("math ready", math, b_math)):
            cost = statistics.median(ours) - statistics.median(theirs)
            rows.append((f"  layout cost, {label}", f"{cost:+.0f} ms",
                         "ok" if cost <= LAYOUT_TARGET_MS else "OVER 100 ms"))

    width = max(len(r[0]) for r in rows)
    value = max(len(r[1]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>{value}}  target")
    print(f"{'-' * width}  {'-' * value}  ------")
    for name, val, verdict in rows:
        print(f"{name:<{width}}  {val:>{value}}  {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
