r"""
---
title: Trajectories of every optimizer
summary: Every optimizer chapter on Rosenbrock and a noisy rotated quadratic, over one lr grid.
group: Experiments
order: 540
---

# Trajectories of every optimizer

Pictures of optimizers crawling down a valley are everywhere, and most of them tune one
learning rate per optimizer until its path looks good. A path then says more about the
tuning than about the optimizer. Here every optimizer of this site runs with its own
defaults (except `lr`) on the **same grid of three learning rates**, $10^{-3}$, $10^{-2}$
and $10^{-1}$, and every path is drawn, the ones that fail included.

## The two problems

* **Rosenbrock**, $f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2$, from $(-1.5, 2)$: a curved,
  narrow valley with its minimum $f = 0$ at $(1, 1)$. At the start the gradient is
  $(-155, -50)$ and the Hessian's larger eigenvalue about 2100, so plain gradient descent
  needs a step below $2/2100 \approx 10^{-3}$ to be stable there. 600 steps.
* **A noisy ill-conditioned quadratic**, $f(\theta) = \frac12 \theta^\top H \theta$ with
  eigenvalues 1 and 0.02 (condition number 50) and eigenvectors rotated by 30° from the
  axes, so that a per-coordinate (diagonal) preconditioner cannot undo the conditioning.
  Each gradient is $H\theta + \sigma\xi$ with $\xi \sim \mathcal N(0, I)$ and $\sigma = 0.1$;
  start $(0.5, 2)$, about 1.45 along each eigenvector (loss 1.04); 600 steps; two noise
  seeds (the figure draws seed 0, the numbers average both).

The optimizers are every optimizer class that the chapters define, with the chapter's
default hyper-parameters except `lr`; SGD runs twice, plain and with momentum 0.9
(its default is plain). RAdam's chapter also defines `AdamVWarmup`, the paper's Adam-2k
baseline, which is not a separate optimizer and is left out. A path stops where a coordinate
leaves $[-10^6, 10^6]$ or stops being a number; such a run is marked "diverged".

![Trajectories of every optimizer on Rosenbrock and the noisy quadratic](trajectories.png)

## What we expected

* Plain SGD diverges on Rosenbrock at $10^{-2}$ and $10^{-1}$ (the stability limit above)
  and crawls at $10^{-3}$; on the quadratic it is slow along the flat direction for every lr
  in the grid.
* Adam and its relatives move about `lr` per coordinate per step whatever the gradient's
  scale, so none diverges on Rosenbrock, $10^{-3}$ is too short a stride for 600 steps
  ($\le 0.6$ per coordinate), and $10^{-1}$ rattles around the minimum instead of settling.
* LAMB's step is `lr` times the parameter's norm, so its stride grows with $\|\theta\|$.
* On the noisy quadratic, the diagonal preconditioners gain little over momentum SGD, since
  the valley is rotated.

## What we saw

Final losses, from the committed results (Rosenbrock: one run; quadratic: mean of two noise
seeds; "div." = diverged, at the step given):

| optimizer | Ros. $10^{-3}$ | $10^{-2}$ | $10^{-1}$ | quad. $10^{-3}$ | $10^{-2}$ | $10^{-1}$ |
|---|---|---|---|---|---|---|
| SGD | 4.2 | div. (5) | div. (3) | 0.33 | 0.018 | 0.0031 |
| SGD, momentum 0.9 | **0.0018** | div. (5) | div. (3) | 0.018 | 0.0033 | 0.0046 |
| Adagrad | 6.9 | 5.8 | 3.7 | 0.96 | 0.38 | 0.0068 |
| RMSprop | 5.4 | 0.24 | 0.20 | 0.17 | 0.0031 | 0.0019 |
| Adam | 5.8 | 3.6 | **0.0019** | 0.28 | 0.0070 | 0.0029 |
| AMSGrad | 5.9 | 3.9 | 0.0048 | 0.28 | 0.0072 | 0.0029 |
| AdamW | 5.8 | 3.4 | 0.012 | 0.28 | 0.0062 | 0.0028 |
| RAdam | 5.8 | 1.2 | div. (3) | 0.69 | 0.013 | 0.0032 |
| LAMB | 4.2 | 1.0 | 1.2 | 0.13 | **0.0016** | 0.0026 |

* As expected, plain SGD and momentum SGD blow up on Rosenbrock at $10^{-2}$ and above;
  at $10^{-3}$ momentum SGD is the best run of the whole Rosenbrock grid, and plain SGD
  is still crawling along the valley floor.
* Adam, AMSGrad and AdamW need the largest lr of the grid to reach the minimum in 600
  steps; at $10^{-3}$ they can have moved at most about 0.6 per coordinate, and have.
* **RAdam diverges** on Rosenbrock at $10^{-1}$, the only adaptive method that does, and
  within three steps. Before $\rho_t > 5$ it takes plain momentum steps $\alpha \hat m_t$
  (the chapter's "Before the threshold"), and the gradient at the start, about
  $(-155, -50)$, times $\alpha = 0.1$ is a first step of length 16. This is the default
  of torch and of the paper (`degenerated_to_sgd=True`); the rectifier damps the
  *adaptive* steps, but the first steps are not adaptive at all, so RAdam is *less* robust
  to a large lr than Adam on a problem with large gradients.
* Adagrad's accumulated denominator leaves it the slowest everywhere; LAMB's step
  proportional to $\|\theta\|$ makes it the best on the quadratic at $10^{-2}$ and keeps it
  from converging on Rosenbrock at $10^{-1}$ (it circles the minimum with steps of
  $0.1\,\|\theta\| \approx 0.14$).
* On the rotated noisy quadratic at the largest lr every method ends at the noise floor
  (0.002 to 0.007) and the diagonal preconditioners gain nothing over momentum SGD; at
  $10^{-2}$ RMSprop and LAMB are ahead, at $10^{-3}$ momentum SGD is.

The ranking changes with the learning rate in every column: an honest comparison of
optimizers has to show the grid.

## References

- Howard H. Rosenbrock, *An Automatic Method for Finding the Greatest or Least Value of a
  Function*, The Computer Journal 3(3), 1960.
  [doi:10.1093/comjnl/3.3.175](https://doi.org/10.1093/comjnl/3.3.175)
- Diederik P. Kingma and Jimmy Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015.
  [arXiv:1412.6980](https://arxiv.org/abs/1412.6980)
- Boris T. Polyak, *Some methods of speeding up the convergence of iteration methods*, USSR
  Computational Mathematics and Mathematical Physics 4(5), 1964.
  [doi:10.1016/0041-5553(64)90137-5](https://doi.org/10.1016/0041-5553(64)90137-5)
"""

