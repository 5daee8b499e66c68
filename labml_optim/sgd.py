r"""
---
title: Stochastic gradient descent with momentum
summary: Gradient descent, heavy-ball and Nesterov momentum, derived and matched to torch.optim.SGD.
group: Optimizers
order: 10
---

# Stochastic gradient descent with momentum

Every optimizer in this collection starts from one idea: move the parameters a little
against the gradient. This chapter derives that step, shows why it is slow when the
loss is much steeper in some directions than in others, and derives the two fixes that
`torch.optim.SGD` offers, heavy-ball momentum and Nesterov momentum. The class below is a
drop-in replacement for `torch.optim.SGD`: same arguments, same state, and bitwise the
same numbers as torch's for-loop implementation.

**Sharding.** Safe under sharding (DDP, `ZeroRedundancyOptimizer`, FSDP2): the update is
elementwise, so each rank steps its own shard of the parameter and state exactly as one
process would, bit for bit (tested with two processes).

## Gradient descent is the first-order step

We want to lower a loss $f(\theta)$. Near the current point $\theta$ the loss is
approximately linear,
$f(\theta + \Delta) \approx f(\theta) + g^\top \Delta$ with $g = \nabla f(\theta)$,
but a linear model has no minimum: it only says which way is down, and it is only
trusted close to $\theta$. So we penalise long steps and pick

$$
\Delta^\star = \arg\min_\Delta \; g^\top \Delta + \frac{1}{2\eta} \lVert \Delta \rVert^2 .
$$

Setting the derivative $g + \Delta / \eta$ to zero gives $\Delta^\star = -\eta g$:

$$
\theta_t = \theta_{t-1} - \eta \, g_t, \qquad g_t = \nabla f(\theta_{t-1}).
$$

The learning rate $\eta$ is the inverse of how much we distrust long steps. In
*stochastic* gradient descent $g_t$ is the gradient of the loss on a mini-batch: a noisy
but unbiased estimate of the full gradient.

## Why plain gradient descent is slow

Take a quadratic $f(\theta) = \frac{1}{2} \sum_i h_i \theta_i^2$ (any smooth loss
looks like this near a minimum, in the eigenbasis of its Hessian). The gradient is
$h_i \theta_i$ per coordinate, and one step multiplies each coordinate by a factor:

$$
\theta_{t,i} = (1 - \eta h_i) \, \theta_{t-1,i}.
$$

The step converges only if $|1 - \eta h_i| < 1$ for every $i$, that is
$\eta < 2 / h_{\max}$: the steepest direction caps the learning rate. The flattest
direction then shrinks by $1 - \eta h_{\min} > 1 - 2/\kappa$ per step, where
$\kappa = h_{\max}/h_{\min}$ is the condition number. The best constant
$\eta = 2/(h_{\max} + h_{\min})$ balances the two ends and gives the rate

$$
\max_i |1 - \eta h_i| = \frac{\kappa - 1}{\kappa + 1},
$$

so about $\kappa/2$ steps are needed for each factor of $e$. The steep direction
zig-zags while the flat one crawls.

## Momentum: an exponential sum of gradients

The heavy-ball method (Polyak, 1964) keeps a *buffer* $b$ that accumulates gradients
and steps along the buffer instead of the gradient:

$$
\begin{aligned}
b_t &= \mu \, b_{t-1} + g_t, \\
\theta_t &= \theta_{t-1} - \eta \, b_t .
\end{aligned}
$$

Unrolled from $b_0 = 0$, the buffer is an exponentially weighted sum of all gradients so
far, $b_t = \sum_{k=1}^{t} \mu^{t-k} g_k$. Gradient components that keep their sign
(the flat direction) add up; components that flip sign every step (the zig-zag in the
steep direction) cancel.

**The effective step.** For a constant gradient $g$ the sum is geometric,

$$
b_t = g \sum_{j=0}^{t-1} \mu^j = g \, \frac{1 - \mu^t}{1 - \mu}
\;\longrightarrow\; \frac{g}{1 - \mu},
$$

so once the buffer has filled, each step moves $\frac{\eta}{1-\mu} g$: with
$\mu = 0.9$, ten times the plain step. This is why the learning rate is usually lowered
when momentum is raised.

**The same method, written in parameters.** Since $\theta_{t-1} - \theta_{t-2} = -\eta b_{t-1}$,

$$
\theta_t = \theta_{t-1} - \eta \, g_t + \mu \, (\theta_{t-1} - \theta_{t-2}),
$$

a gradient step plus $\mu$ times the previous displacement: a ball with inertia.

## How much faster: the heavy ball on a quadratic

On the quadratic each coordinate follows
$\theta_t = (1 + \mu - \eta h)\theta_{t-1} - \mu\,\theta_{t-2}$, a linear recurrence
whose characteristic polynomial is

$$
z^2 - (1 + \mu - \eta h) \, z + \mu = 0 .
$$

The product of its two roots is $\mu$. When they are complex they are conjugate, so both
have modulus $\sqrt{\mu}$: the coordinate spirals in at rate $\sqrt\mu$ *whatever its
curvature*. The roots are complex when the discriminant is negative, strictly:
$(1 + \mu - \eta h)^2 < 4\mu$. When it is zero the two roots coincide,
$z = \frac{1}{2}(1 + \mu - \eta h) = \pm\sqrt\mu$: a double root, still of modulus
$\sqrt\mu$, but a double root makes the coordinate decay like $t\,(\sqrt\mu)^t$, the rate
$\sqrt\mu$ with a factor that grows linearly. So every coordinate has both roots of modulus
exactly $\sqrt\mu$ on the closed band

$$
(1 - \sqrt\mu)^2 \le \eta h \le (1 + \sqrt\mu)^2 ,
$$

complex inside it and a double root at its two ends. To have every coordinate in this
band, ask it of $h_{\min}$ and $h_{\max}$ and divide the two conditions:
$\kappa \le \left(\frac{1+\sqrt\mu}{1-\sqrt\mu}\right)^2$.
The smallest $\mu$ that satisfies it, and the $\eta$ that makes both ends touch the band,
are

$$
\sqrt{\mu^\star} = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}, \qquad
\eta^\star = \frac{4}{(\sqrt{h_{\max}} + \sqrt{h_{\min}})^2},
$$

At this tuning both ends sit *on* the band's edges: $\eta^\star h_{\min} = (1 - \sqrt{\mu^\star})^2$
and $\eta^\star h_{\max} = (1 + \sqrt{\mu^\star})^2$, so the flattest and the steepest
coordinates have the double roots $+\sqrt{\mu^\star}$ and $-\sqrt{\mu^\star}$ and decay like
$t\,(\sqrt{\mu^\star})^t$; those in between spiral in at exactly $\sqrt{\mu^\star}$. The rate
is $\sqrt{\mu^\star} = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}$ against
plain descent's $\frac{\kappa - 1}{\kappa + 1}$: about $\sqrt\kappa/2$ steps per factor of
$e$ instead of $\kappa/2$. With $\kappa = 100$ that is 5 instead of 50.

## Dampening

`dampening` $\tau$ scales the new gradient as it enters the buffer,
$b_t = \mu b_{t-1} + (1 - \tau) g_t$. torch starts the buffer at the first gradient,
$b_1 = g_1$, *without* dampening. With $\tau = \mu$ this start turns the buffer into an
exponential moving *average* that needs no bias correction: for a constant gradient,
$b_1 = g$ and $b_t = \mu g + (1 - \mu) g = g$ for every $t$. In general the fixed point
of $b_t = \mu b_{t-1} + (1-\tau) g$ is $b^\star = \frac{1-\tau}{1-\mu} g$ and
$b_t - b^\star = \mu^{t-1}(g - b^\star)$, so the effective step tends to
$\eta \frac{1 - \tau}{1 - \mu}$.

## Nesterov's look-ahead

Nesterov momentum evaluates the gradient not at the current point but where momentum is
about to carry it. In the form of Sutskever et al. (2013), whose velocity is the step
$\Delta_t = \theta_t - \theta_{t-1}$ itself,

$$
\begin{aligned}
\Delta_t &= \mu \, \Delta_{t-1} - \eta \, \nabla f(\theta_{t-1} + \mu \Delta_{t-1}), \\
\theta_t &= \theta_{t-1} + \Delta_t .
\end{aligned}
$$

This needs the gradient at a point other than the parameters, which a training loop
does not provide. Change variables to the look-ahead point itself,
$\tilde\theta_t = \theta_t + \mu \Delta_t$, so that the gradient is taken at
$\tilde\theta_{t-1}$, the current parameters: $g_t = \nabla f(\tilde\theta_{t-1})$. Then

$$
\begin{aligned}
\tilde\theta_t &= \theta_{t-1} + \Delta_t + \mu \Delta_t\\
&= \tilde\theta_{t-1} - \mu \Delta_{t-1} + (1 + \mu) \Delta_t \\
&= \tilde\theta_{t-1} - \mu \Delta_{t-1} + (1 + \mu)(\mu \Delta_{t-1} - \eta g_t) \\
&= \tilde\theta_{t-1} + \mu^2 \Delta_{t-1} - (1 + \mu)\eta g_t\\
&= \tilde\theta_{t-1} - \eta g_t + \mu \Delta_t ,
\end{aligned}
$$

using $\mu \Delta_t = \mu^2 \Delta_{t-1} - \mu\eta g_t$ in the last step. Finally write the
velocity as a buffer of gradients, $\Delta_t = -\eta b_t$, so that $b_t = \mu b_{t-1} + g_t$ is the
heavy-ball buffer, and

$$
\tilde\theta_t = \tilde\theta_{t-1} - \eta \, (g_t + \mu \, b_t).
$$

That is the rule below: the same buffer as heavy ball, but the step is the fresh
gradient plus $\mu$ times the buffer. Since $\Delta_0 = 0$, $\tilde\theta_0 = \theta_0$, and the
parameters torch keeps are exactly the look-ahead points of Sutskever's sequence. The
derivation uses the undamped buffer, so Nesterov requires $\mu > 0$ and $\tau = 0$.

## Nesterov on the quadratic

In the variables above a Nesterov step is a gradient step from the look-ahead point
followed by an extrapolation,

$$
\begin{aligned}
\theta_t &= \tilde\theta_{t-1} - \eta \, \nabla f(\tilde\theta_{t-1}), \\
\tilde\theta_t &= \theta_t + \mu \, (\theta_t - \theta_{t-1}),
\end{aligned}
$$

(the first is $\theta_{t-1} + \Delta_t$ with the velocity update written out, the second is
$\tilde\theta_t = \theta_t + \mu \Delta_t$). On one coordinate of the quadratic, with
$a = 1 - \eta h$, the first line is $\theta_t = a \, \tilde\theta_{t-1}$, so
$\tilde\theta_t = (1 + \mu) a \, \tilde\theta_{t-1} - \mu a \, \tilde\theta_{t-2}$, with
characteristic polynomial

$$
z^2 - (1 + \mu) a \, z + \mu a = 0 .
$$

Now the product of the roots, $\mu a$, shrinks with the curvature. Take
$\eta = 1/h_{\max}$: the steepest coordinate has $a = 0$, the flattest has
$a = 1 - 1/\kappa$, and every other lies in between. With $a = 0$ Sutskever's sequence is
solved in one step, $\theta_1 = a\,\tilde\theta_0 = 0$; the parameters torch keeps are the
look-ahead points and need two: $\tilde\theta_1 = \theta_1 + \mu(\theta_1 - \theta_0)
= -\mu\theta_0$, then $\theta_2 = 0$ and $\tilde\theta_2 = 0$. The roots are complex, of
modulus $\sqrt{\mu a}$, while $(1+\mu)^2 a < 4\mu$ (strictly; at equality they are a
double root of the same modulus). The momentum
$\mu = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}$ puts the flattest coordinate exactly on
that boundary: $(1 + \mu)^2 = \frac{4\kappa}{(\sqrt\kappa + 1)^2}$, so
$(1+\mu)^2 (1 - \frac{1}{\kappa}) = \frac{4(\kappa - 1)}{(\sqrt\kappa + 1)^2} = 4\mu$.
Its double root, and the slowest rate of all coordinates (with the factor $t$ of a
double root), is

$$
\sqrt{\mu \left(1 - \tfrac{1}{\kappa}\right)}
= \sqrt{\frac{(\sqrt\kappa - 1)^2}{\kappa}} = 1 - \frac{1}{\sqrt\kappa} .
$$

Nesterov needs about $\sqrt\kappa$ steps per factor of $e$, the tuned heavy ball about
$\sqrt\kappa/2$: on a quadratic Nesterov takes about twice as many steps. The ratio is
$\ln\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1} \big/ \ln\left(1 - \frac{1}{\sqrt\kappa}\right)$,
$1.82$ at $\kappa = 25$, $1.90$ at $100$ and $1.99$ at $10^4$, and it tends to $2$ because
the numerator is $-2/\sqrt\kappa$ and the denominator $-1/\sqrt\kappa$ to first order.
Its advantage lies beyond quadratics: with these
settings Nesterov's method keeps the loss gap $f(\theta_t) - f^\star$ below a constant
times $(1 - 1/\sqrt\kappa)^t$ on every smooth strongly convex function (Nesterov,
*Introductory Lectures on Convex Optimization*, 2004), while the heavy ball with its
quadratic tuning can fail to converge on some of them (Lessard, Recht and Packard,
2016). The two tunings are not interchangeable: at the heavy ball's $\eta^\star$,
$\eta^\star h_{\max} = (1 + \sqrt{\mu^\star})^2 > 1$, and on the figure's problem
Nesterov diverges.

![Plain, heavy-ball and Nesterov descent on an ill-conditioned quadratic](sgd.png)

## The learning rate sits outside the buffer

Sutskever et al. put the learning rate inside the velocity
($\Delta_t = \mu \Delta_{t-1} - \eta g_t$), torch outside it ($b_t = \mu b_{t-1} + g_t$,
step $-\eta b_t$). With a constant $\eta$ the two are the same method ($\Delta_t = -\eta b_t$).
With a schedule they differ: torch applies
a new learning rate to the whole accumulated buffer at once, the velocity form only to
new gradients.

## Weight decay and maximize

`weight_decay` $\lambda$ adds the gradient of the L2 penalty
$\frac{\lambda}{2}\lVert\theta\rVert^2$ to $g_t$ before it enters the buffer, so the
decay is carried by momentum like any other gradient. `maximize` negates $g_t$, to climb
$f$ instead of descending it.

The other chapters replace the single learning rate by one per coordinate:
[Adagrad](adagrad.md) from the sum of squared gradients, [RMSprop](rmsprop.md) from
their moving average.

## References

- Boris T. Polyak, *Some methods of speeding up the convergence of iteration methods*, USSR
  Computational Mathematics and Mathematical Physics 4(5), 1964.
  [doi:10.1016/0041-5553(64)90137-5](https://doi.org/10.1016/0041-5553(64)90137-5)
- Ilya Sutskever, James Martens, George Dahl and Geoffrey Hinton, *On the importance of
  initialization and momentum in deep learning*, ICML 2013. [PMLR
  28](https://proceedings.mlr.press/v28/sutskever13.html)
- Laurent Lessard, Benjamin Recht and Andrew Packard, *Analysis and Design of Optimization
  Algorithms via Integral Quadratic Constraints*, SIAM Journal on Optimization, 2016.
  [arXiv:1408.3595](https://arxiv.org/abs/1408.3595)
- torch's
  [`torch.optim.SGD`](https://docs.pytorch.org/docs/stable/generated/torch.optim.SGD.html),
  the implementation this chapter is tested against
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


def _sgd_update(
    params: list[Tensor],
    buffers: list[Tensor | None],
    *,
    lr: float | Tensor,
    momentum: float,
    dampening: float,
    weight_decay: float | Tensor,
    nesterov: bool,
    maximize: bool,
) -> None:
    r"""The update for the tensors of one group, in torch's order of operations.

    Complex parameters are updated as complex tensors, as torch does. (A complex
    `add_` with a scaling factor can round differently from the same `add_` on the
    real view, by one ulp, so using the real view here would break bitwise parity
    with torch.) `buffers` holds the group's momentum buffers (`None` before the first
    step, and empty without momentum); new buffers are put into it.
    """
    for i, param in enumerate(params):
        grad = param.grad
        # Maximising $f$ is minimising $-f$.
        if maximize:
            grad = -grad
        # L2 penalty: its gradient $\lambda\theta$ joins the loss gradient, and so
        # goes through the momentum buffer too.
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        # The heavy-ball buffer $b_t = \mu b_{t-1} + (1-\tau) g_t$. With no momentum
        # there is no buffer, and no state at all, as in torch.
        if momentum != 0:
            buf = buffers[i]
            if buf is None:
                # $b_1 = g_1$, undamped: with $\tau = \mu$ the buffer is then an
                # unbiased moving average from the first step.
                buf = grad.detach().clone()
                buffers[i] = buf
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - dampening)
            # Nesterov steps along $g_t + \mu b_t$ (the look-ahead in the variables
            # $\tilde\theta$); heavy ball along $b_t$.
            grad = grad.add(buf, alpha=momentum) if nesterov else buf
        # $\theta_t = \theta_{t-1} - \eta \cdot \text{direction}$.
        param.add_(grad, alpha=-lr)


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional heavy-ball or Nesterov momentum.

    Arguments, defaults and state (`momentum_buffer`) are those of `torch.optim.SGD`:
    `lr` $\eta$, `momentum` $\mu$, `dampening` $\tau$, `weight_decay` $\lambda$ (an L2
    penalty added to the gradient), `nesterov`, and the keyword-only `maximize`.
    `foreach`, `differentiable` and `fused` exist for compatibility and accept only
    their "off" values: this file is the single-tensor path.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float | Tensor = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        # A bad argument fails here, with its name first, rather than as a NaN later.
        _check_lr(lr, foreach)
        _check_nonnegative("momentum", momentum, "Invalid momentum value")
        _check_nonnegative("weight_decay", weight_decay, "Invalid weight_decay value")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "nesterov requires momentum > 0 and dampening == 0, "
                f"got momentum={momentum}, dampening={dampening} "
                "(Nesterov momentum requires a momentum and zero dampening)"
            )
        _check_paths(foreach=foreach, differentiable=differentiable, fused=fused)
        # Every hyper-parameter lives in the group, under torch's key, so that
        # `state_dict()` carries it and torch can load it.
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            foreach=foreach,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Groups from older state dicts may lack the newer keys; fill torch's defaults.
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)

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
            lr, momentum = _scalar(group["lr"]), group["momentum"]
            weight_decay = group["weight_decay"]
            params = [p for p in group["params"] if p.grad is not None]
            # The L2 term would make a sparse gradient dense: refuse it before any tensor
            # of the group moves.
            if weight_decay != 0:
                _check_sparse("SGD", params,
                              " with weight_decay (it would make the gradient dense)")
            # The buffers are read for the whole group first and written back at the end,
            # as torch does: a parameter listed twice then starts two buffers from the
            # same gradient at its first step, and the second one is kept.
            buffers = [self.state[p].get("momentum_buffer") for p in params] if momentum else []
            _sgd_update(
                params, buffers, lr=lr, momentum=momentum, dampening=group["dampening"],
                weight_decay=weight_decay, nesterov=group["nesterov"],
                maximize=group["maximize"],
            )
            for param, buf in zip(params, buffers, strict=False):
                self.state[param]["momentum_buffer"] = buf
        return loss


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
# Plain descent, heavy ball and Nesterov on $f = \frac{1}{2}(h_1 x^2 + h_2 y^2)$
# with $\kappa = 25$, each tuned as derived above: plain descent at
# $\eta = 2/(h_{\max} + h_{\min})$, heavy ball at $\eta^\star, \mu^\star$,
# Nesterov at $\eta = 1/h_{\max}$, $\mu = \frac{\sqrt\kappa-1}{\sqrt\kappa+1}$. The
# right panel compares the loss with the predicted rates; the loss is quadratic in
# $\theta$, so its rate per step is the square of the parameters' rate.
def main(argv: list[str] | None = None) -> None:
    """Draw trajectories of plain, heavy-ball and Nesterov descent on a quadratic."""
    import argparse

    parser = argparse.ArgumentParser(description="Draw the SGD chapter's figure.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lam_min, lam_max = 1.0, 25.0
    lam = torch.tensor([lam_min, lam_max], dtype=torch.float64)
    kappa = lam_max / lam_min
    root_k = kappa**0.5
    tunings = {  # name: (SGD arguments, predicted rate of the parameters per step)
        "plain": (dict(lr=2 / (lam_max + lam_min)), (kappa - 1) / (kappa + 1)),
        "heavy ball": (
            dict(lr=4 / (lam_max**0.5 + lam_min**0.5) ** 2,
                 momentum=((root_k - 1) / (root_k + 1)) ** 2),
            (root_k - 1) / (root_k + 1),
        ),
        "Nesterov": (
            dict(lr=1 / lam_max, momentum=(root_k - 1) / (root_k + 1), nesterov=True),
            1 - 1 / root_k,
        ),
    }
    start, steps = [-9.0, 1.6], 60

    def run(kwargs: dict[str, Any]) -> tuple[Tensor, Tensor]:
        theta = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        opt = SGD([theta], **kwargs)
        path, losses = [theta.detach().clone()], []
        for _ in range(steps):
            opt.zero_grad()
            loss = 0.5 * (lam * theta**2).sum()
            losses.append(loss.item())
            loss.backward()
            opt.step()
            path.append(theta.detach().clone())
        return torch.stack(path), torch.tensor(losses)

    fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.6), width_ratios=[1.5, 1])
    xs = torch.linspace(-10, 2, 200, dtype=torch.float64)
    ys = torch.linspace(-3, 3, 120, dtype=torch.float64)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    ax_path.contour(gx, gy, 0.5 * (lam[0] * gx**2 + lam[1] * gy**2),
                    levels=torch.logspace(-1.5, 2.2, 12).tolist(), colors="0.85",
                    linewidths=0.8)
    t = torch.arange(steps, dtype=torch.float64)
    colors = {"plain": "tab:gray", "heavy ball": "tab:blue", "Nesterov": "tab:orange"}
    for name, (kwargs, rate) in tunings.items():
        path, losses = run(kwargs)
        hyper = ", ".join(f"{k} {v:.3g}" for k, v in kwargs.items() if k != "nesterov")
        ax_path.plot(path[:, 0], path[:, 1], ".-", color=colors[name], ms=3, lw=1,
                     label=f"{name}: {hyper}")
        ax_loss.semilogy(t, losses, color=colors[name], label=name)
        ax_loss.semilogy(t, losses[0] * (rate**2) ** t, ":", color=colors[name], lw=1.2,
                         label=f"predicted rate {rate**2:.3f}")
    ax_path.plot([0], [0], "k*", ms=10)
    ax_path.set(xlim=(-10, 2), ylim=(-3, 3), xlabel="$x$ (curvature 1)",
                ylabel="$y$ (curvature 25)", title="Trajectories from (-9, 1.6)")
    ax_path.legend(loc="lower right", fontsize=8)
    ax_loss.set(xlabel="step $t$", ylabel="loss $f(\\theta_t)$",
                title=f"Loss and predicted rates, $\\kappa$ = {kappa:.0f}", ylim=(1e-14, 1e3))
    ax_loss.legend(fontsize=8, ncol=1)
    fig.tight_layout()

    if args.save:
        fig.savefig(args.save, dpi=110)
    else:
        plt.show()


if __name__ == "__main__":
    main()
