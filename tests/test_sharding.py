"""Sharding: every optimizer chapter says whether it is safe under sharding, the claim is
covered by the two-process tests, and Muon's chapter's account of what goes wrong when a
shard is orthogonalised on its own."""

from __future__ import annotations

import math
import re

import pytest
import torch
from support import distributed as D
from support.chapters import chapter_module, optimizer_classes

from labml_optim.muon import lr_scale, newton_schulz, orthogonalize, svd_orthogonalize

OPTIMIZERS = optimizer_classes()
CHAPTERS = sorted({cls.__module__.rsplit(".", 1)[-1] for cls in OPTIMIZERS})


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_says_whether_it_is_safe_under_sharding(name: str) -> None:
    """One paragraph `**Sharding.** Safe ...` (or `Not safe ...`), the last paragraph of the
    introduction: directly before the docstring's first `##` heading (docs/conventions.md)."""
    doc = chapter_module(name).__doc__
    found = [p for p in paragraphs(doc) if p.startswith("**Sharding.**")]
    assert len(found) == 1, f"{name}: {len(found)} '**Sharding.**' paragraphs, want 1"
    intro = paragraphs(doc.split("\n## ", 1)[0])
    assert intro[-1] == found[0], f"{name}: the sharding line must end the introduction"
    verdict = found[0].removeprefix("**Sharding.** ")
    assert verdict.startswith(("Safe under sharding", "Not safe under sharding")), name
    assert "\n\n" not in found[0]


def test_the_two_process_tests_cover_every_optimizer() -> None:
    """Each chapter's 'safe' is backed by tests/test_distributed.py: its table holds every
    chapter's optimizer (the chapter's main class; RAdam's figure-only variants aside)."""
    covered = {D.optimizer_class(name)[0] for name in D.OPTIMIZERS}
    assert covered <= set(OPTIMIZERS)
    assert {cls.__module__.rsplit(".", 1)[-1] for cls in covered} == set(CHAPTERS)


# ## Muon on a shard

def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def blockwise(matrix: torch.Tensor, k: int, orth=svd_orthogonalize) -> torch.Tensor:
    """What a shard-unaware implementation steps along: each of k row blocks on its own."""
    return torch.cat([orth(block).double() for block in matrix.chunk(k)])


@pytest.mark.parametrize("k", [2, 4])
def test_tall_shards_make_every_singular_value_sqrt_k(k: int) -> None:
    matrix = randn(32 * k, 16, seed=k)  # blocks of 32 x 16: still tall
    local = blockwise(matrix, k)
    sv = torch.linalg.svdvals(local)
    torch.testing.assert_close(sv, torch.full_like(sv, math.sqrt(k)), rtol=0, atol=1e-10)
    whole = torch.linalg.svdvals(svd_orthogonalize(matrix))
    torch.testing.assert_close(whole, torch.ones_like(whole), rtol=0, atol=1e-10)
    # A block's shape would also give the wrong shape factor.
    assert lr_scale(None, (32, 16)) != lr_scale(None, tuple(matrix.shape))


def test_wide_shards_spread_the_singular_values_and_turn_the_step() -> None:
    matrix = randn(64, 64)
    whole = svd_orthogonalize(matrix)
    local = blockwise(matrix, 2)
    sv = torch.linalg.svdvals(local)
    assert sv.min() < 0.002
    assert 1.41 < sv.max() <= math.sqrt(2) + 1e-12
    distance = ((local - whole).norm() / whole.norm()).item()
    assert 0.47 < distance < 0.49


@pytest.mark.parametrize("shape", [(8, 16), (64, 64), (128, 64), (64, 256)])
@pytest.mark.parametrize("k", [2, 4])
def test_shard_local_step_is_at_most_sqrt_k_long(shape: tuple[int, int], k: int) -> None:
    spectral = torch.linalg.matrix_norm(blockwise(randn(*shape, seed=3), k), ord=2)
    assert 1.0 < spectral <= math.sqrt(k) + 1e-9


@pytest.mark.parametrize("shape", [(64, 64), (128, 64)])
def test_newton_schulz_on_a_shard_is_not_the_shard_of_newton_schulz(shape) -> None:
    matrix = randn(*shape, seed=5)
    whole = newton_schulz(matrix).double()
    local = blockwise(matrix, 2, orth=newton_schulz)
    assert (local - whole).norm() > 0.3 * whole.norm()


def test_orthogonalize_of_a_plain_tensor_is_newton_schulz() -> None:
    matrix = randn(12, 7)
    assert torch.equal(orthogonalize(matrix), newton_schulz(matrix))
