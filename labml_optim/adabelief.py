r"""
---
title: AdaBelief
summary: Adam with the gradient's spread about its average in place of its square.
group: Optimizers
order: 90
---

# AdaBelief

[Adam](adam.md) divides the averaged gradient $m_t$ by the root of $v_t$, an average of
$g_t^2$. AdaBelief (Zhuang et al., "AdaBelief Optimizer: Adapting Stepsizes by the Belief
in Observed Gradients", NeurIPS 2020, arXiv 2010.07468) divides by the root of an average
of $(g_t - m_t)^2$ instead: how far each new gradient lands from the average that
predicted it. With gradient $g_t$, learning rate $\eta$ (as in [Adam](adam.md);
`lr`), $\beta_1, \beta_2 \in [0, 1)$, $\epsilon \ge 0$ and $m_0 = s_0 = 0$, and
without weight decay (its coefficient $\lambda$ enters with the reference's flags, below):

$$
\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t ,\\
s_t &= \beta_2 s_{t-1} + (1 - \beta_2)\,(g_t - m_t)^2 + \epsilon ,\\
\hat m_t &= \frac{m_t}{1 - \beta_1^t}, \qquad \hat s_t = \frac{s_t}{1 - \beta_2^t},\\
\theta_t &= \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat s_t} + \epsilon} .
\end{aligned}
$$

Read $m_t$ as a prediction of the next gradient. Where the gradients agree with it the
"belief" in the observed gradient is high, $s_t$ is small and the step is large; where
they scatter around it, $s_t$ is large and the step small. Adam's $v_t$ cannot tell the
two apart: a large gradient that never changes and a large gradient that is pure noise
give the same $v_t$. There is no new hyper-parameter and no new state tensor beyond
Adam's: the state is `exp_avg` ($m_t$) and `exp_avg_var` ($s_t$), the reference's names.

**Sharding.** Safe under sharding (DDP, `ZeroRedundancyOptimizer`, FSDP2): the update is
elementwise, so each rank steps its own shard of the parameter and state exactly as one
process would, bit for bit (tested with two processes).

## The $\epsilon$ inside the average

$\epsilon$ appears twice, and the first one sits *inside* the recursion for $s_t$, so it
accumulates. Unrolled from $s_0 = 0$,

$$
\begin{aligned}
s_t &= (1 - \beta_2) \sum_{i=1}^{t} \beta_2^{\,t-i} (g_i - m_i)^2
+ \epsilon \sum_{i=1}^{t} \beta_2^{\,t-i}\\
&= (1 - \beta_2) \sum_{i=1}^{t} \beta_2^{\,t-i} (g_i - m_i)^2
+ \epsilon\, \frac{1 - \beta_2^{\,t}}{1 - \beta_2} ,
\end{aligned}
$$

and the bias correction turns the second term into exactly $\epsilon / (1 - \beta_2)$ at
every step:

$$
\hat s_t = \frac{1 - \beta_2}{1 - \beta_2^{\,t}} \sum_{i=1}^{t} \beta_2^{\,t-i}(g_i - m_i)^2
  + \frac{\epsilon}{1 - \beta_2} .
$$

So the inner $\epsilon$ is a floor of $\sqrt{\epsilon / (1 - \beta_2)}$ under the
denominator: $3.2 \times 10^{-7}$ for the default $\epsilon = 10^{-16}$ with $\beta_2 =
0.999$, and $3.2 \times 10^{-3}$ for Adam's habitual $10^{-8}$. The second floor matters:
with $\epsilon = 10^{-8}$ every coordinate whose gradient scatters by less than about
$3 \times 10^{-3}$ gets the same denominator, and AdaBelief turns into SGD with momentum
there. That is why the reference's default is $10^{-16}$, with $10^{-8}$ advised only
where SGD is known to do better (image classification with CNNs). The outer $\epsilon$,
added after the square root, is then negligible. The tests check the floor against the
state after steps with zero gradients. (With $\beta_1 = 0$ the residual $g_t - m_t$ is
always $0$ and the floor is all that is left: AdaBelief becomes SGD with learning rate
$\eta / (\sqrt{\epsilon/(1 - \beta_2)} + \epsilon)$.)

The accumulation began as an oversight: the reference code adds $\epsilon$ to the state
in place (`add_`) where a temporary sum was meant. Its author has said so when asked, and
kept it; the second arXiv version of the paper writes it into the algorithm (issues 18,
23 and 61 of the authors' repository).

## Consistent and noisy gradients

Take i.i.d. gradients of mean $\mu$ and standard deviation $\sigma$, in the steady state
($t$ large, so the bias corrections are $1$ and $\epsilon$ negligible). The residual is

$$
\begin{aligned}
g_t - m_t &= g_t - \beta_1 m_{t-1} - (1 - \beta_1) g_t\\
&= \beta_1 (g_t - m_{t-1}) ,
\end{aligned}
$$

and $g_t$ is independent of $m_{t-1}$, whose mean is $\mu$ and whose variance is
$(1 - \beta_1)^2 \sum_k \beta_1^{2k} \sigma^2 = \frac{1 - \beta_1}{1 + \beta_1}\sigma^2$.
The residual has mean $0$ and

$$
\begin{aligned}
\mathbb{E}[(g_t - m_t)^2] &= \beta_1^2 \left( \sigma^2 + \frac{1 - \beta_1}{1 + \beta_1}
\sigma^2 \right)\\
&= \frac{2 \beta_1^2}{1 + \beta_1}\, \sigma^2 ,
\end{aligned}
$$

which $s_t$ (an average over $\approx 1/(1 - \beta_2) = 1000$ steps) tracks closely.
Adam's $v_t$ tracks $\mu^2 + \sigma^2$ instead. Both numerators are $m_t$, with
$\mathbb{E}[m_t^2] = \mu^2 + \frac{1 - \beta_1}{1 + \beta_1}\sigma^2$. Treating the slow
denominators as constants, the root mean square of a step per unit learning rate is

$$
\begin{aligned}
&\text{Adam: } \sqrt{\frac{\mu^2 + \frac{1 - \beta_1}{1 + \beta_1}\sigma^2}{\mu^2 + \sigma^2}} ,\\
&\text{AdaBelief: } \sqrt{\frac{\mu^2 + \frac{1 - \beta_1}{1 + \beta_1}\sigma^2}
  {\frac{2 \beta_1^2}{1 + \beta_1}\,\sigma^2}} .
\end{aligned}
$$

Pure noise ($\mu = 0$): $0.229$ for Adam and $0.248$ for AdaBelief at $\beta_1 = 0.9$,
nearly the same step. A consistent gradient ($\mu \gg \sigma$): Adam's step tends to $1$
whatever the signal-to-noise ratio, AdaBelief's grows like $\mu / (0.923\, \sigma)$, in
proportion to it. The figure's left panel measures both against these formulas; the
tests check them by Monte Carlo.

In the limit $\sigma = 0$, a constant gradient $g$, nothing but $\epsilon$ bounds the
step. Then $m_i = g(1 - \beta_1^i)$, the residual is $g \beta_1^i$, and

$$
\hat s_t = \frac{1 - \beta_2}{1 - \beta_2^{\,t}}\, g^2 \sum_{i=1}^{t} \beta_2^{\,t-i}
\beta_1^{2i} + \frac{\epsilon}{1 - \beta_2} .
$$

The sum is $\beta_2^t \sum_{i=1}^{t} (\beta_1^2 / \beta_2)^i$, a geometric series whose
ratio $\beta_1^2 / \beta_2$ is below $1$ whenever $\beta_1^2 < \beta_2$ (as for the
defaults), so it is dominated by its first terms and decays like $\beta_2^t$. (With
$\beta_1^2 > \beta_2$ the last terms dominate and it decays like $\beta_1^{2t}$, more
slowly.) The step, $\eta\,|g| / (\sqrt{\hat s_t} + \epsilon)$ since $\hat m_t = g$
exactly, keeps growing (about 5 at $t = 100$, 20 at $t = 1000$ per unit $\eta$) until
the $\epsilon$ floor stops it at $\eta\,|g| / (\sqrt{\epsilon / (1 - \beta_2)} +
\epsilon)$. The right panel
shows this against the closed form, and the tests check it to rounding. In practice a
little noise, or the curvature that changes the gradient as $\theta$ moves, keeps
$\hat s_t$ away from zero; the paper's point is that in a flat, consistent direction
(large gradient, small curvature) AdaBelief speeds up where Adam takes its usual step.

![Left: root mean square of a step per unit learning rate against the gradient's
signal-to-noise ratio, measured (solid) and the formulas above (dotted); right: the step
on a constant gradient, AdaBelief with two values of epsilon against Adam](adabelief.png)

## The reference's flags and ours

`adabelief-pytorch` (version 0.2.1, the authors' package) has these switches, with these
defaults:

| reference | its default | here | default here |
|---|---|---|---|
| `eps` | `1e-16` | `eps` | `1e-16` |
| `weight_decouple` | `True` (AdamW-style) | `decoupled_weight_decay` | `False`, as torch's Adam |
| `fixed_decay` | `False` | not offered | |
| `rectify` | `True` (RAdam's rectification) | not offered | off |
| `degenerated_to_sgd` | `True` | not offered | |
| `amsgrad` | `False` | `amsgrad` | `False` |
| `print_change_log` | `True` | no printing | |

With the same choices the two are equal bit for bit (tested for every combination of
`decoupled_weight_decay`, `amsgrad` and weight decay on or off, in float32 and float64).
The flags left out: `fixed_decay=True` (which acts only with `weight_decouple=True`)
decays by $1 - \lambda$ per step, not $1 - \eta\lambda$ (for a fixed learning rate,
`weight_decay=wd / lr` with `decoupled_weight_decay=True` gives the same, bit for bit when
`lr` is a power of two: tested); `rectify=True` multiplies the step by RAdam's $r_t$ and,
while $\rho_t < 5$, takes a momentum-SGD step (with its default
`degenerated_to_sgd=True`) or no step at all (with `False`)
(see [RAdam](radam.md), whose derivation carries over unchanged). Its default
`True` means that `AdaBelief(params)` from the reference is *not* this chapter's
`AdaBelief(params)`: pass `rectify=False` and `weight_decouple=False` to compare. With
`amsgrad=True` it keeps `max_exp_avg_var`, the running maximum of $s_t$ (after
$\epsilon$ is added), as we do. In L2 mode it adds $\lambda\theta$ to `p.grad` in place,
changing the caller's gradient; we do not.

## labml_nn's AdaBelief

labml_nn's `ada_belief` (0.5.1) differs from both in two ways, verified in the tests:

* **Arguments passed in the wrong order.** Its constructor calls its parent RAdam's with
  `(params, lr, betas, eps, weight_decay, amsgrad, degenerate_to_sgd, defaults)`, where
  RAdam's signature reads `(params, lr, betas, eps, weight_decay, optimized_update,
  amsgrad, degenerated_to_sgd, defaults)`. So `amsgrad` lands in `optimized_update`,
  `degenerate_to_sgd` (default `True`) in `amsgrad`, and `defaults` (`{}`) in
  `degenerated_to_sgd`: a default labml_nn AdaBelief runs AMSGrad, never takes the SGD
  steps it was asked for, and `amsgrad=True` switches the $\hat\epsilon$ form of
  [Adam](adam.md) on rather than AMSGrad.
* **$\epsilon$ not accumulated.** It adds $\epsilon$ to a temporary, $s_t + \epsilon$,
  so its $\hat s_t$ carries $\epsilon / (1 - \beta_2^t)$ instead of $\epsilon /
  (1 - \beta_2)$: the two agree at $t = 1$, and later labml_nn's floor is
  $\sqrt{1 - \beta_2} \approx 0.03$ times the reference's (for $\beta_2 = 0.999$).

We match the authors' package (and the paper's algorithm) and not labml_nn. With
$\epsilon = 0$ and the flags set so that the swapped arguments cancel out, labml_nn is
bitwise equal to this chapter; with $\epsilon > 0$ replaying its formula reproduces it
exactly, so these two points are the whole difference.

## References

- Juntang Zhuang et al., *AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed
  Gradients*, NeurIPS 2020. [arXiv:2010.07468](https://arxiv.org/abs/2010.07468); the
  authors' code:
  [juntang-zhuang/Adabelief-Optimizer](https://github.com/juntang-zhuang/Adabelief-Optimizer)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


def _adabelief_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    *,
    lr: float | Tensor,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
    decoupled_weight_decay: bool,
) -> None:
    r"""One AdaBelief step on one tensor, in `adabelief_pytorch`'s order of operations."""
    state["step"] += 1
    step = _get_value(state["step"])

    # Maximizing $f$ is minimizing $-f$.
    if maximize:
        grad = -grad
    # Decoupled decay shrinks $\theta$ by $1 - \eta\lambda$; L2 decay adds $\lambda\theta$
    # to the gradient (to a copy: the caller's `grad` is left alone).
    if weight_decay != 0:
        if decoupled_weight_decay:
            param.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(param, alpha=weight_decay)

    exp_avg, exp_avg_var = state["exp_avg"], state["exp_avg_var"]
    max_exp_avg_var = state.get("max_exp_avg_var") if amsgrad else None
    # A complex parameter is two real ones, each with its own $s_t$.
    if torch.is_complex(param):
        param, grad = torch.view_as_real(param), torch.view_as_real(grad)
        exp_avg, exp_avg_var = torch.view_as_real(exp_avg), torch.view_as_real(exp_avg_var)
        if max_exp_avg_var is not None:
            max_exp_avg_var = torch.view_as_real(max_exp_avg_var)

    # $m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t$, as `mul` then `add` like the reference
    # (`lerp` would round differently).
    exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    # $s_t = \beta_2 s_{t-1} + (1 - \beta_2)(g_t - m_t)^2 + \epsilon$: the residual uses the
    # new $m_t$, and $\epsilon$ goes into the state itself.
    residual = grad - exp_avg
    exp_avg_var.mul_(beta2).addcmul_(residual, residual, value=1 - beta2).add_(eps)

    bias_correction1 = 1 - _power(beta1, step)
    bias_correction2 = 1 - _power(beta2, step)
    # With AMSGrad the denominator uses the largest $s$ so far.
    second = exp_avg_var
    if max_exp_avg_var is not None:
        torch.maximum(max_exp_avg_var, exp_avg_var, out=max_exp_avg_var)
        second = max_exp_avg_var
    # $\sqrt{\hat s_t} + \epsilon$; `math.sqrt` of the number in eager mode, as the
    # reference takes it (`** 0.5` may round differently).
    if isinstance(bias_correction2, Tensor):
        bias_correction2_sqrt = bias_correction2.sqrt()
    else:
        bias_correction2_sqrt = math.sqrt(bias_correction2)
    denom = _divide(second.sqrt(), bias_correction2_sqrt, inplace=True).add_(eps)
    # $\theta_t = \theta_{t-1} - \frac{\eta}{1 - \beta_1^t}\frac{m_t}{\sqrt{\hat s_t} + \epsilon}$
    param.addcdiv_(exp_avg, denom, value=-lr / bias_correction1)


