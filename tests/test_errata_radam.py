"""RAdam: the paper's Adam-eps baseline and the numbers the text quotes (issue 9, errata)."""

from __future__ import annotations

import math

import pytest
import torch

from labml_optim.radam import AdamEpsHat, adam_eps, sma_length


def reference_adam_eps(theta, grads, *, lr, betas, eps, weight_decay):
    """The official Adam-eps written out: eps on sqrt(v) before the corrections, decoupled decay.

    theta_t = (1 - lr wd) theta_{t-1} - lr sqrt(1 - b2^t)/(1 - b1^t) m_t / (sqrt(v_t) + eps)
    """
    beta1, beta2 = betas
    m = torch.zeros_like(theta)
    v = torch.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        step_size = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
        theta = (1 - lr * weight_decay) * theta - step_size * m / (v.sqrt() + eps)
    return theta


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam_eps_hat_is_the_official_formula(weight_decay: float) -> None:
    gen = torch.Generator().manual_seed(3)
    start = torch.randn(6, generator=gen, dtype=torch.float64)
    grads = [1e-3 * torch.randn(6, generator=gen, dtype=torch.float64) for _ in range(25)]
    kwargs = dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-4, weight_decay=weight_decay)
    p = start.clone().requires_grad_(True)
    opt = AdamEpsHat([p], **kwargs)
    for g in grads:
        p.grad = g.clone()
        opt.step()
    expected = reference_adam_eps(start.clone(), grads, **kwargs)
    assert torch.allclose(p.detach(), expected, rtol=1e-12, atol=1e-15)
    assert set(opt.state[p]) == {"step", "exp_avg", "exp_avg_sq"}


def first_step(opt_factory, g: torch.Tensor) -> torch.Tensor:
    p = torch.zeros_like(g, requires_grad=True)
    opt = opt_factory([p])
    p.grad = g.clone()
    opt.step()
    return p.detach()


def test_torch_adam_eps_is_32_times_smaller_at_the_first_step() -> None:
    """Official eps-hat = 1e-4 is torch's eps = 1e-4/sqrt(1 - 0.999) = 31.6e-4 at t = 1."""
    g = torch.tensor([1e-5, 1e-4, 1e-3, 1e-1], dtype=torch.float64)
    factor = 1 / math.sqrt(1 - 0.999)
    assert factor == pytest.approx(31.6, abs=0.05)
    official = first_step(lambda ps: AdamEpsHat(ps, lr=1e-3), g)
    same = first_step(lambda ps: torch.optim.Adam(ps, lr=1e-3, eps=1e-4 * factor), g)
    assert torch.allclose(official, same, rtol=1e-12, atol=0)
    torch_baseline = first_step(lambda ps: adam_eps(ps, lr=1e-3), g)
    # For gradients near eps the two baselines differ by up to the factor itself.
    ratio = (torch_baseline / official)[0].item()
    assert ratio > 10
    # At t = 6 the official eps is still 13 times torch's (the text's remark on RAdam's eps).
    assert 1 / math.sqrt(1 - 0.999**6) == pytest.approx(13, abs=0.1)


@pytest.mark.parametrize(("beta2", "rectifies"), [
    (0.6, False), (0.66, False), (2 / 3, False), (0.67, True), (0.7, True),
])
def test_rho_t_exceeds_5_exactly_when_beta2_exceeds_two_thirds(beta2, rectifies) -> None:
    rho_inf = 2 / (1 - beta2) - 1
    largest = max(sma_length(t, beta2) for t in range(1, 5000))
    assert largest < rho_inf + 1e-9
    assert (largest > 5) is rectifies
