r"""
---
title: Lion
summary: The sign of a blend of momentum and gradient: one state tensor, a step of fixed size.
group: Optimizers
order: 100
---

# Lion

Lion ("EvoLved Sign Momentum", Chen et al., "Symbolic Discovery of Optimization
Algorithms", 2023, arXiv 2302.06675) was found by a program search over optimizer update
rules rather than derived, and it is strikingly short. With $\beta_1, \beta_2 \in [0, 1)$,
learning rate $\eta$, decoupled weight decay $\lambda$ and $m_0 = 0$:

$$
\begin{aligned}
c_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t ,\\
\theta_t &= \theta_{t-1} - \eta \left( \operatorname{sign}(c_t) + \lambda\, \theta_{t-1} \right) ,\\
m_t &= \beta_2 m_{t-1} + (1 - \beta_2)\, g_t .
\end{aligned}
$$

The defaults are $\beta_1 = 0.9$, $\beta_2 = 0.99$. There is no second moment, no
$\epsilon$ and no bias correction: the only state is the momentum $m_t$, and every
coordinate moves by exactly $\eta$ (plus the decay) in the direction of the sign of $c_t$.
Compared with [Adam](adam.md), which divides the momentum by $\sqrt{\hat v_t}$ to make the
step scale-free, Lion makes it scale-free by keeping only the sign.

**Sharding.** Safe under sharding (DDP, `ZeroRedundancyOptimizer`, FSDP2): the update is
elementwise (the sign is per coordinate), so each rank steps its own shard of the
parameter and state exactly as one process would, bit for bit (tested with two processes).

## Two betas, two jobs

The interpolation $c_t$ that picks the direction and the average $m_t$ that is carried to
the next step use different coefficients. Unroll $m_{t-1} = (1 - \beta_2) \sum_{k=1}^{t-1}
\beta_2^{k-1} g_{t-k}$ (from $m_0 = 0$) into $c_t$:

$$
c_t = (1 - \beta_1)\, g_t + \beta_1 (1 - \beta_2) \sum_{k=1}^{t-1} \beta_2^{\,k-1}\, g_{t-k} .
$$

So $\beta_2$ sets how long the memory is (about $1/(1 - \beta_2) = 100$ steps for $0.99$),
and $\beta_1$ sets how much of the direction taken *now* is today's gradient: $1 - \beta_1
= 0.1$, ten times the weight $1 - \beta_2 = 0.01$ that the same gradient gets inside
$m_t$, and each older gradient gets $\beta_1 (1 - \beta_2) \beta_2^{k-1}$. A fresh
gradient can flip a coordinate's direction at once, while the memory behind it decays
slowly. Special cases, checked in the tests:

* $\beta_1 = 0$: $c_t = g_t$, signSGD.
* $\beta_1 = \beta_2 = \beta$: $c_t = m_t$, the sign of an ordinary exponential moving
  average (signum, sign descent with momentum).
* $\beta_2 = 0$: $m_t = g_t$, so $c_t = \beta_1 g_{t-1} + (1 - \beta_1) g_t$ looks one step
  back only.

## The size of a step

$\operatorname{sign}$ maps every non-zero coordinate of $c_t$ to $\pm 1$ (and $0$ to $0$).
Without weight decay the update $\Delta_t = \theta_t - \theta_{t-1} = -\eta\,
\operatorname{sign}(c_t)$ therefore has $|\Delta_{t,i}| = \eta$ in every coordinate where
$c_{t,i} \ne 0$, and

$$
\lVert \Delta_t \rVert_2 = \eta \sqrt{n_t}, \qquad \lVert \Delta_t \rVert_\infty = \eta
\quad (n_t > 0) ,
$$

with $n_t$ the number of non-zero coordinates of $c_t$: all of them, except where
$\beta_1 m_{t-1} + (1 - \beta_1) g_t$ is exactly zero, as at a coordinate whose gradients
have all been zero so far (a zero gradient alone is not enough once $m_{t-1} \ne 0$).
This holds at every step, whatever the scale of the gradient (multiplying
the loss by $10^6$ changes nothing) and whether the gradient is signal or noise. The
tests check it exactly.

## Why a smaller learning rate and a larger weight decay

Adam's per-coordinate step $\hat m_t / \sqrt{\hat v_t}$ has size near $1$ only where the
gradient keeps its sign. Where it is mostly noise it is much smaller. Take i.i.d.
gradients of mean $0$ and variance $\sigma^2$. In the steady state $m_t$ is a weighted sum
with weights $(1 - \beta_1)\beta_1^k$, so

$$
\begin{aligned}
\operatorname{Var}[m_t] &= (1 - \beta_1)^2 \sum_{k \ge 0} \beta_1^{2k} \sigma^2\\
&= \frac{(1 - \beta_1)^2}{1 - \beta_1^2}\, \sigma^2 = \frac{1 - \beta_1}{1 + \beta_1}\, \sigma^2 ,
\end{aligned}
$$

while $v_t$, an average over $\approx 1/(1 - \beta_2) = 1000$ squared gradients (Adam's
default $\beta_2 = 0.999$, not Lion's $0.99$), is close to $\sigma^2$.
The root mean square of Adam's step per unit learning rate is then

$$
\begin{aligned}
r_A &\approx \sqrt{\frac{1 - \beta_1}{1 + \beta_1}}\\
&= 0.229\ (\beta_1 = 0.9),\\
&\phantom{=}\ \ 0.160\ (0.95),\quad 0.101\ (0.98) ,
\end{aligned}
$$

and a Monte Carlo run of `torch.optim.Adam` with $\beta_2 = 0.999$ gives the same numbers
to within 1 % (the tests). Lion's step has root mean square exactly $1$ per unit learning
rate, so at equal $\eta$ Lion moves $1/r_A \approx 4.4$ to $10$ times farther per step
than AdamW does wherever the gradient is mostly noise, the usual state of a coordinate's
minibatch gradient once the loss has stopped falling fast. To take
steps of the same size, Lion's learning rate has to be smaller by that factor,

$$
\eta_L = r_A\, \eta_A ,
$$

which is the paper's advice of a learning rate 3–10 times smaller than AdamW's.

Weight decay has to follow. Decoupled decay shrinks the weights by the factor
$1 - \eta\lambda$ each step, so its strength is the product $\eta\lambda$; keeping that
product means $\lambda_L = \lambda_A / r_A$, 3–10 times larger. The equilibrium it sets
shows why the product is the right thing to keep. Write one step as
$\theta_t = (1 - \eta\lambda)\,\theta_{t-1} - \eta u_t$ with $u_t$ of mean zero and mean
square $r^2$, uncorrelated with $\theta_{t-1}$ and with earlier steps. Then

$$
\begin{aligned}
\mathbb{E}[\theta_t^2] &= (1 - \eta\lambda)^2\, \mathbb{E}[\theta_{t-1}^2] + \eta^2 r^2\\
&\;\longrightarrow\; \frac{\eta^2 r^2}{1 - (1 - \eta\lambda)^2}\\
&= \frac{\eta\, r^2}{\lambda\, (2 - \eta\lambda)} ,
\end{aligned}
$$

a fixed point of the recursion (the tests check it by Monte Carlo with Lion itself, at
$\beta_1 = 0$ where its steps are i.i.d. signs). The weights settle at a root mean square
of about $r \sqrt{\eta / (2\lambda)}$, and the relative size of a step there,
$\eta r / \sqrt{\mathbb{E}[\theta^2]} = \sqrt{\eta\lambda (2 - \eta\lambda)}$, depends on
$\eta\lambda$ alone. With $\eta_L = r_A \eta_A$ and $\lambda_L = \lambda_A / r_A$ the product
$\eta\lambda$ is unchanged, and Lion ($r = 1$) settles at the mean square
$\eta_L / (\lambda_L (2 - \eta_L\lambda_L)) = r_A^2\, \eta_A / (\lambda_A (2 - \eta_A\lambda_A))$,
exactly where AdamW ($r = r_A$) settles, as long as the steps are uncorrelated.

They are not: momentum correlates successive steps, Lion's as well as AdamW's (Lion's are
uncorrelated only at $\beta_1 = 0$). On pure noise neither optimizer's steps depend on
$\theta$ (the decay is decoupled), so from $\theta_0 = 0$, with $a = 1 - \eta\lambda$,
$\theta_t = -\eta \sum_{j=0}^{t-1} a^j u_{t-j}$. Let $\rho_k$ be the steady-state
correlation of steps $k$ apart, $\mathbb{E}[u_s u_{s+k}] = r^2 \rho_k$. Grouping the
double sum by the gap $k = |j - l|$,

$$
\begin{aligned}
\mathbb{E}[\theta_t^2] &= \eta^2 r^2 \sum_{j, l} a^{j + l} \rho_{|j - l|}\\
&\;\longrightarrow\; \frac{\eta^2 r^2}{1 - a^2}\, F(a),\\
F(a) &= 1 + 2 \sum_{k \ge 1} a^k \rho_k .
\end{aligned}
$$

At a fixed product $\eta\lambda$ the whole trajectory is still proportional to $\eta$
(tested bit for bit), so each optimizer's relative step depends on $\eta\lambda$ alone;
what momentum changes is the factor $F$, and it is not the same for the two. AdamW's
step is $m_t / \sigma$, an AR(1) sequence with $\rho_k = \beta_1^k$, so
$F_A(a) = (1 + a\beta_1) / (1 - a\beta_1)$, $19$ as $\eta\lambda \to 0$ at
$\beta_1 = 0.9$. Lion's step is a sign. With Gaussian gradients of variance $\sigma^2$,
$c_{t+k} = (1 - \beta_1) g_{t+k} + \beta_1 m_{t+k-1}$ and
$m_{t+k-1} = \beta_2^{k-1} m_t + {}$(gradients after $t$), so
$\operatorname{Cov}[c_t, c_{t+k}] = \beta_1 \beta_2^{k-1} \operatorname{Cov}[c_t, m_t]$
with

$$
\begin{aligned}
\operatorname{Cov}[c_t, m_t] &= (1 - \beta_1)(1 - \beta_2)\sigma^2 \\
  &\quad + \beta_1\beta_2 \operatorname{Var}[m] ,\\
\operatorname{Var}[m] &= \frac{1 - \beta_2}{1 + \beta_2}\sigma^2 ,\\
\operatorname{Var}[c_t] &= (1 - \beta_1)^2\sigma^2 + \beta_1^2 \operatorname{Var}[m] .
\end{aligned}
$$

For jointly Gaussian variables of correlation $\rho$,
$\mathbb{E}[\operatorname{sign} X \operatorname{sign} Y] = \frac{2}{\pi}\arcsin\rho$, so

$$
\begin{aligned}
\rho_k &= \frac{2}{\pi} \arcsin\!\left(\kappa\, \beta_2^{\,k-1}\right),\\
\kappa &= \frac{\beta_1 \operatorname{Cov}[c_t, m_t]}{\operatorname{Var}[c_t]}\\
&= 0.350 \text{ at } (\beta_1, \beta_2) = (0.9, 0.99),
\end{aligned}
$$

and $F_L \to 45.9$ as $\eta\lambda \to 0$. At $\eta\lambda = 0.02$ the two factors
happen to agree ($F_L = 15.9$, $F_A = 15.9$); at a typical $\eta\lambda = 10^{-4}$
they are $45.5$ and $19.0$, so after the conversion Lion settles at $2.4$ times AdamW's
mean square ($1.55$ times its root mean square). The tests check $F_L$ and $F_A$ by Monte
Carlo with Lion and `torch.optim.AdamW`. Keeping $\eta\lambda$ is therefore still what
keeps each optimizer's own equilibrium in place, and the $r_A$ conversion matches the two
up to a factor of order one that the betas set.

The conversion is a statement about the noise-dominated regime. Where gradients are
consistent, Adam's step is close to $\eta_A$ too, and Lion with the smaller $\eta_L$ is
the slower of the two: the figure shows both regimes on a noisy quadratic.

![Left: root mean square of a step per unit learning rate against the signal-to-noise
ratio of the gradient, Adam measured and Lion exactly 1; right: loss on a noisy quadratic
for AdamW, Lion at AdamW's learning rate, and Lion at r_A times it](lion.png)

## One state tensor

Adam keeps $m$ and $v$, two tensors the size of the parameters, plus a step counter per
tensor; Lion keeps $m$ alone. `state_bytes` below counts the bytes an optimizer's state
holds; the tests measure a small network after one step and find exactly the parameters'
bytes for Lion and twice that plus 4 bytes per tensor (the float32 step counters) for
`torch.optim.Adam`: Lion's state is half of Adam's. (Lion needs no step counter, so it
keeps none, as `torch.optim.SGD` keeps none.)

## The reference implementation, `lion-pytorch`

The parity tests hold this chapter to `lion_pytorch.Lion` (version 0.2.5), bit for bit in
float32 and float64: weight decay first as $\theta \leftarrow (1 - \eta\lambda)\theta$, then
$c_t$ computed as `mul` then `add` (not `lerp`), its sign, the step, and last the momentum
update, in that order. Where its flags differ from the paper's pseudocode:

* Its `decoupled_weight_decay=False` (the default) *is* the paper's decay, $\eta_t\lambda$
  per step. Its `decoupled_weight_decay=True` divides $\lambda$ by the learning rate given
  to the constructor, so the decay per step is $\eta_t \lambda / \eta_0$: it follows the
  schedule's shape but not the learning rate's size. torch's flag of the same name (an
  argument of `torch.optim.Adam`, always on in AdamW) means the paper's form, so the
  names disagree; here `weight_decay` is always the paper's $\lambda$, and
  `weight_decay=wd / lr` reproduces the other form for a fixed `lr`.
* Its package also ships `lion_pytorch.foreach.Lion`, which computes $c_t$ and $m_t$ with
  `lerp`: the same formula rounded differently, so it agrees with this chapter only to
  within a few units in the last place of $m_t$ (tested).
* It refuses `lr=0` (an `assert`), accepts $\beta = 1$, has no `maximize`, and takes
  `sgn` of a complex parameter's $c_t$ ($c / |c|$). This chapter, like torch, treats a
  complex parameter as its real and imaginary parts, so each moves by $\pm\eta$.
* `use_triton=True` swaps in a fused GPU kernel that computes $c_t$ as
  $g_t + \beta_1 (m_{t-1} - g_t)$ and $m_t$ likewise: the same formulas, rounded
  differently again (not tested here; it needs a GPU with Triton).

## References

- Xiangning Chen et al., *Symbolic Discovery of Optimization Algorithms*, 2023.
  [arXiv:2302.06675](https://arxiv.org/abs/2302.06675); the authors' code: [google/automl,
  lion](https://github.com/google/automl/tree/master/lion)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


def _lion_update(
    param: Tensor,
    grad: Tensor,
    exp_avg: Tensor,
    *,
    lr: float | Tensor,
    beta1: float,
    beta2: float,
    weight_decay: float,
    maximize: bool,
) -> None:
    r"""One Lion step on one tensor, in `lion_pytorch.Lion`'s order of operations."""
    # Maximizing $f$ is minimizing $-f$.
    if maximize:
        grad = -grad
    # The decay uses $\theta_{t-1}$: $\theta \leftarrow (1 - \eta\lambda)\,\theta$ first, then
    # the signed step, is the paper's $\theta - \eta(\operatorname{sign}(c_t) + \lambda\theta)$.
    if weight_decay != 0:
        param.mul_(1 - lr * weight_decay)
    # A complex parameter is two real ones: the sign is taken per real and imaginary part.
    if torch.is_complex(param):
        param, grad, exp_avg = (torch.view_as_real(x) for x in (param, grad, exp_avg))
    # $c_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t$, a temporary; its sign is the direction.
    direction = exp_avg.mul(beta1).add_(grad, alpha=1 - beta1).sign_()
    # $\theta_t = \theta_{t-1} - \eta\, \operatorname{sign}(c_t)$
    # (A tensor $\eta$, compiled, multiplies: exact, the sign being $\pm 1$ or 0.)
    if isinstance(lr, Tensor):
        param.sub_(direction.mul_(lr))
    else:
        param.add_(direction, alpha=-lr)
    # $m_t = \beta_2 m_{t-1} + (1 - \beta_2) g_t$, after the step: $m_t$ is for next time.
    exp_avg.mul_(beta2).add_(grad, alpha=1 - beta2)


