"""Every formula of the RAdam chapter, checked against an independent computation.

Sections follow the page: (1) the adaptive learning rate, (2) rho_t from the EMA's mean
age, (3) the distribution of psi^2, (4) its mean, (5) its variance, (6) the delta method,
(7) r_t, (8) the exact variance of psi, then the thresholds. Monte Carlo draws psi^2
from its definition: rho over a sum of rho squared Gaussians.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache

import numpy as np
import pytest
from scipy import integrate, special, stats

from labml_optim.radam import (
    psi_variance_exact,
    psi_variance_first_order,
    rectification,
    sma_length,
)

SIGMA = 1.7
N_SAMPLES = 2_000_000


@cache
def psi_squared_samples(rho: int) -> np.ndarray:
    """psi^2 = rho / sum of rho squared N(0, SIGMA^2) gradients, N_SAMPLES times."""
    rng = np.random.default_rng(1000 + rho)
    out = np.empty(N_SAMPLES)
    chunk = max(1, 4_000_000 // rho)
    for start in range(0, N_SAMPLES, chunk):
        n = min(chunk, N_SAMPLES - start)
        g = SIGMA * rng.standard_normal((n, rho))
        out[start:start + n] = rho / np.einsum("ij,ij->i", g, g)
    return out


def mean_age_direct(t: int, beta: float) -> float:
    """Mean age of the bias-corrected EMA's weights, summed term by term."""
    weights = [(1 - beta) * beta**age for age in range(t)]
    total = math.fsum(weights)
    return math.fsum(age * w for age, w in enumerate(weights)) / total


def rho_direct(t: int, beta: float) -> float:
    """Length f of the SMA with the same mean age: (f - 1) / 2 = mean age."""
    return 2 * mean_age_direct(t, beta) + 1


# ## (1) The adaptive learning rate at t = 1


def test_first_adaptive_rate_has_a_heavy_tail() -> None:
    """psi_1 = 1/|g_1|: P(psi_1 > k/sigma) = erf(1/(k sqrt 2)) ~ 0.80/k."""
    rng = np.random.default_rng(5)
    g = SIGMA * rng.standard_normal(N_SAMPLES)
    psi1 = 1 / np.abs(g)
    for k in (2, 10, 100):
        p = math.erf(1 / (k * math.sqrt(2)))
        measured = np.mean(psi1 > k / SIGMA)
        assert abs(measured - p) < 5 * math.sqrt(p * (1 - p) / N_SAMPLES), (k, measured, p)
    # The tail ~ 0.80/k (so E[psi_1] diverges), and one coordinate in 125 beyond k = 100.
    assert 100 * math.erf(1 / (100 * math.sqrt(2))) == pytest.approx(math.sqrt(2 / math.pi),
                                                                   rel=1e-4)
    assert round(1 / math.erf(1 / (100 * math.sqrt(2)))) == 125
    # E[psi_1] = integral of P(psi_1 > x) dx diverges like log: the partial integrals grow.
    tail = [math.erf(1 / (k * math.sqrt(2))) for k in range(1, 10**5)]
    assert math.fsum(tail[: 10**4]) > 7 and math.fsum(tail) > math.fsum(tail[: 10**4]) + 1.5


# ## (2) From the EMA to an SMA: rho_t


@pytest.mark.parametrize("beta", [0.5, 0.8, 0.9, 0.99, 0.999, 0.9999])
def test_rho_t_is_the_sma_length_with_the_emas_mean_age(beta: float) -> None:
    rho_inf = 2 / (1 - beta) - 1
    for t in (1, 2, 3, 5, 6, 10, 100, 1000, 5000):
        # The closed form subtracts two numbers near rho_inf and divides by 1 - beta^t, which
        # itself cancels: its rounding error is a few ulps of rho_inf / (1 - beta^t).
        rounding = 4 * rho_inf * 2.0**-52 / (1 - beta**t)
        assert sma_length(t, beta) == pytest.approx(rho_direct(t, beta), rel=1e-12,
                                                    abs=rounding)


def test_closed_form_cancellation_quoted_in_sma_length() -> None:
    error = abs(sma_length(2, 0.9999) - rho_direct(2, 0.9999))
    assert f"{error:.0e}" == "5e-09"


