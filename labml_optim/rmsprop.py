r"""
---
title: RMSprop
summary: A leaky average of squared gradients, its centered variant, and momentum on the step.
group: Optimizers
order: 30
---

# RMSprop

[Adagrad](adagrad.md) divides each coordinate's step by the root of *all* its past
squared gradients. The sum only grows, so the steps shrink like $1/\sqrt{t}$ for ever:
right for a convex problem seen once, wrong for a network whose loss surface changes as
it trains. RMSprop (Tieleman and Hinton, 2012, in a lecture rather than a paper) keeps
Adagrad's per-coordinate scaling but forgets: the sum becomes a leaky average, so the
scale follows the *recent* size of the gradient. The class below is a drop-in replacement
for `torch.optim.RMSprop`, bitwise equal to torch's for-loop implementation.

**Sharding.** Safe under sharding (DDP, `ZeroRedundancyOptimizer`, FSDP2): the update is
elementwise, so each rank steps its own shard of the parameter and state exactly as one
process would, bit for bit (tested with two processes).

## The algorithm

Per coordinate, with $v_0 = 0$ and smoothing constant $\beta$ (torch's `alpha`, default 0.99;
it plays the part of [Adam](adam.md)'s $\beta_2$),

$$
\begin{aligned}
v_t &= \beta \, v_{t-1} + (1 - \beta) \, g_t^2, \\
\theta_t &= \theta_{t-1} - \eta \, \frac{g_t}{\sqrt{v_t} + \epsilon} .
\end{aligned}
$$

$\sqrt{v_t}$ is a running root-mean-square of the gradient, which gives the method its
name. Dividing by it is the mini-batch version of Rprop's idea of using only the sign of
the gradient: $g/\sqrt{\mathbb{E}[g^2]}$ has the sign of $g$ and a magnitude of about one,
averaged over enough batches that noise does not flip it at every step.

## What the leaky average remembers

Unrolling the recursion from $v_0 = 0$,

$$
v_t = (1 - \beta) \sum_{k=1}^{t} \beta^{t-k} g_k^2 ,
$$

a weighted average of the past squared gradients with weights that halve every
$\ln 2 / \ln(1/\beta) \approx 69$ steps for $\beta = 0.99$; the weights
$(1 - \beta)\beta^{t-k}$ sum to $1$ over an infinite past, and their mean age is
$\sum_j j (1-\beta)\beta^j = \frac{\beta}{1-\beta} = 99$ steps.

**No decay in the long run.** For stationary gradients with $\mathbb{E}[g^2] = \sigma^2$,
$\mathbb{E}[v_t] = (1 - \beta^t)\sigma^2 \to \sigma^2$, so the step settles at
$\eta\, g / \sigma$, of typical size $\eta$ whatever the scale of $g$, and stays there:
unlike Adagrad, the effective learning rate $\eta / \sqrt{v_t}$ does not go to zero.

**How noisy is $v$.** With independent $g_k^2$ of variance $\mathrm{Var}[g^2]$, the
variance of the weighted sum is the sum of the squared weights times that variance:

$$
\begin{aligned}
\mathrm{Var}[v_\infty]
&= (1-\beta)^2 \sum_{j \ge 0} \beta^{2j} \, \mathrm{Var}[g^2]\\
&= \frac{1 - \beta}{1 + \beta} \, \mathrm{Var}[g^2] .
\end{aligned}
$$

For zero-mean Gaussian gradients $\mathrm{Var}[g^2] = 2\sigma^4$, so with
$\beta = 0.99$ the standard deviation of $v$ is $\sqrt{2 \cdot 0.01 / 1.99} \approx 10\%$
of its mean: a larger $\beta$ gives a steadier scale that follows changes more slowly.

**The first steps are large.** torch does not correct $v_t$ for its zero start (the
weights sum to $1 - \beta^t$, not $1$; [Adam](adam.md) divides that factor out). For a
constant gradient $v_t = (1 - \beta^t) g^2$, so step $t$ moves

$$
\frac{\eta}{\sqrt{1 - \beta^t}} ,
$$

which is $\eta / \sqrt{1 - \beta} = 10\,\eta$ at $t = 1$ with $\beta = 0.99$, and
approaches $\eta$ only after a few hundred steps.

## Centered RMSprop: divide by the standard deviation

The centered variant (Graves, 2013) also keeps a leaky average of the gradient itself,
$m_t = \beta m_{t-1} + (1-\beta) g_t$, and divides by

$$
\sqrt{v_t - m_t^2} \approx \sqrt{\mathbb{E}[g^2] - \mathbb{E}[g]^2} = \sqrt{\mathrm{Var}[g]} ,
$$

an estimate of the gradient's standard deviation rather than of its root mean square.
A coordinate whose gradient is consistent (large mean, small noise) then gets a larger
step than one whose gradient is mostly noise. With the uncentered form both are divided
by $\sqrt{\text{mean}^2 + \text{variance}}$, so a strong steady gradient is damped exactly
where it could be trusted.

**The difference is never negative.** Both averages use the same weights
$w_k = (1-\beta)\beta^{t-k}$, whose sum $A_t = 1 - \beta^t$ is at most one. By the
Cauchy-Schwarz inequality,

$$
\begin{aligned}
m_t^2 &= \Big(\sum_k w_k g_k\Big)^2 \le \Big(\sum_k w_k\Big)\Big(\sum_k w_k g_k^2\Big)\\
&= A_t \, v_t \le v_t ,
\end{aligned}
$$

so in exact arithmetic the square root is of a non-negative number. In floating point
the difference can round below zero when $m_t^2 = v_t$ exactly, which happens for
$\beta = 0$ (one gradient is all the history): the square root is then NaN, in torch as
here, and $\epsilon$, added after the root, does not help. Centered RMSprop needs
$\beta > 0$.

**What it estimates, exactly.** Take gradients $g_k = \bar g + \sigma\xi_k$ with independent
standard noise $\xi_k$, and write $B_t = \sum_k w_k^2 = \frac{(1-\beta)(1-\beta^{2t})}{1+\beta}$.
Then $\mathbb{E}[v_t] = A_t(\bar g^2 + \sigma^2)$ and
$\mathbb{E}[m_t^2] = (\mathbb{E}[m_t])^2 + \mathrm{Var}[m_t] = A_t^2\bar g^2 + B_t\sigma^2$, so

$$
\mathbb{E}[v_t - m_t^2] = (A_t - B_t)\,\sigma^2 + A_t (1 - A_t)\,\bar g^2 .
$$

In the long run $A_t \to 1$ and this is $\frac{2\beta}{1+\beta}\sigma^2$: the variance,
slightly underestimated ($0.995\,\sigma^2$ at $\beta = 0.99$) because $m_t$ contains the
very noise it is subtracted from. Early on, the zero start adds $A_t(1-A_t)\bar g^2$: $m$
lags behind $v$, and the scale is inflated for the first few hundred steps when the mean
is large. On the figure's stream ($\bar g = 1$, $\sigma = 0.2$, $\beta = 0.99$) the expected
scale $\sqrt{\mathbb{E}[v_t - m_t^2]}$ is $0.10$ at $t = 1$, peaks at $0.52$ at $t = 73$
(near $t = 69$, where $A_t = 1/2$ makes $A_t(1 - A_t)$ largest), and stays more than
10 % above its target $0.2$ until $t = 468$ (the bump at the start of the figure; the one
after step 1500 is $m$ catching up with the new mean).

**With no noise it vanishes.** For a constant gradient ($\sigma = 0$) only the second term
is left, $v_t - m_t^2 = (1-\beta^t)\beta^t g^2 \to 0$, and the step
$\eta\,|g| / (\sqrt{(1 - \beta^t)\beta^t}\,|g| + \epsilon)$ grows geometrically, by
$1/\sqrt\beta$ per step. In exact arithmetic $\epsilon$ would cap it at $\eta|g|/\epsilon$;
in float32 rounding gets there first: with $\beta = 0.9$ the difference $v_t - m_t^2$
is rounding noise after about 130 steps, and the step is enormous or NaN. Centered
RMSprop assumes noisy gradients; on a deterministic problem it blows up.

![Plain and centered RMSprop on a noisy problem](rmsprop.png)

## Momentum on the scaled step

With `momentum` $\mu > 0$ the buffer accumulates the *scaled* step, not the gradient:

$$
\begin{aligned}
b_t &= \mu \, b_{t-1} + \frac{g_t}{\sqrt{v_t} + \epsilon}, \\
\theta_t &= \theta_{t-1} - \eta \, b_t ,
\end{aligned}
$$

the heavy ball of [SGD](sgd.md) run on the preconditioned direction, with effective step
$\eta / (1 - \mu)$ once the direction is steady. [Adam](adam.md) puts its momentum on the
gradient *before* dividing; here each gradient is divided by the scale of its own step,
and later changes of the scale do not rescale the buffer.

## Weight decay, maximize and complex parameters

`weight_decay` $\lambda$ adds $\lambda\theta$ to the gradient before anything else, so it
enters $v$, $m$ and the scaled step. `maximize` negates the gradient. A complex parameter
is handled as its real view: its real and imaginary parts are separate coordinates with
separate averages.

## References

- Tijmen Tieleman and Geoffrey Hinton, *Lecture 6.5, rmsprop: Divide the gradient by a
  running average of its recent magnitude*, Neural Networks for Machine Learning (Coursera),
  2012. [slides](https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf)
- Alex Graves, *Generating Sequences With Recurrent Neural Networks*, 2013 (the centered
  variant). [arXiv:1308.0850](https://arxiv.org/abs/1308.0850)
- torch's
  [`torch.optim.RMSprop`](https://docs.pytorch.org/docs/stable/generated/torch.optim.RMSprop.html),
  the implementation this chapter is tested against
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


def _rmsprop_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    *,
    lr: float | Tensor,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
    maximize: bool,
) -> None:
    """One RMSprop step on one tensor, in torch's order of operations."""
    state["step"] += 1
    # Maximising $f$ is minimising $-f$.
    if maximize:
        grad = -grad
    # L2 penalty: $\lambda\theta$ joins the gradient before it is averaged and
    # scaled. (Done on the complex tensor, as torch does, to stay bitwise equal.)
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)
    square_avg = state["square_avg"]
    # A complex entry is two real coordinates: from here on, work on real views.
    real = torch.view_as_real if param.is_complex() else _identity
    param, grad, square_avg = real(param), real(grad), real(square_avg)
    # $v_t = \beta v_{t-1} + (1 - \beta) g_t^2$
    square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
    if centered:
        # $m_t = \beta m_{t-1} + (1 - \beta) g_t$, written as a lerp towards
        # $g_t$; the scale is then $\sqrt{v_t - m_t^2}$, the standard deviation.
        grad_avg = real(state["grad_avg"])
        grad_avg.lerp_(grad, 1 - alpha)
        denom = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
    else:
        denom = square_avg.sqrt()
    denom.add_(eps)
    if momentum > 0:
        # $b_t = \mu b_{t-1} + g_t / (\sqrt{\cdot} + \epsilon)$; the step is
        # $-\eta b_t$.
        buf = real(state["momentum_buffer"])
        buf.mul_(momentum).addcdiv_(grad, denom)
        param.add_(buf, alpha=-lr)
    else:
        param.addcdiv_(grad, denom, value=-lr)


