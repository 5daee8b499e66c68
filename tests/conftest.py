"""Shared fixtures: the real site, built once per test session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.local_site import launch_chromium, serve
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


# The browser and the served site, one of each per test session, shared by every browser
# test module (two Playwright instances cannot run in one thread).
def chromium_path() -> str:
    """Where chromium is; skips off CI when it is missing, fails on CI."""
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (CI must run the browser tests)")
        pytest.skip("chromium is not installed (`apt-get install chromium`); not on CI")
    return path


@pytest.fixture(scope="session")
def site_url(built_site: Path) -> Iterator[str]:
    with serve(built_site) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p, executable)
        try:
            yield b
        finally:
            b.close()
