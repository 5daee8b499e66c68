r"""
---
title: Noam schedule
summary: The Transformer's learning rate, warmup then inverse-square-root decay, derived.
group: Schedules
order: 300
---

# The Noam schedule

"Attention is all you need" (Vaswani et al., 2017,
[§5.3](https://ar5iv.labs.arxiv.org/html/1706.03762#S5.SS3)) trains the Transformer with Adam
and a learning rate that changes at every step. Counting optimizer steps from $t = 1$,

$$
\eta_t = d_{\text{model}}^{-1/2} \cdot \min\left(t^{-1/2},\; t \cdot W^{-3/2}\right)
$$

where $d_{\text{model}}$ is the width of the model and $W$ the number of warmup steps.
The schedule is known by the name of one of the authors, Noam Shazeer.

## Two branches and where they meet

Inside the $\min$ are two functions of $t$: $t \, W^{-3/2}$ grows linearly, $t^{-1/2}$
falls. The linear one is the smaller of the two exactly when

$$
\begin{aligned}
t \, W^{-3/2} \le t^{-1/2}
&\iff t^{3/2} \le W^{3/2}\\
&\iff t \le W ,
\end{aligned}
$$

so the learning rate rises linearly for the first $W$ steps and decays after them. The
minimum of a rising and a falling function is largest where they cross, at $t = W$:

$$
\begin{aligned}
\eta_{\max} &= \eta_W = d_{\text{model}}^{-1/2} \cdot W \cdot W^{-3/2}\\
&= \left(d_{\text{model}} \, W\right)^{-1/2} .
\end{aligned}
$$

For the base Transformer ($d_{\text{model}} = 512$, $W = 4000$) the peak is
$(2\,048\,000)^{-1/2} \approx 6.99 \times 10^{-4}$. A wider model peaks lower: the
$d_{\text{model}}^{-1/2}$ in front is a rule of thumb that wider layers want smaller steps
(the paper gives no argument for it).

## Inverse square root, not exponential

After the peak the schedule is $\eta_t = \eta_{\max} \, (W / t)^{1/2}$: the learning rate
halves each time the step count quadruples. At $t = 4W = 16\,000$ it is
$3.49 \times 10^{-4}$; at $t = 100\,000$, where the base model stops training, it is
$\sqrt{4000 / 100\,000} = 0.2$ of the peak, $1.40 \times 10^{-4}$.

Copies sometimes call this decay exponential: labml_nn's annotated Noam page sums the
optimizer up as a warm-up followed by "an exponentially decaying learning rate", and the
`NoamLR` scheduler of the chemprop package implements an exponential decay under the
Noam name. The paper's decay is not exponential. An exponential decay loses the same
fraction of the learning rate in every interval of the same length, and so reaches
nearly zero; the inverse square root loses less and less, since
$\frac{d \log \eta_t}{d \log t} = -\frac12$: a straight line of slope $-\frac12$ on log-log
axes, and a learning rate that is still a fifth of its peak after 25 warmups.

## The paper's settings

Adam with $\beta_1 = 0.9$, $\beta_2 = 0.98$, $\epsilon = 10^{-9}$, $W = 4000$, and
$d_{\text{model}} = 512$ (base) or $1024$ (big). The schedule sets the learning rate
itself, so the optimizer's `lr` is 1:

```python
optimizer = torch.optim.Adam(model.parameters(), lr=1.0, betas=(0.9, 0.98), eps=1e-9)
scheduler = NoamLR(optimizer, d_model=512, warmup=4000)
for batch in data:
    loss(model, batch).backward()
    optimizer.step()
    optimizer.zero_grad()
    scheduler.step()
```

The scheduler multiplies each param group's `lr` by $\eta_t$, so a group with `lr=0.5`
runs at half the schedule. `factor` scales every group the same way: Harvard NLP's The
Annotated Transformer (Rush, 2018) builds its optimizer as `NoamOpt(d_model, 2, 4000)`,
`factor=2`, which doubles the paper's learning rate.

## Why warm up at all

In its first steps [Adam](adam.md) divides by a second-moment estimate built from a
handful of gradients. Its step is then about as large as the learning rate in every
coordinate, however small the gradient there, and the estimate itself is noisy:
[RAdam](radam.md) works out how noisy and how many steps it takes to settle. A small
learning rate during those steps hides the problem. With $\beta_2 = 0.98$ the estimate
forgets with a time constant of $1 / (1 - \beta_2) = 50$ steps, so $W = 4000$ is far
longer than Adam alone needs; the rest protects the post-norm Transformer, whose
gradients near the output are large at initialisation (Xiong et al., 2020).
[Warmup](warmup.md) has the general schedules and the rule of thumb for $W$.

## What the copies get wrong

The formula is short and has been copied many times, and the copies share four traps: a
wrapper whose step count is lost on resume (The Annotated Transformer's `NoamOpt`), a
default `warmup=0` (labml_nn's `Noam` optimizer), the formula evaluated at step 0, and a
`lambda` in `LambdaLR`. Each is taken up below, beside the code that
avoids it, and `tests/test_noam.py` shows each one happening.

## References

- Ashish Vaswani et al., *Attention Is All You Need*, NeurIPS 2017.
  [arXiv:1706.03762](https://arxiv.org/abs/1706.03762)
- Alexander Rush, *The Annotated Transformer*, 2018.
  [nlp.seas.harvard.edu](https://nlp.seas.harvard.edu/2018/04/03/attention.html)
- Ruibin Xiong et al., *On Layer Normalization in the Transformer Architecture*, ICML 2020.
  [arXiv:2002.04745](https://arxiv.org/abs/2002.04745)
"""

