"""The torch-compatibility footer: one set of helpers, the same text in every chapter.

Each chapter stands alone, so the small helpers that make it behave like `torch.optim`
are copied into every chapter that needs them, below the comment `# ## torch
compatibility` and above `main`. Copies drift; this test keeps them letter for letter
identical and keeps the old, differently named variants from coming back.
"""

from __future__ import annotations

import ast
from collections import defaultdict

import pytest
from support.chapters import PACKAGE, chapter_names, optimizer_classes

HEADING = "# ## torch compatibility"
# Names that meant the same things before the footer had one set of names.
RETIRED = {"_scalar_dtype", "_as_scalar", "_check_compat_flags", "check_adam_arguments",
           "_check_arguments", "_steps_to_tensors",
           # NAdam's, Adamax's and Adafactor's first names for _scalar, _check_nonnegative,
           # _check_paths and _check_sparse
           "_to_scalar", "_check_non_negative", "_check_single_tensor_path",
           "_check_dense_gradients"}
OPTIMIZER_CHAPTERS = sorted({c.__module__.rsplit(".", 1)[-1] for c in optimizer_classes()})


def footer(name: str) -> tuple[str, dict[str, str]]:
    """The footer's heading comment run and its helpers' source, by name.

    The optimizer chapters and the schedule chapters have footers of their own kinds;
    within each helper name the text must agree everywhere.
    """
    source = (PACKAGE / f"{name}.py").read_text(encoding="utf-8")
    lines = source.splitlines()
    starts = [i for i, line in enumerate(lines) if line == HEADING]
    assert len(starts) == 1, f"{name}.py: {len(starts)} lines {HEADING!r}"
    start = starts[0] + 1  # 1-based line number of the heading
    tree = ast.parse(source)
    helpers: dict[str, str] = {}
    main_line = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "main":
            main_line = node.lineno
        elif isinstance(node, ast.FunctionDef) and node.lineno > start and main_line is None:
            helpers[node.name] = ast.get_source_segment(source, node)
    assert main_line is not None and start < main_line, f"{name}.py: footer not before main"
    comment = []
    for line in lines[start - 1:]:
        if not line.startswith("#"):
            break
        comment.append(line)
    return "\n".join(comment), helpers


@pytest.mark.parametrize("name", OPTIMIZER_CHAPTERS)
def test_optimizer_chapters_have_a_footer_of_private_helpers(name: str) -> None:
    _, helpers = footer(name)
    assert helpers, f"{name}.py: empty footer"
    assert all(h.startswith("_") for h in helpers), sorted(helpers)


def test_footer_helpers_are_identical_wherever_they_appear() -> None:
    texts: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name in chapter_names():
        source = (PACKAGE / f"{name}.py").read_text(encoding="utf-8")
        if HEADING not in source.splitlines():
            continue
        _, helpers = footer(name)
        for helper, text in helpers.items():
            texts[helper][text].append(name)
    drifted = {helper: list(versions.values()) for helper, versions in texts.items()
               if len(versions) > 1}
    assert not drifted, f"footer helpers that differ between chapters: {drifted}"
    # Shared by more than one chapter, or the footer is not doing its job.
    assert max(len(next(iter(v.values()))) for v in texts.values()) >= 2


@pytest.mark.parametrize("name", chapter_names())
def test_no_retired_helper_names(name: str) -> None:
    tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
    defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert not defined & RETIRED, sorted(defined & RETIRED)


@pytest.mark.parametrize("name", OPTIMIZER_CHAPTERS)
def test_footer_helpers_are_defined_only_in_the_footer(name: str) -> None:
    """A helper named like a footer helper but defined elsewhere in the file would be a
    second, unsynchronised copy."""
    source = (PACKAGE / f"{name}.py").read_text(encoding="utf-8")
    _, helpers = footer(name)
    tree = ast.parse(source)
    top_level = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    for helper in helpers:
        assert top_level.count(helper) == 1, helper
