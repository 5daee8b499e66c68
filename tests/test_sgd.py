"""SGD chapter: sparse gradients, argument checks, and the chapter's formulas checked numerically.

Parity with torch.optim.SGD (bitwise, dtypes, complex, state dicts, groups, tensor lr) is
in test_parity.py, with every chapter that has a torch twin.
"""

from __future__ import annotations

import math

import pytest
import torch

from labml_optim.sgd import SGD


@pytest.mark.parametrize("kw", [dict(lr=0.1), dict(lr=0.1, momentum=0.9),
                                dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)],
                         ids=str)
def test_sparse_gradients_like_torch(kw):
    torch.manual_seed(0)
    emb_a = torch.nn.Embedding(10, 4, sparse=True)
    emb_b = torch.nn.Embedding(10, 4, sparse=True)
    emb_b.load_state_dict(emb_a.state_dict())
    oa, ob = SGD(emb_a.parameters(), **kw), torch.optim.SGD(emb_b.parameters(), **kw)
    gen = torch.Generator().manual_seed(1)
    for _ in range(20):
        idx = torch.randint(0, 10, (6,), generator=gen)  # repeated indices included
        w = torch.randn(6, 4, generator=gen)
        for emb, opt in ((emb_a, oa), (emb_b, ob)):
            opt.zero_grad()
            (emb(idx) * w).sum().backward()
            assert emb.weight.grad.is_sparse
            opt.step()
        assert torch.equal(emb_a.weight, emb_b.weight)
    if kw.get("momentum"):
        ba = oa.state[emb_a.weight]["momentum_buffer"]
        bb = ob.state[emb_b.weight]["momentum_buffer"]
        assert torch.equal(ba.to_dense(), bb.to_dense())


def test_sparse_with_weight_decay_raises_clearly():
    emb = torch.nn.Embedding(5, 3, sparse=True)
    opt = SGD(emb.parameters(), lr=0.1, weight_decay=0.1)
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="SGD.*sparse.*weight_decay"):
        opt.step()


@pytest.mark.parametrize("kw", [dict(momentum=0.0, nesterov=True),
                                dict(momentum=0.9, dampening=0.1, nesterov=True)])
def test_nesterov_needs_momentum_and_no_dampening(kw):
    with pytest.raises(ValueError, match="^nesterov"):
        SGD([torch.zeros(2, requires_grad=True)], lr=0.1, **kw)
    with pytest.raises(ValueError):  # torch refuses it too
        torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1, **kw)


@pytest.mark.parametrize("kw,name", [(dict(lr=-1.0), "lr"), (dict(lr=float("nan")), "lr"),
                                      (dict(momentum=-0.1), "momentum"),
                                      (dict(weight_decay=-1e-3), "weight_decay"),
                                      (dict(foreach=True), "foreach"),
                                      (dict(fused=True), "fused"),
                                      (dict(differentiable=True), "differentiable"),
                                      (dict(lr=torch.tensor([0.1, 0.2])), "lr")])
