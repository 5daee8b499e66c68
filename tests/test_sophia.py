"""Sophia-G: parity with the authors' code (`sophia-opt==0.2.2`) and labml_nn's Sophia, the
clipped Newton step, the GNB estimator's unbiasedness, and the training-loop helper.

torch has no Sophia; `sophia_opt.SophiaG` is the authors' implementation packaged for pip,
and `labml_nn.optimizers.sophia.Sophia` a second one. Both are test dependencies: an
import failing fails these tests.
"""

from __future__ import annotations

import copy
import math

import pytest
import sophia_opt
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from labml_nn.optimizers import WeightDecay
from labml_nn.optimizers.sophia import Sophia as LabmlSophia
from support.optim_harness import (
    assert_same_state,
    bind,
    check_complex_matches_real_view,
    check_state_dict_both_ways,
    clone_params,
    make_gradients,
    make_params,
)

from labml_optim.sophia import (
    SophiaG,
    exact_hessian_diagonal,
    gnb_samples,
    gnb_update,
    newton_step_double_well,
    sophia_g_train_step,
    sophia_step_size,
    train_curves,
)


def run(opt, params, grads, hessian_grads, *, every: int, bs: int, labml: bool = False):
    """Step on `grads`; after every `every`-th step fold `hessian_grads` into h."""
    for t, (g, hg) in enumerate(zip(grads, hessian_grads, strict=True), start=1):
        for p, gi in zip(params, g, strict=True):
            p.grad = None if gi is None else gi.clone()
        if labml:
            opt.step()
        else:
            opt.step(bs=bs)
        if t % every == 0:
            for p, gi in zip(params, hg, strict=True):
                p.grad = None if gi is None else gi.clone()
            if labml:
                opt.update_hessian(bs)
            else:
                opt.update_hessian()
        yield t


# ## Bitwise parity with the authors' SophiaG

hyper = st.fixed_dictionaries({
    "lr": st.sampled_from([1e-4, 1e-2, 0.3]),
    "betas": st.tuples(st.sampled_from([0.0, 0.9, 0.965]), st.sampled_from([0.9, 0.99])),
    "rho": st.sampled_from([0.0, 0.01, 0.04, 1.0]),
    "weight_decay": st.sampled_from([0.0, 0.1]),
    "maximize": st.booleans(),
})


def parity(kw: dict, *, dtype=torch.float32, steps: int = 40, every: int = 3, bs: int = 64,
           scale: float = 1.0) -> None:
    params = make_params(dtype=dtype)
    grads = make_gradients(params, steps, scale=scale)
    hessian_grads = make_gradients(params, steps, seed=7, scale=scale)
    a, b = clone_params(params), clone_params(params)
    ours, theirs = SophiaG(a, **kw), sophia_opt.SophiaG(b, **kw)
    for t, _ in zip(run(ours, a, grads, hessian_grads, every=every, bs=bs),
                    run(theirs, b, grads, hessian_grads, every=every, bs=bs), strict=True):
        assert_same_state(ours, a, theirs, b, where=f"step {t}: ")


@settings(max_examples=20, deadline=None)
@given(kw=hyper, bs=st.sampled_from([1, 64, 5120]), every=st.sampled_from([1, 3, 10]))
def test_bitwise_equal_to_the_authors_code_float32(kw: dict, bs: int, every: int) -> None:
    parity(kw, bs=bs, every=every)


@settings(max_examples=5, deadline=None)
@given(kw=hyper)
def test_bitwise_equal_to_the_authors_code_float64(kw: dict) -> None:
    parity(kw, dtype=torch.float64)


def test_defaults_and_default_bs_match() -> None:
    # Small gradients, so that the default rho * 5120 * h makes some coordinates unclipped.
    parity({}, bs=5120, scale=1e-3)
    params = make_params()
    grads = make_gradients(params, 10)
    a, b = clone_params(params), clone_params(params)
    ours, theirs = SophiaG(a), sophia_opt.SophiaG(b)
    for g in grads:
        for p, q, gi in zip(a, b, g, strict=True):
            p.grad = q.grad = None if gi is None else gi.clone()
        ours.update_hessian()
        theirs.update_hessian()
        ours.step()
        theirs.step()
        assert_same_state(ours, a, theirs, b)


def test_complex_parameters() -> None:
    kw = dict(lr=0.01, rho=0.05, weight_decay=0.1)
    params = make_params(complex_=True)
    grads = make_gradients(params, 20)
    a, b = clone_params(params), clone_params(params)
    ours, theirs = SophiaG(a, **kw), sophia_opt.SophiaG(b, **kw)
    # The authors' update_hessian squares the complex gradient itself (g * g, not |g|^2
    # per real coordinate), so their h is not comparable: steps only, h left at zero.
    for g in grads:
        for p, q, gi in zip(a, b, g, strict=True):
            p.grad = q.grad = None if gi is None else gi.clone()
        ours.step(bs=8)
        theirs.step(bs=8)
        assert_same_state(ours, a, theirs, b)
    check_complex_matches_real_view(bind(SophiaG)(**kw))


