r"""
---
title: Schedule-Free AdamW
summary: Averaging and interpolation replace momentum and the schedule: no stopping time to choose.
group: Optimizers
order: 120
---

# Schedule-Free AdamW

The best learning-rate schedules know when training ends. Linear decay to zero at step $T$,
or a cosine that reaches its floor at $T$, clearly beat the schedules that do not need $T$
(the paper's starting observation); but a
run planned for $T$ steps and stopped at $T/2$ has spent its first half at a learning rate
that was too large for a result at $T/2$, and a run continued past $T$ has nothing left to
decay. Schedule-Free AdamW (Defazio, Yang, Mehta, Mishchenko, Khaled and Cutkosky, "The
Road Less Scheduled", NeurIPS 2024) keeps a constant learning rate (after an optional
warmup) and replaces both the schedule and the momentum of [AdamW](adamw.md) by an
*average* of the iterates, taken so that the average is a good model at every step.
Schedule-Free AdamW was the core of the winning entry of the self-tuning track of the
2024 AlgoPerf competition (see the section [AlgoPerf](#algoperf) for what that benchmark measures).

**Sharding.** Safe under sharding (DDP, `ZeroRedundancyOptimizer`, FSDP2): the update is
elementwise and the averaging weights depend only on the step count and the learning rate,
so each rank steps its own shard of the parameter and state exactly as one process would,
bit for bit (tested with two processes).

## Three sequences

The optimizer runs three sequences. $z_t$ takes AdamW steps without momentum (an
RMSprop-like step) with the gradients taken at $y_t$. $x_t$ is a weighted average of the
$z$'s: the model one evaluates.
$y_t$, an interpolation of the two, is where the gradient is taken. With
$\beta_1 \in [0, 1)$, learning rate $\gamma_t$, decoupled weight decay $\lambda$, and all
three starting at the initial parameters, step $t = 1, 2, \dots$ is

$$
\begin{aligned}
g_t &= \nabla f(y_t)\\
  &\qquad \text{(a stochastic gradient at } y_t\text{)},\\
v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 ,\\
z_{t+1} &= z_t - \gamma_t \Big( \frac{g_t}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}
  + \lambda y_t \Big),\\
x_{t+1} &= (1 - c_{t+1})\, x_t + c_{t+1}\, z_{t+1},\\
c_{t+1} &= \frac{w_t}{\sum_{i=1}^{t} w_i},\\
y_{t+1} &= (1 - \beta_1)\, z_{t+1} + \beta_1\, x_{t+1} .
\end{aligned}
$$

There is no first moment $m_t$: $\beta_1$, which was AdamW's momentum, is now the
interpolation weight. Its two ends are two classical methods. With $\beta_1 = 0$ the
gradient is taken at $y_t = z_t$, so $z$ is an ordinary run and $x$ its Polyak–Ruppert
average, which is optimal in theory and poor in practice (the average drags along the early
iterates). With $\beta_1 \to 1$ the gradient is taken at the average itself, $y_t = x_t$:
*primal averaging*, a form of momentum. The default $\beta_1 = 0.9$ sits near the second.

*The average, unrolled.* Write $W_t = \sum_{i \le t} w_i$. The first step has
$c_2 = w_1 / W_1 = 1$, so $x_2 = z_2$ and the starting point carries no weight. If
$W_{t-1} x_t = \sum_{i=1}^{t-1} w_i z_{i+1}$, then

$$
\begin{aligned}
W_t\, x_{t+1} &= W_t \Big(1 - \frac{w_t}{W_t}\Big) x_t + w_t z_{t+1}\\
&= W_{t-1}\, x_t + w_t z_{t+1} = \sum_{i=1}^{t} w_i\, z_{i+1},
\end{aligned}
$$

so by induction $x_{t+1}$ is exactly the $w$-weighted mean of $z_2, \dots, z_{t+1}$. With
constant weights it is the running mean, $c_{t+1} = 1/t$. Nothing in it depends on when
training will stop. The tests rebuild $x$ from the stored $z$'s and check this.

## Why no stopping time is needed

For SGD on a convex $G$-Lipschitz function, with $D$ the distance from the start to a
minimizer, the last iterate of a constant step size does not reach the optimal
$DG/\sqrt{T}$ rate; decaying schedules that end at $T$ do, at $T$. The paper proves that
the schedule-free average reaches it with a *constant* step: for every
$\beta_1 \in [0, 1]$, with equal weights ($c_{t+1} = 1/(t+1)$ in the paper's indexing,
where the starting point is part of the average) and $\gamma = D/(G\sqrt{T})$,
$\mathbb{E}[f(x_T)] - f_\star \le DG/\sqrt{T}$. The step size is a constant set by the
scale of the horizon, not a decay that must hit zero at $T$, and the averaging weights do
not involve $T$ at all, so the same run can be read off at any step.

Where did the schedule go? Take the end $\beta_1 = 1$ (gradient at the average, $y = x$),
SGD for $z$ and equal weights, $c_{t+1} = 1/t$. The previous step's
$x_t - x_{t-1} = c_t (z_t - x_{t-1})$ rearranges to
$z_t - x_t = (1/c_t - 1)(x_t - x_{t-1})$, and with $z_{t+1} = z_t - \gamma g_t$

$$
\begin{aligned}
x_{t+1} - x_t &= c_{t+1}\big((z_t - x_t) - \gamma g_t\big)\\
&= c_{t+1}\Big(\frac{1}{c_t} - 1\Big)(x_t - x_{t-1})\\
&\quad - c_{t+1}\gamma\, g_t \\
&= \frac{t-2}{t}\,(x_t - x_{t-1}) - \frac{\gamma}{t}\, g_t
 \quad (t \ge 2),
\end{aligned}
$$

while the first step is $x_2 = z_2 = x_1 - \gamma g_1$. So $x$ is heavy-ball momentum
with a coefficient $(t-2)/t$ that rises towards 1 and a learning rate $\gamma/t$ that
decays on its own: the average *is* a schedule, one that does not need $T$. The tests run
both recursions and compare them.

The figure below runs noisy least squares (16 coordinates, minibatches of 4 rows, label
noise) with AdamW at a constant rate, AdamW with linear decay planned for 100 steps and for
400 steps, and Schedule-Free AdamW, all at the peak rate $0.1$ and no warmup. Each linear
decay is good at the end of its own plan and not elsewhere: at step 100 the 100-step plan
has excess loss $0.037$ and the 400-step plan $0.153$; at step 400 the 100-step plan is
stuck at $0.037$ (its rate reached zero at step 100) and the 400-step plan has $0.014$.
The schedule-free average, never told either horizon, has $0.088$ at step 100, between
the two plans, and $0.010$ at step 400, the best of all; the constant rate has $0.195$ and
$0.120$. It does not beat a schedule tuned for the step one stops at (at step 100 it is
2.4 times the 100-step plan), but it is never the one that planned for the wrong horizon.
The tests check these numbers on the curves the figure draws.

![Left: excess loss on noisy least squares; each linear-decay run is good only near its own
planned end, the schedule-free average at every step. Right: the schedule-free run evaluated at
x (after eval()) and at y (eval() forgotten)](schedule_free.png)

## Train and eval

The parameters of the model hold $y$ while training (the gradient must be taken there) but
the point to evaluate and to save is $x$. So the optimizer has two modes, switched by
`opt.train()` and `opt.eval()`, like a model's: `eval()` writes $x$ into the parameters,
`train()` writes $y$ back. A user must

* call `opt.train()` before training steps (a fresh optimizer is in train mode here; the
  reference package starts in eval mode and refuses the first step until `train()`),
* call `opt.eval()` before evaluating, and before saving a checkpoint of the model, then
  `opt.train()` before the next step.

Forgetting `eval()` evaluates and saves $y = x + (1 - \beta_1)(z - x)$: with the default
$\beta_1 = 0.9$ a tenth of the way from the average towards the noisy $z$, which is a worse
model: in the figure's right panel, $y$'s excess loss at step 400 is $0.023$, $2.2$ times
$x$'s. Forgetting `train()` after `eval()` would take the next
gradient at $x$ and overwrite $y$; this optimizer, like the reference, raises an error
instead. Both switches are idempotent, and the optimizer's state dict holds $x$, $y$, $z$
and the mode (with `implicit_x=True`, below, $z$ and the mode, the parameters holding $x$
or $y$), so it resumes either way.

By default the memory cost is that of the authors' reference implementation, whose state
keys this chapter uses: $z$, $x$, $y$ and $v$ for every parameter, twice AdamW's two
buffers. The
authors' default `AdamWScheduleFree` keeps only $z$ and $v$ (AdamW's memory): the
parameters hold $y$ in train mode, $x$ is never stored because it is recoverable from the
other two,

$$
x = \frac{y - (1 - \beta_1)\, z}{\beta_1} \quad (\beta_1 > 0),
$$

and $y$ is updated in place. Substituting this $x$ into the updates above, with
$u_t = g_t / (\sqrt{\hat v_t} + \epsilon) + \lambda y_t$ and $c = c_{t+1}$,

$$
\begin{aligned}
y_{t+1} &= \beta_1 \big((1 - c) x_t + c\, z_{t+1}\big) + (1 - \beta_1) z_{t+1} \\
&= (1 - c)\big(y_t - (1 - \beta_1) z_t\big)\\
&\quad + (\beta_1 c + 1 - \beta_1)(z_t - \gamma_t u_t) \\
&= (1 - c)\, y_t + c\, z_t - \gamma_t \big(1 - \beta_1 (1 - c)\big)\, u_t ,
\end{aligned}
$$

since $-(1 - c)(1 - \beta_1) + \beta_1 c + 1 - \beta_1 = c$. That is what its loop
computes: `y.lerp_(z, c)` then `y.add_(u, alpha=lr * (beta1 * (1 - c) - 1))`, then the
$z$ step. It differs from the reference (and from this chapter's default layout) only in
rounding: the tests hold it to $10^{-5}$ relative over 50 steps, because the same sums are
formed in another order and the differences accumulate, while the default layout matches
the reference bitwise. It
also divides `p.grad` in place by the denominator (the caller's gradient is changed by the
step), and its `eval()` uses the formula above, so it needs $\beta_1 > 0$.

`implicit_x=True` gives this chapter that layout: the state is $z$ and $v$, the parameters
hold $y$, and the step is the default's, operation for operation, so it is bitwise equal
to the package's for-loop path (`foreach=False`, tested) and a state dict moves between
the two (the caller's gradient is left alone all the same). Besides halving the state, it
cuts what a step moves through memory from 44 bytes a parameter to 28, AdamW's count,
which is what bounds a compiled step on a CPU (the [Fast optimizers](fast.md) chapter
counts the bytes of both, and its CPU bench times this setting). The default stays the
reference's layout, since the reference is what every line here is checked against, and
it alone allows $\beta_1 = 0$, from which $x$ cannot be recovered: `implicit_x=True`
refuses it, in the constructor, in `add_param_group` and in `eval()`. A state dict saved
without the key (the package's, or the reference's) is read in the layout its state
shows, which then replaces the one the optimizer was built with, as any loaded group's
settings do in torch; where it holds no state yet, the optimizer keeps its own.

## Warmup and the weights $w_t$

Adam-type methods are usually run with a warmup; `warmup_steps` $= W$ raises the rate
linearly,
$\gamma_t = \gamma \min(1, t/W)$. Averaging with equal weights would then give the poor
warmup iterates as much say as later ones. The weights are instead

$$
w_t = t^{\,r}\, \big(\max_{i \le t} \gamma_i\big)^{p},
$$

with `r` $= 0$ and `weight_lr_power` $p = 2$ by default: the weight of an iterate is the
square of the largest learning rate seen so far (the paper's $c_{t+1} = \gamma_t^2 /
\sum_i \gamma_i^2$ during a warmup, where the running maximum is the current rate). A warmup
iterate at rate $\gamma t/W$ then counts $(t/W)^2$ of a full one, and the whole warmup
counts as

$$
\sum_{t=1}^{W} \Big(\frac{t}{W}\Big)^2 = \frac{(W+1)(2W+1)}{6W} \approx \frac{W}{3}
$$

full steps, against $(W+1)/2$ for weights linear in the rate. The maximum, rather than the
current rate, means that a rate lowered by hand after the warmup does not lower the weight
of later iterates. The tests check the weights, the sum and the maximum.

The bias correction of $v_t$ is applied to $v$ itself, as in AdamW. The paper's
Algorithm 1, and the package's `AdamWScheduleFreePaper`, instead fold
$\sqrt{1 - \beta_2^t}$ into $\gamma_t$, which then also enters the weights and the weight
decay; `AdamWScheduleFree` and `AdamWScheduleFreeReference` do it as here.

## AlgoPerf

AlgoPerf (MLCommons' Training Algorithms benchmark) measures *time to result*: the
wall-clock time a training algorithm needs to reach a fixed validation target (and a test
target) on each of eight fixed workloads (image classification, speech recognition,
machine translation, graph and recommendation models among them), with the model, data
and loss fixed and the hardware standardized (8 NVIDIA V100 GPUs in the 2024 competition),
plus randomized variants of the workloads to penalize over-fitting to them. A submission's
score integrates its performance profile: for each workload, its time relative to the
fastest submission's. Under the external-tuning rules a submission gets a small budget of
tuning trials from a search space it declares; under the self-tuning rules, the track
Schedule-Free AdamW won, there is no external tuning at all: one fixed recipe for every
workload, any tuning done within the timed run. Not having to guess a stopping time for a
schedule is exactly what such rules reward.

## References

- Aaron Defazio et al., *The Road Less Scheduled*, NeurIPS 2024.
  [arXiv:2405.15682](https://arxiv.org/abs/2405.15682); the authors' code:
  [facebookresearch/schedule_free](https://github.com/facebookresearch/schedule_free)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


def _averaging_step(
    k: float | Tensor,
    lr: float | Tensor,
    lr_max: float | Tensor,
    weight_sum: float | Tensor,
    *,
    warmup_steps: int,
    r: float,
    weight_lr_power: float,
    beta2: float,
) -> tuple[float | Tensor, ...]:
    r"""The group's scalars for step $t = k + 1$: $\gamma_t$, $\max_{i \le t} \gamma_i$,
    $\sum_{i \le t} w_i$, $c_{t+1}$ and $1 - \beta_2^t$, in the reference's order.

    Numbers in eager mode, 0-d tensors under `torch.compile`; the only two operations
    that differ (a branch and a maximum) go through `_where` and `_maximum`.
    """
    t = k + 1
    # Linear warmup: $\gamma_t = \gamma \min(1, t/W)$.
    lr = lr * _where(k < warmup_steps, t / max(warmup_steps, 1), 1.0)
    # $w_t = t^r (\max_{i \le t} \gamma_i)^p$
    lr_max = _maximum(lr, lr_max)
    weight = _power(t, r) * lr_max**weight_lr_power
    # $c_{t+1} = w_t / \sum_{i \le t} w_i$; every $w_i \ge 0$, so a zero sum means
    # $w_t = 0$ and $c_{t+1} = 0$ (the reference's `ZeroDivisionError` case).
    weight_sum = weight_sum + weight
    ckp1 = _ratio(weight, _where(weight_sum != 0, weight_sum, 1.0))
    # $1 - \beta_2^t$, the bias correction of $v_t$.
    bias_correction2 = 1 - _power(beta2, t)
    return lr, lr_max, weight_sum, ckp1, bias_correction2


def _once(x: float | Tensor) -> float | Tensor:
    r"""A non-negative number of the step for one tensor's update: `x` itself; while
    compiling, $e^{\ln x}$ of the 0-d float64 tensor, which inductor stores for that
    tensor's loop alone.

    Compiled, the step size and the average's weight are computed in the graph from the
    group's counters, and used by every parameter's loop. Inductor fused the loops of two
    parameters of one size that used such a number into one loop over both, and on one
    CPU core that was slower: the step over 74 tensors took 16.1 ms fused and 8.4 ms with
    a number of its own for each tensor. An exponential, as in `_ratio`, is a value
    inductor stores rather than inlines, so each tensor gets its own copy.
    """
    if not isinstance(x, Tensor) or not torch.compiler.is_compiling():
        return x
    return torch.exp(torch.log(x))


def _schedule_free_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    *,
    lr: float | Tensor,
    ckp1: float | Tensor,
    beta1: float,
    beta2: float,
    bias_correction2: float | Tensor,
    eps: float,
    weight_decay: float,
    decay_at_z: bool,
    maximize: bool,
) -> None:
    r"""One step on one tensor, in the reference's order of operations (bitwise equal)."""
    if maximize:
        grad = -grad
    z, x, y, exp_avg_sq = state["z"], state["x"], state["y"], state["exp_avg_sq"]
    # A complex parameter is two real coordinates, each with its own $v$.
    if torch.is_complex(param):
        param, grad = torch.view_as_real(param), torch.view_as_real(grad)
        z, x, y = torch.view_as_real(z), torch.view_as_real(x), torch.view_as_real(y)
        exp_avg_sq = torch.view_as_real(exp_avg_sq)

    # Decoupled weight decay $z \leftarrow z - \gamma_t \lambda y_t$, computed at $y$
    # (or at $z$ with `decay_at_z`), before the gradient step.
    if weight_decay != 0:
        _add_scaled(z, z if decay_at_z else y, -_once(lr * weight_decay))
    # $v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2$
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    # $\sqrt{v_t / (1 - \beta_2^t)} + \epsilon$
    denom = _divide(exp_avg_sq, bias_correction2).sqrt_().add_(eps)
    # $z_{t+1} = z_t - \gamma_t\, g_t / (\sqrt{\hat v_t} + \epsilon)$
    z.addcdiv_(grad, denom, value=-_once(lr))
    # $x_{t+1} = (1 - c_{t+1})\, x_t + c_{t+1} z_{t+1}$
    _add_scaled(x.mul_(_once(1 - ckp1)), z, _once(ckp1))
    # $y_{t+1} = \beta_1 x_{t+1} + (1 - \beta_1) z_{t+1}$, and the parameters hold $y$.
    y.copy_(x.mul(beta1).add_(z, alpha=1 - beta1))
    param.copy_(y)