def test_mean_age_closed_form_exactly() -> None:
    """A_t = beta/(1-beta) - t beta^t/(1-beta^t), and rho_1 = 1, in exact rationals."""
    for beta in (Fraction(9, 10), Fraction(999, 1000), Fraction(1, 3)):
        rho_inf = 2 / (1 - beta) - 1
        assert rho_inf == 1 + 2 * beta / (1 - beta) == (1 + beta) / (1 - beta)
        for t in range(1, 30):
            weights = [(1 - beta) * beta**a / (1 - beta**t) for a in range(t)]
            assert sum(weights) == 1
            age = sum(a * w for a, w in enumerate(weights))
            assert age == beta / (1 - beta) - t * beta**t / (1 - beta**t)
            assert 2 * age + 1 == rho_inf - 2 * t * beta**t / (1 - beta**t)
        assert 2 * 0 + 1 == rho_inf - 2 * beta / (1 - beta)  # rho_1 = 1 exactly
    assert sma_length(1, 0.999) == pytest.approx(1.0, abs=1e-12)


def test_rho_inf_is_the_limit() -> None:
    for beta in (0.5, 0.9, 0.99):
        assert rho_direct(200_000, beta) == pytest.approx(2 / (1 - beta) - 1, rel=1e-9)


def test_the_values_quoted_on_the_page() -> None:
    beta = 0.999
    assert 2 / (1 - beta) - 1 == pytest.approx(1999)
    quoted = {2: 1.9995, 3: 2.9987, 5: 4.996, 6: 5.994}
    for t, value in quoted.items():
        decimals = len(str(value).split(".")[1])
        assert round(rho_direct(t, beta), decimals) == value
    # For beta2 = 0.9995, rho_inf is about 4000 (the paper's NMT setting).
    assert round(2 / (1 - 0.9995) - 1) == 3999


# ## (3) psi^2 is scaled inverse chi-squared, i.e. inverse gamma


@pytest.mark.parametrize("rho", [6, 10, 30])
def test_psi_squared_is_inverse_gamma(rho: int) -> None:
    x = psi_squared_samples(rho)[:200_000]
    right = stats.invgamma(a=rho / 2, scale=rho / (2 * SIGMA**2))
    assert stats.kstest(x, right.cdf).pvalue > 1e-3
    # A wrong scale (sigma for sigma^2) is rejected outright.
    wrong = stats.invgamma(a=rho / 2, scale=rho / (2 * SIGMA))
    assert stats.kstest(x, wrong.cdf).pvalue < 1e-6
    # Scale-inv-chi^2(rho, tau^2) = rho tau^2 / chi^2_rho is the same distribution.
    tau2 = 1 / SIGMA**2
    for q in (0.05, 0.3, 0.7):
        assert right.cdf(q) == pytest.approx(stats.chi2(rho).sf(rho * tau2 / q), rel=1e-10)


# ## (4) and (5) Its mean and variance


def inverse_gamma_moment(k: float, rho: float) -> float:
    """E[X^k] = b^k Gamma(a - k) / Gamma(a), a = rho/2, b = rho / (2 sigma^2)."""
    a, b = rho / 2, rho / (2 * SIGMA**2)
    return b**k * math.exp(math.lgamma(a - k) - math.lgamma(a))


@pytest.mark.parametrize("rho", [6, 10, 30])
def test_mean_of_psi_squared(rho: int) -> None:
    x = psi_squared_samples(rho)
    formula = rho / ((rho - 2) * SIGMA**2)
    assert formula == pytest.approx(inverse_gamma_moment(1, rho), rel=1e-12)
    se = x.std() / math.sqrt(len(x))
    assert abs(x.mean() - formula) < 5 * se


# Relative tolerances for the sample variance. At rho = 6 the fourth moment of psi^2 is
# infinite (it needs rho > 8), so the sample variance converges slowly.
VARIANCE_TOLERANCE = {6: 0.10, 10: 0.03, 30: 0.02}


