"""Measures every chapter page of a built site: weight, requests, math visible; the search index.

    .venv/bin/python scripts/measure_pages.py SITE [--runs 5] [--json OUT.json]
    .venv/bin/python scripts/measure_pages.py BEFORE AFTER --json B.json A.json
    .venv/bin/python scripts/measure_pages.py --compare BEFORE.json AFTER.json [--md OUT.md]

For a built site (`mkdocs build -d SITE`), per chapter page (a page with its chapter's `.py`
download beside it, so an older site is measured by what it holds):

- HTML bytes, as built;
- transferred bytes with gzip: the page and every resource it requests from the site
  (stylesheets, scripts, fonts, figures, the search worker and its index), each as a static
  server with gzip sends it (`bench_site.gzip_size`: text types at level 6, PNG and woff2 as
  they are), and the number of requests;
- math visible: `bench_site`'s math-ready measure (the frame that paints the first formula,
  or the load of the fonts it needs if later; no earlier than the first contentful paint),
  median of `--runs` loads, each in a fresh browser context, at 1400 px;

and the search index (`search/search_index.json`): bytes and gzip bytes. The loads go
through `bench_site.measure_pages` (pages in turn, order rotating, one weighing round first).
The machine's load average is recorded with the numbers: a busy machine slows every page.
Given two sites, the chapter pages both have are measured in one run, the two sites' pages
taking turns (served side by side from one server), so the load weighs on both alike.

`--compare` writes a Markdown table of two such JSON files (before, after).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_site import measure_pages  # noqa: E402

INDEX = Path("search") / "search_index.json"


def chapter_pages(site: Path) -> list[Path]:
    """The chapter pages of SITE: each `X.html` with its `X.py` beside it."""
    return sorted(p for p in site.rglob("*.html") if p.with_suffix(".py").is_file())


def index_share(index: bytes, pages: list[str]) -> dict[str, int]:
    """Bytes (and gzip bytes) of the search index's entries of PAGES (`adam.html`...)."""
    docs = json.loads(index)["docs"]
    mine = [d for d in docs if d["location"].split("#")[0] in pages]
    data = json.dumps(mine, ensure_ascii=False, separators=(",", ":")).encode()
    return {"pages": len(pages), "entries": len(mine), "bytes": len(data), "gzip": gz(data)}


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6, mtime=0))


def measure(sites: list[Path], runs: int) -> list[dict[str, Any]]:
    """The measures of each site; with several, of the chapter pages they all have."""
    names = [{p.relative_to(site) for p in chapter_pages(site)} for site in sites]
    common = sorted(set.intersection(*names))
    if not common:
        sys.exit(f"{', '.join(map(str, sites))}: no chapter pages (X.html beside X.py)")
    with tempfile.TemporaryDirectory(prefix="lo-measure-") as tmp:
        root = Path(tmp)
        for number, site in enumerate(sites):  # served side by side: /0/..., /1/...
            (root / str(number)).symlink_to(site, target_is_directory=True)
        pages = [root / str(n) / name for name in common for n in range(len(sites))]
        load_before = os.getloadavg()
        timings = measure_pages(root, pages, runs)
        load_after = os.getloadavg()
    results = []
    for number, site in enumerate(sites):
        index = (site / INDEX).read_bytes()
        result: dict[str, Any] = {
            "site": site.name,
            "runs": runs,
            "measured_with": [s.name for s in sites],
            "load_average": {"before": [round(x, 2) for x in load_before],
                             "after": [round(x, 2) for x in load_after]},
            "search_index": {"bytes": len(index), "gzip": gz(index),
                             # the entries of the pages measured (all sites have them)
                             "measured_pages": index_share(index, [n.as_posix()
                                                                  for n in common])},
            "pages": {},
        }
        for name in common:
            result["pages"][name.with_suffix("").as_posix()] = page_result(
                site / name, timings[root / str(number) / name], f"/{number}")
        results.append(result)
    return results


def page_result(page: Path, t: Any, prefix: str) -> dict[str, Any]:
    """One page's measures (T: its `bench_site.Timing`; PREFIX: its site's folder)."""
    html = page.read_bytes()
    return {
        "html_bytes": len(html),
        "html_gzip": gz(html),
        "bytes": t.weight,
        "gzip": t.gzipped,
        "requests": t.requests,
        "math_ms": round(statistics.median(t.math), 1),
        "math_ms_all": [round(x, 1) for x in t.math],
        "first_paint_ms": round(statistics.median(t.fcp), 1),
        # Each response of the weighing load, by its path on the site: [bytes, gzip].
        "resources": {urlsplit(url).path.removeprefix(prefix): list(sizes)
                      for url, sizes in sorted((t.resources or {}).items())},
    }


