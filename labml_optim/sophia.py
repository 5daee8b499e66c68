r"""
---
title: Sophia-G
summary: A clipped Newton step on a diagonal Gauss-Newton curvature refreshed every k steps.
group: Optimizers
order: 110
---

# Sophia-G

Sophia (Liu, Li, Hall, Liang and Ma, "Sophia: A Scalable Stochastic Second-order Optimizer
for Language Model Pre-training", 2023) divides the momentum of the gradient by an estimate
of the *curvature* of each coordinate, not by the gradient's own size as
[Adam](adam.md) does, and then clips the result so that no coordinate moves by more than
the learning rate. The curvature estimate is the diagonal of a Gauss–Newton matrix,
sampled with one extra backward pass every $k$ steps; that estimator is called
Gauss–Newton–Bartlett (GNB), and Sophia with it is Sophia-G.

**Sharding.** Safe under sharding (DDP, `ZeroRedundancyOptimizer`, FSDP2): the update, the
Hessian estimate and the clipping are elementwise, so each rank steps its own shard of the
parameter and state exactly as one process would, bit for bit (tested with two processes).

## Why curvature

Take one coordinate of a quadratic loss, $f(\theta) = \frac{h}{2}\theta^2$ with curvature
$h > 0$. Gradient descent moves by $\eta h \theta$: large where $h$ is large, tiny where it
is small, and stable only if $\eta < 2/h_{\max}$, so the flattest coordinates crawl at
the rate the sharpest one allows. Adam moves about $\eta$ in every coordinate whatever $h$
is, which is too far in sharp coordinates near the minimum and too little in flat ones far
from it. Newton's step $g/h = \theta$ lands on the minimum of every coordinate at once.
Its problems are cost (the Hessian), and trust: where the curvature is negative Newton's
step $-g/h$ points *uphill*, towards a maximum, and where it is tiny or badly estimated
the step is huge.

## The update

With $g_t$ the gradient, $h$ a curvature average, learning rate $\eta$ (`lr`),
$\rho$ (`rho`), decoupled weight decay $\lambda$, and $B$ (`bs`) the number of examples
(tokens) in a batch,

$$
\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t ,\\
\theta_t &= (1 - \eta\lambda)\, \theta_{t-1}\\
  &\quad - \eta\, \operatorname{sign}(m_t) \min\!\Big(\frac{|m_t|}{\rho B h + \epsilon},\, 1\Big),
\end{aligned}
$$

per coordinate, with $\epsilon = 10^{-15}$. After every $k$-th step the curvature
average is refreshed,

$$
h \leftarrow \beta_2 h + (1 - \beta_2)\, \hat g \odot \hat g ,
$$

where $\hat g$ is the batch gradient on labels sampled from the model itself (below), so
that $B h$ is an average of the Gauss–Newton–Bartlett estimates
$\hat h = B\, \hat g \odot \hat g$.

This is the authors' code. Their README writes it as
$\theta - \eta \operatorname{clip}(m_t / (\rho h + \epsilon), 1)$, equal to the paper's
update up to a reparameterization of the learning rate; labml_nn writes the same step as
$\frac{\eta}{\rho} \operatorname{clip}(m_t / (h + \epsilon), \rho)$. Per coordinate there
are two regimes:

* $|m_t| \le \rho B h$: the step is $\frac{\eta}{\rho} \cdot \frac{m_t}{B h}$, a Newton
  step (momentum over curvature) scaled by $\eta/\rho$. With $\eta = \rho$ and no momentum
  it is exactly Newton's step.
* $|m_t| > \rho B h$ (flat, or curvature not yet estimated: $h = 0$ before the first
  estimate): the step is $\eta\operatorname{sign}(m_t)$, a sign step as in signSGD.

So every coordinate moves by at most $\eta$, and in the direction of $-m_t$: the step is
$-\eta\, r\, \operatorname{sign}(m_t)$ with $r \in [0, 1]$ whenever $h \ge 0$. The
authors tune $\rho$ so that a fair share of coordinates (their training script logs it as the
"win rate", recommended between 0.1 and 0.5) is *not* clipped.

## Why the clipping makes it safe on non-convex losses

Three things can go wrong with a Newton step on a non-convex loss, and each is capped.

1. *Negative curvature.* On $f(\theta) = \theta^4/4 - \theta^2/2$ at $\theta = 0.3$
   (curvature $3\theta^2 - 1 = -0.73$), Newton's step $\theta - f'/f''$ goes to
   $0.3 - 0.273/0.73 = -0.074$, towards the local *maximum* at $0$. The Gauss–Newton
   estimate below is a square, so $h \ge 0$ always, and the step has the sign of
   $-m_t$: downhill.
2. *Tiny or stale curvature.* $h$ is refreshed only every $k$ steps and may have been
   estimated where the loss was flatter; then $m/h$ is huge. The clip turns it into a
   sign step of size $\eta$.
3. *A step into a region where the quadratic model is wrong.* No coordinate moves more
   than $\eta$, so the step stays where a local model can still be trusted, the role a
   trust region plays in classical second-order methods.

The authors' `clamp(max=1)` clips only from above, which is enough because GNB's $h$ is
never negative; with an estimator that can go negative (Hutchinson's, Sophia-H) the
paper's denominator, a maximum with $\epsilon$ rather than a sum, is what keeps the sign
right. The tests check the double-well
numbers and the direction of every step.

## The Gauss–Newton–Bartlett estimator

Let a batch have $B$ inputs $x_b$, logits $f_b = f(\theta, x_b)$ over $C$ classes,
probabilities $p_b = \operatorname{softmax}(f_b)$, and the loss
$L(\theta) = \frac{1}{B}\sum_b \ell(f_b, y_b)$ with cross-entropy $\ell$. With $J_b$ the
Jacobian of $f_b$ in $\theta$, the chain rule gives

$$
\begin{aligned}
\nabla_\theta \ell(f_b, y) &= J_b^\top (p_b - e_y),\\
\nabla_\theta^2 L &= \frac{1}{B} \sum_b \Big( J_b^\top H_b J_b\\
&\qquad + \sum_c (p_{bc} - e_{y_b, c})\, \nabla_\theta^2 f_{bc} \Big),
\end{aligned}
$$

with $H_b = \operatorname{diag}(p_b) - p_b p_b^\top$ the Hessian of cross-entropy in the
logits (it does not depend on the label). The first sum is the Gauss–Newton matrix $G$,
positive semi-definite because each $H_b$ is. Now *sample* labels from the model,
$\hat y_b \sim \operatorname{Categorical}(p_b)$, and let
$u_b = J_b^\top (p_b - e_{\hat y_b})$. Since $\mathbb{E}[e_{\hat y}] = p$ and
$\mathbb{E}[e_{\hat y} e_{\hat y}^\top] = \operatorname{diag}(p)$ (a one-hot vector's outer
product is diagonal),

$$
\begin{aligned}
\mathbb{E}[u_b] &= 0,\\
\mathbb{E}[u_b u_b^\top] &= J_b^\top \big(\operatorname{diag}(p_b) - p_b p_b^\top\big) J_b\\
&= J_b^\top H_b J_b .
\end{aligned}
$$

These are Bartlett's two identities for the sampled labels, hence the name. Let
$\hat g = \frac{1}{B} \sum_b u_b$, the gradient of the batch loss on the sampled labels.
The $u_b$ are independent with mean zero, so the cross terms vanish in expectation and

$$
\begin{aligned}
\mathbb{E}\big[B\, \hat g \hat g^\top\big]
&= \frac{1}{B} \sum_{b, b'} \mathbb{E}[u_b u_{b'}^\top]\\
&= \frac{1}{B} \sum_b J_b^\top H_b J_b = G ,
\end{aligned}
$$

so $\hat h = B\, \hat g \odot \hat g$, the diagonal, is an unbiased estimate of
$\operatorname{diag}(G)$, and never negative. For a model linear in $\theta$ (softmax
regression) $\nabla^2 f = 0$ and $G$ is the Hessian itself. The tests check both
identities and the unbiasedness by Monte Carlo on a small softmax regression, against the
exact Hessian diagonal from autograd.

The code stores the average of $\hat g^2$ (`update_hessian` uses the gradient in
`p.grad`) and multiplies by $B$ when stepping (`step(bs=B)`); labml_nn's Sophia puts $B$
into `update_hessian(B)` instead and clips $m/(h + \epsilon)$ to $\pm\rho$ before scaling by
$\eta/\rho$, the same update up to rounding when its $\epsilon$ is $10^{-15}/\rho$. The
tests check both.

## The cost: extra backward passes

Each estimate costs one more forward and backward pass, on the same inputs with sampled
labels, so with $k = 10$ (the authors' choice) Sophia-G spends about one pass in ten more
than AdamW. The estimator needs the model's logits, which an optimizer's `step()` never
sees, so the training loop has to do it: `gnb_update` below draws the labels, runs the
backward pass and calls `update_hessian`; `sophia_g_train_step` is a whole training step
that calls it every $k$-th step, after the parameter update, as the authors' script does.
`main` trains with it.

![Left: softmax regression on badly scaled features, trained by AdamW and by Sophia-G with
the training-loop helper (curvature refreshed every 10 steps). Right: the size of Sophia's
step in one coordinate as its curvature varies, against Newton's](sophia.png)

## References

- Hong Liu et al., *Sophia: A Scalable Stochastic Second-order Optimizer for Language Model
  Pre-training*, ICLR 2024. [arXiv:2305.14342](https://arxiv.org/abs/2305.14342); the
  authors' code: [Liuhong99/Sophia](https://github.com/Liuhong99/Sophia)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


def _sophia_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    *,
    lr: float | Tensor,
    beta1: float,
    rho: float,
    bs: int,
    weight_decay: float,
    maximize: bool,
) -> None:
    r"""One Sophia-G step on one tensor, in the authors' order of operations (bitwise)."""
    if maximize:
        grad = -grad
    exp_avg, hessian = state["exp_avg"], state["hessian"]
    if torch.is_complex(param):
        param, grad = torch.view_as_real(param), torch.view_as_real(grad)
        exp_avg, hessian = torch.view_as_real(exp_avg), torch.view_as_real(hessian)
    state["step"] += 1
    # Decoupled weight decay, $\theta \leftarrow (1 - \eta\lambda)\theta$.
    param.mul_(1 - lr * weight_decay)
    # $m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t$
    exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    # $\min(|m_t| / (\rho B h + \epsilon), 1)$: Newton's ratio, clipped at one.
    ratio = (exp_avg.abs() / (rho * bs * hessian + 1e-15)).clamp(None, 1)
    # $\theta_t = \theta - \eta\, \mathrm{sign}(m_t) \cdot \mathrm{ratio}$
    param.addcmul_(exp_avg.sign(), ratio, value=-lr)


