"""Adam: the chapter's formulas and labml_nn's Adam.

Parity with torch.optim.Adam (bitwise, dtypes, complex, state dicts, groups, tensor lr) is
in test_parity.py, with every chapter that has a torch twin.
"""

from __future__ import annotations

import math

import pytest
import torch
from support.optim_harness import (
    apply_step,
    clone_params,
    make_gradients,
    make_params,
)

from labml_optim.adam import (
    Adam,
    adam_step_eps_hat,
    eps_hat,
    measured_steps,
    paper_step_bound,
    step_bound,
    worst_case_gradients,
)

# ## Bias correction: $\mathbb{E}[v_t] = \mathbb{E}[g^2](1 - \beta_2^t)$ under stationarity


def test_bias_correction_by_monte_carlo() -> None:
    beta1, beta2, mean, std, runs = 0.9, 0.99, 0.5, 1.0, 200_000
    gen = torch.Generator().manual_seed(3)
    p = torch.zeros(runs, dtype=torch.float64, requires_grad=True)
    opt = Adam([p], betas=(beta1, beta2))
    for t in range(1, 31):
        p.grad = mean + std * torch.randn(runs, generator=gen, dtype=torch.float64)
        opt.step()
        if t in (1, 2, 5, 30):
            m, v = opt.state[p]["exp_avg"], opt.state[p]["exp_avg_sq"]
            # Standard errors of the means over the runs set the tolerance (5 sigma).
            tol_m = 5 * m.std().item() / math.sqrt(runs)
            tol_v = 5 * v.std().item() / math.sqrt(runs)
            assert abs(m.mean().item() - mean * (1 - beta1**t)) < tol_m
            assert abs(v.mean().item() - (mean**2 + std**2) * (1 - beta2**t)) < tol_v
            # ... and the uncorrected mean is measurably biased at t = 1.
            if t == 1:
                assert abs(v.mean().item() - (mean**2 + std**2)) > 100 * tol_v


def test_geometric_weights_sum_to_one_minus_beta_power() -> None:
    # A constant gradient of 1 makes v_t the sum of the weights themselves.
    beta2 = 0.97
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = Adam([p], betas=(0.0, beta2))
    for t in range(1, 200):
        p.grad = torch.ones(1, dtype=torch.float64)
        opt.step()
        assert opt.state[p]["exp_avg_sq"].item() == pytest.approx(1 - beta2**t, rel=1e-12)


# ## The two places for epsilon


def run_eps_hat(params, grads, *, lr, betas, eps_hat_at):
    states = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    for t, g in enumerate(grads, start=1):
        for p, gi, (m, v) in zip(params, g, states, strict=True):
            if gi is not None and p.numel():
                adam_step_eps_hat(p.detach(), gi, m, v, t, lr=lr, betas=betas,
                                  eps_hat=eps_hat_at(t))


@pytest.mark.parametrize("eps", [1e-8, 1e-3])
def test_eps_hat_form_equals_standard_when_related(eps: float) -> None:
    lr, betas = 0.01, (0.9, 0.999)
    params = [p for p in make_params(dtype=torch.float64) if p.numel()]
    # Every gradient present every step (the helper has no notion of a missing grad),
    # and small, so that eps matters.
    grads = [[torch.randn(p.shape, dtype=torch.float64) * 1e-3 for p in params]
             for _ in range(60)]
    ours, theirs = clone_params(params), clone_params(params)
    opt = torch.optim.Adam(theirs, lr=lr, betas=betas, eps=eps, foreach=False)
    for g in grads:
        apply_step(opt, theirs, g)
    run_eps_hat(ours, grads, lr=lr, betas=betas, eps_hat_at=lambda t: eps_hat(eps, betas[1], t))
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)

    # A constant eps_hat = eps is a different optimizer: where the gradients are small
    # its early steps are damped by a larger effective eps_t = eps / sqrt(1 - beta2^t).
    const = clone_params(params)
    run_eps_hat(const, grads, lr=lr, betas=betas, eps_hat_at=lambda t: eps)
    gap = max((a - b).abs().max().item() for a, b in zip(const, theirs, strict=True))
    if eps == 1e-3:
        assert gap > 1e-3
    else:
        assert gap > 1e-12  # tiny but not rounding: the relation is exact only as stated


