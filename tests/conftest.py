"""Shared fixtures: the real site, built once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.chapters import ROOT as REPO
from support.chapters import chapter_names  # noqa: F401


def mkdocs_build(
    project: Path, out: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict -d OUT` in PROJECT, as a subprocess; never raises on failure."""
    run_env = dict(os.environ)
    run_env.pop("LABML_OPTIM_CHAPTERS", None)
    run_env.setdefault("NO_MKDOCS_2_WARNING", "1")
    run_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
        cwd=project,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real site (`mkdocs.yml` at the repo root), built strictly into a temp dir."""
    out = tmp_path_factory.mktemp("site") / "site"
    proc = mkdocs_build(REPO, out)
    if proc.returncode != 0:
        pytest.fail(
            f"mkdocs build --strict failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}",
            pytrace=False,
        )
    return out
