r"""
---
title: NAdam
summary: Nesterov's look-ahead in Adam's first moment, torch's momentum schedule, and NAdamW.
group: Optimizers
order: 42
---

# NAdam

NAdam (Dozat, 2016) is [Adam](adam.md) with Nesterov momentum in place of the classical kind.
The change is one term of the update: where Adam's step uses the momentum built up *before*
the current gradient, NAdam uses the momentum that the *next* step will use. This page
derives that swap from Nesterov's method, then takes apart the two extras that torch (and
Keras before it) add: a momentum schedule $\mu_t$ and a bias correction by the product
$\prod_i \mu_i$. With `decoupled_weight_decay=True` the same class is NAdamW, the optimizer
of the MLCommons AlgoPerf prize-qualification baselines.

**Sharding.** Safe under sharding (DDP, `ZeroRedundancyOptimizer`, FSDP2): the update is
elementwise and the momentum schedule depends only on the step count, so each rank steps
its own shard of the parameter and state exactly as one process would, bit for bit (tested
with two processes).

## Nesterov momentum is a look-ahead

Classical momentum keeps a running sum $b_t$ of gradients and steps along it,

$$
b_t = \mu b_{t-1} + \nabla f(\theta_{t-1}), \qquad \theta_t = \theta_{t-1} - \eta b_t .
$$

Nesterov's method evaluates the gradient where momentum is about to carry the parameters,
at $\theta_{t-1} - \eta\mu b_{t-1}$, instead of at $\theta_{t-1}$:

$$
\begin{aligned}
b_t &= \mu b_{t-1} + \nabla f(\theta_{t-1} - \eta\mu b_{t-1}),\\
\theta_t &= \theta_{t-1} - \eta b_t .
\end{aligned}
$$

That needs the gradient at a point we do not store. Store the look-ahead point instead,
$\tilde\theta_t = \theta_t - \eta\mu b_t$, so that the gradient is taken at
$\tilde\theta_{t-1}$; call it $g_t = \nabla f(\tilde\theta_{t-1})$. Then

$$
\begin{aligned}
\tilde\theta_t &= \theta_t - \eta\mu b_t
       = \theta_{t-1} - \eta b_t - \eta\mu b_t \\
       &= \tilde\theta_{t-1} + \eta\mu b_{t-1} - \eta b_t - \eta\mu b_t \\
       &= \tilde\theta_{t-1} + \eta\mu b_{t-1} - \eta(\mu b_{t-1} + g_t) - \eta\mu b_t \\
       &= \tilde\theta_{t-1} - \eta\,(g_t + \mu b_t) .
\end{aligned}
$$

Compare the two updates written with the same buffer $b_t = \mu b_{t-1} + g_t$:

$$
\begin{aligned}
&\text{classical: } & \theta_t &= \theta_{t-1} - \eta\,(g_t + \mu b_{t-1}),\\
&\text{Nesterov: } & \tilde\theta_t &= \tilde\theta_{t-1} - \eta\,(g_t + \mu b_t) .
\end{aligned}
$$

Both add the current gradient and a momentum term; Nesterov's momentum term is the one the
*next* step will apply, $\mu b_t$, instead of the one this step already contains,
$\mu b_{t-1}$. This is torch's `SGD(nesterov=True)`, and the tests check that it runs
Nesterov's original two-point method exactly.

## Moving the look-ahead into Adam

Expand Adam's bias-corrected first moment the same way:

$$
\begin{aligned}
\hat m_t &= \frac{m_t}{1 - \beta_1^t}\\
&= \underbrace{\frac{\beta_1 m_{t-1}}{1 - \beta_1^t}}_{\text{momentum from before}}
+ \underbrace{\frac{(1 - \beta_1)\, g_t}{1 - \beta_1^t}}_{\text{current gradient}} .
\end{aligned}
$$

The first term is, up to the correction ($1 - \beta_1^{t-1}$ against $1 - \beta_1^t$),
$\beta_1 \hat m_{t-1}$: last step's momentum. Nesterov's swap replaces it with the momentum
the next step will use, $\beta_1 m_t$ corrected as step $t + 1$ will correct it:

$$
\begin{aligned}
\bar m_t &= \frac{\beta_1\, m_t}{1 - \beta_1^{t+1}} + \frac{(1 - \beta_1)\, g_t}{1 - \beta_1^t},\\
\theta_t &= \theta_{t-1} - \eta\,\frac{\bar m_t}{\sqrt{\hat v_t} + \epsilon} ,
\end{aligned}
$$

with $v_t$, $\hat v_t$ and $\epsilon$ exactly as in Adam. Unrolled, $\bar m_t$ is a weighted
sum of the gradients in which the current one weighs more than in Adam: $\beta_1(1-\beta_1)
/ (1 - \beta_1^{t+1}) + (1 - \beta_1)/(1 - \beta_1^t)$, about $0.19$ for $\beta_1 = 0.9$ late in
training, against Adam's $0.1$; late in training every older gradient weighs $\beta_1$ times its
weight in Adam.

## The momentum schedule $\mu_t$ and the product term

Dozat also lets the momentum coefficient grow during training, and torch follows Keras in
using his schedule, with $\nu$ the `momentum_decay` argument (default $0.004 = 1/250$; torch's
documentation calls it psi):

$$
\mu_t = \beta_1 \left(1 - \tfrac12\, 0.96^{\,t\nu}\right) .
$$

It starts at $\mu_1 = 0.4501$ for $\beta_1 = 0.9$, about half of $\beta_1$, and rises towards
$\beta_1$: it is halfway ($\mu_t = 0.75\,\beta_1$) when $0.96^{t\nu} = \tfrac12$, that is at
$t = \ln 2 / (\nu \ln(1/0.96)) \approx 4245$, and within 1 % of $\beta_1$ from
$t \approx 23958$. Note that `momentum_decay=0` does not switch the schedule off: it fixes
$\mu_t = \beta_1/2$ for good. A large `momentum_decay` gives the constant $\mu_t = \beta_1$.

With a coefficient that changes every step, the weight that an average
$a_t = \mu_t a_{t-1} + (1 - \mu_t) g_t$ started at $a_0 = 0$ has missed is a product: for a
constant gradient $g_t = 1$, $1 - a_t = \mu_t (1 - a_{t-1})$, so
$a_t = 1 - \prod_{i=1}^{t} \mu_i$. This is the bias correction torch uses, with the
$\beta_1^t$ of the constant case replaced by the product:

$$
\bar m_t = \frac{\mu_{t+1}\, m_t}{1 - \prod_{i=1}^{t+1} \mu_i}
         + \frac{(1 - \mu_t)\, g_t}{1 - \prod_{i=1}^{t} \mu_i} .
$$

The product is kept in the state as `mu_product` $= \prod_{i \le t} \mu_i$; the next factor
$\mu_{t+1}$ is recomputed each step.

## What the correction does not correct

torch, like Keras, still updates $m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t$ with the
constant $\beta_1$, whose missing weight is $\beta_1^t$, not $\prod \mu_i$. For a constant
gradient $g$, $m_t = (1 - \beta_1^t)\, g$ and the step is $\eta s_t$ (with
$\epsilon = 0$, $\hat v_t = g^2$) where

$$
s_t = \frac{\mu_{t+1}\,(1 - \beta_1^t)}{1 - \prod_{i=1}^{t+1}\mu_i}
    + \frac{1 - \mu_t}{1 - \prod_{i=1}^{t}\mu_i} ,
$$

which is $1$ for Adam at every step. With the defaults $s_1 = 1.056$, then $s_t$ dips to
$0.731$ at $t = 4$ and is back above $0.99$ from $t = 37$: the first steps after the first are
up to 27 % shorter than Adam's. Without the schedule (constant $\mu_t = \beta_1$) the first step
is $s_1 = 1 + \beta_1/(1 + \beta_1) = 1.474$ times Adam's. Late in training both give
$s_t \to \mu_{t+1} + 1 - \mu_t \approx 1$. The tests measure $s_t$ on the optimizer.

![Left: the momentum schedule mu_t for three values of nu. Right: the step on a constant
gradient, relative to Adam's, with torch's schedule and with a constant mu = beta1](nadam.png)

## Weight decay and NAdamW

`weight_decay` $\lambda$ adds $\lambda\theta_{t-1}$ to the gradient (an L2 penalty), so the
decay goes through both averages and through the $(1 - \mu_t) g_t$ term. With
`decoupled_weight_decay=True` the parameter is shrunk by $1 - \eta\lambda$ first and the
averages see only the loss gradient: this is NAdamW, as [AdamW](adamw.md) is to Adam. The
tests check that one NAdamW step equals one undecayed NAdam step from $(1 - \eta\lambda)\theta$.

## References

- Timothy Dozat, *Incorporating Nesterov Momentum into Adam*, ICLR 2016 Workshop.
  [OpenReview](https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ)
- torch's
  [`torch.optim.NAdam`](https://docs.pytorch.org/docs/stable/generated/torch.optim.NAdam.html),
  the implementation this chapter is tested against
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


def _nadam_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    *,
    lr: float | Tensor,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    momentum_decay: float,
    maximize: bool,
    decoupled_weight_decay: bool,
) -> None:
    r"""One NAdam step on one tensor, in torch's order of operations (bitwise in float32)."""
    exp_avg, exp_avg_sq, mu_product = state["exp_avg"], state["exp_avg_sq"], state["mu_product"]
    # Maximizing $f$ is minimizing $-f$.
    if maximize:
        grad = -grad
    # A complex parameter is two real ones. torch takes the real view before weight decay
    # here (Adam takes it after), so we do too.
    if torch.is_complex(param):
        param, grad = torch.view_as_real(param), torch.view_as_real(grad)
        exp_avg, exp_avg_sq = torch.view_as_real(exp_avg), torch.view_as_real(exp_avg_sq)

    # The step count is a tensor; in eager mode it is read as a Python number, while
    # compiling it stays a tensor so that the graph does not depend on its value.
    state["step"] += 1
    step = _get_value(state["step"])
    bias_correction2 = 1 - _power(beta2, step)

    # L2 decay enters the gradient; decoupled decay (NAdamW) shrinks the parameter.
    if weight_decay != 0:
        if decoupled_weight_decay:
            param.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(param, alpha=weight_decay)

    # $\mu_t = \beta_1(1 - \frac12 0.96^{t\nu})$ and the next step's $\mu_{t+1}$.
    mu = beta1 * (1.0 - 0.5 * _power(0.96, step * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * _power(0.96, (step + 1) * momentum_decay))
    # `mu_product` $= \prod_{i \le t} \mu_i$, kept in the state.
    mu_product *= mu

    # $m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t$, with the constant $\beta_1$.
    exp_avg.lerp_(grad, 1 - beta1)
    # $v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2$
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    # $\sqrt{\hat v_t} + \epsilon$ with $\hat v_t = v_t / (1 - \beta_2^t)$.
    denom = _divide(exp_avg_sq, bias_correction2).sqrt().add_(eps)

    # $\theta_t = \theta_{t-1} - \eta \bar m_t / (\sqrt{\hat v_t} + \epsilon)$ as two
    # terms: the current gradient with weight $(1 - \mu_t)/(1 - \prod_{i \le t}\mu_i)$ ...
    product = _get_value(mu_product)
    param.addcdiv_(grad, denom, value=-_ratio(lr * (1.0 - mu), 1.0 - product))
    # ... and the look-ahead momentum $\mu_{t+1} m_t / (1 - \prod_{i \le t+1}\mu_i)$.
    product_next = product * mu_next
    param.addcdiv_(exp_avg, denom, value=-_ratio(lr * mu_next, 1.0 - product_next))


class NAdam(Optimizer):
    r"""NAdam, a drop-in replacement for `torch.optim.NAdam`.

    Same signature, defaults, parameter-group keys and state keys (`step`, `mu_product`,
    `exp_avg`, `exp_avg_sq`), so a state dict moves between the two in both directions.
    `decoupled_weight_decay=True` is NAdamW.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        betas = _check_adam_arguments(
            lr, betas, eps, weight_decay, foreach=foreach, capturable=capturable,
            differentiable=differentiable,
        )
        _check_nonnegative("momentum_decay", momentum_decay, "Invalid momentum_decay value")
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
            momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Fill in keys that older state dicts lack; make plain-number scalars tensors."""
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            for p in group["params"]:
                p_state = self.state.get(p, {})
                _step_as_tensor(p_state)
                if "mu_product" in p_state and not torch.is_tensor(p_state["mu_product"]):
                    p_state["mu_product"] = torch.tensor(float(p_state["mu_product"]),
                                                         dtype=_step_dtype())

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one NAdam step for each parameter with a gradient; return the closure's loss."""
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
                    # `mu_product` is the empty product, 1, before the first step.
                    state["step"] = torch.tensor(0.0, dtype=_step_dtype())
                    state["mu_product"] = torch.tensor(1.0, dtype=_step_dtype())
                    state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(
                        param, memory_format=torch.preserve_format
                    )
                _nadam_update(
                    param, param.grad, state, lr=lr, beta1=beta1, beta2=beta2,
                    eps=group["eps"], weight_decay=group["weight_decay"],
                    momentum_decay=group["momentum_decay"], maximize=group["maximize"],
                    decoupled_weight_decay=group["decoupled_weight_decay"],
                )
        return loss


#
def momentum_schedule(t: float, beta1: float = 0.9, momentum_decay: float = 4e-3) -> float:
    r"""$\mu_t = \beta_1 (1 - \frac12\, 0.96^{t\nu})$."""
    return beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))


