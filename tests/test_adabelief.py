"""AdaBelief: where it meets adabelief-pytorch, the chapter's formulas, and labml_nn's version.

Parity with adabelief_pytorch.AdaBelief (bitwise in both dtypes, state dicts both ways,
groups) is in test_parity.py, in its table of chapters held to their authors' packages.
"""

from __future__ import annotations

import contextlib
import io
import math

import adabelief_pytorch
import pytest
import torch
from support.optim_harness import (
    apply_step,
    assert_same_state,
    bind,
    check_complex_matches_real_view,
    check_parity,
    check_state_dict_transfer,
    clone_params,
    make_gradients,
    make_params,
)
from support.references import adabelief as reference

from labml_optim.adabelief import (
    AdaBelief,
    constant_gradient_step,
    epsilon_floor,
    measure_constant_gradient_steps,
    measure_step_rms,
    steady_step_rms,
)

ours = bind(AdaBelief)

# ## Where it meets adabelief_pytorch.AdaBelief


def test_step_counts_agree() -> None:
    params = make_params()
    grads = make_gradients(params, 12)
    a, b = clone_params(params), clone_params(params)
    opt_a, opt_b = ours(lr=0.01)(a), reference(lr=0.01)(b)
    for g in grads:
        apply_step(opt_a, a, g)
        apply_step(opt_b, b, g)
    for pa, pb in zip(a, b, strict=True):
        if pa in opt_a.state:
            assert opt_a.state[pa]["step"].item() == opt_b.state[pb]["step"]


def test_tiny_and_large_gradients() -> None:
    for scale in (1e-6, 1e3):
        check_parity(ours(lr=0.01), reference(lr=0.01), steps=30, grad_scale=scale,
                     state_keys=["exp_avg", "exp_avg_var"])


def test_reference_defaults_are_not_ours() -> None:
    # Its defaults rectify and decouple the decay; ours are torch's Adam-like choices.
    p = [torch.nn.Parameter(torch.ones(2))]
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        theirs = adabelief_pytorch.AdaBelief(p)
    assert theirs.rectify is True and theirs.weight_decouple is True
    assert theirs.fixed_decay is False and theirs.degenerated_to_sgd is True
    assert theirs.defaults["eps"] == 1e-16 and theirs.defaults["amsgrad"] is False
    assert "Rectification enabled" in printed.getvalue()
    mine = AdaBelief(p)
    assert mine.defaults["eps"] == 1e-16 and mine.defaults["amsgrad"] is False
    assert mine.defaults["decoupled_weight_decay"] is False
    # ... and with its defaults the reference takes other steps (rectified: momentum-SGD
    # steps while rho_t < 5, then r_t times ours).
    with contextlib.redirect_stdout(io.StringIO()):
        factory = lambda q: adabelief_pytorch.AdaBelief(q, lr=0.01)  # noqa: E731
        with pytest.raises(AssertionError):
            check_parity(ours(lr=0.01), factory, steps=3, state_keys=["exp_avg"])


def test_reference_fixed_decay_is_decoupled_decay_divided_by_lr() -> None:
    # fixed_decay=True multiplies by 1 - wd; ours with wd / lr, lr a power of two, is exact.
    lr, wd = 2.0**-6, 0.1
    fixed = reference(lr=lr, weight_decay=wd, decoupled_weight_decay=True, fixed_decay=True)
    check_parity(ours(lr=lr, weight_decay=wd / lr, decoupled_weight_decay=True), fixed,
                 steps=20, state_keys=["exp_avg", "exp_avg_var"])
    # ... and it does differ from the unfixed decay.
    with pytest.raises(AssertionError):
        check_parity(ours(lr=lr, weight_decay=wd, decoupled_weight_decay=True), fixed,
                     steps=5, state_keys=["exp_avg", "exp_avg_var"])


def test_rectified_reference_without_sgd_takes_no_step_at_first() -> None:
    p = [torch.nn.Parameter(torch.ones(3))]
    p[0].grad = torch.full((3,), 0.5)
    with contextlib.redirect_stdout(io.StringIO()):
        opt = adabelief_pytorch.AdaBelief(p, lr=0.1, degenerated_to_sgd=False,
                                          print_change_log=False)
    opt.step()
    assert torch.equal(p[0].detach(), torch.ones(3))