class SophiaG(Optimizer):
    r"""Sophia-G with the signature, group keys and state keys of the authors' `SophiaG`
    (`sophia-opt`): state `step`, `exp_avg`, `hessian`; `step(closure=None, bs=5120)`;
    `update_hessian()` folds the current `p.grad` (a gradient on sampled labels) into $h$.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float | Tensor = 1e-4,
        betas: tuple[float, float] = (0.965, 0.99),
        rho: float = 0.04,
        weight_decay: float = 1e-1,
        *,
        maximize: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
    ) -> None:
        betas = _check_sophia_arguments(lr, betas, rho, weight_decay, capturable=capturable,
                                       foreach=foreach)
        defaults = dict(lr=lr, betas=betas, rho=rho, weight_decay=weight_decay,
                        maximize=maximize, capturable=capturable, foreach=foreach)
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Fill in keys that older state dicts lack, and make a plain-number `step` a tensor."""
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("capturable", False)
            group.setdefault("foreach", None)
            for p in group["params"]:
                p_state = self.state.get(p, {})
                _step_as_tensor(p_state)

    def _init_state(self, param: Tensor) -> dict[str, Tensor]:
        state = self.state[param]
        if len(state) == 0:
            state["step"] = torch.tensor(0.0, dtype=_step_dtype())
            state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        if "hessian" not in state:
            state["hessian"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        return state

    @torch.no_grad()
    def update_hessian(self) -> None:
        r"""$h \leftarrow \beta_2 h + (1 - \beta_2)\, \hat g \odot \hat g$ from `p.grad`.

        `p.grad` must hold the gradient of the loss on labels sampled from the model
        (see `gnb_update`); $B$ is applied later, by `step(bs=B)`.
        """
        for group in self.param_groups:
            _check_sparse(type(self).__name__, group["params"])
        for group in self.param_groups:
            beta2 = group["betas"][1]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._init_state(p)
                grad, hessian = p.grad, state["hessian"]
                if torch.is_complex(p):
                    grad, hessian = torch.view_as_real(grad), torch.view_as_real(hessian)
                hessian.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None, bs: int = 5120) -> Any:
        """Take one Sophia step; `bs` is $B$, the examples (tokens) per batch."""
        if not bs > 0:
            raise ValueError(f"bs must be > 0, got {bs}")
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            _check_sparse(type(self).__name__, group["params"])
        for group in self.param_groups:
            beta1 = group["betas"][0]
            # A tensor `lr` is read as a number, as the reference reads it; compiled, it
            # stays a tensor (`.item()` would break the graph).
            lr = _scalar(group["lr"]) if torch.compiler.is_compiling() else _float(group["lr"])
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self._init_state(param)
                _sophia_update(
                    param, param.grad, state, lr=lr, beta1=beta1,
                    rho=group["rho"], bs=bs, weight_decay=group["weight_decay"],
                    maximize=group["maximize"],
                )
        return loss


