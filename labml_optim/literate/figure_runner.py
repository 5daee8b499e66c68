"""Run a chapter's `main --save` once and keep four renderings of its one figure.

    python -m labml_optim.literate.figure_runner MODULE OUT_PREFIX

runs `python -m MODULE --save OUT_PREFIX.png` in this process (through `runpy`, so `main`
sees exactly the command line it would) with `Figure.savefig` wrapped. When `main` saves
its figure, the wrapper saves it as `main` asked (the wide, light figure), then re-lays
the same figure out and recolours it, without running `main` again:

- `OUT_PREFIX.dark.png`: the same figure recoloured for a dark page (`to_dark`): greys and
  black flip to light on the dark background of material's `slate` scheme, coloured lines
  keep their hue with the lightness mirrored, so they stand out on dark as on light;
- `OUT_PREFIX.narrow.png` and `OUT_PREFIX.narrow.dark.png`: a phone layout (`to_narrow`):
  the panels stacked in one column, `NARROW_WIDTH` inches wide, no text under
  `NARROW_MIN_PT` points, so that shown one column wide on a 390 px phone its smallest
  text is still about 10 px;
- `OUT_PREFIX.json`: for each rendering its pixel size and its smallest text in image
  pixels (font points times dpi / 72), which the site turns into the legibility check and
  the switch between the wide and the narrow picture.

A `main` that writes its PNG without matplotlib gets that PNG as every rendering.

The cost is three more `savefig` calls (a few tenths of a second), not three more runs of
`main`: the figure is drawn once.
"""

from __future__ import annotations

import colorsys
import importlib.abc
import importlib.util
import json
import pickle
import runpy
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from .figures import NO_FIGURE, png_size

__all__ = ["NARROW_MIN_PT", "NARROW_WIDTH", "dark_colour", "to_dark", "to_narrow"]

# The phone layout: inches wide, smallest font (pt) and dpi. Shown 358 CSS px wide (a 390
# px phone less material's margins), text of 9.5 pt is 9.5 * 358 / (72 * 4.6) = 10.3 px.
NARROW_WIDTH = 4.6
NARROW_MIN_PT = 9.5
NARROW_DPI = 160
# Material's slate scheme: page background and text (hsl(225, 15%, 14%) and about 90%).
DARK_BACKGROUND = (0x1E / 255, 0x20 / 255, 0x29 / 255)
DARK_FOREGROUND = (0xE2 / 255, 0xE4 / 255, 0xE9 / 255)


def dark_colour(rgba: Any) -> tuple[float, float, float, float]:
    """One colour of a light figure, as it reads on a dark page.

    Greys run from the light page's background (white) to its text (black); they map
    onto the dark page's background and text, reversed. A colour keeps its hue and
    saturation with its lightness mirrored (0.3 becomes 0.7), kept between 0.45 and 0.85
    so that it neither sinks into the background nor turns white.
    """
    from matplotlib.colors import to_rgba

    r, g, b, a = to_rgba(rgba)
    hue, light, sat = colorsys.rgb_to_hls(r, g, b)
    if sat < 0.15 or light > 0.97 or light < 0.03:
        t = 1.0 - light  # 0 for white (-> background), 1 for black (-> text)
        mixed = [bg + t * (fg - bg) for bg, fg in zip(DARK_BACKGROUND, DARK_FOREGROUND,
                                                       strict=True)]
        return (*mixed, a)  # type: ignore[return-value]
    light = min(max(1.0 - light, 0.45), 0.85)
    return (*colorsys.hls_to_rgb(hue, light, sat), a)


def _recolour_many(colours: Any) -> Any:
    import numpy as np

    colours = np.asarray(colours, dtype=float)
    if colours.size == 0:
        return colours
    return np.array([dark_colour(c) for c in colours.reshape(-1, 4)])


