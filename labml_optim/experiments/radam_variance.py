r"""
---
title: "RAdam: the variance of the adaptive rate, simulated"
summary: Var[ψ_t] and Var[r_t ψ_t] measured on simulated gradients against RAdam's closed forms.
group: Experiments
order: 510
---

# RAdam: the variance of the adaptive rate, simulated

The [RAdam](../radam.md) chapter derives, for gradients $g \sim \mathcal N(0, \sigma^2)$,
how the variance of Adam's adaptive rate $\psi_t = 1/\sqrt{\hat v_t}$ falls with the step
$t$, and picks the rectifier $r_t$ so that $r_t \psi_t$ has the same variance at every step.
Both rest on approximations: the exponential moving average is replaced by a simple moving
average of $\rho_t$ samples, and (for $r_t$) the variance of $\psi$ by its first-order delta
method. This page measures the real thing.

## The question

1. Does the measured $\mathrm{Var}[\psi_t]$ of the EMA follow the chapter's exact form
   $\mathrm{Var}_\text{exact}(\rho_t)$
   ([section 8](../radam.md#8-how-good-is-the-first-order-approximation) of the chapter)
   or its first-order form $\rho_t / (2(\rho_t - 2)(\rho_t - 4)\sigma^2)$
   ([section 6](../radam.md#6-from-psi2-to-psi-the-delta-method))?
2. Is $\mathrm{Var}[r_t \psi_t]$ really flat in $t$?
3. What changes when the gradient has a mean, $g \sim \mathcal N(\mu, \sigma^2)$, which is
   what a coordinate with signal looks like?

## Setup

For each $\mu \in \{0, 0.5, 1, 2\}$ ($\sigma = 1$) and each seed we run $N = 50\,000$
independent coordinates for $T = 2000$ steps of $v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2$
with $\beta_2 = 0.999$, in float64 and with $\epsilon = 0$, and measure across the
coordinates the sample variance of $\psi_t = \sqrt{(1 - \beta_2^t)/v_t}$ and of
$r_t\psi_t$ (where RAdam rectifies, $\rho_t > 5$, that is $t \ge 6$), at every step up to
30 and at log-spaced steps after that. Three seeds; the figure shows their median and
their range. Variances are multiplied by $\mathbb E[g^2] = \mu^2 + \sigma^2$, which makes
them dimensionless ($\psi$ has the units of $1/g$).

For $\mu \ne 0$ there is no closed form in the chapter. The first-order delta method applied
to $\hat v$ itself, an average of $\rho$ samples of $g^2$ with mean $s = \mu^2 + \sigma^2$ and
variance $(2\sigma^4 + 4\mu^2\sigma^2)/\rho$, gives

$$
\begin{aligned}
\mathrm{Var}[\psi] &\approx \Big(\tfrac12 s^{-3/2}\Big)^2\,
\frac{2\sigma^4 + 4\mu^2\sigma^2}{\rho}\\
&= \frac{\sigma^4 + 2\mu^2\sigma^2}{2\rho\, s^3} ,\\
s\,\mathrm{Var}[\psi] &\approx \frac{\sigma^4 + 2\mu^2\sigma^2}{2\rho\,(\mu^2 + \sigma^2)^2} ,
\end{aligned}
$$

which for $\mu = 0$ is $1/(2\rho)$, the large-$\rho$ limit of the chapter's first-order form.
With a mean the rate is steadier: by a factor $0.75$ at $\mu = \sigma$, $0.36$ at
$\mu = 2\sigma$.

![Measured variance of the adaptive rate against the closed forms](radam_variance.png)

## What we expected

* $t = 1, 2$: $\mathbb E[\psi_t^2] = \infty$ (for any $\mu$: the density of $g$ at 0 is
  positive), so the sample variance is finite but meaningless, huge and different for every
  seed.
* From $t \approx 5$: the measured variance close to the exact form, with the first-order
  form above it by the chapter's factors (3.3 at $\rho = 5$, 2.15 at 6, 1.38 at 10).
* So $r_t$, fitted to the first-order form, over-damps: at $t = 6$ we expected
  $\mathrm{Var}[r_6\psi_6] \approx (0.0258/0.0378)^2 \approx 0.47$ of the target
  $\mathrm{Var}[\psi_\infty]$, rising to the target as $t$ grows.
* With a mean, everything lower by the factor above, and $r_t$ (which does not look at
  the gradients) damps those coordinates just as much.

## What we saw

Three seeds of 50 000 coordinates each; the spread between seeds is the band in the figure
and the range quoted here. The tests in `tests/test_experiments.py` read these numbers
from the committed results.

* **$t = 1, 2$.** For $\mu = 0$ the sample variance of $\psi_1$ was $3.9 \cdot 10^4$,
  $1.4 \cdot 10^5$ and $2.3 \cdot 10^8$ in the three seeds, and that of $\psi_2$ 7.7, 38 and
  185: an infinite variance, sampled. With a mean the same happens ($\mu = 2$: $10^4$ to
  $5 \cdot 10^4$ times the delta method at $t = 1$).
* **$\mu = 0$, from $t = 3$.** The EMA's variance follows the exact form at $\rho_t$ within
  5% from $t = 3$ to $t \approx 100$ (0.95 to 0.98 of it at $t = 3$, 0.999 to 1.035 at
  $t = 6$, 0.99 to 1.005 at $t = 37$). The first-order form is above it by 3.27 at $t = 5$,
  2.1 at 6 and 1.38 at 10, the chapter's factors.
* **The rectified rate is not flat.** $\mathrm{Var}[r_t\psi_t]$ is 0.46 to 0.48 of the
  target at $t = 6$, 0.72 at $t = 10$, 0.92 at 30 and 0.95 at 90 to 250, as expected.
* **A surprise: it dips again.** At $t = 2000$ the measured variance is only 0.89 to 0.91 of
  the exact form at $\rho_t$, and $\mathrm{Var}[r_t\psi_t]$ 0.89 to 0.90 of the target.
  The reason is $\rho_t$ itself. It matches the EMA to a simple average by *mean age*; what
  sets a variance is the weights' sum of squares. An average with weights $w_i$ (summing to
  1) has the variance of an average of $n = 1/\sum w_i^2$ samples, which for the
  bias-corrected EMA is

$$
n_t = \frac{(1 - \beta_2^t)^2}{(1 - \beta_2)^2 \sum_{a=0}^{t-1} \beta_2^{2a}}
= \frac{(1 - \beta_2^t)^2 (1 + \beta_2)}{(1 - \beta_2)(1 - \beta_2^{2t})} .
$$

  For small $t$ it equals $\rho_t$ to a fraction of a per cent ($n_6 = 5.99998$ against
  $\rho_6 = 5.994$) and both tend to $\rho_\infty = (1 + \beta_2)/(1 - \beta_2)$, but in
  between the mean age undercounts: $\rho_{2000} = 1374$ against $n_{2000} = 1523$, a ratio
  of 0.90, exactly the dip measured. The chapter's derivation is right for the first
  hundred steps, where it matters, and 10% off around $t = 2/(1 - \beta_2)$, in the safe
  direction (it damps a little more than needed). The dotted curve in the right panel,
  $r_t^2\,\mathrm{Var}_\text{exact}(n_t)$, follows the measured $\mu = 0$ curve at every
  step.
* **With a mean.** At $t = 37$ to $89$ the measured variance is within 1 to 10% of the
  delta method on $\hat v$ (and at $t = 2000$, 0.90 of it again, for the same reason); with
  $\mu = 2\sigma$ the figure's scaled rectified variance levels off at about 0.33 of the
  target (the delta method's 0.36 times the 0.90 above), 0.11 at $t = 6$. RAdam, blind to
  $\mu$, damps the coordinates whose gradients carry signal exactly as much as the noisy
  ones.

## References

- Liyuan Liu et al., *On the Variance of the Adaptive Learning Rate and Beyond*, ICLR 2020.
  [arXiv:1908.03265](https://arxiv.org/abs/1908.03265); the authors' code:
  [LiyuanLucasLiu/RAdam](https://github.com/LiyuanLucasLiu/RAdam)
"""

