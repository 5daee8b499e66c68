r"""
---
title: Adamax
summary: Adam's second moment taken to the infinity norm, and why it needs no bias correction.
group: Optimizers
order: 44
---

# Adamax

[Adam](adam.md) divides the averaged gradient by the root of an average of squared
gradients: an $L^2$ norm of the recent gradients. Kingma & Ba (2015,
[§7.1](https://ar5iv.labs.arxiv.org/html/1412.6980#S7.SS1)) ask what happens
with an $L^p$ norm instead, and find that the limit $p \to \infty$ is both simple and
stable: a decaying running maximum of $|g_t|$. That is Adamax.

**Sharding.** Safe under sharding (DDP, `ZeroRedundancyOptimizer`, FSDP2): the update is
elementwise (the infinity norm is a running maximum per coordinate, not a norm over the
tensor), so each rank steps its own shard of the parameter and state exactly as one
process would, bit for bit (tested with two processes).

## From the $L^2$ norm to the $L^p$ norm

Write Adam's second moment for a general power $p$, with the decay rate raised to the same
power so that the limit below exists:

$$
\begin{aligned}
v_t &= \beta_2^{\,p}\, v_{t-1} + (1 - \beta_2^{\,p})\, |g_t|^p\\
&= (1 - \beta_2^{\,p}) \sum_{i=1}^{t} \beta_2^{\,p(t-i)}\, |g_i|^p ,
\end{aligned}
$$

and step by $m_t / v_t^{1/p}$. For $p = 2$ this is Adam's $v_t$ with $\beta_2^2$ in place of
$\beta_2$. Large $p$ is usually unstable, since $|g|^p$ overflows or underflows, but the
limit is not.

## The limit $p \to \infty$

Take the $p$-th root and pull the constant out of the sum:

$$
v_t^{1/p} = (1 - \beta_2^{\,p})^{1/p}
\left(\sum_{i=1}^{t} \left(\beta_2^{\,t-i} |g_i|\right)^p\right)^{1/p} .
$$

The bracket is the $p$-norm of the vector $x_i = \beta_2^{t-i}|g_i|$, $i = 1, \dots, t$.
With $M = \max_i x_i$, every term is at most $M^p$ and one term equals it, so

$$
M \le \Big(\sum_{i=1}^{t} x_i^p\Big)^{1/p} \le t^{1/p} M ,
$$

and both sides tend to $M$ because $t^{1/p} \to 1$. The prefactor tends to $1$ as well
($\beta_2^p \to 0$). Hence

$$
\begin{aligned}
n_t &\equiv \lim_{p \to \infty} v_t^{1/p}\\
&= \max\left(\beta_2^{\,t-1}|g_1|,\ \beta_2^{\,t-2}|g_2|,\ \dots,\ |g_t|\right)\\
&= \max\left(\beta_2\, n_{t-1},\ |g_t|\right), \quad n_0 = 0 ,
\end{aligned}
$$

the last form because every candidate from before step $t$ has been multiplied by one more
$\beta_2$. We write $n_t$ (a norm) for the paper's $u_t$, torch's `exp_inf`, since $u_t$ is
[LAMB](lamb.md)'s update on this site. The same two bounds give the rate: for finite $p$,
$(1 - \beta_2^p)^{1/p} \le v_t^{1/p} / n_t \le ((1 - \beta_2^p)\, t)^{1/p}$. The tests compute
$v_t^{1/p}$ in log space for $p$ up to $10^4$ and check both the bounds and the limit.

![Left: the p-norm average of one gradient sequence for growing p, approaching Adamax's
running maximum n_t; right: the ratio to n_t at the last step against p, between the two
bounds](adamax.png)

## Why $n_t$ needs no bias correction

Adam corrects $v_t$ because it started at $0$: the weight $\beta_2^t$ that the zero start
still carries is missing from the average, and dividing by $1 - \beta_2^t$ puts it back.
In the $L^p$ form the same correction divides $v_t$ by $1 - \beta_2^{pt}$, that is
$v_t^{1/p}$ by $(1 - \beta_2^{pt})^{1/p}$, which tends to $1$ as $p \to \infty$ for every
$t \ge 1$: the correction disappears in the limit. The reason is visible in the max form.
An average is pulled towards its zero start; a maximum is not, since $n_0 = 0$ can never be
the largest candidate once one $|g_i|$ is positive. At the first step $n_1 = |g_1|$ exactly,
where Adam's raw $\sqrt{v_1} = \sqrt{1 - \beta_2}\,|g_1|$ is $32$ times too small for
$\beta_2 = 0.999$. Only the first moment is corrected:

$$
\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t,\\
\theta_t &= \theta_{t-1} - \frac{\eta}{1 - \beta_1^t}\, \frac{m_t}{n_t} .
\end{aligned}
$$

torch adds $\epsilon$ inside the maximum, $n_t = \max(\beta_2 n_{t-1}, |g_t| + \epsilon)$, so
$n_t \ge \epsilon$ and the division is safe even for a zero gradient.

## How large is a step?

The paper says $|\Delta_t| \le \eta$ (the paper's $\alpha$). The first step is exactly $\eta$
per coordinate ($m_1/(1 - \beta_1) = g_1$ and $n_1 = |g_1|$). In general,
$n_t \ge \beta_2^{k} |g_{t-k}|$ for every $k$, so $|g_{t-k}| \le n_t\, \beta_2^{-k}$ and
(with $\epsilon = 0$)

$$
\frac{|\Delta_t|}{\eta} \le \frac{1 - \beta_1}{1 - \beta_1^t} \sum_{k=0}^{t-1}
\left(\frac{\beta_1}{\beta_2}\right)^k
\;\xrightarrow{t \to \infty}\; \frac{1 - \beta_1}{1 - \beta_1/\beta_2} ,
$$

attained when every candidate of the maximum is equal, $|g_{t-k}| = \beta_2^{-k} c$: gradients
that shrink by the factor $\beta_2$ per step and keep their sign. For the defaults the limit is
$1.0091$, so the paper's bound is off by under 1 %, a far smaller gap than Adam's (see
[Adam](adam.md)); it holds exactly when $\beta_1 = 0$. The tests run the optimizer on this
sequence.

## Weight decay

`weight_decay` $\lambda$ adds $\lambda\theta_{t-1}$ to the gradient (an L2 penalty) before
both the average and the maximum, as torch does; torch's Adamax has no decoupled form.

## References

- Diederik P. Kingma and Jimmy Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015.
  [arXiv:1412.6980](https://arxiv.org/abs/1412.6980) (AdaMax is its
  [section 7.1](https://ar5iv.labs.arxiv.org/html/1412.6980#S7.SS1))
- torch's
  [`torch.optim.Adamax`](https://docs.pytorch.org/docs/stable/generated/torch.optim.Adamax.html),
  the implementation this chapter is tested against
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


def _adamax_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    *,
    lr: float | Tensor,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    maximize: bool,
) -> None:
    r"""One Adamax step on one tensor, in torch's order of operations (bitwise in float32)."""
    exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
    # Maximizing $f$ is minimizing $-f$.
    if maximize:
        grad = -grad
    state["step"] += 1
    # L2 weight decay: $g_t + \lambda\theta_{t-1}$, on the complex tensor as torch does.
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)
    # A complex parameter is two real ones, each with its own running maximum.
    if torch.is_complex(param):
        param, grad = torch.view_as_real(param), torch.view_as_real(grad)
        exp_avg, exp_inf = torch.view_as_real(exp_avg), torch.view_as_real(exp_inf)

    # $m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t$
    exp_avg.lerp_(grad, 1 - beta1)
    # $n_t = \max(\beta_2 n_{t-1}, |g_t| + \epsilon)$: no bias correction.
    torch.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps), out=exp_inf)
    # $\theta_t = \theta_{t-1} - \frac{\eta}{1 - \beta_1^t} \frac{m_t}{n_t}$; the step is
    # a number in eager mode and stays a tensor while compiling.
    step_size = lr / (1 - _power(beta1, _get_value(state["step"])))
    param.addcdiv_(exp_avg, exp_inf, value=-step_size)


