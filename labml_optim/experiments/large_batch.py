r"""
---
title: "Large batches: where do they stop paying?"
summary: Steps to a target loss against batch size on the noisy quadratic model.
group: Experiments
order: 530
---

# Large batches: where do they stop paying?

Doubling the batch halves the gradient noise. If noise is what limits progress, the number
of steps to a given loss halves too ("perfect scaling"); once the curvature limits
progress, a bigger batch buys nothing. The batch size where one regime gives way to the
other is the *critical batch size*. Zhang et al. ("Which Algorithmic Choices Matter at Which
Batch Sizes?", 2019) showed with a noisy quadratic model (NQM) that the critical batch size
depends on the optimizer: preconditioning (as Adam does, roughly) and momentum push it to
larger batches. This page reproduces that model in closed form.

## The model

A quadratic $L(\theta) = \frac12 \sum_i h_i \theta_i^2$ in $d = 1000$ dimensions with
curvatures $h_i = 1/i$ (condition number 1000). A batch of $B$ examples gives the gradient
$h_i\theta_i + \xi_i$ with independent noise of variance $h_i / B$ (noise covariance equal to
the curvature, as near a minimum of a log-likelihood). A diagonal preconditioner
$P = H^{-p}$ turns the step into $\theta_i \leftarrow \theta_i - \alpha h_i^{-p}
(h_i\theta_i + \xi_i)$; $p = 0$ is SGD, $p = \frac12$ an idealised Adam (whose $\sqrt{\hat v}$
is $\propto \sqrt{h_i}$ when the noise dominates), $p = 1$ Newton's method.

Write $a_i = \alpha h_i^{-p}$ for the coordinate's step size and
$E_{i,t} = \mathbb E[\theta_{i,t}^2]$. Since the noise is independent of $\theta$ and has mean zero,

$$
E_{i,t+1} = (1 - a_i h_i)^2 E_{i,t} + a_i^2 \frac{h_i}{B} ,
$$

a linear recursion with fixed point

$$
E_{i,\infty} = \frac{a_i^2 h_i}{B(1 - (1 - a_i h_i)^2)} = \frac{a_i}{B (2 - a_i h_i)}
$$

(stable for $0 < a_i h_i < 2$), so

$$
\begin{aligned}
\mathbb E[L_t] = \frac12 \sum_i h_i \Big(& (1 - a_i h_i)^{2t} (E_{i,0} - E_{i,\infty})\\
&+ E_{i,\infty} \Big) .
\end{aligned}
$$

No simulation is needed: for every batch size and every $\alpha$ on a log grid (60 values
from $10^{-4}$ to $10^{2}$) we evaluate this at 400 log-spaced steps up to $10^6$, take the
first step where the expected loss falls below the target, and keep the best $\alpha$. The
start is $\theta_{i,0}^2 = 1$ (loss 3.74); the target is a loss of 0.01. The tests check the
closed form against a Monte Carlo run of the [SGD](../sgd.md) chapter's optimizer.

![Steps to target against batch size](large_batch.png)

## What we expected

Zhang et al.'s figure: a line of slope $-1$ (perfect scaling) at small batches, then a
plateau; the preconditioned optimizer's plateau starts at a larger batch and is lower.

## What we saw

Steps to the target at the best $\alpha$ of the grid (the closed form has no seeds: it is
the expectation itself):

| $B$ | 1 | 16 | 128 | 256 | 1024 | 4096 | 16384 |
|---|---|---|---|---|---|---|---|
| SGD | 466845 | 29253 | 4065 | 2179 | 1053 | 798 | 745 |
| $p = \frac12$ | 138950 | 8707 | 1090 | 546 | 141 | 42 | 29 |
| Newton | — | 7581 | 917 | 459 | 115 | 29 | 7 |

* **As expected.** SGD halves its steps per doubling of the batch up to $B \approx 256$
  (steps $\times B$ 1.19 times its value at $B = 1$), and by $B = 1024$ it needs 2.3 times
  the perfect-scaling steps; beyond that it flattens at about 745 steps, the
  curvature-limited count ($\alpha < 2/h_1 = 2$ and the smallest curvature is $10^{-3}$).
  With $p = \frac12$ perfect scaling lasts to $B \approx 4096$ (1.24 times) and the
  flattening comes near $B = 16384$ (3.4 times), about 16 times later, at 29 steps. That is
  Zhang et al.'s result: preconditioning raises the critical batch size.
* **Newton** is still scaling at $B = 16384$. At $B = 1$ and 2 it never reaches the target
  within $10^6$ steps at any $\alpha$ of the grid: its best $\alpha$ there lies below the
  grid's $10^{-4}$ ("—" in the table), a limit of the grid, not of the method.
* The tuned $\alpha$ (right panel) grows in proportion to $B$ in the perfect-scaling
  regime (linear scaling rule) and saturates at the stability limit where the curve
  flattens.

LAMB against AdamW on a network with very different layer scales under the $\sqrt{B}$
learning-rate rule is [part 2](lamb_scales.md). Not covered here: momentum in the NQM,
and LARS (SGD with LAMB's layer-wise trust ratio, which no chapter implements).

## References

- Guodong Zhang et al., *Which Algorithmic Choices Matter at Which Batch Sizes? Insights
  From a Noisy Quadratic Model*, NeurIPS 2019.
  [arXiv:1907.04164](https://arxiv.org/abs/1907.04164)
- Yang You et al., *Large Batch Optimization for Deep Learning: Training BERT in 76
  Minutes*, ICLR 2020. [arXiv:1904.00962](https://arxiv.org/abs/1904.00962)
- Yang You, Igor Gitman and Boris Ginsburg, *Large Batch Training of Convolutional
  Networks*, 2017. [arXiv:1708.03888](https://arxiv.org/abs/1708.03888)
"""