from __future__ import annotations

from typing import Any

import torch

from labml_optim.experiments._common import experiment_main, new_run, record, series
from labml_optim.radam import (
    psi_variance_exact,
    psi_variance_first_order,
    rectification,
    sma_length,
)

NAME = "radam_variance"

# The full run: a few minutes on one core. The quick one checks the plumbing.
FULL = dict(means=[0.0, 0.5, 1.0, 2.0], sigma=1.0, beta2=0.999, coords=50_000, steps=2000,
            seeds=[0, 1, 2])
QUICK = dict(means=[0.0, 1.0], sigma=1.0, beta2=0.999, coords=2000, steps=60, seeds=[0, 1])


def recorded_steps(total: int) -> list[int]:
    """Every step up to 30, then 120 log-spaced steps up to `total`."""
    steps = set(range(1, min(30, total) + 1))
    steps.update(round(30 * (total / 30) ** (i / 120)) for i in range(121) if total > 30)
    return sorted(s for s in steps if s <= total)


#
def simulate(mean: float, sigma: float, beta2: float, coords: int, steps: int,
             seed: int) -> dict[str, list[tuple[int, float]]]:
    r"""Run `coords` independent second-moment EMAs on $g \sim \mathcal N(\mu, \sigma^2)$.

    Returns, at the recorded steps, the sample variance across coordinates of $\psi_t$ and
    of $r_t \psi_t$ (where $\rho_t > 5$), and the mean of $\psi_t$.
    """
    gen = torch.Generator().manual_seed(seed)
    v = torch.zeros(coords, dtype=torch.float64)
    rho_inf = 2 / (1 - beta2) - 1
    keep = set(recorded_steps(steps))
    out: dict[str, list[tuple[int, float]]] = {"var_psi": [], "var_rpsi": [], "mean_psi": []}
    for t in range(1, steps + 1):
        g = torch.randn(coords, generator=gen, dtype=torch.float64).mul_(sigma).add_(mean)
        # $v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2$, exactly Adam's second moment.
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        if t not in keep:
            continue
        # $\psi_t = 1/\sqrt{\hat v_t}$ with $\hat v_t = v_t / (1 - \beta_2^t)$, $\epsilon = 0$.
        psi = torch.rsqrt(v / (1 - beta2**t))
        var = psi.var().item()
        out["var_psi"].append((t, var))
        out["mean_psi"].append((t, psi.mean().item()))
        rho = sma_length(t, beta2)
        if rho > 5:
            out["var_rpsi"].append((t, rectification(rho, rho_inf) ** 2 * var))
    return out