class Lion(Optimizer):
    r"""Lion, with `lion_pytorch.Lion`'s arguments and state plus torch's `maximize`.

    The only state is `exp_avg` ($m_t$), so a state dict moves between this class and
    `lion_pytorch.Lion` in both directions. `weight_decay` is the paper's $\lambda$: each
    step multiplies the parameter by $1 - \eta\lambda$.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float | Tensor = 1e-4,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.99),
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        betas = _check_lion_arguments(lr, betas, weight_decay, foreach=foreach)
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Fill in the keys a `lion_pytorch` state dict lacks."""
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one Lion step for every parameter that has a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        # Refuse a sparse gradient before touching anything, so a failing step changes
        # nothing.
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
                    # $m_0 = 0$
                    state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                _lion_update(
                    param, param.grad, state["exp_avg"], lr=lr, beta1=beta1, beta2=beta2,
                    weight_decay=group["weight_decay"], maximize=group["maximize"],
                )
        return loss


# ## Measuring what the text claims
#
# Small helpers for the figure and the tests: the bytes an optimizer's state holds, and the
# root mean square of Adam's step on gradients of a given signal-to-noise ratio.
def state_bytes(optimizer: Optimizer) -> int:
    """Bytes held by the tensors in `optimizer.state` (step counters included)."""
    return sum(v.numel() * v.element_size() for s in optimizer.state.values()
               for v in s.values() if isinstance(v, Tensor))


