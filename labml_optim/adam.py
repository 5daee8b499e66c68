r"""
---
title: Adam
summary: Adam derived: bias correction, where epsilon goes, and how large a step can be.
group: Optimizers
order: 40
---

# Adam

Adam (Kingma & Ba, 2015) keeps, for every coordinate of every parameter, two exponential
moving averages: one of the gradient $g_t$ and one of its square. With $\beta_1, \beta_2 \in
[0, 1)$ and $m_0 = v_0 = 0$,

$$
\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t ,\\
v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 ,\\
\hat m_t &= \frac{m_t}{1 - \beta_1^t}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t},\\
\theta_t &= \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon} .
\end{aligned}
$$

All operations on vectors are per coordinate. $\hat m_t$ estimates the mean of the gradient,
$\hat v_t$ its uncentred second moment, so $\hat m_t / \sqrt{\hat v_t}$ is a signal-to-noise
ratio: near $\pm 1$ where the gradient keeps its sign, near $0$ where it is mostly noise. The
step is then about $\eta$ in every coordinate where the signal is clear, whatever the scale
of the gradient there: multiplying the loss by $c > 0$ multiplies $m_t$ by $c$ and
$\sqrt{v_t}$ by $c$, and (for $\epsilon = 0$) leaves the step unchanged.

$\eta$ is the learning rate (the paper's $\alpha$; on this site $\eta$ is the learning rate
in every chapter, see [Notation](notation.md)). The defaults are $\eta = 10^{-3}$,
$\beta_1 = 0.9$, $\beta_2 = 0.999$, $\epsilon = 10^{-8}$.
$\beta_1 = 0.9$ averages over about $1/(1 - \beta_1) = 10$ recent gradients,
$\beta_2 = 0.999$ over about $1000$.

**Sharding.** Safe under sharding (DDP, `ZeroRedundancyOptimizer`, FSDP2): the update is
elementwise and the bias corrections depend only on the step count, so each rank steps its
own shard of the parameter and state exactly as one process would, bit for bit (tested
with two processes).

## Unrolling the averages

Since $v_0 = 0$, the recursion unrolls into a weighted sum of the squared gradients seen so
far, the most recent weighted most:

$$
v_t = (1 - \beta_2) \sum_{i=1}^{t} \beta_2^{\,t-i}\, g_i^2 .
$$

The weights add up to a geometric series,

$$
\begin{aligned}
(1 - \beta_2) \sum_{i=1}^{t} \beta_2^{\,t-i}
&= (1 - \beta_2) \sum_{k=0}^{t-1} \beta_2^{\,k}\\
&= (1 - \beta_2)\, \frac{1 - \beta_2^{\,t}}{1 - \beta_2}\\
&= 1 - \beta_2^{\,t} ,
\end{aligned}
$$

which is less than $1$: the missing weight $\beta_2^t$ is the weight the zero we started
from still carries. The same holds for $m_t$ with $\beta_1$.

## Bias correction

Take expectations of the unrolled sum and write each $\mathbb{E}[g_i^2]$ as today's
value plus a drift, $\mathbb{E}[g_i^2] = \mathbb{E}[g_t^2] + \zeta_i$:

$$
\begin{aligned}
\mathbb{E}[v_t]
&= (1 - \beta_2) \sum_{i=1}^{t} \beta_2^{\,t-i}\, \mathbb{E}[g_i^2] \\
&= \mathbb{E}[g_t^2]\, (1 - \beta_2) \sum_{i=1}^{t} \beta_2^{\,t-i} \\
&\quad + (1 - \beta_2) \sum_{i=1}^{t} \beta_2^{\,t-i}\, \zeta_i \\
&= \mathbb{E}[g_t^2]\, (1 - \beta_2^{\,t}) + \zeta .
\end{aligned}
$$

If the gradient distribution is stationary every $\zeta_i = 0$ and so $\zeta = 0$; if it
drifts slowly, $\zeta$ stays small, because the exponential weights forget old gradients.
So $v_t$ underestimates $\mathbb{E}[g^2]$ by exactly the factor $1 - \beta_2^t$, and dividing
by it gives the unbiased $\hat v_t$. With $\beta_2 = 0.999$ the factor is $0.001$ at $t = 1$
and still $0.095$ at $t = 100$. How wrong the first step would be depends on which
correction is left out. With $m$ corrected and $v$ not, the first step divides
$\hat m_1 = g_1$ by $\sqrt{v_1} = \sqrt{1 - \beta_2}\,|g_1|$, a root $\sqrt{1000} \approx 32$
times too small, and moves $\eta/\sqrt{1 - \beta_2} \approx 31.6\,\eta$ instead of $\eta$
(at $t = 100$ still $1/\sqrt{0.095} \approx 3.2$ times too far). With neither corrected,
$m_1 = (1 - \beta_1) g_1$ is also ten times too small, and the first step is
$\eta (1 - \beta_1)/\sqrt{1 - \beta_2} \approx 3.16\,\eta$: the two omissions partly cancel
([LAMB](lamb.md)'s uncorrected variant takes that step). The
same argument with $\beta_1$ gives $\mathbb{E}[m_t] = \mathbb{E}[g_t](1 - \beta_1^t) + \zeta'$
and $\hat m_t$. The tests check both identities by Monte Carlo on the optimizer's own state.

![Mean moment estimates over 2000 runs of i.i.d. gradients: the raw averages start at zero and
creep up, the bias-corrected ones are on target from the first step; right: the size of a step
on three gradient sequences, against the bounds derived below](adam.png)

## Where $\epsilon$ goes

Written as above, $\epsilon$ is added after bias correction, to $\sqrt{\hat v_t}$. The paper's
[§2](https://ar5iv.labs.arxiv.org/html/1412.6980#S2) notes that the update can be computed
with fewer operations by folding both corrections
into the step size,

$$
\theta_t = \theta_{t-1} - \hat\eta_t\, \frac{m_t}{\sqrt{v_t} + \hat\epsilon},
\qquad \hat\eta_t = \eta\, \frac{\sqrt{1 - \beta_2^{\,t}}}{1 - \beta_1^{\,t}} ,
$$

with a different constant $\hat\epsilon$ in the denominator. The two forms are equal when

$$
\begin{aligned}
&\eta\, \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon} \\
&\quad = \eta\, \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t} \cdot
   \frac{m_t}{\sqrt{v_t} + \epsilon \sqrt{1 - \beta_2^t}} ,
\end{aligned}
$$

that is, when $\hat\epsilon = \epsilon \sqrt{1 - \beta_2^{\,t}}$ (multiply numerator and
denominator by $\sqrt{1 - \beta_2^t}$). A *constant* $\hat\epsilon$ is therefore a different
optimizer: it is the standard form with a time-varying
$\epsilon_t = \hat\epsilon / \sqrt{1 - \beta_2^{\,t}}$, which is $\sqrt{1000} \approx 32$ times
larger than $\hat\epsilon$ at the first step for $\beta_2 = 0.999$ and falls to $\hat\epsilon$
later. torch and this chapter put $\epsilon$ after the correction; TensorFlow's Keras
`Adam` uses the $\hat\epsilon$ form. The difference only matters where $\sqrt{v_t}$ is
comparable to $\epsilon$, that is, for tiny gradients. `adam_step_eps_hat` below implements
the $\hat\epsilon$ form, and the tests check both claims: equal when related as above,
different otherwise.

**What a large $\epsilon$ does.** Factor $\epsilon$ out of the denominator:

$$
\begin{aligned}
\eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}
&= \frac{\eta}{\epsilon}\, \hat m_t \cdot \frac{1}{1 + \sqrt{\hat v_t}/\epsilon} ,\\
1 - \frac{\sqrt{\hat v_t}}{\epsilon} &\le \frac{1}{1 + \sqrt{\hat v_t}/\epsilon} \le 1 .
\end{aligned}
$$

In a coordinate where $\sqrt{\hat v_t} \ll \epsilon$ the last factor is $1$ to within
$\sqrt{\hat v_t}/\epsilon$, and the step is $(\eta/\epsilon)\,\hat m_t$: SGD with momentum (the
bias-corrected moving average $\hat m_t$ as its buffer) at learning rate $\eta/\epsilon$, with
no per-coordinate scaling left. Where $\sqrt{\hat v_t} \gg \epsilon$ it is Adam's scale-free
step of about $\eta$. So $\epsilon$ is not only a guard against division by zero: it is the
gradient size at which Adam hands over to momentum SGD, and it caps the adaptive factor
$1/(\sqrt{\hat v_t} + \epsilon)$ at $1/\epsilon$. That cap is why much larger values are used
in practice. A coordinate whose gradients are tiny and mostly noise would otherwise take
full steps of $\eta$ on noise, and in the first steps $\hat v_t$ rests on a handful of
samples ([RAdam](radam.md)'s Adam-eps baseline, $\epsilon = 10^{-4}$, is exactly this cure).
BERT and [LAMB](lamb.md) use $10^{-6}$, and TensorFlow's documentation of its Adam (in the
$\hat\epsilon$ form) calls $1.0$ or $0.1$ a good choice for an Inception network on ImageNet:
there most coordinates run as momentum SGD.

## How large can a step be?

Set $\epsilon = 0$. The step is $\Delta_t = \eta\, \hat m_t / \sqrt{\hat v_t}$ per
coordinate, and the paper says it is bounded by $\eta (1 - \beta_1)/\sqrt{1 - \beta_2}$
when $1 - \beta_1 > \sqrt{1 - \beta_2}$ and by $\eta$ otherwise. Where does that come
from, and is it sharp?

*A lone spike.* Let the gradient be $0$ until step $t$ and $g$ at step $t$. Then
$m_t = (1 - \beta_1) g$, $v_t = (1 - \beta_2) g^2$ and

$$
\frac{|\Delta_t|}{\eta} = \frac{1 - \beta_1}{1 - \beta_1^t}\,
\sqrt{\frac{1 - \beta_2^t}{1 - \beta_2}}
\;\xrightarrow{t \to \infty}\; \frac{1 - \beta_1}{\sqrt{1 - \beta_2}} .
$$

A constant gradient gives $\hat m_t = g$, $\hat v_t = g^2$ and $|\Delta_t| = \eta$. The
paper's two bounds are the larger of these two cases.

*The worst case.* Both averages are sums over the same past, so Cauchy–Schwarz bounds one
by the other. Write $m_t = (1 - \beta_1)\sum_k \beta_1^k g_{t-k}$ and split each term as
$\beta_1^k g_{t-k} = (\beta_1^k \beta_2^{-k/2}) (\beta_2^{k/2} g_{t-k})$:

$$
\begin{aligned}
|m_t| &\le (1 - \beta_1) \sqrt{\sum_{k=0}^{t-1} p^k}\,
\sqrt{\sum_{k=0}^{t-1} \beta_2^k g_{t-k}^2}\\
&= (1 - \beta_1) \sqrt{\frac{1 - p^t}{1 - p}}\, \sqrt{\frac{v_t}{1 - \beta_2}},\\
p &= \frac{\beta_1^2}{\beta_2} ,
\end{aligned}
$$

for $p \ne 1$ (the second sum is $v_t/(1 - \beta_2)$ by the unrolled form of $v_t$). With
the bias corrections,

$$
\begin{aligned}
\frac{|\Delta_t|}{\eta} &\le \frac{1 - \beta_1}{1 - \beta_1^t}
\sqrt{\frac{1 - \beta_2^t}{1 - \beta_2}} \sqrt{\frac{1 - p^t}{1 - p}}\\
&\;\xrightarrow{t \to \infty}\; \frac{1 - \beta_1}{\sqrt{(1 - \beta_2)(1 - \beta_1^2/\beta_2)}}\\
&\qquad (\beta_1^2 < \beta_2) .
\end{aligned}
$$

Cauchy–Schwarz is an equality when the two factors are proportional, so the bound is
*attained* by $g_{t-k} \propto (\beta_1/\beta_2)^k$: gradients that grow by a factor
$\beta_2/\beta_1$ per step. The worst case exceeds the lone spike by the factor
$\sqrt{(1 - p^t)/(1 - p)}$, $1/\sqrt{1 - p}$ in the limit, which the paper's
bound misses. For the defaults ($p = 0.811$) the sharp limit is
$7.27$, not $3.16$; for $(\beta_1, \beta_2) = (0.99, 0.999)$ it is $2.30$, not $1$; and for
$\beta_1^2 \ge \beta_2$ there is no bound independent of $t$ at all. With $\beta_1 = 0$ the
two agree ($1/\sqrt{1 - \beta_2}$).

The worst case does not need gradients that grow for hundreds of steps. After a long
quiet stretch (many steps of gradient $0$, so that both corrections are $1$), gradients
that grow by only 10 % per step, $g = 1.1, 1.1^2, \dots$, give $|\Delta|/\eta = 4.26$ after
2 steps, $6.81$ after 10 and $7.21$ after 20, against a limit of $7.26$ for this growth rate
(the sharp $7.27$ needs the growth factor $\beta_2/\beta_1 = 1.11$). The paper's $3.16$ is
exceeded at the second step. $|\Delta_t| \lesssim \eta$ is the typical size, but "bounded by
$\eta$" is a rule of thumb, not a theorem. The tests run the optimizer on the spike, the
geometric sequence and random sequences and compare with both formulas.

## Weight decay

`weight_decay` $\lambda$ adds $\lambda \theta_{t-1}$ to the gradient before the averages
(an L2 penalty), as torch does; with `decoupled_weight_decay=True` it instead shrinks the
parameter by $1 - \eta\lambda$ before the update, which is [AdamW](adamw.md). That
chapter derives why the two differ.

## References

- Diederik P. Kingma and Jimmy Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015.
  [arXiv:1412.6980](https://arxiv.org/abs/1412.6980)
- torch's
  [`torch.optim.Adam`](https://docs.pytorch.org/docs/stable/generated/torch.optim.Adam.html),
  the implementation this chapter is tested against
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


def _adam_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    *,
    lr: float | Tensor,
    beta1: float | Tensor,
    beta2: float | Tensor,
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
    decoupled_weight_decay: bool,
) -> None:
    r"""One Adam step on one tensor, in torch's order of operations.

    The order matters for bitwise equality with `torch.optim.Adam` in float32: each
    rounding happens at the same place.
    """
    state["step"] += 1
    step = _get_value(state["step"])

    # Maximizing $f$ is minimizing $-f$.
    if maximize:
        grad = -grad
    # L2 weight decay is a gradient term $\lambda\theta$ and goes through the averages;
    # decoupled decay shrinks the parameter directly ([AdamW](adamw.md)). Both happen
    # before the complex view below, as in torch: a complex `add` with a real `alpha`
    # rounds differently from the same `add` on the real view.
    if weight_decay != 0:
        if decoupled_weight_decay:
            param.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(param, alpha=weight_decay)

    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    max_exp_avg_sq = state.get("max_exp_avg_sq") if amsgrad else None
    # A complex parameter $z = x + iy$ is two real parameters: working on the real view
    # treats the real and imaginary parts as independent coordinates, with their own
    # second moments (not $|z|^2$).
    if torch.is_complex(param):
        param, grad = torch.view_as_real(param), torch.view_as_real(grad)
        exp_avg, exp_avg_sq = torch.view_as_real(exp_avg), torch.view_as_real(exp_avg_sq)
        if max_exp_avg_sq is not None:
            max_exp_avg_sq = torch.view_as_real(max_exp_avg_sq)

    # $m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t$ is a linear interpolation from $m_{t-1}$
    # towards $g_t$ by $1 - \beta_1$; `lerp_` rounds exactly as torch does. (A tensor
    # $\beta_1$ is first cast to the parameter's dtype, as torch casts it.)
    exp_avg.lerp_(grad, 1 - _like(beta1, param))
    # $v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2$
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)

    # The two bias corrections are numbers, computed in double precision on the host
    # (tensors under `torch.compile`, or when $\beta$ is a tensor, as in torch).
    bias_correction1 = 1 - _power(beta1, step)
    bias_correction2 = 1 - _power(beta2, step)
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5

    # With AMSGrad the denominator uses the largest $v$ seen so far (see [AMSGrad](amsgrad.md)).
    second = exp_avg_sq
    if max_exp_avg_sq is not None:
        torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    # $\sqrt{\hat v_t} + \epsilon$: $\epsilon$ is added after the correction.
    denom = _divide(second.sqrt(), bias_correction2_sqrt, inplace=True).add_(eps)
    # $\theta_t = \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\, \frac{m_t}{\sqrt{\hat v_t}+\epsilon}$
    param.addcdiv_(exp_avg, denom, value=-step_size)


class Adam(Optimizer):
    r"""Adam, a drop-in replacement for `torch.optim.Adam`.

    Same signature, defaults, parameter-group keys and state keys (`step`, `exp_avg`,
    `exp_avg_sq`, and `max_exp_avg_sq` with `amsgrad=True`), so a state dict moves between
    the two in both directions. `amsgrad=True` is torch's variant of
    [AMSGrad](amsgrad.md); `decoupled_weight_decay=True` is [AdamW](adamw.md).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        betas = _check_adam_arguments(
            lr, betas, eps, weight_decay, foreach=foreach, capturable=capturable,
            differentiable=differentiable, fused=fused,
        )
        # torch's group keys, all of them, so that a group loaded into `torch.optim.Adam`
        # finds every key it reads.
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
            maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable, fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Fill in keys that older state dicts lack, and make a plain-number `step` a tensor."""
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
            group.setdefault("decoupled_weight_decay", False)
            for p in group["params"]:
                _step_as_tensor(self.state.get(p, {}))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one Adam step for every parameter that has a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            _check_sparse(type(self).__name__, params, "; use torch.optim.SparseAdam")
            lr = _scalar(group["lr"])
            beta1, beta2 = (_scalar(b) for b in group["betas"])
            eps, weight_decay = group["eps"], group["weight_decay"]
            for param in params:
                state = self.state[param]
                if len(state) == 0:
                    # The step counter lives on the CPU; the moments start at zero, the
                    # bias that the corrections below remove.
                    state["step"] = torch.tensor(0.0, dtype=_step_dtype())
                    state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(
                        param, memory_format=torch.preserve_format
                    )
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = torch.zeros_like(
                            param, memory_format=torch.preserve_format
                        )
                elif group["amsgrad"] and "max_exp_avg_sq" not in state:
                    # Resuming from a run without AMSGrad: the running maximum starts here.
                    state["max_exp_avg_sq"] = state["exp_avg_sq"].clone()
                _adam_update(
                    param, param.grad, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                    weight_decay=weight_decay, amsgrad=group["amsgrad"],
                    maximize=group["maximize"],
                    decoupled_weight_decay=group["decoupled_weight_decay"],
                )
        return loss


#
def eps_hat(eps: float, beta2: float, step: int) -> float:
    r"""The $\hat\epsilon$ that makes the paper's efficient form equal the standard one at `step`.

    $\hat\epsilon = \epsilon\sqrt{1 - \beta_2^t}$.
    """
    return eps * math.sqrt(1 - beta2**step)


def adam_step_eps_hat(
    param: Tensor,
    grad: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    step: int,
    *,
    lr: float,
    betas: tuple[float, float] = (0.9, 0.999),
    eps_hat: float = 1e-8,
) -> None:
    r"""One Adam step in the paper's efficient form, in place, for step number `step` (from 1).

    $\theta_t = \theta_{t-1} - \hat\eta_t\, m_t / (\sqrt{v_t} + \hat\epsilon)$ with
    $\hat\eta_t = \eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)$. The bias corrections are folded into
    the scalar $\hat\eta_t$, so no tensor is divided by $\sqrt{1-\beta_2^t}$. Equal to
    `torch.optim.Adam` (up to rounding) only if `eps_hat = eps_hat(eps, beta2, step)` at
    every step; a constant `eps_hat` is the Keras convention.
    """
    beta1, beta2 = betas
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
    param.addcdiv_(exp_avg, exp_avg_sq.sqrt().add_(eps_hat), value=-step_size)


def step_bound(beta1: float, beta2: float, step: int) -> float:
    r"""The largest $|\Delta_t|/\eta$ any gradients can give at `step` ($\epsilon = 0$).

    The Cauchy–Schwarz bound derived above, attained by $g_{t-k} \propto (\beta_1/\beta_2)^k$.
    """
    gamma = beta1 * beta1 / beta2
    memory = step if gamma == 1 else (1 - gamma**step) / (1 - gamma)
    return (1 - beta1) / (1 - beta1**step) * math.sqrt((1 - beta2**step) / (1 - beta2) * memory)


def paper_step_bound(beta1: float, beta2: float) -> float:
    r"""Kingma & Ba's bound: $(1-\beta_1)/\sqrt{1-\beta_2}$ if that exceeds 1, else 1."""
    return max((1 - beta1) / math.sqrt(1 - beta2), 1.0)