def constant_gradient_step(t: int, beta1: float = 0.9, momentum_decay: float = 4e-3) -> float:
    r"""$s_t$: NAdam's step on a constant gradient relative to Adam's ($\epsilon = 0$)."""
    product = 1.0
    for i in range(1, t + 1):
        product *= momentum_schedule(i, beta1, momentum_decay)
    mu, mu_next = momentum_schedule(t, beta1, momentum_decay), momentum_schedule(
        t + 1, beta1, momentum_decay
    )
    return mu_next * (1 - beta1**t) / (1 - product * mu_next) + (1 - mu) / (1 - product)


def gradient_weights(t: int, beta1: float = 0.9, momentum_decay: float = 4e-3) -> list[float]:
    r"""The weight of $g_t, g_{t-1}, \dots, g_1$ in $\bar m_t$ (most recent first)."""
    product = 1.0
    for i in range(1, t + 1):
        product *= momentum_schedule(i, beta1, momentum_decay)
    mu, mu_next = momentum_schedule(t, beta1, momentum_decay), momentum_schedule(
        t + 1, beta1, momentum_decay
    )
    on_m = mu_next / (1 - product * mu_next)
    weights = [on_m * (1 - beta1) * beta1**k for k in range(t)]
    weights[0] += (1 - mu) / (1 - product)
    return weights


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
    """Draw the momentum schedule and NAdam's step on a constant gradient."""
    import argparse

    parser = argparse.ArgumentParser(description="Draw the NAdam chapter's figure.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE (PNG)")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    beta1 = 0.9
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    ts = [round(10 ** (k / 20)) for k in range(0, 101)]
    for psi, style in ((4e-3, "-"), (4e-2, "--"), (0.0, ":")):
        left.semilogx(ts, [momentum_schedule(t, beta1, psi) for t in ts], style,
                      label=rf"$\nu$ = {psi:g}")
    left.axhline(beta1, color="gray", lw=0.8)
    left.axvline(4245, color="tab:blue", lw=0.8, alpha=0.5)
    left.set_xlabel("step $t$")
    left.set_ylabel(r"$\mu_t$")
    left.set_title(r"$\mu_t = \beta_1(1 - \frac{1}{2}0.96^{t\nu})$, $\beta_1 = 0.9$")
    left.legend(loc="upper left")

    # Measured on the optimizer itself: a constant gradient of 1, eps = 0, lr = 1, and the
    # parameter reset to 0 before each step so that the step is read without rounding.
    steps = list(range(1, 61))
    for psi, label in ((4e-3, r"torch default, $\nu$ = 0.004"),
                       (1e4, r"constant $\mu_t = \beta_1$")):
        p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = NAdam([p], lr=1.0, betas=(beta1, 0.999), eps=0.0, momentum_decay=psi)
        measured = []
        for _ in steps:
            p.detach().zero_()
            p.grad = torch.ones(1, dtype=torch.float64)
            opt.step()
            measured.append(-p.item())
        right.plot(steps, measured, "o-", ms=3, label=label)
    right.axhline(1.0, color="gray", ls="--", label="Adam")
    right.set_xlabel("step $t$")
    right.set_ylabel(r"step / ($\eta$ sign $g$)")
    right.set_title("step on a constant gradient")
    right.legend()
    fig.tight_layout()
    if args.save:
        fig.savefig(args.save, dpi=110)
    else:
        plt.show()


if __name__ == "__main__":
    main()
