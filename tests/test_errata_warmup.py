"""Warmup: RAdam's first steps are momentum steps, not a fraction 0 of the lr (issue 9)."""

from __future__ import annotations

import pytest
import torch

from labml_optim.warmup import radam_rectification


def test_no_rt_for_the_first_four_steps_at_beta2_0999() -> None:
    assert [radam_rectification(t, 0.999) for t in range(1, 5)] == [0.0] * 4
    assert radam_rectification(5, 0.999) > 0


@pytest.mark.parametrize("g", [1e-3, 1.0, 1e3])
def test_before_rt_radam_moves_by_eta_m_hat_not_by_a_fraction_of_eta(g: float) -> None:
    """torch's RAdam at t = 1: the step is lr * m_hat_1 = lr * g, proportional to the
    gradient; with g = 1000 it is a thousand learning rates, not 0 of one."""
    lr = 1e-3
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.RAdam([p], lr=lr)
    p.grad = torch.tensor([g], dtype=torch.float64)
    opt.step()
    assert -p.item() == pytest.approx(lr * g, rel=1e-12)