def test_l2_mode_leaves_the_callers_gradient_alone() -> None:
    p = torch.nn.Parameter(torch.ones(3))
    g = torch.full((3,), 0.5)
    p.grad = g.clone()
    AdaBelief([p], lr=0.1, weight_decay=0.3).step()
    assert torch.equal(p.grad, g)
    # The reference adds the decay to p.grad in place.
    q = torch.nn.Parameter(torch.ones(3))
    q.grad = g.clone()
    reference(lr=0.1, weight_decay=0.3)([q]).step()
    assert torch.equal(q.grad, g + 0.3)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_complex_parameters_are_their_real_view(amsgrad: bool) -> None:
    check_complex_matches_real_view(ours(lr=0.01, amsgrad=amsgrad, weight_decay=0.1,
                                         decoupled_weight_decay=True))


@pytest.mark.parametrize("amsgrad", [False, True])
def test_state_dict_brings_its_own_hyperparameters(amsgrad: bool) -> None:
    kw = dict(lr=0.01, amsgrad=amsgrad, weight_decay=0.05)
    check_state_dict_transfer(ours(**kw), ours(lr=0.5))


def test_reference_state_dict_keeps_our_own_flags() -> None:
    # A reference state dict has no decoupled_weight_decay key: the loading optimizer's
    # own setting fills it in.
    p = [torch.nn.Parameter(torch.ones(3))]
    theirs = reference(lr=0.01)(p)
    p[0].grad = torch.ones(3)
    theirs.step()
    mine = AdaBelief([torch.nn.Parameter(torch.ones(3))], decoupled_weight_decay=True)
    mine.load_state_dict(theirs.state_dict())
    group = mine.param_groups[0]
    assert group["decoupled_weight_decay"] is True and group["maximize"] is False
    state = next(iter(mine.state.values()))
    assert isinstance(state["step"], torch.Tensor) and state["step"].dtype == torch.float32


def test_maximize_is_minimizing_the_negated_gradient() -> None:
    # The gradient is negated before the L2 term is added, as in torch.
    params = make_params()
    grads = make_gradients(params, 20)
    for decoupled in (False, True):
        kw = dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=decoupled)
        a, b = clone_params(params), clone_params(params)
        opt_a, opt_b = AdaBelief(a, maximize=True, **kw), AdaBelief(b, **kw)
        for g in grads:
            apply_step(opt_a, a, g)
            apply_step(opt_b, b, [None if x is None else -x for x in g])
        for x, y in zip(a, b, strict=True):
            assert torch.equal(x, y)


# ## Errors, failing steps, compile


