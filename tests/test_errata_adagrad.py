"""Adagrad: the scale claims of the chapter's text (issue 9, errata), checked by running it."""

from __future__ import annotations

import pytest
import torch

from labml_optim.adagrad import Adagrad


def run(c: float, lr: float, *, adagrad: bool, steps: int = 40, **kwargs) -> list[float]:
    """u_t = c w_t for f(u) = (u - 1)^2 / 2 (plus a varying slope), w trained with lr."""
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = (Adagrad([w], lr=lr, **kwargs) if adagrad
           else torch.optim.SGD([w], lr=lr))
    path = []
    for t in range(steps):
        u = c * w.detach()
        w.grad = c * ((u - 1.0) + 0.3 * (-1) ** t)  # df/dw = c df/du
        opt.step()
        path.append(c * w.item())
    return path


@pytest.mark.parametrize("c", [0.1, 10.0])
def test_a_scaled_feature_is_adagrad_at_lr_c_eta_and_gd_at_c2_eta(c: float) -> None:
    eta = 0.05
    scaled = run(c, eta, adagrad=True, eps=0.0)
    assert scaled == pytest.approx(run(1.0, c * eta, adagrad=True, eps=0.0), rel=1e-10)
    assert scaled != pytest.approx(run(1.0, eta, adagrad=True, eps=0.0), rel=1e-3)
    gd = run(c, eta, adagrad=False)
    assert gd == pytest.approx(run(1.0, c * c * eta, adagrad=False), rel=1e-10)


def steps_taken(scale: float, **kwargs) -> list[float]:
    g = torch.tensor([0.3, -1.2, 0.05, 2.0, -0.7], dtype=torch.float64)
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = Adagrad([w], lr=0.1, **kwargs)
    moves = []
    for value in g:
        before = w.item()
        w.grad = (scale * value).reshape(1)
        opt.step()
        moves.append(w.item() - before)
    return moves


@pytest.mark.parametrize("scale", [1e-3, 7.0])
def test_gradient_scale_invariance_needs_g0_and_eps_zero(scale: float) -> None:
    exact = dict(eps=0.0, initial_accumulator_value=0.0)
    assert steps_taken(scale, **exact) == pytest.approx(steps_taken(1.0, **exact), rel=1e-12)
    for broken in (dict(eps=1e-2), dict(eps=0.0, initial_accumulator_value=0.5)):
        assert steps_taken(scale, **broken) != pytest.approx(steps_taken(1.0, **broken),
                                                             rel=1e-3)
    negated = [-move for move in steps_taken(1.0, **exact)]
    assert steps_taken(-scale, **exact) == pytest.approx(negated, rel=1e-12)
