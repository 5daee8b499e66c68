"""Where the chapters are, and what each one defines: shared by the tests.

Which modules are chapters is the catalogue's business (`labml_optim.literate.catalogue`,
the same list the site's nav is built from); the tests read it rather than globbing the
package themselves, so a module the site does not show is not tested as a chapter either.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from pathlib import Path
from types import ModuleType

import torch

from labml_optim.literate.catalogue import Entry, discover

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGE = ROOT / "labml_optim"


@functools.cache
def catalogue() -> tuple[Entry, ...]:
    """Every chapter of the package in reading order, subpackage chapters included."""
    return tuple(discover(PACKAGE))


def chapter_names() -> list[str]:
    """The top-level chapters (`labml_optim/<name>.py`), in reading order."""
    return [e.name for e in catalogue() if "." not in e.name]


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


# Inductor settings per optimizer class, for every test that compiles a step. Muon's
# Newton-Schulz iteration computes in bfloat16, and by default Inductor keeps a fused
# kernel's bfloat16 intermediates in float32, so the compiled step moves away from eager by
# a few percent of the step (torch's own Muon too; tests/test_muon.py pins the size). With
# `emulate_precision_casts` Inductor rounds to bfloat16 where eager does, and the two agree
# within the common tolerance (measured: one float32 ulp, 1.2e-7, in 8 steps).
INDUCTOR_OPTIONS: dict[str, dict[str, bool]] = {"Muon": {"emulate_precision_casts": True}}