class Adamax(Optimizer):
    r"""Adamax, a drop-in replacement for `torch.optim.Adamax`.

    Same signature (including `foreach` before the `*`, as torch has it), defaults,
    parameter-group keys and state keys (`step`, `exp_avg`, `exp_inf`), so a state dict
    moves between the two in both directions.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        betas = _check_adam_arguments(
            lr, betas, eps, weight_decay, foreach=foreach, capturable=capturable,
            differentiable=differentiable,
        )
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
            maximize=maximize, differentiable=differentiable, capturable=capturable,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Fill in keys that older state dicts lack, and make a plain-number `step` a tensor."""
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
            for p in group["params"]:
                _step_as_tensor(self.state.get(p, {}))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one Adamax step for each parameter with a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        # Refuse a sparse gradient in any group before touching any parameter or state.
        _check_sparse(type(self).__name__, [p for group in self.param_groups
                                            for p in group["params"] if p.grad is not None])
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            beta1, beta2 = (_scalar(b) for b in group["betas"])
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0, dtype=_step_dtype())
                    state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                    state["exp_inf"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                _adamax_update(
                    param, param.grad, state, lr=lr, beta1=beta1, beta2=beta2,
                    eps=group["eps"], weight_decay=group["weight_decay"],
                    maximize=group["maximize"],
                )
        return loss


#
def p_norm_average(grads: list[float], beta2: float, p: float) -> float:
    r"""$v_t^{1/p}$ of the $L^p$ generalisation after the gradients `grads` (no correction).

    Computed in log space: $\frac1p \log\big((1-\beta_2^p) \sum_i e^{p(\log |g_i| +
    (t-i)\log\beta_2)}\big)$, so that $|g|^p$ neither overflows nor underflows for large $p$.
    """
    t = len(grads)
    logs = [p * (math.log(abs(g)) + (t - i) * math.log(beta2))
            for i, g in enumerate(grads, start=1) if g != 0]
    top = max(logs)
    log_sum = top + math.log(sum(math.exp(x - top) for x in logs))
    return math.exp((math.log1p(-(beta2**p)) + log_sum) / p)


def running_max(grads: list[float], beta2: float) -> float:
    r"""$n_t = \max(\beta_2 n_{t-1}, |g_t|)$ from $n_0 = 0$ (no $\epsilon$)."""
    u = 0.0
    for g in grads:
        u = max(beta2 * u, abs(g))
    return u


def step_bound(beta1: float, beta2: float, step: int) -> float:
    r"""The largest $|\Delta_t|/\eta$ at `step` ($\epsilon = 0$), attained by
    $|g_{t-k}| \propto \beta_2^{-k}$."""
    ratio = beta1 / beta2
    return (1 - beta1) / (1 - beta1**step) * sum(ratio**k for k in range(step))


# ## torch compatibility
#
# Small helpers that make this file behave like `torch.optim`: the step counter's dtype
# and how it is read, tensor hyper-parameters, argument checks with torch's wording, the
# switches for torch's other code paths, sparse gradients, and older state dicts. Every
# chapter that needs one holds the same copy, letter for letter (a test checks), so that
# each file still stands alone.
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


def _check_adam_arguments(
    lr: float | Tensor,
    betas: tuple[float | Tensor, float | Tensor],
    eps: float,
    weight_decay: float,
    *,
    foreach: bool | None,
    fused: bool | None = None,
    capturable: bool = False,
    differentiable: bool = False,
) -> tuple[float | Tensor, float | Tensor]:
    """torch's checks for the Adam family, in torch's order; returns the betas."""
    _check_lr(lr, foreach)
    _check_nonnegative("eps", eps, "Invalid epsilon value")
    betas = _check_betas(betas, foreach)
    _check_nonnegative("weight_decay", weight_decay, "Invalid weight_decay value")
    _check_paths(foreach=foreach, fused=fused, capturable=capturable,
                 differentiable=differentiable)
    return betas


def main(argv: list[str] | None = None) -> None:
    """Draw the p-norm averages approaching the running maximum, and the rate in p."""
    import argparse

    parser = argparse.ArgumentParser(description="Draw the Adamax chapter's figure.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE (PNG)")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    beta2, steps = 0.99, 150
    gen = torch.Generator().manual_seed(0)
    grads = torch.randn(steps, generator=gen, dtype=torch.float64)
    grads[40] = 6.0  # a spike, to show the maximum decaying by beta2 per step
    grads = grads.tolist()
    ts = range(1, steps + 1)

    # n_t read from the optimizer's own state (eps = 0).
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = Adamax([p], betas=(0.9, beta2), eps=0.0)
    u = []
    for g in grads:
        p.grad = torch.tensor([g], dtype=torch.float64)
        opt.step()
        u.append(opt.state[p]["exp_inf"].item())

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(ts, u, color="lightgray", lw=5, label=r"$n_t$ (Adamax state)")
    for power in (2, 8, 32, 128):
        left.plot(ts, [p_norm_average(grads[:t], beta2, power) for t in ts], lw=1,
                  label=f"$p$ = {power}")
    left.set_xlabel("step $t$")
    left.set_ylabel(r"$v_t^{1/p}$")
    left.set_title(rf"$L^p$ averages of one gradient sequence, $\beta_2$ = {beta2}")
    left.legend()

    powers = [2.0**k for k in range(0, 15)]
    ratio = [p_norm_average(grads, beta2, q) / u[-1] for q in powers]
    low = [(1 - beta2**q) ** (1 / q) for q in powers]
    high = [((1 - beta2**q) * steps) ** (1 / q) for q in powers]
    right.semilogx(powers, ratio, "o-", label=r"$v_t^{1/p} / n_t$ at $t$ = 150")
    right.semilogx(powers, low, "k:", label=r"$(1-\beta_2^p)^{1/p}$")
    right.semilogx(powers, high, "k--", label=r"$((1-\beta_2^p)\,t)^{1/p}$")
    right.axhline(1.0, color="gray", lw=0.8)
    right.set_ylim(0, 2.5)
    right.set_xlabel("$p$")
    right.set_title(r"convergence to the $\infty$-norm")
    right.legend()
    fig.tight_layout()
    if args.save:
        fig.savefig(args.save, dpi=110)
    else:
        plt.show()


if __name__ == "__main__":
    main()
