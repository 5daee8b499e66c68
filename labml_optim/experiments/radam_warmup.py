r"""
---
title: "RAdam: is warmup needed, and does the rectifier replace it?"
summary: A tiny Post-LN transformer on stdlib bytes; Adam with and without warmup, RAdam, baselines.
group: Experiments
order: 500
---

# RAdam: is warmup needed, and does the rectifier replace it?

The [RAdam](../radam.md) paper's story in three claims: (a) Adam without a learning-rate
warmup goes wrong early on transformers; (b) the cause is the variance of the adaptive rate
while $\hat v_t$ has seen few gradients, because the paper's two baselines that fix only that
(Adam-2k, which lets $\hat v_t$ gather 2000 gradients before the first update, and Adam-eps,
whose $\epsilon = 10^{-4}$ bounds the adaptive rate) also fix training; (c) RAdam's
rectifier replaces the warmup. This page runs the three on a model small enough for a laptop.

## Setup

* **Data**: bytes of the CPython standard library's `.py` files (they ship with Python;
  nothing is downloaded): the first 200 kB for training, the next 20 kB for validation.
* **Model**: a byte-level causal transformer, 2 layers, width 32, 4 heads, context 32,
  feed-forward 128, no dropout, learned positions (about 30 000 parameters; the shared
  two-core machine this ran on allowed no more). **Post-LN** (the layer norm after each
  residual sum, as in the original transformer and in the paper's experiments) for the main
  comparison; **Pre-LN** (the norm inside the branch, as in GPT-2) as the control, since
  Pre-LN transformers are known to train without warmup (Xiong et al. 2020).
* **Optimizers**, $\beta = (0.9, 0.98)$ for all, batch 8 sequences, 300 steps, no decay,
  no gradient clipping:
  * *Adam*: [Adam](../adam.md), constant lr;
  * *Adam + warmup*: the same with the [untuned linear warmup](../warmup.md) over
    $2/(1 - \beta_2) = 100$ steps (`UntunedLinearWarmupLR`), then constant;
  * *RAdam*: [RAdam](../radam.md) with torch's defaults (rectify when $\rho_t > 5$, momentum
    steps before);
  * *Adam-2k (scaled)*: `adam_2k` from the RAdam chapter with `warmup_v_steps=100`;
  * *Adam-eps*: `adam_eps` from the RAdam chapter ($\epsilon = 10^{-4}$).
* **Scale.** The paper uses $\beta_2 = 0.999$ and thousands of steps; on one shared CPU core
  we can afford 300. Every time scale in the story is $1/(1 - \beta_2)$ (the rectifier's
  ramp, the untuned warmup, the 2000 of Adam-2k $= 2/(1-\beta_2)$), so we use
  $\beta_2 = 0.98$, which divides all of them by twenty: RAdam's $r_t$ reaches 0.65 at step
  50, the warmup and Adam-2k's frozen phase last 100 steps.
* **Grid**: lr $\in \{3 \cdot 10^{-3}, 3 \cdot 10^{-2}\}$, two seeds (the seed sets the
  initialization and the batch order; every optimizer sees the same batches for a seed).
  The Pre-LN control runs Adam without warmup on the same grid.
* **Measured** at every step: the training loss and the root mean square of the update
  $\Delta\theta$ over all parameters; every 50 steps the validation loss (8 fixed batches);
  for the first 10 steps a histogram of $\log_{10}|\Delta\theta_i| / \text{lr}$ over all
  coordinates.

![Loss curves and early update sizes](radam_warmup.png)

## What we expected

If the paper's story holds at this scale: Post-LN Adam without warmup ends worse (or
diverges) at the larger lrs, while Adam + warmup, RAdam, Adam-2k and Adam-eps all train;
in the first steps, Adam's updates are all of size lr (the first step is
$\mathrm{lr}\cdot\mathrm{sign}(g_1)$) while RAdam's are tiny; Pre-LN Adam trains without
warmup.

## What we saw

Final validation loss (nats per byte, 2048 held-out bytes) of each run, seed 0 / seed 1,
from the committed results:

| method | lr $3 \cdot 10^{-3}$ | lr $3 \cdot 10^{-2}$ |
|---|---|---|
| Post-LN Adam | 2.18 / 2.12 | 2.77 / 2.51 |
| Post-LN Adam + warmup | 2.22 / 2.15 | 2.44 / 2.39 |
| Post-LN RAdam | 2.22 / 2.15 | 2.36 / 2.37 |
| Post-LN Adam-2k (scaled) | 2.29 / 2.21 | 2.95 / 2.44 |
| Post-LN Adam-eps | 2.19 / 2.13 | 3.00 / 2.52 |
| Pre-LN Adam | 2.18 / 2.10 | 2.28 / 2.14 |

* **At the small lr nothing needs a warmup.** All methods end within 0.1 of each other;
  the warmup and RAdam are a little behind after 300 steps because they start slower, and
  Adam-2k is furthest behind because it spends a third of the run frozen.
* **At the large lr the paper's claim (a) and (c) hold here.** Post-LN Adam without warmup
  gets stuck on a plateau near 3 nats for seed 0 (final 2.77) and ends at 2.51 for seed 1;
  with the untuned warmup (2.44, 2.39) or RAdam (2.36, 2.37) both seeds train, and RAdam
  is as good as the warmup. Pre-LN Adam without any warmup does better than all of them
  (2.28, 2.14), as the Pre-LN literature says.
* **Claim (b) does not reproduce here.** The two baselines that only repair the variance of
  the adaptive rate do not rescue Post-LN Adam at the large lr: Adam-eps ends at 3.00 / 2.52,
  no better than Adam, and the scaled Adam-2k at 2.95 / 2.44, one seed as bad as Adam. With
  the gradients of this model ($|g| \gg 10^{-4}$ for most coordinates) an $\epsilon$ of
  $10^{-4}$ changes little, and after Adam-2k's frozen phase its first Adam steps are
  full-size steps on a network that has not moved, so the warmup's other effect, small
  steps while the network itself is at its initialization, is missing from both. This
  agrees with Ma & Yarats' reading (the [warmup](../warmup.md) chapter) that the size of
  the early updates, not the variance of $\psi_t$, is what a warmup controls. Two seeds
  and one small model are weak evidence either way; the spread between Adam's two seeds
  (0.26) is as large as some of the gaps.
* **Early updates.** At step 1 Adam moves every coordinate that has a gradient by exactly
  lr (the histogram's spike at $\log_{10} = 0$; the update's RMS is 0.92 lr because unused
  byte embeddings have no gradient). RAdam's first five steps are momentum-SGD steps, the
  left hump of its histogram ($10^{-5}$ to $10^{-2}$ of lr per coordinate; the update RMS
  at step 1 is 110 to 150 times smaller than Adam's), and its rectified steps 6 to 10
  ($r_t$ = 0.12 to 0.22) the right one. The warmup's steps are $t/100$ of Adam's
  ($\omega_t = t(1-\beta_2)/2$). Adam-2k does not move at all in these steps, so it has no
  histogram. Adam-eps's histogram is Adam's with a thin tail to the left: its $\epsilon$ is
  too small to matter for most coordinates.

## References

- Liyuan Liu et al., *On the Variance of the Adaptive Learning Rate and Beyond*, ICLR 2020.
  [arXiv:1908.03265](https://arxiv.org/abs/1908.03265); the authors' code:
  [LiyuanLucasLiu/RAdam](https://github.com/LiyuanLucasLiu/RAdam)
- Jerry Ma and Denis Yarats, *On the Adequacy of Untuned Warmup for Adaptive Optimization*,
  AAAI 2021. [arXiv:1910.04209](https://arxiv.org/abs/1910.04209)
- Ruibin Xiong et al., *On Layer Normalization in the Transformer Architecture*, ICML 2020.
  [arXiv:2002.04745](https://arxiv.org/abs/2002.04745)
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

NAME = "radam_warmup"

FULL = dict(train_bytes=200_000, val_bytes=20_000, layers=2, width=32, heads=4, context=32,
            batch=8, steps=300, betas=[0.9, 0.98], lrs=[3e-3, 3e-2], seeds=[0, 1],
            methods=["Adam", "Adam + warmup", "RAdam", "Adam-2k (scaled)", "Adam-eps"],
            control=["Adam"], val_every=50, val_batches=8, hist_steps=10)
QUICK = dict(train_bytes=20_000, val_bytes=4_000, layers=1, width=16, heads=2, context=16,
             batch=4, steps=12, betas=[0.9, 0.98], lrs=[1e-2], seeds=[0],
             methods=["Adam", "Adam + warmup", "RAdam", "Adam-2k (scaled)", "Adam-eps"],
             control=["Adam"], val_every=6, val_batches=2, hist_steps=3)

# Bins of $\log_{10}(|\Delta\theta| / \text{lr})$ for the early-update histogram.
HIST_EDGES = [-7 + 0.25 * i for i in range(37)]  # -7 ... 2


# ## The model
class Block(nn.Module):
    """One transformer layer: causal self-attention and a feed-forward net, Post- or Pre-LN."""

    def __init__(self, width: int, heads: int, post_ln: bool) -> None:
        super().__init__()
        self.heads, self.post_ln = heads, post_ln
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.ff = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(),
                                nn.Linear(4 * width, width))
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        b, n, w = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out(y.transpose(1, 2).reshape(b, n, w))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Post-LN: $x \leftarrow \mathrm{LN}(x + f(x))$.
        # Pre-LN: $x \leftarrow x + f(\mathrm{LN}(x))$.
        if self.post_ln:
            x = self.norm1(x + self.attention(x))
            return self.norm2(x + self.ff(x))
        x = x + self.attention(self.norm1(x))
        return x + self.ff(self.norm2(x))


class ByteLM(nn.Module):
    """Bytes in, next-byte logits out."""

    def __init__(self, layers: int, width: int, heads: int, context: int, post_ln: bool) -> None:
        super().__init__()
        self.embed = nn.Embedding(256, width)
        self.pos = nn.Parameter(torch.randn(context, width) * 0.02)
        self.blocks = nn.ModuleList(Block(width, heads, post_ln) for _ in range(layers))
        # Pre-LN needs a final norm; Post-LN's last block already ends with one.
        self.final = nn.LayerNorm(width) if not post_ln else nn.Identity()
        self.head = nn.Linear(width, 256)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x) + self.pos[: x.shape[1]]
        for block in self.blocks:
            h = block(h)
        return self.head(self.final(h))


# ## The optimizers
def make_optimizer(method: str, params: list[torch.Tensor], lr: float,
                   betas: tuple[float, float]) -> tuple[torch.optim.Optimizer, Any]:
    """The optimizer and its scheduler (or None) for one of the compared methods."""
    from labml_optim.adam import Adam
    from labml_optim.radam import RAdam, adam_2k, adam_eps
    from labml_optim.warmup import UntunedLinearWarmupLR

    if method == "Adam":
        return Adam(params, lr=lr, betas=betas), None
    if method == "Adam + warmup":
        opt = Adam(params, lr=lr, betas=betas)
        return opt, UntunedLinearWarmupLR(opt)
    if method == "RAdam":
        return RAdam(params, lr=lr, betas=betas), None
    if method == "Adam-2k (scaled)":
        # The paper's 2000 steps are $2/(1-\beta_2)$ for its $\beta_2 = 0.999$.
        return adam_2k(params, lr=lr, betas=betas, warmup_v_steps=round(2 / (1 - betas[1]))), None
    if method == "Adam-eps":
        return adam_eps(params, lr=lr, betas=betas), None
    raise KeyError(method)


#
def train(config: dict[str, Any], method: str, lr: float, seed: int, post_ln: bool,
          data: tuple[torch.Tensor, torch.Tensor]) -> dict[str, Any]:
    """One training run; returns its record (metrics per step, early-update histogram)."""
    train_data, val_data = data
    torch.manual_seed(seed)
    model = ByteLM(config["layers"], config["width"], config["heads"], config["context"],
                   post_ln)
    params = [p for p in model.parameters()]
    opt, sched = make_optimizer(method, params, lr, tuple(config["betas"]))
    run = new_run(f"{'Post' if post_ln else 'Pre'}-LN | {method} | lr={lr:g}", seed,
                  method=method, lr=lr, norm="post" if post_ln else "pre")
    # Batches depend on the seed only, so every method sees the same ones.
    gen = torch.Generator().manual_seed(1000 + seed)
    ctx, batch = config["context"], config["batch"]
    val_gen = torch.Generator().manual_seed(12345)
    val_starts = torch.randint(len(val_data) - ctx - 1, (config["val_batches"], batch),
                               generator=val_gen)
    hist = [0] * (len(HIST_EDGES) - 1)
    zero_updates = 0

    def batch_at(source: torch.Tensor, starts: torch.Tensor) -> tuple[torch.Tensor, ...]:
        idx = starts[:, None] + torch.arange(ctx + 1)
        chunk = source[idx].long()
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
        before = [p.detach().clone() for p in params]
        opt.step()
        if sched is not None:
            sched.step()
        with torch.no_grad():
            delta = torch.cat([(p - b).flatten() for p, b in zip(params, before, strict=True)])
        record(run, "train_loss", step, loss.item())
        record(run, "update_rms", step, delta.pow(2).mean().sqrt().item())
        if step <= config["hist_steps"]:
            size = delta.abs() / lr
            zero_updates += int((size == 0).sum())
            logs = size[size > 0].log10().clamp(HIST_EDGES[0], HIST_EDGES[-1] - 1e-6)
            counts = torch.histc(logs, bins=len(hist), min=HIST_EDGES[0], max=HIST_EDGES[-1])
            hist = [h + int(c) for h, c in zip(hist, counts.tolist(), strict=True)]
        if not math.isfinite(loss.item()):
            run["extra"]["diverged_at"] = step
            break
        if step % config["val_every"] == 0 or step == config["steps"]:
            validate(step)
    run["extra"].update(hist_edges=HIST_EDGES, hist_counts=hist, hist_zero=zero_updates,
                        hist_steps=config["hist_steps"])
    return run


def run(config: dict[str, Any]) -> list[dict[str, Any]]:
    corpus = stdlib_corpus(config["train_bytes"] + config["val_bytes"])
    data = torch.frombuffer(bytearray(corpus), dtype=torch.uint8)
    split = (data[: config["train_bytes"]], data[config["train_bytes"]:])
    jobs = [(m, lr, s, True) for lr in config["lrs"] for m in config["methods"]
            for s in config["seeds"]]
    jobs += [(m, lr, s, False) for lr in config["lrs"] for m in config["control"]
             for s in config["seeds"]]
    return [train(config, m, lr, s, post, split)
            for m, lr, s, post in progress(jobs, desc=NAME)]


# ## The figure
def final_val(run: dict[str, Any]) -> float:
    """The last validation loss; inf if the run diverged."""
    if run["extra"].get("diverged_at") is not None:
        return math.inf
    _, values = series(run, "val_loss")
    return values[-1]


def draw(results: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    config = results["config"]
    lrs, methods = config["lrs"], config["methods"]
    runs = results["runs"]
    fig, axes = plt.subplots(3, len(lrs), figsize=(4.3 * len(lrs), 11), squeeze=False)
    colours = {m: f"C{i}" for i, m in enumerate(methods)}

    def smooth(values: list[float], k: int = 10) -> list[float]:
        out, acc = [], []
        for v in values:
            acc = (acc + [v])[-k:]
            out.append(sum(acc) / len(acc))
        return out

    for j, lr in enumerate(lrs):
        ax, ax_pre, ax_hist = axes[0, j], axes[1, j], axes[2, j]
        for r in runs:
            s = r["settings"]
            if s["lr"] != lr:
                continue
            target = ax if s["norm"] == "post" else ax_pre
            steps, values = series(r, "train_loss")
            label = f"{s['method']} ({final_val(r):.2f})" if r["seed"] == 0 else None
            target.plot(steps, smooth(values), color=colours[s["method"]], lw=1,
                        alpha=1.0 if r["seed"] == 0 else 0.5, label=label)
        for a, title in ((ax, "Post-LN"), (ax_pre, "Pre-LN control")):
            a.set_title(f"{title}, lr = {lr:g}", fontsize=10)
            a.set_xlabel("step")
            a.set_ylabel("train loss (nats/byte, 10-step mean)")
            a.set_ylim(0.5, 6)
            a.grid(alpha=0.3)
            a.legend(fontsize=7, title="seed 0 (final val loss)", title_fontsize=7)
        # Early update sizes: seed 0, Post-LN, steps 1..hist_steps.
        for r in runs:
            s = r["settings"]
            if s["lr"] != lr or s["norm"] != "post" or r["seed"] != 0:
                continue
            edges, counts = r["extra"]["hist_edges"], r["extra"]["hist_counts"]
            total = sum(counts) + r["extra"]["hist_zero"]
            ax_hist.stairs([c / max(total, 1) for c in counts], edges,
                           color=colours[s["method"]], label=s["method"])
        ax_hist.set_xlabel(r"$\log_{10}(|\Delta\theta_i| / \mathrm{lr})$")
        ax_hist.set_ylabel("fraction of coordinate updates")
        ax_hist.set_title(f"Post-LN updates in the first {config['hist_steps']} steps, "
                          f"lr = {lr:g}", fontsize=9)
        ax_hist.legend(fontsize=7)
        ax_hist.grid(alpha=0.3)
    fig.suptitle(f"Byte LM on stdlib source, {config['layers']} layers, width "
                 f"{config['width']}, {len(config['seeds'])} seeds (faint: other seeds), "
                 rf"$\beta$ = {tuple(config['betas'])}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    return fig


def main(argv: list[str] | None = None) -> None:
    """Train every method (or, with `--save`, only draw the committed results)."""
    experiment_main(argv, name=NAME, description="RAdam: warmup on a Post-LN transformer",
                    full=FULL, quick=QUICK, run=run, draw=draw)


if __name__ == "__main__":
    main()
