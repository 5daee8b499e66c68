"""RAdam and the paper's baselines as optimizers: options, Adam-2k, Adam-eps, labml_nn.

Parity with torch.optim.RAdam (and of Adam-2k without its warm-up with torch.optim.Adam) is
in test_parity.py, with every chapter that has a torch twin.

The derivation (rho_t, the distributions, r_t) is checked in test_radam_derivation.py.
"""

from __future__ import annotations

import copy
import math

import labml_nn.optimizers as labml_wd
import labml_nn.optimizers.radam as labml_radam
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from support.optim_harness import (
    apply_step,
    assert_same_state,
    bind,
    check_parity,
    clone_params,
    make_gradients,
    make_params,
    roundtrip_state_dict,
)

from labml_optim.radam import (
    AdamVWarmup,
    RAdam,
    adam_2k,
    adam_eps,
    rectification,
    sma_length,
)

BETA2S = (0.5, 0.8, 0.9, 0.99, 0.999, 0.9999)


def all_steps(params, grads):
    """The harness's gradients with a missing grad replaced by zeros, so that every
    parameter's step count is the global one (tests that switch behaviour at a step)."""
    return [[torch.zeros_like(p) if g is None else g for p, g in zip(params, gs, strict=True)]
            for gs in grads]


torch_radam = bind(torch.optim.RAdam, foreach=False)
our_radam = bind(RAdam)

radam_options = st.fixed_dictionaries({
    "lr": st.sampled_from([1e-4, 1e-3, 3e-2, 0.5]),
    "betas": st.tuples(st.sampled_from([0.0, 0.5, 0.9, 0.99]), st.sampled_from(BETA2S)),
    "eps": st.sampled_from([0.0, 1e-8, 1e-4]),
    "weight_decay": st.sampled_from([0.0, 1e-2, 0.3]),
    "decoupled_weight_decay": st.booleans(),
    "maximize": st.booleans(),
})


def test_float64_default_dtype_keeps_a_float64_step() -> None:
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        check_parity(our_radam(), torch_radam(), steps=10, dtype=torch.float64)
        p = torch.nn.Parameter(torch.ones(2))
        opt = RAdam([p])
        p.grad = torch.ones(2)
        opt.step()
        assert opt.state[p]["step"].dtype == torch.float64
    finally:
        torch.set_default_dtype(previous)


# ## State dicts move both ways


def test_torch_state_dict_gets_our_defaults_and_keeps_its_own_keys() -> None:
    params = make_params()
    torch_opt = torch.optim.RAdam(params, lr=0.01)
    for p, g in zip(params, make_gradients(params, 1)[0], strict=True):
        p.grad = g
    torch_opt.step()
    ours = RAdam(clone_params(params), lr=0.5, rho_threshold=4.0, degenerated_to_sgd=False)
    ours.load_state_dict(roundtrip_state_dict(torch_opt.state_dict()))
    group = ours.param_groups[0]
    # Hyper-parameters come from the loaded dict; the keys torch lacks get our defaults.
    assert group["lr"] == 0.01
    assert group["rho_threshold"] == 5.0 and group["degenerated_to_sgd"] is True


# ## Our two keywords: rho_threshold and degenerated_to_sgd


def reference_radam(theta, grads, *, lr, betas, eps, weight_decay, decoupled_weight_decay,
                    rho_threshold, degenerated_to_sgd):
    """RAdam written from the page's formulas, element by element in float64."""
    b1, b2 = betas
    theta = theta.double().clone()
    m, v = torch.zeros_like(theta), torch.zeros_like(theta)
    rho_inf = (1 + b2) / (1 - b2)
    history = []
    for t, g in enumerate(grads, start=1):
        g = g.double()
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        rectified = rho > rho_threshold
        moves = rectified or degenerated_to_sgd
        if weight_decay and not decoupled_weight_decay:
            g = g + weight_decay * theta
        if weight_decay and decoupled_weight_decay and moves:
            theta = theta * (1 - lr * weight_decay)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        if rectified:
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            psi_hat = math.sqrt(1 - b2**t) / (v.sqrt() + eps)
            theta = theta - lr * r * m_hat * psi_hat
        elif degenerated_to_sgd:
            theta = theta - lr * m_hat
        history.append(theta.clone())
    return history


@settings(max_examples=30, deadline=None)
@given(options=radam_options, rho_threshold=st.sampled_from([4.0, 5.0, 7.5]),
       degenerated_to_sgd=st.booleans())