@pytest.mark.parametrize(("kw", "pattern"), [
    (dict(lr=-1e-3), "^lr must be >= 0"),
    (dict(eps=-1e-16), "^eps must be >= 0"),
    (dict(weight_decay=-0.1), "^weight_decay must be >= 0"),
    (dict(betas=(1.0, 0.999)), r"^betas\[0\] must be in \[0, 1\)"),
    (dict(betas=(0.9, 1.0)), r"^betas\[1\] must be in \[0, 1\)"),
    (dict(betas=(0.9, 0.99, 0.9)), "^betas must be a pair"),
    (dict(foreach=True), "^foreach=True is not supported"),
])
def test_bad_arguments_name_themselves(kw: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        AdaBelief([torch.nn.Parameter(torch.ones(2))], **kw)


def test_a_failing_step_changes_nothing() -> None:
    dense = torch.nn.Parameter(torch.ones(3))
    sparse = torch.nn.Parameter(torch.ones(4, 2))
    opt = AdaBelief([{"params": [dense]}, {"params": [sparse]}], lr=0.1)
    dense.grad = torch.ones(3)
    sparse.grad = torch.sparse_coo_tensor([[1]], torch.ones(1, 2), (4, 2))
    with pytest.raises(RuntimeError, match="AdaBelief does not support sparse"):
        opt.step()
    assert torch.equal(dense.detach(), torch.ones(3)) and len(opt.state) == 0


def test_compiled_step_equals_eager() -> None:
    # Under compile the step count stays a tensor, so the bias corrections are float32
    # tensor arithmetic rather than float64 numbers, and Inductor fuses the moment
    # updates: results agree to 1e-6, not bitwise.
    torch._dynamo.reset()
    params = [p for p in make_params() if p.numel()]
    grads = make_gradients(params, 8)
    kw = dict(lr=0.01, weight_decay=0.1, amsgrad=True)
    a, b = clone_params(params), clone_params(params)
    opt_a, opt_b = AdaBelief(a, **kw), AdaBelief(b, **kw)
    compiled = torch.compile(opt_b.step)
    for g in grads:
        for ps in (a, b):
            for p, x in zip(ps, g, strict=True):
                p.grad = None if x is None else x.clone()
        opt_a.step()
        compiled()
        assert_same_state(opt_a, a, opt_b, b, exact=False, atol=1e-6)
    torch._dynamo.reset()
    explained = torch._dynamo.explain(opt_b.step)()
    assert explained.graph_break_count == 0, explained.break_reasons


# ## The epsilon inside the average


@pytest.mark.parametrize("eps", [1e-16, 1e-8, 1e-3])
def test_epsilon_accumulates_to_exactly_eps_over_one_minus_beta2(eps: float) -> None:
    beta2 = 0.999
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = AdaBelief([p], lr=1.0, betas=(0.9, beta2), eps=eps)
    for t in range(1, 301):
        p.grad = torch.zeros(3, dtype=torch.float64)
        opt.step()
        s = opt.state[p]["exp_avg_var"]
        # s_t = eps (1 - beta2^t) / (1 - beta2), so s_hat = eps / (1 - beta2) at every t.
        torch.testing.assert_close(s, torch.full_like(s, eps * (1 - beta2**t) / (1 - beta2)),
                                   rtol=1e-12, atol=0)
        s_hat = s / (1 - beta2**t)
        torch.testing.assert_close(s_hat.sqrt(), torch.full_like(s, epsilon_floor(eps, beta2)),
                                   rtol=1e-12, atol=0)
    assert torch.equal(p.detach(), torch.zeros(3, dtype=torch.float64))


def test_floors_quoted_in_the_chapter() -> None:
    assert epsilon_floor(1e-16, 0.999) == pytest.approx(3.2e-7, rel=0.02)
    assert epsilon_floor(1e-8, 0.999) == pytest.approx(3.2e-3, rel=0.02)
    assert math.sqrt(1 - 0.999) == pytest.approx(0.03, rel=0.06)


def test_large_eps_makes_it_momentum_sgd_where_gradients_are_small() -> None:
    # With eps = 1e-8 and gradients scattering by 1e-4, the denominator is the floor
    # sqrt(eps / (1 - beta2)) for every coordinate: the step is lr * m_hat / floor.
    gen = torch.Generator().manual_seed(0)
    p = torch.zeros(50, dtype=torch.float64, requires_grad=True)
    opt = AdaBelief([p], lr=1.0, eps=1e-8)
    for _ in range(200):
        p.detach().zero_()
        p.grad = 1e-4 * torch.randn(50, generator=gen, dtype=torch.float64)
        opt.step()
    m_hat = opt.state[p]["exp_avg"] / (1 - 0.9**200)
    sgd_like = -m_hat / (epsilon_floor(1e-8, 0.999) + 1e-8)
    torch.testing.assert_close(p.detach(), sgd_like, rtol=0.01, atol=0)


def test_beta1_zero_is_sgd_with_a_fixed_step() -> None:
    # beta1 = 0: m_t = g_t, the residual is 0, and only eps is left in s_t.
    eps, beta2, lr = 1e-12, 0.99, 0.01
    params = make_params(dtype=torch.float64)
    grads = make_gradients(params, 20)
    a, b = clone_params(params), clone_params(params)
    opt_a = AdaBelief(a, lr=lr, betas=(0.0, beta2), eps=eps)
    opt_b = torch.optim.SGD(b, lr=lr / (epsilon_floor(eps, beta2) + eps))
    for g in grads:
        apply_step(opt_a, a, g)
        apply_step(opt_b, b, g)
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-10, atol=1e-12)


