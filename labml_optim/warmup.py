r"""
---
title: Warmup schedules
summary: Linear and cosine schedules, the untuned warmup 2/(1-β2) beside RAdam's r_t, the traps.
group: Schedules
order: 310
---

# Warmup schedules

Adam-style optimizers are almost always run with a learning rate that starts small and
grows over the first few hundred or thousand steps. This chapter shows why, gives the
schedules in closed form, derives how long an untuned warmup should be, and points out
where the widely copied versions go wrong.

## Why Adam needs a warmup

Look at the first step of [Adam](adam.md). With $m_0 = v_0 = 0$ and gradient $g_1$,

$$
\begin{aligned}
\hat m_1 &= \frac{(1 - \beta_1) \, g_1}{1 - \beta_1} = g_1 ,\\
\hat v_1 &= \frac{(1 - \beta_2) \, g_1^2}{1 - \beta_2} = g_1^2 ,
\end{aligned}
$$

so the update $\eta \, \hat m_1 / \sqrt{\hat v_1} = \eta \, \operatorname{sign}(g_1)$
(with $\epsilon$ aside) moves every coordinate by the full learning rate, whether its
gradient is large or tiny. Later, $\hat v$ averages many squared gradients, and where the
gradient is noisy $|\hat m| / \sqrt{\hat v}$ is far below 1. There are two readings of
this. [RAdam](radam.md) counts how few gradients $\hat v$ has seen and finds that the
variance of the adaptive step is unbounded at first; Ma & Yarats (2021) point at the size
of the early updates instead. Both ask for the same cure: keep $\eta$ small until $\hat v$
has seen enough gradients. Its running average forgets with a time constant of
$1 / (1 - \beta_2)$ steps, 1000 for the usual $\beta_2 = 0.999$.

## The schedules

Number the optimizer steps $t = 1, 2, \dots$; $\eta$ is the param group's `lr`, $W$ the
warmup steps, $T$ the total steps. `WarmupLinearLR` runs the $t$-th step at

$$
\begin{aligned}
\eta_t &= \eta \cdot
\begin{cases}
t / W, & t \le W \\
1 - p_t, & t > W
\end{cases}\\
p_t &= \min\left(1, \frac{t - W}{T + 1 - W}\right)
\end{aligned}
$$

and `WarmupCosineLR` replaces the decay $1 - p_t$ by
$\omega_{\min} + (1 - \omega_{\min}) \, \frac{1 + \cos(\pi p_t)}{2}$, which falls from 1 to
the floor $\omega_{\min}$ (`min_lr_ratio`) along half a cosine.

The decay mirrors the warmup. The warmup climbs $\frac1W, \frac2W, \dots, 1$, reaching
the full rate at step $W$; the linear decay then descends to $\frac{1}{T + 1 - W}$ at the
last step $T$ and would reach 0 at step $T + 1$, the first step not taken. So every one of
the $T$ steps moves the parameters, $W = T$ is a pure warmup (no division by zero), and
$W = 1$ means no warmup at all. Past $T$ the lr stays at the floor.

## The traps

Three traps recur in the recipes that get copied: the first step runs at lr 0, a
`lambda` in `LambdaLR` is neither picklable nor saved, and a default warmup of 0 divides
by zero. Each is taken up below, beside the code that avoids it, and
`tests/test_warmup.py` shows each one happening.

## References

- Jerry Ma and Denis Yarats, *On the Adequacy of Untuned Warmup for Adaptive Optimization*,
  AAAI 2021. [arXiv:1910.04209](https://arxiv.org/abs/1910.04209)
- Liyuan Liu et al., *On the Variance of the Adaptive Learning Rate and Beyond*, ICLR 2020.
  [arXiv:1908.03265](https://arxiv.org/abs/1908.03265); the authors' code:
  [LiyuanLucasLiu/RAdam](https://github.com/LiyuanLucasLiu/RAdam)
"""

import argparse
import math
from typing import Any

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler


