r"""
---
title: LAMB
summary: Adam rescaled per layer, so that the learning rate is a step relative to the weights.
group: Optimizers
order: 80
---

# LAMB: layer-wise adaptive moments

LAMB (You et al., *Large Batch Optimization for Deep Learning: Training BERT in 76
Minutes*, ICLR 2020) is [Adam](adam.md) with one change: each parameter tensor's update
is rescaled so that its length is a fixed fraction of that tensor's weights. The
learning rate stops being a step size per coordinate and becomes a step size *relative
to each layer*. This chapter derives why a large batch wants that, what the rescaling
(the *trust ratio*) does exactly, why weight decay sits inside it, how the two published
versions differ in bias correction, and which parameters should not be rescaled. It also
says where the method has not held up: tuned Adam does as well on the paper's own
benchmark.

**Sharding.** Safe under sharding (DDP, `ZeroRedundancyOptimizer`, FSDP2): the trust
ratio's two norms are taken over the whole tensor, which for an FSDP2 shard (a DTensor)
means a reduction across the ranks; the norms of the local shard alone would be smaller,
and each rank would scale its rows of one layer by a different, wrong ratio. Equal to one
process up to the order of the norms' sums (1e-7, tested with two processes).

## Large batches raise the learning rate until one layer breaks

With a batch of $B$ examples the gradient noise has a variance proportional to $1/B$, and
an epoch has $N/B$ steps. To make the same progress per epoch with fewer, less noisy
steps, each step must be longer: the linear scaling rule of SGD sets $\eta \propto B$
(Goyal et al., 2017); for adaptive methods a square-root rule, $\eta \propto \sqrt{B}$,
is common. The argument of LARS and LAMB is that a longer step fails first where it is
longest *relative to the weights it changes*: a layer whose weights move by a large
fraction of their norm in one step changes the function it computes abruptly, and the
loss spikes. Then the usable learning rate is set by the tensor $i$ with the largest
relative step

$$
\eta^{\text{rel}}_i = \frac{\lVert \Delta\theta_i \rVert}{\lVert \theta_i \rVert}.
$$

## Adam's relative step differs from layer to layer

Adam steps $\Delta\theta = -\eta\, d$ with the direction
$d = \hat m / (\sqrt{\hat v} + \epsilon)$. On the first step the bias-corrected moments
are $\hat m_1 = g_1$ and $\hat v_1 = g_1^2$, so
$d_{1,i} = g_i / (\lvert g_i \rvert + \epsilon) \approx \operatorname{sign}(g_i)$: every
coordinate moves by almost exactly $\eta$, whatever its gradient, and for a tensor of $n$
entries

$$
\eta^{\text{rel}}_1 = \frac{\eta \lVert d_1 \rVert}{\lVert \theta \rVert}
\approx \frac{\eta \sqrt{n}}{\lVert \theta \rVert}.
$$

A tensor initialised with entries of standard deviation $\sigma_{\text{init}}$ has
$\lVert \theta \rVert \approx \sigma_{\text{init}}\sqrt{n}$, hence
$\eta^{\text{rel}}_1 \approx \eta / \sigma_{\text{init}}$. BERT's TensorFlow code initialises
embeddings and weight matrices from a normal with `stddev=0.02` truncated at two standard
deviations (values beyond are drawn again). Truncation narrows it: for a standard normal cut
to $[-2, 2]$,

$$
\mathrm{Var} = 1 - \frac{2 \cdot 2\, p(2)}{P(2) - P(-2)} = 0.7737 ,
$$

with $p$ and $P$ the standard normal density and distribution function,
so the actual standard deviation is $0.02\sqrt{0.7737} = 0.0176$ and the relative step is
about $57\eta$. The PyTorch port (Hugging Face's `BertModel`) and this chapter's figure draw
from an untruncated normal of standard deviation $0.02$: about $50\eta$. LayerNorm gains
start at one: $\eta^{\text{rel}} = \eta$. Biases start at zero: their relative step is
unbounded. The same $\eta$ is a relative step fifty times larger for some tensors than for
others, and training moves the norms further apart. Later in
training $\lvert d_i \rvert$ stays of order one where gradients keep their sign and
shrinks where they are noise, so the spread changes but does not go away.

## The trust ratio

LAMB keeps Adam's direction and resets its length per tensor. With $u$ the update of the
base method (Adam's $d$ plus the weight decay term, below),

$$
\begin{aligned}
\theta &\leftarrow \theta - \eta \, q\, u,\\
q &= \frac{\phi(\lVert \theta \rVert)}{\lVert u \rVert}, \qquad u = d + \lambda \theta,
\end{aligned}
$$

where the norms are over the whole tensor and $\phi$ is the identity, or a clamp. The
factor $q$ is the *trust ratio*. Its step has length

$$
\lVert \Delta\theta \rVert = \eta \, \frac{\phi(\lVert \theta \rVert)}{\lVert u \rVert} \,
\lVert u \rVert = \eta \, \phi(\lVert \theta \rVert),
$$

so with $\phi$ the identity $\eta^{\text{rel}} = \eta$ exactly, for every tensor, at every
step. The
learning rate of LAMB is the fraction of its norm that each layer moves per step:
$\eta = 10^{-3}$ moves every weight matrix by 0.1% of its norm. A scalar factor on $u$
cancels in $u / \lVert u\rVert$, so the length of Adam's update no longer matters, only
its direction; the per-coordinate normalisation of Adam survives inside that direction.

![Relative step per tensor under Adam and LAMB](lamb.png)

The figure trains a small model (an embedding initialised with $\sigma_{\text{init}} = 0.02$, dense
layers of two widths, LayerNorm) with AdamW and with LAMB at the same $\eta$. Under
AdamW the first relative steps of its weight matrices lie between about $10\eta$ and $50\eta$,
the embedding's largest, as derived above; then they all fall by more than a factor of
a hundred, because Adam's step shrinks when the current gradients are small or noisy compared with
those its second moment remembers. Under LAMB every adapted tensor moves by exactly
$\eta$ of its norm at every step. The trust ratio discards the length of Adam's update,
and with it that automatic shrinking: with LAMB the learning-rate schedule has to do the
annealing (the paper warms up, then decays $\eta$). The dotted lines are a bias and a
LayerNorm gain, excluded from adaptation for the reasons derived below, so they take
Adam's step in both runs. Both runs train (right); the same number $\eta$ means a step
per coordinate to one and a step relative to each tensor to the other, so the losses
are not a tuned comparison.

## Where the trust ratio comes from: LARS

The trust ratio comes from LARS (You, Gitman & Ginsburg, *Large Batch Training of
Convolutional Networks*, 2017), which puts it on SGD with momentum. LARS gives each layer
$i$ a local learning rate from its weight and gradient norms,

$$
\begin{aligned}
\eta_i &= \eta_{\text{trust}}\, \frac{\lVert \theta_i \rVert}
{\lVert \nabla_i f \rVert + \lambda \lVert \theta_i \rVert} ,\\
b_t &= \mu\, b_{t-1} + \eta_t\, \eta_i \left(\nabla_i f + \lambda\theta_i\right),\\
\theta_i &\leftarrow \theta_i - b_t ,
\end{aligned}
$$

with a trust coefficient $\eta_{\text{trust}}$ ($0.001$ in the paper) and a global schedule
$\eta_t$ on top. Without momentum and with $\lVert\nabla_i f + \lambda\theta_i\rVert \approx
\lVert\nabla_i f\rVert + \lambda\lVert\theta_i\rVert$ (equal when the two point the same
way), the step has length $\eta_t\,\eta_{\text{trust}}\lVert\theta_i\rVert$: already a fixed
fraction of the layer's norm. The LAMB paper writes LARS in the same shape as LAMB: the
momentum $m_t$ of $g_t + \lambda\theta_{t-1}$, rescaled per layer by
$\phi(\lVert\theta\rVert)/\lVert m_t\rVert$. LAMB puts Adam's direction where LARS has the
momentum.

**Why it converges, and what it buys.** The paper proves that LARS and LAMB reach a
stationary point of a smooth non-convex loss, and the core of the argument fits in a few
lines. Let layer $i$ (of $h$) have smoothness $L_i$: its gradient changes by at most
$L_i\lVert\delta\rVert$ when its weights move by $\delta$. Then for any step $\Delta$,

$$
\begin{aligned}
f(\theta + \Delta) \le f(\theta) &+ \sum_i \langle \nabla_i f, \Delta_i\rangle\\
&+ \sum_i \frac{L_i}{2}\lVert\Delta_i\rVert^2 .
\end{aligned}
$$

Take a normalized step $\Delta_i = -\eta\,\phi_i\, \nabla_i f/\lVert\nabla_i f\rVert$ with
$\gamma_l \le \phi_i \le \gamma_u$ (the clamp's bounds), gradients exact for now. The
middle sum is $-\eta\sum_i \phi_i\lVert\nabla_i f\rVert \le -\eta\gamma_l\sum_i
\lVert\nabla_i f\rVert$ and the last is at most $\frac{\eta^2\gamma_u^2}{2}\sum_i L_i$, so each
step lowers $f$ by at least $\eta\gamma_l\sum_i\lVert\nabla_i f\rVert -
\frac{\eta^2\gamma_u^2}{2}\sum_i L_i$. Add this up over $T$ steps; $f$ cannot fall below
its minimum $f^\star$:

$$
\begin{aligned}
\frac{1}{T}\sum_{t=1}^{T}\sum_i \lVert\nabla_i f(\theta_{t-1})\rVert
&\le \frac{f(\theta_0) - f^\star}{\eta\gamma_l T}\\
&\quad + \frac{\eta\gamma_u^2}{2\gamma_l}\, h\,L_{\text{avg}},\\
L_{\text{avg}} &= \frac{1}{h}\sum_i L_i ,
\end{aligned}
$$

and $\eta \propto 1/\sqrt{T}$ makes the right side $O(1/\sqrt T)$. The curvature enters
through the *average* layer smoothness. Plain gradient descent with one learning rate for
all layers must keep that rate below $2/L_{\max}$ to descend, and the standard bound for
SGD on smooth non-convex losses, which the paper compares with, has
$L_{\max} = \max_i L_i$ where this one has $L_{\text{avg}}$: the stiffest layer sets the
pace for all. With very different layers ($L_{\max} \gg L_{\text{avg}}$) the layerwise
normalized step is the better bound. The paper's theorems add the noise: a normalized
step of a noisy gradient is biased, and they control it with batches that grow with $T$
(the large-batch setting the method is for), and, for LAMB, with Adam's direction in
place of the gradient and the clamp bounds in the constants. The tests check the
inequality above on a two-layer quadratic.

## The algorithm

Per tensor, with $g_t$ its gradient, $\beta_1, \beta_2 \in [0, 1)$, $\epsilon > 0$,
weight decay $\lambda \ge 0$ and learning rate $\eta$:

$$
\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \\
v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \\
\hat m_t &= \frac{m_t}{1 - \beta_1^t}, \qquad
\hat v_t = \frac{v_t}{1 - \beta_2^t}, \\
d_t &= \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}, \\
u_t &= d_t + \lambda \theta_{t-1}, \qquad
q_t = \frac{\phi(\lVert \theta_{t-1} \rVert)}{\lVert u_t \rVert}, \\
\theta_t &= \theta_{t-1} - \eta \, q_t \, u_t .
\end{aligned}
$$

That is Algorithm 2 of the paper (in this site's [notation](notation.md)), dividing by
the norms as printed; the common implementations, and this
one, set the trust ratio to $1$ when $\lVert \theta_{t-1}\rVert = 0$ or
$\lVert u_t\rVert = 0$. `LAMB` below implements it,
with the bias correction ($\hat m, \hat v$) and the layer adaptation as switches, and
`lamb_param_groups` builds the usual exclusions.

## Evidence, and counter-evidence

The paper pre-trains BERT in 76 minutes with batches of 65,536 sequences in its first
stage and 32,768 in its second, and reports that AdamW did not reach the target
accuracy at such batch sizes. Nado et al. (2021, *A Large Batch Optimizer Reality
Check*) re-ran the comparison with the same care in tuning for every optimizer
(learning-rate schedule, warmup, $\epsilon$, decay) and found that Adam matches LAMB on BERT
pre-training at those batch sizes, and Nesterov momentum matches LARS on ResNet-50: a
large part of the reported gap came from tuning, not from the trust ratio.

What the trust ratio can and cannot do follows from the derivation above. In a
homogeneous model (every layer the same width, initialised with the same
$\sigma_{\text{init}}$) Adam's relative steps start out equal, about
$\eta/\sigma_{\text{init}}$ each, so LAMB mostly
rescales the global learning rate, which tuning finds anyway: there is little to gain.
Its case is a model whose tensors differ in scale, embeddings next to LayerNorm gains
next to wide dense layers, where no single Adam learning rate is right for all of them
and LAMB gives each the same relative step. Related chapters: [Adam](adam.md),
[AdamW](adamw.md).

## References

- Yang You et al., *Large Batch Optimization for Deep Learning: Training BERT in 76
  Minutes*, ICLR 2020. [arXiv:1904.00962](https://arxiv.org/abs/1904.00962)
- Yang You, Igor Gitman and Boris Ginsburg, *Large Batch Training of Convolutional
  Networks*, 2017. [arXiv:1708.03888](https://arxiv.org/abs/1708.03888)
- Priya Goyal et al., *Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour*, 2017.
  [arXiv:1706.02677](https://arxiv.org/abs/1706.02677)
- Zachary Nado et al., *A Large Batch Optimizer Reality Check: Traditional, Generic
  Optimizers Suffice Across Batch Sizes*, 2021.
  [arXiv:2102.06356](https://arxiv.org/abs/2102.06356)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


def _adam_direction(
    grad: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    step: float | Tensor,
    *,
    beta1: float,
    beta2: float,
    eps: float,
    bias_correction: bool,
) -> tuple[Tensor, float | Tensor]:
    r"""Adam's moments and denominator, in the order of operations of `torch.optim.Adam`.

    Updates $m$ and $v$ in place and returns the denominator $\sqrt{\hat v_t} + \epsilon$
    and the first-moment correction $1 - \beta_1^t$ (1 without bias correction).
    """
    # Adam's moments: $m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t$ (as a `lerp`, like
    # torch, which rounds identically) and $v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2$.
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    # ## Bias correction: two versions of the paper
    #
    # The ICLR version (and TF-Addons) divides the moments by $1 - \beta_1^t$ and
    # $1 - \beta_2^t$ as Adam does; arXiv v3 (and the cybertronai / torch-optimizer code)
    # does not. The trust ratio makes the difference smaller than in Adam. Write
    # $\hat\eta_t/\eta = \sqrt{1 - \beta_2^t} / (1 - \beta_1^t)$ ([Adam](adam.md)'s factor);
    # then
    #
    # $$
    # \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}
    # = \frac{\hat\eta_t}{\eta} \, \frac{m_t}{\sqrt{v_t} + \epsilon\sqrt{1 - \beta_2^t}} .
    # $$
    #
    # * Without weight decay $u = d$, and the factor $\hat\eta_t/\eta$ cancels in
    #   $u / \lVert u\rVert$: the corrected method *is* the uncorrected one with a smaller
    #   $\epsilon_t = \epsilon \sqrt{1 - \beta_2^t}$. The first-moment correction does
    #   nothing at all.
    # * With weight decay, write $d'$ for the corrected direction computed with
    #   $\epsilon / \sqrt{1 - \beta_2^t}$; by the identity,
    #   $m/(\sqrt v + \epsilon) = d' \eta/\hat\eta_t$, so the uncorrected update is
    #   $(d' + (\hat\eta_t/\eta) \lambda \theta)\,\eta/\hat\eta_t$. After rescaling, the
    #   uncorrected method is the corrected one with decay $(\hat\eta_t/\eta)\lambda$ (and
    #   an $\epsilon$ larger by $1/\sqrt{1 - \beta_2^t}$, which matters little). For
    #   $(\beta_1, \beta_2) = (0.9, 0.999)$ the factor is $0.316$ at $t = 1$, falls to
    #   $0.152$ at $t = 12$, is
    #   $0.309$ at $t = 100$, $0.795$ at $t = 1000$ and above $0.99$ from
    #   $t = 3916$ on: the uncorrected version decays up to 6.6 times more weakly in
    #   early training.
    # * In groups without adaptation nothing cancels and it is Adam's correction: the
    #   uncorrected first step is
    #   $\eta (1 - \beta_1)/\sqrt{1 - \beta_2} \approx 3.16\eta$ per coordinate
    #   instead of $\eta$.
    #
    # The step counter lives on the CPU, so reading it does not wait for an
    # accelerator; under `torch.compile` it stays a tensor (see the footer).
    if bias_correction:
        bias_correction2_sqrt = (1 - _power(beta2, step)) ** 0.5
        denom = _divide(exp_avg_sq.sqrt(), bias_correction2_sqrt, inplace=True).add_(eps)
        return denom, 1 - _power(beta1, step)
    return exp_avg_sq.sqrt().add_(eps), 1.0


def _norm(x: Tensor) -> Tensor:
    r"""The 2-norm of `x` over all its entries; compiled, for a matrix (or more), summed by
    rows first.

    Inductor (torch 2.13) sums a whole large tensor on the CPU through a cascade of
    partial sums kept in memory, for accuracy, with bookkeeping at every vector of 16
    coordinates. By rows, a row's sum stays in a register and the total adds one number a
    row. LAMB's compiled step, over 74 tensors on one core, took 18.3 ms against 20.1
    (medians of 7 alternated rounds); both norms agree with eager's within the compiled
    tests' tolerance. Eager keeps torch's one norm, bitwise. Rows shorter than a vector
    register (16 floats) are not worth a loop of their own: such a tensor is summed whole.
    So is a half-precision one, whose row sums would be stored in its own dtype (and
    overflow float16 at 65,504), where torch's norm accumulates in float32.
    """
    if (x.dim() < 2 or x.shape[-1] < 16 or x.dtype not in (torch.float32, torch.float64)
            or not torch.compiler.is_compiling()):
        return torch.linalg.vector_norm(x)
    return (x * x).sum(dim=-1).sum().sqrt()


def _trust_ratio(param: Tensor, update: Tensor, clamp_value: float | None) -> Tensor:
    r"""$\phi(\lVert \theta\rVert) / \lVert u\rVert$, or 1 where either norm is zero."""
    # ## The trust ratio, without a host sync
    #
    # $\phi(\lVert\theta\rVert) / \lVert u\rVert$, with $\phi$ a clamp to
    # $[0, \text{clamp\_value}]$ when one is set. Two cases need a ratio of 1:
    #
    # * $\lVert \theta \rVert = 0$, a tensor initialised at zero (a bias): a ratio of 0
    #   would never move it. With ratio 1 its first step is Adam's.
    # * $\lVert u \rVert = 0$: no gradient signal and no decay, $0/0$. Any ratio
    #   gives a zero step; 1 keeps the result finite.
    #
    # The test is written with `torch.where`, on the device: a Python `if` on a
    # norm would make the host wait for the accelerator at every tensor of the
    # model. (The unused branch may hold $0/0$; `where` discards it.)
    weight_norm = _norm(param)
    if clamp_value is not None:
        weight_norm = weight_norm.clamp(max=clamp_value)
    update_norm = _norm(update)
    ratio = _ratio(weight_norm, update_norm)
    return torch.where((weight_norm > 0) & (update_norm > 0), ratio, 1.0)


class LAMB(Optimizer):
    r"""LAMB: Adam's direction, rescaled per tensor to a step of `lr` times the weights' norm.

    Arguments:

    * `lr` $\eta$ (default `1e-3`): the relative step of each adapted tensor,
      $\lVert \Delta\theta \rVert = \eta \lVert \theta \rVert$; for groups with `adapt=False` it
      is Adam's step size.
    * `betas` $(\beta_1, \beta_2)$ (default `(0.9, 0.999)`) and `eps` $\epsilon$ (default
      `1e-6`, as in TF-Addons' LAMB and BERT's optimizer): Adam's moments; `eps` is added to
      $\sqrt{\hat v}$, after bias correction, as in `torch.optim.Adam`.
    * `weight_decay` $\lambda$ (default `0`): added to the update *before* the trust
      ratio, $u = d + \lambda \theta$.
    * `bias_correction` (default `True`, the ICLR version and TF-Addons): divide the moments
      by $1 - \beta^t$. `False` is arXiv v3 and the cybertronai / torch-optimizer code.
    * `clamp_value` (default `None`): $\phi(z) = \min(z, \text{clamp\_value})$ instead of
      the identity, capping the step at $\eta \cdot \text{clamp\_value}$ (torch-optimizer
      uses 10).
    * `adapt` (default `True`): the layer adaptation. A group with `adapt=False` takes
      the step with trust ratio 1, which is exactly `torch.optim.AdamW` with the same
      `lr`, `betas`, `eps` and `weight_decay` (bitwise, with `bias_correction=True`).
    * keyword-only `maximize`, and `foreach` / `differentiable`, which accept only their
      "off" values: this file is the single-tensor path.

    State per parameter, under torch's keys: `step` (a float32 CPU tensor, float64 when
    that is the default dtype), `exp_avg` $m$ and `exp_avg_sq` $v$. A state dict moves
    between `LAMB` and `torch.optim.Adam`/`AdamW` in both directions; keys missing from a
    loaded group (`adapt`, `bias_correction`, `clamp_value`) are taken from the arguments
    this optimizer was built with.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        bias_correction: bool = True,
        clamp_value: float | None = None,
        adapt: bool = True,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
    ) -> None:
        # A bad argument fails here, with its name first, rather than as a NaN later.
        _check_lr(lr, foreach)
        _check_nonnegative("eps", eps, "Invalid epsilon value")
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"betas[{i}] must be in [0, 1), got {beta}")
        _check_nonnegative("weight_decay", weight_decay, "Invalid weight_decay value")
        if clamp_value is not None and not clamp_value > 0:
            raise ValueError(f"clamp_value must be > 0 or None, got {clamp_value}")
        _check_paths(foreach=foreach, differentiable=differentiable)
        # Every hyper-parameter lives in the group, so `state_dict()` carries it and one
        # group can differ from another (the exclusions below are a group of their own).
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            bias_correction=bias_correction,
            clamp_value=clamp_value,
            adapt=adapt,
            maximize=maximize,
            foreach=foreach,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Groups loaded from an Adam/AdamW state dict (or an older file) lack LAMB's own
        # keys: take them from this optimizer's arguments. A `step` saved as a Python
        # number becomes the tensor torch keeps.
        super().__setstate__(state)
        fallback = {"bias_correction": True, "clamp_value": None, "adapt": True,
                    "maximize": False, "foreach": None, "differentiable": False}
        defaults = getattr(self, "defaults", {})
        for group in self.param_groups:
            for key, value in fallback.items():
                group.setdefault(key, defaults.get(key, value))
            for p in group["params"]:
                _step_as_tensor(self.state.get(p, {}))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step for every parameter that has a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            # The closure recomputes the loss and its gradients, so it needs autograd on.
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            _check_sparse("LAMB", params, ": the trust ratio needs the norm of the whole update")
            for param in params:
                state = self.state[param]
                if len(state) == 0:
                    # torch's layout: a CPU step counter and two moments shaped like the
                    # parameter (complex if it is complex).
                    state["step"] = torch.zeros((), dtype=_step_dtype())
                    state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(
                        param, memory_format=torch.preserve_format
                    )
                self._update(param, param.grad, state, group)
        return loss

    def _update(self, param: Tensor, grad: Tensor, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        """The update of one tensor: Adam's direction, then the trust ratio."""
        beta1, beta2 = group["betas"]
        lr, eps, weight_decay = _scalar(group["lr"]), group["eps"], group["weight_decay"]
        exp_avg, exp_avg_sq, step_t = state["exp_avg"], state["exp_avg_sq"], state["step"]
        # Maximising $f$ is minimising $-f$.
        if group["maximize"]:
            grad = -grad
        step_t += 1
        # A complex tensor is a real tensor with a trailing axis of two; its norm is the
        # same either way, so the trust ratio needs no special case.
        if torch.is_complex(param):
            param, grad = torch.view_as_real(param), torch.view_as_real(grad)
            exp_avg, exp_avg_sq = torch.view_as_real(exp_avg), torch.view_as_real(exp_avg_sq)
        denom, bias_correction1 = _adam_direction(
            grad, exp_avg, exp_avg_sq, _get_value(step_t), beta1=beta1, beta2=beta2, eps=eps,
            bias_correction=group["bias_correction"],
        )
        # ## Without adaptation: AdamW
        #
        # With the trust ratio fixed at 1 the step is $\theta - \eta(d + \lambda \theta)$, which is
        # AdamW's: shrink by $1 - \eta\lambda$, then take Adam's step. Written in torch's
        # order, it is bitwise `torch.optim.AdamW` (and `Adam` when $\lambda = 0$).
        if not group["adapt"]:
            if weight_decay != 0:
                param.mul_(1 - lr * weight_decay)
            param.addcdiv_(exp_avg, denom, value=-lr / bias_correction1)
            return
        # ## Weight decay inside the norm
        #
        # The paper builds LAMB as "normalise the update of the base method" and the base
        # is AdamW, whose update is $d + \lambda \theta$. So the decay is part of $u$ and the
        # trust ratio rescales it too. Three consequences follow.
        #
        # * The length guarantee holds for the step actually taken:
        #   $\lVert\Delta\theta\rVert = \eta\,\phi(\lVert \theta \rVert)$ with or without decay.
        #   Decay added after the rescaling would lengthen some steps and shorten others.
        # * $\lambda$ sets a direction, not a length: it tilts the step toward the origin
        #   by $\lambda \theta$ against $d$, whose entries are of order one. With BERT's
        #   $\lambda = 0.01$ and weights near $0.02$, $\lambda \theta \approx 2 \cdot 10^{-4}$ per
        #   entry: decay matters only where $d$ is small, where the gradient is mostly
        #   noise and $\hat m \ll \sqrt{\hat v}$.
        # * Where Adam's direction vanishes ($d = 0$) the update is $u = \lambda \theta$ and
        #   the step is $-\eta \lVert\theta\rVert \, \lambda \theta / (\lambda\lVert\theta\rVert)
        #   = -\eta \theta$:
        #   the weights shrink by the factor $1 - \eta$ per step *for every*
        #   $\lambda > 0$, where AdamW would shrink them by $1 - \eta\lambda$.
        def direction() -> Tensor:
            # $u = \hat m / (\sqrt{\hat v} + \epsilon) + \lambda \theta$.
            update = exp_avg / denom
            if group["bias_correction"]:
                _divide(update, bias_correction1, inplace=True)
            if weight_decay != 0:
                update.add_(param, alpha=weight_decay)
            return update

        update = direction()
        ratio = _trust_ratio(param, update, group["clamp_value"])
        # ## Compiled: the update recomputed, not stored
        #
        # The step needs $u$ twice, on both sides of its norm. Eager, it is one tensor.
        # Compiled, a stored $u$ is a buffer as large as the parameter, allocated and freed
        # at every tensor of every step, and on the CPU the allocator may hand such blocks back
        # to the kernel: over 24 M parameters that was 13,000 page faults a step and took
        # the step from 47 to 88 ms. Written twice, $u$ is recomputed from $m$, $v$ and
        # $\theta$ in the second pass, which reads one array more than reading $u$ back
        # but writes none, so the bytes of the floor are the same.
        # Compiled as `torch.compile(opt.step)`, that second pass runs at the end of the
        # step, after every tensor's first pass, and reads its arrays from memory again;
        # `compile_step` in the [Fast optimizers](fast.md) chapter runs it right after
        # the first, while they are in the cache (0.76 times a plain compile's time, in
        # one process that alternated the two).
        if torch.compiler.is_compiling():
            update = direction()
        # $x \leftarrow x - \eta \cdot \text{trust ratio} \cdot u$, in one pass.
        param.addcmul_(update, ratio, value=-lr)


# ## Which parameters to exclude
#
# BERT's optimizer excludes biases and LayerNorm parameters from weight decay (its list
# is `["LayerNorm", "layer_norm", "bias"]`), and TF-Addons' LAMB takes the same list for
# `exclude_from_layer_adaptation` unless told otherwise. The reasons:
#
# * **Biases start at zero.** Their first step has ratio 1, an Adam step, so
#   $\lVert \theta_1 \rVert = \eta \lVert d_1 \rVert \approx \eta\sqrt{n}$. After that, with
#   adaptation, each step changes the norm by at most $\eta \lVert \theta \rVert$, so
#   $\lVert \theta_t \rVert \le (1 + \eta)^{t-1} \eta \lVert d_1 \rVert$: the bias can only
#   grow geometrically from a tiny start. With $\eta = 10^{-3}$, $n = 768$ and a
#   gradient of constant sign it needs 1979 steps to reach a norm of $0.2$; Adam's step,
#   $\eta$ per coordinate, adds $\eta\sqrt{n} \approx 0.028$ per step and gets there
#   in 8.
# * **Normalisation layers** fix the scale of their input, so their gain and bias set
#   the scale and offset of the signal directly; decaying the gain pulls it toward
#   zero, not toward its neutral value one. Their gains start at one, where Adam's
#   first relative step is already $\eta\sqrt{n}/\sqrt{n} = \eta$, so adaptation has
#   little to correct; their biases start at zero, as above.
# * **Embeddings** are *not* excluded: BERT decays and adapts them, and they are where
#   adaptation matters most ($\sigma_{\text{init}} = 0.02$ made Adam's relative step
#   $50\eta$, $57\eta$ with BERT's truncated normal). Pass
#   `torch.nn.Embedding` in `no_decay_modules` to exclude them anyway.
#
# `lamb_param_groups` returns two groups: the rest, with the given weight decay and
# the optimizer's adaptation; and the excluded tensors, with `weight_decay=0` and
# `adapt=False`. (NVIDIA apex takes a shortcut: it adapts only tensors with
# non-zero decay, unless `use_nvlamb`.)
NORM_LAYERS: tuple[type[torch.nn.Module], ...] = (
    torch.nn.LayerNorm,
    torch.nn.GroupNorm,
    torch.nn.RMSNorm,
    torch.nn.modules.batchnorm._NormBase,  # BatchNorm*, SyncBatchNorm, InstanceNorm*
)


def lamb_param_groups(
    model: torch.nn.Module,
    weight_decay: float,
    *,
    no_decay_modules: tuple[type[torch.nn.Module], ...] = NORM_LAYERS,
    no_decay_names: Sequence[str] = ("bias",),
) -> list[dict[str, Any]]:
    """Split `model`'s parameters into a decayed, adapted group and an excluded one.

    A parameter is excluded (`weight_decay=0`, `adapt=False`) when the module that owns
    it is an instance of `no_decay_modules`, or its own name (the last part of its
    dotted name) ends with one of `no_decay_names`: `fc.bias`, `attn.in_proj_bias`. A
    parameter shared by several modules is listed once, where it first appears. Empty
    groups are left out.
    """
    decayed: list[Tensor] = []
    excluded: list[Tensor] = []
    seen: set[int] = set()
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            if id(param) in seen:
                continue
            seen.add(id(param))
            if isinstance(module, no_decay_modules) or name.endswith(tuple(no_decay_names)):
                excluded.append(param)
            else:
                decayed.append(param)
    groups: list[dict[str, Any]] = []
    if decayed:
        groups.append({"params": decayed, "weight_decay": weight_decay})
    if excluded:
        groups.append({"params": excluded, "weight_decay": 0.0, "adapt": False})
    return groups


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
# A small model (embedding with $\sigma_{\text{init}} = 0.02$, two residual MLP blocks with
# LayerNorm, a wider hidden layer and an output head) learns a fixed random map from
# tokens to tokens. AdamW and LAMB run from the same start, on the same batches, with the
# same groups (`lamb_param_groups`, decay 0.01) and the same $\eta$; for each tensor we
# plot $\lVert \Delta\theta\rVert / \lVert \theta \rVert$ per step.
def main(argv: list[str] | None = None) -> None:
    """Plot the relative step per tensor under Adam and under LAMB."""
    import argparse

    parser = argparse.ArgumentParser(description="Draw the LAMB chapter's figure.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    vocab, width, steps, batch, lr = 64, 32, 100, 512, 1e-2

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = torch.nn.LayerNorm(width)
            self.hidden = torch.nn.Linear(width, 4 * width)
            self.out = torch.nn.Linear(4 * width, width)

        def forward(self, h: Tensor) -> Tensor:
            return h + self.out(torch.nn.functional.gelu(self.hidden(self.norm(h))))

    def build() -> torch.nn.Module:
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Embedding(vocab, width), Block(), Block(),
            torch.nn.LayerNorm(width), torch.nn.Linear(width, vocab),
        )
        torch.nn.init.normal_(model[0].weight, std=0.02)
        return model

    tracked = {"embedding": "0.weight", "block 1 hidden": "1.hidden.weight",
               "block 1 out": "1.out.weight", "block 2 hidden": "2.hidden.weight",
               "head": "4.weight", "LayerNorm gain": "1.norm.weight",
               "head bias": "4.bias"}
    target_map = torch.randperm(vocab, generator=torch.Generator().manual_seed(2))
    data = torch.Generator()

    def train(make_opt: Callable[[torch.nn.Module], Optimizer]) -> tuple[dict, list]:
        model = build()
        opt = make_opt(model)
        params = dict(model.named_parameters())
        ratios: dict[str, list[float]] = {k: [] for k in tracked}
        losses = []
        data.manual_seed(1)
        for _ in range(steps):
            tokens = torch.randint(vocab, (batch,), generator=data)
            loss = torch.nn.functional.cross_entropy(model(tokens), target_map[tokens])
            opt.zero_grad()
            loss.backward()
            before = {k: params[n].detach().clone() for k, n in tracked.items()}
            opt.step()
            for k, n in tracked.items():
                delta = (params[n].detach() - before[k]).norm()
                ratios[k].append(float(delta / before[k].norm().clamp(min=1e-12)))
            losses.append(loss.item())
        return ratios, losses

    # The model is tiny: threads would cost more than they give.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        adam_ratios, adam_loss = train(
            lambda m: torch.optim.AdamW(lamb_param_groups(m, 0.01), lr=lr, eps=1e-6)
        )
        lamb_ratios, lamb_loss = train(lambda m: LAMB(lamb_param_groups(m, 0.01), lr=lr))
    finally:
        torch.set_num_threads(threads)

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.4), width_ratios=[1, 1, 0.8])
    colors = plt.get_cmap("tab10").colors
    for ax, ratios, name in ((axes[0], adam_ratios, "AdamW"), (axes[1], lamb_ratios, "LAMB")):
        for (label, values), color in zip(ratios.items(), colors, strict=False):
            excluded = label in ("LayerNorm gain", "head bias")
            ax.semilogy(range(1, steps + 1), values, color=color, lw=1.2,
                        ls=":" if excluded else "-",
                        label=label + (" (excluded)" if excluded else ""))
        ax.axhline(lr, color="k", lw=0.8, ls="--")
        ax.set(xlabel="step", ylabel=r"$\|\Delta\theta\| \,/\, \|\theta\|$", ylim=(1e-4, 1),
               title=f"{name}, lr = {lr:g}: relative step per tensor")
    axes[1].text(steps * 0.98, lr * 1.15, r"$\eta$", ha="right", va="bottom")
    axes[0].legend(fontsize=9, loc="upper right")
    axes[2].semilogy(range(1, steps + 1), adam_loss, label="AdamW")
    axes[2].semilogy(range(1, steps + 1), lamb_loss, label="LAMB")
    axes[2].set(xlabel="step", ylabel="cross-entropy", title=f"Training loss, lr = {lr:g}")
    axes[2].legend()
    fig.tight_layout()

    if args.save:
        fig.savefig(args.save, dpi=110)
    else:
        plt.show()


if __name__ == "__main__":
    main()
