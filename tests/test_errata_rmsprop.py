"""RMSprop: the numbers the chapter's text quotes (issue 9, errata), recomputed."""

from __future__ import annotations

import math

import pytest
import torch

from labml_optim.rmsprop import RMSprop


def expected_centered_scale(t: int, beta: float = 0.99, mean: float = 1.0, sd: float = 0.2):
    """sqrt(E[v_t - m_t^2]) = sqrt((A - B) sd^2 + A (1 - A) mean^2), from the text."""
    a = 1 - beta**t
    b = (1 - beta) * (1 - beta ** (2 * t)) / (1 + beta)
    return math.sqrt((a - b) * sd**2 + a * (1 - a) * mean**2)


def test_the_centered_bump_lasts_a_few_hundred_steps() -> None:
    scales = [expected_centered_scale(t) for t in range(1, 2000)]
    assert scales[0] == pytest.approx(0.10, abs=0.005)
    peak = max(range(len(scales)), key=scales.__getitem__) + 1
    assert peak == 73
    assert scales[peak - 1] == pytest.approx(0.52, abs=0.005)
    assert round(math.log(2) / math.log(1 / 0.99)) == 69
    above = [t for t, s in enumerate(scales, start=1) if s > 1.1 * 0.2]
    assert max(above) == 468


def test_the_expectation_matches_the_optimizer() -> None:
    """Monte Carlo on the optimizer's own state (4000 coordinates) at t = 73 and 468."""
    gen = torch.Generator().manual_seed(1)
    p = torch.zeros(4000, dtype=torch.float64, requires_grad=True)
    opt = RMSprop([p], lr=0.0, centered=True)
    for t in range(1, 469):
        p.grad = 1.0 + 0.2 * torch.randn(4000, generator=gen, dtype=torch.float64)
        opt.step()
        if t in (73, 468):
            state = opt.state[p]
            diff = state["square_avg"] - state["grad_avg"] ** 2
            assert diff.mean().sqrt().item() == pytest.approx(expected_centered_scale(t),
                                                               rel=0.02)


def test_centered_travels_about_25_percent_further_on_the_noisy_coordinate() -> None:
    """The figure's right panel, rerun with its seed: 1.87 against 1.49 from 3."""
    gen = torch.Generator().manual_seed(0)
    f64 = torch.float64
    # The figure draws its left panel's stream first, from the same generator.
    torch.randn(3000, generator=gen, dtype=f64)
    steps, sigma = 2000, torch.tensor([0.05, 2.0], dtype=f64)
    noise = sigma * torch.randn(steps, 2, generator=gen, dtype=f64)
    travelled = {}
    for centered in (False, True):
        theta = torch.full((2,), 3.0, dtype=f64, requires_grad=True)
        opt = RMSprop([theta], lr=1e-3, centered=centered)
        for t in range(steps):
            theta.grad = theta.detach() + noise[t]
            opt.step()
        travelled[centered] = 3.0 - theta[1].item()
    assert travelled[False] == pytest.approx(1.49, abs=0.005)
    assert travelled[True] == pytest.approx(1.87, abs=0.005)
    assert travelled[True] / travelled[False] == pytest.approx(1.25, abs=0.01)