class _ClosedFormLR(LRScheduler):
    r"""
    The machinery every schedule here shares: a schedule is a `multiplier(step, group)`
    for the $t$-th optimizer step, and each param group runs at its base lr (its `lr`
    when the scheduler was built) times that.
    """

    def multiplier(self, step: int, group: dict[str, Any]) -> float:
        raise NotImplementedError

    # ## Counting steps
    #
    # The constructor of torch's scheduler calls `step()` once, which sets `last_epoch`
    # to 0 and the lr of the first optimizer step. Each later `scheduler.step()`, made
    # after an `optimizer.step()`, adds one. So `get_lr` always prices the coming
    # optimizer step, number $t$ = `last_epoch + 1`.
    #
    # **The first step at lr 0.** The BERT recipe, as most copies of it write it (the
    # `transformers` library's linear schedule among them), evaluates $s / W$ at
    # $s$ = `last_epoch` $= t - 1$. Its first step runs at lr 0: the gradient feeds
    # Adam's moments and advances its step count, but no parameter moves, and the full
    # rate arrives only at step $W + 1$. Here step 1 runs at $\eta / W$ and step $W$ at
    # $\eta$.
    def get_lr(self) -> list[Any]:
        step = self.last_epoch + 1
        return [
            base_lr * self.multiplier(step, group)
            for base_lr, group in zip(self.base_lrs, self.optimizer.param_groups, strict=True)
        ]

    # ## Resuming
    #
    # **The `LambdaLR` state-dict rule.** `LambdaLR(optimizer, lambda s: ...)` is the
    # three-line way to write any schedule. Its `state_dict()` keeps a schedule function
    # only if it is a callable *object*, and then only that object's attributes; a
    # `lambda` or a plain function is saved as `None`. And `pickle` stores a function by
    # its importable name, which a lambda (or a function defined inside another) lacks,
    # so pickling the scheduler fails. The checkpoint holds a step count but no schedule:
    # the resumed run follows whatever lambda the new code builds, and if someone changed
    # its warmup or total steps in between, it silently follows a different schedule.
    #
    # Here the hyper-parameters are plain numbers on the object: `state_dict()` saves
    # them with the step count, `torch.load(weights_only=True)` reads them back, and the
    # saved schedule is the one that continues, as with torch's built-in schedulers. The
    # lr is computed from $t$ in closed form, never by multiplying the previous lr by a
    # ratio, so a resumed run gets bit for bit the lrs of an uninterrupted one.
    #
    # Loading also writes the lr the step count implies into the optimizer: the next step
    # is then right whether the optimizer's own state was loaded before or after this
    # scheduler was built (torch's schedulers leave the lr their constructor set, that
    # of step 1).
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


# ## Warmup, then decay
#
# Both tuned schedules share the warmup $t / W$ and the decay progress $p_t$; they differ
# only in the shape of the decay.
#
# **A default warmup of 0.** $t / W$ with $W = 0$ raises `ZeroDivisionError` at the first
# step, and a formula that divides by $T - W$ fails when $W = T$. Here $W \ge 1$ is checked
# up front, before the base class runs its first `step` (which already evaluates the
# schedule); `not x >= 1` also rejects NaN. The decay divides by $T + 1 - W \ge 1$.
class _WarmupThenDecayLR(_ClosedFormLR):
    def __init__(self, optimizer: Optimizer, warmup_steps: int, total_steps: int,
                 last_epoch: int = -1) -> None:
        _check_int("warmup_steps", warmup_steps, 1)
        _check_int("total_steps", total_steps, 1)
        if not total_steps >= warmup_steps:
            raise ValueError(
                f"total_steps must be >= warmup_steps ({warmup_steps}), got {total_steps}"
            )
        _check_int("last_epoch", last_epoch, -1)
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        # `last_epoch` resumes by argument, as with torch's built-in schedulers.
        super().__init__(optimizer, last_epoch)

    def decay(self, progress: float) -> float:
        raise NotImplementedError

    def multiplier(self, step: int, group: dict[str, Any]) -> float:
        if step <= self.warmup_steps:
            return step / self.warmup_steps
        span = self.total_steps + 1 - self.warmup_steps
        return self.decay(min(1.0, (step - self.warmup_steps) / span))


class WarmupLinearLR(_WarmupThenDecayLR):
    r"""
    Linear warmup over `warmup_steps` to the base lr, then linear decay to 0 just after
    `total_steps`: step 1 runs at `base_lr / warmup_steps`, step `warmup_steps` at
    `base_lr`, and no step at 0.
    """

    def decay(self, progress: float) -> float:
        return 1.0 - progress