def test_eps_hat_relation_at_one_step() -> None:
    # At step t, the standard eps is eps_hat / sqrt(1 - beta2^t): one step of each agrees.
    beta2, t_last = 0.999, 7
    g = [torch.full((3,), 1e-6, dtype=torch.float64) for _ in range(t_last)]
    hat = 1e-6
    p_hat = torch.zeros(3, dtype=torch.float64)
    m, v = torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    for t in range(1, t_last + 1):
        adam_step_eps_hat(p_hat, g[t - 1], m, v, t, lr=1.0, betas=(0.9, beta2), eps_hat=hat)
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    # A torch Adam whose eps is changed every step to eps_hat / sqrt(1 - beta2^t).
    opt = torch.optim.Adam([p], lr=1.0, betas=(0.9, beta2), foreach=False)
    for t in range(1, t_last + 1):
        opt.param_groups[0]["eps"] = hat / math.sqrt(1 - beta2**t)
        p.grad = g[t - 1].clone()
        opt.step()
    torch.testing.assert_close(p.detach(), p_hat, rtol=1e-12, atol=0)


# ## How large a step can be (eps = 0)


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.99, 0.999), (0.5, 0.999), (0.9, 0.99),
                                   (0.0, 0.999)])
def test_step_bounds(betas: tuple[float, float]) -> None:
    beta1, beta2 = betas
    horizon = [1, 2, 7, 40, 300, 1500]
    # The geometric sequence attains the Cauchy-Schwarz bound ...
    worst = measured_steps([worst_case_gradients(t, beta1, beta2) for t in horizon],
                           beta1, beta2)
    for t, w in zip(horizon, worst, strict=True):
        assert w == pytest.approx(step_bound(beta1, beta2, t), rel=1e-9)
    # ... a lone spike gives the paper's value (its limit as t grows) ...
    spikes = measured_steps([[1e-100] * (t - 1) + [1.0] for t in horizon], beta1, beta2)
    for t, s in zip(horizon, spikes, strict=True):
        expected = (1 - beta1) / (1 - beta1**t) * math.sqrt((1 - beta2**t) / (1 - beta2))
        assert s == pytest.approx(expected, rel=1e-9)
    # ... and no sequence of any kind goes above the bound.
    gen = torch.Generator().manual_seed(5)
    kinds = []
    for t in horizon[:-1]:
        kinds.append(torch.randn(t, generator=gen, dtype=torch.float64).tolist())
        kinds.append(torch.randn(t, generator=gen, dtype=torch.float64).exp().mul(3).tolist())
        grow = (torch.arange(t, dtype=torch.float64) * 0.05).exp()
        kinds.append((grow * (1 + 0.3 * torch.rand(t, generator=gen, dtype=torch.float64)))
                     .tolist())
    measured = measured_steps(kinds, beta1, beta2)
    for seq, m in zip(kinds, measured, strict=True):
        assert m <= step_bound(beta1, beta2, len(seq)) * (1 + 1e-12)
    # The paper's bound is the spike's limit; for beta1 > 0 the worst case exceeds it.
    if beta1 > 0:
        assert worst[-1] > paper_step_bound(beta1, beta2) * 1.01
    else:
        assert step_bound(beta1, beta2, 10**6) == pytest.approx(paper_step_bound(beta1, beta2))


def test_sharp_limits_quoted_in_the_chapter() -> None:
    assert step_bound(0.9, 0.999, 10**7) == pytest.approx(7.27, abs=0.005)
    assert step_bound(0.99, 0.999, 10**7) == pytest.approx(2.30, abs=0.005)
    assert paper_step_bound(0.9, 0.999) == pytest.approx(3.16, abs=0.005)
    # 1 - beta2^100 for beta2 = 0.999, quoted in the bias-correction section
    assert 1 - 0.999**100 == pytest.approx(0.095, abs=5e-4)
    # ... and how much larger a step would be with m corrected but v not: with a constant
    # gradient, v_t holds exactly the missing weight 1 - beta2^t.
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = Adam([p], lr=1.0, betas=(0.9, 0.999), eps=0.0)
    for t in range(1, 101):
        p.detach().zero_()
        p.grad = torch.ones(1, dtype=torch.float64)
        opt.step()
        taken = abs(p.item())
        state = opt.state[p]
        m_hat = state["exp_avg"].item() / (1 - 0.9**t)
        too_large = m_hat / math.sqrt(state["exp_avg_sq"].item()) / taken
        if t == 1:
            assert round(too_large) == 32
        if t == 100:
            assert too_large == pytest.approx(3.2, abs=0.05)


