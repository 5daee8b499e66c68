r"""
---
title: "Large batches, part 2: LAMB against AdamW when the layers differ in scale"
summary: One MLP in two parameterizations; LAMB vs AdamW at growing batch size, lr ∝ √B.
group: Experiments
order: 535
---

# Large batches, part 2: LAMB against AdamW when the layers differ in scale

[LAMB](../lamb.md) rescales Adam's step per tensor so that each layer moves by the same
*fraction* $\eta$ of its own norm; Adam moves every coordinate by about $\eta$ whatever the
size of the weights around it. You et al. ("Large Batch Optimization for Deep Learning",
2020) argue that this is what lets LAMB keep its accuracy as the batch, and with it the
learning rate, grows, where Adam(W) falls behind. Their evidence is BERT and ResNet-50
at batch sizes of tens of thousands. [Part 1](large_batch.md) showed the critical batch
size on a closed-form model; this page runs the LAMB claim on a network small enough for a
laptop, built so that its layers differ in scale by a known factor.

## Setup

* **Data and model**: scikit-learn's digits, split as in [the AdamW experiment](adamw_decay.md)
  (1297 training, 500 test images, imported from it), and the MLP
  $64 \to 128 \to 128 \to 10$ with ReLU.
* **Two parameterizations of the same network.** ReLU is positively homogeneous,
  $\mathrm{relu}(c z) = c\,\mathrm{relu}(z)$ for $c > 0$, so multiplying the first layer's
  weights and bias by $c_1$, the second's weights by $c_2$ and bias by $c_1 c_2$, the
  third's weights by $c_3$ and bias by $c_1 c_2 c_3$, with $c_1 c_2 c_3 = 1$, leaves the
  function unchanged: with $z_k$ layer $k$'s output before the change (before its relu),
  layer 1's becomes $c_1 z_1$, relu passes the factor on, layer 2's becomes $c_1 c_2 z_2$
  and layer 3's $c_1 c_2 c_3 z_3 = z_3$.
  *Balanced* is torch's default initialization, $c = (1, 1, 1)$; *skewed* is the same
  initialization with $c = (10, 1, 0.1)$, so the first layer's weights are 100 times the
  last's in scale; *reversed* is $c = (0.1, 1, 10)$. All three start as the same function
  (a test checks), and training does not keep them the same: a layer's weights scale as
  $c$, its gradient as $1/c$.
* **Optimizers**, $\beta = (0.9, 0.999)$, no weight decay (the question is about the
  layer-wise scaling, not the decay):
  * *AdamW*: [AdamW](../adamw.md) with `weight_decay=0` (Adam);
  * *LAMB*: [LAMB](../lamb.md) with the chapter's `lamb_param_groups`: the weight matrices
    are adapted (step $\eta \lVert W \rVert\, u / \lVert u \rVert$), the biases take Adam's
    step (`adapt=False`), as in BERT's and the paper's setup.
* **Batch sizes and the $\sqrt{B}$ rule**: $B \in \{32, 128, 512, 1024\}$, each for the same
  10 epochs (so $10 \cdot 1297 / B$ steps, rounded: 405, 101, 25 and 13; examples drawn
  with replacement), with the learning rate $\eta(B) = \eta_0 \sqrt{B / 32}$, the
  square-root scaling the LAMB paper uses for its large-batch runs. The base $\eta_0$ runs
  over $\{10^{-3}, 3 \cdot 10^{-3}, 10^{-2}, 3 \cdot 10^{-2}\}$ for each optimizer;
  *the $\sqrt{B}$ rule* below keeps the $\eta_0$ that is best at $B = 32$ for every $B$,
  *retuned* takes the best $\eta_0$ at each $B$.
* **Seeds**: 0, 1, 2 (initialization and batch order; both parameterizations share them).
* **Measured**: the training loss (every $\lceil$steps/50$\rceil$ steps) and the test error
  and loss (ten times per run and at the end).

![Test error against batch size](lamb_scales.png)

## Two exact facts

**Adam sees a rescaled layer as a change of its learning rate.** If a tensor is
$\theta' = c\,\theta$, its gradient is $g' = g / c$, so Adam's moments are $m' = m / c$ and
$v' = v / c^2$ and its direction $\hat m' / \sqrt{\hat v'}$ is the same as for $\theta$
($\epsilon$ aside). The step $\Delta\theta' = -\eta\, \hat m / \sqrt{\hat v}$ is then, in the
original coordinates, $\Delta\theta = \Delta\theta' / c = -(\eta / c)\, \hat m / \sqrt{\hat v}$:
Adam on the rescaled network *is* Adam on the balanced one with the learning rate
$\eta / c$ for that tensor. *Skewed* gives the three weight matrices $\eta/10$, $\eta$ and
$10\eta$ (the biases $\eta/10$, $\eta/10$, $\eta$); *reversed* gives $10\eta$, $\eta$,
$\eta/10$ (biases $10\eta$, $10\eta$, $\eta$).

**LAMB does not see it.** An adapted tensor steps by
$\Delta\theta' = -\eta \lVert\theta'\rVert\, u' / \lVert u' \rVert$ with $u'$ Adam's
direction, unchanged; with $\lVert\theta'\rVert = c \lVert\theta\rVert$ that is
$c\,\Delta\theta$, the balanced network's step carried over. If every tensor were adapted,
the three parameterizations would train as one network; here the biases take Adam's
steps (`adapt=False`) and so, by the first fact, differ. The tests check both facts on
small twins in float64.

## What we expected

If the paper's argument carries over: on the *balanced* network both optimizers behave
alike at small batch; on a rescaled one AdamW suffers (a step of $\eta$ per coordinate is
huge for the small layer and negligible for the large one), LAMB does not (its steps are
relative, so the reparameterization should hardly matter to it); and as $B$ and
$\eta(B)$ grow, AdamW should fall behind LAMB.

## What we saw

Final test error (%) under the $\sqrt{B}$ rule ($\eta_0$ tuned at $B = 32$), mean of the
three seeds, with the range over seeds:

| optimizer, layers | $\eta_0$ | $B = 32$ | $B = 128$ | $B = 512$ | $B = 1024$ |
|---|---|---|---|---|---|
| AdamW, balanced | 0.01 | 3.6 (3.0–4.0) | 4.1 (4.0–4.2) | 5.6 (4.4–6.6) | 14.1 (11.8–17.8) |
| AdamW, skewed | 0.003 | 2.1 (1.4–3.2) | 2.4 (2.2–2.8) | 4.1 (3.8–4.4) | 5.3 (5.0–5.6) |
| AdamW, reversed | 0.01 | 3.1 (2.8–3.4) | 4.4 (3.8–4.8) | 12.3 (11.6–13.0) | 55.0 (42.4–67.8) |
| LAMB, balanced | 0.01 | 4.3 (2.8–5.4) | 5.0 (4.4–5.4) | 10.3 (8.8–11.8) | 12.3 (11.6–13.2) |
| LAMB, skewed | 0.01 | 3.7 (3.6–3.8) | 5.1 (4.8–5.4) | 9.7 (8.4–11.0) | 11.5 (10.8–12.4) |
| LAMB, reversed | 0.01 | 4.2 (4.0–4.6) | 7.9 (3.8–10.4) | 14.8 (12.0–17.2) | 36.8 (31.2–41.2) |

The whole run: 216 trainings, 97 s of CPU time with one torch thread; the wall time in the
results file, 727 s, is that of a two-core machine shared with a load average above 20.
*Reversed* was added after a first run with *balanced* and *skewed* only (whose numbers this
run reproduced exactly), when AdamW turned out to gain from the skew.

* **The paper's claim does not reproduce here.** Under the $\sqrt{B}$ rule AdamW is ahead
  of LAMB in 10 of the 12 (parameterization, batch) cells. The two exceptions are the
  largest batch of *balanced* (LAMB 12.3% against 14.1%, with overlapping seed ranges) and
  of *reversed* (36.8% against 55.0%), where AdamW's $\eta_0$, tuned at $B = 32$, is too
  large once multiplied by $\sqrt{32} = 5.7$. With $\eta_0$ retuned at every batch size
  AdamW is ahead in all 12 cells (at $B = 1024$: 8.4 / 5.3 / 9.2% against LAMB's
  12.3 / 11.5 / 33.3% for balanced / skewed / reversed). This is Nado et al.'s (2021)
  finding that a tuned Adam matches LAMB at large batch, on a much smaller scale.
* **A skew can help Adam as well as hurt it.** By the first fact, *skewed* is Adam with
  learning rates $\eta/10, \eta, 10\eta$ from the first layer to the last, and on digits
  that is a better choice than one $\eta$ for all: 2.1% against 3.6% at $B = 32$, 5.3%
  against 14.1% at $B = 1024$. *Reversed* ($10\eta, \eta, \eta/10$) is a worse one at large
  batch, where $\sqrt{B}\,\eta_0 \cdot 10$ on the first layer breaks training: 55.0% at
  $B = 1024$. The layer scales matter to Adam, in both directions, exactly as much as the
  per-layer learning rates they amount to.
* **LAMB is almost blind to the skew, not to the reversal.** *Balanced* and *skewed* differ
  by at most 0.8 points at every $B$, and their seed ranges overlap, as the second fact
  predicts. *Reversed* is worse from $B = 128$ on (7.9, 14.8, 36.8% against 5.0, 10.3,
  12.3%): its biases, which take Adam's absolute steps here as in BERT's setup, move by
  $10\eta$ in the balanced network's units on the first two layers. Leaving biases out of
  the layer adaptation, the common practice, is (with $\epsilon$) the only part of LAMB's
  step that the rescaling does not carry over, and here it is enough to matter.
* **Large batches cost everyone.** At a fixed budget of 10 epochs, $B = 1024$ leaves 13
  steps, and every (optimizer, parameterization), even with $\eta_0$ retuned, is worse
  there than at $B = 32$ (5.3–33.3% against 2.1–4.3%). The $\sqrt{B}$ rule does not keep
  the accuracy for either optimizer at this scale.

Not done: LARS (no chapter implements it; the trust ratio on SGD with momentum would be
the natural third line), and models where the scales differ for a structural reason
(embeddings, normalization layers) rather than by construction.

## References

- Yang You et al., *Large Batch Optimization for Deep Learning: Training BERT in 76
  Minutes*, ICLR 2020. [arXiv:1904.00962](https://arxiv.org/abs/1904.00962)
- Ilya Loshchilov and Frank Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019.
  [arXiv:1711.05101](https://arxiv.org/abs/1711.05101)
- Zachary Nado et al., *A Large Batch Optimizer Reality Check: Traditional, Generic
  Optimizers Suffice Across Batch Sizes*, 2021.
  [arXiv:2102.06356](https://arxiv.org/abs/2102.06356)
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from labml_optim.experiments._common import experiment_main, new_run, progress, record, series
from labml_optim.experiments.adamw_decay import digits

NAME = "lamb_scales"

FULL = dict(hidden=128, epochs=10, base_batch=32, batches=[32, 128, 512, 1024],
            base_lrs=[3e-3, 1e-2, 3e-2], optimizers=["AdamW", "LAMB"],
            scales={"balanced": [1.0, 1.0, 1.0], "skewed": [10.0, 1.0, 0.1],
                    "reversed": [0.1, 1.0, 10.0]},
            betas=[0.9, 0.999], seeds=[0, 1, 2], loss_points=50, eval_points=10)
QUICK = dict(hidden=16, epochs=1, base_batch=128, batches=[128, 512],
             base_lrs=[1e-2], optimizers=["AdamW", "LAMB"],
             scales={"balanced": [1.0, 1.0, 1.0], "skewed": [10.0, 1.0, 0.1],
                     "reversed": [0.1, 1.0, 10.0]},
             betas=[0.9, 0.999], seeds=[0], loss_points=5, eval_points=2)


# ## The model
def make_model(hidden: int, scales: list[float]) -> nn.Sequential:
    r"""The MLP, with layer $k$'s weights times $c_k$ and its bias times $c_1 \cdots c_k$.

    With $c_1 c_2 c_3 = 1$ the function is torch's default-initialized MLP's (ReLU is
    positively homogeneous); only the parameterization changes.
    """
    model = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                          nn.ReLU(), nn.Linear(hidden, 10))
    cumulative = 1.0
    with torch.no_grad():
        for layer, c in zip(model[::2], scales, strict=True):
            cumulative *= c
            layer.weight.mul_(c)
            layer.bias.mul_(cumulative)
    return model


def make_optimizer(name: str, model: nn.Module, lr: float,
                   betas: tuple[float, float]) -> torch.optim.Optimizer:
    from labml_optim.adamw import AdamW
    from labml_optim.lamb import LAMB, lamb_param_groups

    if name == "AdamW":
        return AdamW(model.parameters(), lr=lr, betas=betas, weight_decay=0.0)
    if name == "LAMB":
        return LAMB(lamb_param_groups(model, 0.0), lr=lr, betas=betas)
    raise KeyError(name)


# ## One run
def train(config: dict[str, Any], optimizer: str, scale: str, batch: int, base_lr: float,
          seed: int, data: tuple[torch.Tensor, ...]) -> dict[str, Any]:
    x_train, y_train, x_test, y_test = data
    # The $\sqrt{B}$ rule.
    lr = base_lr * math.sqrt(batch / config["base_batch"])
    steps = round(config["epochs"] * len(x_train) / batch)
    torch.manual_seed(seed)
    model = make_model(config["hidden"], config["scales"][scale])
    opt = make_optimizer(optimizer, model, lr, tuple(config["betas"]))
    gen = torch.Generator().manual_seed(100 + seed)
    run = new_run(f"{optimizer} | {scale} | B={batch} | lr0={base_lr:g}", seed,
                  optimizer=optimizer, scale=scale, batch=batch, base_lr=base_lr)
    run["extra"].update(lr=lr, steps=steps)
    loss_every = math.ceil(steps / config["loss_points"])
    eval_every = math.ceil(steps / config["eval_points"])

    def evaluate(step: int) -> None:
        with torch.no_grad():
            logits = model(x_test)
            loss = nn.functional.cross_entropy(logits, y_test).item()
            record(run, "test_loss", step, loss)
            record(run, "test_error", step, (logits.argmax(1) != y_test).float().mean().item())

    evaluate(0)
    for step in range(1, steps + 1):
        idx = torch.randint(len(x_train), (batch,), generator=gen)
        loss = nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % loss_every == 0 or step == steps:
            record(run, "train_loss", step, loss.item())
        if not math.isfinite(loss.item()):
            run["extra"]["diverged_at"] = step
            record(run, "test_error", step, 0.9)  # chance level, so tables stay finite
            break
        if step % eval_every == 0 or step == steps:
            evaluate(step)
    return run


def run(config: dict[str, Any]) -> list[dict[str, Any]]:
    data = digits()
    jobs = [(o, s, b, lr, seed) for o in config["optimizers"] for s in config["scales"]
            for b in config["batches"] for lr in config["base_lrs"] for seed in config["seeds"]]
    return [train(config, *job, data) for job in progress(jobs, desc=NAME)]


# ## Reading the results
def final_errors(results: dict[str, Any]) -> dict[tuple[str, str, int, float], list[float]]:
    """Final test error per (optimizer, scale, batch, base lr), one value per seed."""
    out: dict[tuple[str, str, int, float], list[float]] = {}
    for r in sorted(results["runs"], key=lambda r: r["seed"]):
        s = r["settings"]
        out.setdefault((s["optimizer"], s["scale"], s["batch"], s["base_lr"]), []).append(
            series(r, "test_error")[1][-1])
    return out


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def sqrt_rule(results: dict[str, Any]) -> dict[tuple[str, str], tuple[float, list]]:
    """Per (optimizer, scale): the base lr best at the smallest batch, and the per-seed
    final errors at every batch with that base lr."""
    config = results["config"]
    errors = final_errors(results)
    first = config["batches"][0]
    out = {}
    for o in config["optimizers"]:
        for s in config["scales"]:
            lr0 = min(config["base_lrs"], key=lambda lr: mean(errors[(o, s, first, lr)]))
            out[(o, s)] = (lr0, [errors[(o, s, b, lr0)] for b in config["batches"]])
    return out


def retuned(results: dict[str, Any]) -> dict[tuple[str, str], list[tuple[float, list]]]:
    """Per (optimizer, scale) and batch: the best base lr there and its per-seed errors."""
    config = results["config"]
    errors = final_errors(results)
    out = {}
    for o in config["optimizers"]:
        for s in config["scales"]:
            row = []
            for b in config["batches"]:
                lr0 = min(config["base_lrs"], key=lambda lr: mean(errors[(o, s, b, lr)]))
                row.append((lr0, errors[(o, s, b, lr0)]))
            out[(o, s)] = row
    return out


# ## The figure
def draw(results: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    config = results["config"]
    batches = config["batches"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    styles = {"balanced": "-", "skewed": "--", "reversed": ":"}
    colours = {o: f"C{i}" for i, o in enumerate(config["optimizers"])}
    rule, tuned = sqrt_rule(results), retuned(results)
    for (o, s), (lr0, errs) in rule.items():
        means = [100 * mean(e) for e in errs]
        low = [m - 100 * min(e) for m, e in zip(means, errs, strict=True)]
        high = [100 * max(e) - m for m, e in zip(means, errs, strict=True)]
        left.errorbar(batches, means, yerr=[low, high], fmt="o" + styles[s], color=colours[o],
                      ms=4, capsize=3, label=f"{o}, {s} ($\\eta_0$ = {lr0:g})")
        row = tuned[(o, s)]
        right.plot(batches, [100 * mean(e) for _, e in row], "o" + styles[s],
                   color=colours[o], ms=4, label=f"{o}, {s}")
        for b, (lr, e) in zip(batches, row, strict=True):
            right.annotate(f"{lr:g}", (b, 100 * mean(e)), fontsize=6, color=colours[o],
                           xytext=(3, 3), textcoords="offset points")
    base, first = config["base_batch"], batches[0]
    left.set_title(rf"$\sqrt{{B}}$ rule: $\eta = \eta_0 \sqrt{{B/{base}}}$, $\eta_0$ best at "
                   f"B = {first}", fontsize=10)
    right.set_title(r"$\eta_0$ retuned at every B (labels: best $\eta_0$)", fontsize=10)
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(f"batch size B ({config['epochs']} epochs each)")
        ax.grid(alpha=0.3, which="both")
        ax.set_yticks([1, 2, 5, 10, 20, 50], ["1", "2", "5", "10", "20", "50"])
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.legend(fontsize=7)
    left.set_ylabel(f"final test error (%), mean and range of {len(config['seeds'])} seeds")
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> None:
    """Train every combination (or, with `--save`, only draw the committed results)."""
    experiment_main(argv, name=NAME, description="LAMB vs AdamW with skewed layer scales",
                    full=FULL, quick=QUICK, run=run, draw=draw)


if __name__ == "__main__":
    main()