def _schedule_free_update_implicit_x(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    *,
    lr: float | Tensor,
    ckp1: float | Tensor,
    beta1: float,
    beta2: float,
    bias_correction2: float | Tensor,
    eps: float,
    weight_decay: float,
    decay_at_z: bool,
    maximize: bool,
) -> None:
    r"""One step on one tensor with $x$ implicit: the parameter is $y$, the state $z, v$;
    the order of operations of the package's default class with `foreach=False`."""
    if maximize:
        grad = -grad
    y, z, exp_avg_sq = param, state["z"], state["exp_avg_sq"]
    if torch.is_complex(param):
        y, grad = torch.view_as_real(y), torch.view_as_real(grad)
        z, exp_avg_sq = torch.view_as_real(z), torch.view_as_real(exp_avg_sq)

    # $v_t$ and $\sqrt{\hat v_t} + \epsilon$, as in the reference layout.
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denom = _divide(exp_avg_sq, bias_correction2).sqrt_().add_(eps)
    # $u_t = g_t / (\sqrt{\hat v_t} + \epsilon) + \lambda y_t$ (or $\lambda z_t$): the
    # caller's gradient is left as it is, where the package divides it in place.
    u = grad / denom
    if weight_decay != 0:
        u.add_(z if decay_at_z else y, alpha=weight_decay)
    # $y_{t+1} = (1 - c)\, y_t + c\, z_t - \gamma_t (1 - \beta_1 (1 - c))\, u_t$, before
    # $z$ moves, since it reads $z_t$.
    # The numbers are formed for this tensor alone (`_once`).
    c = _once(ckp1)
    y.lerp_(z, c.to(y.dtype) if isinstance(c, Tensor) else c)
    _add_scaled(y, u, -_once(lr * (1 - beta1 * (1 - ckp1))))
    # $z_{t+1} = z_t - \gamma_t u_t$
    _add_scaled(z, u, -_once(lr))


