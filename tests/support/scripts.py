"""The repository's `scripts/` as modules, for tests that run them in-process."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

from support.chapters import ROOT


def load_script(name: str) -> ModuleType:
    """`scripts/<name>.py`, imported with `scripts/` on the path, as running it would have
    it (a script may import another: `ab_copies` imports `bench_optim`)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)
