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


# -- the renderings kept besides the figure: dark, phone layout, sizes ---------------------

TWO_PANELS = """
import argparse

def main(argv=None):
    args = argparse.ArgumentParser()
    args.add_argument("--save")
    save = args.parse_args(argv).save
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot([0, 1], [1, 0], color="tab:blue", label="a line")
    left.plot([0, 1], [0, 1], color="black", label="a black line")
    left.legend(fontsize=6)
    right.contour([[0, 1], [1, 2]], colors="0.85")
    right.set_title("right panel", fontsize=7)
    fig.tight_layout()
    fig.savefig(save, dpi=100)

if __name__ == "__main__":
    main()
"""


def test_one_run_keeps_the_dark_and_phone_renderings_and_their_sizes(tmp_path: Path) -> None:
    import matplotlib.image

    from labml_optim.literate.figure_runner import NARROW_DPI, NARROW_MIN_PT, NARROW_WIDTH
    from labml_optim.literate.figures import png_size, read_meta, variant_path

    chapter = make_chapter(tmp_path, "panels", TWO_PANELS)
    target = figure_path(tmp_path / "cache", "panels", chapter.read_text())
    assert draw_figure(chapter, target) is True
    meta = read_meta(target)
    assert meta["wide"]["size"] == list(png_size(target)) == [1100, 400]
    # The smallest text is the legend's 6 pt at 100 dpi.
    assert meta["wide"]["min_text_px"] == pytest.approx(6 * 100 / 72, abs=0.01)
    for variant in ("dark", "narrow", "narrow.dark"):
        path = variant_path(target, variant)
        assert path.read_bytes()[:8] == PNG_MAGIC
        assert meta[variant]["size"] == list(png_size(path))
    assert meta["dark"]["size"] == meta["wide"]["size"]
    # The phone layout: one column, NARROW_WIDTH inches wide, no text under NARROW_MIN_PT.
    width, height = meta["narrow"]["size"]
    assert width == pytest.approx(NARROW_WIDTH * NARROW_DPI, rel=0.02)
    assert height > width  # two panels stacked
    assert meta["narrow"]["min_text_px"] == pytest.approx(NARROW_MIN_PT * NARROW_DPI / 72,
                                                          abs=0.01)
    # Light figures have a white background, dark ones material's slate background.
    light = matplotlib.image.imread(str(target))
    dark = matplotlib.image.imread(str(variant_path(target, "dark")))
    assert light[0, 0, :3].mean() > 0.95
    assert dark[0, 0, :3].mean() < 0.2
    assert matplotlib.image.imread(str(variant_path(target, "narrow.dark")))[0, 0, :3].mean() < 0.2
    # Cached: every rendering is there, so main is not run again.
    assert draw_figure(chapter, target) is False


def test_a_missing_rendering_draws_the_figure_again(tmp_path: Path) -> None:
    from labml_optim.literate.figures import variant_path

    chapter = make_chapter(tmp_path, "toy", DRAWS)
    target = figure_path(tmp_path / "cache", "toy", chapter.read_text())
    assert draw_figure(chapter, target) is True
    variant_path(target, "narrow.dark").unlink()
    assert draw_figure(chapter, target) is True
    assert variant_path(target, "narrow.dark").is_file()


def test_an_older_figure_and_its_renderings_are_removed_but_not_other_chapters(
    tmp_path: Path,
) -> None:
    from labml_optim.literate.figures import figure_files

    cache = tmp_path / "cache"
    old = figure_path(cache, "toy", "an older source")
    other = figure_path(cache, "toy2", "another chapter")
    cache.mkdir()
    for path in [*figure_files(old), *figure_files(other)]:
        path.write_bytes(PNG_MAGIC)
    chapter = make_chapter(tmp_path, "toy", DRAWS)
    draw_figure(chapter, figure_path(cache, "toy", chapter.read_text()))
    assert not any(p.exists() for p in figure_files(old))
    assert all(p.exists() for p in figure_files(other))


@pytest.mark.parametrize(
    ("colour", "expected"),
    [
        ("white", "background"),
        ("black", "foreground"),
        ((1, 1, 1, 0.5), "background"),
    ],
)
def test_greys_flip_onto_the_dark_scheme(colour: object, expected: str) -> None:
    from matplotlib.colors import to_rgba

    from labml_optim.literate.figure_runner import (
        DARK_BACKGROUND,
        DARK_FOREGROUND,
        dark_colour,
    )

    want = DARK_BACKGROUND if expected == "background" else DARK_FOREGROUND
    got = dark_colour(colour)
    assert got[:3] == pytest.approx(want)
    assert got[3] == to_rgba(colour)[3]


@pytest.mark.parametrize("colour", ["tab:blue", "tab:orange", "tab:green", "navy", "#ffd700"])
def test_colours_keep_their_hue_and_stand_out_on_dark(colour: str) -> None:
    import colorsys

    from matplotlib.colors import to_rgb

    from labml_optim.literate.figure_runner import dark_colour

    hue, light, sat = colorsys.rgb_to_hls(*to_rgb(colour))
    new_hue, new_light, new_sat = colorsys.rgb_to_hls(*dark_colour(colour)[:3])
    assert new_hue == pytest.approx(hue, abs=1e-6)
    assert new_sat == pytest.approx(sat, abs=1e-6)
    assert new_light == pytest.approx(min(max(1 - light, 0.45), 0.85), abs=1e-6)


def test_a_png_written_without_matplotlib_is_every_rendering(tmp_path: Path) -> None:
    from labml_optim.literate.figures import figure_files, read_meta

    chapter = make_chapter(tmp_path, "plain", """
        import sys

        def main(argv=None):
            argv = sys.argv[1:] if argv is None else argv
            png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000003000000020806000000")
            with open(argv[argv.index("--save") + 1], "wb") as f:
                f.write(png)

        if __name__ == "__main__":
            main()
    """)
    target = figure_path(tmp_path / "cache", "plain", chapter.read_text())
    assert draw_figure(chapter, target) is True
    files = figure_files(target)
    assert len({p.read_bytes() for p in files[:4]}) == 1
    assert read_meta(target)["narrow"] == {"size": [3, 2], "min_text_px": 0.0}


def test_text_over_an_image_keeps_its_colour_in_the_dark() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from labml_optim.literate.figure_runner import dark_colour, to_dark

    fig, (heat, plain) = plt.subplots(1, 2)
    heat.imshow([[0, 1], [1, 0]])
    cell = heat.text(0, 0, "12.3", color="white")
    label = plain.text(0.5, 0.5, "a label", color="black")
    to_dark(fig)
    assert matplotlib.colors.to_rgba(cell.get_color()) == (1, 1, 1, 1)
    assert matplotlib.colors.to_rgba(label.get_color()) == dark_colour("black")
    plt.close(fig)
