"""RMSprop chapter: torch's NaNs, argument checks, and the chapter's formulas checked.

Parity with torch.optim.RMSprop (bitwise, dtypes, complex, state dicts, groups, tensor lr) is
in test_parity.py, with every chapter that has a torch twin.
"""

from __future__ import annotations

import pytest
import torch

from labml_optim.rmsprop import RMSprop


def test_centered_alpha_zero_is_nan_exactly_where_torch_is():
    gen = torch.Generator().manual_seed(0)
    g = torch.randn(1000, generator=gen) * 1e-3
    results = []
    for opt_cls in (RMSprop, torch.optim.RMSprop):
        p = torch.zeros(1000, requires_grad=True)
        opt = opt_cls([p], lr=0.01, alpha=0.0, centered=True, foreach=False)
        p.grad = g.clone()
        opt.step()
        results.append(p.detach())
    assert results[0].isnan().any()
    assert torch.equal(results[0].isnan(), results[1].isnan())
    assert torch.equal(results[0].nan_to_num(), results[1].nan_to_num())


def test_momentum_switched_on_mid_run_gets_a_fresh_buffer():
    p = torch.zeros(3, requires_grad=True)
    opt = RMSprop([p], lr=0.1)
    p.grad = torch.ones(3)
    opt.step()
    opt.param_groups[0]["momentum"] = 0.9
    opt.param_groups[0]["centered"] = True
    opt.step()
    assert set(opt.state[p]) == {"step", "square_avg", "momentum_buffer", "grad_avg"}


@pytest.mark.parametrize("kw,name", [(dict(lr=-1.0), "lr"), (dict(eps=-1.0), "eps"),
                                      (dict(alpha=-0.1), "alpha"), (dict(alpha=1.5), "alpha"),
                                      (dict(momentum=-0.1), "momentum"),
                                      (dict(weight_decay=-1.0), "weight_decay"),
                                      (dict(foreach=True), "foreach"),
                                      (dict(capturable=True), "capturable"),
                                      (dict(differentiable=True), "differentiable")])
def test_bad_arguments(kw, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        RMSprop([torch.zeros(2, requires_grad=True)], **kw)


def test_sparse_gradient_refused():
    emb = torch.nn.Embedding(5, 3, sparse=True)
    opt = RMSprop(emb.parameters())
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="RMSprop.*sparse"):
        opt.step()


# ---------------------------------------------------------------- the chapter's formulas

def _run(grads, **kw):
    """Parameters after each step and the optimizer, for a sequence of gradient rows."""
    theta = torch.zeros(grads.shape[1], dtype=torch.float64, requires_grad=True)
    opt = RMSprop([theta], **kw)
    path = []
    for g in grads:
        theta.grad = g.clone()
        opt.step()
        path.append(theta.detach().clone())
    return torch.stack(path), opt, theta


def _moves(path):
    return -torch.diff(torch.cat([torch.zeros_like(path[:1]), path]), dim=0)


@pytest.mark.parametrize("alpha", [0.9, 0.99])
def test_constant_gradient_steps_are_lr_over_sqrt_one_minus_alpha_t(alpha):
    steps, lr = 300, 0.01
    g = torch.tensor([[2.0, -0.003]], dtype=torch.float64).repeat(steps, 1)
    moves = _moves(_run(g, lr=lr, alpha=alpha, eps=0.0)[0])
    t = torch.arange(1, steps + 1, dtype=torch.float64)
    predicted = lr / (1 - alpha**t).sqrt()
    assert torch.allclose(moves[:, 0], predicted, rtol=1e-10, atol=0)
    assert torch.allclose(moves[:, 1], -predicted, rtol=1e-10, atol=0)
    assert moves[0, 0] == pytest.approx(lr / (1 - alpha) ** 0.5, rel=1e-12)


def test_unrolled_square_avg_is_weighted_sum():
    gen = torch.Generator().manual_seed(0)
    alpha, steps = 0.8, 30
    g = torch.randn(steps, 2, dtype=torch.float64, generator=gen)
    _, opt, theta = _run(g, lr=0.0, alpha=alpha)
    weights = (1 - alpha) * alpha ** torch.arange(steps - 1, -1, -1, dtype=torch.float64)
    expected = (weights[:, None] * g**2).sum(0)
    assert torch.allclose(opt.state[theta]["square_avg"], expected, rtol=1e-12, atol=0)


def test_square_avg_mean_and_variance_in_the_long_run():
    # For Gaussian gradients E[v] -> sigma^2 and Var[v] -> (1 - a)/(1 + a) * 2 sigma^4.
    alpha, sigma, chains, steps = 0.9, 1.5, 20000, 150
    gen = torch.Generator().manual_seed(0)
    theta = torch.zeros(chains, dtype=torch.float64, requires_grad=True)
    opt = RMSprop([theta], lr=0.0, alpha=alpha)
    for _ in range(steps):  # alpha^150 ~ 1e-7: the zero start is forgotten
        theta.grad = sigma * torch.randn(chains, dtype=torch.float64, generator=gen)
        opt.step()
    v = opt.state[theta]["square_avg"]
    var_pred = (1 - alpha) / (1 + alpha) * 2 * sigma**4
    assert v.mean().item() == pytest.approx(sigma**2, rel=5 * (var_pred / chains) ** 0.5
                                            / sigma**2)
    # the sample variance of 20000 draws has a relative sd of about sqrt(2 / n) * kurtosis
    assert v.var().item() == pytest.approx(var_pred, rel=0.06)


