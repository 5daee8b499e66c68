"""Noam: the Annotated Transformer's factor 2 (issue 9: name the annotated sources)."""

from __future__ import annotations

import pytest
import torch

from labml_optim.noam import NoamLR


def test_the_annotated_transformers_factor_2_doubles_the_papers_rate() -> None:
    """NoamOpt(d_model, 2, 4000) runs at twice the paper's lr: peak 1.40e-3, not 6.99e-4."""
    def schedule(factor: float) -> NoamLR:
        opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        return NoamLR(opt, d_model=512, warmup=4000, factor=factor)

    paper, annotated = schedule(1.0), schedule(2.0)
    for t in (1, 100, 4000, 16_000, 100_000):
        assert annotated.multiplier(t) == pytest.approx(2 * paper.multiplier(t), rel=1e-15)
    assert paper.multiplier(4000) == pytest.approx(6.99e-4, abs=5e-7)
    assert annotated.multiplier(4000) == pytest.approx(1.40e-3, abs=5e-6)