class AdaBelief(Optimizer):
    r"""AdaBelief with torch's argument names and the reference's state keys.

    State: `step` (a float tensor on the CPU, as torch keeps it), `exp_avg`, `exp_avg_var`
    and, with `amsgrad=True`, `max_exp_avg_var`, so a state dict moves between this class
    and `adabelief_pytorch.AdaBelief` in both directions.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float = 1e-16,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        betas = _check_adabelief_arguments(lr, betas, eps, weight_decay, foreach=foreach)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Fill in keys a reference state dict lacks (from this optimizer's own settings),
        and make a plain-number `step` a tensor."""
        super().__setstate__(state)
        fallback = dict(amsgrad=False, decoupled_weight_decay=False, maximize=False,
                        foreach=None)
        own = getattr(self, "defaults", {})
        for group in self.param_groups:
            for key, value in fallback.items():
                group.setdefault(key, own.get(key, value))
            for p in group["params"]:
                p_state = self.state.get(p, {})
                _step_as_tensor(p_state)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one AdaBelief step for each parameter with a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        # Refuse a sparse gradient before touching anything: a failing step changes nothing.
        for group in self.param_groups:
            _check_sparse(type(self).__name__, group["params"])

        for group in self.param_groups:
            # A tensor `lr` is read as a number, as the reference reads it; compiled, it
            # stays a tensor (`.item()` would break the graph).
            lr = _scalar(group["lr"]) if torch.compiler.is_compiling() else _float(group["lr"])
            beta1, beta2 = (_float(b) for b in group["betas"])
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0, dtype=_step_dtype())
                    state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                    state["exp_avg_var"] = torch.zeros_like(
                        param, memory_format=torch.preserve_format)
                    if group["amsgrad"]:
                        state["max_exp_avg_var"] = torch.zeros_like(
                            param, memory_format=torch.preserve_format)
                elif group["amsgrad"] and "max_exp_avg_var" not in state:
                    # Resuming without AMSGrad's maximum: it starts from the current $s_t$.
                    state["max_exp_avg_var"] = state["exp_avg_var"].clone()
                _adabelief_update(
                    param, param.grad, state, lr=lr, beta1=beta1, beta2=beta2,
                    eps=group["eps"], weight_decay=group["weight_decay"],
                    amsgrad=group["amsgrad"], maximize=group["maximize"],
                    decoupled_weight_decay=group["decoupled_weight_decay"],
                )
        return loss


