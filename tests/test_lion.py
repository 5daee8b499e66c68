"""Lion: where it meets lion-pytorch, and every checkable claim of the chapter.

Parity with lion_pytorch.Lion (bitwise in both dtypes, state dicts both ways, groups) is in
test_parity.py, in its table of chapters held to their authors' packages.
"""

from __future__ import annotations

import math

import lion_pytorch
import lion_pytorch.foreach
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

from labml_optim.lion import (
    Lion,
    adam_rms_noise_only,
    equilibrium_mean_square,
    noisy_quadratic,
    state_bytes,
    step_rms,
)

ours = bind(Lion)
reference = bind(lion_pytorch.Lion)

# ## Where it meets lion_pytorch.Lion


def test_default_arguments_are_lion_pytorchs() -> None:
    check_parity(Lion, lion_pytorch.Lion, steps=30)
    p = [torch.nn.Parameter(torch.ones(2))]
    a, b = Lion(p).defaults, lion_pytorch.Lion(p).defaults
    assert {k: a[k] for k in b} == b


def test_gradient_scale_does_not_matter_in_float32() -> None:
    # Tiny and huge gradients: the step is the sign, so parity holds at any scale.
    for scale in (1e-30, 1e30):
        check_parity(ours(lr=0.01, weight_decay=0.1), reference(lr=0.01, weight_decay=0.1),
                     steps=20, grad_scale=scale)


def test_foreach_reference_agrees_to_rounding() -> None:
    # lion_pytorch.foreach.Lion computes c_t and m_t with lerp: same formula, other rounding.
    kw = dict(lr=0.01, weight_decay=0.1)
    check_parity(ours(**kw), bind(lion_pytorch.foreach.Lion)(**kw), steps=50, exact=False,
                 atol=1e-6)
    with pytest.raises(AssertionError, match="not bitwise equal"):
        check_parity(ours(**kw), bind(lion_pytorch.foreach.Lion)(**kw), steps=50)


def test_lion_pytorch_decoupled_flag_is_decay_divided_by_initial_lr() -> None:
    # Its decoupled_weight_decay=True decays by lr * wd / lr_0; ours with wd / lr_0 matches.
    lr, wd = 0.02, 0.1
    check_parity(ours(lr=lr, weight_decay=wd / lr),
                 lambda p: lion_pytorch.Lion(p, lr=lr, weight_decay=wd,
                                             decoupled_weight_decay=True), steps=20)


def test_complex_parameters_move_by_lr_in_each_real_part() -> None:
    kw = dict(lr=0.01, weight_decay=0.1)
    check_complex_matches_real_view(ours(**kw))
    # lion-pytorch's sgn_ of a complex c is c / |c|: a different step, on purpose.
    with pytest.raises(AssertionError):
        check_parity(ours(**kw), reference(**kw), steps=5, complex_=True)
    p = torch.zeros(4, dtype=torch.complex64, requires_grad=True)
    opt = Lion([p], lr=0.5)
    p.grad = torch.tensor([1 + 1j, -2 + 0.5j, 3j, -1], dtype=torch.complex64)
    opt.step()
    assert torch.equal(torch.view_as_real(p.detach()).abs(),
                       torch.tensor([[0.5, 0.5], [0.5, 0.5], [0.0, 0.5], [0.5, 0.0]]))


@pytest.mark.parametrize("wd", [0.0, 0.3])
def test_state_dict_brings_its_own_lr_and_decay(wd: float) -> None:
    check_state_dict_transfer(ours(lr=0.01, weight_decay=wd), ours(lr=0.5))


def test_state_dict_from_lion_pytorch_gets_torch_keys() -> None:
    p = [torch.nn.Parameter(torch.ones(3))]
    theirs = lion_pytorch.Lion(p, lr=0.01)
    p[0].grad = torch.ones(3)
    theirs.step()
    mine = Lion([torch.nn.Parameter(torch.ones(3))], lr=0.5)
    mine.load_state_dict(theirs.state_dict())
    group = mine.param_groups[0]
    assert group["lr"] == 0.01 and group["maximize"] is False and group["foreach"] is None


def test_tensor_lr_is_read_as_a_number() -> None:
    check_parity(ours(lr=torch.tensor(0.01)), reference(lr=0.01), steps=10)


