"""Where the chapters are, and what each one defines: shared by the tests."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from types import ModuleType

import torch

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGE = ROOT / "labml_optim"


def chapter_names() -> list[str]:
    """Every top-level module of the package that does not start with `_`."""
    return sorted(p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_"))


def chapter_module(name: str) -> ModuleType:
    return importlib.import_module(f"labml_optim.{name}")


def optimizer_classes() -> list[type[torch.optim.Optimizer]]:
    """The optimizers the chapters define (not those they import)."""
    found = []
    for name in chapter_names():
        module = chapter_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(obj, torch.optim.Optimizer)
                and obj.__module__ == module.__name__
            ):
                found.append(obj)
    return found
