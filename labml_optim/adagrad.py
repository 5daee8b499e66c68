r"""
---
title: Adagrad
summary: A learning rate per coordinate from accumulated squared gradients; torch.optim.Adagrad.
group: Optimizers
order: 20
---

# Adagrad

[Gradient descent](sgd.md) moves every coordinate with the same learning rate $\eta$.
That is a poor fit when coordinates see gradients of very different sizes or
frequencies: a word embedding used once in ten thousand batches gets a gradient rarely,
and each time it deserves a large step; a bias that gets a gradient every batch deserves
a small one. Adagrad (Duchi, Hazan and Singer, 2011) gives each coordinate its own step,
scaled down by the gradients that coordinate has already seen. The class below is a
drop-in replacement for `torch.optim.Adagrad`, sparse gradients included, bitwise equal
to torch's for-loop implementation.

**Sharding.** Safe under sharding (DDP, `ZeroRedundancyOptimizer`, FSDP2): the update is
elementwise, so each rank steps its own shard of the parameter and state exactly as one
process would, bit for bit (tested with two processes).

## The algorithm

With all operations per coordinate, the accumulator $G$ sums squared gradients and the
step divides by its square root:

$$
\begin{aligned}
G_t &= G_{t-1} + g_t^2, \\
G_0 &= \texttt{initial\_accumulator\_value}, \\
\eta_t &= \frac{\eta}{1 + (t - 1)\,\delta}, \\
\theta_t &= \theta_{t-1} - \eta_t \, \frac{g_t}{\sqrt{G_t} + \epsilon} .
\end{aligned}
$$

$\delta$ is `lr_decay` (zero by default) and $\epsilon$ (`eps`, $10^{-10}$) only keeps the
division defined for a coordinate that has seen nothing but zero gradients (then the
numerator is zero as well).

## Where the square root comes from

[Gradient descent](sgd.md) is the step that minimises the linear model plus a penalty
$\frac{1}{2\eta}\lVert\Delta\rVert^2$. Give each coordinate its own penalty weight,
$\frac{1}{2\eta} \sum_i s_i \Delta_i^2$; minimising $g^\top\Delta$ plus it gives
$\Delta_i = -\eta \, g_i / s_i$. Which $s$? Duchi et al. choose it to make the sum of
the squared step lengths, measured in the geometry of $s$, as small as possible in
hindsight, for a fixed budget on $s$:

$$
\begin{aligned}
&\min_{s > 0} \; \sum_{t} \sum_i \frac{g_{t,i}^2}{s_i}
= \sum_i \frac{G_i}{s_i}\\
&\text{subject to} \qquad \sum_i s_i = c .
\end{aligned}
$$

(This term is what their regret bound for online convex optimisation depends on.) With a
Lagrange multiplier $\ell$, the derivative in $s_i$ is $-G_i / s_i^2 + \ell = 0$, so

$$
s_i = \sqrt{G_i / \ell} \;\propto\; \sqrt{G_i} :
$$

the best per-coordinate scale is the root of the accumulated squared gradient. Adagrad
uses the accumulator up to the current step, so the scale grows as gradients arrive.

## What the scaling buys

**Invariance to the gradient's scale.** Multiply one coordinate's gradients by $c > 0$:
with $G_0 = 0$ and $\epsilon = 0$, $\sqrt{G_t}$ is multiplied by $c$ at every step and the
step $\eta_t\, g_t/\sqrt{G_t}$ does not change at all (a negative $c$ flips its sign).
With $G_0 > 0$ or $\epsilon > 0$ the invariance holds only for gradients large against
$\sqrt{G_0}$ and $\epsilon$.

**Not to the feature's scale.** Multiplying the gradient is not the same as multiplying a
*feature*. Let a weight $w$ act on a feature scaled by $c > 0$, so that the loss depends on
$w$ only through $u = c\,w$; the weight that fits is $1/c$ times the old one. By the chain
rule $\partial f/\partial w = c\,\partial f/\partial u$: the gradient is scaled by $c$, and
Adagrad's step in $w$ is the same as without the scaling. But a step $\Delta w$ moves the
model by $\Delta u = c\,\Delta w$, so in the model's own coordinate $u$ Adagrad on the scaled
feature *is* Adagrad on the original feature with learning rate $c\,\eta$. Plain gradient
descent fares worse: $\Delta u = c\,\Delta w = -c^2 \eta\,\partial f/\partial u$, a learning
rate $c^2\eta$. Adagrad cuts the mismatch from $c^2$ to $c$; a badly scaled feature still
wants a learning rate $1/c$ times the others' (or a rescaled input).

**The first step is a sign step.** With $G_0 = 0$, $\sqrt{G_1} = |g_1|$, so the first
step is $-\eta\,\mathrm{sign}(g_1)$ (up to $\epsilon$): every coordinate moves by $\eta$,
however small its gradient. `initial_accumulator_value` tempers that: the first step is
then $-\eta g_1 / \sqrt{G_0 + g_1^2}$.

**Rare coordinates keep large steps.** A coordinate whose gradient is zero most of the
time has a small $G$, so when a gradient does come it takes a large step, which is
what the embedding example wanted.

## The effective learning rate decays like $1/\sqrt{t}$

Call $\eta / (\sqrt{G_t} + \epsilon)$ the effective learning rate of a coordinate. If its
gradients are stationary, with $\mathbb{E}[g^2] = \sigma^2$, the law of large numbers
gives $G_t / t \to \sigma^2$, so

$$
\frac{\eta}{\sqrt{G_t}} \approx \frac{\eta}{\sigma \sqrt{t}} .
$$

A coordinate that receives a gradient only with probability $p$ has
$\mathbb{E}[g^2] = p\,\sigma^2$ and a rate $\frac{1}{\sqrt p}$ times larger. For a
constant gradient the formula is exact: $G_t = t g^2$ and each step moves
$\eta / \sqrt{t}$, so after $T$ steps the parameter has travelled
$\eta \sum_{t \le T} t^{-1/2}$, which grows like $2\eta\sqrt{T}$. The decay is what
stochastic convex optimisation asks for (a $1/\sqrt{t}$ step gives the optimal
$O(1/\sqrt{T})$ average regret), but it never stops: on a non-convex or drifting problem
the steps shrink even when the gradients stay large, which is the problem
[RMSprop](rmsprop.md) addresses.

`lr_decay` multiplies an extra $\frac{1}{1 + (t-1)\delta}$ on top, for a total decay of
about $t^{-3/2}$ once $t\delta \gg 1$. The first step uses $\eta$ itself.

![Effective learning rate per coordinate](adagrad.png)

## Sparse gradients

An embedding that looks up a few rows produces a sparse gradient (`sparse=True` in
`torch.nn.Embedding`). Adagrad then updates only the looked-up rows: their accumulator
grows and they move; every other row keeps both its accumulator and its value. The
gradient is coalesced first, summing the values of repeated indices, because the update
is not linear in $g$: $(g_a + g_b)^2 \ne g_a^2 + g_b^2$. Weight decay would make the
gradient dense, so it is refused with sparse gradients, as in torch.

## Weight decay, maximize and complex parameters

`weight_decay` $\lambda$ adds $\lambda\theta$ to the gradient before it is squared and
scaled, so the decay too is divided by $\sqrt{G}$. `maximize` negates the gradient. A
complex parameter is handled as its real view: its real and imaginary parts are two
coordinates, each with its own accumulator, and the accumulator starts at
$G_0 (1 + i)$.

## References

- John Duchi, Elad Hazan and Yoram Singer, *Adaptive Subgradient Methods for Online Learning
  and Stochastic Optimization*, JMLR 12, 2011.
  [jmlr.org](https://jmlr.org/papers/v12/duchi11a.html)
- torch's
  [`torch.optim.Adagrad`](https://docs.pytorch.org/docs/stable/generated/torch.optim.Adagrad.html),
  the implementation this chapter is tested against
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


def _adagrad_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    *,
    lr: float | Tensor,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    """One Adagrad step on one tensor, in torch's order of operations."""
    # The step counter is per parameter: a parameter without a gradient this
    # step does not advance its schedule.
    step_t = state["step"]
    step_t += 1
    step = _get_value(step_t)
    # Maximising $f$ is minimising $-f$.
    if maximize:
        grad = -grad
    # L2 penalty: $\lambda\theta$ joins the gradient before it is squared and
    # scaled.
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)
    # $\eta_t = \eta / (1 + (t-1)\delta)$, computed in Python floats as torch does.
    clr = _ratio(lr, 1 + (step - 1) * lr_decay)
    if grad.is_sparse:
        _sparse_update(param, grad, state["sum"], clr, eps)
        return
    acc = state["sum"]
    # A complex entry is two real coordinates: work on the real views.
    if param.is_complex():
        param, grad, acc = (torch.view_as_real(t) for t in (param, grad, acc))
    # $G_t = G_{t-1} + g_t^2$
    acc.addcmul_(grad, grad, value=1)
    # $\theta_t = \theta_{t-1} - \eta_t \, g_t / (\sqrt{G_t} + \epsilon)$
    denom = acc.sqrt().add_(eps)
    param.addcdiv_(grad, denom, value=-clr)