class WarmupCosineLR(_WarmupThenDecayLR):
    r"""
    Linear warmup over `warmup_steps` to the base lr, then half a cosine down to
    `min_lr_ratio * base_lr` just after `total_steps`.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        warmup_steps: int,
        total_steps: int,
        min_lr_ratio: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        _check_real("min_lr_ratio", min_lr_ratio, 0.0, 1.0)
        self.min_lr_ratio = min_lr_ratio
        super().__init__(optimizer, warmup_steps, total_steps, last_epoch)

    def decay(self, progress: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.min_lr_ratio + (1.0 - self.min_lr_ratio) * cosine


# ## Untuned warmup
#
# How long should the warmup be? Ma & Yarats (2021) tie it to $\beta_2$ alone, with no
# tuning, in two forms: step $t$ runs at $\omega_t \, \eta$ with
#
# $$
# \begin{aligned}
# \omega_t^{\text{exp}} &= 1 - e^{-(1 - \beta_2) \, t} ,\\
# \omega_t^{\text{lin}} &= \min\left(1, \frac{1 - \beta_2}{2} \, t\right) .
# \end{aligned}
# $$
#
# The exponential form has the time constant $1 / (1 - \beta_2)$ of $\hat v$ itself; the
# linear form reaches the full rate after $2 / (1 - \beta_2)$ steps, 2000 for
# $\beta_2 = 0.999$, and is their recommended default. The factor 2 makes the two hold
# back the same amount of learning rate in total, a triangle of height 1 and base
# $2 / (1 - \beta_2)$ against the area under the exponential:
#
# $$
# \begin{aligned}
# \int_0^\infty e^{-(1 - \beta_2) t} \, dt
# &= \frac{1}{1 - \beta_2}\\
# &= \int_0^{2/(1 - \beta_2)} \left(1 - \frac{1 - \beta_2}{2} \, t\right) dt .
# \end{aligned}
# $$
#
# $\beta_2$ is read from each param group's `betas` at every step, so groups with
# different `betas` warm up at their own pace. Every group is checked up front, so that a
# missing `betas` (an SGD optimizer, say) is a clear error rather than a `KeyError`
# mid-run.
class _UntunedWarmupLR(_ClosedFormLR):
    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        _check_int("last_epoch", last_epoch, -1)
        for index, group in enumerate(optimizer.param_groups):
            if "betas" not in group:
                raise ValueError(
                    f"optimizer: param group {index} has no 'betas'; the untuned warmup "
                    "reads beta2 from an Adam-style optimizer's betas"
                )
            beta2 = float(group["betas"][1])
            if not 0.0 <= beta2 < 1.0:
                raise ValueError(f"optimizer: betas[1] must be in [0, 1), got {beta2}")
        super().__init__(optimizer, last_epoch)

    def multiplier(self, step: int, group: dict[str, Any]) -> float:
        return self.omega(step, float(group["betas"][1]))

    def omega(self, step: int, beta2: float) -> float:
        raise NotImplementedError


class UntunedLinearWarmupLR(_UntunedWarmupLR):
    r"""
    Ma & Yarats' linear warmup: step $t$ runs at `min(1, (1 - beta2) / 2 * t) * base_lr`,
    reaching the base lr after $2 / (1 - \beta_2)$ steps.
    """

    def omega(self, step: int, beta2: float) -> float:
        return min(1.0, 0.5 * (1.0 - beta2) * step)


class UntunedExponentialWarmupLR(_UntunedWarmupLR):
    r"""
    Ma & Yarats' exponential warmup: step $t$ runs at `(1 - exp(-(1 - beta2) * t)) * base_lr`,
    with the time constant $1 / (1 - \beta_2)$ of Adam's second moment.
    """

    def omega(self, step: int, beta2: float) -> float:
        return 1.0 - math.exp(-(1.0 - beta2) * step)


# ## RAdam's rectification beside them
#
# [RAdam](radam.md) multiplies Adam's step by
#
# $$
# \begin{aligned}
# r_t &= \sqrt{\frac{(\rho_t - 4)(\rho_t - 2) \, \rho_\infty}
# {(\rho_\infty - 4)(\rho_\infty - 2) \, \rho_t}} ,\\
# \rho_\infty &= \frac{2}{1 - \beta_2} - 1 ,\\
# \rho_t &= \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t} ,
# \end{aligned}
# $$
#
# defined when $\rho_t > 4$ (torch's RAdam asks for $\rho_t > 5$; with $\beta_2 = 0.999$
# that changes step 5 only). Before that there is no $r_t$ and RAdam does not take a
# smaller adaptive step: it takes a momentum step $\eta\,\hat m_t$ with no adaptive
# scaling at all, whose size is set by the gradient, not by $\eta$. That is not a fraction
# of the learning rate, so this function returns 0 there only as a marker, and the figure
# draws no $r_t$ for those steps (the first four for $\beta_2 = 0.999$). It is computed
# here, not imported, so that this file stands alone.
#
# For $\beta_2 = 0.999$, $r_{1000} = 0.645$ while $\omega_{1000}^{\text{exp}} = 0.632$
# and $\omega_{1000}^{\text{lin}} = 0.5$. RAdam is bolder early ($r_{100} = 0.215$
# against $0.095$) and nears 1 later, but over the first few thousand steps it acts much
# like an untuned warmup: Ma & Yarats' point, and the figure's.
#
# ![Untuned warmups with RAdam's r_t for beta2 = 0.999; linear and cosine schedules](warmup.png)
def radam_rectification(step: int, beta2: float) -> float:
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    beta2_t = beta2**step
    rho_t = rho_inf - 2.0 * step * beta2_t / (1.0 - beta2_t)
    if rho_t <= 4.0:
        return 0.0
    return math.sqrt(
        (rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)
    )


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
# Left, the untuned warmups for $\beta_2 = 0.999$ with RAdam's $r_t$ over them, drawn
# only where it is defined (a cross marks the momentum steps before it, off the fraction
# axis's meaning). Right, the two tuned schedules with $W = 1000$ and $T = 10\,000$, the
# cosine with a floor of 0.1. Every curve is the scheduler's own `multiplier`, with the
# optimizer's lr at 1.
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Plot the warmup schedules.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE (PNG)")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")  # no display needed to write a file
    import matplotlib.pyplot as plt

    beta2 = 0.999

    def curve(schedule: _ClosedFormLR, steps: range) -> list[float]:
        group = schedule.optimizer.param_groups[0]
        return [schedule.multiplier(k, group) for k in steps]

    def dummy() -> Optimizer:
        return torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1.0, betas=(0.9, beta2))

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))

    steps = range(1, 6001)
    left.plot(
        steps,
        curve(UntunedLinearWarmupLR(dummy()), steps),
        label="untuned linear, $2/(1-\\beta_2)$ steps",
    )
    left.plot(
        steps,
        curve(UntunedExponentialWarmupLR(dummy()), steps),
        label="untuned exponential, $1 - e^{-(1-\\beta_2)t}$",
    )
    # Where $r_t$ is undefined RAdam takes an unscaled momentum step: no point there.
    rectified = [radam_rectification(t, beta2) for t in steps]
    first = next(t for t, r in zip(steps, rectified, strict=True) if r > 0)
    left.plot(
        steps,
        [r if r > 0 else float("nan") for r in rectified],
        "--",
        color="black",
        label=f"RAdam $r_t$ (defined from $t$ = {first})",
    )
    left.annotate(
        f"$t < {first}$: RAdam takes momentum steps\n"
        r"$\eta\,\hat m_t$, no $r_t$ (not a fraction of $\eta$)",
        xy=(first, 0.0), xytext=(450, 0.06), fontsize=8,
        arrowprops=dict(arrowstyle="->", lw=0.6),
    )
    left.set_title(f"Untuned warmups and RAdam's $r_t$, $\\beta_2$ = {beta2}")
    left.set_xlabel("step $t$")
    left.set_ylabel("fraction of the base lr")
    left.legend(loc="center right")

    steps = range(1, 10_501)
    right.plot(steps, curve(WarmupLinearLR(dummy(), 1000, 10_000), steps), label="WarmupLinearLR")
    right.plot(
        steps,
        curve(WarmupCosineLR(dummy(), 1000, 10_000, 0.1), steps),
        label="WarmupCosineLR, min_lr_ratio = 0.1",
    )
    right.axvline(10_000, color="gray", linewidth=0.8, linestyle=":")
    right.set_title("Warmup $W$ = 1000, total $T$ = 10 000")
    right.set_xlabel("optimizer step $t$")
    right.legend(loc="upper right")

    for ax in (left, right):
        ax.set_ylim(0, 1.05)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    if args.save:
        fig.savefig(args.save, dpi=120)
    else:
        plt.show()


if __name__ == "__main__":
    main()