from __future__ import annotations

import importlib
import math
from typing import Any

import torch

from labml_optim.experiments._common import experiment_main, new_run, progress, record, series

NAME = "trajectories"

# Every optimizer class the chapters define, with the keyword arguments that differ from the
# chapter's defaults (besides `lr`). `tests/test_experiments.py` checks that no chapter's
# optimizer is missing here or in `LEFT_OUT`.
OPTIMIZERS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("SGD", "sgd", "SGD", {}),
    ("SGD, momentum 0.9", "sgd", "SGD", {"momentum": 0.9}),
    ("Adagrad", "adagrad", "Adagrad", {}),
    ("RMSprop", "rmsprop", "RMSprop", {}),
    ("Adam", "adam", "Adam", {}),
    ("AMSGrad", "amsgrad", "AMSGrad", {}),
    ("AdamW", "adamw", "AdamW", {}),
    ("RAdam", "radam", "RAdam", {}),
    ("LAMB", "lamb", "LAMB", {}),
]
LEFT_OUT = {
    "radam.AdamVWarmup": "the RAdam chapter's Adam-2k baseline, not an optimizer",
    "radam.AdamEpsHat": "the RAdam chapter's Adam-eps baseline, not an optimizer",
    # The chapters below arrived after the committed gallery run; each needs a run of the
    # full experiment (and Muon takes only matrices, so it has no 2-D trajectory at all).
    "nadam.NAdam": "not yet run: the committed gallery predates the chapter",
    "adamax.Adamax": "not yet run: the committed gallery predates the chapter",
    "adafactor.Adafactor": "not yet run: the committed gallery predates the chapter",
    "muon.Muon": "takes only matrices; a point in the plane is not one",
    "lion.Lion": "not yet run: the committed gallery predates the chapter",
    "adabelief.AdaBelief": "not yet run: the committed gallery predates the chapter",
    "schedule_free.AdamWScheduleFree": "not yet run: the committed gallery predates the chapter",
    "sophia.SophiaG": "not yet run: it needs Hessian refreshes in the loop",
}