@pytest.mark.parametrize("rho", [6, 10, 30])
def test_variance_of_psi_squared_and_the_wrong_formulas(rho: int) -> None:
    x = psi_squared_samples(rho)
    right = 2 * rho**2 / ((rho - 2) ** 2 * (rho - 4) * SIGMA**4)
    second = inverse_gamma_moment(2, rho) - inverse_gamma_moment(1, rho) ** 2
    assert right == pytest.approx(second, rel=1e-12)
    tol = VARIANCE_TOLERANCE[rho]
    measured = x.var()
    assert measured == pytest.approx(right, rel=tol)
    # The formula printed by a widely read annotated page, and a near miss with
    # (rho - 2) in place of (rho - 4): the same samples reject both.
    printed = 2 * rho / SIGMA**4 / ((rho - 2) ** 2 * (rho - 2))
    near_miss = 2 * rho**2 / ((rho - 2) ** 3 * SIGMA**4)
    for wrong in (printed, near_miss):
        assert measured != pytest.approx(wrong, rel=tol)


def test_moments_are_infinite_early() -> None:
    """E[psi^2] needs rho > 2, Var[psi^2] rho > 4: with beta2 = 0.999 that is t >= 3, t >= 5."""
    rho = [rho_direct(t, 0.999) for t in range(1, 7)]
    assert rho[1] < 2 < rho[2]  # t = 2, 3
    assert rho[3] < 4 < rho[4]  # t = 4, 5
    # At rho = 2 the integral for E[X] diverges: its partial integrals grow like log.
    pdf = stats.invgamma(a=1.0, scale=1.0).pdf
    parts = [integrate.quad(lambda x: x * pdf(x), 0, top, limit=200)[0] for top in (1e2, 1e4)]
    assert parts[1] - parts[0] == pytest.approx(math.log(100), rel=0.01)


# ## (6) The delta method


def test_delta_method_algebra() -> None:
    for rho in (4.5, 6.0, 10.0, 100.0, 1999.0):
        mean = rho / ((rho - 2) * SIGMA**2)
        var = 2 * rho**2 / ((rho - 2) ** 2 * (rho - 4) * SIGMA**4)
        assert var / (4 * mean) == pytest.approx(psi_variance_first_order(rho, SIGMA),
                                                 rel=1e-12)


def test_first_order_variance_blows_up_at_4_and_falls_with_rho() -> None:
    values = [psi_variance_first_order(4 + 10.0**-k) for k in range(1, 7)]
    assert all(b > 9 * a for a, b in zip(values, values[1:], strict=False))
    grid = [4.5 + 0.5 * i for i in range(200)]
    curve = [psi_variance_first_order(r) for r in grid]
    assert all(b < a for a, b in zip(curve, curve[1:], strict=False))
    assert psi_variance_first_order(3.5) < 0  # meaningless below 4
    # The page: for 2 < rho < 4 the expression is negative, not merely large.
    assert all(psi_variance_first_order(2 + 0.01 * i) < 0 for i in range(1, 200))


def test_delta_method_is_accurate_when_psi_squared_concentrates() -> None:
    """Var[sqrt X] ~ Var[X] / (4 E[X]) by Monte Carlo, where the Taylor step is valid."""
    rng = np.random.default_rng(9)
    rho = 400
    x = rho / (SIGMA**2 * rng.chisquare(rho, N_SAMPLES))
    assert np.sqrt(x).var() == pytest.approx(x.var() / (4 * x.mean()), rel=0.01)
    assert np.sqrt(x).var() == pytest.approx(psi_variance_first_order(rho, SIGMA), rel=0.02)


# ## (7) The rectification term


def test_sigma_cancels_in_r_t() -> None:
    beta = 0.999
    rho_inf = 2 / (1 - beta) - 1
    for t in (6, 50, 1000):
        rho = sma_length(t, beta)
        for sigma in (0.01, 1.0, 170.0):
            ratio = psi_variance_first_order(rho_inf, sigma) / psi_variance_first_order(
                rho, sigma)
            assert math.sqrt(ratio) == pytest.approx(rectification(rho, rho_inf), rel=1e-12)


@pytest.mark.parametrize(("t", "quoted"), [(5, 0.0173), (6, 0.0258), (100, 0.2153),
                                           (1000, 0.6453)])