def _sparse_update(param: Tensor, grad: Tensor, acc: Tensor, clr: float | Tensor,
                   eps: float) -> None:
    r"""Adagrad on the rows a sparse gradient touches; other rows keep $G$ and $\theta$."""
    # Sum the values of repeated indices first: the update is not linear in $g$.
    grad = grad.coalesce()
    indices, values = grad._indices(), grad._values()

    def at_grad_rows(vals: Tensor) -> Tensor:
        return torch.sparse_coo_tensor(indices, vals, grad.size(), check_invariants=False)

    # $G \mathrel{+}= g^2$ on those rows only.
    acc.add_(at_grad_rows(values.pow(2)))
    # Read $G$ back on the same rows and take the scaled step there.
    denom = acc.sparse_mask(grad)._values().sqrt_().add_(eps)
    param.add_(at_grad_rows(values / denom), alpha=-clr)


class Adagrad(Optimizer):
    r"""Adagrad, with torch's arguments, defaults and state (`step`, `sum`).

    `lr` $\eta$, `lr_decay` $\delta$, `weight_decay` $\lambda$ (an L2 penalty added to the
    gradient), `initial_accumulator_value` $G_0$, `eps` $\epsilon$, keyword-only
    `maximize`. `foreach`, `differentiable` and `fused` exist for compatibility and accept
    only their "off" values: this file is the single-tensor path.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        # A bad argument fails here, with its name first, rather than as a NaN later.
        _check_lr(lr, foreach)
        _check_nonnegative("lr_decay", lr_decay, "Invalid lr_decay value")
        _check_nonnegative("weight_decay", weight_decay, "Invalid weight_decay value")
        _check_nonnegative("initial_accumulator_value", initial_accumulator_value,
                           "Invalid initial_accumulator_value value")
        _check_nonnegative("eps", eps, "Invalid epsilon value")
        _check_paths(foreach=foreach, differentiable=differentiable, fused=fused)
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)
        # torch creates the state of every parameter here, not at its first step, so
        # that `share_memory()` can place the accumulators in shared memory before
        # worker processes start (Hogwild training). We do the same, which also makes
        # the state dicts identical before any step.
        for group in self.param_groups:
            for param in group["params"]:
                self._init_state(param)

    def _init_state(self, param: Tensor) -> None:
        # Like torch, the starting value is the constructor's `initial_accumulator_value`
        # for every group: a per-group value is stored in the group but not used here.
        g0 = self.defaults["initial_accumulator_value"]
        state = self.state[param]
        state["step"] = torch.tensor(0.0, dtype=_step_dtype())
        # A complex parameter is two real coordinates per entry, each starting at $G_0$.
        fill = complex(g0, g0) if param.is_complex() else g0
        state["sum"] = torch.full_like(param, fill, memory_format=torch.preserve_format)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Groups from older state dicts may lack the newer keys; fill torch's defaults.
        # Old checkpoints also kept `step` as a number; make it a tensor again.
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
        for param_state in self.state.values():
            _step_as_tensor(param_state)

    def share_memory(self) -> None:
        """Move the accumulators to shared memory, for Hogwild-style multiprocessing."""
        for group in self.param_groups:
            for param in group["params"]:
                self.state[param]["sum"].share_memory_()

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step for every parameter that has a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            # The closure recomputes the loss and its gradients, so it needs autograd on.
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            # Hyper-parameters are read once per group, not once per tensor.
            lr, lr_decay, eps = _scalar(group["lr"]), group["lr_decay"], group["eps"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            params = [p for p in group["params"] if p.grad is not None]
            # The L2 term would make a sparse gradient dense: refuse it before any tensor
            # of the group moves.
            if weight_decay != 0:
                _check_sparse("Adagrad", params,
                              " with weight_decay (it would make the gradient dense)")
            for param in params:
                state = self.state[param]
                # A parameter added with `add_param_group` gets its state lazily.
                if len(state) == 0:
                    self._init_state(param)
                _adagrad_update(param, param.grad, state, lr=lr, lr_decay=lr_decay,
                                weight_decay=weight_decay, eps=eps, maximize=maximize)
        return loss


# ## torch compatibility
#
# Small helpers that make this file behave like `torch.optim`: the step counter's dtype
# and how it is read, tensor hyper-parameters, argument checks with torch's wording, the
# switches for torch's other code paths, sparse gradients, and older state dicts. Every
# chapter that needs one holds the same copy, letter for letter (a test checks), so that
# each file still stands alone.
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


def _step_dtype() -> torch.dtype:
    """torch keeps `step` in float64 when that is the default dtype, else in float32."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


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