FULL = dict(lrs=[1e-3, 1e-2, 1e-1], steps=600, noise=0.1, noise_seeds=[0, 1],
            optimizers=[o[0] for o in OPTIMIZERS])
QUICK = dict(lrs=[1e-1], steps=20, noise=0.1, noise_seeds=[0],
             optimizers=[o[0] for o in OPTIMIZERS])


# ## The problems
def rosenbrock(p: torch.Tensor) -> torch.Tensor:
    r"""$(1 - x)^2 + 100 (y - x^2)^2$."""
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def quadratic_matrix() -> torch.Tensor:
    r"""$H = R\,\mathrm{diag}(1, 0.02)\,R^\top$, $R$ a rotation by 30 degrees."""
    a = math.radians(30)
    rot = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]],
                       dtype=torch.float64)
    return rot @ torch.diag(torch.tensor([1.0, 0.02], dtype=torch.float64)) @ rot.T


def rosenbrock_grad(x: float, y: float) -> tuple[float, float]:
    """Its gradient, by hand (cheaper than autograd for two numbers)."""
    return -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)


H_ENTRIES = quadratic_matrix().tolist()


def quadratic(p: torch.Tensor) -> torch.Tensor:
    r"""$\frac12 \theta^\top H \theta$."""
    return 0.5 * p @ quadratic_matrix().to(p.dtype) @ p


def quadratic_grad(x: float, y: float) -> tuple[float, float]:
    r"""$H\theta$."""
    (a, b), (_, d) = H_ENTRIES
    return a * x + b * y, b * x + d * y


PROBLEMS = {
    "rosenbrock": dict(loss=rosenbrock, grad=rosenbrock_grad, start=(-1.5, 2.0),
                       minimum=(1.0, 1.0)),
    "noisy quadratic": dict(loss=quadratic, grad=quadratic_grad, start=(0.5, 2.0),
                            minimum=(0.0, 0.0)),
}


