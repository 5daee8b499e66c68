r"""
---
title: AMSGrad
summary: A problem on which Adam converges to the worst point, and the maximum that fixes it.
group: Optimizers
order: 50
---

# AMSGrad

[Adam](adam.md) divides each step by $\sqrt{\hat v_t}$, a moving average of recent squared
gradients. Reddi, Kale & Kumar ("On the Convergence of Adam and Beyond", ICLR 2018) showed
that this can make Adam converge to the *worst* point of a simple convex problem, found the
cause in the moving average forgetting large gradients, and fixed it with one line: divide
by the largest $v$ seen so far,

$$
\tilde v_t = \max(\tilde v_{t-1}, v_t), \qquad
\theta_t = \theta_{t-1} - \eta_t\, \frac{m_t}{\sqrt{\tilde v_t}} .
$$

($\eta_t$ is the learning rate at step $t$, the paper's $\alpha$ with its step index; see
[Notation](notation.md).)

**Sharding.** Safe under sharding (DDP, `ZeroRedundancyOptimizer`, FSDP2): the update is
elementwise (the maximum is per coordinate), so each rank steps its own shard of the
parameter and state exactly as one process would, bit for bit (tested with two processes).

## A problem on which Adam fails

Minimize over $x \in [-1, 1]$ the sum of the functions, one per step $t = 1, 2, \dots$,

$$
f_t(x) = \begin{cases} C x & t \bmod 3 = 1 \\ -x & \text{otherwise} \end{cases}
\qquad C > 2 .
$$

Each period of three steps adds up to $(C - 2)x$, so the best fixed point is $x = -1$. The
gradient is $C$ once per period, and $-1$ twice: rare, large and right against frequent,
small and wrong. Take Adam with $\beta_1 = 0$ (no momentum, $m_t = g_t$),
$\beta_2 = 1/(1 + C^2)$ (so $1 - \beta_2 = C^2/(1 + C^2)$), and $\eta_t = \eta/\sqrt{t}$ with
a base rate

$$
\eta < \sqrt{1 - \beta_2} = \frac{C}{\sqrt{1 + C^2}} ,
$$

and project every iterate back onto $[-1, 1]$. Follow one period starting at a step $t$
with gradient $C$. Ignore bias correction for now ($\beta_2^t$ vanishes within a few
steps).

*The step on $C$.* $v_t \ge (1 - \beta_2) C^2$, since the newest term alone contributes that
much, so the step down is at most

$$
\eta_t \frac{C}{\sqrt{(1 - \beta_2) C^2}} = \frac{\eta_t}{\sqrt{1 - \beta_2}}
= \eta_t \frac{\sqrt{1 + C^2}}{C} .
$$

*The two steps on $-1$.* $v$ is an average of squared gradients, all at most $C^2$, with
weights adding up to less than one, so $v_t \le C^2$, and then

$$
\begin{aligned}
v_{t+1} &= \beta_2 v_t + (1 - \beta_2) \le \frac{C^2 + C^2}{1 + C^2}\\
&= \frac{2C^2}{1 + C^2}, \\
v_{t+2} &= \beta_2 v_{t+1} + (1 - \beta_2)\\
&\le \frac{2C^2 + C^2(1 + C^2)}{(1 + C^2)^2}\\
&= \frac{C^2 (3 + C^2)}{(1 + C^2)^2} \le \frac{2C^2}{1 + C^2},
\end{aligned}
$$

the last because $3 + C^2 \le 2(1 + C^2)$ for $C \ge 1$. Each of these steps goes *up* by at
least $\eta_{t+k}\sqrt{1 + C^2}/(\sqrt 2\, C)$.

*The period.* The net move up is at least
$\frac{\sqrt{1 + C^2}}{C}\left(\frac{\eta_{t+1} + \eta_{t+2}}{\sqrt 2} - \eta_t\right)$.
Measured in units of the period's first step size $\eta_t$, and using
$\eta_{t+k}/\eta_t = \sqrt{t/(t+k)}$,

$$
\begin{aligned}
&\frac{1}{\eta_t} \cdot \frac{\sqrt{1 + C^2}}{C}\left(\frac{\eta_{t+1} + \eta_{t+2}}{\sqrt 2}
- \eta_t\right)\\
&= \frac{\sqrt{1 + C^2}}{C}\left(\frac{\sqrt{t/(t+1)} + \sqrt{t/(t+2)}}{\sqrt 2}
- 1\right)\\
&\;\xrightarrow{t \to \infty}\; (\sqrt 2 - 1)\, \frac{\sqrt{1 + C^2}}{C} > 0 ,
\end{aligned}
$$

so from some period on each period moves $x$ up by at least a fixed fraction of $\eta_t$.

The $v$ that the large gradient raised is forgotten by the time the small ones come: the
two wrong steps are taken with a small denominator, the right one with a large one.
Because $\sum_t \eta_t = \infty$, the upward drift carries $x$ to the boundary $+1$. The
condition $\eta < \sqrt{1 - \beta_2}$ of the setup makes the largest possible step down,
$\eta_t/\sqrt{1 - \beta_2} \le \eta/\sqrt{1 - \beta_2}$, less than $1$, so from $+1$ the
iterate never falls below $0$ again. What the paper proves (its Theorem 1) is the consequence
for *regret*,
$R_T = \sum_{t \le T} f_t(x_t) - f_t(-1)$: with $x$ near $+1$ each period costs about
$(C - 1 - 1)(1 - (-1)) = 2(C - 2)$, so $R_T / T \to$ about $2(C - 2)/3$ instead of $0$. Adam
does not converge to the optimum on this problem.

## The running maximum

With $\tilde v_t = \max(\tilde v_{t-1}, v_t)$, the denominator never drops: after the first
$C$ it is at least $(1 - \beta_2) C^2$ forever and settles at the cycle's largest $v$, a
constant $V$. A period then moves $x$ by about $\eta_t (-C + 1 + 1)/\sqrt V =
-(C - 2)\eta_t/\sqrt V < 0$, and $x$ goes to $-1$. In general, the quantity the
convergence proof of Kingma & Ba needs to be non-negative,

$$
\Gamma_t = \frac{\sqrt{\tilde v_t}}{\eta_t} - \frac{\sqrt{\tilde v_{t-1}}}{\eta_{t-1}} ,
$$

is non-negative for AMSGrad whenever $\eta_t$ does not increase, because $\tilde v_t$
never decreases; for Adam it is negative right after every large gradient.

For convex problems the paper's Theorem 4 (with a decaying $\beta_1$ and
$\eta_t = \eta/\sqrt t$) bounds AMSGrad's regret by terms of order $\sqrt T$ times sums
over the data, and a last term of order
$\sqrt{1 + \log T}\, \sum_i \lVert g_{1:T,i} \rVert_2$. Each norm
$\lVert g_{1:T,i}\rVert_2$ can be as large as $\sqrt T$ times the largest gradient, so in the
worst case the bound is $O(\sqrt{T \log T})$; it is $O(\sqrt T)$ only when the gradients are
sparse enough that those norms grow more slowly. Either way $R_T/T \to 0$. The proof itself
is flawed: it treats $\beta_{1,t}$ and $\beta_{1,t+1}$ as equal when it telescopes the sum of
$\sqrt{\tilde v_t}/(\eta_t(1 - \beta_{1,t}))$. Tran Thi Phuong and Le Trieu Phong ("On the
Convergence Proof of AMSGrad and a New Version", IEEE Access, 2019) show this with a
counterexample to that step, give a corrected proof for AMSGrad with particular
$\beta_{1,t}$ schedules, and propose a variant (AdamX) that holds in general.

The paper also gives a version with momentum, $f_t(x) = 1010\,x$ when $t \bmod 101 = 1$
and $-10\,x$ otherwise, with $\beta_1 = 0.9$, $\beta_2 = 0.99$: Adam again drifts to $+1$, and
a stochastic version (the large gradient with probability $0.01$) shows the same.

Does the default $\beta_2 = 0.999$ save Adam? For the three-step example with
$(\beta_1, \beta_2) = (0, 0.999)$, yes: Adam converges towards $-1$. For the 101-step example,
no, only slowly. With $\beta_2 = 0.999$ the average spans about ten periods and remembers
the large gradient better, but not well enough: in the steady cycle the period's net move,
in units of $\eta_t$, is $+0.105$ (against $+1.90$ for $\beta_2 = 0.99$), still upwards.
Adam's first step takes it from $0$ to $-1$; it hovers near $-0.35$ for thousands of steps
($-0.35$ at $3\,000$, $-0.24$ at $10^4$), then climbs: $+0.17$ at $10^5$ and $+1.0$ at $10^6$
steps. A plot that stops at a few
thousand steps hides this (this page's first version did). With $\beta_2 = 0.9999$ the net
move per period is $-0.079$ and Adam converges ($-0.99$ at $10^6$ steps). The
counterexamples need $\beta_2$ chosen against the problem; the paper shows that for any
fixed $\beta_1 < \sqrt{\beta_2}$ such a problem exists.

![x_t on the three-step problem (left, 3000 steps) and on the 101-step problem (right,
10^6 steps, log axis): Adam drifts to the worst point +1 and AMSGrad goes towards the
optimum -1; with beta2 = 0.999 Adam turns upwards after about 10^4 steps and reaches +1
by 10^6; with beta2 = 0.9999 it converges](amsgrad.png)

## Which maximum: three variants

The paper's algorithm has no bias correction at all. torch adds Adam's, and there are two
ways to combine a maximum with $\hat v_t = v_t/(1 - \beta_2^t)$:

- **raw** (torch, `max_of="raw"`, the default): keep the maximum of the raw $v$ and divide
  it by the *current* correction, $\sqrt{\max_{s \le t} v_s} / \sqrt{1 - \beta_2^t}$.
- **corrected** (optax, `max_of="corrected"`): keep the maximum of the corrected
  $\hat v_s$, so the denominator is $\sqrt{\max_{s \le t} v_s/(1 - \beta_2^s)}$.

For $s < t$, $1 - \beta_2^s < 1 - \beta_2^t$, so every term of the corrected maximum is at
least as large as the raw one: the corrected variant's denominator is never smaller. The
difference is in the first few hundred steps (for $\beta_2 = 0.999$). There
$\hat v_1 = g_1^2$, a one-sample estimate, enters the corrected maximum with full weight and
stays in it; the raw variant stores $v_1 = (1 - \beta_2) g_1^2$, which, divided by the
current correction $1 - \beta_2^t$, shrinks towards $(1 - \beta_2) g_1^2$, the weight one
gradient has in a long average. A large first gradient therefore slows the corrected
variant down for the whole run. The tests
check both denominators against these formulas and `max_of="raw"` against torch bit for bit.
The state key is `max_exp_avg_sq` in both; it holds the raw maximum in one and the
corrected in the other, so a `"corrected"` state dict should not be resumed by torch.

## References

- Sashank J. Reddi, Satyen Kale and Sanjiv Kumar, *On the Convergence of Adam and Beyond*,
  ICLR 2018. [arXiv:1904.09237](https://arxiv.org/abs/1904.09237)
- Tran Thi Phuong and Le Trieu Phong, *On the Convergence Proof of AMSGrad and a New
  Version*, IEEE Access 7, 2019. [arXiv:1904.03590](https://arxiv.org/abs/1904.03590),
  [doi:10.1109/ACCESS.2019.2916341](https://doi.org/10.1109/ACCESS.2019.2916341)
- torch's
  [`torch.optim.Adam`](https://docs.pytorch.org/docs/stable/generated/torch.optim.Adam.html),
  the implementation this chapter is tested against (`amsgrad=True`)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

MAX_OF = ("raw", "corrected")


class AMSGrad(Optimizer):
    r"""AMSGrad: Adam with a running maximum of the second moment.

    With the default `max_of="raw"` it equals `torch.optim.Adam(amsgrad=True)` bit for bit
    and shares its state dict (keys `step`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`; the
    groups carry `amsgrad=True`). `max_of="corrected"` keeps the maximum of the
    bias-corrected $\hat v$ instead, as optax does. `weight_decay` and
    `decoupled_weight_decay` mean what they mean for `torch.optim.Adam`.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
        max_of: str = "raw",
    ) -> None:
        betas = _check_adam_arguments(
            lr, betas, eps, weight_decay, foreach=foreach, capturable=capturable,
            differentiable=differentiable, fused=fused,
        )
        if max_of not in MAX_OF:
            raise ValueError(f"max_of must be one of {MAX_OF}, got {max_of!r}")
        # `amsgrad=True` in every group: loaded into `torch.optim.Adam`, the groups then
        # run AMSGrad there too.
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=True,
            maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable, fused=fused,
            decoupled_weight_decay=decoupled_weight_decay, max_of=max_of,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Fill in keys that older or torch state dicts lack; AMSGrad is always on."""
        super().__setstate__(state)
        for group in self.param_groups:
            group["amsgrad"] = True
            group.setdefault("max_of", "raw")
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
        """Take one AMSGrad step for every parameter that has a gradient; return the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            lr = _scalar(group["lr"])
            beta1, beta2 = (_scalar(b) for b in group["betas"])
            eps, weight_decay = group["eps"], group["weight_decay"]
            corrected = group["max_of"] == "corrected"
            params = [p for p in group["params"] if p.grad is not None]
            _check_sparse(type(self).__name__, params)
            for param in params:
                grad = param.grad
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0, dtype=_step_dtype())
                    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
                        state[key] = torch.zeros_like(param, memory_format=torch.preserve_format)
                elif "max_exp_avg_sq" not in state:
                    # Resuming a plain Adam run: the maximum starts from the current $v$.
                    v = state["exp_avg_sq"]
                    if corrected:
                        v = v / (1 - beta2 ** _get_value(state["step"]))
                    state["max_exp_avg_sq"] = v.clone()

                state["step"] += 1
                step = _get_value(state["step"])
                if group["maximize"]:
                    grad = -grad
                # Weight decay as in [Adam](adam.md), on the complex tensor, as torch does.
                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        param.mul_(1 - lr * weight_decay)
                    else:
                        grad = grad.add(param, alpha=weight_decay)

                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                max_exp_avg_sq = state["max_exp_avg_sq"]
                # Real and imaginary parts are separate coordinates.
                if torch.is_complex(param):
                    param, grad = torch.view_as_real(param), torch.view_as_real(grad)
                    exp_avg = torch.view_as_real(exp_avg)
                    exp_avg_sq = torch.view_as_real(exp_avg_sq)
                    max_exp_avg_sq = torch.view_as_real(max_exp_avg_sq)

                # The moments, exactly as in [Adam](adam.md).
                exp_avg.lerp_(grad, 1 - _like(beta1, param))
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                bias_correction1 = 1 - _power(beta1, step)
                bias_correction2 = 1 - _power(beta2, step)
                step_size = lr / bias_correction1

                # The running maximum. "raw": $\tilde v_t = \max(\tilde v_{t-1}, v_t)$, then
                # divided by today's correction. "corrected":
                # $\tilde v_t = \max(\tilde v_{t-1}, v_t/(1-\beta_2^t))$, used as it is.
                if corrected:
                    torch.maximum(max_exp_avg_sq, _divide(exp_avg_sq, bias_correction2),
                                  out=max_exp_avg_sq)
                    denom = max_exp_avg_sq.sqrt().add_(eps)
                else:
                    torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    denom = _divide(max_exp_avg_sq.sqrt(), bias_correction2**0.5,
                                    inplace=True).add_(eps)
                param.addcdiv_(exp_avg, denom, value=-step_size)
        return loss


#
def counterexample_gradient(t: int, period: int = 3, large: float = 3.0, small: float = 1.0
                            ) -> float:
    r"""The gradient of $f_t$ at step $t$ (from 1): `large` if $t \bmod$ `period` $= 1$, else
    $-$`small`.

    `period=3, large=C, small=1` is the three-step problem; `period=101, large=1010,
    small=10` the one with momentum.
    """
    return large if t % period == 1 % period else -small


def run_counterexample(
    make_optimizer: Callable[[list[dict[str, Any]]], Optimizer],
    steps: int,
    *,
    c: float = 3.0,
    alpha: float = 0.5,
    alpha_101: float = 1.0,
    beta2_101: float = 0.99,
) -> tuple[list[float], list[float], float]:
    r"""Run both counterexamples with projection onto $[-1, 1]$ and $\eta_t = \eta/\sqrt t$.

    The two problems are two parameters in two groups of one optimizer (Adam updates each
    coordinate on its own): the three-step problem with $(\beta_1, \beta_2) = (0, 1/(1+C^2))$
    and $\eta =$ `alpha`, the 101-step one with $(\beta_1, \beta_2) = (0.9,$ `beta2_101`$)$ and
    $\eta =$ `alpha_101`. Both start at $x = 0$. Returns the two trajectories and the
    average regret $R_T/T$ of the three-step problem.
    """
    x3 = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    x101 = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([
        {"params": [x3], "lr": alpha, "betas": (0.0, 1 / (1 + c * c))},
        {"params": [x101], "lr": alpha_101, "betas": (0.9, beta2_101)},
    ])
    path3, path101, regret = [], [], 0.0
    for t in range(1, steps + 1):
        g3 = counterexample_gradient(t, 3, c, 1.0)
        # $f_t(x) - f_t(-1) = g_t (x + 1)$ for a linear $f_t$ with slope $g_t$.
        regret += g3 * (x3.item() + 1)
        opt.param_groups[0]["lr"] = alpha / t**0.5
        opt.param_groups[1]["lr"] = alpha_101 / t**0.5
        x3.grad = torch.tensor([g3], dtype=torch.float64)
        x101.grad = torch.tensor([counterexample_gradient(t, 101, 1010.0, 10.0)],
                                 dtype=torch.float64)
        opt.step()
        with torch.no_grad():
            x3.clamp_(-1.0, 1.0)
            x101.clamp_(-1.0, 1.0)
        path3.append(x3.item())
        path101.append(x101.item())
    return path3, path101, regret / steps


def adam_101_path(
    beta2: float, steps: int, marks: list[int], *, amsgrad: bool = False
) -> list[float]:
    r"""$x_t$ of Adam (or AMSGrad) on the 101-step problem at the steps in `marks` (sorted).

    The same run as `run_counterexample`'s 101-step coordinate ($\beta_1 = 0.9$,
    $\eta_t = 1/\sqrt t$, $\epsilon = 10^{-8}$, projection onto $[-1, 1]$, torch's
    order of operations and its AMSGrad maximum of the raw $v$), in plain Python floats:
    a million steps take seconds here, minutes through an optimizer. The tests hold it
    to `torch.optim.Adam` over the first few thousand steps.
    """
    beta1 = 0.9
    x = m = v = v_max = 0.0
    beta1_t = beta2_t = 1.0
    out, pending = [], iter(marks)
    mark = next(pending, 0)
    for t in range(1, steps + 1):
        g = 1010.0 if t % 101 == 1 else -10.0
        m += (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g * g
        beta1_t *= beta1
        beta2_t *= beta2
        if not amsgrad or v > v_max:
            v_max = v
        # $\eta_t/(1-\beta_1^t) \cdot m_t/(\sqrt{\tilde v_t/(1-\beta_2^t)} + \epsilon)$
        x -= m / (t**0.5 * (1 - beta1_t) * (v_max**0.5 / (1 - beta2_t) ** 0.5 + 1e-8))
        if x > 1.0:
            x = 1.0
        elif x < -1.0:
            x = -1.0
        if t == mark:
            out.append(x)
            mark = next(pending, 0)
    return out


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
    """Plot $x_t$ for Adam and AMSGrad on the two counterexamples."""
    import argparse

    parser = argparse.ArgumentParser(description="Draw the AMSGrad chapter's figure.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE (PNG)")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = 3000
    adam3, _, adam_regret = run_counterexample(torch.optim.Adam, steps)
    ams3, _, ams_regret = run_counterexample(AMSGrad, steps)
    # The 101-step problem runs to $10^6$ steps, where $\beta_2 = 0.999$ shows its drift;
    # $x_t$ is kept at 60 steps per decade.
    long = 10**6
    marks = sorted({round(10 ** (k / 60)) for k in range(6 * 60 + 1)})
    runs = [
        ("Adam", 0.99, False, "tab:red"),
        ("AMSGrad", 0.99, True, "tab:blue"),
        ("Adam", 0.999, False, "tab:orange"),
        ("Adam", 0.9999, False, "tab:green"),
    ]

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    ts = range(1, steps + 1)
    left.plot(ts, adam3, color="tab:red", label=f"Adam ($R_T/T$ = {adam_regret:.2f})")
    left.plot(ts, ams3, color="tab:blue", label=f"AMSGrad ($R_T/T$ = {ams_regret:.2f})")
    left.set_title(r"$f_t = 3x$ if $t$ mod 3 = 1 else $-x$;  $(\beta_1, \beta_2) = (0, 0.1)$")
    for name, beta2, amsgrad, color in runs:
        right.plot(marks, adam_101_path(beta2, long, marks, amsgrad=amsgrad), color=color,
                   label=rf"{name}, $\beta_2 = {beta2}$")
    right.set_title(r"$f_t = 1010x$ if $t$ mod 101 = 1 else $-10x$;  $\beta_1 = 0.9$")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.axhline(-1, color="gray", lw=0.8, ls=":")
        ax.set_xlabel("step $t$")
        ax.legend(loc="center left", fontsize=8)
    left.set_ylabel("$x_t$  (optimum $-1$)")
    fig.tight_layout()
    if args.save:
        fig.savefig(args.save, dpi=110)
    else:
        plt.show()


if __name__ == "__main__":
    main()
