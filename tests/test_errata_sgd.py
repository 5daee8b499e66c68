"""SGD: the numbers and cases the chapter's text states (issue 9, errata), recomputed."""

from __future__ import annotations

import math

import pytest
import torch

from labml_optim.sgd import SGD


def tuned(kappa: float) -> dict[str, tuple[float, float, float]]:
    """(lr, momentum, predicted rate) of the tuned heavy ball and Nesterov, h in [1, kappa]."""
    root = math.sqrt(kappa)
    mu_hb = ((root - 1) / (root + 1)) ** 2
    return {
        "heavy ball": (4 / (root + 1) ** 2, mu_hb, (root - 1) / (root + 1)),
        "nesterov": (1 / kappa, (root - 1) / (root + 1), 1 - 1 / root),
    }


def steps_to(kappa: float, name: str, tol: float = 1e-12) -> int:
    """Steps our SGD takes on f = (x^2 + kappa y^2)/2 until |theta| < tol |theta_0|."""
    lr, mu, _ = tuned(kappa)[name]
    theta = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    h = torch.tensor([1.0, kappa], dtype=torch.float64)
    opt = SGD([theta], lr=lr, momentum=mu, nesterov=name == "nesterov")
    for t in range(1, 100_000):
        theta.grad = h * theta.detach()
        opt.step()
        if theta.detach().norm() < tol * math.sqrt(2):
            return t
    raise AssertionError("no convergence")


@pytest.mark.parametrize(("kappa", "quoted"), [(25, 1.82), (100, 1.90), (1e4, 1.99)])
def test_nesterov_needs_about_twice_the_steps_of_the_tuned_heavy_ball(kappa, quoted) -> None:
    rates = tuned(kappa)
    ratio = math.log(rates["heavy ball"][2]) / math.log(rates["nesterov"][2])
    assert ratio == pytest.approx(quoted, abs=0.005)
    if kappa <= 100:  # the optimizers agree: measured steps to 1e-12, same ratio within 10 %
        measured = steps_to(kappa, "nesterov") / steps_to(kappa, "heavy ball")
        assert measured == pytest.approx(quoted, rel=0.1)


def test_steepest_coordinate_one_step_for_sutskever_two_for_torch() -> None:
    """eta = 1/h_max: Sutskever's theta_1 = 0; torch's parameters are -mu theta_0, then 0."""
    kappa, theta0 = 25.0, 3.0
    lr, mu, _ = tuned(kappa)["nesterov"]
    theta = torch.tensor([theta0], dtype=torch.float64, requires_grad=True)
    opt = SGD([theta], lr=lr, momentum=mu, nesterov=True)
    path = []
    for _ in range(2):
        theta.grad = kappa * theta.detach()
        opt.step()
        path.append(theta.item())
    assert path[0] == pytest.approx(-mu * theta0, rel=1e-12)
    assert abs(path[1]) < 1e-14
    # Sutskever's sequence: theta_1 = theta_0 + Delta_1, Delta_1 = -eta grad(theta_0).
    assert theta0 - lr * kappa * theta0 == 0.0


@pytest.mark.parametrize("kappa", [25.0, 100.0])
def test_tuned_heavy_ball_has_double_roots_at_both_ends(kappa: float) -> None:
    """At (eta*, mu*) the discriminant is 0 for h_min and h_max: roots +sqrt(mu*), -sqrt(mu*)."""
    lr, mu, rate = tuned(kappa)["heavy ball"]
    for h, root in ((1.0, rate), (kappa, -rate)):
        b = 1 + mu - lr * h
        assert b * b - 4 * mu == pytest.approx(0.0, abs=1e-14)
        assert b / 2 == pytest.approx(root, rel=1e-12)
    # Strictly inside the band the roots are complex, of modulus exactly sqrt(mu*).
    h = math.sqrt(kappa)
    roots = torch.linalg.eigvals(torch.tensor([[1 + mu - lr * h, -mu], [1.0, 0.0]],
                                              dtype=torch.float64))
    assert roots.imag.abs().min() > 0
    assert roots.abs().tolist() == pytest.approx([rate, rate], rel=1e-12)