def test_against_the_formulas(options, rho_threshold: float, degenerated_to_sgd: bool) -> None:
    """Every combination of options, including the ones torch lacks, against the page."""
    options = {k: v for k, v in options.items() if k != "maximize"}
    gen = torch.Generator().manual_seed(3)
    theta = torch.randn(40, dtype=torch.float64, generator=gen)
    grads = [torch.randn(40, dtype=torch.float64, generator=gen) for _ in range(40)]
    expected = reference_radam(theta, grads, rho_threshold=rho_threshold,
                               degenerated_to_sgd=degenerated_to_sgd, **options)
    p = theta.clone().requires_grad_()
    opt = RAdam([p], rho_threshold=rho_threshold, degenerated_to_sgd=degenerated_to_sgd,
                **options)
    for g, want in zip(grads, expected, strict=True):
        p.grad = g.clone()
        opt.step()
        torch.testing.assert_close(p.detach(), want, rtol=1e-10, atol=1e-12)


def test_paper_threshold_changes_exactly_step_5() -> None:
    """With beta2 = 0.999, rho_5 = 4.996: only the paper's rule (> 4) rectifies step 5."""
    params = make_params(dtype=torch.float64)
    grads = make_gradients(params, 8)
    runs = {}
    for threshold in (4.0, 5.0):
        ps = clone_params(params)
        opt = RAdam(ps, rho_threshold=threshold)
        runs[threshold] = []
        for g in grads:
            apply_step(opt, ps, g)
            runs[threshold].append([p.detach().clone() for p in ps])
    # Step index 4 is t = 5; parameter 0 has a gradient at every step.
    for t in range(4):
        assert torch.equal(runs[4.0][t][0], runs[5.0][t][0])
    assert not torch.equal(runs[4.0][4][0], runs[5.0][4][0])
    # At t = 5 the paper's move is the momentum move times r_5 * psi_hat_5.
    move_paper = runs[4.0][4][0] - runs[4.0][3][0]
    move_torch = runs[5.0][4][0] - runs[5.0][3][0]
    beta2, eps = 0.999, 1e-8
    v5 = torch.zeros_like(params[0])
    for g in grads[:5]:
        v5 = beta2 * v5 + (1 - beta2) * g[0] ** 2
    psi_hat = math.sqrt(1 - beta2**5) / (v5.sqrt() + eps)
    r5 = rectification(sma_length(5, beta2), 2 / (1 - beta2) - 1)
    assert r5 == pytest.approx(0.0173, abs=1e-4)
    torch.testing.assert_close(move_paper, move_torch * r5 * psi_hat, rtol=1e-9, atol=0)


def test_skipping_the_first_steps_leaves_params_and_decay_alone() -> None:
    """degenerated_to_sgd=False: no move and no decoupled decay for t <= 5; m, v, step
    advance as torch's; from t = 6 on the moves are torch's exactly."""
    params = make_params()
    grads = all_steps(params, make_gradients(params, 20))
    kw = {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}
    ours_p, torch_p = clone_params(params), clone_params(params)
    ours = RAdam(ours_p, degenerated_to_sgd=False, **kw)
    ref = torch.optim.RAdam(torch_p, foreach=False, **kw)
    for g in grads[:5]:
        apply_step(ours, ours_p, g)
        apply_step(ref, torch_p, g)
    for p0, p in zip(params, ours_p, strict=True):
        assert torch.equal(p0, p.detach())
    for p, q in zip(ours_p, torch_p, strict=True):
        if p.numel():
            for key in ("exp_avg", "exp_avg_sq", "step"):
                assert torch.equal(ours.state[p][key], ref.state[q][key])
    # Put torch's parameters back where ours stayed; from here the two must agree.
    with torch.no_grad():
        for p, q in zip(ours_p, torch_p, strict=True):
            q.copy_(p)
    for g in grads[5:]:
        apply_step(ours, ours_p, g)
        apply_step(ref, torch_p, g)
        assert_same_state(ours, ours_p, ref, torch_p)


def test_rectified_step_multiplies_by_r_not_its_square_root() -> None:
    beta1, beta2, lr, eps = 0.9, 0.999, 0.1, 1e-8
    gen = torch.Generator().manual_seed(0)
    grads = [torch.randn(30, dtype=torch.float64, generator=gen) for _ in range(6)]
    p = torch.zeros(30, dtype=torch.float64, requires_grad=True)
    opt = RAdam([p], lr=lr, betas=(beta1, beta2), eps=eps)
    for g in grads[:5]:
        p.grad = g
        opt.step()
    before = p.detach().clone()
    p.grad = grads[5]
    opt.step()
    move = before - p.detach()
    m = sum((1 - beta1) * beta1 ** (5 - i) * g for i, g in enumerate(grads))
    v = sum((1 - beta2) * beta2 ** (5 - i) * g * g for i, g in enumerate(grads))
    adam_move = lr * m / (1 - beta1**6) * math.sqrt(1 - beta2**6) / (v.sqrt() + eps)
    r6 = rectification(sma_length(6, beta2), 2 / (1 - beta2) - 1)
    torch.testing.assert_close(move, r6 * adam_move, rtol=1e-12, atol=0)
    assert not torch.allclose(move, math.sqrt(r6) * adam_move, rtol=0.5)