# ## Consistent and noisy gradients


def test_residual_variance_and_step_sizes_by_monte_carlo() -> None:
    beta1 = 0.9
    assert 2 * beta1**2 / (1 + beta1) == pytest.approx(0.8526, abs=1e-4)
    assert math.sqrt(2 * beta1**2 / (1 + beta1)) == pytest.approx(0.923, abs=5e-4)
    assert steady_step_rms(0.0, beta1, belief=False) == pytest.approx(0.229, abs=5e-4)
    assert steady_step_rms(0.0, beta1, belief=True) == pytest.approx(0.248, abs=5e-4)
    # The residual's mean square: measured on the optimizer's own m_t (eps = 0).
    gen = torch.Generator().manual_seed(1)
    n = 4000
    p = torch.zeros(n, dtype=torch.float64, requires_grad=True)
    opt = AdaBelief([p], lr=0.0, eps=0.0, betas=(beta1, 0.999))
    squares = []
    for t in range(300):
        g = 0.7 + 2.0 * torch.randn(n, generator=gen, dtype=torch.float64)
        p.grad = g
        opt.step()
        if t >= 100:
            squares.append((g - opt.state[p]["exp_avg"]).pow(2).mean().item())
    assert sum(squares) / len(squares) == pytest.approx(0.8526 * 4.0, rel=0.01)
    # The step sizes of both optimizers against the formulas. At SNR 3 the start-up
    # residuals (m_t still climbing to mu) stay in s_t for ~1/(1 - beta2) steps and
    # lower AdaBelief's measured step by ~2 %, hence the wider tolerance there.
    snr = torch.tensor([0.0, 1.0, 3.0], dtype=torch.float64).repeat_interleave(1500)
    for belief, make in ((False, lambda q: torch.optim.Adam(q, lr=1.0, eps=0.0)),
                         (True, lambda q: AdaBelief(q, lr=1.0, eps=0.0))):
        rms = measure_step_rms(make, snr, steps=700, burn_in=350).view(3, -1)
        rms = rms.pow(2).mean(1).sqrt().tolist()
        for x, measured, tol in zip((0.0, 1.0, 3.0), rms, (0.015, 0.015, 0.05), strict=True):
            assert measured == pytest.approx(steady_step_rms(x, beta1, belief=belief), rel=tol)


def test_constant_gradient_step_matches_the_closed_form() -> None:
    for eps in (1e-16, 1e-8):
        sizes = measure_constant_gradient_steps(lambda p, e=eps: AdaBelief(p, lr=1.0, eps=e),
                                                2.0, 1000)
        for t in (1, 2, 10, 100, 1000):
            assert sizes[t - 1] == pytest.approx(
                constant_gradient_step(t, 2.0, (0.9, 0.999), eps), rel=1e-9)
    # Quoted: about 5 at t = 100 and 20 at t = 1000; the floors 1/sqrt(eps/(1-beta2)).
    assert constant_gradient_step(100, 1.0, (0.9, 0.999), 1e-16) == pytest.approx(5, rel=0.05)
    assert constant_gradient_step(1000, 1.0, (0.9, 0.999), 1e-16) == pytest.approx(20, rel=0.05)
    for eps in (1e-16, 1e-8):
        far = constant_gradient_step(60000, 1.0, (0.9, 0.999), eps)
        assert far == pytest.approx(1 / (epsilon_floor(eps, 0.999) + eps), rel=1e-3)


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.99, 0.95)], ids=str)
def test_constant_gradient_s_decays_like_the_larger_of_beta2_and_beta1_squared(betas) -> None:
    # s_t = (1 - beta2) g^2 sum_i beta2^(t-i) beta1^(2i): over 200 more steps it shrinks by
    # beta2^200 when beta1^2 < beta2 and by beta1^400 when beta1^2 > beta2.
    beta1, beta2 = betas
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = AdaBelief([p], lr=1.0, betas=betas, eps=0.0)
    s = {}
    for t in range(1, 401):
        p.grad = torch.ones(1, dtype=torch.float64)
        opt.step()
        s[t] = opt.state[p]["exp_avg_var"].item()
    expected = max(beta2, beta1**2) ** 200
    assert s[400] / s[200] == pytest.approx(expected, rel=0.01)