def kib(n: float) -> str:
    return f"{n / 1024:.1f}"


def compare(before: dict[str, Any], after: dict[str, Any]) -> str:
    """A Markdown table: per page, before -> after, and the search index."""
    lines = [
        "| page | HTML KiB | sent KiB (gzip) | requests | math visible ms (median) |",
        "|---|---:|---:|---:|---:|",
    ]
    b_pages, a_pages = before["pages"], after["pages"]

    def cell(key: str, name: str, fmt: Any) -> str:
        b = fmt(b_pages[name][key]) if name in b_pages else "-"
        a = fmt(a_pages[name][key]) if name in a_pages else "-"
        return f"{b} → {a}"

    def ms(x: float) -> str:
        return f"{x:.0f}"

    for name in sorted(set(b_pages) | set(a_pages)):
        lines.append(f"| {name} | {cell('html_bytes', name, kib)} | {cell('gzip', name, kib)} "
                     f"| {cell('requests', name, str)} | {cell('math_ms', name, ms)} |")
    both = sorted(set(b_pages) & set(a_pages))
    if both:
        def med(pages: dict[str, Any], key: str) -> float:
            return statistics.median(pages[n][key] for n in both)

        lines.append(
            f"| median of the {len(both)} pages in both | "
            f"{kib(med(b_pages, 'html_bytes'))} → {kib(med(a_pages, 'html_bytes'))} | "
            f"{kib(med(b_pages, 'gzip'))} → {kib(med(a_pages, 'gzip'))} | "
            f"{med(b_pages, 'requests'):.0f} → {med(a_pages, 'requests'):.0f} | "
            f"{med(b_pages, 'math_ms'):.0f} → {med(a_pages, 'math_ms'):.0f} |")
    b_index, a_index = before["search_index"], after["search_index"]
    lines += [
        "",
        "| search index | bytes | gzip bytes |",
        "|---|---:|---:|",
        f"| search/search_index.json | {b_index['bytes']:,} → {a_index['bytes']:,} "
        f"| {b_index['gzip']:,} → {a_index['gzip']:,} |",
    ]
    b_share, a_share = b_index.get("measured_pages"), a_index.get("measured_pages")
    if b_share and a_share:
        lines.append(
            f"| its entries of the {b_share['pages']} pages above "
            f"({b_share['entries']} → {a_share['entries']} entries) "
            f"| {b_share['bytes']:,} → {a_share['bytes']:,} "
            f"| {b_share['gzip']:,} → {a_share['gzip']:,} |")
    loads = [before["load_average"], after["load_average"]]
    text = [f"{x['before']} at the start, {x['after']} at the end" for x in loads]
    if loads[0] == loads[1]:  # measured in one run
        text = [f"{text[0]} (both sites in one run, pages taking turns)"]
    lines += ["", f"Load average (1, 5, 15 min): {'; '.join(text)}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sites", nargs="*", type=Path,
                        help="a built site to measure, or two measured together")
    parser.add_argument("--runs", type=int, default=5, help="timed loads per page (median)")
    parser.add_argument("--json", nargs="+", type=Path,
                        help="write the measures here as JSON, one file per site")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"),
                        help="two JSON files of this script: print a Markdown table")
    parser.add_argument("--md", type=Path, help="with --compare: write the table here too")
    args = parser.parse_args(argv)
    if args.compare:
        before, after = (json.loads(p.read_text(encoding="utf-8")) for p in args.compare)
        table = compare(before, after)
        if args.md:
            args.md.write_text(table, encoding="utf-8")
        print(table, end="")
        return 0
    if not args.sites:
        parser.error("give a built site (or two), or --compare BEFORE AFTER")
    if args.json and len(args.json) != len(args.sites):
        parser.error("--json: one file per site")
    results = measure([s.resolve() for s in args.sites], args.runs)
    for number, result in enumerate(results):
        if args.json:
            out = args.json[number]
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(f"site {result['site']}")
        for name, page in result["pages"].items():
            print(f"  {name:32} {kib(page['html_bytes']):>7} KiB HTML "
                  f"{kib(page['gzip']):>7} KiB gzip in {page['requests']:3} requests "
                  f"math {page['math_ms']:6.0f} ms")
        index = result["search_index"]
        print(f"  search index: {index['bytes']:,} bytes, {index['gzip']:,} gzip")
    print(f"load average: {results[0]['load_average']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