def _step_as_tensor(state: dict[str, Any]) -> None:
    """A `step` saved as a plain number (older torch, other libraries) becomes a tensor."""
    if "step" in state and not torch.is_tensor(state["step"]):
        state["step"] = torch.tensor(float(state["step"]), dtype=_step_dtype())


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


# ## The figure
#
# Three coordinates trained side by side on stationary random gradients: a dense one
# with $\sigma = 1$, a dense one with $\sigma = 0.01$, and a rare one that gets a
# gradient of $\sigma = 1$ only 5% of the time. The left panel shows each coordinate's
# effective learning rate $\eta / (\sqrt{G_t} + \epsilon)$ against the prediction
# $\eta / \sqrt{t\,\mathbb{E}[g^2]}$; the right panel shows the extra decay `lr_decay`
# adds for the first coordinate.
def main(argv: list[str] | None = None) -> None:
    """Plot Adagrad's effective learning rate per coordinate over the steps."""
    import argparse

    parser = argparse.ArgumentParser(description="Draw the Adagrad chapter's figure.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, lr = 3000, 0.1
    gen = torch.Generator().manual_seed(0)
    sigma = torch.tensor([1.0, 0.01, 1.0], dtype=torch.float64)
    prob = torch.tensor([1.0, 1.0, 0.05], dtype=torch.float64)
    noise = torch.randn(steps, 3, generator=gen, dtype=torch.float64) * sigma
    mask = torch.rand(steps, 3, generator=gen, dtype=torch.float64) < prob
    grads = noise * mask

    def effective_lr(lr_decay: float) -> Tensor:
        theta = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        opt = Adagrad([theta], lr=lr, lr_decay=lr_decay)
        out = torch.empty(steps, 3, dtype=torch.float64)
        for t in range(steps):
            theta.grad = grads[t].clone()
            opt.step()
            eta_t = lr / (1 + t * lr_decay)
            out[t] = eta_t / (opt.state[theta]["sum"].sqrt() + opt.defaults["eps"])
        return out

    t = torch.arange(1, steps + 1, dtype=torch.float64)
    fig, (ax_coord, ax_decay) = plt.subplots(1, 2, figsize=(12, 4.6))
    undecayed = effective_lr(0.0)
    names = ["dense, $\\sigma$ = 1", "dense, $\\sigma$ = 0.01", "rare (p = 0.05), $\\sigma$ = 1"]
    colors = ["tab:blue", "tab:green", "tab:red"]
    for i in range(3):
        ax_coord.loglog(t, undecayed[:, i], color=colors[i], label=names[i])
        predicted = lr / (sigma[i] * (prob[i] * t).sqrt())
        ax_coord.loglog(t, predicted, ":", color="k", lw=1)
    ax_coord.plot([], [], ":", color="k", lw=1, label="$\\eta / \\sqrt{t\\,E[g^2]}$")
    ax_coord.set(xlabel="step $t$", ylabel="effective lr  $\\eta_t / (\\sqrt{G_t} + \\epsilon)$",
                 title="Per-coordinate effective learning rate", ylim=(1e-4, 1e3))
    ax_coord.legend(fontsize=8)

    for lr_decay, color in ((0.0, "tab:blue"), (0.01, "tab:purple"), (0.1, "tab:orange")):
        eff = undecayed if lr_decay == 0 else effective_lr(lr_decay)
        ax_decay.loglog(t, eff[:, 0], color=color, label=f"lr_decay = {lr_decay:g}")
        ax_decay.loglog(t, lr / ((1 + (t - 1) * lr_decay) * t.sqrt()), ":", color="k", lw=1)
    ax_decay.loglog(t, 3 * lr * t**-1.5, "--", color="0.5", lw=1, label="slope $t^{-3/2}$")
    ax_decay.plot([], [], ":", color="k", lw=1,
                  label="$\\eta / ((1 + (t-1)\\delta)\\,\\sigma\\sqrt{t})$")
    ax_decay.set(xlabel="step $t$", ylabel="effective lr (dense, $\\sigma$ = 1)",
                 title="lr_decay adds a $1/t$ factor")
    ax_decay.legend(fontsize=8)
    fig.tight_layout()

    if args.save:
        fig.savefig(args.save, dpi=110)
    else:
        plt.show()


if __name__ == "__main__":
    main()