def run(config: dict[str, Any]) -> list[dict[str, Any]]:
    from labml_optim.experiments._common import progress

    runs = []
    jobs = [(m, s) for m in config["means"] for s in config["seeds"]]
    for mean, seed in progress(jobs, desc=NAME):
        r = new_run(f"mu={mean:g}", seed, mean=mean, sigma=config["sigma"],
                    beta2=config["beta2"], coords=config["coords"])
        for metric, points in simulate(mean, config["sigma"], config["beta2"],
                                       config["coords"], config["steps"], seed).items():
            for t, value in points:
                record(r, metric, t, value)
        runs.append(r)
    return runs


# ## Closed forms the figure draws

def delta_method_scaled(rho: float, mean: float, sigma: float = 1.0) -> float:
    r"""$s\,\mathrm{Var}[\psi] \approx (\sigma^4 + 2\mu^2\sigma^2) / (2\rho s^2)$.

    Here $s = \mu^2 + \sigma^2$ (the delta method on $\hat v$, for large $\rho$).
    """
    s = mean**2 + sigma**2
    return (sigma**4 + 2 * mean**2 * sigma**2) / (2 * rho * s**2)


def ema_effective_samples(t: int, beta2: float) -> float:
    r"""$n_t = (1-\beta_2^t)^2(1+\beta_2)/((1-\beta_2)(1-\beta_2^{2t}))$, that is $1/\sum w_i^2$."""
    return (1 - beta2**t) ** 2 * (1 + beta2) / ((1 - beta2) * (1 - beta2 ** (2 * t)))


PerSeed = dict[float, tuple[list[int], list[list[float]]]]


def by_mean(results: dict[str, Any], metric: str) -> PerSeed:
    r"""For each mean: the steps and one list of values per seed, scaled by $\mu^2+\sigma^2$."""
    out: PerSeed = {}
    for r in results["runs"]:
        mean, sigma = r["settings"]["mean"], r["settings"]["sigma"]
        steps, values = series(r, metric)
        scaled = [v * (mean**2 + sigma**2) for v in values]
        out.setdefault(mean, (steps, []))[1].append(scaled)
    return out


