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
default hyper-parameters except `lr` (so AdamW decays by $10^{-2}$, Sophia-G and Muon by
$10^{-1}$, the others not at all); SGD runs twice, plain and with momentum 0.9 (its
default is plain). RAdam's chapter also defines `AdamVWarmup` and `AdamEpsHat`, the
paper's Adam-2k and Adam-eps baselines, which are not separate optimizers and are left out.
Three optimizers need more than `step()`, and get the least that makes them run:

* **Muon** takes only matrices, so its point is a $1 \times 2$ matrix. The
  orthogonalization of a one-row matrix is its direction, so Muon here is Nesterov momentum
  whose step has a fixed length of about `lr` (the Newton–Schulz iteration leaves the one
  singular value between about 0.7 and 1.2, computed in bfloat16 as torch does).
* **Sophia-G** refreshes its curvature every $k = 10$ steps, as in its chapter; these
  problems have no labels to sample, so the refresh is the exact Hessian diagonal, clipped
  at 0 (fed as $\hat g = \sqrt{h}$, so that $\hat g \odot \hat g = h$), with `bs=1`.
  Before the first refresh, $h = 0$ and every step is clipped: a step of `lr` per
  coordinate in the direction of $\operatorname{sign}(m_t)$.
* **Schedule-Free AdamW** takes its gradients at $y$ and returns the average $x$; the path
  drawn is $x$ and the final loss is $f(x)$.

A path stops where a coordinate leaves $[-10^6, 10^6]$ or stops being a number; such a run
is marked "diverged". The results store every point of the first 100 steps and every
fourth after that.

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
* From the newer chapters: Lion's steps are `lr` per coordinate and Muon's about `lr` long,
  whatever the gradient, so under noise they should rattle at a distance of order `lr`
  from the minimum; Schedule-Free's average $x$ should damp that noise; Adafactor's step,
  like LAMB's, is relative to the parameters' size ($\max(10^{-3}, \mathrm{RMS}(\theta))$),
  and its own schedule $\min(\text{lr}, 1/\sqrt t)$ shrinks it after $t = \text{lr}^{-2}$;
  Adamax divides by a running maximum of $|g|$ that forgets only by $\beta_2 = 0.999$ per
  step; Sophia's clipping should keep it from diverging where SGD does.

## What we saw

Final losses, from the committed results (Rosenbrock: one run; quadratic: mean of two noise
seeds; "div." = diverged, at the step given; bold: the best of each column):

| optimizer | Ros. $10^{-3}$ | $10^{-2}$ | $10^{-1}$ | quad. $10^{-3}$ | $10^{-2}$ | $10^{-1}$ |
|---|---|---|---|---|---|---|
| SGD | 4.2 | div. (5) | div. (3) | 0.33 | 0.018 | 0.0031 |
| SGD, momentum 0.9 | **0.0018** | div. (5) | div. (3) | 0.018 | 0.0033 | 0.0046 |
| Adagrad | 6.9 | 5.8 | 3.7 | 0.96 | 0.38 | 0.0068 |
| RMSprop | 5.4 | 0.24 | 0.20 | 0.17 | 0.0031 | 0.0019 |
| Adam | 5.8 | 3.6 | 0.0019 | 0.28 | 0.0070 | 0.0029 |
| AMSGrad | 5.9 | 3.9 | 0.0048 | 0.28 | 0.0072 | 0.0029 |
| AdamW | 5.8 | 3.4 | 0.012 | 0.28 | 0.0062 | 0.0028 |
| RAdam | 5.8 | 1.2 | div. (3) | 0.69 | 0.013 | 0.0032 |
| LAMB | 4.2 | 1.0 | 1.2 | 0.13 | 0.0016 | 0.0026 |
| NAdam | 5.9 | 3.4 | 0.11 | 0.29 | 0.0073 | 0.0020 |
| Adamax | 5.9 | 5.6 | 2.3 | 0.35 | 0.010 | 0.0026 |
| AdaBelief | 5.7 | 3.2 | **0.0014** | **0.014** | 0.0036 | 0.0034 |
| Lion | 5.1 | 0.035 | 1.3 | 0.20 | **0.0010** | 0.016 |
| Sophia-G | 5.3 | 0.40 | 0.12 | 0.17 | 0.0034 | 0.039 |
| Schedule-Free AdamW | 5.9 | 5.1 | 0.039 | 0.57 | 0.015 | **0.00026** |
| Adafactor | 5.0 | 1.5 | 1.2 | 0.19 | 0.0060 | 0.00066 |
| Muon | 5.1 | **0.0074** | 0.41 | 0.47 | 0.0016 | 0.014 |