def adam_rms_noise_only(beta1: float) -> float:
    r"""$r_A = \sqrt{(1 - \beta_1)/(1 + \beta_1)}$: Adam's step per unit lr on pure noise."""
    return math.sqrt((1 - beta1) / (1 + beta1))


def equilibrium_mean_square(lr: float, weight_decay: float, rms: float = 1.0) -> float:
    r"""$\eta^2 r^2 / (1 - (1 - \eta\lambda)^2)$, the fixed point of $\mathbb{E}[\theta^2]$."""
    shrink = 1 - lr * weight_decay
    return lr * lr * rms * rms / (1 - shrink * shrink)


def step_rms(
    make: Callable[[list[Tensor]], Optimizer],
    snr: Tensor,
    *,
    steps: int,
    burn_in: int,
    seed: int = 0,
) -> Tensor:
    r"""Root mean square of the step, per unit learning rate, for each entry of `snr`.

    Coordinate $i$ gets i.i.d. gradients $\mathrm{snr}_i + \mathcal{N}(0, 1)$. The optimizer
    (built with `lr=1`) steps from $\theta = 0$ every time, so the parameter after a step is
    the step itself; steps after `burn_in` are averaged.
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


def noisy_quadratic(
    make: Callable[[list[Tensor]], Optimizer],
    *,
    steps: int,
    n: int = 256,
    noise: float = 1.0,
    seed: int = 0,
) -> list[float]:
    r"""Mean loss $\frac{1}{n}\sum_i \frac12 h_i \theta_i^2$ per step, curvatures $h_i$ from 0.1
    to 10, $\theta_0 = 1$, gradient $h_i\theta_i$ plus $\mathcal{N}(0, \mathrm{noise}^2)$."""
    gen = torch.Generator().manual_seed(seed)
    h = torch.logspace(-1, 1, n, dtype=torch.float64)
    theta = torch.ones(n, dtype=torch.float64, requires_grad=True)
    opt = make([theta])
    losses = []
    for _ in range(steps):
        x = theta.detach()
        theta.grad = h * x + noise * torch.randn(n, generator=gen, dtype=torch.float64)
        opt.step()
        losses.append((0.5 * h * theta.detach() ** 2).mean().item())
    return losses


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


def _check_lion_arguments(
    lr: float | Tensor,
    betas: tuple[float | Tensor, float | Tensor],
    weight_decay: float,
    *,
    foreach: bool | None,
) -> tuple[float, float]:
    """Refuse bad hyper-parameters, each message starting with its name; return the betas
    as numbers."""
    _check_lr(lr)
    _check_nonnegative("weight_decay", weight_decay, "Invalid weight_decay value")
    beta1, beta2 = _check_betas(betas)
    _check_paths(foreach=foreach)
    return _float(beta1), _float(beta2)


def main(argv: list[str] | None = None) -> None:
    """Draw Adam's step size against Lion's, and both on a noisy quadratic."""
    import argparse

    parser = argparse.ArgumentParser(description="Draw the Lion chapter's figure.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE (PNG)")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Left: each of 31 signal-to-noise ratios gets 64 coordinates.
    snr_grid = torch.linspace(0, 3, 31, dtype=torch.float64)
    snr = snr_grid.repeat_interleave(64)
    rms = {}
    for beta1 in (0.9, 0.95, 0.98):
        adam = step_rms(lambda p, b=beta1: torch.optim.Adam(p, lr=1.0, betas=(b, 0.999), eps=0.0),
                        snr, steps=600, burn_in=300)
        rms[beta1] = adam.view(len(snr_grid), -1).pow(2).mean(1).sqrt()
    lion = step_rms(lambda p: Lion(p, lr=1.0), snr, steps=20, burn_in=10)

    # Right: AdamW against Lion at AdamW's lr and at r_A times it.
    lr, steps = 1e-2, 1500
    r_a = adam_rms_noise_only(0.9)
    curves = {
        f"AdamW, lr = {lr:g}": noisy_quadratic(
            lambda p: torch.optim.AdamW(p, lr=lr, weight_decay=0.0), steps=steps),
        f"Lion, lr = {lr:g}": noisy_quadratic(lambda p: Lion(p, lr=lr), steps=steps),
        f"Lion, lr = {lr:g} x {r_a:.3f}": noisy_quadratic(lambda p: Lion(p, lr=lr * r_a),
                                                          steps=steps),
    }

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for (beta1, values), color in zip(rms.items(), ("tab:blue", "tab:cyan", "tab:purple"),
                                      strict=True):
        left.plot(snr_grid, values, color=color, label=rf"Adam, $\beta_1$ = {beta1}")
        left.axhline(adam_rms_noise_only(beta1), color=color, ls=":", lw=0.8)
    left.plot(snr, lion, color="tab:red", label="Lion (any betas)")
    left.set_xlabel(r"gradient signal-to-noise ratio $\mu / \sigma$")
    left.set_ylabel("RMS of a step / learning rate")
    left.set_ylim(0, 1.1)
    left.set_title(r"step size; dotted: $\sqrt{(1-\beta_1)/(1+\beta_1)}$")
    left.legend(loc="lower right")

    for (label, losses), color in zip(curves.items(), ("tab:blue", "tab:red", "tab:orange"),
                                      strict=True):
        right.semilogy(range(1, steps + 1), losses, color=color, label=label)
    right.set_xlabel("step")
    right.set_ylabel("loss")
    right.set_title("noisy quadratic, curvatures 0.1 to 10")
    right.legend(loc="upper right")
    fig.tight_layout()
    if args.save:
        fig.savefig(args.save, dpi=110)
    else:
        plt.show()


if __name__ == "__main__":
    main()
