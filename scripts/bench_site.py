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
  browser context (cold cache); first paint is shown beside it;
- page weight: bytes of the HTML and of every resource the page loads (workers included),
  as they are and as a static server with gzip sends them (`gzip_size`);
- a bare mkdocs-material page, built in the same run: a throw-away mkdocs project with the
  site's theme settings (mkdocs.yml's `theme`, `extra`, `markdown_extensions`), only the
  `search` plugin, and one page holding the same chapter the plain way: its notes as
  Markdown, each code run as an ordinary highlighted fence, its figure; the math is the same
  KaTeX HTML, rendered by the same `katex_batch.js`, with the same font preloads (how math is
  shipped is not the layout). The layout may cost at most 100 ms of first paint and of math
  ready over that page;
- for diagnosis, also the chapter page with `css/literate.css` left out (the same DOM).

The pages are loaded in turn (radam, bare, no-CSS, radam, ...) so a busy machine slows
them alike; medians and the spread (min-max) are printed.

Prints a table and the targets (warm build <= 10 s, math ready <= 300 ms, layout <= 100 ms).
"""

from __future__ import annotations

import argparse
import gzip
import json
import posixpath
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]
from support.local_site import LOOPBACK, launch_chromium, serve  # noqa: E402

from labml_optim.literate.catalogue import discover  # noqa: E402
from labml_optim.literate.katex_assets import katex_assets, preload_links  # noqa: E402
from labml_optim.literate.math import (  # noqa: E402
    extract_math,
    find_katex,
    render_math,
    substitute_math,
)
from labml_optim.literate.render import code_blocks  # noqa: E402

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
    """The same page without `css/literate.css` (same DOM, material's styles only)."""
    html = page.read_text(encoding="utf-8")
    bare = re.sub(r'<link rel="stylesheet" href="[^"]*css/literate\.css">', "", html)
    if bare == html:
        sys.exit(f"{page.name}: no literate.css link to leave out")
    out = page.with_name(f"{page.stem}-no-css.html")
    out.write_text(bare, encoding="utf-8")
    return out


BARE_DIR = "_bare"  # where the bare material site sits inside the measured site


def bare_material_page(site: Path, name: str) -> Path:
    """Builds the bare mkdocs-material page of chapter NAME into SITE/_bare/; returns it."""
    import yaml

    entries = discover(REPO / "labml_optim")
    entry = next((e for e in entries if e.stem == name), None)
    if entry is None:
        sys.exit(f"no chapter {name}")
    chapter = entry.chapter
    items = []
    parts = [f"# {chapter.title}", ""]
    figure = site / f"{entry.stem}.png"
    for number, section in enumerate(chapter.sections):
        if section.notes.strip():
            notes, found = extract_math(section.notes, file=entry.stem)
            items += found
            parts += [notes.strip("\n"), ""]
        for block in code_blocks(section.code):
            body = "\n".join(text for _, text in block)
            ticks = "`" * max(3, max((len(m) for m in re.findall("`+", body)), default=0) + 1)
            parts += [f"{ticks}python", body, ticks, ""]
        if number == len(chapter.sections) - 1 and figure.is_file():
            parts += [f"![Figure from main]({figure.name})", ""]
    katex = find_katex()
    rendered = render_math(items, node_modules=katex.parent)
    assets = katex_assets(katex)

    with open(REPO / "mkdocs.yml", encoding="utf-8") as f:
        ours = yaml.safe_load(f)
    extensions = [
        e for e in ours.get("markdown_extensions", [])
        if (next(iter(e)) if isinstance(e, dict) else e) != "toc"
    ]
    extensions += [{"toc": {"permalink": True}}, "attr_list", "md_in_html",
                   "pymdownx.highlight", "pymdownx.superfences"]
    project = site.parent / "bare-project"
    docs = project / "docs"
    (docs / "css" / "katex" / "fonts").mkdir(parents=True)
    (docs / "css" / "katex" / "katex.css").write_text(assets.css, encoding="utf-8")
    for font in assets.fonts:
        shutil.copy(font, docs / "css" / "katex" / "fonts" / font.name)
    if figure.is_file():
        shutil.copy(figure, docs / figure.name)
    # The same nav as the site: a stub page per chapter, in its group, in reading order.
    (docs / "index.md").write_text("# Bare\n", encoding="utf-8")
    nav: list[Any] = ["index.md"]
    groups: dict[str, list[Any]] = {}
    for other in entries:
        stub = docs / other.page
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text(f"# {other.title}\n", encoding="utf-8")
        if other.group not in groups:
            groups[other.group] = []
            nav.append({other.group: groups[other.group]})
        groups[other.group].append({other.title: other.page})
    (docs / f"{name}.md").write_text("\n".join(parts), encoding="utf-8")
    config = {
        "site_name": ours.get("site_name", "bare"),
        "use_directory_urls": False,
        "theme": ours["theme"],
        "extra": ours.get("extra", {}),
        "plugins": ["search"],
        "markdown_extensions": extensions,
        "extra_css": ["css/katex/katex.css"],
        "nav": nav,
    }
    (project / "mkdocs.yml").write_text(json.dumps(config), encoding="utf-8")
    out = site / BARE_DIR
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(project / "mkdocs.yml"),
         "-d", str(out)],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        sys.exit(f"bare build failed:\n{proc.stdout}\n{proc.stderr}")
    page = out / f"{name}.html"
    html = substitute_math(page.read_text(encoding="utf-8"), rendered)
    folder = posixpath.dirname(name) or "."
    html = preload_links(html, assets.plan.fonts_for(html),
                         lambda font: posixpath.relpath(f"css/katex/{font}", folder))
    page.write_text(html, encoding="utf-8")
    return page


