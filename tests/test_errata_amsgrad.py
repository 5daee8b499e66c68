"""AMSGrad: the numbers the chapter's text and figure quote (issue 9, errata), recomputed."""

from __future__ import annotations

import math

import pytest
import torch

from labml_optim.amsgrad import (
    AMSGrad,
    adam_101_path,
    counterexample_gradient,
    run_counterexample,
)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_the_fast_101_step_path_is_torchs(amsgrad: bool) -> None:
    """The figure's plain-float run equals the optimizer's over the first 1000 steps."""
    marks = list(range(1, 1001))
    make = AMSGrad if amsgrad else torch.optim.Adam
    _, path101, _ = run_counterexample(make, 1000)
    fast = adam_101_path(0.99, 1000, marks, amsgrad=amsgrad)
    assert max(abs(a - b) for a, b in zip(fast, path101, strict=True)) < 1e-9


def test_beta2_0999_drifts_to_plus_one_only_slowly() -> None:
    """-0.35 at 3000, -0.24 at 1e4, +0.17 at 1e5, +1.0 at 1e6 steps; 0.9999 goes to -0.99."""
    marks = [3000, 10**4, 10**5, 10**6]
    x = adam_101_path(0.999, 10**6, marks)
    assert x[0] == pytest.approx(-0.35, abs=0.005)
    assert x[1] == pytest.approx(-0.24, abs=0.005)
    assert x[2] == pytest.approx(0.17, abs=0.005)
    assert x[3] == 1.0
    assert adam_101_path(0.9999, 10**6, [10**6])[0] == pytest.approx(-0.99, abs=0.005)
    assert adam_101_path(0.99, 10**6, [10**6], amsgrad=True)[0] < -0.99


def net_move_per_period(beta2: float, periods: int) -> float:
    """Steady-cycle net move of Adam (beta1 = 0.9) over one period, in units of the lr.

    Constant lr 1, no projection, no bias correction (long after the start): the sum of
    -m_t/sqrt(v_t) over the last period. Positive is upwards, towards the worst point.
    """
    beta1, m, v, t, total = 0.9, 0.0, 0.0, 0, 0.0
    for _ in range(periods):
        total = 0.0
        for _ in range(101):
            t += 1
            g = counterexample_gradient(t, 101, 1010.0, 10.0)
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            total -= m / math.sqrt(v)
    return total


@pytest.mark.parametrize(("beta2", "periods", "quoted"), [
    (0.99, 300, 1.90), (0.999, 3000, 0.105), (0.9999, 30_000, -0.079),
])
def test_net_move_per_period(beta2: float, periods: int, quoted: float) -> None:
    digits = 10 ** -(len(str(quoted).split(".")[1]))
    assert net_move_per_period(beta2, periods) == pytest.approx(quoted, abs=digits / 2)


def test_three_step_example_with_beta2_0999_converges() -> None:
    """(beta1, beta2) = (0, 0.999) on the three-step problem goes to the optimum -1."""
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([x], lr=0.5, betas=(0.0, 0.999))
    for t in range(1, 3001):
        opt.param_groups[0]["lr"] = 0.5 / t**0.5
        x.grad = torch.tensor([counterexample_gradient(t, 3, 3.0, 1.0)], dtype=torch.float64)
        opt.step()
        with torch.no_grad():
            x.clamp_(-1.0, 1.0)
    assert x.item() < -0.98


@pytest.mark.parametrize("c", [2.5, 3.0, 10.0])
def test_period_limit_in_units_of_the_first_step(c: float) -> None:
    """The net move per period over eta_t tends to (sqrt 2 - 1) sqrt(1 + C^2)/C, and the
    setup's condition eta < sqrt(1 - beta2) is C/sqrt(1 + C^2)."""
    beta2 = 1 / (1 + c * c)
    assert math.sqrt(1 - beta2) == pytest.approx(c / math.sqrt(1 + c * c))

    def ratio(t: int) -> float:
        return math.sqrt(1 + c * c) / c * (
            (math.sqrt(t / (t + 1)) + math.sqrt(t / (t + 2))) / math.sqrt(2) - 1
        )

    limit = (math.sqrt(2) - 1) * math.sqrt(1 + c * c) / c
    assert ratio(10**8) == pytest.approx(limit, rel=1e-7)
    assert ratio(10) < limit  # approached from below: "from some period on"