import argparse
import math
from typing import Any

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler


class NoamLR(LRScheduler):
    r"""
    The Noam schedule: the $t$-th `optimizer.step()` runs at
    `base_lr * factor * d_model**-0.5 * min(t**-0.5, t * warmup**-1.5)`,
    where `base_lr` is each param group's `lr` when the scheduler is built.

    **The wrapper that forgets.** The common copy, The Annotated Transformer's `NoamOpt`,
    is a class that holds the optimizer, counts steps itself and writes the lr before each
    `step`. Its counter is in no `state_dict`, so a run resumed from a checkpoint warms up
    again from $t = 1$. This is a
    `torch.optim.lr_scheduler.LRScheduler` instead: the step count is in its `state_dict`,
    and it works with any `torch.optim.Optimizer`.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        d_model: int,
        warmup: int,
        factor: float = 1.0,
        last_epoch: int = -1,
    ) -> None:
        # **A default of `warmup=0`** makes $W^{-3/2} = 0^{-3/2}$, and Python raises a
        # `ZeroDivisionError` that names nothing at the first step. Check every argument
        # before the base class runs its first `step`, which already evaluates the formula;
        # `not x > 0` also rejects NaN.
        _check_int("d_model", d_model, 1)
        _check_int("warmup", warmup, 1)
        _check_real("factor", factor, 0.0)
        _check_int("last_epoch", last_epoch, -1)
        # Plain attributes: the base class's `state_dict` saves them with the step count.
        self.d_model = d_model
        self.warmup = warmup
        self.factor = factor
        # `last_epoch` resumes by argument, as with torch's built-in schedulers: the
        # groups must then hold `initial_lr`, which a scheduler built earlier set.
        super().__init__(optimizer, last_epoch)

    # ## The closed form
    #
    # The multiplier for the $t$-th optimizer step, $t \ge 1$, straight from the formula.
    def multiplier(self, step: int) -> float:
        return self.factor * self.d_model**-0.5 * min(step**-0.5, step * self.warmup**-1.5)

    # ## Counting steps
    #
    # Torch's scheduler keeps `last_epoch`, the number of `scheduler.step()` calls. The
    # constructor makes one call and sets `last_epoch` to 0: that sets the lr of the first
    # optimizer step. After each `optimizer.step()` the loop calls `scheduler.step()`,
    # which adds one and asks `get_lr` for the lr of the next optimizer step. So the
    # coming optimizer step is number $t$ = `last_epoch + 1`.
    #
    # **Step zero.** A copy that feeds `last_epoch` to the formula directly evaluates it at
    # $t = 0$, where $0^{-1/2}$ fails again; copies patch it by treating 0 as 1. Counting
    # from 1, as the paper does, needs no patch.
    def get_lr(self) -> list[Any]:
        step = self.last_epoch + 1
        return [base_lr * self.multiplier(step) for base_lr in self.base_lrs]

    # ## Resuming
    #
    # Every lr is computed from $t$ in closed form, never by multiplying the previous lr
    # by a ratio, so a resumed run gets bit for bit the lrs of an uninterrupted one.
    # `d_model`, `warmup` and `factor` are plain numbers on the object, so `state_dict()`
    # carries them and `torch.load(weights_only=True)` reads it back. **A `lambda` in
    # `LambdaLR`** gets neither: it cannot be pickled and is left out of the `state_dict`
    # ([Warmup](warmup.md) explains the rule).
    #
    # Loading restores the step count and the hyper-parameters. Since the lr follows from
    # them alone, write it into the optimizer right away: the next step is then right
    # whether the optimizer's own state was loaded before or after this scheduler was
    # built (torch's schedulers leave the lr their constructor set, that of step 1).
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            if isinstance(group["lr"], torch.Tensor):
                group["lr"].fill_(lr)  # keep the tensor: compiled steps may hold it
            else:
                group["lr"] = lr
        self._last_lr = [
            g["lr"].clone() if isinstance(g["lr"], torch.Tensor) else g["lr"]
            for g in self.optimizer.param_groups
        ]


# ## torch compatibility
#
# The argument checks the schedule chapters share, letter for letter the same in each (a
# test checks), so that each file still stands alone. A count of steps must be an `int`:
# `4000.0` or `True` is refused rather than silently used, and so is a hyper-parameter
# that is not a finite number.
def _check_int(name: str, value: Any, minimum: int) -> None:
    """An `int` (not a bool, not a float such as 4000.0) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _check_real(name: str, value: Any, low: float, high: float | None = None) -> None:
    """A finite real number (not a bool), at least `low` and at most `high` if given."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if high is None and not value >= low:
        raise ValueError(f"{name} must be >= {low:g}, got {value}")
    if high is not None and not low <= value <= high:
        raise ValueError(f"{name} must be in [{low:g}, {high:g}], got {value}")


# ## The figure
#
# The schedule for the base model ($d_{\text{model}} = 512$, $W = 4000$), a longer warmup
# ($W = 8000$) and a narrower model ($d_{\text{model}} = 256$), each with its peak
# $(d_{\text{model}} \, W)^{-1/2}$ marked. Doubling $W$ moves the peak right and lowers it
# by $\sqrt 2$; after both peaks the two $d_{\text{model}} = 512$ curves are the same
# inverse square root. Halving $d_{\text{model}}$ raises the whole curve by $\sqrt 2$.
#
# ![The Noam schedule for three settings, with the peaks marked](noam.png)
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Plot the Noam learning-rate schedule.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE (PNG)")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")  # no display needed to write a file
    import matplotlib.pyplot as plt

    steps = range(1, 20_001)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for d_model, warmup in [(512, 4000), (512, 8000), (256, 4000)]:
        # lr = 1.0, so the optimizer runs at exactly the multiplier.
        dummy = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        schedule = NoamLR(dummy, d_model=d_model, warmup=warmup)
        (line,) = ax.plot(
            steps,
            [schedule.multiplier(k) for k in steps],
            label=f"$d_{{model}}$ = {d_model}, $W$ = {warmup}",
        )
        peak = (d_model * warmup) ** -0.5
        ax.plot([warmup], [peak], "o", color=line.get_color())
        ax.annotate(
            f"{peak:.2e}",
            (warmup, peak),
            textcoords="offset points",
            xytext=(6, 4),
            color=line.get_color(),
        )
    ax.set_xlabel("optimizer step $t$")
    ax.set_ylabel("learning rate (lr = 1)")
    ax.set_title("Noam schedule: linear warmup, then $t^{-1/2}$ decay")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    if args.save:
        fig.savefig(args.save, dpi=120)
    else:
        plt.show()


if __name__ == "__main__":
    main()
