r"""
---
title: Muon
summary: Steepest descent under the spectral norm: momentum orthogonalised by Newton–Schulz.
group: Memory and geometry
order: 210
---

# Muon

Muon (Keller Jordan, 2024, *Muon: An optimizer for hidden layers in neural networks*)
treats a weight matrix as a matrix, not as a bag of numbers. It keeps one momentum buffer
per matrix, as SGD does, and before stepping replaces the momentum $M$ by (roughly) the
semi-orthogonal matrix nearest to it: with the singular value decomposition
$M = U \Sigma V^\top$, the step is along $U V^\top$. Every singular direction of the
momentum moves by the same amount, however small its singular value was. The SVD is too
slow to take at every step, so Muon approximates $U V^\top$ with five iterations of an
odd matrix polynomial (a Newton–Schulz iteration) run in bfloat16.

torch 2.9 added it as `torch.optim.Muon`; this chapter is a drop-in replacement, bitwise
equal to it in float32. For a parameter $W \in \mathbb{R}^{A \times B}$ with gradient $G_t$,
momentum $\mu$ (default $0.95$), learning rate $\eta$ and weight decay $\lambda$ (default
$0.1$), torch's step is

$$
\begin{aligned}
B_t &= \mu B_{t-1} + (1 - \mu)\, G_t , \qquad B_0 = 0,\\
\tilde B_t &= (1 - \mu)\, G_t + \mu B_t\\
  &\qquad \text{(Nesterov, the default; else } \tilde B_t = B_t),\\
O_t &= \mathrm{NS}_5(\tilde B_t) \approx U_t V_t^\top\\
  &\qquad \text{where } \tilde B_t = U_t \Sigma_t V_t^\top,\\
W_t &= (1 - \eta\lambda)\, W_{t-1} - \eta\, s(A, B)\, O_t ,
\end{aligned}
$$

with a shape-dependent scale $s(A, B)$ discussed below. The sections derive each line:
why $U V^\top$ (the steepest descent direction under the spectral norm, and the nearest
semi-orthogonal matrix), how five multiplications of small matrices approximate it (from
the cubic Newton–Schulz iteration to the tuned quintic whose singular values land in a
band rather than at 1), why bfloat16 is enough, how $s$ is chosen, and what Nesterov
momentum means here. The last sections split a model between Muon and
[AdamW](adamw.md), and explain why torch's Muon and the author's package drift apart by
about $10^{-3}$ in twenty steps.

**Sharding.** Safe under sharding (DDP, `ZeroRedundancyOptimizer`, FSDP2): under FSDP2 the
momentum matrix is gathered and every rank orthogonalises the whole matrix and keeps its
own rows (Newton–Schulz on the local shard alone would give a different, up to $\sqrt k$
times longer step; see *Muon under sharding*). Bit for bit one process's result (tested
with two processes).

## Steepest descent under the spectral norm

A first-order method picks the step $\Delta W$ that lowers the linearised loss
$\langle G, \Delta W \rangle = \operatorname{tr}(G^\top \Delta W)$ the most among steps of a
given size. *Which* size decides the method. Measured by the Euclidean (Frobenius) norm,
the best step of length $\eta$ is $-\eta\, G / \lVert G \rVert_F$: gradient descent.
Measured per coordinate (the $\ell_\infty$ norm) it is $-\eta \operatorname{sign}(G)$, the
sign descent that [Adam](adam.md) becomes with its averages switched off. Bernstein &
Newhouse (*Old Optimizer, New Norm: An Anthology*, arXiv 2409.20325) argue that the norm
should follow the role a tensor plays, and that for the weight matrix of a linear layer the
natural size is the spectral norm
$\lVert \Delta W \rVert_2 = \max_{\lVert x \rVert = 1} \lVert \Delta W x \rVert$, the
largest factor by which the step can change the layer's output $W x$ for any input.
With that norm:

$$
\begin{aligned}
\min_{\lVert \Delta W \rVert_2 \le \eta} \langle G, \Delta W \rangle
&= -\eta\, \lVert G \rVert_* ,\\
&\text{attained at } \Delta W = -\eta\, U V^\top ,
\end{aligned}
$$

where $G = U \Sigma V^\top$ is the reduced SVD ($U \in \mathbb{R}^{A \times r}$,
$V \in \mathbb{R}^{B \times r}$ with orthonormal columns, $\Sigma$ the $r = \min(A, B)$
singular values $\sigma_i \ge 0$) and $\lVert G \rVert_* = \sum_i \sigma_i$ is the nuclear
norm. Proof: write $G = \sum_i \sigma_i u_i v_i^\top$, so

$$
\begin{aligned}
\langle G, \Delta W \rangle &= \sum_i \sigma_i\, u_i^\top \Delta W\, v_i\\
&\ge -\sum_i \sigma_i \lVert \Delta W \rVert_2 \ge -\eta \sum_i \sigma_i ,
\end{aligned}
$$

because $\lvert u^\top \Delta W v \rvert \le \lVert u \rVert \lVert \Delta W v \rVert
\le \lVert \Delta W \rVert_2$ for unit vectors $u, v$. For $\Delta W = -\eta U V^\top$ each
term is $u_i^\top U V^\top v_i = 1$, so the bound is met, and
$\lVert U V^\top \rVert_2 = 1$ because all its nonzero singular values are $1$. The
gradient's singular values decide how much the loss falls, not where the step points:
a direction that the gradient (or the momentum) barely excites moves as far as the
dominant one. The tests check that no random step of spectral norm $1$ beats
$U V^\top$ and that $\langle G, U V^\top \rangle = \lVert G \rVert_*$.

## The nearest semi-orthogonal matrix is $U V^\top$

The same matrix answers a second question: which $Q$ with orthonormal columns (or rows,
if $A < B$), $Q^\top Q = I$ or $Q Q^\top = I$, is nearest to $G$ in the Frobenius norm?
Expand

$$
\begin{aligned}
\lVert G - Q \rVert_F^2 &= \lVert G \rVert_F^2 + \lVert Q \rVert_F^2
- 2 \langle G, Q \rangle\\
&= \lVert G \rVert_F^2 + r - 2 \langle G, Q \rangle ,
\end{aligned}
$$

since $\lVert Q \rVert_F^2 = \operatorname{tr}(Q^\top Q) = r$ for every such $Q$.
Minimising the distance is maximising $\langle G, Q \rangle$ over matrices of spectral norm
$1$, which the argument above (with the sign flipped) solves: $Q = U V^\top$, with
$\langle G, Q \rangle = \sum_i \sigma_i$. When $G$ has full rank $r$, $U V^\top$ is also
$G (G^\top G)^{-1/2}$ (for $A \ge B$), the *orthogonal polar factor* of $G$: it is
$U \Sigma^0 V^\top$, which is why the reference code calls the operation the "zeroth
power". When some $\sigma_i = 0$ the nearest $Q$ is not unique, but $U V^\top$ of the
nonzero part is still the steepest-descent step. The tests compare $U V^\top$ with
thousands of random semi-orthogonal matrices and with the polar factor.

## Odd polynomials act on singular values

Computing an SVD per matrix per step is slow on a GPU. Odd matrix polynomials avoid it:
for $X = U \Sigma V^\top$,

$$
\begin{aligned}
(X X^\top) X &= U \Sigma V^\top V \Sigma U^\top U \Sigma V^\top = U \Sigma^3 V^\top ,\\
(X X^\top)^2 X &= U \Sigma^5 V^\top ,
\end{aligned}
$$

so

$$
\begin{aligned}
p(X) &= a X + b (X X^\top) X + c (X X^\top)^2 X \\
  &= U\, p(\Sigma)\, V^\top
\end{aligned}
$$

with the scalar polynomial $p(\sigma) = a\sigma + b\sigma^3 + c\sigma^5$ applied to each
singular value.
Singular vectors never change; iterating $p$ moves each singular value along the scalar
map $\sigma \mapsto p(\sigma)$. The task becomes one-dimensional: find a $p$ whose
iterates send every $\sigma \in (0, 1]$ close to $1$ in few steps. Dividing by
$\lVert X \rVert_F \ge \lVert X \rVert_2$ first puts all singular values in $[0, 1]$.
torch evaluates the quintic as $X \leftarrow a X + (b\, S + c\, S^2) X$ with
$S = X X^\top$: three matrix products per iteration. For a tall matrix ($A > B$) it works
on $X^\top$ instead, so that the Gram matrix $S$ is the smaller $\min(A, B)^2$ one; since
$p(X^\top) = p(X)^\top$ nothing else changes.

## From the cubic to the tuned quintic

*The cubic.* The classical Newton–Schulz iteration asks for $p(1) = 1$ and $p'(1) = 0$
with $p(\sigma) = a\sigma + b\sigma^3$: $a + b = 1$ and $a + 3b = 0$ give
$p_3(\sigma) = \tfrac32 \sigma - \tfrac12 \sigma^3$, and

$$
1 - p_3(\sigma) = \tfrac12 (1 - \sigma)^2 (2 + \sigma) ,
$$

so the error squares at every step near $1$ (quadratic convergence). Far from $1$ it is
slow: near $0$, $p_3(\sigma) \approx 1.5\,\sigma$, and a singular value of $10^{-3}$ needs
$17$ iterations to pass $0.68$.

*The classical quintic.* Adding $p''(1) = 0$ to a degree-5 odd $p$ ($a + b + c = 1$,
$a + 3b + 5c = 0$, $6b + 20c = 0$) gives
$p_5(\sigma) = (15\sigma - 10\sigma^3 + 3\sigma^5)/8$ with
$1 - p_5(\sigma) = (1-\sigma)^3 (8 + 9\sigma + 3\sigma^2)/8$: cubic convergence, slope
$15/8$ at $0$, and $11$ iterations from $10^{-3}$.

*The tuned quintic.* Momentum matrices have a few large singular values and many tiny
ones, so after normalisation most $\sigma$ sit near $0$, where only the slope $p'(0) = a$
matters. The reference code's docstring says its coefficients
$(a, b, c) = (3.4445, -4.7750, 2.0315)$ (torch's defaults) were chosen to make the slope at
zero as large as possible, giving up convergence to $1$. Write the quintic by its fixed
points: $p(\sigma) = \sigma$ at $0$ and at $\pm\sigma_-$, $\pm\sigma_+$, so

$$
\begin{aligned}
p(\sigma) &= \sigma + c\, \sigma (\sigma^2 - \sigma_-^2)(\sigma^2 - \sigma_+^2),\\
a &= 1 + c\, \sigma_-^2 \sigma_+^2 , \quad b = -c\, (\sigma_-^2 + \sigma_+^2) .
\end{aligned}
$$

(The coefficient search script in the author's repository, `optimize_coeffs.py`, uses this
form, with $\sigma_\mp = 1 \mp l, 1 + r$.) For torch's coefficients
$\sigma_- = 0.8680$ and $\sigma_+ = 1.2637$, with slopes $p'(\sigma_-) = -1.582$ and
$p'(\sigma_+) = 6.473$: both fixed points repel, so no singular value converges to
anything. Instead they are trapped: $p$ has a local maximum $p(0.5545) = 1.2024$ and a
local minimum $p(1.0501) = 0.6818$, and it maps the interval $[0.6818, 1.2024]$ into
itself (its ends go to $1.134$ and $0.947$, its interior extremum is $0.6818$). Once a
singular value enters this band it stays there, bouncing, and $p(1) = 0.701$: a singular
value that *was* $1$ is knocked down by $30\%$.

That is the trade. The slope at zero is $3.4445$ instead of $1.5$: a singular value of
$10^{-3}$ reaches the band in $6$ iterations (cubic $17$, classical quintic $11$), and with
five iterations every $\sigma \ge 0.00151$ ends inside $[0.68, 1.20]$; one below that
grows by at most $3.4445^5 \approx 485$. The price is that $O_t$ is not $U V^\top$ but
$U S' V^\top$ with $S'$ anywhere in the band, about $21\%$ from $U V^\top$ in relative
Frobenius norm for a random $128 \times 512$ matrix. The reference docstring describes
$S'$ as roughly uniform on $(0.5, 1.5)$; the band is narrower than that. The figure below
shows the singular values of a random momentum-like matrix after $0, 1, \dots, 5$
iterations, and the map $p$ on $[0, 1]$ beside the cubic and the classical quintic. The
tests measure the band on real matrices through the bfloat16 iteration.

![Left: singular values of a 256 x 512 matrix with power-law spectrum after 0 to 5 Newton–Schulz
iterations, in bfloat16, with the band [0.68, 1.20] shaded. Right: the tuned quintic, the
classical quintic and the cubic on [0, 1], and the tuned quintic composed five
times](muon.png)

## Why bfloat16

The iteration runs in bfloat16: 8 significant bits, a relative rounding error of at most
$2^{-8} \approx 0.4\%$ per operation. That is plenty for a result wanted only to within the band:
for a random $128 \times 512$ matrix the bfloat16 result is $1.1\%$ from the float64 result
of the same five iterations, while both are $21\%$ from $U V^\top$. On GPUs bfloat16
matrix products run on the tensor cores at several times the float32 rate, and the three
products per iteration are all of Muon's extra cost. bfloat16 rather than float16 because
it keeps float32's exponent range: a gradient matrix with entries near $10^{-8}$ (small
gradients, or a loss scaled down) underflows to zero or to a single subnormal value in
float16, whose smallest positive number is $6 \times 10^{-8}$, but survives in bfloat16
with its usual relative precision. The cast happens before the division by the norm,
so the range matters. (On a CPU bfloat16 products are no faster; torch's Muon uses
bfloat16 everywhere, and this chapter does the same to stay bitwise equal.)

## Scaling the step by the matrix's shape

$U V^\top$ has $r = \min(A, B)$ singular values equal to $1$, so
$\lVert U V^\top \rVert_F^2 = r$ and its root-mean-square entry is

$$
\operatorname{RMS}(U V^\top) = \sqrt{\frac{\min(A, B)}{A B}} = \frac{1}{\sqrt{\max(A, B)}} .
$$

The same $\eta$ would therefore move the entries of a $4096 \times 4096$ matrix by much less
than those of a $64 \times 64$ one. torch multiplies $\eta$ by $s(A, B)$ chosen by
`adjust_lr_fn`:

- `None` or `"original"` (the reference code's rule): $s = \sqrt{\max(1, A/B)}$. For a
  linear layer $y = W x$ with $W \in \mathbb{R}^{A \times B}$ (out by in), the factor by
  which a step changes the RMS of the output relative to the RMS of the input is
  $\sqrt{B/A}\,\lVert \Delta W \rVert_2$; $s = \sqrt{A/B}$ makes that exactly $\eta$ for a
  tall matrix. Wide matrices are left at $s = 1$.
- `"match_rms_adamw"` (Moonlight: Liu et al., *Muon is Scalable for LLM Training*, arXiv
  2502.16982): $s = 0.2\sqrt{\max(A, B)}$, so the step's RMS is $0.2\,\eta$ whatever the
  shape. The point is to reuse AdamW's learning rate and weight decay: under gradients
  that are mostly noise, AdamW's normalised step $\hat m / \sqrt{\hat v}$ has an RMS near
  $0.2$. To see why, let $g_t$ be independent with mean $0$ and variance $\sigma^2$ per
  coordinate. Then $m_t = (1 - \beta_1)\sum_k \beta_1^k g_{t-k}$ has variance
  $(1-\beta_1)^2 \sigma^2 / (1 - \beta_1^2) = \sigma^2 (1 - \beta_1)/(1 + \beta_1)$ in the
  long run, while $v_t \to \sigma^2$, so

$$
\operatorname{RMS}\Big(\frac{m_t}{\sqrt{v_t}}\Big) \approx \sqrt{\frac{1 - \beta_1}{1 + \beta_1}}
= 0.229 \quad (\beta_1 = 0.9) .
$$

The tests run torch's AdamW on noise and measure $0.226$ (the gap is $v_t$'s own
fluctuation), and measure the RMS of Muon's scaled step: exactly $0.2$ with the true
$U V^\top$, and $0.173$ for a random $128 \times 512$ matrix through the real iteration,
because the band's singular values average below $1$.

## Nesterov momentum as torch applies it

torch's buffer is an exponential average, $B_t = \mu B_{t-1} + (1 - \mu) G_t$
(`lerp`). The Nesterov direction $\tilde B_t = (1-\mu) G_t + \mu B_t$ is what the buffer
*would become* at the next step if the next gradient equalled this one: it looks one step
ahead along the momentum. SGD's Nesterov with a summed buffer $S_t = \mu S_{t-1} + G_t$
steps along $G_t + \mu S_t$; since $B_t = (1 - \mu) S_t$ exactly, torch's direction is
$(1 - \mu)$ times SGD's, and after orthogonalisation, which ignores positive scale, the
two are the same step. The tests check both identities.

## Sum or average, and why torch and the reference differ

The author's blog post, and torch's docstring that follows it, write the momentum as a sum,
$B_t = \mu B_{t-1} + G_t$; torch's code and the author's package (`muon-optimizer` 0.1.0)
both use the average above, while many copies of Muon in circulation keep the sum
(`buf.mul_(momentum).add_(g)`). In exact arithmetic the choice does not matter: the two buffers
differ by the factor $1 - \mu$, and $\mathrm{NS}(c X) = \mathrm{NS}(X)$ for every $c > 0$
because the first thing the iteration does is divide by the norm. In bfloat16 it matters a
little: rounding $20 X$ (the sum, for $\mu = 0.95$) to bfloat16 is not $20$ times the rounded
$X$, so the two iterations see different inputs and their outputs differ at the level of
bfloat16 rounding, about $0.4\%$ of an entry per step. Multiplying by a power of two is
exact in binary floating point, and then the outputs are bitwise equal; the tests check
both, and that in float64 the sum and the average give the same trajectory.

Measured over 20 steps at $\eta = 0.02$ on a $64 \times 64$ matrix, torch's Muon and a
summed-buffer variant end $7 \times 10^{-4}$ apart, and torch's Muon and the author's
`SingleDeviceMuon` end about $10^{-3}$ apart: $0.8$ to $2 \times 10^{-3}$ in the largest
difference of an entry, for square, tall and wide matrices of 64 and 128 rows and columns
(where in that range depends on the machine's bfloat16 matrix products: the same matrix
gave $1.2 \times 10^{-3}$ on one machine and $1.6 \times 10^{-3}$ on another). The second
gap is *not* the momentum, which is the same average in both: it is how the quintic is
evaluated. torch computes $bS + cS^2$ and $aX + (\cdot)X$ each in one `addmm` (one
rounding to bfloat16), the reference in separate operations (one rounding after each).
Swap torch's evaluation into the reference and the trajectories are bitwise equal for
square and wide matrices; for tall ones a gap below $10^{-4}$ remains, because the
reference multiplies the bfloat16 update by $\sqrt{A/B}$ (another rounding) where torch
folds it into the learning rate. Neither is more accurate than the other; the gap is the
size of the iteration's own rounding, far inside the band. The reference also differs in
defaults ($\eta = 0.02$, $\lambda = 0$), and the 0.1.0 package fails with a `TypeError` on
a parameter that has no gradient, where torch skips it.

## Compiling, and one departure from torch

`torch.compile(opt.step)` traces the whole step into one graph (the tests compile with
`fullgraph=True`, which fails on any graph break). It is not bitwise equal to the eager
step, for torch's Muon as for this one: Inductor fuses the elementwise parts of the
polynomial and keeps their bfloat16 intermediates in float32, and on the CPU its generated
code rounds a product and a sum separately where ATen's `add(alpha=)` and `lerp` kernels
fuse them. On small matrices the per-step updates differ by $1$ to $8\%$ (relative Frobenius
norm; the tests allow $10\%$), the size of the bfloat16 iteration's own error. With
Inductor's `emulate_precision_casts` the compiled iteration is bitwise equal to the eager
one. torch's conformance suite skips its compiled-versus-eager comparison for Muon for the
same reason.

One deliberate difference: for a bfloat16 parameter with `nesterov=False`, torch's cast to
bfloat16 returns the momentum buffer itself, and the in-place division by the norm then
overwrites the buffer with its normalised copy. Here the iteration always works on a copy.
Everything else, in float32 and float64, is bitwise torch's.

## Muon under sharding

With data parallelism (DDP, or `ZeroRedundancyOptimizer`, which hands each rank whole
parameters) every rank steps whole matrices, and Muon needs nothing special. FSDP2
(`fully_shard`) is different: the parameter, its gradient and the momentum are DTensors, and
rank $r$ of $k$ holds only a block of rows $M_r$ of the $A \times B$ matrix
$M = [M_1; \dots; M_k]$. Every other chapter's update is elementwise, or needs only norms
that DTensor already reduces across the ranks ([LAMB](lamb.md)); Newton–Schulz multiplies
the whole matrix by its transpose, and a block does not know the rest.

Suppose an implementation orthogonalised each rank's block on its own, $Q_r = U_r V_r^\top$
of $M_r$, and stacked them: $Q = [Q_1; \dots; Q_k]$. That is not $U V^\top$ of $M$, and the
damage has a size:

- *The step is too long.* For any unit vector $x$,
  $\lVert Q x \rVert^2 = \sum_r \lVert Q_r x \rVert^2 \le k$, so $\lVert Q \rVert_2 \le \sqrt k$
  instead of $1$. When the blocks are still tall or square ($A / k \ge B$) each $Q_r$ has
  orthonormal columns, $Q^\top Q = \sum_r Q_r^\top Q_r = k I$, and *every* singular value
  of $Q$ is $\sqrt k$: the step is $\sqrt k$ times Muon's in every direction. The learning
  rate silently depends on the number of GPUs.
- *The directions are wrong.* When the blocks are wide, the rows of one block come out
  orthonormal among themselves, but nothing relates them to the other blocks' rows: $Q Q^\top$
  is $I$ on the diagonal blocks and not $0$ off them, so $Q$'s singular values spread below
  and above $1$. For a random $64 \times 64$ Gaussian matrix in two blocks (the tests' draw)
  they range from $0.001$ to $1.414$, and $Q$ is $48\%$ away from $U V^\top$ in relative
  Frobenius norm.
- *The shape factor is wrong* if it is computed from the block: $s(A/k, B)$ instead of
  $s(A, B)$ (`lr_scale` here reads `param.shape`, which for a DTensor is the whole shape).

The result also changes with $k$, so the same run on a different number of ranks trains a
different model. The tests show each of these: the $\sqrt k$ singular values exactly, the
spread and the distance for the random matrix, and, under FSDP2 with two processes, that the
local shard's Newton–Schulz differs from the shard of the whole matrix's.

This chapter's `orthogonalize` does the exact thing: it gathers the momentum
(`full_tensor()`, an all-gather of $A B$ numbers), runs the same iteration on every rank,
and keeps this rank's rows of the result. Under FSDP2 the trained weights are then bitwise
those of a single process (tested). The price is that every rank holds one whole matrix
for the duration of its iteration and all $k$ ranks compute the same product. A faster
exact alternative gives each matrix to one rank, which gathers it, orthogonalises it and
sends the blocks back, so that the $k$ ranks share the work; it needs the matrices
scheduled across ranks, and this chapter keeps the simple version.

## The code

The constants are torch's defaults. `newton_schulz` is the iteration, `lr_scale` the shape
factor, `_muon_update` one step on one matrix in torch's order of operations, and `Muon`
the optimizer around them.

## References

- Keller Jordan, *Muon: An optimizer for hidden layers in neural networks*, 2024. [blog
  post](https://kellerjordan.github.io/posts/muon/); code:
  [KellerJordan/Muon](https://github.com/KellerJordan/Muon)
- Jeremy Bernstein and Laker Newhouse, *Old Optimizer, New Norm: An Anthology*, 2024.
  [arXiv:2409.20325](https://arxiv.org/abs/2409.20325)
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

# torch's defaults: the reference code's quintic, five iterations, and the guard that
# keeps the division by the norm finite for an all-zero matrix.
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NS_STEPS = 5
NS_EPS = 1e-7
# The classical iterations, for comparison: the cubic is the quintic with $c = 0$.
CUBIC_COEFFICIENTS = (1.5, -0.5, 0.0)
CLASSICAL_QUINTIC_COEFFICIENTS = (15 / 8, -10 / 8, 3 / 8)
ADJUST_LR_FNS = (None, "original", "match_rms_adamw")


def newton_schulz(
    matrix: Tensor,
    coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
    steps: int = NS_STEPS,
    eps: float = NS_EPS,
    *,
    dtype: torch.dtype = torch.bfloat16,
) -> Tensor:
    r"""$\mathrm{NS}(M) \approx U V^\top$: `steps` quintic iterations on $M / \lVert M \rVert_F$.

    Computed in `dtype` (bfloat16, as torch does) and returned in it. The operations and
    their order are torch's, so the result is bitwise equal to `torch.optim.Muon`'s.
    """
    a, b, c = coefficients
    # A copy in the working precision (the input, a momentum buffer, is never modified).
    x = matrix.to(dtype, copy=True)
    # Work on the wide orientation, so that the Gram matrix $S = X X^\top$ is the small one.
    tall = matrix.size(0) > matrix.size(1)
    if tall:
        x = x.T
    # $X_0 = M / \lVert M \rVert_F$: every singular value now lies in $[0, 1]$.
    x.div_(x.norm().clamp(min=eps))
    for _ in range(steps):
        gram = x @ x.T  # $S = X X^\top$
        poly = torch.addmm(gram, gram, gram, beta=b, alpha=c)  # $b S + c S^2$
        x = torch.addmm(x, poly, x, beta=a)  # $a X + (b S + c S^2) X$
    return x.T if tall else x


def orthogonalize(
    update: Tensor,
    coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
    steps: int = NS_STEPS,
    eps: float = NS_EPS,
) -> Tensor:
    r"""`newton_schulz` of the whole matrix, also when `update` is a shard (FSDP2).

    Under `fully_shard` the parameter, its gradient and the momentum are DTensors, and each
    rank holds a block of rows. The iteration needs the whole matrix (see *Muon under
    sharding*), so the shards are gathered (`full_tensor`, an all-gather), every rank runs
    the same iteration on the same matrix, and each keeps its own block of the result: the
    whole result, marked replicated, redistributed to the update's placements, which slices
    locally without sending anything (and, unlike `distribute_tensor`, is traced by
    `torch.compile` without a graph break). The result is bitwise the single-process one.
    """
    dtensor = _dtensor_class()
    if dtensor is None or not isinstance(update, dtensor):
        return newton_schulz(update, coefficients, steps, eps)
    from torch.distributed.tensor import Replicate

    mesh = update.device_mesh
    whole = newton_schulz(update.full_tensor(), coefficients, steps, eps)
    replicated = dtensor.from_local(whole, mesh, [Replicate()] * mesh.ndim, run_check=False)
    return replicated.redistribute(mesh, update.placements)


def _dtensor_class() -> type | None:
    # A DTensor exists only once `torch.distributed.tensor` has been imported, so a process
    # that never imported it (and a torch built without distributed) needs no import here.
    module = sys.modules.get("torch.distributed.tensor")
    return None if module is None else module.DTensor


def lr_scale(adjust_lr_fn: str | None, shape: Iterable[int]) -> float:
    r"""$s(A, B)$, the factor torch's `adjust_lr_fn` puts on the learning rate."""
    rows, cols = tuple(shape)[:2]
    # $\sqrt{\max(1, A/B)}$, the reference code's rule.
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return math.sqrt(max(1, rows / cols))
    # $0.2\sqrt{\max(A, B)}$: an update RMS of $0.2\,\eta$, like AdamW's (Moonlight).
    if adjust_lr_fn == "match_rms_adamw":
        return 0.2 * math.sqrt(max(rows, cols))
    return 1.0