# Types a static server compresses (nginx's gzip_types, say); PNG and woff2 are compressed
# already and go as they are.
GZIP_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


def gzip_size(body: bytes, content_type: str) -> int:
    """Bytes sent for BODY by a static server with gzip (level 6) for text types."""
    if content_type.split(";")[0].strip().startswith(GZIP_TYPES):
        return len(gzip.compress(body, compresslevel=6, mtime=0))
    return len(body)


class Timing(NamedTuple):
    """One page's loads: math ready and first paint (ms) per timed load; its weight."""

    math: list[float]
    fcp: list[float]
    weight: int  # bytes of every response
    requests: int
    gzipped: int  # the same responses as a static server with gzip sends them
    resources: dict[str, tuple[int, int]] | None = None  # url: (bytes, with gzip)


def measure_pages(site: Path, pages: list[Path], runs: int) -> dict[Path, Timing]:
    """Loads each page RUNS times in one browser, a fresh context (cold cache) each time.

    The pages take turns, and the order rotates from one round to the next, so a busy
    machine and a page's place in the round weigh on every page alike. Round 0 warms up the
    server and the browser, waits for the network to go quiet and weighs the page (bytes
    of every response) and checks that nothing outside the site is asked for; the timed
    rounds stop at the math probe, so a page's scripts do not run into the next page's load.
    """
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium is not installed")
    results = {page: Timing([], [], 0, 0, 0) for page in pages}
    rounds = [(r, pages[r % len(pages):] + pages[:r % len(pages)]) for r in range(runs + 1)]
    with serve(site) as base, sync_playwright() as p:
        browser = launch_chromium(p, chromium)
        for run, page in [(r, pg) for r, order in rounds for pg in order]:
            math, fcp, weight, requests, gzipped, resources = results[page]
            url = base + page.relative_to(site).as_posix()
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            sizes: dict[str, tuple[int, int]] = {}
            blocked: list[str] = []

            def route(r: Any, blocked: list[str] = blocked) -> None:
                if urlsplit(r.request.url).hostname in LOOPBACK:
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            def on_response(response: Any, sizes: dict[str, tuple[int, int]] = sizes) -> None:
                try:
                    body = response.body()
                    kind = response.headers.get("content-type", "")
                    sizes[response.url] = (len(body), gzip_size(body, kind))
                except Exception:  # a redirect or an aborted body has no bytes
                    sizes.setdefault(response.url, (0, 0))

            context.route("**/*", route)
            context.add_init_script(MATH_PROBE)
            if run == 0:
                context.on("response", on_response)
            tab = context.new_page()
            tab.goto(url, wait_until="commit", timeout=180000)
            tab.wait_for_function(
                "() => window.__lo_math !== undefined"
                " && performance.getEntriesByName('first-contentful-paint').length > 0",
                timeout=180000,
                polling=20,
            )
            ready = tab.evaluate("() => window.__lo_math")
            painted = tab.evaluate(
                "() => performance.getEntriesByName('first-contentful-paint')[0].startTime"
            )
            ready = max(ready, painted)  # nothing is on screen before the first paint
            if run == 0:
                tab.wait_for_load_state("load", timeout=180000)
                tab.wait_for_load_state("networkidle", timeout=180000)
                if tab.locator(".katex").count() == 0:
                    sys.exit(f"{page.name}: no .katex on the page")
                weight, requests = sum(s[0] for s in sizes.values()), len(sizes)
                gzipped = sum(s[1] for s in sizes.values())
                resources = dict(sizes)
            else:
                math.append(ready)
                fcp.append(painted)
            if blocked:
                sys.exit(f"{page.name}: requests outside the site: {blocked}")
            results[page] = Timing(math, fcp, weight, requests, gzipped, resources)
            context.close()
        browser.close()
    return results


