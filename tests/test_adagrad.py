"""Adagrad chapter: state from construction, sparse gradients, argument checks, and the
chapter's formulas checked.

Parity with torch.optim.Adagrad (bitwise, dtypes, complex, state dicts, groups, tensor lr) is
in test_parity.py, with every chapter that has a torch twin.
"""

from __future__ import annotations

import math

import pytest
import torch
from support.optim_harness import (
    apply_step,
    assert_same_state,
    clone_params,
    make_gradients,
    make_params,
)

from labml_optim.adagrad import Adagrad


def test_state_exists_from_construction_like_torch():
    params = make_params()
    oa = Adagrad(clone_params(params), initial_accumulator_value=0.2)
    ob = torch.optim.Adagrad(clone_params(params), initial_accumulator_value=0.2)
    sa, sb = oa.state_dict(), ob.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    assert sa["state"].keys() == sb["state"].keys() == set(range(len(params)))
    for k in sa["state"]:
        for key in ("step", "sum"):
            assert torch.equal(sa["state"][k][key], sb["state"][k][key])
            assert sa["state"][k][key].dtype == sb["state"][k][key].dtype
    oa.share_memory()
    assert all(oa.state[p]["sum"].is_shared() for p in oa.param_groups[0]["params"])


def test_add_param_group_later():
    params = make_params()
    grads = make_gradients(params, 20)
    pa, pb = clone_params(params), clone_params(params)
    oa = Adagrad(pa[:2], lr=0.1, initial_accumulator_value=0.3)
    ob = torch.optim.Adagrad(pb[:2], lr=0.1, initial_accumulator_value=0.3, foreach=False)
    for t, g in enumerate(grads):
        if t == 5:
            oa.add_param_group(dict(params=pa[2:], lr=0.02, initial_accumulator_value=9.0))
            ob.add_param_group(dict(params=pb[2:], lr=0.02, initial_accumulator_value=9.0))
        apply_step(oa, pa, g)
        apply_step(ob, pb, g)
        assert_same_state(oa, pa, ob, pb, where=f"step {t}: ")


@pytest.mark.parametrize("kw", [dict(lr=0.1), dict(lr=0.1, lr_decay=0.1, maximize=True,
                                                   initial_accumulator_value=0.5)], ids=str)
def test_sparse_gradients_like_torch(kw):
    torch.manual_seed(0)
    emb_a = torch.nn.Embedding(12, 4, sparse=True)
    emb_b = torch.nn.Embedding(12, 4, sparse=True)
    emb_b.load_state_dict(emb_a.state_dict())
    oa, ob = Adagrad(emb_a.parameters(), **kw), torch.optim.Adagrad(emb_b.parameters(), **kw)
    gen = torch.Generator().manual_seed(1)
    untouched = set(range(12))
    before = emb_a.weight.detach().clone()
    for _ in range(30):
        idx = torch.randint(0, 8, (6,), generator=gen)  # rows 8..11 never looked up
        untouched -= set(idx.tolist())
        w = torch.randn(6, 4, generator=gen)
        for emb, opt in ((emb_a, oa), (emb_b, ob)):
            opt.zero_grad()
            (emb(idx) * w).sum().backward()
            assert emb.weight.grad.is_sparse
            opt.step()
        assert torch.equal(emb_a.weight, emb_b.weight)
        assert torch.equal(oa.state[emb_a.weight]["sum"], ob.state[emb_b.weight]["sum"])
    rows = sorted(untouched)
    assert rows and torch.equal(emb_a.weight.detach()[rows], before[rows])


def test_sparse_repeated_indices_are_summed_before_squaring():
    p = torch.zeros(3, 1, requires_grad=True)
    opt = Adagrad([p], lr=1.0)
    # two entries for row 0 (values 1 and 2) and one for row 2
    p.grad = torch.sparse_coo_tensor([[0, 0, 2]], torch.tensor([[1.0], [2.0], [4.0]]), (3, 1))
    opt.step()
    assert opt.state[p]["sum"].flatten().tolist() == [9.0, 0.0, 16.0]  # (1 + 2)^2, not 1 + 4


def test_sparse_with_weight_decay_raises_clearly():
    emb = torch.nn.Embedding(5, 3, sparse=True)
    opt = Adagrad(emb.parameters(), lr=0.1, weight_decay=0.1)
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="Adagrad.*sparse.*weight_decay"):
        opt.step()


@pytest.mark.parametrize("kw,name", [(dict(lr=-1.0), "lr"), (dict(lr_decay=-0.1), "lr_decay"),
                                      (dict(eps=-1.0), "eps"),
                                      (dict(weight_decay=-1.0), "weight_decay"),
                                      (dict(initial_accumulator_value=-1.0),
                                       "initial_accumulator_value"),
                                      (dict(foreach=True), "foreach"),
                                      (dict(fused=True), "fused"),
                                      (dict(differentiable=True), "differentiable")])