def test_state_dict_moves_both_ways() -> None:
    kw = dict(lr=0.01, rho=0.05, weight_decay=0.1)
    check_state_dict_both_ways(bind(SophiaG)(**kw), bind(sophia_opt.SophiaG)(**kw))


def test_old_state_dict_with_plain_number_step_loads() -> None:
    p = torch.nn.Parameter(torch.ones(3))
    opt = SophiaG([p], lr=0.1)
    p.grad = torch.ones(3)
    opt.step()
    saved = copy.deepcopy(opt.state_dict())
    saved["state"][0]["step"] = 1
    for key in ("maximize", "capturable", "foreach"):
        saved["param_groups"][0].pop(key)
    fresh = SophiaG([torch.nn.Parameter(torch.ones(3))])
    fresh.load_state_dict(saved)
    step = next(iter(fresh.state.values()))["step"]
    assert isinstance(step, torch.Tensor) and step.item() == 1.0
    assert fresh.param_groups[0]["maximize"] is False


# ## labml_nn's Sophia: the same update, B applied in update_hessian


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_labml_nn_agrees_to_rounding(dtype: torch.dtype) -> None:
    # labml: (lr / rho) * clamp(m / (h' + eps), -rho, rho) with h' = EMA(B g^2); ours:
    # lr * sign(m) * min(|m| / (rho B h + 1e-15), 1) with h = EMA(g^2). Equal when
    # eps = 1e-15 / rho; the operations differ in order (division by rho, B inside the
    # average), so 1e-5 relative in float32 and 1e-12 in float64.
    lr, rho, wd, bs, betas = 0.01, 0.05, 0.1, 32, (0.9, 0.95)
    params = make_params(dtype=dtype)
    grads = make_gradients(params, 30, scale=0.05)
    hessian_grads = make_gradients(params, 30, seed=9)
    a, b = clone_params(params), clone_params(params)
    ours = SophiaG(a, lr=lr, betas=betas, rho=rho, weight_decay=wd)
    theirs = LabmlSophia(b, lr=lr, betas=betas, rho=rho, eps=1e-15 / rho,
                         weight_decay=WeightDecay(wd))
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    for _ in zip(run(ours, a, grads, hessian_grads, every=2, bs=bs),
                 run(theirs, b, grads, hessian_grads, every=2, bs=bs, labml=True), strict=True):
        for pa, pb in zip(a, b, strict=True):
            torch.testing.assert_close(pa.detach(), pb.detach(), rtol=tol, atol=tol)
            sa, sb = ours.state.get(pa, {}), theirs.state.get(pb, {})
            if "hessian" in sa:
                torch.testing.assert_close(bs * sa["hessian"], sb["hessian"], rtol=tol, atol=tol)


# ## The clipped Newton step


def test_two_regimes_and_the_bound() -> None:
    lr, rho, bs = 0.1, 0.5, 4
    gen = torch.Generator().manual_seed(0)
    m = torch.randn(1000, generator=gen, dtype=torch.float64)
    h = torch.rand(1000, generator=gen, dtype=torch.float64) * 2
    p = torch.nn.Parameter(torch.zeros(1000, dtype=torch.float64))
    opt = SophiaG([p], lr=lr, betas=(0.0, 0.9), rho=rho, weight_decay=0.0)
    opt.state[p].update(step=torch.tensor(0.0), exp_avg=torch.zeros_like(p), hessian=h.clone())
    p.grad = m.clone()
    opt.step(bs=bs)
    step = -p.detach()
    newton = lr / rho * m / (bs * h)
    unclipped = m.abs() <= rho * bs * h
    assert unclipped.any() and (~unclipped).any()
    torch.testing.assert_close(step[unclipped], newton[unclipped], rtol=1e-12, atol=0)
    torch.testing.assert_close(step[~unclipped], lr * m.sign()[~unclipped], rtol=0, atol=0)
    assert (step.abs() <= lr).all() and (step * m >= 0).all()
    for mi, hi, si in zip(m[:20].tolist(), h[:20].tolist(), step[:20].tolist(), strict=True):
        assert sophia_step_size(mi, hi, lr=lr, rho=rho, bs=bs) == pytest.approx(abs(si))