# ## Closed forms and measurements
#
# The formulas derived above, and the small simulations the figure and the tests use.
def epsilon_floor(eps: float, beta2: float) -> float:
    r"""$\sqrt{\epsilon / (1 - \beta_2)}$, the least $\sqrt{\hat s_t}$ can be."""
    return math.sqrt(eps / (1 - beta2))


def steady_step_rms(snr: float, beta1: float, *, belief: bool) -> float:
    r"""Root mean square of the steady-state step per unit lr, gradients $\mu + \sigma\xi$,
    $\mathrm{snr} = \mu/\sigma$: AdaBelief (`belief=True`) or Adam."""
    numerator = snr**2 + (1 - beta1) / (1 + beta1)
    denominator = 2 * beta1**2 / (1 + beta1) if belief else snr**2 + 1
    return math.sqrt(numerator / denominator)


def constant_gradient_step(t: int, g: float, betas: tuple[float, float], eps: float) -> float:
    r"""$|\Delta_t|/\eta$ after $t$ steps of the constant gradient $g$ (closed form)."""
    beta1, beta2 = betas
    total = sum(beta2 ** (t - i) * beta1 ** (2 * i) for i in range(1, t + 1))
    s_hat = (1 - beta2) * g * g * total / (1 - beta2**t) + eps / (1 - beta2)
    return abs(g) / (math.sqrt(s_hat) + eps)


