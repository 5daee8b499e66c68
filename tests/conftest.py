"""Shared fixtures: the real site, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.site import REPO, mkdocs_build


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