def test_maximize_is_minimizing_the_negated_gradient() -> None:
    params = make_params()
    grads = make_gradients(params, 20)
    a, b = clone_params(params), clone_params(params)
    opt_a, opt_b = Lion(a, lr=0.01, weight_decay=0.1, maximize=True), Lion(b, lr=0.01,
                                                                           weight_decay=0.1)
    for g in grads:
        apply_step(opt_a, a, g)
        apply_step(opt_b, b, [None if x is None else -x for x in g])
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)


# ## Errors, failing steps, compile


@pytest.mark.parametrize(("kw", "pattern"), [
    (dict(lr=-1e-3), "^lr must be >= 0"),
    (dict(weight_decay=-0.1), "^weight_decay must be >= 0"),
    (dict(betas=(1.0, 0.99)), r"^betas\[0\] must be in \[0, 1\)"),
    (dict(betas=(0.9, -0.1)), r"^betas\[1\] must be in \[0, 1\)"),
    (dict(betas=(0.9,)), "^betas must be a pair"),
    (dict(lr=torch.tensor([0.1, 0.2])), "^lr must be a number or a 1-element tensor"),
    (dict(foreach=True), "^foreach=True is not supported"),
])
def test_bad_arguments_name_themselves(kw: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        Lion([torch.nn.Parameter(torch.ones(2))], **kw)


def test_lion_pytorch_argument_checks_quoted_in_the_chapter() -> None:
    # It asserts lr > 0 and accepts beta = 1; ours takes lr = 0 and refuses beta = 1.
    p = [torch.nn.Parameter(torch.ones(2))]
    with pytest.raises(AssertionError):
        lion_pytorch.Lion(p, lr=0.0)
    lion_pytorch.Lion(p, betas=(1.0, 1.0))
    Lion(p, lr=0.0)
    with pytest.raises(ValueError):
        Lion(p, betas=(1.0, 0.99))


def test_lr_zero_is_allowed_and_changes_nothing_but_momentum() -> None:
    p = torch.nn.Parameter(torch.ones(3))
    opt = Lion([p], lr=0.0, weight_decay=0.5)
    p.grad = torch.ones(3)
    opt.step()
    assert torch.equal(p.detach(), torch.ones(3))
    assert torch.equal(opt.state[p]["exp_avg"], torch.full((3,), 0.01))


def test_a_failing_step_changes_nothing() -> None:
    dense = torch.nn.Parameter(torch.ones(3))
    sparse = torch.nn.Parameter(torch.ones(4, 2))
    opt = Lion([{"params": [dense]}, {"params": [sparse]}], lr=0.1)
    dense.grad = torch.ones(3)
    sparse.grad = torch.sparse_coo_tensor([[1]], torch.ones(1, 2), (4, 2))
    with pytest.raises(RuntimeError, match="Lion does not support sparse"):
        opt.step()
    assert torch.equal(dense.detach(), torch.ones(3)) and len(opt.state) == 0


def test_compiled_step_equals_eager() -> None:
    # Inductor fuses m * beta + g * (1 - beta) into one kernel whose rounding can differ
    # from the two eager kernels by an ulp, so the state is compared to 1e-6; the
    # parameters move by exact multiples of lr and stay bitwise equal here.
    torch._dynamo.reset()
    params = [p for p in make_params() if p.numel()]
    grads = make_gradients(params, 8)
    a, b = clone_params(params), clone_params(params)
    opt_a, opt_b = Lion(a, lr=0.01, weight_decay=0.1), Lion(b, lr=0.01, weight_decay=0.1)
    compiled = torch.compile(opt_b.step)
    for g in grads:
        for p, x in zip(a, g, strict=True):
            p.grad = None if x is None else x.clone()
        for p, x in zip(b, g, strict=True):
            p.grad = None if x is None else x.clone()
        opt_a.step()
        compiled()
        assert_same_state(opt_a, a, opt_b, b, exact=False, atol=1e-6)
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)
    torch._dynamo.reset()
    explained = torch._dynamo.explain(opt_b.step)()
    assert explained.graph_break_count == 0, explained.break_reasons


# ## The chapter's claims


