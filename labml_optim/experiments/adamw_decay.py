r"""
---
title: "AdamW: is the best weight decay independent of the learning rate?"
summary: An lr by weight-decay grid on digits; Adam+L2 against AdamW with torch's and the paper's λ.
group: Experiments
order: 520
---

# AdamW: is the best weight decay independent of the learning rate?

Loshchilov & Hutter's figure 2 shows heatmaps of the test error over a grid of learning
rates and weight decays. With Adam and L2 regularization, the good region is a thin diagonal:
change the learning rate and the best $\lambda$ moves. With decoupled weight decay (AdamW) it
is a broad region whose best $\lambda$ hardly depends on the learning rate. The paper's AdamW
multiplies the decay by the schedule multiplier $\eta_t$ only; torch's multiplies it by the
full learning rate $\alpha\eta_t$, so $\lambda_\text{torch} = \lambda_\text{paper}/\alpha$
(the [AdamW](../adamw.md) chapter derives this), which should bring the diagonal back. This
page runs the three on a problem a laptop can grid in minutes.

## Setup

* **Data**: scikit-learn's 8×8 handwritten digits (1797 images, shipped inside the
  package), pixels scaled to $[0, 1]$; a fixed split of 1297 training and 500 test images.
* **Model**: an MLP $64 \to 128 \to 128 \to 10$ with ReLU, cross-entropy loss.
* **Training**: batch 64, 300 steps (about 15 epochs), cosine decay of the learning rate
  to 0 (`WarmupCosineLR` from the [warmup](../warmup.md) chapter with one warmup step),
  $\beta = (0.9, 0.999)$, two seeds (initialization and batch order).
* **Grid**: learning rate $\alpha \in \{10^{-4}, 3\cdot 10^{-4}, 10^{-3}, 3\cdot 10^{-3},
  10^{-2}\}$ and five decades of $\lambda$ for each method:
  * *Adam + L2*: [Adam](../adam.md) with `weight_decay` $\lambda \in \{10^{-5}, \dots, 10^{-1}\}$;
  * *AdamW, torch's $\lambda$*: [AdamW](../adamw.md), `weight_decay_mode="lr"`,
    $\lambda \in \{10^{-3}, \dots, 10\}$;
  * *AdamW, paper's $\lambda$*: AdamW, `weight_decay_mode="schedule"`,
    $\lambda \in \{10^{-6}, \dots, 10^{-2}\}$.

  The decades are placed so that at $\alpha = 10^{-3}$ the two AdamW grids apply the same
  decay per step.
* **Measured**: the training loss at every step, the test error and loss every 50 steps.

![Test error heatmaps](adamw_decay.png)

## What we expected

As in the paper: a diagonal valley for Adam + L2 and for torch's parameterization
(the best $\lambda$ moving like $1/\alpha$), a horizontal one for the paper's.

## What we saw

**The question could not be answered at this budget, and the page says so.** In 300 steps
the network is still underfitting (the best test error, 2.0 to 2.1%, is at the largest lr;
at $\alpha = 10^{-4}$ every method is still above 20%), and weight decay never helped: for
every method and every lr the smallest $\lambda$ of the grid is within 0.5 points of the
best cell of its column. With two seeds the median difference between the seeds of a cell
is 0.8 points, so the small differences inside the good region are noise. There is no
valley whose position could move.

What the heatmaps do show is where decay starts to *hurt*, and that boundary behaves
against the paper's picture here:

* *Paper's $\lambda$* (decay independent of $\alpha$): the damage of a given $\lambda$
  depends strongly on $\alpha$. At $\lambda = 10^{-2}$ the error is 80% at
  $\alpha = 10^{-4}$ and 2.6% at $\alpha = 10^{-2}$: a large lr lets the gradient steps
  regrow what the decay removes, a small one does not.
* *torch's $\lambda$* (decay $\alpha\lambda$): the harmful row $\lambda = 10$ hurts at
  every lr (14 to 26%), the row $\lambda = 1$ costs 0.3 to 0.7 points everywhere: closer to
  lr-independent.
* *Adam + L2*: $\lambda = 0.1$ ruins every lr (81 to 92%), $\lambda = 10^{-2}$ costs 0.9 to
  11 points.

A test of the paper's claim needs a run long enough to overfit (the paper trains for
hundreds of epochs), which is left for a machine with more time than this one had.

## References

- Ilya Loshchilov and Frank Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019.
  [arXiv:1711.05101](https://arxiv.org/abs/1711.05101)
"""

from __future__ import annotations

import gzip
import importlib.util
import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from labml_optim.experiments._common import experiment_main, new_run, progress, record, series

NAME = "adamw_decay"

LRS = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
FULL = dict(
    lrs=LRS, steps=300, batch=64, hidden=128, seeds=[0, 1], eval_every=50,
    decays={"Adam + L2": [1e-5, 1e-4, 1e-3, 1e-2, 1e-1],
            "AdamW, torch's λ": [1e-3, 1e-2, 1e-1, 1.0, 10.0],
            "AdamW, paper's λ": [1e-6, 1e-5, 1e-4, 1e-3, 1e-2]},
)
QUICK = dict(
    lrs=[1e-3], steps=10, batch=32, hidden=16, seeds=[0], eval_every=5,
    decays={"Adam + L2": [1e-3], "AdamW, torch's λ": [1e-1], "AdamW, paper's λ": [1e-4]},
)


