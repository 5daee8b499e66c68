r"""
---
title: AdamW
summary: Why weight decay is not L2 regularization for Adam, and how torch scales it by lr.
group: Optimizers
order: 60
---

# AdamW

For plain SGD, weight decay and L2 regularization are the same thing. Adding
$\frac{\lambda'}{2}\|\theta\|^2$ to the loss adds $\lambda'\theta$ to the gradient, and the
step $\theta \leftarrow \theta - \eta(g + \lambda'\theta) = (1 - \eta\lambda')\theta - \eta g$
shrinks every weight by the same factor. Loshchilov & Hutter ("Decoupled Weight Decay
Regularization", ICLR 2019) pointed out that for [Adam](adam.md) they are not the same, and
that the shrinking factor, not the penalty, is what generalizes well. AdamW applies it
directly.

**Sharding.** Safe under sharding (DDP, `ZeroRedundancyOptimizer`, FSDP2): the update is
elementwise, so each rank steps its own shard of the parameter and state exactly as one
process would, bit for bit (tested with two processes).

## L2 through Adam

Take $\beta_1 = 0$ so that the first moment is the gradient itself, and write
$D_t = \sqrt{\hat v_t} + \epsilon$ for Adam's per-coordinate denominator. With the penalty
in the gradient,

$$
\begin{aligned}
\theta_t &= \theta_{t-1} - \eta\,\frac{g_t + \lambda'\theta_{t-1}}{D_t}\\
&= \left(1 - \frac{\eta\lambda'}{D_t}\right)\theta_{t-1} - \eta\,\frac{g_t}{D_t} .
\end{aligned}
$$

The shrinking factor $1 - \eta\lambda'/D_t$ depends on the coordinate: where the gradients
have been large, $D_t$ is large and the weight is hardly decayed; where they have been
small, the decay is strong (until $\lambda'\theta$ dominates the gradient: then $D_t$
grows with $|\theta|$ and the step towards zero is at most about $\eta$). Exactly the
weights with large gradients, which a regularizer should hold back, escape it. With
$\beta_1 > 0$ the penalty also enters the momentum, so old values of $\theta$ keep
decaying today's.

## Decoupled decay

AdamW shrinks the weights outside the adaptive step:

$$
\theta_t = (1 - \eta\lambda)\,\theta_{t-1} - \eta\,\frac{\hat m_t}{D_t} ,
$$

the same factor $1 - \eta\lambda$ for every coordinate, and $v_t$ sees only the loss's
gradients. The tests check both update rules against the optimizers one step at a time.

![Mean weight after 1000 steps of pure-noise gradients, per gradient scale: decoupled decay
shrinks every coordinate alike; L2 decay through Adam shrinks coordinates with small
gradients more and leaves those with large gradients almost untouched](adamw.png)

## What the paper found

The paper's main empirical point is about tuning, not only accuracy. With L2 through Adam
(and through SGD) the best penalty depends on the learning rate: in the grids of
learning rate against decay the good settings lie along a diagonal, because the shrinking
per step is $\eta\lambda'$ (divided by $D_t$ for Adam), so raising $\eta$ asks for a lower
$\lambda'$. Decoupling the decay and multiplying it by the schedule only (below) makes the
best decay nearly independent of the learning rate: the good region of the grid becomes a
rectangle, and the two can be tuned one after the other. With that, Adam's generalization
on CIFAR-10 and ImageNet32x32 image classification closed most of its gap to SGD with
momentum.

They also found that the best decay shrinks as runs get longer, and proposed a
*normalized* weight decay: write $\lambda_{\text{paper}} = \lambda_{\text{norm}}\sqrt{b/(BE)}$
for batch size $b$, $B$ training points and $E$ epochs (the paper's $T$), and tune
$\lambda_{\text{norm}}$ instead. A run has $BE/b$ steps, so the total shrinking is about
$(1 - \lambda_{\text{paper}})^{BE/b} \approx \exp(-\lambda_{\text{norm}}\sqrt{BE/b})$: a run
with four times the steps gets half the decay per step and twice the total exponent, and
$\lambda_{\text{norm}}$ carries over between run lengths better than $\lambda_{\text{paper}}$
does. This chapter takes the decay per step as given and leaves the normalization to the
caller.

## How torch scales $\lambda$

The paper writes the step as $\theta_t = \theta_{t-1} - \omega_t\left(\eta\, \hat m_t/D_t +
\lambda_{\text{paper}}\theta_{t-1}\right)$ with $\omega_t$ a schedule multiplier ($1$
without a schedule; it is the paper's $\eta_t$, and our $\eta$ is the paper's $\alpha$): the decay
follows the schedule but not $\eta$. torch (and most libraries) instead multiply by the
current learning rate `lr` $= \eta\,\omega_t$:

$$
\theta_t = (1 - \mathrm{lr}\cdot\lambda)\,\theta_{t-1} - \ldots,
\qquad \lambda_{\text{paper}} = \eta \cdot \lambda .
$$

So torch's default `weight_decay=1e-2` with `lr=1e-3` shrinks by $10^{-5}$ per step, and
changing `lr` changes the decay too: tuning the two is not independent. The
`weight_decay_mode` argument chooses:

- `"lr"` (default, torch): shrink by $\mathrm{lr}\cdot\lambda$.
- `"schedule"` (the paper): shrink by $\omega_t\lambda$ with $\omega_t = \mathrm{lr}/\mathrm{lr}_0$,
  `lr_0` being the group's `initial_lr` (its `lr` when the optimizer was built, the key
  torch's schedulers also use). `weight_decay` is then $\lambda_{\text{paper}}$.
- `"constant"`: shrink by $\lambda$ every step, whatever the learning rate.

All three agree when `lr` is constant and $\lambda$ is rescaled accordingly; the tests
check that, and that only `"lr"` is affected by the value of `lr` itself.

**Why the decay follows the schedule.** Take a coordinate whose Adam direction stays
$\hat m_t/D_t = -1$ (a steady pull away from zero). With the paper's rule,

$$
\theta_t = (1 - \omega_t\lambda_{\text{paper}})\,\theta_{t-1} + \omega_t\eta ,
$$

whose fixed point, where decay and pull cancel, is $\theta^\star = \eta/\lambda_{\text{paper}}$:
$\omega_t$ multiplies both terms and drops out. The balance between the loss and the
regularizer is the same at every point of the schedule, in warmup, at the peak and while
annealing. torch's `"lr"` rule keeps that property ($\theta^\star = 1/\lambda$). A decay
that ignores the schedule, `"constant"`, has the fixed point $\omega_t\eta/\lambda$: as the
learning rate anneals towards zero the regularizer takes over and pulls the weights towards
zero, with nothing left to hold them, exactly when the run is meant to settle. The tests run
all three modes through a cosine schedule on this coordinate.

## References

- Ilya Loshchilov and Frank Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019.
  [arXiv:1711.05101](https://arxiv.org/abs/1711.05101)
- torch's
  [`torch.optim.AdamW`](https://docs.pytorch.org/docs/stable/generated/torch.optim.AdamW.html),
  the implementation this chapter is tested against
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

DECAY_MODES = ("lr", "schedule", "constant")


class AdamW(Optimizer):
    r"""AdamW, a drop-in replacement for `torch.optim.AdamW`.

    Same signature, defaults (`weight_decay=1e-2`), group keys and state keys; with the
    default `weight_decay_mode="lr"` bitwise equal to torch's for-loop path.
    `weight_decay_mode` ("lr", "schedule" or "constant") says what the decay is multiplied
    by, as explained above.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        weight_decay_mode: str = "lr",
    ) -> None:
        betas = _check_adam_arguments(
            lr, betas, eps, weight_decay, foreach=foreach, capturable=capturable,
            differentiable=differentiable, fused=fused,
        )
        if weight_decay_mode not in DECAY_MODES:
            raise ValueError(
                f"weight_decay_mode must be one of {DECAY_MODES}, got {weight_decay_mode!r}"
            )
        # `decoupled_weight_decay=True` is how torch's AdamW groups mark themselves.
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
            maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable, fused=fused, decoupled_weight_decay=True,
            weight_decay_mode=weight_decay_mode,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            if group["weight_decay_mode"] == "schedule":
                # The reference learning rate $\mathrm{lr}_0$; torch's schedulers keep
                # theirs under the same key with the same meaning.
                group.setdefault("initial_lr", _scalar(group["lr"]))

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Fill in keys that older or torch state dicts lack; decay is always decoupled."""
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
            group.setdefault("weight_decay_mode", "lr")
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
            for p in group["params"]:
                _step_as_tensor(self.state.get(p, {}))

    def decay_factor(self, group: dict[str, Any]) -> float:
        r"""The $\lambda$ actually applied this step, by `weight_decay_mode`."""
        mode, weight_decay = group["weight_decay_mode"], group["weight_decay"]
        if mode == "lr":
            return _scalar(group["lr"]) * weight_decay
        if mode == "schedule":
            # $\omega_t\lambda$ with $\omega_t = \mathrm{lr}/\mathrm{lr}_0$.
            initial = group.get("initial_lr", _scalar(group["lr"]))
            return _scalar(group["lr"]) / initial * weight_decay if initial else 0.0
        return weight_decay

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one AdamW step for every parameter that has a gradient; return the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            lr = _scalar(group["lr"])
            beta1, beta2 = (_scalar(b) for b in group["betas"])
            eps, amsgrad = group["eps"], group["amsgrad"]
            decay = self.decay_factor(group)
            params = [p for p in group["params"] if p.grad is not None]
            _check_sparse(type(self).__name__, params)
            for param in params:
                grad = param.grad
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0, dtype=_step_dtype())
                    state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(
                        param, memory_format=torch.preserve_format
                    )
                    if amsgrad:
                        state["max_exp_avg_sq"] = torch.zeros_like(
                            param, memory_format=torch.preserve_format
                        )
                elif amsgrad and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = state["exp_avg_sq"].clone()

                state["step"] += 1
                step = _get_value(state["step"])
                if group["maximize"]:
                    grad = -grad
                # The decoupled decay: $\theta \leftarrow (1 - \lambda)\theta$, before and
                # outside the adaptive step, so $g$ and $v$ never see it. (torch writes
                # `1 - lr * weight_decay` as one number; so do we, for equal rounding.)
                if group["weight_decay"] != 0:
                    param.mul_(1 - decay)

                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                max_exp_avg_sq = state.get("max_exp_avg_sq") if amsgrad else None
                if torch.is_complex(param):
                    param, grad = torch.view_as_real(param), torch.view_as_real(grad)
                    exp_avg = torch.view_as_real(exp_avg)
                    exp_avg_sq = torch.view_as_real(exp_avg_sq)
                    if max_exp_avg_sq is not None:
                        max_exp_avg_sq = torch.view_as_real(max_exp_avg_sq)

                # The rest is [Adam](adam.md) unchanged, on the loss's gradient alone.
                exp_avg.lerp_(grad, 1 - _like(beta1, param))
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                bias_correction1 = 1 - _power(beta1, step)
                bias_correction2_sqrt = (1 - _power(beta2, step)) ** 0.5
                second = exp_avg_sq
                if max_exp_avg_sq is not None:
                    torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    second = max_exp_avg_sq
                denom = _divide(second.sqrt(), bias_correction2_sqrt, inplace=True).add_(eps)
                param.addcdiv_(exp_avg, denom, value=-(lr / bias_correction1))
        return loss


#
def decay_experiment(
    scales: list[float], *, coordinates: int = 200, steps: int = 1000, lr: float = 1e-3,
    weight_decay: float = 1.0, seed: int = 0,
) -> tuple[list[float], list[float]]:
    r"""Mean weight after `steps` steps of pure-noise gradients, one value per gradient scale.

    Every coordinate starts at $\theta = 1$ and sees gradients $\sigma z$, $z \sim N(0, 1)$:
    the loss has no preference, so only the decay moves the mean. Returns the means for
    Adam with L2 decay $\lambda' =$ `weight_decay` and for AdamW with `lr * weight_decay`
    per step, with $\beta_1 = 0$ as in the derivation.
    """
    sigma = torch.tensor(scales, dtype=torch.float64).repeat_interleave(coordinates)
    gen = torch.Generator().manual_seed(seed)
    noise = [torch.randn(sigma.shape, generator=gen, dtype=torch.float64) * sigma
             for _ in range(steps)]
    results = []
    for decoupled in (False, True):
        theta = torch.ones_like(sigma, requires_grad=True)
        if decoupled:
            opt: Optimizer = AdamW([theta], lr=lr, betas=(0.0, 0.999), weight_decay=weight_decay)
        else:
            opt = torch.optim.Adam([theta], lr=lr, betas=(0.0, 0.999), weight_decay=weight_decay,
                                   foreach=False)
        for g in noise:
            theta.grad = g
            opt.step()
        results.append(theta.detach().view(len(scales), coordinates).mean(1).tolist())
    return results[0], results[1]


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


def _like(x: float | Tensor, param: Tensor) -> float | Tensor:
    """A tensor hyper-parameter on the parameter's device and in its dtype, as torch
    casts it before mixing it with the parameter; a number as it is."""
    return x.to(device=param.device, dtype=param.dtype) if isinstance(x, Tensor) else x


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
    """Plot the mean weight after decay per gradient scale, L2 against decoupled."""
    import argparse

    parser = argparse.ArgumentParser(description="Draw the AdamW chapter's figure.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE (PNG)")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scales = [10 ** (k / 2) for k in range(-8, 5)]
    l2, decoupled = decay_experiment(scales, coordinates=100)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.semilogx(scales, l2, "o-", color="tab:red", label=r"Adam + L2 ($\lambda' = 1$)")
    ax.semilogx(scales, decoupled, "s-", color="tab:blue",
                label=r"AdamW ($\mathrm{lr}\cdot\lambda = 10^{-3}$ per step)")
    ax.axhline(1.0, color="gray", lw=0.8, ls=":")
    ax.axhline((1 - 1e-3) ** 1000, color="tab:blue", lw=0.8, ls="--",
               label=r"$(1 - 10^{-3})^{1000} \approx e^{-1}$")
    ax.set_xlabel(r"gradient scale $\sigma$ of the coordinate")
    ax.set_ylabel(r"mean $\theta$ after 1000 steps (from 1)")
    ax.set_title(r"decay of a weight the loss does not care about (lr $= 10^{-3}$, $\beta_1 = 0$)")
    ax.legend(loc="center right")
    fig.tight_layout()
    if args.save:
        fig.savefig(args.save, dpi=110)
    else:
        plt.show()


if __name__ == "__main__":
    main()