# ## labml_nn's AdaBelief


def labml_adabelief():
    from labml_nn.optimizers import WeightDecay
    from labml_nn.optimizers.ada_belief import AdaBelief as LabmlAdaBelief

    return LabmlAdaBelief, WeightDecay


def test_labml_nn_passes_its_arguments_in_the_wrong_order() -> None:
    LabmlAdaBelief, _ = labml_adabelief()
    p = [torch.nn.Parameter(torch.ones(2))]
    default = LabmlAdaBelief(p)
    # amsgrad=False went to optimized_update, degenerate_to_sgd=True to amsgrad, and
    # defaults={} to degenerated_to_sgd.
    assert default.optimized_update is False
    assert default.param_groups[0]["amsgrad"] is True
    assert default.degenerated_to_sgd == {} and not default.degenerated_to_sgd
    flipped = LabmlAdaBelief(p, amsgrad=True, degenerate_to_sgd=False)
    assert flipped.optimized_update is True and flipped.param_groups[0]["amsgrad"] is False


def run(factory, params, grads):
    ps = clone_params(params)
    opt = factory(ps)
    for g in grads:
        apply_step(opt, ps, g)
    return ps


def labml_plain(lr: float, eps: float, wd: float = 0.0):
    # amsgrad=False -> optimized_update=False; degenerate_to_sgd=False -> amsgrad=False.
    LabmlAdaBelief, WeightDecay = labml_adabelief()
    return lambda p: LabmlAdaBelief(p, lr=lr, eps=eps, weight_decay=WeightDecay(wd),
                                    amsgrad=False, degenerate_to_sgd=False, rectify=False)


def test_labml_nn_equals_ours_bitwise_with_eps_zero() -> None:
    params = make_params()
    grads = make_gradients(params, 40)
    theirs = run(labml_plain(0.01, 0.0, wd=0.1), params, grads)
    mine = run(lambda p: AdaBelief(p, lr=0.01, eps=0.0, weight_decay=0.1,
                                   decoupled_weight_decay=True), params, grads)
    for a, b in zip(mine, theirs, strict=True):
        assert torch.equal(a, b)


def test_labml_nn_does_not_accumulate_eps() -> None:
    eps, lr, beta1, beta2 = 1e-8, 0.01, 0.9, 0.999
    params = [p for p in make_params(dtype=torch.float64) if p.numel()]
    gen = torch.Generator().manual_seed(4)
    grads = [[1e-4 * torch.randn(p.shape, generator=gen, dtype=torch.float64) for p in params]
             for _ in range(60)]
    theirs = run(labml_plain(lr, eps), params, grads)
    mine = run(lambda p: AdaBelief(p, lr=lr, eps=eps), params, grads)
    gap = max((a - b).abs().max().item() for a, b in zip(mine, theirs, strict=True))
    assert gap > 1e-3  # tiny gradients: eps / (1 - beta2^t) against eps / (1 - beta2)
    # Replaying our update with eps added to a temporary instead of the state reproduces
    # labml_nn bit for bit: that is the whole difference.
    replay = clone_params(params)
    states = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    for t, g in enumerate(grads, start=1):
        for p, gi, (m, s) in zip(replay, g, states, strict=True):
            m.mul_(beta1).add_(gi, alpha=1 - beta1)
            r = gi - m
            s.mul_(beta2).addcmul_(r, r, value=1 - beta2)
            denom = ((s + eps).sqrt() / math.sqrt(1 - beta2**t)).add_(eps)
            p.detach().addcdiv_(m, denom, value=-lr / (1 - beta1**t))
    for a, b in zip(replay, theirs, strict=True):
        assert torch.equal(a, b)
    # At the first step the two agree: eps (1 - beta2^1)/(1 - beta2) = eps.
    one = grads[:1]
    first_theirs = run(labml_plain(lr, eps), params, one)
    first_mine = run(lambda p: AdaBelief(p, lr=lr, eps=eps), params, one)
    for a, b in zip(first_mine, first_theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-14, atol=0)