def measure_step_rms(
    make: Callable[[list[Tensor]], Optimizer],
    snr: Tensor,
    *,
    steps: int,
    burn_in: int,
    seed: int = 0,
) -> Tensor:
    r"""Measured root mean square of the step per unit lr, for each entry of `snr`.

    Coordinate $i$ gets gradients $\mathrm{snr}_i + \mathcal{N}(0, 1)$; the optimizer, built
    with `lr=1`, steps from $\theta = 0$ each time, so $\theta$ after a step is the step.
    """
    gen = torch.Generator().manual_seed(seed)
    p = torch.zeros(snr.shape, dtype=torch.float64, requires_grad=True)
    opt = make([p])
    total = torch.zeros_like(p.detach())
    for t in range(steps):
        p.detach().zero_()
        p.grad = snr + torch.randn(snr.shape, generator=gen, dtype=torch.float64)
        opt.step()
        if t >= burn_in:
            total += p.detach() ** 2
    return (total / (steps - burn_in)).sqrt()


def measure_constant_gradient_steps(
    make: Callable[[list[Tensor]], Optimizer], g: float, steps: int
) -> list[float]:
    r"""$|\Delta_t|/\eta$ at $t = 1, \dots,$ `steps` for the constant gradient $g$."""
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = make([p])
    sizes = []
    for _ in range(steps):
        p.detach().zero_()
        p.grad = torch.full((1,), g, dtype=torch.float64)
        opt.step()
        sizes.append(abs(p.item()))
    return sizes


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