def to_dark(fig: Any) -> None:
    """Recolours a drawn figure in place for a dark page (see `dark_colour`).

    Colour-mapped data (images, heatmaps, colour-mapped scatter) keeps its colour map, and
    text written in the axes of an image keeps its colour; fixed colours of contours drawn
    with `colors=` are recoloured.
    """
    from matplotlib.collections import Collection
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.text import Text

    # Text written over an image (the values of a heatmap's cells) was coloured to read on
    # the image's colours, which do not change: it keeps its colour.
    seen: set[int] = {id(t) for ax in fig.axes if ax.images for t in ax.texts}
    for artist in fig.findobj():
        if id(artist) in seen:
            continue
        seen.add(id(artist))
        if isinstance(artist, Text):
            artist.set_color(dark_colour(artist.get_color()))
            box = artist.get_bbox_patch()
            if box is not None and id(box) not in seen:
                seen.add(id(box))
                box.set_facecolor(dark_colour(box.get_facecolor()))
                box.set_edgecolor(dark_colour(box.get_edgecolor()))
        elif isinstance(artist, Line2D):
            artist.set_color(dark_colour(artist.get_color()))
            for get, put in ((artist.get_markerfacecolor, artist.set_markerfacecolor),
                             (artist.get_markeredgecolor, artist.set_markeredgecolor),
                             (artist.get_markerfacecoloralt, artist.set_markerfacecoloralt)):
                colour = get()
                if not (isinstance(colour, str) and colour in ("none", "auto")):
                    put(dark_colour(colour))
        elif isinstance(artist, Patch):
            artist.set_facecolor(dark_colour(artist.get_facecolor()))
            artist.set_edgecolor(dark_colour(artist.get_edgecolor()))
        elif isinstance(artist, Collection):
            fixed = getattr(artist, "colors", None)
            if artist.get_array() is None:
                artist.set_facecolor(_recolour_many(artist.get_facecolor()))
                artist.set_edgecolor(_recolour_many(artist.get_edgecolor()))
            elif fixed is not None:  # a contour set drawn in fixed colours
                cmap = artist.get_cmap()
                colours = getattr(cmap, "colors", None)
                if colours is not None:
                    mapped = ListedColormap([dark_colour(c) for c in colours])
                    mapped.set_under(dark_colour(cmap.get_under()))
                    mapped.set_over(dark_colour(cmap.get_over()))
                    artist.set_cmap(mapped)
    fig.patch.set_facecolor((*DARK_BACKGROUND, 1.0))


def to_narrow(fig: Any) -> None:
    """Re-lays a figure out for a phone, in place: one column of panels, `NARROW_WIDTH`
    inches wide, every text at least `NARROW_MIN_PT` points."""
    from matplotlib.gridspec import GridSpec
    from matplotlib.text import Text

    panels = []
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        if spec is None or ax.get_label() == "<colorbar>":
            continue
        rows, cols = spec.rowspan, spec.colspan
        panels.append((rows.start, cols.start, ax))
    panels.sort(key=lambda p: (p[0], p[1]))
    old_w, old_h = fig.get_size_inches()
    if panels:
        first = panels[0][2].get_subplotspec().get_gridspec()
        nrows, ncols = first.get_geometry()
        panel_h = min(old_h / nrows * 0.95, NARROW_WIDTH * 0.75)
        panel_h = max(panel_h, NARROW_WIDTH * 0.62)
        count = len(panels)
        if not _constrained(fig):
            fig.set_layout_engine(None)
        grid = GridSpec(count, 1, figure=fig)
        for i, (_r, _c, ax) in enumerate(panels):
            ax.set_subplotspec(grid[i, 0])
        extra = 0.5 if fig.get_suptitle() else 0.0
        fig.set_size_inches(NARROW_WIDTH, panel_h * count + extra)
    for text in fig.findobj(Text):
        if text.get_fontsize() < NARROW_MIN_PT:
            text.set_fontsize(NARROW_MIN_PT)
    _tight(fig)
    extra = _legends_below(fig, [ax for _r, _c, ax in panels])
    if extra:
        width, height = fig.get_size_inches()
        fig.set_size_inches(width, height + extra)
        _tight(fig)


def _tight(fig: Any) -> None:
    """`tight_layout` again for the new size, unless the figure lays itself out
    (constrained layout)."""
    if _constrained(fig):
        return
    try:
        top = 1.0 - 0.5 / fig.get_size_inches()[1] if fig.get_suptitle() else 1.0
        fig.tight_layout(rect=(0, 0, 1, top))
    except (ValueError, RuntimeError):
        pass


def _constrained(fig: Any) -> bool:
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    return isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)


def _legends_below(fig: Any, panels: list[Any]) -> float:
    """Moves legends placed right of their axes (no room for them on a phone) below them,
    centred; returns the height (inches) the figure needs for them."""
    renderer = fig.canvas.get_renderer()
    extra = 0.0
    for ax in panels:
        legend = ax.get_legend()
        if legend is None:
            continue
        anchor = legend.get_bbox_to_anchor().transformed(ax.transAxes.inverted())
        if anchor.x0 < 1.0:
            continue
        legend.set_visible(False)
        tight = ax.get_tightbbox(renderer)
        legend.set_visible(True)
        box = ax.get_window_extent(renderer)
        below = (tight.y0 - box.y0) / box.height if tight is not None else -0.2
        legend.set_loc("upper center")
        legend.set_bbox_to_anchor((0.5, below - 0.02), transform=ax.transAxes)
        extra += legend.get_window_extent(renderer).height / fig.dpi + 0.15
    return extra