def worst_case_gradients(step: int, beta1: float, beta2: float) -> list[float]:
    r"""$g_{t-k} = (\beta_1/\beta_2)^k$, the sequence that attains `step_bound` at `step`.

    Floored at $10^{-100}$ so that no gradient is exactly zero: with $\epsilon = 0$ a zero
    second moment would make the step $0/0$.
    """
    return [max((beta1 / beta2) ** (step - i), 1e-100) for i in range(1, step + 1)]


def measured_steps(sequences: list[list[float]], beta1: float, beta2: float) -> list[float]:
    r"""$|\Delta_t|/\eta$ of `Adam` ($\epsilon = 0$) at the last gradient of each sequence.

    Adam treats coordinates independently, so the sequences run side by side as the
    coordinates of one parameter; a sequence that has ended is fed 1.0 and ignored.
    """
    longest = max(len(seq) for seq in sequences)
    p = torch.zeros(len(sequences), dtype=torch.float64, requires_grad=True)
    opt = Adam([p], lr=1.0, betas=(beta1, beta2), eps=0.0)
    result = [0.0] * len(sequences)
    for t in range(longest):
        # The step does not depend on $\theta$ (no weight decay), so restarting from 0
        # measures each step without rounding against a large $\theta$.
        p.detach().zero_()
        p.grad = torch.tensor([seq[t] if t < len(seq) else 1.0 for seq in sequences],
                              dtype=torch.float64)
        opt.step()
        for j, seq in enumerate(sequences):
            if len(seq) == t + 1:
                result[j] = abs(p[j].item())
    return result


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
    """Draw the moment estimates with and without bias correction, and the step sizes."""
    import argparse

    parser = argparse.ArgumentParser(description="Draw the Adam chapter's figure.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE (PNG)")
    args = parser.parse_args(argv)

    import matplotlib
    import matplotlib.ticker

    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    beta1, beta2 = 0.9, 0.999
    steps, runs, mean, std = 60, 2000, 0.5, 1.0
    # Left: 2000 independent runs as 2000 coordinates of one parameter, with i.i.d.
    # gradients of mean 0.5 and standard deviation 1, so $\mathbb{E}[g] = 0.5$ and
    # $\mathbb{E}[g^2] = 1.25$.
    gen = torch.Generator().manual_seed(0)
    param = torch.zeros(runs, dtype=torch.float64, requires_grad=True)
    opt = Adam([param], lr=1e-3, betas=(beta1, beta2))
    m, m_hat, v, v_hat = [], [], [], []
    ts = range(1, steps + 1)
    for t in ts:
        param.grad = mean + std * torch.randn(runs, generator=gen, dtype=torch.float64)
        opt.step()
        state = opt.state[param]
        m.append(state["exp_avg"].mean().item())
        v.append(state["exp_avg_sq"].mean().item())
        m_hat.append(m[-1] / (1 - beta1**t))
        v_hat.append(v[-1] / (1 - beta2**t))

    # Right: $|\Delta_t|/\eta$ for a lone spike after $t-1$ near-zero gradients, for the
    # geometric worst case, and for a constant gradient, measured from the optimizer.
    horizon = [1, 3, 10, 30, 100, 300, 1000, 3000]
    spike = measured_steps([[1e-100] * (t - 1) + [1.0] for t in horizon], beta1, beta2)
    worst = measured_steps([worst_case_gradients(t, beta1, beta2) for t in horizon], beta1, beta2)
    constant = measured_steps([[1.0] * t for t in horizon], beta1, beta2)

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(ts, m, color="tab:blue", ls="--", label=r"$m_t$ (raw)")
    left.plot(ts, m_hat, color="tab:blue", label=r"$\hat m_t$ (corrected)")
    left.plot(ts, v, color="tab:red", ls="--", label=r"$v_t$ (raw)")
    left.plot(ts, v_hat, color="tab:red", label=r"$\hat v_t$ (corrected)")
    left.axhline(mean, color="tab:blue", lw=0.8, alpha=0.5)
    left.axhline(mean**2 + std**2, color="tab:red", lw=0.8, alpha=0.5)
    left.set_xlabel("step $t$")
    left.set_title(r"moments, mean of 2000 runs ($\beta_1, \beta_2$ = 0.9, 0.999)")
    left.legend(loc="center right")

    right.loglog(horizon, worst, "o-", color="tab:red", label="geometric worst case (measured)")
    right.loglog(horizon, [step_bound(beta1, beta2, t) for t in horizon], "k:",
                 label="Cauchy–Schwarz bound")
    right.loglog(horizon, spike, "s-", color="tab:blue", label="lone spike (measured)")
    right.loglog(horizon, constant, "^-", color="tab:green", label="constant gradient")
    right.axhline(paper_step_bound(beta1, beta2), color="gray", ls="--",
                  label=r"paper: $(1-\beta_1)/\sqrt{1-\beta_2}$")
    right.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    right.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    right.set_yticks([0.5, 1, 2, 3, 5, 7])
    right.set_xlabel("step $t$")
    right.set_ylabel(r"$|\Delta_t| / \eta$")
    right.set_title(r"step size with $\epsilon = 0$")
    right.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    if args.save:
        fig.savefig(args.save, dpi=110)
    else:
        plt.show()


if __name__ == "__main__":
    main()
