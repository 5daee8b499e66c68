"""LAMB: BERT's truncated-normal init and the LARS/LAMB descent argument (issue 9)."""

from __future__ import annotations

import math

import pytest
import torch


def truncated_normal_variance(cut: float) -> float:
    """Variance of a standard normal truncated to [-cut, cut]: 1 - 2 cut p(cut)/(P(cut)-P(-cut))."""
    density = math.exp(-cut * cut / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(cut / math.sqrt(2))
    return 1 - 2 * cut * density / mass


def test_berts_truncated_normal_has_std_0176_so_57_eta() -> None:
    var = truncated_normal_variance(2.0)
    assert var == pytest.approx(0.7737, abs=5e-5)
    std = 0.02 * math.sqrt(var)
    assert std == pytest.approx(0.0176, abs=5e-5)
    assert 1 / std == pytest.approx(57, abs=0.5)  # relative first step, in units of eta
    assert 1 / 0.02 == 50  # the untruncated normal of the PyTorch port and the figure
    # Monte Carlo: torch's trunc_normal_ redraws (does not clamp), as TensorFlow does.
    gen = torch.Generator().manual_seed(0)
    w = torch.empty(2_000_000, dtype=torch.float64)
    torch.nn.init.trunc_normal_(w, std=0.02, a=-0.04, b=0.04, generator=gen)
    assert w.std().item() == pytest.approx(std, rel=2e-3)
    # ...so a 768 x 768 matrix gets a first Adam step of about 57 eta relative to its norm.
    n = 768 * 768
    assert math.sqrt(n) / (std * math.sqrt(n)) == pytest.approx(56.84, abs=0.01)


def test_layerwise_normalized_steps_obey_the_average_smoothness_bound() -> None:
    """Two layers, f = sum_i L_i |theta_i|^2 / 2 (L = 1 and 400): steps of length eta per
    layer along -grad_i lower f by at least eta sum_i |grad_i| - eta^2/2 sum_i L_i, and the
    average gradient norm over T steps obeys the bound with L_avg."""
    gen = torch.Generator().manual_seed(0)
    smooth = [1.0, 400.0]
    theta = [torch.randn(20, generator=gen, dtype=torch.float64) for _ in smooth]

    def f(th) -> float:
        return sum(L * (t @ t).item() / 2 for L, t in zip(smooth, th, strict=True))

    eta, steps, h = 1e-3, 300, len(smooth)
    start, total_grad = f(theta), 0.0
    for _ in range(steps):
        grads = [L * t for L, t in zip(smooth, theta, strict=True)]
        norms = [g.norm().item() for g in grads]
        before = f(theta)
        theta = [t - eta * g / n for t, g, n in zip(theta, grads, norms, strict=True)]
        drop = before - f(theta)
        # (an equality for a quadratic, so compare up to rounding of f, which is ~1e3)
        assert drop >= eta * sum(norms) - eta**2 / 2 * sum(smooth) - 1e-9
        total_grad += sum(norms)
    l_avg = sum(smooth) / h
    bound = start / (eta * steps) + eta / 2 * h * l_avg  # gamma_l = gamma_u = 1, f* = 0
    assert total_grad / steps <= bound
    # One learning rate for both layers must stay below 2/L_max = 0.005 to descend at all;
    # the normalized steps used eta = 1e-3 per layer whatever L_i is.
    assert 2 / max(smooth) == 0.005
