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

## Unrolling the averages

Since $v_0 = 0$, the recursion unrolls into a weighted sum of the squared gradients seen so
far, the most recent weighted most:

$$
v_t = (1 - \beta_2) \sum_{i=1}^{t} \beta_2^{\,t-i}\, g_i^2 .
$$

The weights add up to a geometric series,

$$
(1 - \beta_2) \sum_{i=1}^{t} \beta_2^{\,t-i}
= (1 - \beta_2) \sum_{k=0}^{t-1} \beta_2^{\,k}
= (1 - \beta_2)\, \frac{1 - \beta_2^{\,t}}{1 - \beta_2}
= 1 - \beta_2^{\,t} ,
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
&= \mathbb{E}[g_t^2]\, (1 - \beta_2) \sum_{i=1}^{t} \beta_2^{\,t-i}
 + (1 - \beta_2) \sum_{i=1}^{t} \beta_2^{\,t-i}\, \zeta_i \\
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
§2 notes that the update can be computed with fewer operations by folding both corrections
into the step size,

$$
\theta_t = \theta_{t-1} - \hat\eta_t\, \frac{m_t}{\sqrt{v_t} + \hat\epsilon},
\qquad \hat\eta_t = \eta\, \frac{\sqrt{1 - \beta_2^{\,t}}}{1 - \beta_1^{\,t}} ,
$$

with a different constant $\hat\epsilon$ in the denominator. The two forms are equal when

$$
\begin{aligned}
\eta\, \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}
&= \eta\, \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t} \cdot
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
\eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}
= \frac{\eta}{\epsilon}\, \hat m_t \cdot \frac{1}{1 + \sqrt{\hat v_t}/\epsilon} ,
\qquad 1 - \frac{\sqrt{\hat v_t}}{\epsilon} \le \frac{1}{1 + \sqrt{\hat v_t}/\epsilon} \le 1 .
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
|m_t| \le (1 - \beta_1) \sqrt{\sum_{k=0}^{t-1} p^k}\,
\sqrt{\sum_{k=0}^{t-1} \beta_2^k g_{t-k}^2}
= (1 - \beta_1) \sqrt{\frac{1 - p^t}{1 - p}}\, \sqrt{\frac{v_t}{1 - \beta_2}},
\qquad p = \frac{\beta_1^2}{\beta_2} ,
$$

for $p \ne 1$ (the second sum is $v_t/(1 - \beta_2)$ by the unrolled form of $v_t$). With
the bias corrections,

$$
\frac{|\Delta_t|}{\eta} \le \frac{1 - \beta_1}{1 - \beta_1^t}
\sqrt{\frac{1 - \beta_2^t}{1 - \beta_2}} \sqrt{\frac{1 - p^t}{1 - p}}
\;\xrightarrow{t \to \infty}\; \frac{1 - \beta_1}{\sqrt{(1 - \beta_2)(1 - \beta_1^2/\beta_2)}}
\quad (\beta_1^2 < \beta_2) .
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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


def _step_dtype() -> torch.dtype:
    # torch keeps the step counter in float64 only when that is the default dtype.
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def _scalar(x: float | Tensor) -> float:
    # A one-element tensor hyper-parameter is read as a Python number, as torch's
    # single-tensor path does.
    return x.item() if isinstance(x, Tensor) else x


def check_adam_arguments(
    lr: float | Tensor,
    betas: tuple[float | Tensor, float | Tensor],
    eps: float,
    weight_decay: float,
    *,
    foreach: bool | None,
    capturable: bool,
    differentiable: bool,
    fused: bool | None,
) -> tuple[float, float]:
    """Refuse bad hyper-parameters with a message that starts with the argument's name.

    Returns the betas as floats. The chapters run only torch's single-tensor path, so the
    switches for the other paths are accepted only in their "off" setting.
    """
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError(f"lr must be a float or a 1-element tensor, got shape {tuple(lr.shape)}")
    if not 0.0 <= _scalar(lr):
        raise ValueError(f"lr must be >= 0, got {_scalar(lr)}")
    if not 0.0 <= eps:
        raise ValueError(f"eps must be >= 0, got {eps}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    floats = []
    for i, beta in enumerate(betas):
        if isinstance(beta, Tensor) and beta.numel() != 1:
            raise ValueError(f"betas[{i}] must be a float or a 1-element tensor")
        value = float(_scalar(beta))
        if not 0.0 <= value < 1.0:
            raise ValueError(f"betas[{i}] must be in [0, 1), got {value}")
        floats.append(value)
    if foreach:
        raise ValueError("foreach=True is not supported: this chapter runs the for-loop path")
    if capturable:
        raise ValueError("capturable=True is not supported: this chapter runs on the CPU path")
    if differentiable:
        raise ValueError("differentiable=True is not supported")
    if fused:
        raise ValueError("fused=True is not supported: this chapter runs the for-loop path")
    return floats[0], floats[1]


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
        betas = check_adam_arguments(
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
                p_state = self.state.get(p, {})
                if "step" in p_state and not torch.is_tensor(p_state["step"]):
                    p_state["step"] = torch.tensor(float(p_state["step"]), dtype=_step_dtype())

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one Adam step for every parameter that has a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            lr = _scalar(group["lr"])
            beta1, beta2 = (_scalar(b) for b in group["betas"])
            eps, weight_decay = group["eps"], group["weight_decay"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                if param.grad.is_sparse:
                    raise RuntimeError(
                        f"{type(self).__name__} does not support sparse gradients; "
                        "use torch.optim.SparseAdam"
                    )
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


def _adam_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    *,
    lr: float,
    beta1: float,
    beta2: float,
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
    step = state["step"].item()

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
    # towards $g_t$ by $1 - \beta_1$; `lerp_` rounds exactly as torch does.
    exp_avg.lerp_(grad, 1 - beta1)
    # $v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2$
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)

    # The two bias corrections are numbers, computed in double precision on the host.
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5

    # With AMSGrad the denominator uses the largest $v$ seen so far (see [AMSGrad](amsgrad.md)).
    second = exp_avg_sq
    if max_exp_avg_sq is not None:
        torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    # $\sqrt{\hat v_t} + \epsilon$: $\epsilon$ is added after the correction.
    denom = second.sqrt().div_(bias_correction2_sqrt).add_(eps)
    # $\theta_t = \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\, \frac{m_t}{\sqrt{\hat v_t}+\epsilon}$
    param.addcdiv_(exp_avg, denom, value=-step_size)


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
