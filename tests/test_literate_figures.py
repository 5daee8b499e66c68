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


def test_a_hanging_main_is_killed_with_its_whole_process_group(tmp_path: Path) -> None:
    import os
    import time

    pid_file = tmp_path / "child.pid"
    chapter = make_chapter(tmp_path, "hangs", f"""
        import subprocess, sys, time

        def main(argv=None):
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
            with open({str(pid_file)!r}, "w") as f:
                f.write(str(child.pid))
            time.sleep(120)

        if __name__ == "__main__":
            main()
    """)
    start = time.monotonic()
    with pytest.raises(FigureError, match=r"hangs\.py: .*figure timeout of 3 s"):
        draw_figure(chapter, tmp_path / "cache" / "hangs-x.png", timeout=3)
    assert time.monotonic() - start < 30
    pid = int(pid_file.read_text())

    def alive() -> bool:
        try:
            status = (Path("/proc") / str(pid) / "status").read_text()
        except FileNotFoundError:
            return False
        state = next(line for line in status.splitlines() if line.startswith("State:"))
        return "Z" not in state.split()[1]

    deadline = time.monotonic() + 5
    while alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(), "a process started by main outlived the timeout"
    assert not os.path.exists(tmp_path / "cache" / "hangs-x.png")


def test_a_chapter_in_a_subpackage_runs_as_its_module(tmp_path: Path) -> None:
    package = tmp_path / "toypkg"
    chapter = make_chapter(tmp_path, "top", DRAWS)
    sub = package / "experiments"
    sub.mkdir()
    (sub / "__init__.py").write_text("")
    nested = sub / "deep.py"
    nested.write_text(textwrap.dedent(DRAWS))
    target = tmp_path / "cache" / "experiments.deep-x.png"
    assert draw_figure(nested, target, module="toypkg.experiments.deep", root=tmp_path)
    assert target.read_bytes()[:8] == PNG_MAGIC
    assert chapter.is_file()
