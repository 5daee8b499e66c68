"""The figure step: a chapter's `main --save` run in a subprocess, cached by source hash."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from labml_optim.literate import FigureError, draw_figure, figure_path

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

DRAWS = """
import argparse

def main(argv=None):
    args = argparse.ArgumentParser()
    args.add_argument("--save")
    save = args.parse_args(argv).save
    import matplotlib.pyplot as plt
    plt.plot([0, 1], [1, 0])
    plt.savefig(save)

if __name__ == "__main__":
    main()
"""


def make_chapter(root: Path, name: str, source: str) -> Path:
    """A chapter `name` inside a package `toypkg` under `root`."""
    package = root / "toypkg"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    path = package / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


def test_cache_path_follows_the_source(tmp_path: Path) -> None:
    a = figure_path(tmp_path, "adam", "x = 1\n")
    assert a == figure_path(tmp_path, "adam", "x = 1\n")
    assert a != figure_path(tmp_path, "adam", "x = 2\n")
    assert a.parent == tmp_path and a.name.startswith("adam-") and a.suffix == ".png"


def test_draws_once_then_uses_the_cache(tmp_path: Path) -> None:
    chapter = make_chapter(tmp_path, "toy", DRAWS)
    target = figure_path(tmp_path / "cache", "toy", chapter.read_text())
    assert draw_figure(chapter, target) is True
    assert target.read_bytes()[:8] == PNG_MAGIC
    assert draw_figure(chapter, target) is False  # cached: main is not run again


def test_an_older_figure_of_the_same_chapter_is_removed(tmp_path: Path) -> None:
    chapter = make_chapter(tmp_path, "toy", DRAWS)
    cache = tmp_path / "cache"
    old = figure_path(cache, "toy", "an older source")
    old.parent.mkdir(parents=True)
    old.write_bytes(PNG_MAGIC)
    draw_figure(chapter, figure_path(cache, "toy", chapter.read_text()))
    assert not old.exists()


def test_a_failing_main_names_the_chapter_and_shows_the_traceback(tmp_path: Path) -> None:
    chapter = make_chapter(tmp_path, "broken", """
        def main(argv=None):
            raise ValueError("the plot went wrong")

        if __name__ == "__main__":
            main()
    """)
    with pytest.raises(FigureError) as raised:
        draw_figure(chapter, tmp_path / "cache" / "broken-x.png", label="pkg/broken.py")
    message = str(raised.value)
    assert message.startswith("pkg/broken.py: chapter 'broken'")
    assert "Traceback" in message and "the plot went wrong" in message
    assert not list((tmp_path / "cache").glob("*.png"))


def test_a_main_that_draws_nothing_is_an_error(tmp_path: Path) -> None:
    chapter = make_chapter(tmp_path, "silent", """
        def main(argv=None):
            pass

        if __name__ == "__main__":
            main()
    """)
    with pytest.raises(FigureError, match="wrote no figure"):
        draw_figure(chapter, tmp_path / "cache" / "silent-x.png")