def _float(x: float | Tensor) -> float:
    """A 1-element tensor hyper-parameter read as a Python number, a number as it is.

    For the chapters whose reference package computes with numbers: using the tensor
    itself (as `_scalar` does for torch's optimizers) would round differently from it.
    """
    return x.item() if isinstance(x, Tensor) else x


def _check_adabelief_arguments(
    lr: float | Tensor,
    betas: tuple[float | Tensor, float | Tensor],
    eps: float,
    weight_decay: float,
    *,
    foreach: bool | None,
) -> tuple[float, float]:
    """Refuse bad hyper-parameters, each message starting with its name; return the betas
    as numbers."""
    _check_lr(lr)
    _check_nonnegative("eps", eps, "Invalid epsilon value")
    _check_nonnegative("weight_decay", weight_decay, "Invalid weight_decay value")
    beta1, beta2 = _check_betas(betas)
    _check_paths(foreach=foreach)
    return _float(beta1), _float(beta2)


def main(argv: list[str] | None = None) -> None:
    """Draw AdaBelief's and Adam's step sizes on noisy and on constant gradients."""
    import argparse

    parser = argparse.ArgumentParser(description="Draw the AdaBelief chapter's figure.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE (PNG)")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    beta1 = 0.9
    # Left: 31 signal-to-noise ratios, 64 coordinates each.
    snr_grid = torch.linspace(0, 3, 31, dtype=torch.float64)
    snr = snr_grid.repeat_interleave(64)
    measured = {}
    for name, make in (("Adam", lambda p: torch.optim.Adam(p, lr=1.0, eps=0.0)),
                       ("AdaBelief", lambda p: AdaBelief(p, lr=1.0, eps=0.0))):
        rms = measure_step_rms(make, snr, steps=600, burn_in=300)
        measured[name] = rms.view(len(snr_grid), -1).pow(2).mean(1).sqrt()

    # Right: a constant gradient of 1, closed form as lines, the optimizer as markers.
    horizon = [1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000]
    marks = [1, 3, 10, 30, 100, 300, 1000]
    fine = sorted({round(10 ** (k / 20)) for k in range(0, 91)})

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for (name, values), color in zip(measured.items(), ("tab:blue", "tab:red"), strict=True):
        left.plot(snr_grid, values, color=color, label=f"{name} (measured)")
        closed = [steady_step_rms(x, beta1, belief=name == "AdaBelief") for x in snr_grid.tolist()]
        left.plot(snr_grid, closed, color=color, ls=":", label=f"{name} (formula)")
    left.set_xlabel(r"gradient signal-to-noise ratio $\mu / \sigma$")
    left.set_ylabel("RMS of a step / learning rate")
    left.set_title(r"i.i.d. gradients, $\beta = (0.9, 0.999)$")
    left.legend(loc="upper left")

    for eps, color in ((1e-16, "tab:red"), (1e-8, "tab:orange")):
        right.loglog(fine, [constant_gradient_step(t, 1.0, (beta1, 0.999), eps) for t in fine],
                     color=color, label=rf"AdaBelief, $\epsilon$ = {eps:g}")
        sizes = measure_constant_gradient_steps(lambda p, e=eps: AdaBelief(p, lr=1.0, eps=e),
                                                1.0, marks[-1])
        right.loglog(marks, [sizes[t - 1] for t in marks], "o", color=color, ms=4)
    right.loglog(horizon, [1.0] * len(horizon), color="tab:blue", label="Adam")
    right.set_xlabel("step $t$")
    right.set_ylabel(r"$|\Delta_t| / \eta$")
    right.set_title("a constant gradient (markers: the optimizer)")
    right.legend(loc="upper left")
    fig.tight_layout()
    if args.save:
        fig.savefig(args.save, dpi=110)
    else:
        plt.show()


if __name__ == "__main__":
    main()