def _identity(x: Tensor) -> Tensor:
    return x


class RMSprop(Optimizer):
    r"""RMSprop, with torch's arguments, defaults and state.

    `lr` $\eta$, `alpha` $\beta$, `eps` $\epsilon$, `weight_decay` $\lambda$ (an L2
    penalty added to the gradient), `momentum` $\mu$, `centered`, `maximize`. State:
    `step`, `square_avg` ($v$), `momentum_buffer` ($b$, when $\mu > 0$) and `grad_avg`
    ($m$, when centered). `capturable`, `foreach` and `differentiable` exist for
    compatibility and accept only their "off" values: this file is the single-tensor path.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        # A bad argument fails here, with its name first, rather than as a NaN later.
        _check_lr(lr, foreach)
        _check_nonnegative("eps", eps, "Invalid epsilon value")
        _check_nonnegative("momentum", momentum, "Invalid momentum value")
        _check_nonnegative("weight_decay", weight_decay, "Invalid weight_decay value")
        # torch only asks alpha >= 0; above 1 the weight 1 - alpha is negative, $v$ can
        # turn negative and its square root NaN, so we refuse that too.
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha} (Invalid alpha value: {alpha})")
        _check_paths(foreach=foreach, capturable=capturable, differentiable=differentiable)
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            capturable=capturable,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Groups from older state dicts may lack the newer keys; fill torch's defaults.
        # Old checkpoints also kept `step` as a number; make it a tensor again.
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        for param_state in self.state.values():
            _step_as_tensor(param_state)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step for every parameter that has a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            # The closure recomputes the loss and its gradients, so it needs autograd on.
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            # As torch does, refuse a sparse gradient before touching any tensor of the
            # group.
            with_grad = [p for p in group["params"] if p.grad is not None]
            _check_sparse("RMSprop", with_grad, ": the leaky average decays every "
                          "coordinate at every step, so the update is dense")
            # Hyper-parameters are read once per group, not once per tensor.
            lr, alpha, eps = _scalar(group["lr"]), group["alpha"], group["eps"]
            momentum, weight_decay = group["momentum"], group["weight_decay"]
            centered, maximize = group["centered"], group["maximize"]
            for param in with_grad:
                state = self.state[param]
                # State starts at zero: $v_0 = 0$ (and $m_0 = 0$, $b_0 = 0$).
                if len(state) == 0:
                    state["step"] = torch.zeros((), dtype=_step_dtype())
                    state["square_avg"] = torch.zeros_like(
                        param, memory_format=torch.preserve_format
                    )
                # The optional buffers are created when first needed, so a group may
                # switch `momentum` or `centered` on mid-run (torch would fail with a
                # KeyError).
                if momentum > 0 and "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(
                        param, memory_format=torch.preserve_format
                    )
                if centered and "grad_avg" not in state:
                    state["grad_avg"] = torch.zeros_like(
                        param, memory_format=torch.preserve_format
                    )
                _rmsprop_update(
                    param, param.grad, state, lr=lr, alpha=alpha, eps=eps,
                    weight_decay=weight_decay, momentum=momentum, centered=centered,
                    maximize=maximize,
                )
        return loss


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
# Left: what each variant divides by, for a stream of gradients $g_t = \bar g_t + 0.2\,\xi_t$
# whose mean $\bar g_t$ drops from 1 to 0 at step 1500 (read from the optimizer's state with
# $\eta = 0$). The plain scale $\sqrt{v_t}$ follows the root mean square
# $\sqrt{\bar g_t^2 + 0.2^2}$, the centered $\sqrt{v_t - m_t^2}$ follows the standard
# deviation $0.2$, with a bump while $m$ catches up with the new mean. Right: both on a
# noisy quadratic $f = \frac{1}{2}(\theta_1^2 + \theta_2^2)$ whose first coordinate has
# gradient noise $\sigma_1 = 0.05$ and the second $\sigma_2 = 2$, at the same $\eta$.
# Centered RMSprop takes much larger steps on the clean coordinate, whose gradient is
# mostly signal, and on the noisy one too it travels further, about 25 % (1.87 against
# 1.49 from the start at 3, after 2000 steps): there it divides by the noise's standard
# deviation 2, plain RMSprop by the root mean square $\sqrt{\theta_2^2 + 4}$, about 2.5
# while $\theta_2$ is near 1.5.
def main(argv: list[str] | None = None) -> None:
    """Compare plain and centered RMSprop: their scales, and a noisy quadratic."""
    import argparse

    parser = argparse.ArgumentParser(description="Draw the RMSprop chapter's figure.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gen = torch.Generator().manual_seed(0)
    f64 = torch.float64
    fig, (ax_scale, ax_run) = plt.subplots(1, 2, figsize=(12, 4.6))

    # Left panel: the two scales on a gradient stream whose mean changes.
    steps, switch, noise_sd = 3000, 1500, 0.2
    mean = torch.where(torch.arange(steps) < switch, 1.0, 0.0).to(f64)
    grads = mean + noise_sd * torch.randn(steps, generator=gen, dtype=f64)
    theta = torch.zeros(1, dtype=f64, requires_grad=True)
    opt = RMSprop([theta], lr=0.0, centered=True)
    plain, centered = torch.empty(steps, dtype=f64), torch.empty(steps, dtype=f64)
    for t in range(steps):
        theta.grad = grads[t].reshape(1)
        opt.step()
        v, m = opt.state[theta]["square_avg"], opt.state[theta]["grad_avg"]
        plain[t], centered[t] = v.sqrt().item(), (v - m * m).sqrt().item()
    t_axis = torch.arange(1, steps + 1)
    ax_scale.plot(t_axis, plain, color="tab:blue", label="plain: $\\sqrt{v_t}$")
    ax_scale.plot(t_axis, centered, color="tab:orange", label="centered: $\\sqrt{v_t - m_t^2}$")
    ax_scale.plot(t_axis, (mean**2 + noise_sd**2).sqrt(), "k:", lw=1,
                  label="RMS $\\sqrt{\\bar g_t^2 + 0.2^2}$")
    ax_scale.plot(t_axis, torch.full((steps,), noise_sd), "k--", lw=1,
                  label="standard deviation 0.2")
    ax_scale.set(xlabel="step $t$", ylabel="scale the step is divided by",
                 title="Gradient mean 1, then 0; noise 0.2 ($\\beta$ = 0.99)", ylim=(0, 1.3))
    ax_scale.legend(fontsize=8, loc="upper right")

    # Right panel: a noisy quadratic with one clean and one noisy coordinate.
    steps, lr = 2000, 1e-3
    sigma = torch.tensor([0.05, 2.0], dtype=f64)
    noise = sigma * torch.randn(steps, 2, generator=gen, dtype=f64)
    for is_centered, color in ((False, "tab:blue"), (True, "tab:orange")):
        theta = torch.full((2,), 3.0, dtype=f64, requires_grad=True)
        opt = RMSprop([theta], lr=lr, centered=is_centered)
        path = torch.empty(steps, 2, dtype=f64)
        for t in range(steps):
            theta.grad = theta.detach() + noise[t]  # the gradient of f, plus noise
            opt.step()
            path[t] = theta.detach()
        name = "centered" if is_centered else "plain"
        ax_run.semilogy(t_axis[:steps], path[:, 0].abs(), color=color,
                        label=f"{name}, clean coordinate ($\\sigma$ = 0.05)")
        ax_run.semilogy(t_axis[:steps], path[:, 1].abs(), "--", color=color, lw=1,
                        label=f"{name}, noisy coordinate ($\\sigma$ = 2)")
    ax_run.set(xlabel="step $t$", ylabel="$|\\theta_i|$ (optimum at 0)",
               title=f"Noisy quadratic, $\\eta$ = {lr:g}", ylim=(1e-4, 10))
    ax_run.legend(fontsize=8, loc="lower left")
    fig.tight_layout()

    if args.save:
        fig.savefig(args.save, dpi=110)
    else:
        plt.show()


if __name__ == "__main__":
    main()