def make_optimizer(label: str, params: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    for name, module, cls, kwargs in OPTIMIZERS:
        if name == label:
            return getattr(importlib.import_module(f"labml_optim.{module}"), cls)(
                params, lr=lr, **kwargs)
    raise KeyError(label)


#
def trajectory(problem: str, label: str, lr: float, steps: int, noise: float,
               seed: int) -> tuple[list[tuple[float, float]], float, int | None]:
    """The iterates (the start first), the final loss, and the step it diverged at if it did.

    float64 throughout, so that the paths show the optimizers and not rounding.
    """
    spec = PROBLEMS[problem]
    p = torch.tensor(spec["start"], dtype=torch.float64, requires_grad=True)
    opt = make_optimizer(label, [p], lr)
    gen = torch.Generator().manual_seed(seed)
    path = [tuple(spec["start"])]
    x, y = spec["start"]
    for t in range(1, steps + 1):
        p.grad = torch.tensor(spec["grad"](x, y), dtype=torch.float64)
        if problem == "noisy quadratic":
            p.grad.add_(torch.randn(2, generator=gen, dtype=torch.float64), alpha=noise)
        opt.step()
        x, y = p.detach().tolist()
        if not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > 1e6:
            return path, math.inf, t
        path.append((x, y))
    with torch.no_grad():
        return path, spec["loss"](p).item(), None


def run(config: dict[str, Any]) -> list[dict[str, Any]]:
    jobs = [(problem, label, lr, seed)
            for problem in PROBLEMS
            for label in config["optimizers"]
            for lr in config["lrs"]
            for seed in (config["noise_seeds"] if problem == "noisy quadratic" else [0])]
    runs = []
    for problem, label, lr, seed in progress(jobs, desc=NAME):
        r = new_run(f"{problem} | {label} | lr={lr:g}", seed, problem=problem,
                    optimizer=label, lr=lr)
        path, final, diverged = trajectory(problem, label, lr, config["steps"],
                                           config["noise"], seed)
        for t, (x, y) in enumerate(path):
            record(r, "x", t, x)
            record(r, "y", t, y)
        r["extra"] = {"final_loss": final if math.isfinite(final) else None,
                      "diverged_at": diverged}
        runs.append(r)
    return runs


# ## The figure
def final_losses(results: dict[str, Any]) -> dict[tuple[str, str, float], float]:
    """Mean final loss over seeds per (problem, optimizer, lr); inf if any seed diverged."""
    acc: dict[tuple[str, str, float], list[float]] = {}
    for r in results["runs"]:
        s = r["settings"]
        loss = r["extra"]["final_loss"]
        acc.setdefault((s["problem"], s["optimizer"], s["lr"]), []).append(
            math.inf if loss is None else loss)
    return {k: sum(v) / len(v) for k, v in acc.items()}


def draw(results: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt
    import numpy as np

    labels = results["config"]["optimizers"]
    lrs = results["config"]["lrs"]
    ncols = 3
    nrows = math.ceil(len(labels) / ncols)
    fig, axes = plt.subplots(2 * nrows, ncols, figsize=(4.0 * ncols, 3.5 * 2 * nrows))
    finals = final_losses(results)
    boxes = {"rosenbrock": ((-2.0, 2.0), (-1.0, 3.0)),
             "noisy quadratic": ((-1.5, 1.5), (-1.5, 2.5))}
    for block, (problem, spec) in enumerate(PROBLEMS.items()):
        (x0, x1), (y0, y1) = boxes[problem]
        gx, gy = np.meshgrid(np.linspace(x0, x1, 120), np.linspace(y0, y1, 120))
        grid = torch.tensor(np.stack([gx, gy]))
        if problem == "rosenbrock":
            z = rosenbrock(grid).numpy()
            levels = np.logspace(-1, 3.5, 14)
        else:
            h = quadratic_matrix().numpy()
            z = 0.5 * (h[0, 0] * gx**2 + 2 * h[0, 1] * gx * gy + h[1, 1] * gy**2)
            levels = np.logspace(-3, 0.6, 12)
        for i, label in enumerate(labels):
            ax = axes[block * nrows + i // ncols, i % ncols]
            ax.contour(gx, gy, z, levels=levels, colors="0.75", linewidths=0.6)
            for j, lr in enumerate(lrs):
                run = next((r for r in results["runs"] if r["settings"]["problem"] == problem
                            and r["settings"]["optimizer"] == label
                            and r["settings"]["lr"] == lr and r["seed"] == 0), None)
                if run is None:
                    continue
                _, xs = series(run, "x")
                _, ys = series(run, "y")
                final = finals[(problem, label, lr)]
                tag = "diverged" if not math.isfinite(final) else f"f = {final:.2g}"
                ax.plot(xs, ys, color=f"C{j}", lw=1, label=f"lr {lr:g}: {tag}")
                ax.plot(xs[-1:], ys[-1:], "o", color=f"C{j}", ms=3)
            ax.plot(*spec["start"], "ks", ms=4)
            ax.plot(*spec["minimum"], "k*", ms=8)
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            ax.set_title(f"{label} — {problem}", fontsize=9)
            ax.legend(fontsize=8, loc="lower right" if problem == "rosenbrock" else
                      "upper left")
            ax.tick_params(labelsize=7)
        for i in range(len(labels), nrows * ncols):
            axes[block * nrows + i // ncols, i % ncols].axis("off")
    fig.suptitle(f"{results['config']['steps']} steps each; one lr grid for all; "
                 "square = start, star = minimum", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    return fig


def main(argv: list[str] | None = None) -> None:
    """Run every optimizer on both problems (or, with `--save`, only draw the results)."""
    experiment_main(argv, name=NAME, description="Trajectories of every optimizer",
                    full=FULL, quick=QUICK, run=run, draw=draw)


if __name__ == "__main__":
    main()