def test_bad_arguments(kw, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        SGD([torch.zeros(2, requires_grad=True)], **kw)


# ---------------------------------------------------------------- the chapter's formulas

def _run_constant_grad(steps, **kw):
    """Displacement per step and buffer when the gradient is the constant g = 1."""
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = SGD([theta], **kw)
    moves, prev = [], theta.detach().clone()
    for _ in range(steps):
        theta.grad = torch.ones(1, dtype=torch.float64)
        opt.step()
        moves.append((prev - theta.detach()).item())
        prev = theta.detach().clone()
    return moves, opt


@pytest.mark.parametrize("mu", [0.5, 0.9, 0.99])
def test_effective_step_lr_over_one_minus_momentum(mu):
    lr = 0.01
    moves, _ = _run_constant_grad(3000, lr=lr, momentum=mu)
    for t in (1, 5, 50):  # the geometric partial sums on the way there
        assert moves[t - 1] == pytest.approx(lr * (1 - mu**t) / (1 - mu), rel=1e-10)
    assert moves[-1] == pytest.approx(lr / (1 - mu), rel=1e-9)


@pytest.mark.parametrize("mu,tau", [(0.9, 0.5), (0.9, 0.2), (0.5, 0.9)])
def test_dampening_fixed_point_and_transient(mu, tau):
    lr = 0.1
    moves, _ = _run_constant_grad(40, lr=lr, momentum=mu, dampening=tau)
    b_star = (1 - tau) / (1 - mu)
    for t, move in enumerate(moves, start=1):
        assert move / lr == pytest.approx(b_star + mu ** (t - 1) * (1 - b_star), rel=1e-12)


def test_dampening_equal_momentum_is_an_unbiased_average():
    mu = 0.9
    moves, _ = _run_constant_grad(30, lr=1.0, momentum=mu, dampening=mu)
    assert max(abs(m - 1.0) for m in moves) < 1e-14  # the buffer is g from step 1 on
    # For varying gradients it is an EMA whose first weight is that of g_1 alone.
    gen = torch.Generator().manual_seed(0)
    gs = torch.randn(25, dtype=torch.float64, generator=gen)
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = SGD([theta], lr=1.0, momentum=mu, dampening=mu)
    for t, g in enumerate(gs, start=1):
        theta.grad = g.reshape(1)
        opt.step()
        expected = mu ** (t - 1) * gs[0] + sum(
            (1 - mu) * mu ** (t - k) * gs[k - 1] for k in range(2, t + 1))
        assert opt.state[theta]["momentum_buffer"].item() == pytest.approx(float(expected),
                                                                         rel=1e-12)


def _quadratic(lams, seed=0):
    lam = torch.tensor(lams, dtype=torch.float64)
    x0 = torch.randn(len(lams), dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    return lam, x0


def _sgd_path(lam, x0, steps, **kw):
    theta = x0.clone().requires_grad_()
    opt = SGD([theta], **kw)
    path = [theta.detach().clone()]
    for _ in range(steps):
        theta.grad = lam * theta.detach()
        opt.step()
        path.append(theta.detach().clone())
    return path


def test_heavy_ball_is_polyak_recursion():
    lam, x0 = _quadratic([0.3, 1.0, 4.0])
    lr, mu = 0.1, 0.8
    path = _sgd_path(lam, x0, 40, lr=lr, momentum=mu)
    prev, cur = x0.clone(), x0 - lr * lam * x0  # first step: the buffer is g_1
    assert torch.allclose(path[1], cur, rtol=0, atol=1e-15)
    for t in range(2, 41):
        prev, cur = cur, cur - lr * lam * cur + mu * (cur - prev)
        assert torch.allclose(path[t], cur, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mu", [0.5, 0.9])
def test_nesterov_is_sutskever_lookahead(mu):
    # Sutskever et al.: v_t = mu v_{t-1} - lr grad(theta + mu v); theta_t = theta + v_t.
    # torch's parameters should be phi_t = theta_t + mu v_t.
    lam, x0 = _quadratic([0.2, 1.0, 5.0, 9.0], seed=3)
    lr = 0.1
    path = _sgd_path(lam, x0, 60, lr=lr, momentum=mu, nesterov=True)
    theta, v = x0.clone(), torch.zeros_like(x0)
    for t in range(1, 61):
        v = mu * v - lr * lam * (theta + mu * v)
        theta = theta + v
        assert torch.allclose(path[t], theta + mu * v, rtol=1e-12, atol=1e-14)


def _rate(path, t0, t1):
    """Geometric mean contraction of |theta| between steps t0 and t1."""
    n0, n1 = path[t0].norm().item(), path[t1].norm().item()
    return (n1 / n0) ** (1 / (t1 - t0))


@pytest.mark.parametrize("kappa", [25.0, 100.0])
def test_rates_on_quadratic(kappa):
    lam = torch.tensor([1.0, (1 + kappa) / 2, kappa], dtype=torch.float64)
    x0 = torch.ones(3, dtype=torch.float64)
    rk = math.sqrt(kappa)
    # plain descent at lr = 2/(L + m): rate (k - 1)/(k + 1)
    gd = _sgd_path(lam, x0, 400, lr=2 / (kappa + 1))
    assert _rate(gd, 200, 400) == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-3)
    # heavy ball at (lr*, mu*): rate sqrt(mu*) = (rk - 1)/(rk + 1)
    mu_star = ((rk - 1) / (rk + 1)) ** 2
    hb = _sgd_path(lam, x0, 600, lr=4 / (rk + 1) ** 2, momentum=mu_star)
    assert _rate(hb, 300, 600) == pytest.approx((rk - 1) / (rk + 1), rel=5e-3)
    # Nesterov at lr = 1/L, mu = (rk - 1)/(rk + 1): rate 1 - 1/rk
    nag = _sgd_path(lam, x0, 600, lr=1 / kappa, momentum=(rk - 1) / (rk + 1), nesterov=True)
    assert _rate(nag, 300, 600) == pytest.approx(1 - 1 / rk, rel=5e-3)
    # ... and Nesterov diverges at the heavy ball's tuning.
    bad = _sgd_path(lam, x0, 100, lr=4 / (rk + 1) ** 2, momentum=mu_star, nesterov=True)
    assert bad[-1].norm() > 1e6


def test_nesterov_loss_gap_bound_on_a_non_quadratic():
    # f(x) = sum_i a_i x_i^2 / 2 + b_i log cosh(x_i): strongly convex with m = min a,
    # smooth with L = max(a + b), minimum 0 at x = 0. With lr = 1/L and
    # mu = (sqrt(k) - 1)/(sqrt(k) + 1) the gradient-step points theta_t = phi_{t-1} -
    # lr grad f(phi_{t-1}) keep f(theta_t) <= (1 - 1/sqrt(k))^t (f(x0) + m/2 |x0|^2).
    a = torch.tensor([1.0, 2.0, 30.0], dtype=torch.float64)
    b = torch.tensor([15.0, 30.0, 20.0], dtype=torch.float64)
    m, L = a.min().item(), (a + b).max().item()
    rk = math.sqrt(L / m)

    def f(x):
        return (0.5 * a * x**2 + b * torch.log(torch.cosh(x))).sum()

    x0 = torch.tensor([3.0, -2.0, 1.5], dtype=torch.float64)
    phi = x0.clone().requires_grad_(True)
    opt = SGD([phi], lr=1 / L, momentum=(rk - 1) / (rk + 1), nesterov=True)
    c0 = f(x0).item() + 0.5 * m * x0.square().sum().item()
    for t in range(1, 201):
        opt.zero_grad()
        f(phi).backward()
        with torch.no_grad():
            theta_t = phi - phi.grad / L
        opt.step()
        assert f(theta_t).item() <= (1 - 1 / rk) ** t * c0 * (1 + 1e-9) + 1e-300


def test_plain_descent_stability_limit():
    lam = torch.tensor([1.0, 10.0], dtype=torch.float64)
    x0 = torch.ones(2, dtype=torch.float64)
    assert _sgd_path(lam, x0, 200, lr=0.99 * 2 / 10)[-1].norm() < 1e-1
    assert _sgd_path(lam, x0, 200, lr=1.01 * 2 / 10)[-1].norm() > 1.0


def test_lr_outside_buffer_differs_from_velocity_form_under_schedule():
    # With a constant lr torch's form equals v = -lr * b; change lr mid-run and they part.
    lam, x0 = _quadratic([1.0, 3.0])
    mu, lrs = 0.9, [0.1] * 10 + [0.01] * 10
    theta = x0.clone().requires_grad_()
    opt = SGD([theta], lr=lrs[0], momentum=mu)
    x, v = x0.clone(), torch.zeros_like(x0)
    gaps = []
    for lr in lrs:
        opt.param_groups[0]["lr"] = lr
        theta.grad = lam * theta.detach()
        opt.step()
        v = mu * v - lr * lam * x
        x = x + v
        gaps.append((theta.detach() - x).abs().max().item())
    assert max(gaps[:10]) < 1e-14
    assert gaps[10] > 1e-3


