"""NAdam: argument checks and the chapter's formulas.

Parity with torch.optim.NAdam (bitwise, dtypes, complex, state dicts, groups, tensor lr) is
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

from labml_optim.nadam import (
    NAdam,
    constant_gradient_step,
    gradient_weights,
    momentum_schedule,
)

# ## Arguments
#
# torch's optim_db data (error inputs, argument sets) and the compiled step run for
# every chapter in test_torch_conformance.py and test_compile.py.


@pytest.mark.parametrize(("argument", "value", "torch_words"), [
    ("lr", -0.1, "Invalid learning rate: -0.1"),
    ("eps", -1.0, "Invalid epsilon value: -1.0"),
    ("weight_decay", -1.0, "Invalid weight_decay value: -1.0"),
    ("momentum_decay", -0.2, "Invalid momentum_decay value: -0.2"),
    ("betas", (0.9, 1.0), "Invalid beta parameter at index 1: 1.0"),
])
def test_argument_errors_name_the_argument(argument, value, torch_words) -> None:
    name = "betas[1]" if argument == "betas" else argument
    with pytest.raises(ValueError) as raised:
        NAdam([torch.nn.Parameter(torch.ones(1))], **{argument: value})
    assert str(raised.value).startswith(name) and torch_words in str(raised.value)
    with pytest.raises(ValueError, match=torch_words):
        torch.optim.NAdam([torch.nn.Parameter(torch.ones(1))], **{argument: value})


@pytest.mark.parametrize("switch", ["foreach", "capturable", "differentiable"])
def test_other_paths_are_refused(switch: str) -> None:
    with pytest.raises(ValueError, match=f"^{switch}"):
        NAdam([torch.nn.Parameter(torch.ones(1))], **{switch: True})


# ## Nesterov momentum is a look-ahead


def test_nesterov_is_classical_momentum_with_next_steps_buffer() -> None:
    """Nesterov's two-point method, run on theta, equals torch's SGD(nesterov=True) run on
    the look-ahead point phi = theta - lr * mu * b (the derivation's first section)."""
    a = torch.tensor([[3.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
    grad = lambda x: a @ x  # noqa: E731
    lr, mu = 0.1, 0.9
    theta = torch.tensor([1.0, -2.0], dtype=torch.float64)
    b = torch.zeros(2, dtype=torch.float64)
    phi = theta.clone().requires_grad_()
    sgd = torch.optim.SGD([phi], lr=lr, momentum=mu, nesterov=True)
    for _ in range(30):
        b = mu * b + grad(theta - lr * mu * b)
        theta = theta - lr * b
        phi.grad = grad(phi.detach())
        sgd.step()
        torch.testing.assert_close(phi.detach(), theta - lr * mu * b, rtol=0, atol=1e-13)


@pytest.fixture
def float64_default():
    """`mu_product` is kept in the default float dtype, as torch keeps it: float64 here, so
    that the comparison with the formulas is not limited by a float32 product."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def test_update_is_the_weighted_sum_of_gradients(float64_default) -> None:
    """The step equals -lr * sum_k w_k g_{t-k} / (sqrt(v_hat) + eps) with the weights of
    the chapter's unrolled m_bar, at every step (float64)."""
    gen = torch.Generator().manual_seed(4)
    grads = [torch.randn(6, generator=gen, dtype=torch.float64) for _ in range(40)]
    for beta1, psi in ((0.9, 4e-3), (0.7, 0.3), (0.9, 0.0)):
        p = torch.zeros(6, dtype=torch.float64, requires_grad=True)
        opt = NAdam([p], lr=1.0, betas=(beta1, 0.99), eps=1e-3, momentum_decay=psi)
        v = torch.zeros(6, dtype=torch.float64)
        for t in range(1, len(grads) + 1):
            p.detach().zero_()
            p.grad = grads[t - 1].clone()
            opt.step()
            v = 0.99 * v + 0.01 * grads[t - 1] ** 2
            w = gradient_weights(t, beta1, psi)
            m_bar = sum(w[k] * grads[t - 1 - k] for k in range(t))
            want = -m_bar / ((v / (1 - 0.99**t)).sqrt() + 1e-3)
            torch.testing.assert_close(p.detach(), want, rtol=1e-12, atol=1e-14)


def test_current_gradient_weighs_about_twice_as_much_as_in_adam() -> None:
    """Late in training the weight of g_t is beta1 (1 - beta1) + (1 - beta1) = 0.19 for
    beta1 = 0.9, and each older gradient weighs about beta1 times its weight in Adam."""
    w = gradient_weights(200, 0.9, 1e4)  # constant mu = beta1
    assert w[0] == pytest.approx(0.19, abs=1e-9)
    adam = [0.1 * 0.9**k / (1 - 0.9**200) for k in range(200)]
    for k in range(1, 20):
        assert w[k] / adam[k] == pytest.approx(0.9, rel=1e-9)


# ## The schedule and the product term


def test_schedule_numbers_quoted_in_the_text() -> None:
    assert momentum_schedule(1) == pytest.approx(0.4501, abs=5e-5)
    half = math.log(2) / (4e-3 * math.log(1 / 0.96))
    assert round(half) == 4245
    assert momentum_schedule(half) == pytest.approx(0.75 * 0.9, rel=1e-12)
    one_percent = math.log(50) / (4e-3 * math.log(1 / 0.96))
    assert round(one_percent) == 23958
    assert momentum_schedule(one_percent) == pytest.approx(0.99 * 0.9, rel=1e-12)
    assert momentum_schedule(one_percent - 1) < 0.99 * 0.9 < momentum_schedule(one_percent + 1)
    # momentum_decay = 0 is not "no schedule": mu_t = beta1 / 2 at every step.
    assert all(momentum_schedule(t, 0.9, 0.0) == 0.45 for t in (1, 10, 10**6))
    assert momentum_schedule(5, 0.9, 1e4) == 0.9


def test_mu_product_in_the_state_is_the_product_of_the_schedule(float64_default) -> None:
    p = torch.nn.Parameter(torch.ones(2))
    opt = NAdam([p], momentum_decay=0.05)
    product = 1.0
    for t in range(1, 50):
        p.grad = torch.ones(2)
        opt.step()
        product *= momentum_schedule(t, 0.9, 0.05)
        assert opt.state[p]["mu_product"].item() == pytest.approx(product, rel=1e-13)


def test_varying_coefficient_average_misses_the_product() -> None:
    """a_t = mu_t a_{t-1} + (1 - mu_t) * 1 from 0 gives 1 - prod mu_i."""
    a, product = 0.0, 1.0
    for t in range(1, 300):
        mu = momentum_schedule(t, 0.95, 0.01)
        a = mu * a + (1 - mu)
        product *= mu
        assert a == pytest.approx(1 - product, abs=1e-14)


def measured_constant_gradient_steps(steps: int, momentum_decay: float) -> list[float]:
    """|step| / lr on a constant gradient (eps = 0), the parameter reset to 0 each step."""
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = NAdam([p], lr=1.0, eps=0.0, momentum_decay=momentum_decay)
    out = []
    for _ in range(steps):
        p.detach().zero_()
        p.grad = torch.ones(1, dtype=torch.float64)
        opt.step()
        out.append(-p.item())
    return out


def test_constant_gradient_step_matches_s_t_and_the_quoted_numbers(float64_default) -> None:
    measured = measured_constant_gradient_steps(200, 4e-3)
    for t, s in enumerate(measured, start=1):
        assert s == pytest.approx(constant_gradient_step(t), rel=1e-12)
    assert measured[0] == pytest.approx(1.056, abs=5e-4)
    t_min = min(range(200), key=lambda i: measured[i]) + 1
    assert t_min == 4 and measured[3] == pytest.approx(0.731, abs=5e-4)
    assert 1 - measured[3] == pytest.approx(0.27, abs=5e-3)
    back = next(t for t in range(5, 200) if measured[t - 1] > 0.99)
    assert back == 37
    assert all(s > 0.99 for s in measured[36:])
    # Constant mu = beta1: the first step is 1 + beta1 / (1 + beta1) = 1.474 times Adam's.
    const = measured_constant_gradient_steps(300, 1e4)
    assert const[0] == pytest.approx(1 + 0.9 / 1.9, rel=1e-9)
    assert round(const[0], 3) == 1.474
    assert const[-1] == pytest.approx(1.0, abs=1e-9)


# ## NAdamW


def test_nadamw_step_is_an_undecayed_step_from_the_shrunk_parameter() -> None:
    params = [p for p in make_params(dtype=torch.float64) if p.numel()]
    grads = make_gradients(params, 12)
    lr, wd = 0.01, 0.3
    a = clone_params(params)
    opt_a = NAdam(a, lr=lr, weight_decay=wd, decoupled_weight_decay=True)
    b = clone_params(params)
    opt_b = NAdam(b, lr=lr)
    for g in grads:
        g = [torch.zeros_like(p) if x is None else x for p, x in zip(params, g, strict=True)]
        for p in b:
            p.detach().mul_(1 - lr * wd)
        apply_step(opt_a, a, g)
        apply_step(opt_b, b, g)
        for x, y in zip(a, b, strict=True):
            torch.testing.assert_close(x, y, rtol=1e-14, atol=1e-15)


def test_l2_and_decoupled_decay_differ() -> None:
    params = make_params()
    grads = make_gradients(params, 20)
    runs = []
    for decoupled in (False, True):
        ps = clone_params(params)
        opt = NAdam(ps, lr=0.01, weight_decay=0.3, decoupled_weight_decay=decoupled)
        for g in grads:
            apply_step(opt, ps, g)
        runs.append(ps[0].detach())
    assert (runs[0] - runs[1]).abs().max() > 1e-4
