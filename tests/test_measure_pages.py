"""scripts/measure_pages.py and bench_site's gzip weighing, without a browser: what a static
server with gzip sends, the search index's share of given pages, the before/after table."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest
from support.site import REPO

sys.path.insert(0, str(REPO / "scripts"))
from bench_site import gzip_size  # noqa: E402
from measure_pages import chapter_pages, compare, index_share  # noqa: E402

TEXT = b"the same words again and again " * 200


@pytest.mark.parametrize(
    ("kind", "compressed"),
    [
        ("text/html; charset=utf-8", True),
        ("text/css", True),
        ("application/javascript", True),
        ("application/json", True),
        ("image/svg+xml", True),
        ("image/png", False),  # compressed already: sent as it is
        ("font/woff2", False),
        ("", False),
    ],
)
def test_gzip_size(kind: str, compressed: bool) -> None:
    size = gzip_size(TEXT, kind)
    if compressed:
        assert size == len(gzip.compress(TEXT, compresslevel=6, mtime=0)) < len(TEXT) // 10
    else:
        assert size == len(TEXT)


def test_chapter_pages_are_those_with_their_source(tmp_path: Path) -> None:
    for name in ("adam.html", "adam.py", "index.html", "experiments/x.html",
                 "experiments/x.py", "notation.html"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in chapter_pages(tmp_path)]
    assert found == ["adam.html", "experiments/x.html"]


def test_index_share_counts_only_the_pages_asked_for() -> None:
    docs = [{"location": "adam.html", "title": "Adam", "text": "a"},
            {"location": "adam.html#bias", "title": "Bias", "text": "b"},
            {"location": "sgd.html", "title": "SGD", "text": "c"}]
    index = json.dumps({"config": {}, "docs": docs}).encode()
    share = index_share(index, ["adam.html"])
    assert share["pages"] == 1 and share["entries"] == 2
    assert share["bytes"] == len(json.dumps(docs[:2], separators=(",", ":")).encode())
    assert index_share(index, [])["entries"] == 0


def measured(pages: dict[str, tuple[int, int, int, float]], load: list[float]) -> dict:
    return {
        "load_average": {"before": load, "after": load},
        "search_index": {"bytes": 2048, "gzip": 512},
        "pages": {name: {"html_bytes": h, "gzip": g, "requests": r, "math_ms": m}
                  for name, (h, g, r, m) in pages.items()},
    }


def test_compare_table() -> None:
    before = measured({"adam": (1024, 2048, 10, 400.0), "sgd": (2048, 4096, 12, 500.0)}, [1.0])
    after = measured({"adam": (2048, 1024, 9, 300.0), "lion": (1024, 1024, 8, 200.0)}, [1.0])
    table = compare(before, after).splitlines()
    assert "| adam | 1.0 → 2.0 | 2.0 → 1.0 | 10 → 9 | 400 → 300 |" in table
    assert "| lion | - → 1.0 | - → 1.0 | - → 8 | - → 200 |" in table
    assert "| sgd | 2.0 → - | 4.0 → - | 12 → - | 500 → - |" in table
    assert "| median of the 1 pages in both | 1.0 → 2.0 | 2.0 → 1.0 | 10 → 9 | 400 → 300 |" in table
    assert "| search/search_index.json | 2,048 → 2,048 | 512 → 512 |" in table
    assert "one run" in table[-1]
