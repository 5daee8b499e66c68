"""Adamax: argument checks and the chapter's limit.

Parity with torch.optim.Adamax (bitwise, dtypes, complex, state dicts, groups, tensor lr) is
in test_parity.py, with every chapter that has a torch twin.
"""

from __future__ import annotations

import math

import pytest
import torch

from labml_optim.adamax import Adamax, p_norm_average, running_max, step_bound

# ## Arguments
#
# torch's optim_db data (error inputs, argument sets) and the compiled step run for
# every chapter in test_torch_conformance.py and test_compile.py.


@pytest.mark.parametrize(("argument", "value", "torch_words"), [
    ("lr", -0.1, "Invalid learning rate: -0.1"),
    ("eps", -1.0, "Invalid epsilon value: -1.0"),
    ("weight_decay", -1.0, "Invalid weight_decay value: -1.0"),
    ("betas", (1.0, 0.9), "Invalid beta parameter at index 0: 1.0"),
])
def test_argument_errors_name_the_argument(argument, value, torch_words) -> None:
    name = "betas[0]" if argument == "betas" else argument
    with pytest.raises(ValueError) as raised:
        Adamax([torch.nn.Parameter(torch.ones(1))], **{argument: value})
    assert str(raised.value).startswith(name) and torch_words in str(raised.value)
    with pytest.raises(ValueError, match=torch_words):
        torch.optim.Adamax([torch.nn.Parameter(torch.ones(1))], **{argument: value})


@pytest.mark.parametrize("switch", ["foreach", "capturable", "differentiable"])
def test_other_paths_are_refused(switch: str) -> None:
    with pytest.raises(ValueError, match=f"^{switch}"):
        Adamax([torch.nn.Parameter(torch.ones(1))], **{switch: True})


# ## The infinity-norm limit


def sequence(n: int, seed: int) -> list[float]:
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(n, generator=gen, dtype=torch.float64) * 3).tolist()


@pytest.mark.parametrize("beta2", [0.9, 0.99, 0.999])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_p_norm_average_tends_to_the_running_max(beta2: float, seed: int) -> None:
    grads = sequence(120, seed)
    u = running_max(grads, beta2)
    gaps = []
    for p in (1, 2, 4, 16, 64, 256, 1024, 10_000):
        ratio = p_norm_average(grads, beta2, p) / u
        # The two bounds of the derivation, to rounding.
        assert (1 - beta2**p) ** (1 / p) * (1 - 1e-12) <= ratio
        assert ratio <= ((1 - beta2**p) * len(grads)) ** (1 / p) * (1 + 1e-12)
        gaps.append(abs(ratio - 1))
    assert gaps[-1] < 1e-3 and gaps[-1] < gaps[3]
    # p = 2 is Adam's raw second moment with beta2^2 as its decay.
    v = 0.0
    for g in grads:
        v = beta2**2 * v + (1 - beta2**2) * g * g
    assert p_norm_average(grads, beta2, 2) == pytest.approx(math.sqrt(v), rel=1e-12)


def test_running_max_is_the_max_of_decayed_gradients_and_the_optimizer_state() -> None:
    grads = sequence(80, 7)
    beta2 = 0.97
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = Adamax([p], betas=(0.9, beta2), eps=0.0)
    for t in range(1, len(grads) + 1):
        p.grad = torch.tensor([grads[t - 1]], dtype=torch.float64)
        opt.step()
        closed = max(beta2 ** (t - i) * abs(g) for i, g in enumerate(grads[:t], start=1))
        assert opt.state[p]["exp_inf"].item() == pytest.approx(closed, rel=1e-13)
        assert running_max(grads[:t], beta2) == pytest.approx(closed, rel=1e-13)


def test_bias_correction_vanishes_in_the_limit() -> None:
    """(1 - beta2^(p t))^(1/p) -> 1: the p-norm's correction divides by nearly 1."""
    beta2 = 0.999
    for t in (1, 2, 10):
        factors = [(1 - beta2 ** (p * t)) ** (1 / p) for p in (2, 16, 256, 4096, 65536)]
        assert factors[0] < factors[-1] and abs(factors[-1] - 1) < 1e-3
        assert all(a <= b for a, b in zip(factors, factors[1:], strict=False))


def test_first_step_is_exactly_lr_and_adam_would_be_32_times_off_without_correction() -> None:
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = Adamax([p], lr=0.1, eps=0.0)
    p.grad = torch.tensor([2.0, -0.01, 5e3], dtype=torch.float64)
    opt.step()
    torch.testing.assert_close(p.detach(), -0.1 * p.grad.sign(), rtol=1e-15, atol=0)
    # u_1 = |g_1| with no correction; Adam's raw sqrt(v_1) is sqrt(1 - 0.999) |g_1|.
    torch.testing.assert_close(opt.state[p]["exp_inf"], p.grad.abs())
    assert round(1 / math.sqrt(1 - 0.999)) == 32


# ## The step bound


def test_step_bound_is_attained_by_gradients_shrinking_by_beta2() -> None:
    beta1, beta2 = 0.9, 0.999
    assert step_bound(beta1, beta2, 1) == pytest.approx(1.0, rel=1e-15)
    limit = (1 - beta1) / (1 - beta1 / beta2)
    assert round(limit, 4) == 1.0091
    for t in (1, 5, 30, 300):
        grads = [beta2 ** -(t - i) for i in range(1, t + 1)]
        p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = Adamax([p], lr=1.0, betas=(beta1, beta2), eps=0.0)
        for g in grads:
            p.detach().zero_()
            p.grad = torch.tensor([g], dtype=torch.float64)
            opt.step()
        assert -p.item() == pytest.approx(step_bound(beta1, beta2, t), rel=1e-12)
    assert step_bound(beta1, beta2, 300) > 1.0
    assert step_bound(beta1, beta2, 5000) == pytest.approx(limit, rel=1e-9)


def test_random_gradients_stay_within_the_bound_and_beta1_zero_is_exactly_lr() -> None:
    gen = torch.Generator().manual_seed(1)
    p = torch.zeros(500, dtype=torch.float64, requires_grad=True)
    opt = Adamax([p], lr=1.0, eps=0.0)
    q = torch.zeros(500, dtype=torch.float64, requires_grad=True)
    opt_q = Adamax([q], lr=1.0, betas=(0.0, 0.999), eps=0.0)
    for t in range(1, 200):
        g = torch.randn(500, generator=gen, dtype=torch.float64) * torch.rand(
            500, generator=gen, dtype=torch.float64).exp()
        p.detach().zero_()
        q.detach().zero_()
        p.grad, q.grad = g.clone(), g.clone()
        opt.step()
        opt_q.step()
        assert p.abs().max().item() <= step_bound(0.9, 0.999, t) * (1 + 1e-12)
        assert q.abs().max().item() <= 1.0 + 1e-15
