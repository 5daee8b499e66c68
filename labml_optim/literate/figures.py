"""Draw a chapter's figure by running its `main`, cached by a hash of the chapter's source.

A chapter's `main(argv)` accepts `--save FILE` and writes one PNG without needing a
display. `draw_figure` runs it as `python -m <package>.<chapter> --save FILE` in a fresh
interpreter with matplotlib's Agg backend, so a crashing or hanging `main` cannot take
the caller down with it, and reports any failure with the chapter's file and traceback.
The figure lands in a cache file named after the source hash: an unchanged chapter is
not run again.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["FigureError", "draw_figure", "figure_path"]

# Bump to throw away every cached figure (when the way figures are drawn changes).
CACHE_VERSION = "1"


class FigureError(RuntimeError):
    """A chapter's `main` failed or drew nothing; the message names the chapter file."""


def figure_path(cache_dir: Path, name: str, source: str) -> Path:
    """Where the figure of chapter `name` with this `source` is cached."""
    digest = hashlib.sha256()
    for part in (CACHE_VERSION, name, source):
        digest.update(part.encode())
        digest.update(b"\0")
    return cache_dir / f"{name}-{digest.hexdigest()[:20]}.png"


def draw_figure(chapter: Path, target: Path, *, label: str | None = None,
                timeout: float = 600) -> bool:
    """Run the chapter's `main --save` into `target` unless it is cached there.

    `chapter` is the chapter file, inside its package directory; `label` is how error
    messages name it (default: the path). Returns True when the figure was drawn, False
    when the cached one was kept. Older cached figures of the same chapter are removed.
    """
    if target.is_file() and target.stat().st_size > 0:
        return False
    label = label or str(chapter)
    package_dir = chapter.parent
    module = f"{package_dir.name}.{chapter.stem}"
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name first, so an interrupted run leaves no bad cache entry.
    partial = target.with_name(f".{target.stem}.{os.getpid()}.png")
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(package_dir.parent), os.environ.get("PYTHONPATH", "")) if p
    )
    command = [sys.executable, "-m", module, "--save", str(partial)]
    try:
        proc = subprocess.run(command, cwd=package_dir.parent, env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        partial.unlink(missing_ok=True)
        raise FigureError(f"{label}: `python -m {module} --save` ran past {timeout:g} s") from None
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        output = (proc.stderr or proc.stdout).strip()
        raise FigureError(f"{label}: chapter '{chapter.stem}': `python -m {module} --save` "
                          f"failed (exit {proc.returncode}):\n{output}")
    if not partial.is_file() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        raise FigureError(f"{label}: chapter '{chapter.stem}': main(--save FILE) wrote no figure")
    os.replace(partial, target)
    for stale in target.parent.glob(f"{chapter.stem}-*.png"):
        if stale != target:
            stale.unlink(missing_ok=True)
    return True