def spread(values: list[float]) -> str:
    """`median (min-max)` in ms."""
    return f"{statistics.median(values):.0f} ms ({min(values):.0f}-{max(values):.0f})"


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
        material = bare_material_page(site, page.stem)
        no_css = bare_copy(page)
        measured = measure_pages(site, [page, material, no_css], args.runs)
        math, fcp, weight, requests, gzipped, _ = measured[page]
        ready = statistics.median(math)
        rows.append((f"page: {page.name}", f"{page.stat().st_size / 1024:.0f} KiB HTML", ""))
        rows.append(("  first contentful paint (median, min-max)", spread(fcp), ""))
        rows.append(
            (
                f"  math ready (median of {len(math)}, min-max)",
                spread(math),
                "ok" if ready <= MATH_TARGET_MS else "OVER 300 ms",
            )
        )
        rows.append(("  page weight", f"{weight / 1024:.0f} KiB in {requests} requests "
                     f"({gzipped / 1024:.0f} KiB with gzip)", ""))
        for label, other in (
            ("bare mkdocs-material page, same chapter, built in this run", material),
            ("same HTML without css/literate.css (diagnostic)", no_css),
        ):
            o_math, o_fcp, o_weight, o_requests, _, _ = measured[other]
            size = f"{other.stat().st_size / 1024:.0f} KiB HTML"
            rows.append((label, size, ""))
            rows.append(("  first contentful paint (median, min-max)", spread(o_fcp), ""))
            rows.append(("  math ready (median, min-max)", spread(o_math), ""))
            rows.append(("  page weight", f"{o_weight / 1024:.0f} KiB in {o_requests} requests",
                         ""))
            for name, ours, theirs in (("first paint", fcp, o_fcp), ("math ready", math, o_math)):
                cost = statistics.median(ours) - statistics.median(theirs)
                paired = statistics.median(a - b for a, b in zip(ours, theirs, strict=True))
                verdict = ""
                if other == material:
                    verdict = "ok" if cost <= LAYOUT_TARGET_MS else "OVER 100 ms"
                rows.append((f"  layout cost, {name} (median of paired: {paired:+.0f} ms)",
                             f"{cost:+.0f} ms", verdict))

    width = max(len(r[0]) for r in rows)
    value = max(len(r[1]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>{value}}  target")
    print(f"{'-' * width}  {'-' * value}  ------")
    for name, val, verdict in rows:
        print(f"{name:<{width}}  {val:>{value}}  {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