The first nine rows (the gallery's first run; the rerun with the newer chapters reproduced
their numbers exactly), compared among themselves:

* As expected, plain SGD and momentum SGD blow up on Rosenbrock at $10^{-2}$ and above;
  at $10^{-3}$ momentum SGD is the best of these nine on Rosenbrock, and plain SGD
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

The newer chapters, on the same grid:

* **No new optimizer diverges anywhere.** Sophia-G's clipped steps keep it stable where SGD
  blows up (0.40 and 0.12 on Rosenbrock at $10^{-2}$ and
  $10^{-1}$), but its paths at $10^{-1}$ are the wildest of the gallery.
* **Fixed-length steps find the valley fast and cannot settle under noise.** At $10^{-2}$
  on Rosenbrock, Muon (0.0074, the best of that column) and Lion (0.035) are far ahead of
  Adam, AMSGrad, AdamW, NAdam, Adamax and AdaBelief (3.2 to 5.6), and on the quadratic
  at $10^{-2}$ Lion is the best run of the column (0.0010). At $10^{-1}$ on the quadratic
  they end at 0.016 (Lion) and 0.014 (Muon), five times Adam's 0.0029 and above the whole
  Adam family's noise floor (0.0020 to 0.0034), and on Rosenbrock at $10^{-1}$ at 1.3 and
  0.41: steps of length 0.1 cannot resolve a valley that narrow.
* **Schedule-Free's average wins the noisy quadratic and loses the race.** At $10^{-1}$
  its $x$ ends at 0.00026, the best of the whole quadratic grid and 8 to 13 times below
  the Adam family's noise floor; but the average lags behind the iterate while the path is
  still far from the minimum, so at $10^{-3}$ and $10^{-2}$ it is behind Adam (0.57 against
  0.28, 0.015 against 0.0070; Rosenbrock $10^{-2}$: 5.1 against 3.6).
* **Adafactor** is second on the quadratic at $10^{-1}$ (0.00066) for two reasons that are
  not about the landscape: its step $\min(\text{lr}, 1/\sqrt t)$ decays after step 100,
  and its step is proportional to $\mathrm{RMS}(\theta)$, which shrinks as $\theta$
  approaches this minimum at the origin. On Rosenbrock, whose minimum is at $(1, 1)$,
  neither Adafactor nor LAMB (whose step is also relative, $\text{lr}\,\lVert\theta\rVert$)
  converges at any lr (1.0 to 5.0).
* **AdaBelief** is the best Rosenbrock run of the grid at $10^{-1}$ (0.0014, Adam 0.0019)
  and the best quadratic run at $10^{-3}$ (0.014, ahead of momentum SGD's 0.018); NAdam
  is Adam's close twin except on Rosenbrock at $10^{-1}$ (0.11).
* **Adamax** is the slowest of the Adam family on Rosenbrock (2.3 at $10^{-1}$): its
  denominator is a running maximum, $u_t = \max(\beta_2 u_{t-1}, |g_t|)$, and the first
  gradient's $x$-component, 155, still holds $u_t$ at or above
  $0.999^{600} \cdot 155 \approx 85$ at the last step,
  so its steps stay small long after the gradient has become small.

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
    ("NAdam", "nadam", "NAdam", {}),
    ("Adamax", "adamax", "Adamax", {}),
    ("AdaBelief", "adabelief", "AdaBelief", {}),
    ("Lion", "lion", "Lion", {}),
    ("Sophia-G", "sophia", "SophiaG", {}),
    ("Schedule-Free AdamW", "schedule_free", "AdamWScheduleFree", {}),
    ("Adafactor", "adafactor", "Adafactor", {}),
    ("Muon", "muon", "Muon", {}),
]
LEFT_OUT = {
    "radam.AdamVWarmup": "the RAdam chapter's Adam-2k baseline, not an optimizer",
    "radam.AdamEpsHat": "the RAdam chapter's Adam-eps baseline, not an optimizer",
}

# Sophia refreshes its curvature estimate every `SOPHIA_K` steps (the chapter's $k$).
SOPHIA_K = 10
# The paths are stored at every step up to DENSE_STEPS, then every SPARSE_EVERY-th step.
DENSE_STEPS, SPARSE_EVERY = 100, 4

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