def test_lr_equal_rho_without_momentum_is_newton_on_a_quadratic() -> None:
    # f(theta) = sum h_i theta_i^2 / 2; with h estimated exactly (beta2 = 0, B = 1, the
    # "gradient on sampled labels" set to sqrt(h)), one step lands on the minimum where
    # |theta_i| <= rho, and moves exactly lr elsewhere.
    rho = 0.5
    curv = torch.tensor([0.1, 1.0, 10.0, 100.0], dtype=torch.float64)
    theta0 = torch.tensor([0.3, -0.4, 0.45, 2.0], dtype=torch.float64)
    p = torch.nn.Parameter(theta0.clone())
    opt = SophiaG([p], lr=rho, betas=(0.0, 0.0), rho=rho, weight_decay=0.0)
    p.grad = curv.sqrt()
    opt.update_hessian()
    torch.testing.assert_close(opt.state[p]["hessian"], curv)
    p.grad = curv * theta0
    opt.step(bs=1)
    torch.testing.assert_close(p.detach()[:3], torch.zeros(3, dtype=torch.float64),
                               rtol=0, atol=1e-13)  # the 1e-15 in the denominator
    assert p.detach()[3].item() == pytest.approx(2.0 - rho)


def test_negative_curvature_newton_goes_uphill_sophia_does_not() -> None:
    # f = theta^4/4 - theta^2/2 at theta = 0.3: f'' = -0.73, Newton goes to -0.074,
    # towards the local maximum at 0 (f rises); Sophia's step follows -sign(m).
    theta = 0.3
    assert 3 * theta**2 - 1 == pytest.approx(-0.73)
    newton = newton_step_double_well(theta)
    assert newton == pytest.approx(0.3 - 0.273 / 0.73) and round(newton, 3) == -0.074

    def f(x: float) -> float:
        return x**4 / 4 - x**2 / 2

    assert f(newton) > f(theta)
    p = torch.nn.Parameter(torch.tensor([theta], dtype=torch.float64))
    opt = SophiaG([p], lr=0.1, betas=(0.0, 0.99), rho=0.04, weight_decay=0.0)
    for _ in range(5):
        p.grad = torch.tensor([p.item() ** 3 - p.item()], dtype=torch.float64)
        gnb_like = p.grad.clone()  # any estimate that is a square is >= 0
        opt.step(bs=1)
        p.grad = gnb_like
        opt.update_hessian()
        assert opt.state[p]["hessian"].item() >= 0
    assert p.item() > theta and f(p.item()) < f(theta)


# ## Gauss-Newton-Bartlett: Monte Carlo against the exact Hessian


def softmax_problem(seed: int = 0, batch: int = 6, features: int = 3, classes: int = 4):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, features, generator=gen, dtype=torch.float64)
    w = torch.randn(classes, features, generator=gen, dtype=torch.float64)
    y = torch.randint(0, classes, (batch,), generator=gen)
    return x, w, y


def test_bartlett_identities_for_sampled_labels() -> None:
    gen = torch.Generator().manual_seed(1)
    p = torch.softmax(torch.randn(5, dtype=torch.float64, generator=gen), -1)
    draws = 400_000
    e = torch.nn.functional.one_hot(torch.multinomial(p, draws, replacement=True, generator=gen),
                                    5).to(p)
    residual = p - e
    # E[p - e] = 0 and E[(p - e)(p - e)^T] = diag(p) - p p^T, to 5 standard errors.
    se = residual.std(0) / math.sqrt(draws)
    assert (residual.mean(0).abs() < 5 * se).all()
    outer = torch.einsum("ni,nj->nij", residual, residual)
    target = torch.diag(p) - torch.outer(p, p)
    se2 = outer.std(0) / math.sqrt(draws)
    assert ((outer.mean(0) - target).abs() < 5 * se2 + 1e-12).all()