from __future__ import annotations

import math
from typing import Any

import torch

from labml_optim.experiments._common import experiment_main, new_run, progress, record

NAME = "large_batch"

FULL = dict(dims=1000, target=0.01, powers=[0.0, 0.5, 1.0], batches=[2**k for k in range(15)],
            lr_min=1e-4, lr_max=1e2, lr_count=60, t_max=1_000_000, t_count=400)
QUICK = dict(dims=50, target=0.05, powers=[0.0, 0.5], batches=[1, 16, 256],
             lr_min=1e-3, lr_max=1e1, lr_count=10, t_max=10_000, t_count=50)


def curvatures(dims: int) -> torch.Tensor:
    r"""$h_i = 1/i$, $i = 1 \dots d$."""
    return 1 / torch.arange(1, dims + 1, dtype=torch.float64)


#
def expected_loss(h: torch.Tensor, power: float, lr: torch.Tensor, batch: int,
                  steps: torch.Tensor) -> torch.Tensor:
    r"""$\mathbb E[L_t]$ for every lr (rows) and step (columns); inf where unstable."""
    a = lr[:, None] * h[None, :] ** (-power)                   # $a_i = \alpha h_i^{-p}$
    ah = a * h[None, :]
    stable = ((ah > 0) & (ah < 2)).all(dim=1)
    e_inf = a / (batch * (2 - ah))                             # $E_{i,\infty}$
    decay = (1 - ah).abs().log()                               # $\log|1 - a_i h_i|$
    # $(1 - a_i h_i)^{2t}$ for every step $t$, as $\exp(2t \log|1 - a_i h_i|)$.
    factor = torch.exp(2 * steps[None, :, None] * decay[:, None, :])
    per_coord = factor * (1 - e_inf)[:, None, :] + e_inf[:, None, :]
    loss = 0.5 * (per_coord * h[None, None, :]).sum(dim=2)
    loss[~stable] = math.inf
    return loss


def run(config: dict[str, Any]) -> list[dict[str, Any]]:
    h = curvatures(config["dims"])
    lrs = torch.logspace(math.log10(config["lr_min"]), math.log10(config["lr_max"]),
                         config["lr_count"], dtype=torch.float64)
    steps = torch.unique(torch.logspace(0, math.log10(config["t_max"]), config["t_count"],
                                        dtype=torch.float64).round())
    runs = []
    jobs = [(p, b) for p in config["powers"] for b in config["batches"]]
    for power, batch in progress(jobs, desc=NAME):
        # One lr at a time keeps the (lr, step, coordinate) tensor small.
        loss = torch.cat([expected_loss(h, power, lrs[i:i + 1], batch, steps)
                          for i in range(len(lrs))])
        reached = loss <= config["target"]
        # The first step at which each lr reaches the target (inf if never).
        first = torch.where(reached.any(dim=1),
                            steps[reached.int().argmax(dim=1)], torch.tensor(math.inf))
        best = int(first.argmin())
        r = new_run(f"p={power:g} | B={batch}", 0, power=power, batch=batch)
        for t, value in zip(steps.tolist(), loss[best].tolist(), strict=True):
            record(r, "loss_at_best_lr", int(t), value)
        for i in range(len(lrs)):
            record(r, "steps_to_target_by_lr_index", i, first[i].item())
        r["extra"] = {"lrs": lrs.tolist(), "best_lr": lrs[best].item(),
                      "steps_to_target": first[best].item() if math.isfinite(first[best])
                      else None}
        runs.append(r)
    return runs


# ## The figure
def steps_to_target(results: dict[str, Any]) -> dict[float, tuple[list[int], list[float]]]:
    """For each power: the batch sizes and the best steps to target (nan if never)."""
    out: dict[float, tuple[list[int], list[float]]] = {}
    for r in results["runs"]:
        s = r["settings"]
        value = r["extra"]["steps_to_target"]
        out.setdefault(s["power"], ([], []))
        out[s["power"]][0].append(s["batch"])
        out[s["power"]][1].append(math.nan if value is None else value)
    return out


def draw(results: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    names = {0.0: "SGD ($p$ = 0)", 0.5: r"preconditioned, $p = \frac{1}{2}$ (Adam-like)",
             1.0: "Newton ($p$ = 1)"}
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    for i, (power, (batches, steps)) in enumerate(sorted(steps_to_target(results).items())):
        label = names.get(power, f"p={power}")
        left.plot(batches, steps, "o-", color=f"C{i}", ms=4, label=label)
        # Perfect scaling through the smallest batch: steps proportional to 1/B.
        left.plot(batches, [steps[0] * batches[0] / b for b in batches], ":", color=f"C{i}",
                  lw=0.8)
        lrs = [r["extra"]["best_lr"] for r in results["runs"] if r["settings"]["power"] == power]
        right.plot(batches, lrs, "o-", color=f"C{i}", ms=4, label=label)
    left.plot([], [], "k:", lw=0.8, label="perfect scaling (steps ∝ 1/B)")
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch size $B$")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    left.set_ylabel(f"steps to expected loss {results['config']['target']:g}")
    left.set_title("Noisy quadratic model, best lr per batch size", fontsize=10)
    right.set_ylabel(r"best learning rate $\alpha$")
    right.set_title("The tuned learning rate", fontsize=10)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> None:
    """Evaluate the closed form (or, with `--save`, only draw the committed results)."""
    experiment_main(argv, name=NAME, description="Large batches on the noisy quadratic model",
                    full=FULL, quick=QUICK, run=run, draw=draw)


if __name__ == "__main__":
    main()