def test_r_t_values(t: int, quoted: float) -> None:
    """Independently: rho from the direct mean age, r from the variance ratio."""
    beta = 0.999
    rho_inf = rho_direct(200_000, beta)
    rho = rho_direct(t, beta)

    def variance(r: float) -> float:
        return r / (2 * (r - 2) * (r - 4))

    independent = math.sqrt(variance(rho_inf) / variance(rho))
    assert round(independent, 4) == quoted
    assert rectification(sma_length(t, beta), 2 / (1 - beta) - 1) == pytest.approx(
        independent, rel=1e-8)


def test_r_t_as_a_warmup() -> None:
    """r_t at 1, 2 and 5 times 1/(1 - beta2) steps: 0.65, 0.83, 0.98 (the page)."""
    for beta in (0.999, 0.9999):
        n = round(1 / (1 - beta))
        rho_inf = 2 / (1 - beta) - 1
        got = [round(rectification(rho_direct(k * n, beta), rho_inf), 2) for k in (1, 2, 5)]
        assert got == [0.65, 0.83, 0.98]


# ## (8) The exact variance of psi


def exact_variance_scipy(rho: float, sigma: float) -> float:
    """Var[sqrt X] for X ~ Inv-Gamma, by numerical integration of the density."""
    dist = stats.invgamma(a=rho / 2, scale=rho / (2 * sigma**2))
    mean = integrate.quad(lambda x: math.sqrt(x) * dist.pdf(x), 0, np.inf, limit=400)[0]
    return dist.mean() - mean**2


@pytest.mark.parametrize("rho", [5, 6, 10, 30])
def test_exact_mean_and_variance_of_psi(rho: int) -> None:
    psi = np.sqrt(psi_squared_samples(rho))
    mean = math.sqrt(rho / (2 * SIGMA**2)) * math.exp(special.gammaln((rho - 1) / 2)
                                                      - special.gammaln(rho / 2))
    assert abs(psi.mean() - mean) < 5 * psi.std() / math.sqrt(len(psi))
    exact = psi_variance_exact(rho, SIGMA)
    assert exact == pytest.approx(exact_variance_scipy(rho, SIGMA), rel=1e-6)
    assert psi.var() == pytest.approx(exact, rel=0.02)
    # ... and the first-order value is rejected by the same samples.
    assert psi.var() != pytest.approx(psi_variance_first_order(rho, SIGMA), rel=0.02)


def test_first_order_overestimates() -> None:
    quoted = {5: 3.3, 6: 2.15, 10: 1.38, 100: 1.02}
    for rho, ratio in quoted.items():
        decimals = len(str(ratio).split(".")[1])
        independent = psi_variance_first_order(rho) / exact_variance_scipy(rho, 1.0)
        assert round(independent, decimals) == ratio
    # An exact rectifier would give r_6 = 0.0378 instead of 0.0258.
    rho_inf, rho6 = 1999.0, rho_direct(6, 0.999)
    exact_r6 = math.sqrt(exact_variance_scipy(rho_inf, 1.0) / exact_variance_scipy(rho6, 1.0))
    assert round(exact_r6, 4) == 0.0378
    # The exact variance stays finite down to rho > 2, where the approximation has none.
    assert 0 < psi_variance_exact(3.0) < math.inf and psi_variance_first_order(3.0) < 0


# ## The thresholds


def test_threshold_choice_changes_exactly_step_5() -> None:
    beta = 0.999
    steps = range(1, 101)
    paper = {t for t in steps if sma_length(t, beta) > 4}
    official = {t for t in steps if sma_length(t, beta) >= 5}
    torch_rule = {t for t in steps if sma_length(t, beta) > 5}
    assert official == torch_rule
    assert paper - torch_rule == {5} and not torch_rule - paper
    # The same from the independent rho.
    assert {t for t in steps if rho_direct(t, beta) > 4} == paper


@pytest.mark.parametrize("beta", [0.5, 0.6])
def test_small_beta2_never_rectifies(beta: float) -> None:
    assert 2 / (1 - beta) - 1 <= 5
    assert all(sma_length(t, beta) <= 5 for t in range(1, 2000))