# ## The training loop


def gnb_update(
    optimizer: SophiaG, logits_fn: Callable[[], Tensor], *, generator: torch.Generator | None = None
) -> None:
    r"""Refresh Sophia's curvature with one Gauss–Newton–Bartlett sample.

    `logits_fn()` runs the model on the current batch and returns logits with the classes
    in the last dimension. Labels are drawn from the model's own softmax, the mean
    cross-entropy on them is back-propagated, and `update_hessian` averages the squared
    gradient into $h$. Gradients are cleared before and after, so the caller's next
    backward pass starts clean.
    """
    optimizer.zero_grad(set_to_none=True)
    with torch.enable_grad():
        logits = logits_fn()
        flat = logits.reshape(-1, logits.shape[-1])
        probs = torch.softmax(flat.detach().float(), dim=-1)
        sampled = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
        torch.nn.functional.cross_entropy(flat, sampled).backward()
    optimizer.update_hessian()
    optimizer.zero_grad(set_to_none=True)


def sophia_g_train_step(
    optimizer: SophiaG,
    logits_fn: Callable[[], Tensor],
    targets: Tensor,
    iteration: int,
    *,
    k: int = 10,
    generator: torch.Generator | None = None,
) -> float:
    r"""One training step with Sophia-G; returns the batch loss before the step.

    The ordinary step (loss on the true `targets`, backward, `step(bs=B)` with $B$ the
    number of targets), then, on every $k$-th iteration (`iteration % k == k - 1`,
    counting from 0), a curvature refresh with `gnb_update` on the same batch.
    """
    optimizer.zero_grad(set_to_none=True)
    with torch.enable_grad():
        logits = logits_fn()
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)
        )
        loss.backward()
    optimizer.step(bs=targets.numel())
    if iteration % k == k - 1:
        gnb_update(optimizer, logits_fn, generator=generator)
    return loss.item()