def digits_csv() -> list[list[int]]:
    """The rows (64 pixels, then the label) of the digits file that scikit-learn ships.

    Read straight from the installed package, which `sklearn.datasets.load_digits` also
    reads, without importing scikit-learn (seconds saved on every run; a test checks that
    the two agree).
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("scikit-learn is needed for the digits data set")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    with gzip.open(path, "rt") as f:
        return [[int(float(v)) for v in line.split(",")] for line in f if line.strip()]


def digits() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The digits data set, split 1297 / 500 by a fixed permutation."""
    rows = torch.tensor(digits_csv(), dtype=torch.float32)
    x = rows[:, :64] / 16
    y = rows[:, 64].long()
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    train, test = perm[:1297], perm[1297:]
    return x[train], y[train], x[test], y[test]


def make_optimizer(method: str, params: list[torch.Tensor], lr: float,
                   decay: float) -> torch.optim.Optimizer:
    from labml_optim.adam import Adam
    from labml_optim.adamw import AdamW

    if method == "Adam + L2":
        return Adam(params, lr=lr, weight_decay=decay)
    if method == "AdamW, torch's λ":
        return AdamW(params, lr=lr, weight_decay=decay, weight_decay_mode="lr")
    if method == "AdamW, paper's λ":
        return AdamW(params, lr=lr, weight_decay=decay, weight_decay_mode="schedule")
    raise KeyError(method)


#
def train(config: dict[str, Any], method: str, lr: float, decay: float, seed: int,
          data: tuple[torch.Tensor, ...]) -> dict[str, Any]:
    from labml_optim.warmup import WarmupCosineLR

    x_train, y_train, x_test, y_test = data
    torch.manual_seed(seed)
    h = config["hidden"]
    model = nn.Sequential(nn.Linear(64, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(),
                          nn.Linear(h, 10))
    opt = make_optimizer(method, list(model.parameters()), lr, decay)
    sched = WarmupCosineLR(opt, 1, config["steps"], 0.0)
    gen = torch.Generator().manual_seed(100 + seed)
    run = new_run(f"{method} | lr={lr:g} | wd={decay:g}", seed, method=method, lr=lr,
                  weight_decay=decay)

    def evaluate(step: int) -> None:
        with torch.no_grad():
            logits = model(x_test)
            record(run, "test_loss", step, nn.functional.cross_entropy(logits, y_test).item())
            record(run, "test_error", step, (logits.argmax(1) != y_test).float().mean().item())

    evaluate(0)
    for step in range(1, config["steps"] + 1):
        idx = torch.randint(len(x_train), (config["batch"],), generator=gen)
        loss = nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        record(run, "train_loss", step, loss.item())
        if step % config["eval_every"] == 0 or step == config["steps"]:
            evaluate(step)
    return run


def run(config: dict[str, Any]) -> list[dict[str, Any]]:
    data = digits()
    jobs = [(m, lr, d, s) for m, decays in config["decays"].items() for lr in config["lrs"]
            for d in decays for s in config["seeds"]]
    return [train(config, m, lr, d, s, data) for m, lr, d, s in progress(jobs, desc=NAME)]


# ## The figure
def final_errors(results: dict[str, Any]) -> dict[tuple[str, float, float], float]:
    """Mean final test error over seeds per (method, lr, weight decay)."""
    acc: dict[tuple[str, float, float], list[float]] = {}
    for r in results["runs"]:
        s = r["settings"]
        _, values = series(r, "test_error")
        acc.setdefault((s["method"], s["lr"], s["weight_decay"]), []).append(values[-1])
    return {k: sum(v) / len(v) for k, v in acc.items()}


def draw(results: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    config = results["config"]
    errors = final_errors(results)
    methods = list(config["decays"])
    fig, axes = plt.subplots(1, len(methods), figsize=(4.8 * len(methods), 4.6), squeeze=False,
                             layout="constrained")
    finite = [e for e in errors.values() if math.isfinite(e)]
    vmin = min(finite)
    vmax = max(min(max(finite), 0.2), vmin + 1e-3)
    for ax, method in zip(axes[0], methods, strict=True):
        decays = config["decays"][method]
        grid = [[errors[(method, lr, d)] for lr in config["lrs"]] for d in decays]
        im = ax.imshow(grid, origin="lower", cmap="viridis_r", vmin=vmin, vmax=vmax,
                       aspect="auto")
        for i, row in enumerate(grid):
            for j, e in enumerate(row):
                ax.text(j, i, f"{100 * e:.1f}", ha="center", va="center", fontsize=9,
                        color="white" if e > (vmin + vmax) / 2 else "black")
        # The best weight decay for each learning rate.
        best = [min(range(len(decays)), key=lambda i, j=j: grid[i][j])
                for j in range(len(config["lrs"]))]
        ax.plot(range(len(config["lrs"])), best, "r.-", lw=1, ms=8, label="best λ per lr")
        ax.set_xticks(range(len(config["lrs"])), [f"{lr:g}" for lr in config["lrs"]])
        ax.set_yticks(range(len(decays)), [f"{d:g}" for d in decays])
        ax.set_xlabel("learning rate α")
        ax.set_ylabel("weight decay λ")
        ax.set_title(method, fontsize=10)
        ax.legend(fontsize=9, loc="upper right")
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.85, label="test error (mean of seeds)")
    fig.suptitle(f"Digits MLP, {config['steps']} steps, cosine schedule, "
                 f"{len(config['seeds'])} seeds; numbers: test error in %", fontsize=10)
    return fig


def main(argv: list[str] | None = None) -> None:
    """Run the grid (or, with `--save`, only draw the committed results)."""
    experiment_main(argv, name=NAME, description="AdamW: weight decay against learning rate",
                    full=FULL, quick=QUICK, run=run, draw=draw)


if __name__ == "__main__":
    main()