class AdamWScheduleFree(Optimizer):
    r"""Schedule-Free AdamW with the signature, group keys and state keys of
    `schedulefree.AdamWScheduleFreeReference`, so a state dict moves between the two.

    Group keys: `lr`, `betas`, `eps`, `weight_decay`, `warmup_steps`, `r`,
    `weight_lr_power`, `decay_at_z`, the counters `k` (steps taken), `weight_sum`,
    `lr_max`, `scheduled_lr`, and `train_mode`; state keys `z`, `x`, `y`, `exp_avg_sq`.
    With `implicit_x=True`, the layout and the order of operations of the package's default
    `AdamWScheduleFree` instead: state keys `z` and `exp_avg_sq`, the parameters holding
    $y$. Call `train()` before training and `eval()` before evaluating or saving.

    The counters are 1-element float64 tensors in the live groups, updated in place, so that
    `torch.compile(opt.step)` reads their current values at every call (one graph, no
    recompiles); `state_dict()` writes them as plain numbers, the reference's format, and
    numbers in a loaded state dict become tensors again.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float | Tensor = 0.0025,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        warmup_steps: int = 0,
        r: float = 0,
        weight_lr_power: float = 2,
        decay_at_z: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        implicit_x: bool = False,
    ) -> None:
        betas = _check_schedule_free_arguments(
            lr, betas, eps, weight_decay, warmup_steps, r, weight_lr_power, foreach=foreach
        )
        # The reference's group keys, counters included: they live in the group, not in the
        # per-parameter state, because one average weight $c_{t+1}$ serves the whole group.
        defaults = dict(
            lr=lr, betas=betas, eps=eps, r=r, k=0, warmup_steps=warmup_steps,
            train_mode=True, weight_sum=0.0, lr_max=-1.0, scheduled_lr=0.0,
            weight_lr_power=weight_lr_power, decay_at_z=decay_at_z,
            weight_decay=weight_decay, foreach=foreach, maximize=maximize,
            implicit_x=implicit_x,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Fill in the keys a state dict of the reference (or an older one) lacks."""
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("decay_at_z", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("scheduled_lr", 0.0)
            # A group saved without the key is in the layout its state shows: the package's
            # default class stores $z$ and $v$ only.
            group.setdefault("implicit_x", any(
                "z" in self.state[p] and "x" not in self.state[p]
                for p in group["params"] if p in self.state))
            _counters_as_tensors(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group as torch does; its counters become tensors of its own."""
        implicit_x = param_group.get("implicit_x", self.defaults.get("implicit_x", False))
        beta1 = param_group.get("betas", self.defaults["betas"])[0]
        _check_implicit_x(implicit_x, _float(beta1))
        super().add_param_group(param_group)
        _counters_as_tensors(self.param_groups[-1])

    def state_dict(self) -> dict[str, Any]:
        """torch's state dict, with the group counters as plain numbers (the reference's
        format, so that `AdamWScheduleFreeReference` loads it and steps on)."""
        state_dict = super().state_dict()
        for group in state_dict["param_groups"]:
            _counters_as_numbers(group)
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load as torch does; a group saved without `implicit_x` takes the layout its state
        shows, or, with no state yet, keeps this optimizer's."""
        # Which saved groups say nothing of their layout, checked before anything loads.
        keep = {}
        # (A count of groups that differs is torch's error, below.)
        pairs = zip(state_dict["param_groups"], self.param_groups, strict=False)
        for i, (saved, built) in enumerate(pairs):
            if "implicit_x" not in saved and not any(
                    "z" in state_dict["state"].get(index, {}) for index in saved["params"]):
                _check_implicit_x(built["implicit_x"], _float(saved["betas"][0]))
                keep[i] = built["implicit_x"]
        super().load_state_dict(state_dict)
        for i, implicit_x in keep.items():
            self.param_groups[i]["implicit_x"] = implicit_x

    @torch.no_grad()
    def eval(self) -> None:
        r"""Put the average $x$ into the parameters, to evaluate or save the model."""
        # Recovering $x$ divides by $\beta_1$: every group is checked before any changes.
        for group in self.param_groups:
            if group["train_mode"]:
                _check_implicit_x(group["implicit_x"], _float(group["betas"][0]))
        for group in self.param_groups:
            if group["train_mode"]:
                beta1 = _float(group["betas"][0])
                for p in group["params"]:
                    state = self.state[p]
                    if "x" in state:
                        p.copy_(state["x"])
                    elif "z" in state:
                        # $x = (y - (1 - \beta_1) z) / \beta_1$, written as the package
                        # writes it: $y + (1 - 1/\beta_1)(z - y)$.
                        p.lerp_(state["z"], 1 - 1 / beta1)
                group["train_mode"] = False

    @torch.no_grad()
    def train(self) -> None:
        r"""Put the gradient point $y$ back into the parameters, to train."""
        for group in self.param_groups:
            if not group["train_mode"]:
                beta1 = _float(group["betas"][0])
                for p in group["params"]:
                    state = self.state[p]
                    if "y" in state:
                        p.copy_(state["y"])
                    elif "z" in state:
                        # $y = \beta_1 x + (1 - \beta_1) z$
                        p.lerp_(state["z"], 1 - beta1)
                group["train_mode"] = True

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step for every parameter with a gradient; return the closure's loss."""
        # Everything that can fail is checked before anything changes.
        if not all(group["train_mode"] for group in self.param_groups):
            raise RuntimeError(
                f"{type(self).__name__}.step() called in eval mode: the parameters hold the "
                "average x; call opt.train() before training"
            )
        for group in self.param_groups:
            _check_sparse(type(self).__name__, group["params"])
            _check_layout(type(self).__name__, group, self.state)
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            _counters_as_tensors(group)  # a counter set by hand as a number
            lr = group["lr"]
            if isinstance(lr, Tensor):
                lr = _get_value(_scalar(lr))
            # The counters as numbers in eager mode (the reference's double-precision
            # arithmetic), as the tensors themselves under `torch.compile`.
            lr, lr_max, weight_sum, ckp1, bias_correction2 = _averaging_step(
                _get_value(group["k"][0]), lr, _get_value(group["lr_max"][0]),
                _get_value(group["weight_sum"][0]), warmup_steps=group["warmup_steps"],
                r=group["r"], weight_lr_power=group["weight_lr_power"], beta2=beta2,
            )

            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                if len(state) == 0:
                    # $z_1 = x_1 = y_1$: all three start at the initial parameters.
                    state["z"] = param.clone(memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(
                        param, memory_format=torch.preserve_format
                    )
                    if not group["implicit_x"]:
                        state["x"] = param.clone(memory_format=torch.preserve_format)
                        state["y"] = param.clone(memory_format=torch.preserve_format)
                update = (_schedule_free_update_implicit_x if group["implicit_x"]
                          else _schedule_free_update)
                update(
                    param, param.grad, state, lr=lr, ckp1=ckp1, beta1=beta1, beta2=beta2,
                    bias_correction2=bias_correction2, eps=group["eps"],
                    weight_decay=group["weight_decay"], decay_at_z=group["decay_at_z"],
                    maximize=group["maximize"],
                )
            # The counters advance once per step, for the whole group, in place.
            group["scheduled_lr"].fill_(lr)
            group["lr_max"].fill_(lr_max)
            group["weight_sum"].fill_(weight_sum)
            group["k"].add_(1)
        return loss


#
def averaging_weights(
    lrs: list[float], *, r: float = 0.0, weight_lr_power: float = 2.0
) -> list[float]:
    r"""$c_{t+1}$ for the scheduled rates $\gamma_1, \gamma_2, \dots$, in plain floats."""
    cs, total, lr_max = [], 0.0, -1.0
    for t, lr in enumerate(lrs, start=1):
        lr_max = max(lr_max, lr)
        w = t**r * lr_max**weight_lr_power
        total += w
        cs.append(w / total if total != 0 else 0.0)
    return cs


def warmup_weight_sum(warmup_steps: int) -> float:
    r"""$\sum_{t=1}^{W} (t/W)^2 = (W+1)(2W+1)/(6W)$: the warmup's weight in full steps."""
    w = warmup_steps
    return (w + 1) * (2 * w + 1) / (6 * w)


def x_from_y_z(y: Tensor, z: Tensor, beta1: float) -> Tensor:
    r"""$x = (y - (1 - \beta_1) z) / \beta_1$: the average, recovered from $y$ and $z$."""
    return (y - (1 - beta1) * z) / beta1


def y_step_without_x(
    y: Tensor, z: Tensor, u: Tensor, *, lr: float, ckp1: float, beta1: float
) -> tuple[Tensor, Tensor]:
    r"""The memory-saving form: new $(y, z)$ from $y_t$, $z_t$ and the step direction $u_t$.

    $y_{t+1} = (1 - c) y_t + c z_t - \gamma (1 - \beta_1(1 - c)) u_t$,
    $z_{t+1} = z_t - \gamma u_t$.
    """
    y_next = y.lerp(z, ckp1).add_(u, alpha=lr * (beta1 * (1 - ckp1) - 1))
    return y_next, z - lr * u


def linear_decay_lr(lr: float, step: int, total: int) -> float:
    r"""Linear decay to zero at `total`: $\gamma (1 - (t-1)/T)$ for $t \le T$, then 0."""
    return lr * max(0.0, 1 - (step - 1) / total)


def noisy_least_squares(
    steps: int, *, dim: int = 16, batch: int = 4, noise: float = 1.0, seed: int = 0
) -> Callable[[Tensor, int], tuple[Tensor, float]]:
    r"""A fixed noisy least-squares problem; returns `f(w, t) -> (minibatch grad, excess loss)`.

    The loss is $\frac{1}{2n}\|Aw - b\|^2$ over $n = 512$ rows with label noise, less its
    minimum; the gradient at step $t$ uses `batch` rows fixed in advance, so every optimizer
    sees the same data in the same order.
    """
    gen = torch.Generator().manual_seed(seed)
    n = 512
    a = torch.randn(n, dim, generator=gen, dtype=torch.float64)
    w_true = 0.3 * torch.randn(dim, generator=gen, dtype=torch.float64)
    b = a @ w_true + noise * torch.randn(n, generator=gen, dtype=torch.float64)
    order = torch.randint(0, n, (steps, batch), generator=gen)
    best = torch.linalg.lstsq(a, b.unsqueeze(1)).solution.squeeze(1)
    floor = 0.5 * ((a @ best - b) ** 2).mean()

    def at(w: Tensor, t: int) -> tuple[Tensor, float]:
        rows = order[(t - 1) % steps]
        grad = a[rows].T @ (a[rows] @ w - b[rows]) / batch
        return grad, (0.5 * ((a @ w - b) ** 2).mean() - floor).item()

    return at


def anytime_curves(
    steps: int = 400, *, lr: float = 0.1, plans: tuple[int, ...] = (100, 400)
) -> dict[str, list[float]]:
    r"""Excess loss per step of AdamW (constant rate, linear decays) and Schedule-Free AdamW.

    AdamW is evaluated at its iterate; the schedule-free run at $x$ (after `eval()`) and,
    to show what forgetting `eval()` costs, at $y$. In float64, on `noisy_least_squares`.
    """
    problem = noisy_least_squares(steps)
    dim = 16
    curves: dict[str, list[float]] = {}
    runs: dict[str, Callable[[int], float]] = {"AdamW, constant": lambda t: lr}
    for plan in plans:
        runs[f"AdamW, linear decay to {plan}"] = lambda t, p=plan: linear_decay_lr(lr, t, p)
    for name, lr_at in runs.items():
        w = torch.zeros(dim, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.AdamW([w], lr=lr, weight_decay=0.0, foreach=False)
        losses = []
        for t in range(1, steps + 1):
            opt.param_groups[0]["lr"] = lr_at(t)
            w.grad = problem(w.detach(), t)[0]
            opt.step()
            losses.append(problem(w.detach(), t)[1])
        curves[name] = losses
    # The schedule-free loop: train() before the step, eval() before measuring.
    w = torch.zeros(dim, dtype=torch.float64, requires_grad=True)
    opt = AdamWScheduleFree([w], lr=lr)
    at_x, at_y = [], []
    for t in range(1, steps + 1):
        opt.train()
        w.grad = problem(w.detach(), t)[0]
        opt.step()
        at_y.append(problem(w.detach(), t)[1])
        opt.eval()
        at_x.append(problem(w.detach(), t)[1])
    curves["Schedule-Free AdamW (x, after eval())"] = at_x
    curves["Schedule-Free AdamW (y, eval() forgotten)"] = at_y
    return curves


# ## torch compatibility
#
# Small helpers that make this file behave like `torch.optim`: the step counter's dtype
# and how it is read, tensor hyper-parameters, argument checks with torch's wording, the
# switches for torch's other code paths, sparse gradients, and older state dicts. Every
# chapter that needs one holds the same copy, letter for letter (a test checks), so that
# each file still stands alone.
def _scalar(x: float | Tensor) -> float | Tensor:
    """A 1-element tensor hyper-parameter as a 0-d tensor, a number as it is.

    torch's for-loop path computes with the tensor itself (its `_to_scalar`), and so
    do we: reading it as a Python number would round differently.
    """
    return x.squeeze() if isinstance(x, Tensor) and x.dim() != 0 else x


def _get_value(step: Tensor) -> float | Tensor:
    """The step count for the update's arithmetic, read as torch's `_get_value` reads it.

    In eager mode it is a Python number: one read of a CPU scalar, and the bias
    corrections are then computed in double precision. Under `torch.compile` it stays a
    tensor, so the compiled graph reads the live count at every call (a number read while
    tracing would become a constant of the graph and go stale). We also make it float64
    there, unlike torch, so that the corrections keep eager's precision: in float32,
    $1 - 0.999^t$ loses about four of its seven digits to cancellation.
    """
    if torch.compiler.is_compiling():
        return step.to(torch.float64)
    return step.item()


def _power(base: float | Tensor, exponent: float | Tensor) -> float | Tensor:
    r"""$b^x$ for the numbers that depend on the step: `base**exponent` in eager mode, as
    torch computes it, and $e^{x \ln b}$ while compiling.

    Under `torch.compile` the step is a 0-d tensor, and a number computed from it is an
    expression that inductor may inline into the loop over the coordinates. On the CPU
    (torch 2.13) it does so with a power: Adam's compiled step recomputed $\beta_1^t$ and
    $\beta_2^t$, two scalar `pow` calls, for every vector of 8 coordinates, and took 60.7 ms
    for 16 M floats. The same number written as $e^{t \ln \beta}$ is computed once per
    tensor, before the loop, in the code inductor generates, and the step took 13.7 ms
    (torch's fused kernel, same run: 18.8). The two agree to double precision. Which values
    inductor stores is its own heuristic, so `tests/test_compile.py` checks that no such
    call is left inside a loop.
    """
    if not torch.compiler.is_compiling():
        return base**exponent
    if not isinstance(base, Tensor):
        base = torch.tensor(base, dtype=torch.float64)
    return torch.exp(exponent * torch.log(base))


def _ratio(numerator: float | Tensor, denominator: float | Tensor) -> float | Tensor:
    r"""`numerator / denominator` for non-negative numbers or 0-d tensors (norms, step
    sizes); while compiling, $e^{\ln a - \ln b}$.

    Inductor inlines a scalar computed from a reduction or from the state into the loop
    that uses it, so on the CPU the two square roots behind a ratio of norms, or NAdam's
    double-precision step sizes, were computed again for every vector of 8 coordinates.
    Written with an exponential it is computed once, as the "Fast optimizers" chapter
    explains. A zero numerator gives $e^{-\infty} = 0$, the quotient; a zero denominator
    gives what the caller must discard either way.
    """
    if not torch.compiler.is_compiling():
        return numerator / denominator
    logs = [torch.log(x if isinstance(x, Tensor) else torch.tensor(x, dtype=torch.float64))
            for x in (numerator, denominator)]
    return torch.exp(logs[0] - logs[1])


def _divide(x: Tensor, divisor: float | Tensor, *, inplace: bool = False) -> Tensor:
    r"""`x / divisor` for a positive number or 0-d tensor (a bias correction); while
    compiling, `x` times the reciprocal, formed once per tensor by `_ratio`.

    Compiled, a divisor that depends on the step is a 0-d tensor, and `x / divisor`
    stays a division of every coordinate. On one CPU core a vector division costs several
    products: Adam's compiled step spent about 7 % of its time on this one (12 M floats,
    one process alternating the two forms for nine rounds). A product by the reciprocal
    rounds differently in the last bit, well inside the compiled step's tolerance against
    eager; eager divides, as torch does, bitwise.
    """
    if not torch.compiler.is_compiling():
        return x.div_(divisor) if inplace else x / divisor
    reciprocal = _ratio(1.0, divisor)
    return x.mul_(reciprocal) if inplace else x * reciprocal


def _check_lr(lr: float | Tensor, foreach: bool | None = None) -> None:
    """`lr` is a number or a 1-element tensor, and not negative; torch's words in brackets."""
    if isinstance(lr, Tensor):
        if foreach:
            raise ValueError(
                "lr as a Tensor is not supported for capturable=False and foreach=True"
            )
        if lr.numel() != 1:
            raise ValueError(
                f"lr must be a number or a 1-element tensor, got shape {tuple(lr.shape)} "
                "(Tensor lr must be 1-element)"
            )
    if not 0.0 <= lr:
        raise ValueError(f"lr must be >= 0, got {lr} (Invalid learning rate: {lr})")


def _check_nonnegative(name: str, value: float, torch_words: str) -> None:
    """`value >= 0` (which also refuses NaN), else a message naming `name` first."""
    if not 0.0 <= value:
        raise ValueError(f"{name} must be >= 0, got {value} ({torch_words}: {value})")


def _check_betas(
    betas: tuple[float | Tensor, float | Tensor], foreach: bool | None = None
) -> tuple[float | Tensor, float | Tensor]:
    """Two numbers in [0, 1), or two 1-element tensors, which are kept as tensors (0-d).

    A tensor beta stays a tensor, as in torch, because the moments are then updated with
    tensor arithmetic, which rounds differently from the same update with a number.
    """
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        if isinstance(beta, Tensor):
            if foreach:
                raise ValueError(
                    f"betas[{i}] as a Tensor is not supported for capturable=False and "
                    "foreach=True"
                )
            if beta.numel() != 1:
                raise ValueError(
                    f"betas[{i}] must be a number or a 1-element tensor, got shape "
                    f"{tuple(beta.shape)} (Tensor betas[{i}] must be 1-element)"
                )
        if not 0.0 <= beta < 1.0:
            raise ValueError(
                f"betas[{i}] must be in [0, 1), got {beta} "
                f"(Invalid beta parameter at index {i}: {beta})"
            )
    if isinstance(betas[0], Tensor) != isinstance(betas[1], Tensor):
        raise ValueError("betas must be either both floats or both Tensors, got "
                         f"{type(betas[0]).__name__} and {type(betas[1]).__name__}")
    return _scalar(betas[0]), _scalar(betas[1])


def _check_paths(
    *,
    foreach: bool | None = None,
    fused: bool | None = None,
    capturable: bool = False,
    differentiable: bool = False,
) -> None:
    """Refuse the switches of torch's other code paths: this file is the for-loop path.

    Their "off" values are accepted, so code written for torch runs unchanged; an "on"
    value fails here rather than being silently ignored.
    """
    for name, value, off in (("foreach", foreach, "None or False"),
                             ("fused", fused, "None or False"),
                             ("capturable", capturable, "False"),
                             ("differentiable", differentiable, "False")):
        if value:
            raise ValueError(
                f"{name}=True is not supported: this file runs torch's single-tensor "
                f"(for-loop) path; pass {name}={off}"
            )


def _check_sparse(name: str, params: Iterable[Tensor], why: str = "") -> None:
    """Refuse a sparse gradient anywhere in the group before any parameter moves.

    torch checks the whole group first too, so a step that fails changes nothing.
    """
    if any(p.grad is not None and p.grad.is_sparse for p in params):
        raise RuntimeError(f"{name} does not support sparse gradients{why}")


def _float(x: float | Tensor) -> float:
    """A 1-element tensor hyper-parameter read as a Python number, a number as it is.

    For the chapters whose reference package computes with numbers: using the tensor
    itself (as `_scalar` does for torch's optimizers) would round differently from it.
    """
    return x.item() if isinstance(x, Tensor) else x


def _check_schedule_free_arguments(
    lr: float | Tensor,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
    warmup_steps: int,
    r: float,
    weight_lr_power: float,
    *,
    foreach: bool | None,
) -> tuple[float, float]:
    """Refuse bad hyper-parameters, each message starting with its name; return the betas
    as numbers."""
    _check_lr(lr)
    _check_nonnegative("eps", eps, "Invalid epsilon value")
    _check_nonnegative("weight_decay", weight_decay, "Invalid weight_decay value")
    if not (isinstance(warmup_steps, int) and warmup_steps >= 0):
        raise ValueError(f"warmup_steps must be an int >= 0, got {warmup_steps!r}")
    _check_nonnegative("r", r, "Invalid r value")
    _check_nonnegative("weight_lr_power", weight_lr_power, "Invalid weight_lr_power value")
    beta1, beta2 = _check_betas(betas)
    _check_paths(foreach=foreach)
    return _float(beta1), _float(beta2)


def _check_implicit_x(implicit_x: Any, beta1: float) -> None:
    r"""`implicit_x` is a bool, and needs $\beta_1 > 0$: `eval()` recovers $x$ dividing by it."""
    if not isinstance(implicit_x, bool):
        raise TypeError(f"implicit_x must be a bool, got {implicit_x!r}")
    if implicit_x and not beta1 > 0:
        raise ValueError(
            f"implicit_x=True needs betas[0] > 0, got {beta1!r}: eval() recovers "
            "x = (y - (1 - beta1) z) / beta1; keep x stored (implicit_x=False) for beta1 = 0"
        )


def _check_layout(name: str, group: dict[str, Any], state: Any) -> None:
    """Every parameter's state is in the group's layout (x and y stored, or not)."""
    for i, p in enumerate(group["params"]):
        keys = state[p].keys() if p in state else ()
        if "z" in keys and ("x" in keys) == group["implicit_x"]:
            raise ValueError(
                f"{name}: the group has implicit_x={group['implicit_x']}, but the state of "
                f"its parameter {i} has the keys {sorted(keys)}; the layout is chosen when "
                "the state is created: build the optimizer with the other implicit_x"
            )


_COUNTERS = ("k", "weight_sum", "lr_max", "scheduled_lr")


def _counters_as_tensors(group: dict[str, Any]) -> None:
    """The group's counters as 1-element float64 CPU tensors, each group its own.

    float64 holds the reference's double-precision numbers exactly, so eager steps stay
    bitwise equal to it, and a tensor updated in place is read afresh by a compiled step.
    One element, not 0-d: torch 2.13's `torch.compile` silently drops the in-place update
    of a 0-d float64 CPU tensor that is an input of the graph (and the graph's other
    updates with it).
    """
    for key in _COUNTERS:
        value = group[key]
        if not (isinstance(value, Tensor) and value.shape == (1,)
                and value.dtype == torch.float64):
            group[key] = torch.tensor([float(value)], dtype=torch.float64)


def _counters_as_numbers(group: dict[str, Any]) -> None:
    """The counters of a packed group as the reference keeps them: `k` an int, the rest
    floats."""
    for key in _COUNTERS:
        if isinstance(group[key], Tensor):
            value = group[key].item()
            group[key] = int(value) if key == "k" else value


def _where(condition: bool | Tensor, a: float | Tensor, b: float | Tensor) -> float | Tensor:
    """`a if condition else b`; `torch.where` when the condition is a tensor (under
    `torch.compile`, where a Python branch on a tensor would break the graph)."""
    if isinstance(condition, Tensor):
        return torch.where(condition, a, b)
    return a if condition else b


def _add_scaled(x: Tensor, y: Tensor, alpha: float | Tensor) -> Tensor:
    """`x += alpha * y` in place: `add_(y, alpha=alpha)` for a number (one rounding, as the
    reference), `add_(y * alpha)` for a tensor (under `torch.compile`, where `alpha=`
    must be a number)."""
    if isinstance(alpha, Tensor):
        return x.add_(y * alpha)
    return x.add_(y, alpha=alpha)


def _maximum(a: float | Tensor, b: float | Tensor) -> float | Tensor:
    """`max(a, b)` for numbers, `torch.maximum` for tensors (under `torch.compile`)."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return torch.maximum(torch.as_tensor(a), torch.as_tensor(b))
    return max(a, b)


def main(argv: list[str] | None = None) -> None:
    """Draw the anytime comparison and the cost of forgetting `eval()`."""
    import argparse

    parser = argparse.ArgumentParser(description="Draw the Schedule-Free AdamW figure.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE (PNG)")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = anytime_curves()
    steps = range(1, len(next(iter(curves.values()))) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {
        "AdamW, constant": dict(color="gray"),
        "AdamW, linear decay to 100": dict(color="tab:orange"),
        "AdamW, linear decay to 400": dict(color="tab:red"),
        "Schedule-Free AdamW (x, after eval())": dict(color="tab:blue", lw=2),
    }
    for name, style in styles.items():
        left.semilogy(steps, curves[name], label=name, **style)
    for plan in (100, 400):
        left.axvline(plan, color="k", lw=0.6, ls=":")
    left.set_xlabel("step")
    left.set_ylabel("excess loss")
    left.set_title("noisy least squares, peak lr 0.1")
    left.legend(fontsize=8)
    right.semilogy(steps, curves["Schedule-Free AdamW (x, after eval())"], color="tab:blue",
                   lw=2, label="x: after opt.eval()")
    right.semilogy(steps, curves["Schedule-Free AdamW (y, eval() forgotten)"], color="tab:cyan",
                   label="y: eval() forgotten")
    right.set_xlabel("step")
    right.set_title("the same run, evaluated at x and at y")
    right.legend(fontsize=8)
    fig.tight_layout()
    if args.save:
        fig.savefig(args.save, dpi=110)
    else:
        plt.show()


if __name__ == "__main__":
    main()