#
def exact_hessian_diagonal(loss_fn: Callable[[Tensor], Tensor], theta: Tensor) -> Tensor:
    r"""The diagonal of $\nabla^2 L(\theta)$ by autograd (small problems only)."""
    hessian = torch.autograd.functional.hessian(loss_fn, theta)
    n = theta.numel()
    return hessian.reshape(n, n).diagonal().reshape(theta.shape)


def gnb_samples(
    weight: Tensor, inputs: Tensor, draws: int, *, generator: torch.Generator | None = None
) -> Tensor:
    r"""`draws` independent GNB estimates $B\,\hat g \odot \hat g$ for softmax regression.

    The model is $f_b = W x_b$ with `weight` $W$ of shape (classes, features); returns a
    tensor of shape (draws, classes, features).
    """
    batch = inputs.shape[0]
    probs = torch.softmax(inputs @ weight.T, dim=-1)
    out = []
    for _ in range(draws):
        sampled = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
        residual = probs - torch.nn.functional.one_hot(sampled, probs.shape[-1]).to(probs)
        g_hat = residual.T @ inputs / batch  # $\frac{1}{B}\sum_b (p_b - e_{\hat y_b}) x_b^\top$
        out.append(batch * g_hat * g_hat)
    return torch.stack(out)


def newton_step_double_well(theta: float) -> float:
    r"""Newton's iterate $\theta - f'/f''$ on $f(\theta) = \theta^4/4 - \theta^2/2$."""
    return theta - (theta**3 - theta) / (3 * theta**2 - 1)


def sophia_step_size(m: float, h: float, *, lr: float, rho: float, bs: int = 1) -> float:
    r"""The size of Sophia's step in one coordinate: $\eta \min(|m|/(\rho B h + \epsilon), 1)$."""
    return lr * min(abs(m) / (rho * bs * h + 1e-15), 1.0)