def rosenbrock_hessian_diagonal(x: float, y: float) -> tuple[float, float]:
    """The diagonal of its Hessian, by hand: $(2 - 400 y + 1200 x^2, 200)$."""
    return 2 - 400 * y + 1200 * x * x, 200.0


H_ENTRIES = quadratic_matrix().tolist()


def quadratic(p: torch.Tensor) -> torch.Tensor:
    r"""$\frac12 \theta^\top H \theta$."""
    return 0.5 * p @ quadratic_matrix().to(p.dtype) @ p


def quadratic_grad(x: float, y: float) -> tuple[float, float]:
    r"""$H\theta$."""
    (a, b), (_, d) = H_ENTRIES
    return a * x + b * y, b * x + d * y


def quadratic_hessian_diagonal(x: float, y: float) -> tuple[float, float]:
    """The diagonal of $H$ (the same everywhere)."""
    return H_ENTRIES[0][0], H_ENTRIES[1][1]


PROBLEMS = {
    "rosenbrock": dict(loss=rosenbrock, grad=rosenbrock_grad,
                       hessian_diagonal=rosenbrock_hessian_diagonal, start=(-1.5, 2.0),
                       minimum=(1.0, 1.0)),
    "noisy quadratic": dict(loss=quadratic, grad=quadratic_grad,
                            hessian_diagonal=quadratic_hessian_diagonal, start=(0.5, 2.0),
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
    r"""The iterates (the start first), the final loss, and the step it diverged at if it did.

    float64 throughout, so that the paths show the optimizers and not rounding. Three
    optimizers need more than `step()`:

    * Muon takes only matrices, so its point is a $1 \times 2$ matrix;
    * Sophia-G gets its curvature every `SOPHIA_K` steps from the exact Hessian diagonal
      (clipped at 0), fed to `update_hessian` as $\hat g = \sqrt{h}$ so that $\hat g
      \odot \hat g = h$, and steps with `bs=1`;
    * Schedule-Free AdamW evaluates its gradients at $y$ and returns the average $x$: the
      path is $x$ (read from the optimizer's state) and the final loss is taken at $x$.
    """
    spec = PROBLEMS[problem]
    shape = (1, 2) if label == "Muon" else (2,)
    p = torch.tensor(spec["start"], dtype=torch.float64).reshape(shape).requires_grad_()
    opt = make_optimizer(label, [p], lr)
    gen = torch.Generator().manual_seed(seed)
    path = [tuple(spec["start"])]
    x, y = spec["start"]
    for t in range(1, steps + 1):
        p.grad = torch.tensor(spec["grad"](x, y), dtype=torch.float64).reshape(shape)
        if problem == "noisy quadratic":
            p.grad.add_(torch.randn(2, generator=gen, dtype=torch.float64).reshape(shape),
                        alpha=noise)
        if label == "Sophia-G":
            opt.step(bs=1)
            if t % SOPHIA_K == SOPHIA_K - 1:
                point = p.detach().flatten()
                h = spec["hessian_diagonal"](*point.tolist())
                p.grad = torch.tensor(h, dtype=torch.float64).clamp(min=0).sqrt()
                opt.update_hessian()
        else:
            opt.step()
        x, y = p.detach().flatten().tolist()
        if label == "Schedule-Free AdamW":
            px, py = opt.state[p]["x"].flatten().tolist()
        else:
            px, py = x, y
        if not all(math.isfinite(v) and abs(v) <= 1e6 for v in (x, y, px, py)):
            return path, math.inf, t
        path.append((px, py))
    with torch.no_grad():
        return path, spec["loss"](torch.tensor(path[-1], dtype=torch.float64)).item(), None


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
        # Every step up to `DENSE_STEPS`, then every `SPARSE_EVERY`-th and the last: the
        # results file stays small and the early, fast part of every path stays exact.
        last = len(path) - 1
        for t, (x, y) in enumerate(path):
            if t <= DENSE_STEPS or t % SPARSE_EVERY == 0 or t == last:
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
    ncols = 5
    nrows = math.ceil(len(labels) / ncols)
    fig, axes = plt.subplots(2 * nrows, ncols, figsize=(3.3 * ncols, 3.0 * 2 * nrows),
                             squeeze=False)
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
