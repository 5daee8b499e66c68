"""Draw a chapter's figure by running its `main`, cached by a hash of the chapter's source.

A chapter's `main(argv)` accepts `--save FILE` and writes one PNG without needing a
display. `draw_figure` runs it as `python -m <package>.<chapter> --save FILE` in a fresh
interpreter with matplotlib's Agg backend, so a crashing or hanging `main` cannot take
the caller down with it, and reports any failure with the chapter's file and traceback.
The figure lands in a cache file named after the source hash: an unchanged chapter is
not run again. `main` runs under `figure_runner`, which keeps, from the same run, the
figure recoloured for the dark scheme and laid out for a phone, and the sizes of each.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

__all__ = ["FigureError", "VARIANTS", "draw_figure", "figure_files", "figure_path",
           "meta_path", "png_size", "read_meta", "variant_path"]

# The renderings kept besides the figure `main` saves (see `figure_runner`), and the exit
# status of the runner when `main` saved no figure to the file it was given.
VARIANTS = ("dark", "narrow", "narrow.dark")
NO_FIGURE = 3
# Bump to throw away every cached figure (when the way figures are drawn changes).
CACHE_VERSION = "3"
# The module that runs a chapter's `main` and keeps its renderings, and the directory that
# holds its top package (put on the chapter's PYTHONPATH after the chapter's own root).
RUNNER = f"{__package__}.figure_runner"
ENGINE_ROOT = Path(__file__).resolve().parents[len(__package__.split("."))]


class FigureError(RuntimeError):
    """A chapter's `main` failed or drew nothing; the message names the chapter file."""


def figure_path(cache_dir: Path, name: str, source: str) -> Path:
    """Where the figure of chapter `name` with this `source` is cached."""
    digest = hashlib.sha256()
    for part in (CACHE_VERSION, name, source):
        digest.update(part.encode())
        digest.update(b"\0")
    return cache_dir / f"{name}-{digest.hexdigest()[:20]}.png"


def _run(command: list[str], *, cwd: Path, env: dict[str, str],
         timeout: float) -> tuple[int | None, str, str]:
    """Run `command` in a session of its own; (exit code or None on timeout, out, err).

    On timeout the whole process group is killed, so a `main` that started workers of
    its own leaves nothing behind.
    """
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        out, err = proc.communicate()
        return None, out, err
    finally:
        if proc.poll() is None:  # interrupted (KeyboardInterrupt): leave nothing running
            _kill_group(proc.pid)
            proc.wait()
    _kill_group(proc.pid)  # workers `main` left behind when it exited
    return proc.returncode, out, err


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels, read from a PNG's header."""
    head = Path(path).read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(f"{path}: not a PNG file")
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def variant_path(target: Path, variant: str) -> Path:
    """Where a rendering of a cached figure lies: `<target stem>.<variant>.png`
    (`variant` one of `VARIANTS`: "dark", "narrow", "narrow.dark")."""
    return target.with_name(f"{target.stem}.{variant}.png")


def meta_path(target: Path) -> Path:
    """The sizes and smallest text of a cached figure's renderings (JSON)."""
    return target.with_name(f"{target.stem}.json")


def figure_files(target: Path) -> list[Path]:
    """Every file of one cached figure: the figure, its renderings and its sizes."""
    return [target, *(variant_path(target, v) for v in VARIANTS), meta_path(target)]


def read_meta(target: Path) -> dict[str, Any]:
    """The cached figure's sizes: `{"wide"|"dark"|"narrow"|"narrow.dark": {"size": [w, h],
    "min_text_px": px}}` (smallest text in image pixels)."""
    return json.loads(meta_path(target).read_text(encoding="utf-8"))


def draw_figure(chapter: Path, target: Path, *, label: str | None = None,
                timeout: float = 600, module: str | None = None,
                root: Path | None = None) -> bool:
    """Run the chapter's `main --save` into `target` unless it is cached there.

    `chapter` is the chapter file. `module` is its importable name and `root` the directory
    that holds its top package (default: a chapter directly inside its package,
    `<package>.<chapter>`, with the package's parent as root); `root` goes first on
    `PYTHONPATH`, so the chapter is imported from the checkout being built. `label` is
    how error messages name it (default: the path). A `main` that runs longer than
    `timeout` seconds fails, and its whole process group is killed. Returns True when
    the figure was drawn, False when the cached one was kept. Older cached figures of
    the same chapter are removed.

    `main` runs once, under `figure_runner`, which also keeps the figure recoloured for
    the dark scheme and laid out for a phone (`variant_path`), and their sizes
    (`read_meta`).
    """
    if all(p.is_file() and p.stat().st_size > 0 for p in figure_files(target)):
        return False
    label = label or str(chapter)
    if module is None:
        module = f"{chapter.parent.name}.{chapter.stem}"
    if root is None:
        root = chapter.parent
        for _ in module.split(".")[:-1]:
            root = root.parent
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name first, so an interrupted run leaves no bad cache entry.
    partial = target.with_name(f".{target.stem}.{os.getpid()}.{threading.get_ident()}")
    written = figure_files(partial.with_name(partial.name + ".png"))
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(root), str(ENGINE_ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    command = [sys.executable, "-m", RUNNER, module, str(partial)]
    try:
        code, out, err = _run(command, cwd=root, env=env, timeout=timeout)
        if code is None:
            raise FigureError(f"{label}: chapter '{chapter.stem}': `python -m {module} --save` "
                              f"ran past the figure timeout of {timeout:g} s and was killed")
        if code == NO_FIGURE:
            raise FigureError(f"{label}: chapter '{chapter.stem}': main(--save FILE) wrote "
                              "no figure")
        if code != 0:
            output = (err or out).strip()
            raise FigureError(f"{label}: chapter '{chapter.stem}': `python -m {module} --save` "
                              f"failed (exit {code}):\n{output}")
        if not all(p.is_file() and p.stat().st_size > 0 for p in written):
            raise FigureError(f"{label}: chapter '{chapter.stem}': main(--save FILE) wrote "
                              "no figure")
        for source, final in zip(written, figure_files(target), strict=True):
            os.replace(source, final)
    finally:
        for path in written:
            path.unlink(missing_ok=True)
    chapter_name = target.stem.rsplit("-", 1)[0]
    for stale in target.parent.glob(f"{chapter_name}-*"):
        if stale.is_file() and not stale.name.startswith(f"{target.stem}."):
            stale.unlink(missing_ok=True)
    return True