def badly_scaled_classification(
    *, n: int = 512, features: int = 8, classes: int = 4, seed: int = 0
) -> tuple[Tensor, Tensor]:
    r"""Inputs with feature scales from 1 to 1/30, and labels from a random linear teacher."""
    gen = torch.Generator().manual_seed(seed)
    scales = torch.logspace(0, -1.5, features)
    x = torch.randn(n, features, generator=gen) * scales
    teacher = torch.randn(classes, features, generator=gen) / scales
    y = torch.multinomial(torch.softmax(x @ teacher.T, dim=-1), 1, generator=gen).squeeze(-1)
    return x, y


def train_curves(steps: int = 200, *, batch: int = 64, k: int = 10) -> dict[str, list[float]]:
    r"""Full-data loss per step of AdamW and Sophia-G (with `sophia_g_train_step`)."""
    x, y = badly_scaled_classification()
    order = torch.randint(0, x.shape[0], (steps, batch), generator=torch.Generator().manual_seed(1))
    curves: dict[str, list[float]] = {}
    for name in ("AdamW", "Sophia-G"):
        model = torch.nn.Linear(x.shape[1], int(y.max()) + 1)
        torch.nn.init.zeros_(model.weight)
        torch.nn.init.zeros_(model.bias)
        losses = []
        if name == "AdamW":
            opt = torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.0)
            for t in range(steps):
                rows = order[t]
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(x[rows]), y[rows]).backward()
                opt.step()
                with torch.no_grad():
                    losses.append(torch.nn.functional.cross_entropy(model(x), y).item())
        else:
            opt = SophiaG(model.parameters(), lr=0.05, rho=0.05, weight_decay=0.0)
            gen = torch.Generator().manual_seed(2)
            for t in range(steps):
                rows = order[t]
                sophia_g_train_step(opt, lambda r=rows, m=model: m(x[r]), y[rows], t, k=k,
                                    generator=gen)
                with torch.no_grad():
                    losses.append(torch.nn.functional.cross_entropy(model(x), y).item())
        curves[name] = losses
    return curves


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


def _check_sophia_arguments(
    lr: float | Tensor,
    betas: tuple[float, float],
    rho: float,
    weight_decay: float,
    *,
    capturable: bool,
    foreach: bool | None,
) -> tuple[float, float]:
    """Refuse bad hyper-parameters, each message starting with its name; return the betas
    as numbers."""
    _check_lr(lr)
    _check_nonnegative("rho", rho, "Invalid rho value")
    _check_nonnegative("weight_decay", weight_decay, "Invalid weight_decay value")
    beta1, beta2 = _check_betas(betas)
    _check_paths(foreach=foreach, capturable=capturable)
    return _float(beta1), _float(beta2)


def main(argv: list[str] | None = None) -> None:
    """Draw the training curves (with the training-loop helper) and the clipped step."""
    import argparse

    parser = argparse.ArgumentParser(description="Draw the Sophia-G chapter's figure.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE (PNG)")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    torch.manual_seed(0)
    curves = train_curves()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, color in (("AdamW", "gray"), ("Sophia-G", "tab:blue")):
        left.plot(range(1, len(curves[name]) + 1), curves[name], color=color, label=name)
    left.set_xlabel("step")
    left.set_ylabel("cross-entropy (all data)")
    left.set_title("softmax regression, badly scaled features, lr 0.05")
    left.legend()

    lr, rho, m = 1.0, 1.0, 1.0
    hs = [10 ** (e / 20) for e in range(-40, 41)]
    right.loglog(hs, [lr / rho * m / h for h in hs], "k:", label=r"Newton: $(\eta/\rho)\, m/h$")
    right.loglog(hs, [sophia_step_size(m, h, lr=lr, rho=rho) for h in hs], color="tab:blue",
                 lw=2, label=r"Sophia: $\eta \min(|m|/(\rho h), 1)$")
    right.axvline(abs(m) / rho, color="gray", lw=0.8, ls="--")
    right.set_xlabel("curvature estimate $h$ (with $B = 1$)")
    right.set_ylabel(r"step size / $\eta$")
    right.set_title(r"one coordinate, $m = 1$, $\rho = 1$")
    right.legend()
    fig.tight_layout()
    if args.save:
        fig.savefig(args.save, dpi=110)
    else:
        plt.show()


if __name__ == "__main__":
    main()
