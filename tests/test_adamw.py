"""AdamW: L2 against decoupled decay, the decay modes.

Parity with torch.optim.AdamW (bitwise, dtypes, complex, state dicts, groups, tensor lr) is
in test_parity.py, with every chapter that has a torch twin.
"""

from __future__ import annotations

import math

import pytest
import torch
from support.optim_harness import (
    apply_step,
    check_parity,
    clone_params,
    make_gradients,
    make_params,
)

from labml_optim.adam import Adam
from labml_optim.adamw import AdamW, decay_experiment


def test_adam_with_decoupled_decay_is_adamw() -> None:
    # torch's default decay (AdamW against torch's AdamW with defaults is in test_parity.py)
    assert AdamW([torch.nn.Parameter(torch.ones(1))]).defaults["weight_decay"] == 1e-2
    # ... and the Adam chapter's decoupled switch is the same optimizer
    check_parity(AdamW, lambda p: Adam(p, weight_decay=1e-2, decoupled_weight_decay=True))


def test_bad_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="^weight_decay_mode"):
        AdamW([torch.nn.Parameter(torch.ones(2))], weight_decay_mode="paper")


# ## The two update rules of the derivation (beta1 = 0)


def one_step(opt_cls, theta, v_prev, step_prev, g, **kw):
    """One step from a given state; returns the new theta and s_t read from the new state."""
    p = theta.clone().requires_grad_()
    opt = opt_cls([p], betas=(0.0, 0.99), **kw)
    p.grad = torch.zeros_like(p)
    opt.step()  # creates the state
    state = opt.state[p]
    state["exp_avg_sq"].copy_(v_prev)
    state["step"].fill_(step_prev)
    with torch.no_grad():
        p.copy_(theta)
    p.grad = g.clone()
    opt.step()
    t = step_prev + 1
    s = (state["exp_avg_sq"].sqrt() / math.sqrt(1 - 0.99**t)) + kw["eps"]
    return p.detach(), s


def test_l2_decay_is_per_coordinate_and_decoupled_is_uniform() -> None:
    gen = torch.Generator().manual_seed(0)
    theta = torch.randn(50, generator=gen, dtype=torch.float64)
    # Coordinates with very different gradient histories.
    v_prev = torch.logspace(-6, 2, 50, dtype=torch.float64)
    g = torch.randn(50, generator=gen, dtype=torch.float64) * v_prev.sqrt()
    lr, lam = 0.01, 0.1
    new, s = one_step(torch.optim.Adam, theta, v_prev, 7, g, lr=lr, eps=1e-8, weight_decay=lam)
    torch.testing.assert_close(new, (1 - lr * lam / s) * theta - lr * g / s,
                               rtol=1e-12, atol=1e-14)
    new_w, s_w = one_step(AdamW, theta, v_prev, 7, g, lr=lr, eps=1e-8, weight_decay=lam)
    torch.testing.assert_close(new_w, (1 - lr * lam) * theta - lr * g / s_w,
                               rtol=1e-12, atol=1e-14)
    # L2's shrink factor 1 - lr*lam/s_t spans orders of magnitude; AdamW's is one number.
    shrink = lr * lam / s
    assert shrink.max() / shrink.min() > 1000


def test_figure_claims() -> None:
    scales = [1e-4, 1e-2, 1.0, 1e2]
    l2, decoupled = decay_experiment(scales, coordinates=100, steps=1000)
    target = (1 - 1e-3) ** 1000
    # AdamW: every coordinate shrinks by (1 - lr*lambda)^T (the noise averages out).
    assert all(abs(d - target) < 0.02 for d in decoupled)
    # Adam + L2: much stronger than that where gradients are small, almost none where large.
    assert l2[0] < target - 0.05
    assert l2[-1] > 0.95
    assert l2 == sorted(l2)


# ## The decay modes


def decay_only(lr: float, mode: str, weight_decay: float, steps: int = 20) -> torch.Tensor:
    # Zero gradients: the Adam step is 0/eps = 0, so only the decay moves theta.
    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = AdamW([p], lr=lr, weight_decay=weight_decay, weight_decay_mode=mode)
    for _ in range(steps):
        p.grad = torch.zeros_like(p)
        opt.step()
    return p.detach()


def test_only_the_lr_mode_depends_on_lr() -> None:
    lam = 0.05
    for mode in ("schedule", "constant"):
        assert torch.equal(decay_only(0.1, mode, lam), decay_only(0.001, mode, lam))
        assert decay_only(0.1, mode, lam)[0].item() == pytest.approx((1 - lam) ** 20)
    assert decay_only(0.1, "lr", lam)[0].item() == pytest.approx((1 - 0.1 * lam) ** 20)
    assert decay_only(0.001, "lr", lam)[0].item() == pytest.approx((1 - 0.001 * lam) ** 20)


def test_lambda_paper_is_lr_times_lambda_torch() -> None:
    lr, lam_torch = 0.01, 0.3
    params = make_params(dtype=torch.float64)
    grads = make_gradients(params, 50)
    a, b = clone_params(params), clone_params(params)
    opt_a = AdamW(a, lr=lr, weight_decay=lam_torch)
    opt_b = AdamW(b, lr=lr, weight_decay=lr * lam_torch, weight_decay_mode="constant")
    for g in grads:
        apply_step(opt_a, a, g)
        apply_step(opt_b, b, g)
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-14)


def test_schedule_mode_follows_the_schedule_multiplier() -> None:
    lam, lr0 = 0.02, 0.1
    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = AdamW([p], lr=lr0, weight_decay=lam, weight_decay_mode="schedule")
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 0.5**k)
    expected = 1.0
    for k in range(6):
        p.grad = torch.zeros_like(p)
        opt.step()
        expected *= 1 - lam * 0.5**k  # eta_t * lambda, not lr * lambda
        sched.step()
    assert p[0].item() == pytest.approx(expected, rel=1e-12)
    assert opt.param_groups[0]["initial_lr"] == lr0


# ## labml_nn's decoupled weight decay


def test_labml_nn_weight_decay_flavours() -> None:
    from labml_nn.optimizers import WeightDecay
    from labml_nn.optimizers.adam import Adam as LabmlAdam

    params = make_params()
    grads = make_gradients(params, 30)

    def run(factory):
        ps = clone_params(params)
        opt = factory(ps)
        for g in grads:
            apply_step(opt, ps, g)
        return ps

    def gap(a, b):
        return max((x - y).abs().max().item() for x, y in zip(a, b, strict=True) if x.numel())

    lr = 0.05
    relative = run(lambda p: LabmlAdam(p, lr=lr, eps=1e-8, optimized_update=False,
                                       weight_decay=WeightDecay(0.5)))
    absolute = run(lambda p: LabmlAdam(p, lr=lr, eps=1e-8, optimized_update=False,
                                       weight_decay=WeightDecay(0.02, absolute=True)))
    torch_mode = run(lambda p: AdamW(p, lr=lr, weight_decay=0.5))
    constant = run(lambda p: AdamW(p, lr=lr, weight_decay=0.02, weight_decay_mode="constant"))
    # WeightDecay(absolute=False) is torch's lr * lambda; absolute=True is our "constant".
    # Equal up to the first-moment rounding (labml_nn uses mul_().add_(), not lerp_).
    assert gap(relative, torch_mode) < 1e-5
    assert gap(absolute, constant) < 1e-5
    assert gap(relative, constant) > 1e-3
