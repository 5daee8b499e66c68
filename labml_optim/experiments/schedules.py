r"""
---
title: "Schedules: does the untuned warmup match a tuned one?"
summary: Noam, linear and cosine decay, and the untuned warmup 2/(1-β2) on the Post-LN byte LM.
group: Experiments
order: 550
---

# Schedules: does the untuned warmup match a tuned one?

Ma & Yarats ("On the adequacy of untuned warmup for adaptive optimization", AAAI 2021)
find that an untuned warmup of Adam performs about as well as RAdam, and recommend a linear
warmup over $2/(1 - \beta_2)$ steps (the [warmup](../warmup.md) chapter's
`UntunedLinearWarmupLR`) as the default that needs no tuning. The question here is the
sharper one: is that default as good as a warmup whose length was searched for? This page
puts it to a test on the model where
[the RAdam experiment](radam_warmup.md) found that Adam needs a warmup at all, and sets the
untuned warmup beside the schedules people use: [Noam](../noam.md)'s, linear warmup with
linear decay, and linear warmup with cosine decay, each over a small grid of warmup lengths.

## Setup

* **Model and data**: those of [the RAdam experiment](radam_warmup.md), imported from it:
  the 2-layer, width-32 **Post-LN** byte-level transformer on the first 200 kB of the
  standard library's source, validated on the next 20 kB (8 fixed batches, 2048 bytes).
  The seed sets the initialization and the batch order exactly as there, so the runs
  *constant* and *untuned warmup, then constant* of seeds 0 and 1 are the RAdam page's
  "Post-LN Adam" and "Post-LN Adam + warmup" at lr $3 \cdot 10^{-2}$ (the tests check).
* **Optimizer**: [Adam](../adam.md), $\beta = (0.9, 0.98)$, batch 8 sequences of 32 bytes,
  $T = 300$ steps, peak learning rate $\eta = 3 \cdot 10^{-2}$ for every schedule: the lr
  at which Adam without warmup failed on that page. With $\beta_2 = 0.98$ the untuned
  warmup lasts $2/(1 - \beta_2) = 100$ steps.
* **Schedules** (the multiplier of $\eta$ at step $t$; $W$ is the warmup length):
  * *constant*: 1 (no warmup, no decay);
  * *untuned warmup, then constant*: $\min(1, t(1-\beta_2)/2)$, `UntunedLinearWarmupLR`;
  * *linear*: `WarmupLinearLR(W, T)`, $t/W$ up to $W$, then linearly down to
    $1/(T + 1 - W)$ at $T$, for $W \in \{1, 10, 30, 100, 200\}$ ($W = 1$: decay only;
    $W = 100$ is the untuned length, so *linear, W = 100* is the untuned warmup with a
    linear decay);
  * *cosine*: `WarmupCosineLR(W, T)`, the same warmup, then half a cosine to 0, for
    $W \in \{30, 100\}$;
  * *Noam*: `NoamLR(d_model=32, warmup=W, factor=sqrt(32 * W))`, the factor chosen so
    that the peak, at $t = W$, is $\eta$; then $\sqrt{W/t}$; for $W \in \{30, 100\}$.
* **Seeds**: 0, 1 and 2 for every schedule.
* **Measured** at every step: the training loss and the learning rate; every 50 steps the
  validation loss. The "tuned" warmup is the best $W$ of the grid by the mean final
  validation loss over the three seeds.

![Schedules, loss curves and final losses against the warmup length](schedules.png)

## What we expected

From the RAdam page: *constant* fails at this lr (one seed stuck on a plateau near 3
nats), and the untuned warmup rescues it. From Ma & Yarats: among the warmups with the
same decay, $W = 2/(1-\beta_2)$ should be about as good as the best $W$ of the grid. And
decaying the lr to (near) 0 should lower the final loss of every schedule, as it does in
practice.

## What we saw

Final validation loss (nats per byte) for seeds 0 / 1 / 2, their mean, and the mean
training loss of the last 50 steps (mean over seeds), from the committed results:

| schedule | val. loss, seeds 0 / 1 / 2 | mean | last-50 train |
|---|---|---|---|
| constant | 2.77 / 2.51 / 2.89 | 2.73 | 2.81 |
| untuned warmup, then constant | 2.44 / 2.39 / 2.34 | 2.39 | 2.51 |
| linear, W=1 | 2.79 / 2.29 / 2.56 | 2.55 | 2.67 |
| linear, W=10 | 2.77 / 2.28 / 2.40 | 2.48 | 2.61 |
| linear, W=30 | 2.35 / 2.21 / 2.20 | 2.25 | 2.41 |
| linear, W=100 | 2.20 / 2.16 / 2.14 | 2.17 | 2.33 |
| linear, W=200 | 2.21 / 2.18 / 2.21 | 2.20 | 2.39 |
| cosine, W=30 | 2.48 / 2.24 / 2.23 | 2.32 | 2.45 |
| cosine, W=100 | 2.23 / 2.20 / 2.16 | 2.20 | 2.35 |
| Noam, W=30 | 2.36 / 2.18 / 2.23 | 2.26 | 2.40 |
| Noam, W=100 | 2.31 / 2.27 / 2.26 | 2.28 | 2.43 |

Each run took about 5 s of CPU time (the whole experiment: 151 s of CPU, one torch
thread); the wall time in the results file, 1459 s, is that of a two-core machine shared
with a load average near 20.

* **The untuned warmup is the tuned one here.** Among the linear warmup + decay runs the
  best warmup of the grid is $W = 100 = 2/(1-\beta_2)$ (mean 2.17), and among the cosine
  runs too (2.20, against 2.32 for $W = 30$). The next best, linear $W = 200$ (2.20), is
  0.03 behind, no more than the spread of its own seeds: the three seeds of a long-warmup
  schedule differ by 0.03 to 0.07, so the grid cannot tell $W = 100$ from $W = 200$, only
  that both beat $W \le 30$. Ma & Yarats' default holds on this model, with the caveat that the grid
  is coarse (five lengths) and the model small.
* **Short warmups are unreliable, not just worse.** With $W \le 10$ the spread between
  seeds is 0.49 to 0.50 (linear $W = 1$: 2.79 / 2.29 / 2.56): seed 0 ends near 2.8, as
  it did on the RAdam page for Adam without warmup, the others train.
  From $W = 30$ the spread shrinks (0.15 to 0.25), from $W = 100$ it is 0.03 to 0.07.
* **Decay is worth as much as the warmup.** The untuned warmup held constant ends at 2.39;
  the same warmup followed by a linear decay ends at 2.17, and by a cosine at 2.20. Decay
  without a warmup (linear $W = 1$, 2.55) rescues only some seeds: it is still a full-size
  step at the start.
* **Noam is the weakest of the decayed schedules.** Its $1/\sqrt t$ tail is still at
  $\sqrt{30/300} = 0.32$ (W = 30) or $\sqrt{100/300} = 0.58$ (W = 100) of the peak at the
  last step, where the linear and cosine schedules are near 0; it ends at 2.26 and 2.28,
  and its own best warmup is the shorter one, $W = 30$ (within 0.02 of $W = 100$, less
  than the spread of either).
* **The runs the two pages share agree.** *constant* and *untuned warmup, then constant*
  for seeds 0 and 1 reproduce the RAdam page's Post-LN Adam (2.77 / 2.51) and Adam +
  warmup (2.44 / 2.39) at lr $3 \cdot 10^{-2}$; the third seed follows the same pattern
  (2.89 without warmup, 2.34 with it).
* The last-50-step training loss (less noisy than 2048 validation bytes) agrees at both
  ends: best linear $W = 100$ (2.33), then cosine $W = 100$ (2.35); worst constant (2.81).

## References

- Jerry Ma and Denis Yarats, *On the Adequacy of Untuned Warmup for Adaptive Optimization*,
  AAAI 2021. [arXiv:1910.04209](https://arxiv.org/abs/1910.04209)
- Ashish Vaswani et al., *Attention Is All You Need*, NeurIPS 2017 (the Noam schedule).
  [arXiv:1706.03762](https://arxiv.org/abs/1706.03762)
- Priya Goyal et al., *Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour*, 2017
  (linear warmup). [arXiv:1706.02677](https://arxiv.org/abs/1706.02677)
- Ilya Loshchilov and Frank Hutter, *SGDR: Stochastic Gradient Descent with Warm Restarts*,
  ICLR 2017 (cosine decay). [arXiv:1608.03983](https://arxiv.org/abs/1608.03983)
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from labml_optim.experiments._common import (
    experiment_main,
    new_run,
    progress,
    record,
    series,
    stdlib_corpus,
)
from labml_optim.experiments.radam_warmup import ByteLM

NAME = "schedules"

SCHEDULES = ["constant", "untuned warmup, then constant", "linear, W=1", "linear, W=10",
             "linear, W=30", "linear, W=100", "linear, W=200", "cosine, W=30",
             "cosine, W=100", "Noam, W=30", "Noam, W=100"]

FULL = dict(train_bytes=200_000, val_bytes=20_000, layers=2, width=32, heads=4, context=32,
            batch=8, steps=300, betas=[0.9, 0.98], lr=3e-2, seeds=[0, 1, 2],
            schedules=SCHEDULES, val_every=50, val_batches=8, lr_every=5)
QUICK = dict(train_bytes=20_000, val_bytes=4_000, layers=1, width=16, heads=2, context=16,
             batch=4, steps=12, betas=[0.9, 0.98], lr=3e-2, seeds=[0],
             schedules=["constant", "untuned warmup, then constant", "linear, W=4",
                        "cosine, W=4", "Noam, W=4"],
             val_every=6, val_batches=2, lr_every=1)


# ## The schedules
def parse_schedule(name: str) -> tuple[str, int | None]:
    """`"linear, W=30"` -> `("linear", 30)`; `"constant"` -> `("constant", None)`."""
    kind, _, rest = name.partition(", W=")
    return kind, int(rest) if rest else None


def make_scheduler(name: str, opt: torch.optim.Optimizer, steps: int, width: int) -> Any:
    """The scheduler for one of the compared schedules (None for the constant lr)."""
    from labml_optim.noam import NoamLR
    from labml_optim.warmup import UntunedLinearWarmupLR, WarmupCosineLR, WarmupLinearLR

    kind, warmup = parse_schedule(name)
    if kind == "constant":
        return None
    if kind == "untuned warmup, then constant":
        return UntunedLinearWarmupLR(opt)
    if kind == "linear":
        return WarmupLinearLR(opt, warmup, steps)
    if kind == "cosine":
        return WarmupCosineLR(opt, warmup, steps)
    if kind == "Noam":
        # The peak multiplier $f\, d^{-1/2} W^{-1/2}$ is 1 for $f = \sqrt{d W}$.
        return NoamLR(opt, d_model=width, warmup=warmup, factor=math.sqrt(width * warmup))
    raise KeyError(name)


# ## One run
#
# The batches are drawn exactly as in the RAdam experiment's `train` (same generators,
# same order), so a schedule and seed shared with that page gives the same run.
def train(config: dict[str, Any], schedule: str, seed: int,
          data: tuple[torch.Tensor, torch.Tensor]) -> dict[str, Any]:
    from labml_optim.adam import Adam

    train_data, val_data = data
    torch.manual_seed(seed)
    model = ByteLM(config["layers"], config["width"], config["heads"], config["context"],
                   post_ln=True)
    opt = Adam(list(model.parameters()), lr=config["lr"], betas=tuple(config["betas"]))
    sched = make_scheduler(schedule, opt, config["steps"], config["width"])
    run = new_run(schedule, seed, schedule=schedule)
    gen = torch.Generator().manual_seed(1000 + seed)
    ctx, batch = config["context"], config["batch"]
    val_starts = torch.randint(len(val_data) - ctx - 1, (config["val_batches"], batch),
                               generator=torch.Generator().manual_seed(12345))

    def batch_at(source: torch.Tensor, starts: torch.Tensor) -> tuple[torch.Tensor, ...]:
        chunk = source[starts[:, None] + torch.arange(ctx + 1)].long()
        return chunk[:, :-1], chunk[:, 1:]

    def loss_of(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(model(x).reshape(-1, 256), y.reshape(-1))

    def validate(step: int) -> None:
        with torch.no_grad():
            losses = [loss_of(*batch_at(val_data, s)).item() for s in val_starts]
        record(run, "val_loss", step, sum(losses) / len(losses))

    validate(0)
    for step in range(1, config["steps"] + 1):
        x, y = batch_at(train_data, torch.randint(len(train_data) - ctx - 1, (batch,),
                                                  generator=gen))
        loss = loss_of(x, y)
        opt.zero_grad()
        loss.backward()
        if step % config["lr_every"] == 0 or step <= 10 or step == config["steps"]:
            record(run, "lr", step, opt.param_groups[0]["lr"])
        opt.step()
        if sched is not None:
            sched.step()
        record(run, "train_loss", step, loss.item())
        if not math.isfinite(loss.item()):
            run["extra"]["diverged_at"] = step
            break
        if step % config["val_every"] == 0 or step == config["steps"]:
            validate(step)
    return run


def run(config: dict[str, Any]) -> list[dict[str, Any]]:
    corpus = stdlib_corpus(config["train_bytes"] + config["val_bytes"])
    data = torch.frombuffer(bytearray(corpus), dtype=torch.uint8)
    split = (data[: config["train_bytes"]], data[config["train_bytes"]:])
    jobs = [(s, seed) for s in config["schedules"] for seed in config["seeds"]]
    return [train(config, s, seed, split) for s, seed in progress(jobs, desc=NAME)]


# ## Reading the results
def final_val(run: dict[str, Any]) -> float:
    """The last validation loss; inf if the run diverged."""
    if run["extra"].get("diverged_at") is not None:
        return math.inf
    return series(run, "val_loss")[1][-1]


def tail_train(run: dict[str, Any], last: int = 50) -> float:
    """The mean training loss of the last `last` steps; inf if the run diverged."""
    if run["extra"].get("diverged_at") is not None:
        return math.inf
    values = series(run, "train_loss")[1][-last:]
    return sum(values) / len(values)


def summary(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per schedule: final val losses by seed, their mean, and the mean last-50 train loss."""
    out: dict[str, dict[str, Any]] = {}
    for name in results["config"]["schedules"]:
        runs = sorted((r for r in results["runs"] if r["settings"]["schedule"] == name),
                      key=lambda r: r["seed"])
        vals = [final_val(r) for r in runs]
        tails = [tail_train(r) for r in runs]
        out[name] = {"val": vals, "mean": sum(vals) / len(vals),
                     "tail": sum(tails) / len(tails)}
    return out