def test_scale_invariance_with_eps_zero() -> None:
    params = make_params(dtype=torch.float64)
    grads = make_gradients(params, 20)
    a, b = clone_params(params), clone_params(params)
    opt_a, opt_b = Adam(a, lr=0.01, eps=0.0), Adam(b, lr=0.01, eps=0.0)
    for g in grads:
        apply_step(opt_a, a, g)
        apply_step(opt_b, b, [None if x is None else 1000.0 * x for x in g])
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-12)


# ## labml_nn's Adam


def labml_adam():
    from labml_nn.optimizers import WeightDecay
    from labml_nn.optimizers.adam import Adam as LabmlAdam

    return LabmlAdam, WeightDecay


def run(opt_factory, params, grads):
    ps = clone_params(params)
    opt = opt_factory(ps)
    for g in grads:
        apply_step(opt, ps, g)
    return ps


def test_labml_nn_adam_standard_form_agrees_up_to_rounding() -> None:
    LabmlAdam, WeightDecay = labml_adam()
    params = make_params()
    grads = make_gradients(params, 50)
    ours = run(lambda p: Adam(p, lr=0.01), params, grads)
    theirs = run(lambda p: LabmlAdam(p, lr=0.01, eps=1e-8, optimized_update=False,
                                     weight_decay=WeightDecay(0.0)), params, grads)
    diffs = [(a - b).abs().max().item() for a, b in zip(ours, theirs, strict=True) if a.numel()]
    assert max(diffs) < 1e-5
    # Not bitwise: labml_nn updates m with mul_().add_() where torch uses lerp_. Replaying
    # our own update with that one change reproduces labml_nn exactly.
    assert max(diffs) > 0
    replay = clone_params(params)
    states = {}
    for g in grads:
        for p, gi in zip(replay, g, strict=True):
            if gi is None:
                continue
            m, v, step = states.setdefault(id(p), [torch.zeros_like(p), torch.zeros_like(p), 0])
            states[id(p)][2] = step = step + 1
            m.mul_(0.9).add_(gi, alpha=0.1)
            v.mul_(0.999).addcmul_(gi, gi, value=0.001)
            denom = (v.sqrt() / math.sqrt(1 - 0.999**step)).add_(1e-8)
            p.detach().addcdiv_(m, denom, value=-0.01 / (1 - 0.9**step))
    for a, b in zip(replay, theirs, strict=True):
        assert torch.equal(a.detach(), b.detach())


def test_labml_nn_adam_default_is_the_eps_hat_form() -> None:
    # labml_nn defaults to optimized_update=True and eps=1e-16: its eps is eps_hat.
    LabmlAdam, WeightDecay = labml_adam()
    params = [p for p in make_params(dtype=torch.float64) if p.numel()]
    grads = [[torch.randn(p.shape, dtype=torch.float64) * 1e-4 for p in params]
             for _ in range(30)]
    theirs = run(lambda p: LabmlAdam(p, lr=0.01, eps=1e-5, weight_decay=WeightDecay(0.0)),
                 params, grads)
    hat = clone_params(params)
    run_eps_hat(hat, grads, lr=0.01, betas=(0.9, 0.999), eps_hat_at=lambda t: 1e-5)
    for a, b in zip(hat, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-12)
    # With the same number as torch's eps the two optimizers differ where gradients are
    # small: labml_nn's effective eps at step t is 1e-5 / sqrt(1 - 0.999^t).
    ours = run(lambda p: Adam(p, lr=0.01, eps=1e-5), params, grads)
    gap = max((a - b).abs().max().item() for a, b in zip(ours, theirs, strict=True))
    assert gap > 1e-3


def test_labml_nn_weight_decay_is_decoupled_by_default() -> None:
    # labml_nn's WeightDecay(w) decouples by default (torch's Adam adds L2 by default).
    LabmlAdam, WeightDecay = labml_adam()
    params = make_params()
    grads = make_gradients(params, 30)
    theirs = run(lambda p: LabmlAdam(p, lr=0.01, eps=1e-8, optimized_update=False,
                                     weight_decay=WeightDecay(0.1)), params, grads)
    decoupled = run(lambda p: Adam(p, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
                    params, grads)
    l2 = run(lambda p: Adam(p, lr=0.01, weight_decay=0.1), params, grads)
    close = max((a - b).abs().max().item() for a, b in zip(decoupled, theirs, strict=True)
                if a.numel())
    far = max((a - b).abs().max().item() for a, b in zip(l2, theirs, strict=True) if a.numel())
    assert close < 1e-5 < 1e-3 < far
