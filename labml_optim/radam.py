r"""
---
title: Rectified Adam (RAdam)
summary: Why Adam's early adaptive step is unreliable, and how RAdam's r_t fixes its variance.
group: Optimizers
order: 70
---

# Rectified Adam (RAdam)

[Adam](adam.md) divides each coordinate's step by $\sqrt{\hat v_t}$, its estimate of the
root mean square of that coordinate's gradient. In the first steps that estimate rests on
one, two, three squared gradients. Adam is known to need a learning-rate warmup, on
transformers above all: without it training often diverges or ends in a poor solution.
Liu et al. ("On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020) trace
this to the *variance* of the adaptive learning rate while it has seen few samples, and
remove it with a factor $r_t \le 1$ that scales the adaptive step so that its variance is
the same at every step. This page derives $r_t$ from scratch, checks each step
numerically (the tests), and corrects a few errors that circulate with it, most of them in
the widely read annotated RAdam page of labml_nn (`labml_nn/optimizers/radam.py` in
labmlai/annotated_deep_learning_paper_implementations).

The paper backs the hypothesis with two baselines, both runnable from this file:

* **Adam-2k**: for the first 2000 steps only $v_t$ is updated; the parameters and $m_t$
  stay frozen. Afterwards it is plain Adam, now with a $v_t$ built from 2000 samples.
  If too few samples in $v_t$ are the problem, this cures it, and in the paper it does.
  Here: `adam_2k(params)`, an `AdamVWarmup` with `warmup_v_steps=2000`.
* **Adam-eps**: Adam with $\epsilon = 10^{-4}$ instead of $10^{-8}$. The adaptive factor
  is then bounded, which bounds its variance (and also makes Adam less adaptive wherever
  gradients are small). The official code adds this $\epsilon$ to $\sqrt{v_t}$ *before* the
  bias correction and decays the weights decoupled; that is `AdamEpsHat(params)` here. The
  torch baseline `adam_eps(params)`, `torch.optim.Adam(params, eps=1e-4)`, adds it after the
  correction, which at $t = 1$ is an $\epsilon$ 32 times smaller than the official one's
  (the section ["Adam-eps, two ways"](#adam-eps-two-ways) below derives it).

**Sharding.** Safe under sharding (DDP, `ZeroRedundancyOptimizer`, FSDP2): the update is
elementwise and the rectification depends only on the step count, so each rank steps its
own shard of the parameter and state exactly as one process would, bit for bit (tested
with two processes).

## The algorithm

With $g_t$ the gradient, $\beta_1, \beta_2 \in [0, 1)$, $m_0 = v_0 = 0$:

$$
\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t ,\\
v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2 ,\\
\hat m_t &= \frac{m_t}{1 - \beta_1^t} ,\\
\hat \psi_t &= \frac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \epsilon} ,\\
\rho_\infty &= \frac{2}{1 - \beta_2} - 1 ,\\
\rho_t &= \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t} ,
\end{aligned}
$$

and then

$$
\begin{aligned}
\theta_t &=
\begin{cases}
\theta_{t-1} - \eta\, r_t\, \hat m_t\, \hat\psi_t , & \rho_t > 5 ,\\[1ex]
\theta_{t-1} - \eta\, \hat m_t , & \text{otherwise,}
\end{cases}\\[1ex]
r_t &= \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\,\rho_\infty}
  {(\rho_\infty - 4)(\rho_\infty - 2)\,\rho_t}} .
\end{aligned}
$$

Without $r_t$ the first line is Adam, except for where $\epsilon$ sits: torch's RAdam, and
this chapter, add $\epsilon$ to $\sqrt{v_t}$ *before* the bias correction, which is Adam's
$\epsilon$ multiplied by $1/\sqrt{1 - \beta_2^t}$ (13 times larger at $t = 6$ with
$\beta_2 = 0.999$); torch's Adam adds it after. $\rho_t$ depends only on $t$ and $\beta_2$, so
$r_t$ is a schedule known in advance: the figure further down shows it. The rest of this
page explains where $\rho_t$, the threshold and $r_t$ come from.

## 1. The adaptive learning rate

Adam's step is $\eta\, \hat m_t\, \psi_t$ with the adaptive learning rate

$$
\psi_t = \frac{1}{\sqrt{\hat v_t}} ,\qquad
\hat v_t = \frac{(1 - \beta_2) \sum_{i=1}^{t} \beta_2^{t-i} g_i^2}{1 - \beta_2^t}
$$

($\epsilon$ aside). At the first step $\hat v_1 = g_1^2$, so $\psi_1 = 1/|g_1|$, and Adam moves
every coordinate by exactly $\eta\,\mathrm{sign}(g_1)$, whether its gradient is signal or
noise. Model the gradient of one coordinate as noise, $g \sim \mathcal N(0, \sigma^2)$. Then

$$
\begin{aligned}
P\Big(\psi_1 > \frac{c}{\sigma}\Big) &= P\Big(|g_1| < \frac{\sigma}{c}\Big)
= \mathrm{erf}\Big(\frac{1}{c\sqrt 2}\Big)\\
&\approx \frac{0.80}{c} \quad (c \gg 1) ,
\end{aligned}
$$

a tail so heavy that $\mathbb E[\psi_1] = \infty$: about one coordinate in 125 gets an
adaptive rate more than a hundred times its typical value $1/\sigma$. As $t$ grows, $\hat v_t$
averages more squares and $\psi_t$ concentrates around $1/\sigma$. To say how fast, we need to
know how many samples an exponential moving average is worth.

## 2. From the exponential to a simple moving average

$\hat v_t$ is a weighted average of $g_1^2, \dots, g_t^2$ with weights
$w_i = (1 - \beta_2)\beta_2^{t-i} / (1 - \beta_2^t)$, which add up to 1. Call $t - i$ the *age*
of $g_i^2$. A simple moving average (SMA) of the last $f$ squares weighs ages
$0, 1, \dots, f - 1$ equally, so its mean age is $(f - 1)/2$. Liu et al. approximate the EMA
by the SMA with the same mean age. The EMA's mean age is

$$
A_t = \frac{1 - \beta_2}{1 - \beta_2^t} \sum_{a=0}^{t-1} a\, \beta_2^a .
$$

The sum is $\beta_2$ times the derivative of a geometric series:

$$
\begin{aligned}
\sum_{a=0}^{t-1} a \beta_2^a
&= \beta_2 \frac{d}{d\beta_2} \frac{1 - \beta_2^t}{1 - \beta_2}\\
&= \beta_2\, \frac{-t\beta_2^{t-1}(1 - \beta_2) + (1 - \beta_2^t)}{(1 - \beta_2)^2}\\
&= \frac{\beta_2 (1 - \beta_2^t) - t \beta_2^t (1 - \beta_2)}{(1 - \beta_2)^2} ,\\
A_t &= \frac{\beta_2}{1 - \beta_2} - \frac{t \beta_2^t}{1 - \beta_2^t} .
\end{aligned}
$$

Setting $(f - 1)/2 = A_t$ gives the length $f = \rho_t$ of the matching SMA,

$$
\begin{aligned}
\rho_t &= 1 + \frac{2\beta_2}{1 - \beta_2} - \frac{2 t \beta_2^t}{1 - \beta_2^t}
= \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t} ,\\
\rho_\infty &= \frac{1 + \beta_2}{1 - \beta_2} = \frac{2}{1 - \beta_2} - 1 ,
\end{aligned}
$$

where $\rho_\infty$ is the limit $t \to \infty$ ($t\beta_2^t \to 0$). At $t = 1$,

$$
\rho_1 = \rho_\infty - \frac{2\beta_2}{1 - \beta_2} = \frac{1 - \beta_2}{1 - \beta_2} = 1
$$

exactly: one gradient is one sample. For small $t$, $\rho_t \approx t$; for $\beta_2 = 0.999$,
$\rho_\infty = 1999$,
$\rho_2 = 1.9995$, $\rho_3 = 2.9987$, $\rho_5 = 4.996$, $\rho_6 = 5.994$.

## 3. The distribution of $\psi_t^2$

Replace $\hat v_t$ by the SMA of $\rho = \rho_t$ squares (as if $\rho$ were an integer) of
independent $g_i \sim \mathcal N(0, \sigma^2)$. Then $\sum g_i^2 / \sigma^2 \sim \chi^2_\rho$ and

$$
\psi_t^2 = \frac{1}{\hat v_t} \approx \frac{\rho}{\sum_{i=1}^{\rho} g_{t+1-i}^2}
= \frac{\rho}{\sigma^2 \chi^2_\rho} .
$$

Note which way up this is: $\psi^2$ is the *inverse* of the mean square (labml_nn's page
writes the distribution of the mean square itself as the scaled inverse chi-squared, upside
down). $\rho/(\sigma^2\chi^2_\rho)$ is by definition the scaled inverse chi-squared
distribution $\text{Scale-inv-}\chi^2(\rho, 1/\sigma^2)$. Since $\chi^2_\rho$ is a Gamma
distribution with shape $\rho/2$ and rate $1/2$, $\sigma^2\chi^2_\rho/\rho$ is Gamma with
shape $\rho/2$ and rate $\rho/(2\sigma^2)$, and its inverse is

$$
\begin{aligned}
\psi_t^2 &\sim \text{Inv-Gamma}\Big(a = \frac{\rho}{2},\; b = \frac{\rho}{2\sigma^2}\Big) ,\\
p(x) &= \frac{b^a}{\Gamma(a)}\, x^{-a-1} e^{-b/x} .
\end{aligned}
$$

## 4. Its mean

All moments of the inverse gamma follow from one integral. Substituting $u = b/x$ (so
$x = b/u$ and $dx = -b\,u^{-2}\,du$, the limits swapping),

$$
\begin{aligned}
\mathbb E[X^j] &= \frac{b^a}{\Gamma(a)} \int_0^\infty x^{j-a-1} e^{-b/x}\, dx\\
&= \frac{b^a}{\Gamma(a)}\, b^{j-a} \int_0^\infty u^{a-j-1} e^{-u}\, du\\
&= b^j\, \frac{\Gamma(a - j)}{\Gamma(a)} ,
\end{aligned}
$$

finite only for $j < a$. With $j = 1$ and $\Gamma(a) = (a - 1)\Gamma(a - 1)$,

$$
\mathbb E[\psi_t^2] = \frac{b}{a - 1} = \frac{\rho}{(\rho - 2)\,\sigma^2} ,\qquad \rho > 2 .
$$

For $\rho \le 2$ ($t \le 2$ with $\beta_2 = 0.999$) even the mean is infinite.

## 5. Its variance

With $j = 2$, $\mathbb E[X^2] = b^2 / ((a - 1)(a - 2))$, so

$$
\begin{aligned}
\mathrm{Var}[\psi_t^2] &= \frac{b^2}{(a-1)(a-2)} - \frac{b^2}{(a-1)^2}\\
&= \frac{b^2}{(a - 1)^2 (a - 2)}\\
&= \frac{2\rho^2}{(\rho - 2)^2 (\rho - 4)\, \sigma^4} ,\qquad \rho > 4 .
\end{aligned}
$$

(labml_nn's page prints $2\rho / ((\rho - 2)^2(\rho - 2)\,\sigma^4)$, wrong in
the power of $\rho$ and in the last factor; the tests draw two million samples at
$\rho = 6, 10, 30$ and reject it, while this form matches.)

## 6. From $\psi^2$ to $\psi$: the delta method

We want the variance of $\psi = \sqrt{\psi^2}$ (labml_nn's page leaves this step
underived). Expand $\sqrt{x}$ to first order around $M = \mathbb E[X]$:

$$
\begin{aligned}
&\sqrt{X} \approx \sqrt{M} + \frac{X - M}{2\sqrt{M}}\\
\Rightarrow\quad
&\mathrm{Var}[\sqrt{X}] \approx \frac{\mathrm{Var}[X]}{4M} ,
\end{aligned}
$$

because a constant adds no variance and a factor $1/(2\sqrt M)$ multiplies it by $1/(4M)$.
With sections [4](#4-its-mean) and [5](#5-its-variance),

$$
\begin{aligned}
\mathrm{Var}[\psi_t] &\approx \frac{2\rho^2}{(\rho - 2)^2(\rho - 4)\sigma^4}
\cdot \frac{(\rho - 2)\sigma^2}{4\rho}\\
&= \frac{\rho}{2(\rho - 2)(\rho - 4)\,\sigma^2} .
\end{aligned}
$$

This decreases as $\rho$ grows, towards its floor at $\rho_\infty$. It holds only for $\rho > 4$,
where $\mathrm{Var}[\psi_t^2]$ is finite (for $2 < \rho < 4$ the expression is even negative),
and as $\rho \to 4^+$ it blows up. That is the origin of the threshold.

## 7. The rectification term

Choose $r_t$ so that the rectified adaptive rate $r_t \psi_t$ has the variance that $\psi$
has in the limit,
$\mathrm{Var}[r_t \psi_t] = r_t^2\, \mathrm{Var}[\psi_t] = \mathrm{Var}[\psi_\infty]$:

$$
\begin{aligned}
r_t &= \sqrt{\frac{\mathrm{Var}[\psi_\infty]}{\mathrm{Var}[\psi_t]}}\\
&= \sqrt{\frac{\rho_\infty}{2(\rho_\infty - 2)(\rho_\infty - 4)\sigma^2}}\\
&\qquad \cdot \sqrt{\frac{2(\rho_t - 2)(\rho_t - 4)\sigma^2}{\rho_t}}\\
&= \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\,\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\,\rho_t}} .
\end{aligned}
$$

$\sigma$ cancels: $r_t$ needs no estimate of the gradient scale, only $t$ and $\beta_2$. $r_t$ is
already the square root, so the update multiplies the Adam step by $r_t$ (not by
$\sqrt{r_t}$, as labml_nn's page says in its comments while its code does the right thing;
its comment "if $r_t$ is intractable" also sits on the branch where $r_t$ is defined).
With $\beta_2 = 0.999$: $r_6 = 0.0258$, $r_{100} = 0.2153$, $r_{1000} = 0.6453$,
and $r_t \to 1$.

![The rectification term r_t against the step t for several β2: for β2 near 1, a warmup reaching
0.65 at t = 1/(1 − β2), 0.98 at five times that; with β2 ≤ 2/3,
ρ_t never exceeds 5](radam.png){ .lo-rt-chart }

The caption's bound: $\rho_t$ increases towards $\rho_\infty$ from below, so it ever exceeds
$5$ exactly when $\rho_\infty = 2/(1 - \beta_2) - 1 > 5$, that is $\beta_2 > 2/3$. At
$\beta_2 = 2/3$, $\rho_\infty = 5$ is never passed (torch's rule is strict), and below it
RAdam takes only momentum steps.

## 8. How good is the first-order approximation?

The delta method is not needed: $\mathbb E[\psi] = \mathbb E[X^{1/2}]$ is
[section 4](#4-its-mean)'s
integral with $k = \tfrac12$ (the integral holds for any real $k < a$), so

$$
\begin{aligned}
\mathbb E[\psi_t] &= \sqrt{b}\, \frac{\Gamma(a - \frac12)}{\Gamma(a)}
= \sqrt{\frac{\rho}{2\sigma^2}}\;
  \frac{\Gamma\big(\frac{\rho - 1}{2}\big)}{\Gamma\big(\frac{\rho}{2}\big)} ,\\
\mathrm{Var}[\psi_t] &= \mathbb E[\psi_t^2] - \mathbb E[\psi_t]^2\\
&= \frac{1}{\sigma^2} \Big(\frac{\rho}{\rho - 2} - \frac{\rho}{2}
\Big(\frac{\Gamma\big(\frac{\rho - 1}{2}\big)}{\Gamma\big(\frac{\rho}{2}\big)}\Big)^2\Big) .
\end{aligned}
$$

The exact variance is finite for every $\rho > 2$, so the threshold at 4 is an artefact of
the approximation, not of $\psi$. And the approximation *overestimates* the variance early:
by a factor 3.3 at $\rho = 5$, 2.15 at 6, 1.38 at 10 and 1.02 at 100. An exact rectifier
$\sqrt{\mathrm{Var}_\text{exact}[\psi_\infty] / \mathrm{Var}_\text{exact}[\psi_t]}$ would give
$r_6 = 0.0378$ instead of $0.0258$; RAdam damps its first rectified steps more than its own
argument asks for, which errs on the safe side.

## The threshold: 4, ≥ 5 or > 5

The paper rectifies when $\rho_t > 4$. The official code went back and forth in August
2019: it rectified when $\rho_t > 5$ on the 8th, changed that to the paper's $\rho_t > 4$ on
the 15th, and settled on $\rho_t \ge 5$ on the 16th, with the comment that this is "more
conservative since it's an approximated value". torch uses $\rho_t > 5$, and so does this
chapter by default (`rho_threshold=5.0`; the paper's rule is `rho_threshold=4.0`). With
$\beta_2 = 0.999$, $\rho_5 = 4.996$ and $\rho_6 = 5.994$, so the
paper's rule and the others differ at exactly one step, $t = 5$, where the paper takes a
rectified step with $r_5 = 0.0173$. $\ge 5$ and $> 5$ differ only if $\rho_t$ is exactly
$5.0$ in floating point, which takes a contrived $\beta_2$: the tests find
$\beta_2 = 0.8397685748659791$, where $\rho_6$ is exactly 5.0 and the two rules part at
$t = 6$. `rho_threshold` below 4 is refused: $r_t$ would be the square root of a negative
number.

## Before the threshold

Below the threshold there is no variance estimate to rectify with. The paper and torch then
take a step of SGD with momentum, $\theta_t = \theta_{t-1} - \eta\,\hat m_t$
(`degenerated_to_sgd=True`, the default). That step is measured in units of the gradient, not
of $\eta$: multiply the loss by 1000 and these first steps grow 1000 times, while Adam's and
RAdam's rectified steps do not change ($\epsilon$ aside). The official code's default since
2021 is to skip the update instead (`degenerated_to_sgd=False`): $m_t$, $v_t$ and the step
count advance, the parameters do not move and no weight decay is applied. With
$\beta_2 = 0.999$ that is five skipped steps.

## Does RAdam replace warmup?

$r_t$ is a warmup schedule in disguise, the same for every coordinate: for $\beta_2$ close to 1
it depends on $t$ almost only through $t(1 - \beta_2)$, and reaches 0.65 at $t = 1/(1 - \beta_2)$,
0.83 at twice and 0.98 at five times that (the figure). For machine translation the paper set
$\beta_2 = 0.9995$, so $\rho_\infty \approx 4000$, to match a 4000-step warmup. Ma & Yarats
(2021) argue that an *untuned* linear warmup over $2/(1 - \beta_2)$ steps works as well as
RAdam in practice; the [warmup](warmup.md) chapter derives it and draws it beside $r_t$.

## Weight decay

`weight_decay` $\lambda$ adds $\lambda\theta_{t-1}$ to the gradient (L2), as torch's default;
`decoupled_weight_decay=True` instead multiplies the parameter by $1 - \eta\lambda$ before the
update, as in AdamW and in the official RAdam code.

## References

- Liyuan Liu et al., *On the Variance of the Adaptive Learning Rate and Beyond*, ICLR 2020.
  [arXiv:1908.03265](https://arxiv.org/abs/1908.03265); the authors' code:
  [LiyuanLucasLiu/RAdam](https://github.com/LiyuanLucasLiu/RAdam)
- Jerry Ma and Denis Yarats, *On the Adequacy of Untuned Warmup for Adaptive Optimization*,
  AAAI 2021. [arXiv:1910.04209](https://arxiv.org/abs/1910.04209)
- torch's
  [`torch.optim.RAdam`](https://docs.pytorch.org/docs/stable/generated/torch.optim.RAdam.html),
  the implementation this chapter is tested against
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


def _radam_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    *,
    lr: float | Tensor,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled_weight_decay: bool,
    maximize: bool,
    rho_threshold: float,
    degenerated_to_sgd: bool,
) -> None:
    r"""One RAdam step on one tensor, in torch's order of operations.

    Every rounding happens where torch's for-loop path rounds, which is what makes float32
    results bitwise equal.
    """
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    # Maximizing $f$ is minimizing $-f$.
    if maximize:
        grad = -grad
    # A complex coordinate is two real ones, each with its own second moment.
    if torch.is_complex(param):
        param, grad = torch.view_as_real(param), torch.view_as_real(grad)
        exp_avg, exp_avg_sq = torch.view_as_real(exp_avg), torch.view_as_real(exp_avg_sq)

    state["step"] += 1
    t = _get_value(state["step"])

    # $\rho_t$ and the choice of branch depend only on $t$ and $\beta_2$
    # ([section 2](#2-from-the-exponential-to-a-simple-moving-average)), so
    # they are known before anything is updated.
    bias_correction2 = 1 - _power(beta2, t)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = sma_length(t, beta2)
    rectified = rho_t > rho_threshold
    if torch.compiler.is_compiling():
        _radam_update_traced(
            param, grad, exp_avg, exp_avg_sq, t, rectified, rho_t, rho_inf, lr=lr,
            beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            degenerated_to_sgd=degenerated_to_sgd,
        )
        return
    moves = rectified or degenerated_to_sgd

    # L2 decay is part of the gradient and so enters $m_t$ and $v_t$ in every step;
    # decoupled decay shrinks the parameter, and only in steps that move it.
    if weight_decay != 0:
        if decoupled_weight_decay:
            if moves:
                param.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(param, alpha=weight_decay)

    # The moments are Adam's; `lerp_` is $m + (1-\beta_1)(g - m)$, rounded as torch rounds.
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    if not moves:
        return

    bias_correction1 = 1 - _power(beta1, t)
    # One scratch tensor for the step and one for the adaptive factor, updated in place:
    # an in-place product rounds exactly as the out-of-place one, so this keeps torch's
    # bits while allocating two temporaries where torch allocates six.
    step = torch.div(exp_avg, bias_correction1).mul_(lr)
    if rectified:
        # $\eta\, \hat m_t \cdot \sqrt{1-\beta_2^t}/(\sqrt{v_t}+\epsilon) \cdot r_t$: the
        # factors in torch's order (a number divided by a tensor is the tensor's reciprocal
        # times the number, as torch computes it).
        adaptive = exp_avg_sq.sqrt().add_(eps).reciprocal_().mul_(bias_correction2**0.5)
        step.mul_(adaptive).mul_(rectification(rho_t, rho_inf))
    # Otherwise `step` is the momentum step $\eta\hat m_t$ of section
    # ["Before the threshold"](#before-the-threshold).
    param.sub_(step)


def _radam_update_traced(
    param: Tensor,
    grad: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    t: Tensor,
    rectified: Tensor,
    rho_t: Tensor,
    rho_inf: float,
    *,
    lr: float | Tensor,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled_weight_decay: bool,
    degenerated_to_sgd: bool,
) -> None:
    r"""The same step under `torch.compile`, where $t$, $\rho_t$ and the branch are tensors.

    A Python `if` on a tensor would split the compiled graph at every step and compile
    it again whenever the branch flips. So both branches are computed and `torch.where`
    picks one, as torch's capturable path does; the rejected branch may hold NaN (the
    rectification below $\rho_t = 4$), which `where` discards.
    """
    moves = rectified | degenerated_to_sgd
    if weight_decay != 0:
        if decoupled_weight_decay:
            param.mul_(torch.where(moves, 1 - lr * weight_decay, 1.0))
        else:
            grad = grad.add(param, alpha=weight_decay)
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    # Eager divides $m_t$ by $1 - \beta_1^t$, as torch does; compiled, that is a vector
    # division for every 8 coordinates beside the denominator's square root and
    # reciprocal. The step size is one number per tensor, so it is formed once and
    # multiplies $m_t$ (a last-bit difference from eager, inside the compiled tests'
    # tolerance).
    step = exp_avg * (lr / (1 - _power(beta1, t)))
    adaptive = exp_avg_sq.sqrt().add_(eps).reciprocal_().mul_((1 - _power(beta2, t)) ** 0.5)
    step.mul_(torch.where(rectified, adaptive * rectification(rho_t, rho_inf), 1.0))
    param.sub_(torch.where(moves, step, 0.0))


# ## Shared plumbing
#
# State creation, common to both optimizers.
def _params_with_grad(opt: Optimizer, group: dict[str, Any]) -> list[Tensor]:
    """The group's parameters that have a gradient, with their state created if missing.

    Every gradient is checked first, so a sparse one fails before any state changes.
    """
    found = [p for p in group["params"] if p.grad is not None]
    _check_sparse(type(opt).__name__, found)
    for p in found:
        state = opt.state[p]
        if len(state) == 0:
            # The moments start at zero: the bias that the corrections remove.
            state["step"] = torch.tensor(0.0, dtype=_step_dtype())
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
    return found


class RAdam(Optimizer):
    r"""Rectified Adam, a drop-in replacement for `torch.optim.RAdam`.

    Same signature, defaults, group keys and state keys (`step`, `exp_avg`, `exp_avg_sq`) as
    torch's, so state dicts move between the two in both directions, and float32 results are
    bitwise equal to torch's for-loop path. Two keywords go beyond torch:

    * `rho_threshold` (default 5.0, torch's): rectify when $\rho_t$ exceeds it; the paper's
      rule is 4.0. Must be at least 4.
    * `degenerated_to_sgd` (default True, torch's and the paper's): below the threshold take
      the momentum step $\eta\hat m_t$; False skips the update and its decoupled weight
      decay, as the official code does by default.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        rho_threshold: float = 5.0,
        degenerated_to_sgd: bool = True,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        betas = _check_adam_arguments(
            lr, betas, eps, weight_decay, foreach=foreach, capturable=capturable,
            differentiable=differentiable,
        )
        # [Section 6](#6-from-psi2-to-psi-the-delta-method): the approximate variance, and
        # with it $r_t$, exists only for $\rho_t > 4$, so a lower threshold would rectify with
        # an imaginary $r_t$.
        if not rho_threshold >= 4.0:
            raise ValueError(f"rho_threshold must be >= 4, got {rho_threshold}")
        # torch's group keys, all of them, plus our two.
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
            maximize=maximize, foreach=foreach, capturable=capturable,
            decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable,
            rho_threshold=float(rho_threshold), degenerated_to_sgd=degenerated_to_sgd,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Fill in keys that torch's or older state dicts lack; make a numeric `step` a tensor."""
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("capturable", False)
            group.setdefault("rho_threshold", 5.0)
            group.setdefault("degenerated_to_sgd", True)
            for p in group["params"]:
                _step_as_tensor(self.state.get(p, {}))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one RAdam step for each parameter that has a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            # As torch does, check every gradient and create missing state before any
            # parameter of the group moves, so a sparse gradient fails cleanly.
            params = _params_with_grad(self, group)
            lr = _scalar(group["lr"])
            beta1, beta2 = group["betas"]
            for param in params:
                _radam_update(
                    param, param.grad, self.state[param], lr=lr, beta1=beta1, beta2=beta2,
                    eps=group["eps"], weight_decay=group["weight_decay"],
                    decoupled_weight_decay=group["decoupled_weight_decay"],
                    maximize=group["maximize"], rho_threshold=group["rho_threshold"],
                    degenerated_to_sgd=group["degenerated_to_sgd"],
                )
        return loss


#
def sma_length(t: float, beta2: float) -> float:
    r"""$\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)$: how many samples $\hat v_t$ is worth.

    The length of the simple moving average with the same mean age as the bias-corrected
    EMA at step $t \ge 1$ ([section 2](#2-from-the-exponential-to-a-simple-moving-average)).
    Written as torch writes it, so that the two make the
    same threshold decisions to the last bit. For $\beta_2$ near 1 and small $t$ the
    subtraction cancels: with $\beta_2 = 0.9999$, $\rho_2$ is off by $5 \cdot 10^{-9}$,
    which could change a threshold decision only for a $\rho_t$ that close to the threshold.
    """
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf - 2 * t * _power(beta2, t) / (1 - _power(beta2, t))


def rectification(rho_t: float, rho_inf: float) -> float:
    r"""The rectification term

    $$
    r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}
    $$

    of [Section 7](#7-the-rectification-term); defined for $\rho_t > 4$ (and then
    $\rho_\infty > \rho_t > 4$).
    """
    ratio = (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
    return _power(ratio, 0.5)


def psi_variance_first_order(rho: float, sigma: float = 1.0) -> float:
    r"""The delta method's $\mathrm{Var}[\psi] \approx \rho / (2(\rho-2)(\rho-4)\sigma^2)$."""
    return rho / (2 * (rho - 2) * (rho - 4) * sigma**2)


def psi_variance_exact(rho: float, sigma: float = 1.0) -> float:
    r"""The exact $\mathrm{Var}[\psi]$ of
    [section 8](#8-how-good-is-the-first-order-approximation), $(\rho/(\rho-2) - M^2)/\sigma^2$.

    Here $M = \sqrt{\rho/2}\,\Gamma(\frac{\rho-1}{2})/\Gamma(\frac\rho2)$ is
    $\mathbb E[\psi]$ for $\sigma = 1$; valid for $\rho > 2$. The Gamma ratio goes through
    `lgamma`, which does not overflow for large $\rho$.
    """
    gamma_ratio = math.exp(math.lgamma((rho - 1) / 2) - math.lgamma(rho / 2))
    return (rho / (rho - 2) - rho / 2 * gamma_ratio**2) / sigma**2


def _adam_v_warmup_traced(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    t: Tensor,
    frozen: Tensor,
    *,
    lr: float | Tensor,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    decoupled: bool,
) -> None:
    """The same step under `torch.compile`, where `frozen` is a tensor: `torch.where`
    chooses instead of a Python `if`, which would split the compiled graph."""
    if weight_decay != 0:
        if not decoupled:
            grad = grad.add(param, alpha=weight_decay)
        else:
            param.mul_(torch.where(frozen, 1.0, 1 - lr * weight_decay))
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    if torch.is_complex(param):
        param, grad = torch.view_as_real(param), torch.view_as_real(grad)
        exp_avg, exp_avg_sq = torch.view_as_real(exp_avg), torch.view_as_real(exp_avg_sq)
    exp_avg.copy_(torch.where(frozen, exp_avg, exp_avg.lerp(grad, 1 - beta1)))
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denom = _divide(exp_avg_sq.sqrt(), (1 - _power(beta2, t)) ** 0.5, inplace=True).add_(eps)
    moved = param.clone()
    moved.addcdiv_(exp_avg, denom, value=-(lr / (1 - _power(beta1, t))))
    param.copy_(torch.where(frozen, param, moved))


# ## The paper's two baselines
#
# Adam-2k freezes the parameters and $m_t$ for its first `warmup_v_steps` steps and only
# accumulates $v_t$. It is written as its own small optimizer, `AdamVWarmup`, whose state is
# exactly `torch.optim.Adam`'s: after the warm-up it *is* Adam, continuing with the $v_t$ it
# has gathered, and its state dict can be loaded into `torch.optim.Adam` at any time. As in
# the official code, the step count (and so both bias corrections) counts the frozen steps
# too. $v_t$ has had $t$ updates and its correction $1 - \beta_2^t$ is right; $m_t$ has had
# only $t - K$ ($K$ = `warmup_v_steps`),
# so $\hat m_t$ is too small by $1 - \beta_1^{t-K}$ for the first
# $\approx 1/(1-\beta_1)$ steps after the warm-up, a short extra warmup of the momentum.
# With `warmup_v_steps=0` it is `torch.optim.Adam` (without AMSGrad), bit for bit.
class AdamVWarmup(Optimizer):
    r"""Adam whose first `warmup_v_steps` steps only update $v_t$ (the paper's Adam-2k).

    Arguments as `torch.optim.Adam` (no `amsgrad`, `fused`), plus `warmup_v_steps` (default
    0: plain Adam). `adam_2k(params)` builds the paper's baseline.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        *,
        warmup_v_steps: int = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        betas = _check_adam_arguments(
            lr, betas, eps, weight_decay, foreach=foreach, capturable=capturable,
            differentiable=differentiable,
        )
        if isinstance(warmup_v_steps, bool) or not isinstance(warmup_v_steps, int) \
                or warmup_v_steps < 0:
            raise ValueError(f"warmup_v_steps must be an int >= 0, got {warmup_v_steps!r}")
        # torch.optim.Adam's group keys (`amsgrad` and `fused` off), so a group loaded into
        # torch's Adam finds every key it reads.
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=False,
            maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable, fused=None,
            decoupled_weight_decay=decoupled_weight_decay, warmup_v_steps=warmup_v_steps,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Fill in keys that torch's or older state dicts lack; make a numeric `step` a tensor."""
        super().__setstate__(state)
        for group in self.param_groups:
            if group.get("amsgrad"):
                raise ValueError("AdamVWarmup has no AMSGrad variant; got a group with amsgrad")
            for key, value in (("amsgrad", False), ("maximize", False), ("foreach", None),
                               ("capturable", False), ("differentiable", False),
                               ("fused", None), ("decoupled_weight_decay", False),
                               ("warmup_v_steps", 0)):
                group.setdefault(key, value)
            for p in group["params"]:
                _step_as_tensor(self.state.get(p, {}))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step for every parameter that has a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            params = _params_with_grad(self, group)
            lr = _scalar(group["lr"])
            beta1, beta2 = group["betas"]
            for param in params:
                state = self.state[param]
                grad = param.grad if not group["maximize"] else -param.grad
                eps, weight_decay = group["eps"], group["weight_decay"]
                state["step"] += 1
                t = _get_value(state["step"])
                # `warmup_v_steps` is a Python int, so without a warm-up no comparison
                # with the (under `torch.compile`, tensor) step count is made at all.
                frozen = group["warmup_v_steps"] > 0 and t <= group["warmup_v_steps"]
                if isinstance(frozen, Tensor):
                    _adam_v_warmup_traced(param, grad, state, t, frozen, lr=lr, beta1=beta1,
                                          beta2=beta2, eps=eps, weight_decay=weight_decay,
                                          decoupled=group["decoupled_weight_decay"])
                    continue

                # Frozen: no decoupled decay either, the parameters must not move.
                if weight_decay != 0:
                    if not group["decoupled_weight_decay"]:
                        grad = grad.add(param, alpha=weight_decay)
                    elif not frozen:
                        param.mul_(1 - lr * weight_decay)

                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                if torch.is_complex(param):
                    param, grad = torch.view_as_real(param), torch.view_as_real(grad)
                    exp_avg = torch.view_as_real(exp_avg)
                    exp_avg_sq = torch.view_as_real(exp_avg_sq)

                # During the warm-up, only $v_t$ learns: that is the whole of Adam-2k.
                if not frozen:
                    exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                if frozen:
                    continue

                # From here on Adam as torch computes it: $\epsilon$ after the correction.
                step_size = lr / (1 - _power(beta1, t))
                denom = _divide(exp_avg_sq.sqrt(), (1 - _power(beta2, t)) ** 0.5,
                                inplace=True).add_(eps)
                param.addcdiv_(exp_avg, denom, value=-step_size)
        return loss


def adam_2k(params: Iterable[Tensor] | Iterable[dict[str, Any]], **kwargs: Any) -> AdamVWarmup:
    """The paper's Adam-2k: `AdamVWarmup` with `warmup_v_steps=2000`."""
    kwargs.setdefault("warmup_v_steps", 2000)
    return AdamVWarmup(params, **kwargs)


def adam_eps(params: Iterable[Tensor] | Iterable[dict[str, Any]], **kwargs: Any) -> Optimizer:
    r"""Adam-eps on torch: `torch.optim.Adam` with `eps=1e-4` ($\epsilon$ after the correction).

    Not the paper's own baseline, which `AdamEpsHat` is; see "Adam-eps, two ways" below.
    """
    kwargs.setdefault("eps", 1e-4)
    return torch.optim.Adam(params, **kwargs)


# ## Adam-eps, two ways
#
# The official code's Adam (the `AdamW` class beside its RAdam) adds $\epsilon$ to the raw
# $\sqrt{v_t}$ and folds both corrections into the step size, the $\hat\epsilon$ form of
# [Adam](adam.md), with decoupled weight decay:
#
# $$
# \theta_t = (1 - \eta\lambda)\,\theta_{t-1}
# - \eta\,\frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}\,\frac{m_t}{\sqrt{v_t} + \epsilon} .
# $$
#
# Written in the standard form this is Adam with $\epsilon_t = \epsilon/\sqrt{1 - \beta_2^t}$,
# $31.6\,\epsilon$ at $t = 1$ for $\beta_2 = 0.999$, falling to $\epsilon$ after a few thousand
# steps. `torch.optim.Adam(eps=1e-4)` keeps $10^{-4}$ from the first step: 32 times smaller
# at $t = 1$, so in the first steps, the ones the baseline is about, it bounds the adaptive
# factor much less. `AdamEpsHat` is the paper's baseline; `adam_eps` (torch) stays for
# comparison. Its `weight_decay` is decoupled, as in the official code; torch's Adam adds
# `weight_decay` to the gradient (L2) unless `decoupled_weight_decay=True`. The tests hold
# `AdamEpsHat` to the formula above written out by hand, and check the factor 31.6.
class AdamEpsHat(Optimizer):
    r"""The RAdam paper's Adam-eps: $\epsilon$ on $\sqrt{v_t}$ before the bias correction.

    `lr` $\eta$, `betas`, `eps` $\epsilon$ (default $10^{-4}$, the baseline's) and
    `weight_decay` $\lambda$, decoupled: $\theta \leftarrow (1 - \eta\lambda)\theta$ each step.
    State as `torch.optim.Adam` (`step`, `exp_avg`, `exp_avg_sq`).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-4,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        betas = _check_adam_arguments(lr, betas, eps, weight_decay, foreach=foreach)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Make a numeric `step` a tensor, as the other optimizers here do."""
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            for p in group["params"]:
                _step_as_tensor(self.state.get(p, {}))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step for every parameter that has a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = _params_with_grad(self, group)
            lr, (beta1, beta2) = _scalar(group["lr"]), group["betas"]
            for param in params:
                state = self.state[param]
                grad = param.grad if not group["maximize"] else -param.grad
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                if torch.is_complex(param):
                    param, grad = torch.view_as_real(param), torch.view_as_real(grad)
                    exp_avg = torch.view_as_real(exp_avg)
                    exp_avg_sq = torch.view_as_real(exp_avg_sq)
                state["step"] += 1
                t = _get_value(state["step"])
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                # $\eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)$ and $\sqrt{v_t} + \epsilon$.
                step_size = lr * (1 - _power(beta2, t)) ** 0.5 / (1 - _power(beta1, t))
                denom = exp_avg_sq.sqrt().add_(group["eps"])
                if group["weight_decay"] != 0:
                    param.mul_(1 - lr * group["weight_decay"])
                param.addcdiv_(exp_avg, denom, value=-step_size)
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
    r"""Draw $r_t$ against $t$ for several $\beta_2$."""
    import argparse

    parser = argparse.ArgumentParser(description="Draw the RAdam chapter's figure.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE (PNG)")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Integer steps from 1 to $10^5$, evenly spaced on the log axis.
    ts = sorted({round(10 ** (5 * i / 1500)) for i in range(1501)})
    fig, ax = plt.subplots(figsize=(10, 4.6))
    colours = [f"C{i}" for i in range(7)]
    for beta2, colour in zip((0.5, 0.6, 0.8, 0.9, 0.99, 0.999, 0.9999), colours, strict=True):
        rho_inf = 2 / (1 - beta2) - 1
        # torch's rule: rectify when $\rho_t > 5$; no point is drawn before that.
        r = [rectification(rho, rho_inf) if (rho := sma_length(t, beta2)) > 5 else math.nan
             for t in ts]
        label = rf"$\beta_2$ = {beta2}"
        if rho_inf <= 5:
            label += rf" ($\rho_\infty$ = {rho_inf:g}: never rectified)"
        ax.plot(ts, r, color=colour, label=label)
    # Linear warmup over $2/(1-\beta_2)$ steps for $\beta_2 = 0.999$, for comparison.
    ax.plot(ts, [min(1.0, t * (1 - 0.999) / 2) for t in ts], color="gray", ls="--", lw=1,
            label="linear warmup over\n" + r"$2/(1-\beta_2)$ = 2000 steps")
    ax.set_xscale("log")
    ax.set_xlabel("step $t$")
    ax.set_ylabel("$r_t$")
    ax.set_ylim(0, 1.02)
    ax.set_title(r"RAdam's rectification term $r_t$ (rectified when $\rho_t > 5$)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    if args.save:
        fig.savefig(args.save, dpi=110)
    else:
        plt.show()


if __name__ == "__main__":
    main()
