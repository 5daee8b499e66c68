"""Adam: the numbers the chapter's text quotes (issue 9, errata), each recomputed."""

from __future__ import annotations

import math

import pytest
import torch

from labml_optim.adam import Adam, measured_steps, step_bound
from labml_optim.lamb import LAMB

BETAS = (0.9, 0.999)


def first_step(lr: float, g: float) -> tuple[float, dict]:
    """One step of our Adam from 0 on a one-element parameter; its move and its state."""
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = Adam([p], lr=lr, betas=BETAS, eps=0.0)
    p.grad = torch.tensor([g], dtype=torch.float64)
    opt.step()
    return p.item(), opt.state[p]


@pytest.mark.parametrize("g", [1e-3, 0.7, 250.0])
def test_which_missing_correction_gives_32_and_which_3_16(g: float) -> None:
    """The text: m corrected, v not: 31.6 eta; neither corrected: 3.16 eta (first step)."""
    lr = 1e-3
    moved, state = first_step(lr, g)
    assert abs(moved) == pytest.approx(lr)  # the corrected step: exactly eta
    m, v = state["exp_avg"].item(), state["exp_avg_sq"].item()
    beta1, beta2 = BETAS
    m_hat_over_raw_v = lr * abs(m / (1 - beta1)) / math.sqrt(v)
    neither = lr * abs(m) / math.sqrt(v)
    assert m_hat_over_raw_v / lr == pytest.approx(31.6, abs=0.05)
    assert neither / lr == pytest.approx(3.16, abs=0.005)
    # LAMB's uncorrected variant without adaptation takes exactly that 3.16 eta step.
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = LAMB([p], lr=lr, betas=BETAS, eps=0.0, bias_correction=False, adapt=False)
    p.grad = torch.tensor([g], dtype=torch.float64)
    opt.step()
    assert abs(p.item()) == pytest.approx(neither, rel=1e-12)


def after_quiet_stretch(grads: list[float]) -> float:
    """|step|/eta of our Adam (eps = 0) at the last of `grads`, fed after 10^6 zero gradients.

    Zero gradients leave m = v = 0, so the quiet stretch is the state (step 10^6, zero
    moments), loaded directly: both bias corrections are then 1 to within 1e-400.
    """
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = Adam([p], lr=1.0, betas=BETAS, eps=0.0)
    opt.state[p] = {
        "step": torch.tensor(1e6),
        "exp_avg": torch.zeros(1, dtype=torch.float64),
        "exp_avg_sq": torch.zeros(1, dtype=torch.float64),
    }
    for g in grads:
        p.detach().zero_()
        p.grad = torch.tensor([g], dtype=torch.float64)
        opt.step()
    return abs(p.item())


def test_ten_percent_growth_after_a_quiet_stretch() -> None:
    """4.26 after 2 steps, 6.81 after 10, 7.21 after 20; limit 7.26; sharp limit 7.27."""
    one, two, ten, twenty = (
        after_quiet_stretch([1.1**k for k in range(1, n + 1)]) for n in (1, 2, 10, 20)
    )
    assert one == pytest.approx(3.16, abs=0.005)  # the lone spike: the paper's bound
    assert two == pytest.approx(4.26, abs=0.005)
    assert ten == pytest.approx(6.81, abs=0.005)
    assert twenty == pytest.approx(7.21, abs=0.005)
    # The optimizer run through a real quiet stretch of 3000 steps gives the same, times
    # the bias corrections still left at t = 3002.
    quiet = [1e-100] * 3000
    t = len(quiet) + 2
    left = math.sqrt(1 - BETAS[1] ** t) / (1 - BETAS[0] ** t)
    assert measured_steps([quiet + [1.1, 1.21]], *BETAS)[0] == pytest.approx(two * left, rel=1e-9)
    beta1, beta2 = BETAS
    r = 1.1
    limit = (1 - beta1) / math.sqrt(1 - beta2) / (1 - beta1 / r) * math.sqrt(1 - beta2 / r**2)
    assert limit == pytest.approx(7.26, abs=0.005)
    assert twenty < limit < step_bound(beta1, beta2, 10**6)
    assert step_bound(beta1, beta2, 10**6) == pytest.approx(7.27, abs=0.005)
    assert beta2 / beta1 == pytest.approx(1.11, abs=0.005)


@pytest.mark.parametrize("eps", [1.0, 10.0])
def test_large_eps_is_momentum_sgd_at_lr_eta_over_eps(eps: float) -> None:
    """sqrt(v_hat) << eps: the step is (eta/eps) m_hat to within sqrt(v_hat)/eps, relatively."""
    torch.manual_seed(0)
    lr, beta1, beta2 = 1e-2, *BETAS
    grads = 1e-3 * (0.3 + torch.randn(50, 4, dtype=torch.float64))
    p = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    opt = Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)
    m = torch.zeros(4, dtype=torch.float64)
    v = torch.zeros(4, dtype=torch.float64)
    for t in range(1, 51):
        before = p.detach().clone()
        p.grad = grads[t - 1].clone()
        opt.step()
        m = beta1 * m + (1 - beta1) * grads[t - 1]
        v = beta2 * v + (1 - beta2) * grads[t - 1] ** 2
        m_hat = m / (1 - beta1**t)
        ratio = (v / (1 - beta2**t)).sqrt() / eps
        sgd_step = -(lr / eps) * m_hat
        actual = p.detach() - before
        assert torch.all((actual - sgd_step).abs() <= ratio * sgd_step.abs() + 1e-18)
        assert ratio.max() < 1e-2