def _muon_update(
    param: Tensor,
    grad: Tensor,
    buf: Tensor,
    *,
    lr: float | Tensor,
    weight_decay: float,
    momentum: float,
    nesterov: bool,
    ns_coefficients: tuple[float, float, float],
    ns_steps: int,
    eps: float,
    adjust_lr_fn: str | None,
) -> None:
    r"""One Muon step on one matrix, in torch's order of operations."""
    # $B_t = \mu B_{t-1} + (1 - \mu) G_t$, an exponential average.
    buf.lerp_(grad, 1 - momentum)
    # Nesterov: $\tilde B_t = (1 - \mu) G_t + \mu B_t$, the buffer one step ahead.
    update = grad.lerp(buf, momentum) if nesterov else buf
    # $O_t = \mathrm{NS}(\tilde B_t) \approx U V^\top$, in bfloat16, of the whole matrix
    # even when this rank holds only a shard of it.
    ortho = orthogonalize(update, ns_coefficients, ns_steps, eps)
    scaled_lr = lr * lr_scale(adjust_lr_fn, param.shape)
    # Decoupled weight decay uses the unscaled $\eta$, as torch does.
    param.mul_(1 - lr * weight_decay)
    # $W_t = W_{t-1} - \eta\, s(A, B)\, O_t$. A tensor $\eta$ meets $O_t$ in the
    # parameter's dtype: compiled, `alpha=` becomes a product, which would otherwise be
    # rounded to bfloat16 (a 0-d tensor does not raise the dtype of its operand).
    if isinstance(scaled_lr, Tensor) and torch.compiler.is_compiling():
        ortho = ortho.to(param.dtype)
    param.add_(ortho, alpha=-scaled_lr)


