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
import signal
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
    """
    if target.is_file() and target.stat().st_size > 0:
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
    partial = target.with_name(f".{target.stem}.{os.getpid()}.png")
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p
    )
    command = [sys.executable, "-m", module, "--save", str(partial)]
    code, out, err = _run(command, cwd=root, env=env, timeout=timeout)
    if code is None:
        partial.unlink(missing_ok=True)
        raise FigureError(f"{label}: chapter '{chapter.stem}': `python -m {module} --save` "
                          f"ran past the figure timeout of {timeout:g} s and was killed")
    if code != 0:
        partial.unlink(missing_ok=True)
        output = (err or out).strip()
        raise FigureError(f"{label}: chapter '{chapter.stem}': `python -m {module} --save` "
                          f"failed (exit {code}):\n{output}")
    if not partial.is_file() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        raise FigureError(f"{label}: chapter '{chapter.stem}': main(--save FILE) wrote no figure")
    os.replace(partial, target)
    for stale in target.parent.glob(f"{target.stem.rsplit('-', 1)[0]}-*.png"):
        if stale != target:
            stale.unlink(missing_ok=True)
    return True