def test_eps_sits_before_the_bias_correction() -> None:
    """torch's RAdam: sqrt(1-b2^t) / (sqrt(v) + eps) = 1 / (sqrt(v_hat) + eps / sqrt(1-b2^t)),
    so its eps acts like Adam's eps times 1/sqrt(1 - b2^t), 13 times at t = 6."""
    beta2, eps = 0.999, 1e-3
    g = torch.full((4,), 1e-3, dtype=torch.float64)
    p = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    opt = RAdam([p], lr=1.0, betas=(0.0, beta2), eps=eps)
    for _ in range(6):
        before = p.detach().clone()
        p.grad = g.clone()
        opt.step()
    move = (before - p.detach())[0].item()
    bc2 = 1 - beta2**6
    r6 = rectification(sma_length(6, beta2), 2 / (1 - beta2) - 1)
    v_hat = 1e-6  # constant gradient: v_hat = g^2
    assert move == pytest.approx(r6 * 1e-3 / (math.sqrt(v_hat) + eps / math.sqrt(bc2)),
                                 rel=1e-12)
    assert move != pytest.approx(r6 * 1e-3 / (math.sqrt(v_hat) + eps), rel=1e-2)
    assert round(1 / math.sqrt(bc2)) == 13


def test_momentum_steps_scale_with_the_gradient_rectified_steps_do_not() -> None:
    """The un-rectified step lr * m_hat is in gradient units; the rectified one is not."""
    gen = torch.Generator().manual_seed(1)
    grads = [torch.randn(20, dtype=torch.float64, generator=gen) for _ in range(10)]
    moves = {}
    for scale in (1.0, 1000.0):
        p = torch.zeros(20, dtype=torch.float64, requires_grad=True)
        opt = RAdam([p], lr=1e-3, eps=0.0)
        moves[scale] = []
        for g in grads:
            before = p.detach().clone()
            p.grad = g * scale
            opt.step()
            moves[scale].append(p.detach() - before)
    for t in range(10):  # t + 1 <= 5 is un-rectified with beta2 = 0.999
        if t + 1 <= 5:
            torch.testing.assert_close(moves[1000.0][t], 1000 * moves[1.0][t])
        else:
            torch.testing.assert_close(moves[1000.0][t], moves[1.0][t])


def test_argument_errors() -> None:
    p = [torch.nn.Parameter(torch.ones(2))]
    with pytest.raises(ValueError, match="^rho_threshold"):
        RAdam(p, rho_threshold=3.9)
    with pytest.raises(ValueError, match="^capturable"):
        RAdam(p, capturable=True)
    with pytest.raises(ValueError, match="^differentiable"):
        RAdam(p, differentiable=True)
    with pytest.raises(ValueError, match="^lr"):
        RAdam(p, lr=torch.tensor([0.1, 0.2]))
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="^warmup_v_steps"):
            AdamVWarmup(p, warmup_v_steps=bad)
    for cls in (RAdam, AdamVWarmup):
        with pytest.raises(ValueError, match="^foreach"):
            cls(p, foreach=True)


# ## Adam-2k and Adam-eps


torch_adam = bind(torch.optim.Adam, foreach=False)