def best_warmup(results: dict[str, Any], kind: str) -> int:
    """The tuned $W$: the warmup of `kind` with the lowest mean final validation loss."""
    table = summary(results)
    grid = [(table[n]["mean"], parse_schedule(n)[1]) for n in table
            if parse_schedule(n)[0] == kind]
    return min(grid)[1]


# ## The figure
def draw(results: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    config = results["config"]
    names = config["schedules"]
    colours = {n: f"C{i % 10}" for i, n in enumerate(names)}
    styles = {n: "--" if i >= 10 else "-" for i, n in enumerate(names)}
    table = summary(results)
    fig, (ax_lr, ax_loss, ax_w) = plt.subplots(1, 3, figsize=(16, 4.8))

    def smooth(values: list[float], k: int = 20) -> list[float]:
        out, acc = [], []
        for v in values:
            acc = (acc + [v])[-k:]
            out.append(sum(acc) / len(acc))
        return out

    for name in names:
        runs = [r for r in results["runs"] if r["settings"]["schedule"] == name]
        steps, lrs = series(runs[0], "lr")
        ax_lr.plot(steps, [v / config["lr"] for v in lrs], styles[name], color=colours[name],
                   lw=1, label=name)
        curves = [series(r, "train_loss")[1] for r in runs]
        n = min(len(c) for c in curves)
        mean = [sum(c[i] for c in curves) / len(curves) for i in range(n)]
        ax_loss.plot(range(1, n + 1), smooth(mean), styles[name], color=colours[name], lw=1,
                     label=f"{name} ({table[name]['mean']:.2f})")
    ax_lr.set_title(r"learning rate / peak $\eta$", fontsize=10)
    ax_lr.set_xlabel("step")
    ax_lr.legend(fontsize=6.5, ncol=2)
    ax_loss.set_title(f"train loss, mean of {len(config['seeds'])} seeds, 20-step mean",
                      fontsize=10)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylim(1.8, 4.0)
    ax_loss.legend(fontsize=6.5, title="(mean final val loss)", title_fontsize=7)

    untuned = round(2 / (1 - config["betas"][1]))
    for i, kind in enumerate(["linear", "cosine", "Noam"]):
        members = [n for n in names if parse_schedule(n)[0] == kind]
        if not members:
            continue
        ws = [parse_schedule(n)[1] for n in members]
        ax_w.plot(ws, [table[n]["mean"] for n in members], "o-", color=f"C{i}", label=kind)
        for w, n in zip(ws, members, strict=True):
            ax_w.plot([w] * len(table[n]["val"]), table[n]["val"], ".", color=f"C{i}",
                      alpha=0.4)
    for j, name in enumerate(["constant", "untuned warmup, then constant"]):
        if name in table:
            ax_w.axhline(table[name]["mean"], color=f"C{j + 3}", ls=":", lw=1,
                         label=f"{name} (mean)")
    ax_w.axvline(untuned, color="0.5", lw=0.8, ls="--")
    ax_w.text(untuned, ax_w.get_ylim()[1], r" $2/(1-\beta_2)$", fontsize=8, va="top")
    ax_w.set_xscale("log")
    ax_w.set_xlabel("warmup steps $W$")
    ax_w.set_ylabel("final validation loss (nats/byte)")
    ax_w.set_title("final loss against W (dots: seeds, line: mean)", fontsize=10)
    ax_w.legend(fontsize=7)
    for ax in (ax_lr, ax_loss, ax_w):
        ax.grid(alpha=0.3)
    fig.suptitle(f"Post-LN byte LM, Adam, peak lr {config['lr']:g}, "
                 rf"$\beta$ = {tuple(config['betas'])}, {config['steps']} steps", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return fig


def main(argv: list[str] | None = None) -> None:
    """Train with every schedule (or, with `--save`, only draw the committed results)."""
    experiment_main(argv, name=NAME, description="Schedules on the Post-LN byte LM",
                    full=FULL, quick=QUICK, run=run, draw=draw)


if __name__ == "__main__":
    main()