class Muon(Optimizer):
    r"""Muon, a drop-in replacement for `torch.optim.Muon`.

    Same signature, defaults, parameter-group keys and state key (`momentum_buffer`), so a
    state dict moves between the two in both directions. Only 2-D parameters are accepted;
    give the others to [AdamW](adamw.md) (see `muon_and_adamw_params`).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float | Tensor = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
        eps: float = NS_EPS,
        ns_steps: int = NS_STEPS,
        adjust_lr_fn: str | None = None,
    ) -> None:
        _check_muon_arguments(lr, weight_decay, momentum, ns_coefficients, eps, ns_steps,
                             adjust_lr_fn)
        defaults = dict(
            lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
            ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
            adjust_lr_fn=adjust_lr_fn,
        )
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group, refusing it whole if any of its parameters is not a matrix."""
        super().add_param_group(param_group)
        for p in self.param_groups[-1]["params"]:
            if p.ndim != 2:
                self.param_groups.pop()
                raise ValueError(
                    "params: Muon only supports 2D parameters, found a parameter with size: "
                    f"{tuple(p.shape)}"
                )

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Fill in the group keys a state dict may lack."""
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", True)
            group.setdefault("ns_coefficients", NS_COEFFICIENTS)
            group.setdefault("eps", NS_EPS)
            group.setdefault("ns_steps", NS_STEPS)
            group.setdefault("adjust_lr_fn", None)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one Muon step for every matrix that has a gradient; return the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        # Everything that can refuse a step is checked before anything changes.
        name = type(self).__name__
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if torch.is_complex(param):
                    raise RuntimeError(f"{name} does not support complex parameters")
            _check_sparse(name, group["params"])

        for group in self.param_groups:
            lr = _scalar(group["lr"])
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(
                        param.grad, memory_format=torch.preserve_format
                    )
                _muon_update(
                    param, param.grad, state["momentum_buffer"], lr=lr,
                    weight_decay=group["weight_decay"], momentum=group["momentum"],
                    nesterov=group["nesterov"], ns_coefficients=group["ns_coefficients"],
                    ns_steps=group["ns_steps"], eps=group["eps"],
                    adjust_lr_fn=group["adjust_lr_fn"],
                )
        return loss


# ## Which parameters go to Muon
#
# Muon is for the hidden weight matrices. An embedding table is only ever multiplied by
# one-hot vectors, so the worst case over all inputs that the spectral norm measures is not
# the one that matters for it (Bernstein & Newhouse give linear and embedding layers
# different norms for this reason); the reference code's docstring keeps the input
# embedding, the output layer, and gains and biases on a standard method such as AdamW.
# Biases, norm gains and other vectors have no matrix structure at all. torch enforces only
# the shape: its constructor refuses any parameter that is not 2-D with
# `ValueError` (a convolution's 4-D weight included; the author's code instead views a 4-D
# kernel as a matrix of shape out by in times kernel size, though in the 0.1.0 package the
# step then fails to add the flattened update back), and its step refuses complex
# parameters. `muon_and_adamw_params` below splits a model accordingly. Sharded (FSDP2)
# matrices go to Muon like any other: `orthogonalize` gathers them (see *Muon under
# sharding*).
def muon_and_adamw_params(
    model: torch.nn.Module, *, exclude: Iterable[str] = ("head", "lm_head", "classifier")
) -> tuple[list[Tensor], list[Tensor]]:
    r"""Split `model`'s trainable parameters into `(for Muon, for AdamW)`.

    Muon gets the 2-D weights of hidden layers. AdamW gets everything else: parameters that
    are not 2-D (biases, norm gains, convolution kernels), the weights of embedding modules,
    and parameters whose dotted name has a component in `exclude` (the output head).
    A parameter shared by two modules (tied embeddings) is listed once, under its first name.
    """
    excluded = set(exclude)
    embeddings = {
        id(module.weight)
        for module in model.modules()
        if isinstance(module, (torch.nn.Embedding, torch.nn.EmbeddingBag))
    }
    for_muon: list[Tensor] = []
    for_adamw: list[Tensor] = []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        hidden_matrix = (
            param.ndim == 2
            and id(param) not in embeddings
            and not excluded.intersection(name.split("."))
        )
        (for_muon if hidden_matrix else for_adamw).append(param)
    return for_muon, for_adamw


def svd_orthogonalize(matrix: Tensor) -> Tensor:
    r"""$U V^\top$ of the reduced SVD, in float64: what Newton–Schulz approximates."""
    u, _, vh = torch.linalg.svd(matrix.double(), full_matrices=False)
    return u @ vh


def quintic(coefficients: tuple[float, float, float]) -> Callable[[float], float]:
    r"""The scalar map $p(\sigma) = a\sigma + b\sigma^3 + c\sigma^5$ on singular values."""
    a, b, c = coefficients
    return lambda s: a * s + b * s**3 + c * s**5


def quintic_fixed_points(coefficients: tuple[float, float, float]) -> list[float]:
    r"""The positive $\sigma$ with $p(\sigma) = \sigma$.

    With $s = \sigma^2$ they are the roots of $c s^2 + b s + (a - 1)$.
    """
    a, b, c = coefficients
    return sorted(math.sqrt(s) for s in _positive_roots(c, b, a - 1))


def quintic_band(coefficients: tuple[float, float, float]) -> tuple[float, float]:
    r"""$[p(\sigma_{\min}), p(\sigma_{\max})]$, the values of $p$ at its local minimum and maximum.

    The critical points solve $p'(\sigma) = a + 3b\sigma^2 + 5c\sigma^4 = 0$. For torch's
    coefficients the interval between the two values is mapped into itself.
    """
    a, b, c = coefficients
    p = quintic(coefficients)
    low_s, high_s = sorted(_positive_roots(5 * c, 3 * b, a))
    return p(math.sqrt(high_s)), p(math.sqrt(low_s))


def _positive_roots(a: float, b: float, c: float) -> list[float]:
    # The positive real roots of $a s^2 + b s + c$ (a straight line when $a = 0$).
    if a == 0:
        return [-c / b] if b != 0 and -c / b > 0 else []
    disc = b * b - 4 * a * c
    if disc < 0:
        return []
    roots = ((-b - math.sqrt(disc)) / (2 * a), (-b + math.sqrt(disc)) / (2 * a))
    return [s for s in roots if s > 0]


def iterations_to_reach(coefficients: tuple[float, float, float], start: float,
                        target: float) -> int:
    r"""How many applications of $p$ take `start` to at least `target`."""
    p, s, n = quintic(coefficients), start, 0
    while s < target:
        s, n = p(s), n + 1
    return n


def adamw_noise_rms(beta1: float) -> float:
    r"""$\sqrt{(1-\beta_1)/(1+\beta_1)}$, the long-run RMS of $m_t/\sqrt{v_t}$ on pure noise."""
    return math.sqrt((1 - beta1) / (1 + beta1))


def power_law_matrix(rows: int, cols: int, *, exponent: float = 1.0, seed: int = 0) -> Tensor:
    r"""A momentum-like float32 matrix whose $k$-th singular value is $k^{-\text{exponent}}$."""
    gen = torch.Generator().manual_seed(seed)
    r = min(rows, cols)
    u, _ = torch.linalg.qr(torch.randn(rows, r, generator=gen, dtype=torch.float64))
    v, _ = torch.linalg.qr(torch.randn(cols, r, generator=gen, dtype=torch.float64))
    sigma = torch.arange(1, r + 1, dtype=torch.float64) ** -exponent
    return ((u * sigma) @ v.T).float()


# ## torch compatibility
#
# Small helpers that make this file behave like `torch.optim`: tensor hyper-parameters,
# argument checks with torch's wording, and sparse gradients. Every chapter that needs one
# holds the same copy, letter for letter (a test checks), so that each file still stands
# alone.
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


def _check_sparse(name: str, params: Iterable[Tensor], why: str = "") -> None:
    """Refuse a sparse gradient anywhere in the group before any parameter moves.

    torch checks the whole group first too, so a step that fails changes nothing.
    """
    if any(p.grad is not None and p.grad.is_sparse for p in params):
        raise RuntimeError(f"{name} does not support sparse gradients{why}")


def _check_muon_arguments(
    lr: float | Tensor,
    weight_decay: float,
    momentum: float,
    ns_coefficients: tuple[float, float, float],
    eps: float,
    ns_steps: int,
    adjust_lr_fn: str | None,
) -> None:
    """torch's checks for Muon, in torch's order, each message starting with the argument.

    Each message also carries torch's wording where torch checks the same thing. torch
    checks `ns_steps` and `ns_coefficients` only when it steps; we check them here. We also
    refuse `momentum >= 1`, which torch accepts: with `momentum = 1` the buffer stays zero.
    """
    # A tensor `lr` must have one element (torch's words are the same as for Adam); its
    # sign is then checked in Muon's own words.
    if isinstance(lr, Tensor) and lr.numel() != 1:
        _check_lr(lr)
    _check_nonnegative("lr", lr, "Learning rate should be >= 0 but is")
    _check_nonnegative("momentum", momentum, "momentum should be >= 0 but is")
    if not momentum < 1.0:
        raise ValueError(f"momentum must be < 1, got {momentum}")
    _check_nonnegative("weight_decay", weight_decay, "weight decay should be >= 0 but is")
    _check_nonnegative("eps", eps, "Invalid epsilon value")
    if adjust_lr_fn not in ADJUST_LR_FNS:
        raise ValueError(
            f"adjust_lr_fn: Adjust learning rate function {adjust_lr_fn} is not supported "
            "(use None, 'original' or 'match_rms_adamw')"
        )
    if len(ns_coefficients) != 3:
        raise ValueError(
            "ns_coefficients: Coefficients must be a tuple of exactly 3 values, got "
            f"{ns_coefficients!r}"
        )
    if isinstance(ns_steps, bool) or not isinstance(ns_steps, int) or not 0 <= ns_steps < 100:
        raise ValueError(
            "ns_steps: Number of steps must be less than 100 for computational efficiency "
            f"(and a non-negative integer), got {ns_steps!r}"
        )


def main(argv: list[str] | None = None) -> None:
    """Draw singular values through the iterations, and the quintic's map on [0, 1]."""
    import argparse

    parser = argparse.ArgumentParser(description="Draw the Muon chapter's figure.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE (PNG)")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    low, high = quintic_band(NS_COEFFICIENTS)
    momentum = power_law_matrix(256, 512)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    # Left: the singular values of $\mathrm{NS}_k(M)$ for $k = 0..5$, through the real
    # bfloat16 iteration ($k = 0$ is the normalised input).
    colors = plt.cm.viridis(torch.linspace(0.0, 0.9, NS_STEPS + 1).tolist())
    for k in range(NS_STEPS + 1):
        out = newton_schulz(momentum, NS_COEFFICIENTS, k).double()
        sv = torch.linalg.svdvals(out)
        left.plot(range(1, len(sv) + 1), sv.tolist(), color=colors[k], label=f"k = {k}")
    left.axhspan(low, high, color="tab:orange", alpha=0.15, label="band [0.68, 1.20]")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("index $k$ of the singular value")
    left.set_ylabel(r"$\sigma_k$")
    left.set_title("256 x 512 momentum, power-law spectrum")
    left.legend(loc="lower left", fontsize=8)

    # Right: the scalar maps.
    xs = [i / 400 for i in range(401)]
    right.plot(xs, xs, color="gray", lw=0.8, ls=":", label=r"$\sigma$")
    right.plot(xs, [quintic(CUBIC_COEFFICIENTS)(x) for x in xs], color="tab:blue",
               label="cubic (3/2, -1/2)")
    right.plot(xs, [quintic(CLASSICAL_QUINTIC_COEFFICIENTS)(x) for x in xs], color="tab:green",
               label="classical quintic (15, -10, 3)/8")
    p = quintic(NS_COEFFICIENTS)
    right.plot(xs, [p(x) for x in xs], color="tab:red",
               label="tuned quintic (3.4445, -4.775, 2.0315)")
    composed = list(xs)
    for _ in range(NS_STEPS):
        composed = [p(x) for x in composed]
    right.plot(xs, composed, color="tab:red", ls="--", lw=1, label="tuned, composed 5 times")
    right.axhspan(low, high, color="tab:orange", alpha=0.15)
    right.set_xlim(0, 1)
    right.set_ylim(0, 1.3)
    right.set_xlabel(r"$\sigma$")
    right.set_ylabel(r"$p(\sigma)$")
    right.set_title("the iteration's map on singular values")
    right.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    if args.save:
        fig.savefig(args.save, dpi=110)
    else:
        plt.show()


if __name__ == "__main__":
    main()