def test_bad_arguments(kw, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        Adagrad([torch.zeros(2, requires_grad=True)], **kw)


# ---------------------------------------------------------------- the chapter's formulas

def _run(grads, **kw):
    """Parameters after each step for a sequence of gradients (rows of `grads`)."""
    theta = torch.zeros(grads.shape[1], dtype=torch.float64, requires_grad=True)
    opt = Adagrad([theta], **kw)
    path = []
    for g in grads:
        theta.grad = g.clone()
        opt.step()
        path.append(theta.detach().clone())
    return torch.stack(path), opt, theta


def test_first_step_is_a_sign_step():
    g = torch.tensor([[1e-4, -3.0, 250.0, -0.02]], dtype=torch.float64)
    path, _, _ = _run(g, lr=0.1)
    assert torch.allclose(path[0], -0.1 * g[0].sign(), rtol=1e-5, atol=0)
    # with G_0 = v the first step is -lr * g / sqrt(v + g^2)
    path, _, _ = _run(g, lr=0.1, initial_accumulator_value=0.5)
    expected = -0.1 * g[0] / ((0.5 + g[0] ** 2).sqrt() + 1e-10)
    assert torch.allclose(path[0], expected, rtol=1e-12, atol=0)


def test_scale_invariance_per_coordinate():
    gen = torch.Generator().manual_seed(0)
    g = torch.randn(100, 3, dtype=torch.float64, generator=gen)
    scale = torch.tensor([1.0, 1e-3, 1e3], dtype=torch.float64)
    a, _, _ = _run(g, lr=0.1, eps=0.0)
    b, _, _ = _run(g * scale, lr=0.1, eps=0.0)
    assert torch.allclose(a, b, rtol=1e-12, atol=1e-15)


def test_constant_gradient_steps_shrink_like_inverse_sqrt_t():
    steps, lr = 400, 0.1
    g = torch.full((steps, 2), 3.0, dtype=torch.float64)
    g[:, 1] = -0.5
    path, _, _ = _run(g, lr=lr)
    moves = torch.diff(torch.cat([torch.zeros(1, 2, dtype=torch.float64), path]), dim=0)
    t = torch.arange(1, steps + 1, dtype=torch.float64)
    assert torch.allclose(moves[:, 0], -lr / t.sqrt(), rtol=1e-9, atol=0)
    assert torch.allclose(moves[:, 1], lr / t.sqrt(), rtol=1e-9, atol=0)
    # total distance ~ 2 lr sqrt(T): Euler-Maclaurin gives the partial sum of t^-1/2 as
    # 2 sqrt(T) + zeta(1/2) + 1 / (2 sqrt(T)) + O(T^-3/2)
    travelled = path[-1, 1].item()
    root = math.sqrt(steps)
    assert travelled == pytest.approx(lr * (2 * root - 1.4603545088 + 0.5 / root), rel=1e-6)


def test_stationary_gradients_effective_lr_is_lr_over_sigma_sqrt_t():
    steps, lr = 4000, 0.1
    gen = torch.Generator().manual_seed(0)
    sigma = torch.tensor([1.0, 0.01, 1.0], dtype=torch.float64)
    prob = torch.tensor([1.0, 1.0, 0.1], dtype=torch.float64)
    g = torch.randn(steps, 3, dtype=torch.float64, generator=gen) * sigma
    g = g * (torch.rand(steps, 3, dtype=torch.float64, generator=gen) < prob)
    _, opt, theta = _run(g, lr=lr, eps=0.0)
    effective = lr / opt.state[theta]["sum"].sqrt()
    predicted = lr / (sigma * (prob * steps).sqrt())
    # G_T / T is a mean of T (or pT) squared normals: relative sd sqrt(2 / n) / 2 for the root
    n = prob * steps
    tol = 4 * (2 / n).sqrt() / 2
    assert ((effective / predicted - 1).abs() < tol).all(), (effective / predicted, tol)


def test_lr_decay_closed_form():
    steps, lr, delta = 50, 0.2, 0.3
    g = torch.full((steps, 1), 2.0, dtype=torch.float64)
    path, _, _ = _run(g, lr=lr, lr_decay=delta)
    moves = -torch.diff(torch.cat([torch.zeros(1, 1, dtype=torch.float64), path]), dim=0)[:, 0]
    t = torch.arange(1, steps + 1, dtype=torch.float64)
    assert torch.allclose(moves, lr / (1 + (t - 1) * delta) / t.sqrt(), rtol=1e-9, atol=0)


def test_sqrt_scale_minimises_the_duchi_objective():
    # min sum_i G_i / s_i subject to sum_i s_i = c is at s_i proportional to sqrt(G_i).
    gen = torch.Generator().manual_seed(0)
    G = torch.rand(6, dtype=torch.float64, generator=gen) * 10 + 0.1
    c = 3.0
    s_star = c * G.sqrt() / G.sqrt().sum()
    best = (G / s_star).sum()
    for _ in range(200):
        s = s_star * torch.exp(0.3 * torch.randn(6, dtype=torch.float64, generator=gen))
        s = c * s / s.sum()  # stay on the budget
        assert (G / s).sum() >= best
    assert best == pytest.approx(G.sqrt().sum().item() ** 2 / c, rel=1e-12)