def draw(results: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    beta2 = results["config"]["beta2"]
    rho_inf = 2 / (1 - beta2) - 1
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    for i, (mean, (steps, per_seed)) in enumerate(sorted(by_mean(results, "var_psi").items())):
        med = [sorted(col)[len(col) // 2] for col in zip(*per_seed, strict=True)]
        lo = [min(col) for col in zip(*per_seed, strict=True)]
        hi = [max(col) for col in zip(*per_seed, strict=True)]
        left.plot(steps, med, color=f"C{i}", label=rf"measured, $\mu$ = {mean:g}")
        left.fill_between(steps, lo, hi, color=f"C{i}", alpha=0.25, lw=0)
        big = [t for t in steps if sma_length(t, beta2) > 8]
        left.plot(big, [delta_method_scaled(sma_length(t, beta2), mean) for t in big],
                  color=f"C{i}", ls=":", lw=1)
    steps = [t for t in range(1, results["config"]["steps"] + 1) if sma_length(t, beta2) > 4.2]
    left.plot(steps, [psi_variance_first_order(sma_length(t, beta2)) for t in steps], "k--",
              lw=1.2, label=r"first order $\rho/(2(\rho-2)(\rho-4))$, $\mu$ = 0")
    steps2 = [t for t in range(1, results["config"]["steps"] + 1) if sma_length(t, beta2) > 2.2]
    left.plot(steps2, [psi_variance_exact(sma_length(t, beta2)) for t in steps2], "k-", lw=0.8,
              label=r"exact (SMA of $\rho_t$ samples), $\mu$ = 0")
    left.plot([], [], "k:", lw=1, label=r"delta method on $\hat v$, each $\mu$")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_ylim(1e-4, 1e3)
    left.set_xlabel("step $t$")
    left.set_ylabel(r"$(\mu^2+\sigma^2)\,\mathrm{Var}[\psi_t]$")
    left.set_title(r"Adam's adaptive rate $\psi_t = 1/\sqrt{\hat v_t}$")
    left.legend(fontsize=8, loc="upper right")

    for i, (mean, (steps, per_seed)) in enumerate(sorted(by_mean(results, "var_rpsi").items())):
        med = [sorted(col)[len(col) // 2] for col in zip(*per_seed, strict=True)]
        lo = [min(col) for col in zip(*per_seed, strict=True)]
        hi = [max(col) for col in zip(*per_seed, strict=True)]
        right.plot(steps, med, color=f"C{i}", label=rf"measured, $\mu$ = {mean:g}")
        right.fill_between(steps, lo, hi, color=f"C{i}", alpha=0.25, lw=0)
    rect_steps = [t for t in range(6, results["config"]["steps"] + 1)]
    right.plot(rect_steps,
               [rectification(sma_length(t, beta2), rho_inf) ** 2
                * psi_variance_exact(ema_effective_samples(t, beta2)) for t in rect_steps],
               color="0.3", ls=":", lw=1.5,
               label=r"$r_t^2\,$exact Var at $n_t = 1/\sum w_i^2$, $\mu$ = 0")
    right.axhline(psi_variance_first_order(rho_inf), color="k", ls="--", lw=1.2,
                  label=r"target: first-order Var at $\rho_\infty$")
    right.axhline(psi_variance_exact(rho_inf), color="k", lw=0.8,
                  label=r"exact Var at $\rho_\infty$")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("step $t$ (rectified steps only, $\\rho_t > 5$)")
    right.set_ylabel(r"$(\mu^2+\sigma^2)\,\mathrm{Var}[r_t\psi_t]$")
    right.set_title(r"RAdam's rectified rate $r_t\psi_t$")
    right.legend(fontsize=8, loc="lower right")
    for ax in (left, right):
        ax.grid(True, which="major", alpha=0.3)
    fig.suptitle(f"{len({r['seed'] for r in results['runs']})} seeds, "
                 f"{results['runs'][0]['settings']['coords']:,} coordinates each, "
                 rf"$\beta_2$ = {beta2} (median line, range band)", fontsize=9)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> None:
    """Run the simulation (or, with `--save`, only draw the committed results)."""
    experiment_main(argv, name=NAME, description="RAdam: variance of the adaptive rate",
                    full=FULL, quick=QUICK, run=run, draw=draw)


if __name__ == "__main__":
    main()
