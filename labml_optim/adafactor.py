r"""
---
title: Adafactor
summary: Adam's second moment in O(n + m) memory per matrix, update clipping and relative steps.
group: Memory and geometry
order: 200
---

# Adafactor

[Adam](adam.md) keeps two numbers per parameter, so its state is twice the model. Shazeer &
Stern (2018) keep, for each weight matrix, only a running average of the *row sums* and of
the *column sums* of the squared gradient, and rebuild the per-entry second moment from
them. An $n \times m$ matrix then costs $n + m$ numbers instead of $2nm$. Three more changes
make the method stable without momentum: a decay rate that grows with $t$, update clipping,
and a step size relative to the parameter's own scale. This page derives each one and then
lists where torch's `Adafactor` departs from the paper.

**Sharding.** Safe under sharding (DDP, `ZeroRedundancyOptimizer`, FSDP2): under FSDP2
each rank keeps the row means of its own rows, while the column means, the parameter's RMS
and the update's RMS are reductions over the whole DTensor (the norms are completed across
the ranks before they are read as numbers, where `.item()` alone would silently read the
local shard's norm). A tensor of more than two dimensions is factored over its last two,
which FSDP2's shards on the first hold whole. Equal to one process up to the order of those
sums (1e-7, tested with two processes, and for 3-D and 4-D tensors whose shards are even
or not).

## The algorithm

For a matrix parameter $\theta$ with gradient $G_t$, with $\hat\beta_{2,t} = 1 - t^{-c}$
($c = 0.8$, torch's `beta2_decay` is $-c$), the relative step
$\eta^{\text{rel}}_t = \min(10^{-2}, 1/\sqrt t)$ (the paper's $\rho_t$), the clipping threshold
$\gamma = 1$ (the paper's and torch's `d`), and $\mathbf 1$ a vector of ones,

$$
\begin{aligned}
R_t &= \hat\beta_{2,t} R_{t-1} + (1 - \hat\beta_{2,t})\,(G_t^2)\,\mathbf 1_m \\
  &\qquad \text{(row sums, } n \text{ numbers)} \\
C_t &= \hat\beta_{2,t} C_{t-1} + (1 - \hat\beta_{2,t})\,\mathbf 1_n^\top (G_t^2) \\
  &\qquad \text{(column sums, } m \text{ numbers)} \\
\hat V_t &= R_t C_t / (\mathbf 1_n^\top R_t) \\
  &\quad \text{(rank-1 estimate of the second moment)} \\
U_t &= G_t / \sqrt{\hat V_t}, \\
\hat U_t &= U_t / \max\!\big(1, \operatorname{RMS}(U_t)/\gamma\big) \\
  &\qquad \text{(update clipping)} \\
\eta^{\text{abs}}_t &= \max\!\big(\epsilon_2, \operatorname{RMS}(\theta_{t-1})\big)\,
  \eta^{\text{rel}}_t, \\
\theta_t &= \theta_{t-1} - \eta^{\text{abs}}_t \hat U_t \\
  &\qquad \text{(relative step)}
\end{aligned}
$$

where $G_t^2$ is elementwise, $\operatorname{RMS}(x) = \|x\|_2/\sqrt{\text{size}(x)}$ and
$\eta^{\text{abs}}_t$ is the absolute step size (the paper's $\alpha$). A
vector parameter keeps the full $V_t = \hat\beta_{2,t} V_{t-1} + (1 - \hat\beta_{2,t}) G_t^2$;
a tensor of higher rank is factored over its last two dimensions, one pair of factors per
leading index. There is no first moment: the paper trains its Transformer without momentum.

## Why $R C^\top / \mathbf 1^\top R$: the best rank-1 fit in generalised KL

Let $V \ge 0$ be the $n \times m$ matrix to approximate (the running average of $G^2$) and
look for the nonnegative rank-1 matrix $W = r s^\top$ closest to it in the generalised
Kullback–Leibler divergence, which suits nonnegative data:

$$
D(V \,\|\, W) = \sum_{i,j} \Big( V_{ij} \log \frac{V_{ij}}{W_{ij}} - V_{ij} + W_{ij} \Big) .
$$

Write $R_i = \sum_j V_{ij}$, $C_j = \sum_i V_{ij}$ and $S = \sum_{ij} V_{ij}$. Setting the
derivatives with respect to $r_i$ and $s_j$ to zero,

$$
\begin{aligned}
\frac{\partial D}{\partial r_i} &= \sum_j \Big( s_j - \frac{V_{ij}}{r_i} \Big) = 0\\
&\;\Rightarrow\; r_i \sum_j s_j = R_i ,\\
\frac{\partial D}{\partial s_j} &= 0 \;\Rightarrow\; s_j \sum_i r_i = C_j .
\end{aligned}
$$

Summing the first over $i$ gives $\sum_i r_i \sum_j s_j = S$, and then

$$
W_{ij} = r_i s_j = \frac{R_i}{\sum_j s_j} \cdot \frac{C_j}{\sum_i r_i}
= \frac{R_i C_j}{S} = \frac{R_i C_j}{\sum_i R_i} .
$$

The scale shared between $r$ and $s$ cancels, so $W$ is unique. It is the minimum, not just a
stationary point: in the variables $a_i = \log r_i$, $b_j = \log s_j$ the objective is
$\sum_{ij} (e^{a_i + b_j} - V_{ij}(a_i + b_j)) + \text{const}$, a sum of convex functions of
linear forms, hence convex, and a stationary point of a convex function is a global minimum.
Two consequences: $W$ has exactly the row sums $R$ and column sums $C$ of $V$; and if $V$ is
itself rank 1, $W = V$. The tests check the closed form against a numerical minimiser, check
that perturbing $r$ or $s$ only increases $D$, and check both consequences.

The reason this is cheap: row and column sums are linear in $V$, so the row sums of the
running average of $G^2$ are the running average of the row sums of $G^2$. Keeping $R_t$ and
$C_t$ is therefore exactly enough to form the best rank-1 fit of the full accumulator, which
is never stored.

Using means instead of sums changes nothing: with $R' = R/m$ and $C' = C/n$,

$$
\frac{R' C'^\top}{\operatorname{mean}_i R'_i} = \frac{R C^\top / nm}{\sum_i R_i / nm}
= \frac{R C^\top}{\sum_i R_i} .
$$

torch stores the means (`row_var`, `col_var`), which keeps the numbers of the size of one
squared gradient.

## Memory

For the parameter list of a base-size Transformer encoder ($d_{\text{model}} = 512$,
feed-forward $2048$,
6 layers, a $32000 \times 512$ embedding; 35.3 M parameters in 97 tensors) Adam's state is
282.4 MB in float32, Adafactor's 0.51 MB, 552 times less. The embedding matrix alone would
cost Adam 131 MB, and Adafactor $(32000 + 512) \times 4$ bytes. The vectors (biases, norms)
are kept in full by both and are a rounding error. The tests measure these numbers on the
optimizers' state.

![Left: the decay rate of Adafactor's schedule for three exponents, and the equivalent rate
of Adam's bias correction; right: optimizer state bytes for a Transformer-shaped parameter
list](adafactor.png)

## The decay schedule $\hat\beta_{2,t} = 1 - t^{-c}$

Adam's bias-corrected $\hat v_t = v_t / (1 - \beta_2^t)$ is itself a running average with a
decay rate that depends on $t$. Substituting $v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2$
and $v_{t-1} = (1 - \beta_2^{t-1}) \hat v_{t-1}$:

$$
\begin{aligned}
\hat v_t &= \underbrace{\frac{\beta_2 (1 - \beta_2^{t-1})}{1 - \beta_2^t}}_{\hat\beta_{2,t}}\,
\hat v_{t-1} + \frac{1 - \beta_2}{1 - \beta_2^t}\, g_t^2 ,\\
1 - \hat\beta_{2,t} &= \frac{1 - \beta_2^t - \beta_2 + \beta_2^t}{1 - \beta_2^t}\\
&= \frac{1 - \beta_2}{1 - \beta_2^t} .
\end{aligned}
$$

So bias correction is the same as a decay rate that starts at $\hat\beta_{2,1} = 0$ (the
first estimate is $g_1^2$ itself) and rises to $\beta_2$. Adafactor keeps the idea and
replaces the formula by $\hat\beta_{2,t} = 1 - t^{-c}$, which also starts at $0$, so no
correction is needed, but keeps rising towards $1$ instead of stopping at $\beta_2$: the
average remembers longer as training goes on. With $c = 1$, $1 - \hat\beta_{2,t} = 1/t$ and
the recursion is the running arithmetic mean, $V_t = \frac1t\sum_{i \le t} G_i^2$. With
$c < 1$ recent gradients weigh more; with any $c$ the weights add up to exactly $1$, because
$\hat\beta_{2,1} = 0$ leaves no weight on the zero start. For $c = 0.8$ the rate is $0.426$ at
$t = 2$, $0.975$ at $t = 100$ and reaches $0.999$ after $1000^{1/0.8} \approx 5623$ steps,
where Adam's equivalent rate (for $\beta_2 = 0.999$) has long settled at $\beta_2$. Early on
Adam's correction is itself close to the arithmetic mean: $1 - \hat\beta_{2,t} =
(1 - \beta_2)/(1 - \beta_2^t)$ is within 1 % of $1/t$ up to $t = 20$ (the figure's dashed
curve on the $c = 1$ line).

## Update clipping

A slow second-moment average can lag behind a gradient whose scale has just grown; then
$U_t = G_t / \sqrt{\hat V_t}$ is much larger than $1$ and the step overshoots. Dividing by
$\max(1, \operatorname{RMS}(U_t)/\gamma)$ caps the root mean square of the update at
$\gamma$ ($\gamma = 1$), leaving it untouched when it is already below:
$\operatorname{RMS}(\hat U_t) = \min(\operatorname{RMS}(U_t), \gamma)$. For a vector parameter
at $t = 1$, $\hat V_1 = G_1^2$ and
$U_1 = \operatorname{sign}(G_1)$, exactly on the threshold. Later the new $G_t^2$ enters
$V_t$ with weight $1 - \hat\beta_{2,t} = t^{-c}$, so $V_t \ge t^{-c} G_t^2$ and
$|U_t| \le t^{c/2}$ per coordinate: a sudden jump in scale can make the update up to
$15.8$ times too large at $t = 1000$ ($c = 0.8$), and that is what clipping catches. The
tests put a jump in the gradients' scale at $t = 30$ and check both the bound and the cap.

## Relative step size

The step $\eta^{\text{abs}}_t \hat U_t$ has $\operatorname{RMS} \le \eta^{\text{abs}}_t \gamma$,
and $\eta^{\text{abs}}_t = \max(\epsilon_2, \operatorname{RMS}(\theta_{t-1}))\,
\eta^{\text{rel}}_t$. So, as long as the parameter is not tiny, each step changes it by at
most $\gamma\, \eta^{\text{rel}}_t$ of its own scale:

$$
\frac{\operatorname{RMS}(\theta_t - \theta_{t-1})}{\operatorname{RMS}(\theta_{t-1})}
\le \gamma\, \eta^{\text{rel}}_t = \gamma \min\!\big(10^{-2}, 1/\sqrt t\big),
$$

with equality whenever clipping is active. A matrix of large weights and a matrix of small
weights move by the same fraction; $\epsilon_2 = 10^{-3}$ lets a parameter that starts at
zero move at all. ($1/\sqrt t$ is below $10^{-2}$ only after $10^4$ steps.)

## torch's Adafactor and the paper

torch documents its departures. This chapter follows torch by default, bitwise, and offers
the paper's form of the one departure that is not a default setting.

1. *`lr` caps the relative step.* torch uses $\eta^{\text{rel}}_t = \min(\text{lr}, 1/\sqrt t)$; the
   paper has no learning rate and uses $10^{-2}$. torch's default `lr=1e-2` is the paper's
   value, so the paper's behaviour is the default.
2. *Where $\epsilon_1$ goes.* The paper adds $\epsilon_1 = 10^{-30}$ to every $G_t^2$
   before the row and column sums and uses $U_t = G_t/\sqrt{\hat V_t}$. torch leaves the
   factors alone and instead bounds the denominator $\mathbf 1^\top R_t$ below by
   $\epsilon_1$ and $\hat V_t$ below by $\epsilon_1^2$, with $\epsilon_1$ defaulting to the
   machine epsilon of the parameter's dtype ($1.19 \times 10^{-7}$ in float32; `eps=(None,
   1e-3)`). `eps_placement="paper"` selects the paper's form (and $\epsilon_1 = 10^{-30}$
   when `eps[0]` is `None`); the tests compare it with pytorch-optimizer's `AdaFactor`.
3. *Means, not sums*, as shown above: the same $\hat V_t$, in numbers of a safer size.
4. *Weight decay.* The paper has none; torch's `weight_decay` $\lambda$ shrinks the parameter
   by $1 - \text{lr}\,\lambda$ each step, decoupled as in [AdamW](adamw.md). The default
   $\lambda = 0$ is the paper's.
5. *No first moment.* The paper's experiments also run with a first moment
   ($\beta_1 = 0.9$), but the algorithm it proposes drops it; torch has none, and neither
   does this chapter.

Two behaviours of torch's code that its documentation does not list, and that this chapter
reproduces or states: when `eps[0]` is `None`, $\epsilon_1$ is taken from the dtype of the
first parameter with a gradient in the group and kept for the rest of the group (we do the
same); and a parameter with no elements makes torch's step fail with a division by zero
(its RMS is $0/0$), where this chapter counts the step and leaves the empty tensor alone.
Complex parameters are refused, as torch refuses them.

## References

- Noam Shazeer and Mitchell Stern, *Adafactor: Adaptive Learning Rates with Sublinear Memory
  Cost*, ICML 2018. [arXiv:1804.04235](https://arxiv.org/abs/1804.04235)
- torch's
  [`torch.optim.Adafactor`](https://docs.pytorch.org/docs/stable/generated/torch.optim.Adafactor.html),
  the implementation this chapter is tested against
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


class Adafactor(Optimizer):
    r"""Adafactor, a drop-in replacement for `torch.optim.Adafactor`.

    Same signature, defaults, parameter-group keys and state keys (`step`, and `row_var`
    and `col_var` for a tensor of two or more dimensions, `variance` for a vector), so a
    state dict moves between the two in both directions. The keyword-only
    `eps_placement="paper"` puts $\epsilon_1$ where the paper puts it.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float | Tensor = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        eps_placement: str = "torch",
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError(f"lr must be a float or a 1-element tensor (Tensor lr must be "
                             f"1-element), got shape {tuple(lr.shape)}")
        if not 0.0 <= lr:
            raise ValueError(f"lr must be >= 0 (Learning rate should be >= 0 but is: {lr})")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if not isinstance(eps, (tuple, list)) or len(eps) != 2:
            raise ValueError(f"eps must be a pair (eps1, eps2), got {eps!r}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"eps[0] must be >= 0 (epsilon1 should be >= 0 but is: {eps[0]})")
        if not 0.0 <= eps[1]:
            raise ValueError(f"eps[1] must be >= 0 (epsilon2 should be >= 0 but is: {eps[1]})")
        if not 1.0 <= d:
            raise ValueError(f"d must be >= 1 (Clipping threshold d should be >= 1 but is: {d})")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay must be >= 0 (weight_decay should be >= 0 but is: "
                             f"{weight_decay})")
        if eps_placement not in ("torch", "paper"):
            raise ValueError(f"eps_placement must be 'torch' or 'paper', got {eps_placement!r}")
        _check_paths(foreach=foreach)
        defaults = dict(
            lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
            foreach=foreach, maximize=maximize, eps_placement=eps_placement,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Fill in keys that older (or torch's) state dicts lack; make a number `step` a tensor."""
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("eps_placement", "torch")
            for p in group["params"]:
                _step_as_tensor(self.state.get(p, {}))

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict; groups saved by torch's Adafactor get `eps_placement="torch"`."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group.setdefault("eps_placement", "torch")

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one Adafactor step for each parameter with a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        # Refuse complex parameters and sparse gradients anywhere before touching anything.
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if torch.is_complex(p):
                    raise RuntimeError("Adafactor does not support complex parameters")
                if p.grad.is_sparse:
                    raise RuntimeError("Adafactor does not support sparse gradients")
        for group in self.param_groups:
            eps1, eps2 = group["eps"]
            paper = group["eps_placement"] == "paper"
            for param in group["params"]:
                if param.grad is None:
                    continue
                # As torch: a missing eps1 comes from the first parameter's dtype and is
                # kept for the rest of the group.
                if eps1 is None:
                    eps1 = 1e-30 if paper else torch.finfo(param.dtype).eps
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0, dtype=_step_dtype())
                    if param.grad.dim() > 1:
                        # One number per row (last dimension reduced) and per column
                        # (second-to-last reduced), for every leading index. The rows are
                        # laid out like the gradient's first column, so under FSDP2 each
                        # rank keeps the rows of its own shard.
                        state["row_var"] = torch.zeros_like(
                            param.grad[..., :1], memory_format=torch.contiguous_format)
                        state["col_var"] = param.grad.new_zeros(
                            (*param.grad.shape[:-2], 1, param.grad.shape[-1]))
                    else:
                        state["variance"] = torch.zeros_like(
                            param.grad, memory_format=torch.preserve_format)
                update = _adafactor_update if not torch.compiler.is_compiling() else (
                    _adafactor_update_traced)
                update(
                    param, param.grad, state, lr=_scalar(group["lr"]),
                    beta2_decay=group["beta2_decay"], eps1=eps1, eps2=eps2, d=group["d"],
                    weight_decay=group["weight_decay"], maximize=group["maximize"],
                    paper=paper,
                )
        return loss


def _second_moment(grad: Tensor, state: dict[str, Tensor], weight: float | Tensor,
                   eps1: float, paper: bool) -> Tensor:
    r"""Update the factors (or the full vector average) and return $\hat V_t$, a new tensor.

    `weight` is $1 - \hat\beta_{2,t}$: the update $x \leftarrow \hat\beta x + (1-\hat\beta) y$
    is `x.lerp_(y, weight)`.
    """
    if grad.dim() > 1:
        mean = _update_factors(grad, state, weight, eps1, paper)
        # $\hat V = R C^\top / \operatorname{mean}(R)$. $R$ is a column and $C^\top$ a row, so
        # the product has one term per entry: as a broadcast product it rounds exactly as
        # torch's `@` does, and on a sharded tensor of more than three dimensions it needs
        # no reshape (`@` flattens the leading dimensions, which a DTensor cannot do when
        # its shards are uneven).
        return (state["row_var"] * state["col_var"]).div_(mean)
    variance = state["variance"]
    variance.lerp_(grad * grad + eps1 if paper else grad * grad, weight)
    return variance.clone()


def _update_factors(grad: Tensor, state: dict[str, Tensor], weight: float | Tensor,
                    eps1: float, paper: bool) -> Tensor:
    r"""Move $R$ and $C$ towards the row and column means of $G^2$; return
    $\operatorname{mean}(R)$, bounded below by $\epsilon_1$ in torch's placement."""
    row_var, col_var = state["row_var"], state["col_var"]
    if paper:
        # The paper: $\epsilon_1$ added to every $G^2$, then row and column means.
        squared = grad * grad + eps1
        row_var.lerp_(squared.mean(dim=-1, keepdim=True), weight)
        col_var.lerp_(squared.mean(dim=-2, keepdim=True), weight)
        return row_var.mean(dim=-2, keepdim=True)
    # Row means of $G^2$ as squared row norms over the row length (no $G^2$ is formed).
    # (Out of place: on a sharded gradient a norm across the shards is a pending sum
    # that must be combined first, which an in-place `square_` cannot do.)
    row_mean = torch.norm(grad, dim=-1, keepdim=True).square().div_(grad.size(-1))
    row_var.lerp_(row_mean, weight)
    col_mean = torch.norm(grad, dim=-2, keepdim=True).square().div_(grad.size(-2))
    col_var.lerp_(col_mean, weight)
    return row_var.mean(dim=-2, keepdim=True).clamp(min=eps1)


def _adafactor_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    *,
    lr: float | Tensor,
    beta2_decay: float,
    eps1: float,
    eps2: float,
    d: float,
    weight_decay: float,
    maximize: bool,
    paper: bool,
) -> None:
    r"""One Adafactor step on one tensor in eager mode, in torch's order (bitwise)."""
    if maximize:
        grad = -grad
    state["step"] += 1
    # The schedule numbers are computed on the host in double precision, as torch does.
    step = state["step"].item()
    if param.numel() == 0:
        return  # nothing to update; torch's RMS would be 0/0 here
    # $1 - \hat\beta_{2,t} = t^{-c}$ and $\eta^{\text{rel}}_t = \min(\text{lr}, 1/\sqrt t)$.
    weight = step**beta2_decay
    rho = min(lr, 1 / (step**0.5))
    # $\eta^{\text{abs}}_t = \max(\epsilon_2, \operatorname{RMS}(\theta_{t-1}))\,
    # \eta^{\text{rel}}_t$, before decay.
    alpha = max(eps2, _number(param.norm(2)) / (param.numel() ** 0.5)) * rho
    if weight_decay != 0:
        param.mul_(1 - lr * weight_decay)
    estimate = _second_moment(grad, state, weight, eps1, paper)
    # $U_t = G_t / \sqrt{\hat V_t}$; torch bounds $\hat V_t$ below by $\epsilon_1^2$.
    update = (estimate if paper else estimate.clamp_(min=eps1 * eps1)).rsqrt_().mul_(grad)
    # Clipping: divide by $\max(1, \operatorname{RMS}(U_t)/\gamma)$, $\gamma$ = `d`; then
    # $\theta \mathrel{-}= \eta^{\text{abs}}_t \hat U_t$.
    clip = max(1.0, _number(update.norm(2)) / ((update.numel() ** 0.5) * d))
    param.add_(update, alpha=-alpha / clip)


def _number(norm: Tensor) -> float:
    r"""A 0-d norm as a Python number, over the whole tensor also under FSDP2.

    The norm of a DTensor shard is a pending reduction across the ranks: `full_tensor()`
    completes it. `.item()` alone would read this rank's partial value, the norm of its own
    shard, without any error.
    """
    if _is_dtensor(norm):
        norm = norm.full_tensor()
    return norm.item()


def _is_dtensor(x: Tensor) -> bool:
    """Whether `x` is a DTensor, without importing `torch.distributed` for the check."""
    module = sys.modules.get("torch.distributed.tensor")
    return module is not None and isinstance(x, module.DTensor)


def _adafactor_update_traced(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    *,
    lr: float | Tensor,
    beta2_decay: float,
    eps1: float,
    eps2: float,
    d: float,
    weight_decay: float,
    maximize: bool,
    paper: bool,
) -> None:
    r"""The same step while compiling: every number that depends on data stays a tensor.

    Reading the step or a norm as a Python number (`.item()`) would break the graph, so
    `min`, `max` become `clamp` and the scalars are float32 tensors in the graph.
    """
    if maximize:
        grad = -grad
    state["step"] += 1
    step = state["step"]
    if param.numel() == 0:
        return
    weight = _power(step, beta2_decay)
    rho = step.rsqrt().clamp(max=lr)
    alpha = (_norm_by_rows(param) / (param.numel() ** 0.5)).clamp(min=eps2) * rho
    if weight_decay != 0:
        param.mul_(1 - lr * weight_decay)
    if grad.dim() > 1:
        # $1/\sqrt{\hat V_{ij}} = \sqrt{\bar R / R_i} \cdot 1/\sqrt{C_j}$: a row factor
        # times a column factor, formed once ($n + m$ numbers), so that a coordinate costs
        # two products instead of the $n \times m$ matrix $R C^\top$ written and read
        # back. torch's bound $\hat V \ge \epsilon_1^2$ becomes
        # $1/\sqrt{\hat V} \le 1/\epsilon_1$, the same bound since the root is monotone.
        rows, cols = _factors(grad, state, weight, eps1, paper)
        bound = math.inf if paper else 1 / eps1

        def direction() -> Tensor:
            # $U$ is formed twice, for its RMS and for the step, and never stored.
            return grad * (rows * cols).clamp(max=bound)

        clip = (_norm_by_rows(direction()) / ((grad.numel() ** 0.5) * d)).clamp(min=1.0)
        # Compiled, this last pass runs at the end of the step, after the other passes of
        # every tensor, unless the step is compiled with `compile_step` of the
        # [Fast optimizers](fast.md) chapter, which runs it while $G$ and $\theta$ are still
        # in the cache (0.58 times a plain compile's time, in one process that
        # alternated the two).
        param.sub_(direction().mul_(_ratio(alpha, clip)))
        return
    estimate = _second_moment(grad, state, weight, eps1, paper)
    update = (estimate if paper else estimate.clamp_(min=eps1 * eps1)).rsqrt_().mul_(grad)
    clip = (update.norm(2) / ((update.numel() ** 0.5) * d)).clamp(min=1.0)
    param.sub_(update.mul_(_ratio(alpha, clip)))


def _factors(grad: Tensor, state: dict[str, Tensor], weight: float | Tensor, eps1: float,
             paper: bool) -> tuple[Tensor, Tensor]:
    r"""Update $R$ and $C$ as eager does and return the row factor $\sqrt{\bar R / R_i}$
    and the column factor $1/\sqrt{C_j}$, each stored.

    `as_strided` with a tensor's own shape and strides is the tensor itself, but inductor
    can only view a buffer it has written, so the factors are computed once and stored.
    Without it inductor folded their updates (a square root and two divisions a row or
    column) into the loop over the coordinates and recomputed them for every vector of 8.
    """
    mean = _update_factors(grad, state, weight, eps1, paper)
    return _stored(mean.div(state["row_var"]).sqrt()), _stored(state["col_var"].rsqrt())


def _stored(x: Tensor) -> Tensor:
    """`x` itself, viewed so that inductor must store it (see `_factors`)."""
    return x if _is_dtensor(x) else x.as_strided(x.shape, x.stride())


def _norm_by_rows(x: Tensor) -> Tensor:
    r"""The 2-norm of `x`; for a matrix, the norm of its rows' norms.

    Inductor (torch 2.13) sums a whole large tensor on the CPU through a cascade of partial
    sums kept in memory, for accuracy, which costs bookkeeping at every vector of 8
    coordinates. By rows, each row's sum stays in a register and the total adds one number
    per row: a faster loop (the "Fast optimizers" chapter has the measurement), and within
    the compiled tests' tolerance of eager.
    """
    if x.dim() < 2:
        return torch.linalg.vector_norm(x)
    return torch.linalg.vector_norm(torch.linalg.vector_norm(x, dim=-1))


#
def kl_divergence(v: Tensor, w: Tensor) -> Tensor:
    r"""The generalised KL divergence $\sum_{ij} V \log(V/W) - V + W$ (with $0 \log 0 = 0$)."""
    log_term = torch.where(v > 0, v * (v.log() - w.log()), torch.zeros_like(v))
    return (log_term - v + w).sum()


def rank1_fit(v: Tensor) -> Tensor:
    r"""The KL-optimal rank-1 approximation $R C^\top / \sum_i R_i$ of a nonnegative matrix."""
    rows, cols = v.sum(dim=1, keepdim=True), v.sum(dim=0, keepdim=True)
    return rows @ cols / rows.sum()


def beta2_schedule(t: float, beta2_decay: float = -0.8) -> float:
    r"""$\hat\beta_{2,t} = 1 - t^{-c}$ with `beta2_decay` $= -c$."""
    return 1 - t**beta2_decay


def adam_equivalent_beta2(t: int, beta2: float = 0.999) -> float:
    r"""The decay rate that Adam's bias correction amounts to:
    $\beta_2(1 - \beta_2^{t-1})/(1 - \beta_2^t)$."""
    return beta2 * (1 - beta2 ** (t - 1)) / (1 - beta2**t)


def transformer_shapes(d_model: int = 512, d_ff: int = 2048, layers: int = 6,
                       vocab: int = 32000) -> list[tuple[int, ...]]:
    r"""Parameter shapes of a Transformer encoder: an embedding, then per layer four attention
    projections with biases, two feed-forward matrices with biases, and two layer norms."""
    shapes: list[tuple[int, ...]] = [(vocab, d_model)]
    for _ in range(layers):
        shapes += [(d_model, d_model), (d_model,)] * 4
        shapes += [(d_ff, d_model), (d_ff,), (d_model, d_ff), (d_model,)]
        shapes += [(d_model,)] * 4
    return shapes


def state_bytes(shapes: Sequence[tuple[int, ...]], optimizer: str,
                bytes_per_number: int = 4) -> int:
    r"""Bytes of optimizer state for parameters of these shapes, `"adam"` or `"adafactor"`,
    counting each tensor's float32 `step` as torch keeps it."""
    numbers = 0
    for shape in shapes:
        numbers += 1  # step
        if optimizer == "adam":
            numbers += 2 * math.prod(shape)
        elif len(shape) > 1:
            numbers += math.prod(shape[:-1]) + math.prod(shape[:-2]) * shape[-1]
        else:
            numbers += math.prod(shape)
    return numbers * bytes_per_number


def measured_state_bytes(opt: Optimizer) -> int:
    """Bytes held by every tensor in an optimizer's state."""
    return sum(v.numel() * v.element_size() for s in opt.state.values() for v in s.values()
               if torch.is_tensor(v))


# ## torch compatibility
#
# Small helpers that make this file behave like `torch.optim`: the step counter's dtype
# and how it is read, tensor hyper-parameters, argument checks with torch's wording, the
# switches for torch's other code paths, sparse gradients, and older state dicts. Every
# chapter that needs one holds the same copy, letter for letter (a test checks), so that
# each file still stands alone.
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


def main(argv: list[str] | None = None) -> None:
    """Draw the decay schedules and the state memory of Adam and Adafactor."""
    import argparse

    parser = argparse.ArgumentParser(description="Draw the Adafactor chapter's figure.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE (PNG)")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    ts = [round(10 ** (k / 10)) for k in range(0, 51)]
    for c in (0.5, 0.8, 1.0):
        left.loglog(ts[1:], [1 - beta2_schedule(t, -c) for t in ts[1:]],
                    label=rf"Adafactor, $c$ = {c}")
    left.loglog(ts[1:], [1 - adam_equivalent_beta2(t) for t in ts[1:]], "k--",
                label=r"Adam's correction, $\beta_2$ = 0.999")
    left.set_xlabel("step $t$")
    left.set_ylabel(r"$1 - \hat\beta_{2,t}$ (weight of the new $G_t^2$)")
    left.set_title("decay schedules (both start at weight 1)")
    left.legend()

    shapes = transformer_shapes()
    # The analytic counts are checked against the optimizers' measured state in the tests.
    adam_mb = state_bytes(shapes, "adam") / 1e6
    factor_mb = state_bytes(shapes, "adafactor") / 1e6
    params_m = sum(math.prod(s) for s in shapes) / 1e6
    bars = right.bar(["Adam", "Adafactor"], [adam_mb, factor_mb], color=["tab:red", "tab:blue"])
    right.set_yscale("log")
    right.bar_label(bars, labels=[f"{adam_mb:.1f} MB", f"{factor_mb:.2f} MB"])
    right.set_ylim(0.1, 3000)
    right.set_ylabel("optimizer state (float32)")
    right.set_title(f"Transformer encoder, {params_m:.1f} M parameters")
    fig.tight_layout()
    if args.save:
        fig.savefig(args.save, dpi=110)
    else:
        plt.show()


if __name__ == "__main__":
    main()