def test_centered_scale_expectation_and_nonnegativity():
    # E[v_t - m_t^2] = (s_t - q_t) sigma^2 + s_t (1 - s_t) gbar^2, checked at several t.
    alpha, gbar, sigma, chains = 0.95, 0.7, 0.4, 20000
    gen = torch.Generator().manual_seed(1)
    theta = torch.zeros(chains, dtype=torch.float64, requires_grad=True)
    opt = RMSprop([theta], lr=0.0, alpha=alpha, centered=True)
    for t in range(1, 201):
        theta.grad = gbar + sigma * torch.randn(chains, dtype=torch.float64, generator=gen)
        opt.step()
        v, m = opt.state[theta]["square_avg"], opt.state[theta]["grad_avg"]
        diff = v - m * m
        assert diff.min() >= -1e-15  # Cauchy-Schwarz: m^2 <= s_t v <= v
        assert (m * m <= (1 - alpha**t) * v * (1 + 1e-12)).all()
        if t in (1, 5, 20, 60, 200):
            s = 1 - alpha**t
            q = (1 - alpha) * (1 - alpha ** (2 * t)) / (1 + alpha)
            predicted = (s - q) * sigma**2 + s * (1 - s) * gbar**2
            sem = diff.std().item() / chains**0.5
            assert abs(diff.mean().item() - predicted) < 5 * sem + 1e-12, (t, predicted)
    # the long-run value 2 alpha / (1 + alpha) sigma^2
    assert diff.mean().item() == pytest.approx(2 * alpha / (1 + alpha) * sigma**2, rel=0.02)


def test_centered_with_constant_gradient_grows_until_eps_caps_it():
    alpha, lr, eps, steps = 0.9, 0.01, 1e-8, 120
    g = torch.full((steps, 1), 3.0, dtype=torch.float64)
    moves = _moves(_run(g, lr=lr, alpha=alpha, eps=eps, centered=True)[0])[:, 0]
    t = torch.arange(1, steps + 1, dtype=torch.float64)
    scale = ((1 - alpha**t) * alpha**t).sqrt() * 3.0
    predicted = lr * 3.0 / (scale + eps)
    # v - m^2 is a difference of nearly equal numbers: compare where it is well above rounding
    ok = scale > 1e-6
    assert torch.allclose(moves[ok], predicted[ok], rtol=1e-5, atol=0)
    ratios = moves[ok][1:] / moves[ok][:-1]
    assert torch.allclose(ratios[-20:], torch.full((20,), alpha**-0.5, dtype=torch.float64),
                          rtol=1e-3)
    # In float32 rounding of v - m^2 takes over after ~130 steps: a huge step or NaN.
    p = torch.zeros(1, requires_grad=True)
    opt = RMSprop([p], lr=lr, alpha=alpha, eps=eps, centered=True)
    blown_up_at = None
    for step in range(1, 201):
        before = p.detach().clone()
        p.grad = torch.full((1,), 3.0)
        opt.step()
        move = (before - p.detach()).abs().item()
        if not move < 1e3:
            blown_up_at = step
            break
    assert blown_up_at is not None and 100 < blown_up_at < 200, blown_up_at


def test_centered_gives_larger_steps_to_a_clean_coordinate():
    gen = torch.Generator().manual_seed(0)
    steps, lr, alpha = 1500, 1e-3, 0.99
    sigma = torch.tensor([0.05, 2.0], dtype=torch.float64)
    g = 1.0 + torch.randn(steps, 2, dtype=torch.float64, generator=gen) * sigma
    plain = _moves(_run(g, lr=lr)[0])[-200:].mean(0)
    centered = _moves(_run(g, lr=lr, centered=True)[0])[-200:].mean(0)
    # plain divides by the RMS sqrt(1 + sigma^2), centered by the long-run
    # sqrt(2 alpha / (1 + alpha)) sigma
    assert plain[0].item() == pytest.approx(lr / (1 + sigma[0] ** 2).sqrt().item(), rel=0.05)
    sd = (2 * alpha / (1 + alpha)) ** 0.5 * sigma[0].item()
    assert centered[0].item() == pytest.approx(lr / sd, rel=0.1)
    assert centered[0] > 10 * plain[0]
    # on the noisy coordinate the two scales are close: 2.24 vs 2
    assert centered[1].item() == pytest.approx(plain[1].item(), rel=0.5)


def test_momentum_acts_on_the_scaled_step():
    gen = torch.Generator().manual_seed(2)
    alpha, mu, lr, eps, steps = 0.9, 0.8, 0.01, 1e-8, 60
    g = torch.randn(steps, 3, dtype=torch.float64, generator=gen)
    path = _run(g, lr=lr, alpha=alpha, eps=eps, momentum=mu)[0]
    v, b, theta = torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64), 0
    for t in range(steps):
        v = alpha * v + (1 - alpha) * g[t] ** 2
        b = mu * b + g[t] / (v.sqrt() + eps)
        theta = theta - lr * b
        assert torch.allclose(path[t], theta, rtol=1e-12, atol=1e-15)


def test_momentum_effective_step_lr_over_one_minus_mu():
    steps, lr, mu = 2000, 0.01, 0.9
    g = torch.full((steps, 1), 0.5, dtype=torch.float64)
    moves = _moves(_run(g, lr=lr, alpha=0.9, eps=0.0, momentum=mu)[0])[:, 0]
    assert moves[-1].item() == pytest.approx(lr / (1 - mu), rel=1e-9)