def test_update_norm_is_exactly_lr_sqrt_n() -> None:
    gen = torch.Generator().manual_seed(0)
    lr = 0.0625  # a power of two: lr * sign is exact
    for scale in (1e-6, 1.0, 1e6):
        p = torch.zeros(1000, dtype=torch.float64, requires_grad=True)
        opt = Lion([p], lr=lr)
        for step in range(5):
            g = torch.randn(1000, generator=gen, dtype=torch.float64) * scale
            g[:37] = 0.0 if step == 0 else g[:37]  # zero gradients: c_1 = 0 there
            if step == 2:
                g[37:80] = 0.0  # zero gradients, but m_2 != 0: c_3 = beta1 m_2 moves them
            before = p.detach().clone()
            p.grad = g
            opt.step()
            delta = p.detach() - before
            n = 1000 - 37 if step == 0 else 1000
            assert int((delta != 0).sum()) == n
            assert torch.equal(delta.abs()[delta != 0], torch.full((n,), lr, dtype=torch.float64))
            assert delta.norm().item() == pytest.approx(lr * math.sqrt(n), rel=1e-14)
            assert delta.abs().max().item() == lr


def test_direction_is_the_sign_of_the_unrolled_interpolation() -> None:
    beta1, beta2, steps = 0.9, 0.99, 40
    gen = torch.Generator().manual_seed(1)
    grads = torch.randn(steps, 50, generator=gen, dtype=torch.float64)
    p = torch.zeros(50, dtype=torch.float64, requires_grad=True)
    opt = Lion([p], lr=1.0, betas=(beta1, beta2))
    for t in range(steps):
        p.detach().zero_()
        p.grad = grads[t].clone()
        opt.step()
        past = sum((beta2 ** (k - 1) * grads[t - k] for k in range(1, t + 1)),
                   torch.zeros(50, dtype=torch.float64))
        c = (1 - beta1) * grads[t] + beta1 * (1 - beta2) * past
        assert torch.equal(p.detach(), -c.sign())
        m = (1 - beta2) * sum((beta2**k * grads[t - k] for k in range(t + 1)),
                              torch.zeros(50, dtype=torch.float64))
        torch.testing.assert_close(opt.state[p]["exp_avg"], m, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", ["signsgd", "signum", "one_step_back"])
def test_special_cases_of_the_betas(case: str) -> None:
    gen = torch.Generator().manual_seed(2)
    grads = torch.randn(30, 20, generator=gen, dtype=torch.float64)
    betas = {"signsgd": (0.0, 0.99), "signum": (0.9, 0.9), "one_step_back": (0.7, 0.0)}[case]
    p = torch.zeros(20, dtype=torch.float64, requires_grad=True)
    opt = Lion([p], lr=1.0, betas=betas)
    ema = torch.zeros(20, dtype=torch.float64)
    for t in range(30):
        p.detach().zero_()
        p.grad = grads[t].clone()
        opt.step()
        ema = 0.9 * ema + 0.1 * grads[t]
        if case == "signsgd":
            expected = grads[t].sign()
        elif case == "signum":
            expected = ema.sign()
        else:
            previous = grads[t - 1] if t else torch.zeros(20, dtype=torch.float64)
            expected = (0.7 * previous + 0.3 * grads[t]).sign()
        assert torch.equal(-p.detach(), expected)


def test_weights_of_the_current_gradient_quoted_in_the_chapter() -> None:
    # 1 - beta1 = 0.1 in c_t against 1 - beta2 = 0.01 in m_t: ten times.
    assert (1 - 0.9) / (1 - 0.99) == pytest.approx(10.0)
    assert 1 / (1 - 0.99) == pytest.approx(100.0)


def test_adam_noise_only_step_size_by_monte_carlo() -> None:
    # r_A = sqrt((1 - beta1) / (1 + beta1)): 0.229, 0.160, 0.101, within 1 %.
    expected = {0.9: 0.229, 0.95: 0.160, 0.98: 0.101}
    for beta1, quoted in expected.items():
        assert adam_rms_noise_only(beta1) == pytest.approx(quoted, abs=5e-4)
        snr = torch.zeros(4000, dtype=torch.float64)
        measured = step_rms(
            lambda p, b=beta1: torch.optim.Adam(p, lr=1.0, betas=(b, 0.999), eps=0.0),
            snr, steps=700, burn_in=400)
        rms = measured.pow(2).mean().sqrt().item()
        assert rms == pytest.approx(adam_rms_noise_only(beta1), rel=0.01)
    # Lion's is 1 exactly, so the learning-rate ratio is 1 / r_A: 4.4 to 10.
    assert 1 / adam_rms_noise_only(0.9) == pytest.approx(4.36, abs=0.01)
    assert 1 / adam_rms_noise_only(0.98) == pytest.approx(9.95, abs=0.01)
    lion = step_rms(lambda p: Lion(p, lr=1.0), torch.zeros(100, dtype=torch.float64),
                    steps=10, burn_in=0)
    assert torch.equal(lion, torch.ones(100, dtype=torch.float64))


def test_adam_step_grows_towards_lr_with_signal() -> None:
    # Where the gradient is consistent Adam's step is close to lr, as Lion's is.
    snr = torch.full((500,), 3.0, dtype=torch.float64)
    rms = step_rms(lambda p: torch.optim.Adam(p, lr=1.0, eps=0.0), snr, steps=400,
                   burn_in=200).pow(2).mean().sqrt().item()
    assert 0.9 < rms < 1.0


def test_weight_decay_equilibrium_by_monte_carlo() -> None:
    # Lion with beta1 = 0 on pure-noise gradients takes i.i.d. steps of +-lr, independent
    # of theta: E[theta^2] converges to lr^2 / (1 - (1 - lr wd)^2).
    lr, wd, n = 0.01, 2.0, 20000
    gen = torch.Generator().manual_seed(3)
    p = torch.zeros(n, dtype=torch.float64, requires_grad=True)
    opt = Lion([p], lr=lr, betas=(0.0, 0.99), weight_decay=wd)
    for _ in range(600):  # (1 - lr wd)^600 = 6e-6: the start is forgotten
        p.grad = torch.randn(n, generator=gen, dtype=torch.float64)
        opt.step()
    mean_square = p.detach().pow(2).mean().item()
    target = equilibrium_mean_square(lr, wd)
    assert target == pytest.approx(lr / (wd * (2 - lr * wd)), rel=1e-12)
    # Stationary theta^2 has standard deviation about sqrt(2) * target (theta ~ normal);
    # neighbouring samples are independent coordinates: 5 standard errors.
    assert abs(mean_square - target) < 5 * math.sqrt(2) * target / math.sqrt(n)


def test_with_momentum_the_trajectory_scales_with_lr_at_fixed_product() -> None:
    # Pure noise: the signs do not depend on theta, so (eta, lambda) and (2 eta, lambda / 2)
    # give trajectories in the ratio 2 exactly (powers of two: no rounding).
    gen = torch.Generator().manual_seed(5)
    grads = torch.randn(300, 64, generator=gen, dtype=torch.float64)
    runs = []
    for lr, wd in ((2.0**-7, 2.0), (2.0**-6, 1.0)):
        p = torch.zeros(64, dtype=torch.float64, requires_grad=True)
        opt = Lion([p], lr=lr, weight_decay=wd)
        for g in grads:
            p.grad = g.clone()
            opt.step()
        runs.append(p.detach().clone())
    assert torch.equal(2 * runs[0], runs[1])


def lion_momentum_factor(a: float, beta1: float = 0.9, beta2: float = 0.99) -> float:
    # F_L(a) = 1 + 2 sum_k a^k (2/pi) asin(kappa beta2^(k-1)), from the chapter's derivation.
    var_m = (1 - beta2) / (1 + beta2)
    var_c = (1 - beta1) ** 2 + beta1**2 * var_m
    kappa = beta1 * ((1 - beta1) * (1 - beta2) + beta1 * beta2 * var_m) / var_c
    return 1 + 2 * sum(a**k * 2 / math.pi * math.asin(kappa * beta2 ** (k - 1))
                       for k in range(1, 20000))


def adamw_momentum_factor(a: float, beta1: float = 0.9) -> float:
    return (1 + a * beta1) / (1 - a * beta1)


def test_momentum_factors_quoted_in_the_chapter() -> None:
    var_m = 0.01 / 1.99
    assert 0.9 * (0.1 * 0.01 + 0.9 * 0.99 * var_m) / (0.01 + 0.81 * var_m) == pytest.approx(
        0.350, abs=5e-4)
    assert lion_momentum_factor(1.0) == pytest.approx(45.9, abs=0.05)
    assert adamw_momentum_factor(1.0) == pytest.approx(19.0, abs=1e-9)
    assert lion_momentum_factor(0.98) == pytest.approx(15.9, abs=0.05)
    assert adamw_momentum_factor(0.98) == pytest.approx(15.9, abs=0.06)
    a = 1 - 1e-4
    assert lion_momentum_factor(a) == pytest.approx(45.5, abs=0.05)
    assert adamw_momentum_factor(a) == pytest.approx(19.0, abs=0.05)
    ratio = lion_momentum_factor(a) / adamw_momentum_factor(a)
    assert ratio == pytest.approx(2.4, abs=0.05)
    assert math.sqrt(ratio) == pytest.approx(1.55, abs=0.005)


@pytest.mark.parametrize("which", ["lion", "adamw"])
def test_momentum_multiplies_the_equilibrium_by_its_factor(which: str) -> None:
    # Pure noise, default betas, eta lambda = 0.02: E[theta^2] -> eta^2 r^2 F(a) / (1 - a^2).
    # Without the factor (the uncorrelated model) the measurement would be ~16 times smaller.
    lr, wd, n = 0.01, 2.0, 20000
    a = 1 - lr * wd
    gen = torch.Generator().manual_seed(6)
    p = torch.zeros(n, dtype=torch.float64, requires_grad=True)
    if which == "lion":
        opt = Lion([p], lr=lr, weight_decay=wd)
        target = lr * lr * lion_momentum_factor(a) / (1 - a * a)
    else:
        opt = torch.optim.AdamW([p], lr=lr, weight_decay=wd, eps=0.0)
        r_a = adam_rms_noise_only(0.9)
        target = lr * lr * r_a * r_a * adamw_momentum_factor(a) / (1 - a * a)
    for _ in range(3000):  # 0.98^3000 and 0.999^3000: start and warm-up forgotten
        p.grad = torch.randn(n, generator=gen, dtype=torch.float64)
        opt.step()
    mean_square = p.detach().pow(2).mean().item()
    # theta is close to normal: 5 standard errors of the mean of theta^2, plus 1 % for
    # AdamW's fluctuating v_t.
    assert abs(mean_square - target) < (5 * math.sqrt(2 / n) + 0.01) * target


def test_lr_and_decay_conversion_keeps_the_equilibrium() -> None:
    # Uncorrelated steps: Lion (r = 1) at eta r_A, lambda / r_A settles where AdamW
    # (r = r_A) settles at eta, lambda.
    r_a, lr, wd = adam_rms_noise_only(0.9), 1e-3, 0.1
    lion = equilibrium_mean_square(lr * r_a, wd / r_a, 1.0)
    adamw = equilibrium_mean_square(lr, wd, r_a)
    assert lion == pytest.approx(adamw, rel=1e-12)
    # ... and the relative step sqrt(eta lambda (2 - eta lambda)) depends on eta lambda only.
    for eta, lam, r in ((lr * r_a, wd / r_a, 1.0), (lr, wd, r_a)):
        relative = eta * r / math.sqrt(equilibrium_mean_square(eta, lam, r))
        assert relative == pytest.approx(math.sqrt(lr * wd * (2 - lr * wd)), rel=1e-12)


def test_noisy_quadratic_both_regimes() -> None:
    # The figure's claims: at AdamW's lr Lion plateaus much higher; at r_A times it Lion
    # plateaus near AdamW, and it is slower while the gradient is consistent.
    lr, steps, r_a = 1e-2, 1500, adam_rms_noise_only(0.9)
    adamw = noisy_quadratic(lambda p: torch.optim.AdamW(p, lr=lr, weight_decay=0.0),
                            steps=steps)
    same = noisy_quadratic(lambda p: Lion(p, lr=lr), steps=steps)
    scaled = noisy_quadratic(lambda p: Lion(p, lr=lr * r_a), steps=steps)
    plateau = {k: sum(v[-300:]) / 300 for k, v in
               (("adamw", adamw), ("same", same), ("scaled", scaled))}
    assert plateau["same"] > 3 * plateau["adamw"]
    assert plateau["adamw"] < plateau["scaled"] < 1.6 * plateau["adamw"]
    assert scaled[100] > 5 * adamw[100]


def test_state_is_half_of_adams() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(30, 40), torch.nn.Tanh(), torch.nn.Linear(40, 5))
    params = list(model.parameters())
    param_bytes = sum(p.numel() * p.element_size() for p in params)
    lion = Lion(params, lr=1e-4)
    adam = torch.optim.Adam(params, lr=1e-3, foreach=False)
    model(torch.randn(8, 30)).pow(2).mean().backward()
    lion.step()
    adam.step()
    assert state_bytes(lion) == param_bytes
    assert state_bytes(adam) == 2 * param_bytes + 4 * len(params)
    assert set(lion.state[params[0]]) == {"exp_avg"}