@pytest.mark.parametrize("decay", [{}, {"weight_decay": 0.1, "decoupled_weight_decay": True}])
def test_adam_2k_freezes_params_and_m_then_is_adam(decay) -> None:
    k = 25
    params = make_params()
    grads = all_steps(params, make_gradients(params, k + 20))
    ours_p, torch_p = clone_params(params), clone_params(params)
    ours = AdamVWarmup(ours_p, lr=0.01, warmup_v_steps=k, **decay)
    ref = torch.optim.Adam(torch_p, lr=0.01, foreach=False, **decay)
    for g in grads[:k]:
        apply_step(ours, ours_p, g)
        apply_step(ref, torch_p, g)
    for p0, p, q in zip(params, ours_p, torch_p, strict=True):
        assert torch.equal(p0, p.detach())
        if p.numel():
            assert not ours.state[p]["exp_avg"].any()
            # v saw the same gradients as torch's Adam (no L2 decay here), so it is the same.
            assert torch.equal(ours.state[p]["exp_avg_sq"], ref.state[q]["exp_avg_sq"])
    # Independently: v is the EMA of the squared gradients of parameter 0.
    v = torch.zeros_like(params[0], dtype=torch.float64)
    for g in grads[:k]:
        v = 0.999 * v + 0.001 * g[0].double() ** 2
    torch.testing.assert_close(ours.state[ours_p[0]]["exp_avg_sq"].double(), v)
    # After the warm-up: torch's Adam, started from our state, takes the same steps.
    adam_p = clone_params(ours_p)
    adam = torch.optim.Adam(adam_p, lr=0.01, foreach=False, **decay)
    adam.load_state_dict(roundtrip_state_dict(ours.state_dict()))
    for g in grads[k:]:
        apply_step(ours, ours_p, g)
        apply_step(adam, adam_p, g)
        assert_same_state(ours, ours_p, adam, adam_p)
    assert not torch.equal(ours_p[0].detach(), params[0])


def test_paper_baselines() -> None:
    p = [torch.nn.Parameter(torch.ones(3))]
    a2k = adam_2k(p, lr=0.1)
    assert isinstance(a2k, AdamVWarmup) and a2k.defaults["warmup_v_steps"] == 2000
    ae = adam_eps(p, lr=0.1)
    assert type(ae) is torch.optim.Adam and ae.defaults["eps"] == 1e-4


# ## labml_nn's RAdam: where it agrees and where it differs


def run(opt_factory, steps: int = 40, *, dtype=torch.float64, scale: float = 1.0, n: int = 50,
        complex_: bool = False):
    gen = torch.Generator().manual_seed(7)
    shape = (n, 2) if complex_ else (n,)
    theta = torch.randn(shape, dtype=dtype, generator=gen)
    grads = [scale * torch.randn(shape, dtype=dtype, generator=gen) for _ in range(steps)]
    if complex_:
        theta = torch.view_as_complex(theta)
        grads = [torch.view_as_complex(g) for g in grads]
    p = torch.nn.Parameter(theta.clone())
    opt = opt_factory([p])
    trace = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        trace.append(p.detach().clone())
    return p, opt, trace


def max_diff(a, b) -> float:
    return max((x - y).abs().max().item() for x, y in zip(a, b, strict=True))


def test_labml_nn_agrees_up_to_rounding_by_default() -> None:
    _, _, ours = run(lambda ps: RAdam(ps, lr=0.01))
    _, _, theirs = run(lambda ps: labml_radam.RAdam(ps, lr=0.01))
    assert max_diff(ours, theirs) < 1e-14
    # In float32 the rounding differs: labml_nn updates m with mul_ + add_ (torch: lerp_)
    # and folds the bias corrections and r_t into one scalar step size.
    p32, o32, ours32 = run(lambda ps: RAdam(ps, lr=0.01), dtype=torch.float32)
    q32, l32, theirs32 = run(lambda ps: labml_radam.RAdam(ps, lr=0.01), dtype=torch.float32)
    assert max_diff(ours32, theirs32) < 1e-6
    assert not torch.equal(o32.state[p32]["exp_avg"], l32.state[q32]["exp_avg"])


def test_labml_nn_weight_decay_defaults_to_decoupled() -> None:
    """labml_nn's WeightDecay is decoupled unless told otherwise; torch's is L2."""
    wd = labml_wd.WeightDecay
    _, _, l2 = run(lambda ps: RAdam(ps, lr=0.01, weight_decay=0.1))
    _, _, dec = run(lambda ps: RAdam(ps, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True))
    _, _, their_default = run(lambda ps: labml_radam.RAdam(ps, lr=0.01,
                                                           weight_decay=wd(0.1)))
    _, _, their_l2 = run(lambda ps: labml_radam.RAdam(
        ps, lr=0.01, weight_decay=wd(0.1, weight_decouple=False)))
    assert max_diff(dec, their_default) < 1e-14
    assert max_diff(l2, their_l2) < 1e-14
    assert max_diff(l2, their_default) > 1e-4


def test_labml_nn_decays_weights_on_skipped_steps() -> None:
    """degenerated_to_sgd=False: labml_nn still applies decoupled decay while it skips the
    update; ours (as the official code) leaves the parameters alone."""
    wd = labml_wd.WeightDecay
    p0 = run(lambda ps: RAdam(ps), steps=0)[0].detach().clone()
    _, _, ours = run(lambda ps: RAdam(ps, lr=0.01, weight_decay=0.1,
                                      decoupled_weight_decay=True, degenerated_to_sgd=False),
                     steps=5)
    _, _, theirs = run(lambda ps: labml_radam.RAdam(ps, lr=0.01, weight_decay=wd(0.1),
                                                    degenerated_to_sgd=False), steps=5)
    for t in range(5):
        assert torch.equal(ours[t], p0)
        torch.testing.assert_close(theirs[t], p0 * (1 - 0.01 * 0.1) ** (t + 1))