def _min_text_px(fig: Any, dpi: float) -> float:
    """The smallest visible text of a figure, in image pixels."""
    from matplotlib.text import Text

    sizes = [t.get_fontsize() for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip()]
    return min(sizes) * dpi / 72.0 if sizes else 0.0


def _dpi(fig: Any, kwargs: dict[str, Any]) -> float:
    import matplotlib

    dpi = kwargs.get("dpi", matplotlib.rcParams["savefig.dpi"])
    return float(fig.dpi if dpi in (None, "figure") else dpi)


def _variant(prefix: Path, variant: str) -> Path:
    """Where a rendering is written: `<prefix>.<variant>.png`."""
    return prefix.with_name(f"{prefix.name}.{variant}.png")


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Calls `patch(module)` once `name` has been imported, so that the runner itself
    does not import matplotlib (a `main` that never plots starts as fast as without it)."""

    def __init__(self, name: str, patch: Any) -> None:
        self.name, self.patch = name, patch

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        loader, patch = spec.loader, self.patch

        class Loader(importlib.abc.Loader):
            def create_module(self, spec: Any) -> Any:
                return loader.create_module(spec)

            def exec_module(self, module: Any) -> None:
                loader.exec_module(module)
                patch(module)

        spec.loader = Loader()
        return spec


def run(module: str, prefix: Path) -> None:
    meta: dict[str, Any] = {}
    original: Any = None

    def save_all(self: Any, fname: Any, *args: Any, **kwargs: Any) -> Any:
        if meta or Path(str(fname)) != prefix.with_name(prefix.name + ".png"):
            return original(self, fname, *args, **kwargs)  # not the chapter's figure
        result = original(self, fname, *args, **kwargs)
        wide_dpi = _dpi(self, kwargs)
        meta["wide"] = {"size": png_size(Path(fname)),
                        "min_text_px": round(_min_text_px(self, wide_dpi), 2)}
        started = time.perf_counter()
        plain = {k: v for k, v in kwargs.items() if k not in ("facecolor", "dpi", "format")}
        # The dark wide figure from a copy (pickled figures are what matplotlib supports
        # for copying), the narrow ones from the figure itself.
        dark = pickle.loads(pickle.dumps(self))
        to_dark(dark)
        out = _variant(prefix, "dark")
        original(dark, out, *args, dpi=wide_dpi, facecolor=dark.get_facecolor(), **plain)
        meta["dark"] = {"size": png_size(out),
                        "min_text_px": round(_min_text_px(dark, wide_dpi), 2)}
        to_narrow(self)
        out = _variant(prefix, "narrow")
        original(self, out, *args, dpi=NARROW_DPI, **plain)
        meta["narrow"] = {"size": png_size(out),
                          "min_text_px": round(_min_text_px(self, NARROW_DPI), 2)}
        to_dark(self)
        out = _variant(prefix, "narrow.dark")
        original(self, out, *args, dpi=NARROW_DPI, facecolor=self.get_facecolor(), **plain)
        meta["narrow.dark"] = {"size": png_size(out),
                               "min_text_px": round(_min_text_px(self, NARROW_DPI), 2)}
        meta["variants_s"] = round(time.perf_counter() - started, 3)
        return result

    def patch(figure_module: Any) -> None:
        nonlocal original
        original = figure_module.Figure.savefig
        figure_module.Figure.savefig = save_all

    sys.meta_path.insert(0, _PatchOnImport("matplotlib.figure", patch))
    sys.argv = [module, "--save", str(prefix.with_name(prefix.name + ".png"))]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise
    wide = prefix.with_name(prefix.name + ".png")
    if not meta and wide.is_file() and wide.stat().st_size > 0:
        # Written without matplotlib: nothing to recolour or re-lay out, so every rendering
        # is the figure itself, its text size unknown (0).
        size = png_size(wide)
        for variant in ("dark", "narrow", "narrow.dark"):
            shutil.copyfile(wide, _variant(prefix, variant))
        meta.update({key: {"size": size, "min_text_px": 0.0}
                     for key in ("wide", "dark", "narrow", "narrow.dark")})
    if not meta:
        print(f"{module}: main(--save FILE) wrote no figure", file=sys.stderr)
        raise SystemExit(NO_FIGURE)
    prefix.with_name(prefix.name + ".json").write_text(json.dumps(meta), encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m labml_optim.literate.figure_runner MODULE OUT_PREFIX")
    run(sys.argv[1], Path(sys.argv[2]))
