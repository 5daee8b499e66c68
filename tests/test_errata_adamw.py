"""AdamW: why the decay follows the schedule, and the normalized decay (issue 9, pedagogy)."""

from __future__ import annotations

import math

import pytest
import torch

from labml_optim.adamw import AdamW

ETA = 0.1


def run_through_cosine(mode: str, weight_decay: float, steps: int = 4000) -> tuple[float, float]:
    """A coordinate pulled away from 0 (gradient -1, Adam direction exactly -1 with eps = 0)
    through a cosine schedule from 1 down to 0.05; returns theta and omega at the end."""
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = AdamW([theta], lr=ETA, eps=0.0, weight_decay=weight_decay, weight_decay_mode=mode)

    def omega(t: int) -> float:
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t / steps))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, omega)
    for _ in range(steps):
        theta.grad = torch.tensor([-1.0], dtype=torch.float64)
        opt.step()
        sched.step()
    return theta.item(), omega(steps - 1)


def test_paper_and_torch_decay_keep_the_fixed_point_through_the_schedule() -> None:
    """theta* = eta / lambda_paper ('schedule') and 1 / lambda ('lr'): omega drops out."""
    lam_paper = 0.01
    theta, _ = run_through_cosine("schedule", lam_paper)
    assert theta == pytest.approx(ETA / lam_paper, rel=0.02)
    theta, _ = run_through_cosine("lr", lam_paper / ETA)  # lambda_paper = eta * lambda
    assert theta == pytest.approx(1 / (lam_paper / ETA), rel=0.02)


def test_a_decay_that_ignores_the_schedule_pulls_the_weights_to_zero() -> None:
    """'constant': theta* = omega_t eta / lambda follows the annealed learning rate down."""
    lam = 0.01
    theta, omega_end = run_through_cosine("constant", lam)
    assert theta == pytest.approx(omega_end * ETA / lam, rel=0.1)
    assert theta < 0.1 * ETA / lam


def test_normalized_decay_total_exponent() -> None:
    """lambda_paper = lambda_norm sqrt(b/(B E)): four times the steps, half the decay per
    step, twice the total exponent, and (1 - lambda)^(BE/b) ~ exp(-lambda_norm sqrt(BE/b))."""
    lam_norm, b, points = 0.05, 128, 50_000

    def per_step(epochs: int) -> float:
        return lam_norm * math.sqrt(b / (points * epochs))

    def exponent(epochs: int) -> float:
        return -(points * epochs / b) * math.log1p(-per_step(epochs))

    assert per_step(400) / per_step(100) == pytest.approx(0.5)
    assert exponent(400) / exponent(100) == pytest.approx(2.0, rel=1e-4)
    assert exponent(100) == pytest.approx(lam_norm * math.sqrt(points * 100 / b), rel=1e-3)