def test_labml_nn_eps_placement_option() -> None:
    """optimized_update=True (default) adds eps to sqrt(v) as torch's RAdam does;
    optimized_update=False adds it to sqrt(v_hat), as torch's Adam does: a different
    optimizer wherever sqrt(v) is comparable to eps."""
    kw = {"lr": 0.01, "eps": 1e-4}
    _, _, ours = run(lambda ps: RAdam(ps, **kw), scale=1e-4)
    _, _, optimized = run(lambda ps: labml_radam.RAdam(ps, **kw), scale=1e-4)
    _, _, unoptimized = run(lambda ps: labml_radam.RAdam(ps, optimized_update=False, **kw),
                            scale=1e-4)
    assert max_diff(ours, optimized) < 1e-14
    assert max_diff(ours, unoptimized) > 1e-4


def test_labml_nn_threshold_ge_5_is_torchs_gt_5_except_at_exactly_5() -> None:
    """labml_nn (like the official code) rectifies when rho_t >= 5; torch and we when > 5.
    They decide alike unless rho_t is exactly 5.0 in floating point."""
    for beta2 in BETA2S + (0.95, 0.9995):
        for t in range(1, 20001, 7):
            theirs = labml_radam.RAdam.calc_rectification_term(beta2, t) is not None
            assert theirs == (sma_length(t, beta2) > 5.0), (beta2, t)
    # Find a beta2 whose rho_6 is exactly 5.0: bisect for the crossing, then try the
    # neighbouring floats one ulp at a time.
    lo, hi = 0.5, 0.99
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sma_length(6, mid) < 5 else (lo, mid)
    candidates, up, down = [lo], lo, lo
    for _ in range(300):
        up, down = math.nextafter(up, 1.0), math.nextafter(down, 0.0)
        candidates += [up, down]
    beta2 = next(b for b in candidates if sma_length(6, b) == 5.0)
    assert repr(beta2) == "0.8397685748659791"  # the value quoted on the page
    assert labml_radam.RAdam.calc_rectification_term(beta2, 6) is not None
    kw = {"lr": 0.01, "betas": (0.9, beta2)}
    _, _, ours = run(lambda ps: RAdam(ps, **kw), steps=10)
    _, _, torch_ = run(lambda ps: torch.optim.RAdam(ps, foreach=False, **kw), steps=10)
    _, _, theirs = run(lambda ps: labml_radam.RAdam(ps, **kw), steps=10)
    assert max_diff(ours, torch_) == 0.0
    assert max_diff(ours[:5], theirs[:5]) < 1e-14
    # At t = 6 we take the momentum step lr * m_hat, labml_nn a rectified Adam step.
    assert (ours[5] - theirs[5]).abs().max() > 1e-3


def test_labml_nn_mishandles_complex_parameters() -> None:
    """labml_nn squares a complex gradient (g * g) instead of treating the real and
    imaginary parts as two coordinates; ours matches torch and the real view."""
    _, _, ours = run(lambda ps: RAdam(ps, lr=0.01), complex_=True)
    _, _, torch_ = run(lambda ps: torch.optim.RAdam(ps, lr=0.01, foreach=False), complex_=True)
    _, _, theirs = run(lambda ps: labml_radam.RAdam(ps, lr=0.01), complex_=True)
    assert max_diff(ours, torch_) == 0.0
    assert max_diff(ours, theirs) > 1e-3


def test_labml_nn_state_dict_loads_into_ours() -> None:
    """labml_nn keeps `step` as a Python int; loading turns it into torch's tensor."""
    p, theirs, _ = run(lambda ps: labml_radam.RAdam(ps, lr=0.01), steps=8)
    q = torch.nn.Parameter(p.detach().clone())
    ours = RAdam([q], lr=0.01)
    ours.load_state_dict(copy.deepcopy(theirs.state_dict()))
    assert ours.state[q]["step"].item() == 8.0
    gen = torch.Generator().manual_seed(11)
    for _ in range(10):
        g = torch.randn(p.shape, dtype=p.dtype, generator=gen)
        p.grad, q.grad = g.clone(), g.clone()
        theirs.step()
        ours.step()
    torch.testing.assert_close(q.detach(), p.detach(), rtol=1e-12, atol=1e-14)