def test_gnb_is_unbiased_for_the_hessian_diagonal_of_softmax_regression() -> None:
    x, w, y = softmax_problem()

    def loss(weight: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(x @ weight.T, y)

    exact = exact_hessian_diagonal(loss, w)
    # The Hessian of cross-entropy does not depend on the labels: relabelled, the same.
    y2 = (y + 1) % 4
    relabelled = exact_hessian_diagonal(
        lambda weight: torch.nn.functional.cross_entropy(x @ weight.T, y2), w)
    torch.testing.assert_close(exact, relabelled, rtol=1e-12, atol=1e-14)

    draws = 100_000
    samples = gnb_samples(w, x, draws, generator=torch.Generator().manual_seed(3))
    assert (samples >= 0).all()
    mean, se = samples.mean(0), samples.std(0) / math.sqrt(draws)
    assert ((mean - exact).abs() < 5 * se).all(), (mean, exact, se)
    # ... and not by accident: a single draw is far from it, and the mean is within 2 %.
    assert ((samples[0] - exact).abs() > 10 * se).any()
    torch.testing.assert_close(mean, exact, rtol=0.02, atol=0)


def test_gnb_update_through_autograd_matches_the_closed_form() -> None:
    # gnb_update (sampled labels, backward, update_hessian) on nn.Linear without bias equals
    # the closed form of gnb_samples with the same random labels.
    x, w, _ = softmax_problem()
    model = torch.nn.Linear(3, 4, bias=False, dtype=torch.float64)
    with torch.no_grad():
        model.weight.copy_(w)
    opt = SophiaG(model.parameters(), betas=(0.9, 0.0))
    gnb_update(opt, lambda: model(x), generator=torch.Generator().manual_seed(5))
    assert model.weight.grad is None
    h = opt.state[model.weight]["hessian"]
    # bs * hessian is the GNB estimate B * g_hat^2 (beta2 = 0 keeps only the new sample)
    expected = gnb_samples(w, x, 1, generator=torch.Generator().manual_seed(5))[0]
    torch.testing.assert_close(x.shape[0] * h, expected, rtol=1e-10, atol=1e-14)


# ## The training-loop helper


def test_the_helper_refreshes_every_k_steps() -> None:
    x = torch.randn(32, 5, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 3, (32,), generator=torch.Generator().manual_seed(1))
    model = torch.nn.Linear(5, 3)
    opt = SophiaG(model.parameters(), lr=0.05, rho=0.05, weight_decay=0.0)
    refreshed = []
    for it in range(20):
        before = opt.state[model.weight].get("hessian")
        before = None if before is None else before.clone()
        sophia_g_train_step(opt, lambda: model(x), y, it, k=10,
                            generator=torch.Generator().manual_seed(it))
        after = opt.state[model.weight]["hessian"]
        refreshed.append(before is None and bool(after.any()) or
                         (before is not None and not torch.equal(before, after)))
    assert [i for i, r in enumerate(refreshed) if r] == [9, 19]
    # After a refresh no sampled-label gradient is left behind for the next step.
    assert model.weight.grad is None


def test_main_training_curves_go_down_with_both() -> None:
    curves = train_curves(steps=120)
    for name in ("AdamW", "Sophia-G"):
        assert curves[name][-1] < 0.7 * curves[name][0], name


# ## torch.optim behaviour


def test_a_sparse_gradient_anywhere_changes_nothing() -> None:
    dense, sparse = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(4, 2))
    opt = SophiaG([{"params": [dense]}, {"params": [sparse]}], lr=0.1)
    dense.grad = torch.ones(3)
    sparse.grad = torch.sparse_coo_tensor([[1, 3]], torch.ones(2, 2), (4, 2))
    for call in (opt.step, opt.update_hessian):
        with pytest.raises(RuntimeError, match="SophiaG.*sparse"):
            call()
        assert torch.equal(dense.detach(), torch.ones(3)) and len(opt.state) == 0


def test_bad_bs_changes_nothing() -> None:
    p = torch.nn.Parameter(torch.ones(3))
    opt = SophiaG([p], lr=0.1)
    p.grad = torch.ones(3)
    with pytest.raises(ValueError, match="^bs"):
        opt.step(bs=0)
    assert torch.equal(p.detach(), torch.ones(3)) and len(opt.state) == 0


@pytest.mark.parametrize(("kw", "pattern"), [
    ({"lr": -1.0}, "^lr"), ({"rho": -0.1}, "^rho"), ({"weight_decay": -1.0}, "^weight_decay"),
    ({"betas": (1.0, 0.9)}, r"^betas\[0\]"), ({"betas": (0.9, -0.1)}, r"^betas\[1\]"),
    ({"capturable": True}, "^capturable"), ({"foreach": True}, "^foreach"),
])
def test_bad_arguments_name_themselves(kw: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        SophiaG([torch.nn.Parameter(torch.ones(2))], **kw)


def test_compiled_step_equals_eager() -> None:
    # fullgraph=True: a graph break anywhere in the step is an error. Inductor may fuse the
    # ratio and the update and round differently: 1e-6 relative. A fresh dynamo cache, so
    # that other compiled optimizers in the process do not count against its limit.
    torch._dynamo.reset()
    kw = dict(lr=0.01, rho=0.05, weight_decay=0.1)
    params = [p for p in make_params() if p.numel()][:2]
    grads = make_gradients(params, 8)
    a, b = clone_params(params), clone_params(params)
    eager, compiled = SophiaG(a, **kw), SophiaG(b, **kw)
    step = torch.compile(compiled.step, fullgraph=True)
    for t, g in enumerate(grads):
        for pa, pb, gi in zip(a, b, g, strict=True):
            pa.grad = None if gi is None else gi.clone()
            pb.grad = None if gi is None else gi.clone()
        if t % 3 == 0:
            eager.update_hessian()
            compiled.update_hessian()
        eager.step(bs=16)
        step(bs=16)
        assert_same_state(eager, a, compiled, b, exact=False, atol=1e-6)
