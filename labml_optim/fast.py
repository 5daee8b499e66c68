r"""
---
title: Fast optimizers
summary: A step's bandwidth floor, per-tensor overhead, and what foreach, fused and compile buy.
group: Speed and scale
order: 400
---

# Fast optimizers

An optimizer step does almost no arithmetic. Adam spends about a dozen floating-point
operations on each coordinate, while a modern CPU core does tens of billions a second; a
step over 24 million parameters would take a few milliseconds if arithmetic were the
limit. It is not. Each coordinate's parameter, gradient and moments live in main memory,
and every one of them has to be read, and most written back, once per step. How fast a
step can be is set by how many bytes it moves and how fast memory moves them.

This chapter derives that floor for every optimizer of the site, explains the second
cost that appears when a model has many small tensors, and shows where the readable
per-tensor loops of the chapters stand, eager and under `torch.compile`, next to torch's
own for-loop, foreach and fused paths. The measurements come from
`scripts/bench_optim.py`, which writes the results drawn in the figure.

## Bytes per parameter

Count, for one coordinate, the arrays the update must read and the arrays it must write,
in float32 (4 bytes each), assuming the whole update is done in one pass that keeps every
intermediate in registers. For Adam,

$$
\begin{aligned}
m &\leftarrow \beta_1 m + (1 - \beta_1) g , \\
v &\leftarrow \beta_2 v + (1 - \beta_2) g^2 , \\
\theta &\leftarrow \theta - \eta \, \frac{\hat m}{\sqrt{\hat v} + \epsilon} ,
\end{aligned}
$$

reads $g, m, v, \theta$ (four arrays) and writes $m, v, \theta$ (three): seven accesses of
4 bytes, **28 bytes per parameter**. The bias corrections are scalars, computed once per
tensor, and cost nothing per coordinate. The same count for the other chapters:

| update | reads | writes | bytes |
|---|---|---|---:|
| SGD, no momentum | $g, \theta$ | $\theta$ | 12 |
| SGD with momentum $\mu$ | $g, b, \theta$ | $b, \theta$ | 20 |
| Adagrad | $g, G, \theta$ | $G, \theta$ | 20 |
| RMSprop | $g, v, \theta$ | $v, \theta$ | 20 |
| RMSprop, centered | $g, v, \bar g, \theta$ | $v, \bar g, \theta$ | 28 |
| Adam, AdamW, RAdam | $g, m, v, \theta$ | $m, v, \theta$ | 28 |
| AMSGrad | $g, m, v, \hat v_{\max}, \theta$ | $m, v, \hat v_{\max}, \theta$ | 36 |
| LAMB | two passes, see below | | 40 |
| NAdam | $g, m, v, \theta$ | $m, v, \theta$ | 28 |
| Adamax | $g, m, u, \theta$ | $m, u, \theta$ | 28 |
| AdaBelief | $g, m, s, \theta$ | $m, s, \theta$ | 28 |
| Lion | $g, m, \theta$ | $m, \theta$ | 20 |
| Sophia-G, the step | $g, m, h, \theta$ | $m, \theta$ | 24 |
| Schedule-Free AdamW | $g, z, v, \theta$ | $z, v, \theta$ | 28 |
| Adafactor, a matrix | three passes, see below | | 24 |
| Muon | $g, b, \theta$, then matrix products | $b, \theta$ | 20 |

A real step moves more than this whenever it writes an intermediate array and reads it
back. torch's for-loop Adam computes the denominator $\sqrt{v}/\sqrt{1 - \beta_2^t} +
\epsilon$ into a temporary (one write, then one read by `addcdiv_`) and runs the moment
updates as separate kernels that each re-read their inputs; every such round trip adds 8
bytes per parameter to the 28.

## LAMB needs two passes

LAMB multiplies Adam's direction $u = \hat m / (\sqrt{\hat v} + \epsilon) + \lambda \theta$ by
a trust ratio $\lVert \theta \rVert / \lVert u \rVert$ of the *whole tensor*. No coordinate of
$\theta$ may be written before both norms are known, so one pass cannot finish the update.
The first pass reads $g, m, v, \theta$, writes $m, v$ and accumulates $\lVert \theta
\rVert^2$ and $\lVert u \rVert^2$ (24 bytes). The second needs $\theta$ again and $u$
again: either store $u$ in the first pass and read it back (8 bytes) or read $m, v$ again
and recompute it (8 bytes); both cost the same. With the read and write of $\theta$ (8
bytes) the second pass costs 16, and LAMB's floor is $24 + 16 = $ **40 bytes per
parameter**.

## The newer chapters

NAdam, Adamax and AdaBelief are Adam's shape: two state arrays (Adamax's running maximum
$u$, AdaBelief's $s$ in place of $v$), one pass, 28 bytes. NAdam's momentum schedule and
the bias corrections are scalars per tensor. Lion keeps one state array and is SGD with
momentum's 20. The rest need a word each.

*Sophia-G* reads its Hessian estimate $h$ at every step but writes it only when a new
sample arrives: `update_hessian`, every $k$ steps, reads the sampled gradient and $h$ and
writes $h$ (12 bytes). Its floor is therefore $24 + 12/k$ bytes per parameter, $25.2$ for
the authors' $k = 10$; the table and the bench count the step alone, 24.

*Schedule-Free AdamW* has three sequences $x, y, z$ but needs only two in memory: the
parameter holds $y$, and $x = (y - (1 - \beta_1) z)/\beta_1$ follows from
$y = (1 - \beta_1) z + \beta_1 x$ whenever it is wanted. A step then reads
$g, y, z, v$ and writes $y, z, v$: 28 bytes, Adam's count; the package's default
`AdamWScheduleFree` is laid out this way, and so is the chapter's class with
`implicit_x=True`, the setting the bench times. By default the chapter keeps the layout of
the authors' reference class instead ($x$ and $y$ stored beside $z$ and $v$, so that state
dicts move between the two), and its step reads $g, \theta, x, y, z, v$ and writes
$\theta, x, y, z, v$: 44 bytes. The bench holds every implementation to the algorithm's 28.

*Adafactor* on an $n \times m$ matrix keeps $n + m$ numbers of state, so its state traffic
is negligible, but three whole-tensor quantities stand between the gradient and the new
parameter: the row and column means of $G^2$ (the second-moment estimate of every entry
needs all of them), the RMS of the update $U = G / \sqrt{\hat V}$ (clipping), and the RMS
of $\theta$ (the relative step). The first pass reads $g$ and $\theta$ and accumulates the
row and column sums and $\lVert \theta \rVert^2$ (8 bytes); the second reads $g$ again to
accumulate $\lVert U \rVert^2$ from the new estimate (4 bytes); the third reads $g$ and
$\theta$ and writes $\theta$ (12 bytes). Storing $U$ in the second pass instead of
recomputing it would add its write (4 bytes; the third pass reads $U$ in place of $g$).
The floor is **24 bytes per parameter**, plus $(n + m)/(n m)$ state numbers, which is
below $0.01$ for a $512 \times 512$ matrix. (A vector keeps a full second moment $v$ and
needs two passes: read $g, v, \theta$, write $v$ and accumulate both RMS values; then read
$g, v, \theta$ and write $\theta$: 32 bytes.)

*Muon* is not elementwise. Its elementwise part is SGD with Nesterov momentum's traffic:
read $g, b, \theta$, write $b, \theta$, 20 bytes (the Nesterov direction is formed on the
way). But the step also runs the Newton–Schulz iteration on a bfloat16 copy of the
$A \times B$ momentum (oriented so that $A \le B$), three matrix products per iteration:
$S = X X^\top$ ($2A^2B$ floating-point operations), $S^2$ ($2A^3$) and the quintic's
product with $X$ ($2A^2B$). Five iterations cost $5(4A^2B + 2A^3)$ operations, or
$5(4A + 2A^2/B)$ per parameter: $15{,}360$ for a $512 \times 512$ matrix, over a thousand
times Adam's dozen, while its bytes per parameter are SGD's. Muon is bound by
matrix-multiply throughput, not by memory: its 20 bytes are a floor it is not expected to
approach, and the bench's "x floor" for Muon measures the iteration's cost in units of
that elementwise floor. The floor that bounds Muon is the operation count divided by the
machine's matrix throughput in bfloat16.

## The floor

With $n$ parameters, $B$ bytes per parameter and a sustained memory bandwidth $W$, no
implementation of the update can take less than

$$
T_{\text{floor}} = \frac{n B}{W} .
$$

For $n = 24 \times 10^6$ and Adam's $B = 28$ that is $672$ MB a step; at $W = 40$ GB/s,
16.8 ms. The bandwidth is not a constant of the machine: it depends on how many cores
stream at once and on what else runs. The bench measures it in the same run as the
optimizers, with a large in-place `add_` (two reads, one write per element, the same
shape of traffic as an update), and reports each implementation's time as a multiple of
the floor computed from it.

## The second cost: per-tensor overhead

A model is not one tensor. A step over $T$ tensors that launches $k$ kernels per tensor
pays, besides the bytes, a fixed cost $c$ for each launch: the Python interpreter walking
the loop, the dispatcher picking a kernel, and on a GPU the launch itself (a few
microseconds). The step time is then about

$$
T_{\text{step}} \approx \frac{n B'}{W} + T \, k \, c ,
$$

with $B' \ge B$ the bytes the implementation really moves. For 24 M parameters in 150
tensors the first term dominates; for the same parameters in thousands of small tensors
(norm gains, biases, small heads) the second can be larger than the first. The two
remedies attack different terms:

* **foreach** (`torch._foreach_*`) applies one operation to a *list* of tensors in one
  call: $k$ calls per step instead of $T k$. It still writes intermediate lists, so $B'$
  stays above $B$.
* **fused** kernels do the whole update of a coordinate in one pass: $B' = B$, and one
  launch per group of tensors.
* **`torch.compile(opt.step)`** traces the per-tensor loop once and generates fused
  kernels for it, so a readable for-loop can reach a fused kernel's traffic. It needs the
  step to be traceable: a Python number pulled out of a tensor (`.item()`) breaks the
  graph, and a value that changes every step (the step count) must stay a tensor, or the
  compiled graph would bake in its first value. Every chapter keeps its step count a
  tensor under compile for this reason.

## What a compiled loop must not recompute

Compiling turns each tensor's update into one generated loop that reads and writes every
array once, which is the floor's traffic. It can still miss the floor by doing too much
*arithmetic* per coordinate. The numbers that depend on the step count, such as Adam's
$1 - \beta_1^t$ and $\sqrt{1 - \beta_2^t}$, are one value per tensor; under `torch.compile`
they are 0-d tensors computed from the step tensor, and inductor is free to inline such an
expression into the loop that consumes it. On the CPU (torch 2.13) it does so with a power:
the generated C++ evaluates `pow(0.9, t)` and `pow(0.999, t)`, and a square root, once
for every vector of 8 coordinates (on the AVX2 machine of the earlier runs; with AVX-512
a vector holds 16). Two library calls of a few dozen cycles each, against
the 224 bytes those 8 coordinates move, make the loop compute-bound: torch's own for-loop
Adam, compiled, runs at more than twice its floor (the "torch for-loop compiled" row of
the bench, quoted below).

The fix is to write the same number in a form inductor computes once. Written with an
exponential, it is computed once per tensor, ahead of the loop, in the code torch 2.13
generates; so every chapter computes its powers of the step, while compiling, as

$$
\beta^t = e^{t \ln \beta} ,
$$

through a footer helper `_power` that is the plain `beta**t` in eager mode (so eager
results stay bitwise torch's). LAMB's and Adafactor's ratios of norms, which inductor also
inlined (two square roots per vector), go through `_ratio`, $a/b = e^{\ln a - \ln b}$, for
the same reason. Where inductor stores a value and where it inlines one is its own
heuristic, not a promise, so `tests/test_compile.py` reads the code it generates for every
chapter and fails if a scalar `pow`, `exp`, `log` or square root is left inside a loop over
coordinates (Muon's normalisation and Adafactor's square root per row are the two allowed, and
named, exceptions).

A number computed once can still cost a vector operation per coordinate if the loop
divides by it. Adam's denominator is $\sqrt{v} / \sqrt{1 - \beta_2^t} + \epsilon$, in
torch's order, and compiled, the divisor is a 0-d tensor: inductor keeps the division (a
product by the reciprocal would round differently), so each vector of coordinates pays a
square root and two divisions where one division would do. On one core a vector division
costs several products, and once memory is fast enough the loop waits on them. So the
chapters divide by such numbers through a footer helper `_divide`, which divides in eager
mode (bitwise torch) and, while compiling, multiplies by the reciprocal, formed once per
tensor by `_ratio`. In one process that alternated the two forms for nine rounds (12 M
parameters in 74 tensors, one core), Adam's compiled step went from 8.96 to 8.19 ms
(medians). The same test fails if a vector is divided by a number loaded once for the
loop.

## What a compiled step must not allocate

On a CPU a stored intermediate can cost far more than its bytes. Compiled, LAMB's first
pass used to write $u$ into a buffer that inductor allocates for each tensor at every step
and frees after the second pass. Blocks that large (a megabyte and more) come from the C
library's allocator, which may hand them back to the operating system when they are freed;
the next step then writes into fresh pages, and every first touch of a 4 KiB page is a page
fault in which the kernel maps and zeroes it. Over the bench's 24 M parameters that was
13,099 page faults a step, and the compiled step took 88 ms; the same code with the C
library told to keep its memory (`MALLOC_MMAP_THRESHOLD_` and `MALLOC_TRIM_THRESHOLD_` set
high) took 47 ms and faulted 5 times. Whether the allocator gives memory back depends on
its history, so LAMB's compiled step moved between 54 and 88 ms from one run to the next.

The chapter now writes $u$ twice while compiling, once for its norm and once for the
update, and inductor recomputes it in the second pass from $m$, $v$ and $\theta$ instead of
storing it (the [LAMB](lamb.md) chapter says so beside that line); the bytes are the
floor's either way. `tests/test_compile.py` reads the wrapper inductor generates for the
steady-state step of every chapter and fails if it allocates a buffer of a parameter's
shape; the old LAMB fails it. One chapter is allowed one: Muon, whose Newton–Schulz
iteration needs its matrices.

Adafactor used to be the other. Its estimate $\hat V = R C^\top / \bar R$ was a matrix
product, which BLAS writes out in full, and the next pass read it back and divided.
Compiled, the [Adafactor](adafactor.md) chapter now multiplies two stored factors instead,

$$
\frac{1}{\sqrt{\hat V_{ij}}} = \sqrt{\frac{\bar R}{R_i}} \cdot \frac{1}{\sqrt{C_j}} ,
$$

$n + m$ numbers formed once, so that a coordinate costs two products and no square root.
Written as a broadcast product alone, this went the other way: inductor folded the
factors' updates (square roots and divisions) into the loop over the coordinates and
computed them again for every vector of 8, and the step went from about 70 to 120-135 ms.
The chapter makes inductor store them with a view of each factor onto itself
(`as_strided`), which inductor can only take of a buffer it has written, and a test reads
the generated loops and fails if a square root or a division is back in them.

## What a compiled step must not fuse

Inductor pairs loops for fusion by the buffers they use, and may make of two loops over the
same number of coordinates one loop that does both. Over two parameters of one shape, that
is one loop over both tensors, which reads and writes both tensors' arrays in every
iteration. Schedule-Free AdamW keeps its counters in the group, and compiled, its step
size and its average's weight are computed in the graph from them and used by every
parameter's update; with $x$ implicit, the loops of same-shaped parameters were fused in
pairs: 14 streams at once (each tensor reads 4 arrays and writes 3) for the same bytes. I
measured how much more slowly one core serves them, not why. Over 74 tensors (37 matrices
of $625 \times 512$ and their biases), in one process that alternated the two for seven
rounds, the compiled step took 16.1 ms fused and 8.4 ms with a loop per tensor (medians).
The chapter's update now forms the numbers it uses itself, for each tensor (`_once`,
$e^{\ln x}$, which inductor stores rather than inlines, as with `_power`), and the loops are
separate again. Which sharing leads to fusion is inductor's heuristic: a tensor `lr` read
straight into every loop (SGD's, RMSprop's) did not fuse them in the tests. So
`tests/test_compile.py` checks the outcome: it compiles every chapter over two parameters
of one shape and one of another, with `lr` a number and with `lr` a tensor, and fails
unless the first shape gets twice the loops of the second.

The tensor `lr` found another case. Lion, AdaBelief and Sophia-G read a tensor `lr` as a
number (`.item()`) in eager mode, as their reference packages do; compiled, that broke the
graph, and in the graph after the break the loops were fused in pairs. Compiled, they now
keep `lr` a tensor: no break and no fusion. Another test compiles every chapter with a
tensor `lr` and fails on a graph break or on a step that differs from eager's.

## What a compiled sum costs

Adafactor's passes end in sums (the norms of $\theta$ and of $U$), and so do LAMB's. For a
whole large tensor, inductor (torch 2.13, CPU) generates a cascade of partial sums for
accuracy, kept in memory and updated at every vector; a sum by rows keeps each row's
partial sum in a register and adds one number per row at the end. Over 75 matrices of
$625 \times 512$ on one core, in one measurement, the compiled norms of the whole matrices
took 16.2 and 16.5 ms in two rounds, the compiled norms of their rows' norms 12.0 and
12.4 ms, and ATen's eager norm 10.6 and 11.8 ms. Adafactor's compiled step takes its norms
by rows, and so do the bench's same-traffic loops for every pass that ends in a sum.
LAMB's compiled step sums by rows too (for rows of 16 floats or more): in one process
that alternated the two forms for seven rounds (74 tensors, one core), it took 18.3 ms
against 20.1 with whole-tensor norms (medians), and 19.0 against 22.6 in an earlier
comparison with norms of rows' norms. (A trial in an earlier session saw 5 %, within that
machine's noise, and LAMB had kept the whole-tensor norms.)

## What a compiled step writes last

`torch.compile` does not hand inductor the step as it is written. AOTAutograd first makes
the graph functional: each in-place update of a parameter or of a state tensor becomes a
new value, and the graph ends with a `copy_` of every new value into its tensor. Inductor
computes a value where it is first needed, so the last pass of each tensor, the loop that
forms its new value and writes it back, runs at the very end of the step, after the
earlier passes of all the tensors. (Inductor's own pass that reorders nodes for locality
stops at the first of those copies, on purpose.) A one-pass update loses nothing by it:
its one pass is the write-back. An update that must sum over a tensor before it can write
it does. When LAMB's second pass or Adafactor's third reads a tensor's arrays again, the
first passes of 150 tensors have gone through the cache since, and the arrays come from
memory a second time. Right after the tensor's own first passes they would still be in
the cache: a $625 \times 512$ tensor's arrays are 1.3 MB each, and the cache that this
machine's cores share holds 32 MB (as `lscpu` reports it).

`EarlyWriteBack` (below) is an inductor pass that moves each tensor's write-backs up to
where their values are known, so that all the passes of a tensor run one after another.
It changes the order of the loops, not what they compute: the tests compile every chapter
with it and compare the steps with eager's, and LAMB's, Adafactor's and Adam's with a
plain compile's, bit for bit. It is an option of the compile, not of the optimizer (a
step cannot choose inductor's passes from inside the graph being compiled), so
`compile_step(opt)` is
`torch.compile(opt.step, options={"post_grad_custom_post_pass": EarlyWriteBack()})`:

```python
from labml_optim.fast import compile_step

step = compile_step(opt)
```

A plain and an early compile alternated in one process for nine rounds
(`scripts/ab_write_back.py`: the bench's 150 tensors, one core, the plain step first in
odd rounds and the early one first in even rounds; `labml_optim/fast/ab-write-back.json`)
show what the pass is worth: the early step took 0.76, 0.58 and 0.97 times the plain
step's time for LAMB, Adafactor and Adam (the medians of the rounds' ratios; LAMB's rounds
ranged from 0.60 to 0.82), and the parameters came out bitwise the same. The bench's run
below timed its rows in turn too, five rounds of each beside every other implementation of
the algorithm, but in a fixed order, the plain compile always before the early one (just
before it for LAMB and Adafactor; the bench now changes the order from round to round). In
its "early" column (the four algorithms it ran with `--compile-early`), the pass took
Adafactor's compiled step from 37.9 to 21.8 ms, 2.74 to 1.58 times the floor, but LAMB's
only from 37.5 to 36.7 ms (0.98 of its time, above every round of the alternated run),
1.61 to 1.57 times the floor and 0.95 times its same-traffic loop, which reads every pass
from memory; in the repeat (below; timed in the same order, with an earlier version of the
pass) it took LAMB's from 41.5 to 31.5 ms (0.76 of its time), 1.53 to 1.16 times the
floor. Adam, a one-pass update, gained nothing in the alternated run (0.97), and in the
bench its rows were 1.20 and 1.27 times the floor, plain and early; RAdam, also one pass
and not in the alternated run, took 1.52 and 1.30 (and its early row was the faster in the
repeat too), a difference within what runs move. The floors still count every pass from
memory. With a tensor's passes back to back, the later ones read the cache, and each array
need come from memory only once: LAMB then reads $g, m, v, \theta$ and writes
$m, v, \theta$, Adam's 28 bytes a parameter, and Adafactor reads $g, \theta$ and writes
$\theta$, 12. An early row below 1 would not be an error.

## What a compiled step pays per tensor

The generated loops are not all that a compiled step runs. First dynamo's guards check
that the optimizer, its groups and its tensors are still those the graph was made for.
Then the code dynamo generated gathers every parameter, gradient and state tensor, to pass
them to the graph. Last, inductor's wrapper checks each input's size and stride
(its `size_asserts`) before the first loop. None of this depends on a tensor's size, so
it shows best over tensors too small for the loops to matter. `scripts/per_tensor_cost.py`
steps 150 tensors of 16 floats, one core, the three steps alternated for nine rounds
(medians; `labml_optim/fast/per-tensor-cost.json`):

| 150 tensors of 16 floats | eager | compiled | compiled, no size asserts |
|---|---:|---:|---:|
| SGD momentum | 0.97 ms | 0.53 ms | 0.32 ms |
| Adam | 3.39 ms | 1.25 ms | 0.78 ms |

* **Per tensor, a compiled Adam step costs 8 µs**, against 23 µs for the eager step; with
  momentum, SGD's costs 4 µs. Over the bench's 150 large tensors that is 1.3 ms, 9 % of
  Adam's floor in the large run below. These timings move from run to run: earlier
  measurements of Adam's compiled step over the same tensors gave 1.1 and 1.2 ms (below).
* **More than a third of Adam's cost per tensor is the size checks.** `cProfile` counts
  five a tensor, one for each input (parameter, gradient, two moments, step count), and
  three for SGD's; with `size_asserts` off the steps took 0.48 and 0.21 ms less, 0.6 and
  0.5 µs a check. We leave the option as inductor sets it: the checks are its guard
  against a graph running on arrays it was not made for.
* **One part grows as the square of the tensors.** The state is a dict keyed by the
  parameters, which the generated code cannot name, so dynamo reaches a state tensor
  through its parameter's position among the keys: `dict_keys_getitem(opt.state, i)`,
  which passes the first $i + 1$ keys to reach it. Adam's compiled step calls it twice for
  the tensor at each position (SGD's once), so a step passes
  $2 \sum_{i=0}^{T-1} (i + 1) = T(T + 1)$ keys. Timed alone, two walks a tensor as
  counted at 150 tensors, they took 0.15 ms over 150 tensors and 15.5 ms over 2,000
  (SGD's one a tensor, 8.5 ms). Over the bench's 2,000 small tensors (below) the walks
  alone would be over a fifth of Adam's compiled step.

What a step adds to its bytes shows best against the same bytes moved in the same
process. `scripts/ab_copies.py` builds the bench's large parameters (150 tensors, 24 M
numbers) three times, gives each copy its own optimizer and compiled step (the same
generated code), and alternates the three with the same-traffic loop, flat as the bench
runs it and split into the parameters' shapes, for nine rounds on one core, each round
starting one place further along (`labml_optim/fast/ab-copies.json`; each cell is the
median of the rounds' ratios to the flat loop, and "highest / lowest" compares the three
copies' cells):

| algorithm | copy 1 | copy 2 | copy 3 | highest / lowest | loop per tensor |
|---|---:|---:|---:|---:|---:|
| SGD momentum | 0.95 | 0.95 | 1.00 | 1.05 | 0.95 |
| Adagrad | 1.23 | 1.11 | 1.22 | 1.11 | 1.04 |
| NAdam | 1.21 | 1.22 | 1.18 | 1.04 | 1.17 |
| Adamax | 1.07 | 1.11 | 1.08 | 1.04 | 1.05 |
| AdaBelief | 1.18 | 1.13 | 1.15 | 1.04 | 1.10 |
| Sophia-G | 1.12 | 1.09 | 1.10 | 1.03 | 1.11 |
| RAdam | 1.20 | 1.23 | 1.23 | 1.02 | 1.12 |
| Adam | 1.18 | 1.19 | 1.12 | 1.06 | 1.12 |

* **Against the same bytes split as the parameters are, a compiled step costs little
  more.** Every copy took 0.98 to 1.17 times the loop per tensor's time (the medians of
  the rounds' ratios), all but Adagrad's within 1.07. That loop is compiled too and pays
  its own calls and checks for its arrays, so this measures what a step's arithmetic and
  its optimizer bookkeeping add beyond such a loop, not the whole of its cost per tensor.
* **The split, the arrays and the run move the rest.** The loop per tensor took 0.95 to
  1.17 times the flat loop's time here, and 0.93 to 1.08 in an earlier run of the same
  comparison with the rounds in a fixed order (`ab-copies-earlier.json`); the compiled
  steps 0.95 to 1.23 and 0.92 to 1.27 times the flat loop, Adagrad's 1.11 to 1.23 here
  and 0.92 to 0.97 there. The three copies of one step differed by up to 11 % (Adagrad).
  In the bench's run below, six of these eight algorithms are above 1.2 times the
  floor as the table prints it (all but SGD momentum and Adam), at 1.09 to 1.39 times
  their flat loop there: within the 0.92 to 1.27 times the flat loop that the two runs
  above measured, but for AdaBelief (1.28) and RAdam (1.39), with NAdam (1.27) at its
  edge.

## Where the chapters stand

The tables are the committed runs of the bench, `labml_optim/fast/cpu-large.json` and
`cpu-small.json`; the figure after the code draws every row of them. They ran with
`--threads 1` on a two-core machine that other work shared part of the time. With one
thread, a busy neighbour slows every row of a round about alike, and the floor, measured
by the bandwidth probe in the same rounds, moves with them; with two threads an OpenMP
kernel stalls at its barrier whenever the scheduler takes one of its cores away, and the
rows stop being comparable. Each cell is a step's median time over the floor of its
algorithm: 1 is the floor; "ours" is the chapter's class and "compiled" the same class
under `torch.compile(opt.step)`; "early" the same compiled with `compile_step`, each
tensor's write-backs moved early (above), where the bench ran it; "fused" is torch's
fused path; "best other" is the fastest of torch's for-loop, foreach and fused paths
(eager and, where the bench compiled it, torch's for-loop compiled) and the peers'
packages, named.

The probe reads two arrays and writes one, and one core does not draw the same bandwidth
from every mix of streams. So beside it the bench times, for each algorithm, a loop that
moves exactly the floor's bytes and computes nothing else: it reads and writes the arrays
the table above counts, pass by pass (each pass that another waits on ends in a sum, as
LAMB's norms do), over flat arrays of the run's size, compiled into one generated loop a
pass. Its column, *same traffic*, is the time the memory system needs for that traffic,
over the floor; what a compiled step takes beyond it is the step's own arithmetic and
per-tensor calls.

**Large tensors**, 24 M parameters in 150 tensors (75 matrices and their 75 biases), every
algorithm but Muon in one run, with the compile cost of each (`--skip Muon --compile-cost
--compile-torch Adam RAdam --compile-early Adam RAdam LAMB Adafactor`); Muon's rows come
from a run of their own (below):

| algorithm | floor, ms | same traffic | ours | compiled | early | fused | best other | compile s |
|---|---:|---:|---:|---:|---:|---:|---|---:|
| SGD momentum | 12.9 | 0.99 | 1.41 | 1.20 | - | 1.02 | torch fused 1.02 | 24 / 2 |
| Adagrad | 13.9 | 1.03 | 2.27 | 1.21 | - | 1.05 | torch fused 1.05 | 33 / 5 |
| RMSprop | 12.0 | 0.90 | 2.67 | 1.10 | - | - | torch for-loop 2.65 | 29 / 5 |
| Adam | 13.7 | 1.04 | 2.82 | 1.20 | 1.27 | 1.13 | torch fused 1.13 | 63 / 9 |
| AdamW | 14.8 | 0.94 | 2.85 | 1.22 | - | 1.02 | torch fused 1.02 | 61 / 8 |
| RAdam | 15.8 | 1.09 | 3.41 | 1.52 | 1.30 | - | labml_nn 2.85 | 106 / 15 |
| AMSGrad | 21.1 | 0.93 | 2.35 | 1.17 | - | 1.03 | torch fused 1.03 | 67 / 10 |
| LAMB | 23.3 | 1.66 | 3.11 | 1.61 | 1.57 | - | torch-optimizer 3.07 | 135 / 20 |
| NAdam | 16.2 | 0.98 | 3.36 | 1.25 | - | - | torch for-loop 3.45 | 126 / 13 |
| Adamax | 15.9 | 1.13 | 2.08 | 1.33 | - | - | torch for-loop 2.24 | 50 / 6 |
| AdaBelief | 16.0 | 1.09 | 3.43 | 1.40 | - | - | adabelief-pytorch 3.64 | 83 / 8 |
| Lion | 12.7 | 1.16 | 2.53 | 1.26 | - | - | lion-pytorch 3.12 | 26 / 3 |
| Sophia-G | 12.8 | 1.31 | 3.94 | 1.43 | - | - | labml_nn 2.78 | 44 / 6 |
| SF AdamW | 20.4 | 0.88 | 2.91 | 1.01 | - | - | sf default loop 2.47 | 99 / 8 |
| Adafactor | 13.8 | 1.28 | 6.82 | 2.74 | 1.58 | - | torch for-loop 6.99 | 120 / 7 |
| Muon | 26.6 | - | 5282.44 | 5346.64 | - | - | torch for-loop 5310.20 | 65 / 9 |

What it shows:

* **Memory is fast here, and one core's arithmetic shows.** The probe measured 33.0 to
  49.1 GB/s, a median of 41.5 over the run, more than twice what it measured for the
  Muon rows, on an earlier machine (18.1 GB/s, below). At that rate the compiled chapters
  are within 1.2 times the floor (1.20 or less, as the table prints them) for five of
  these algorithms (SGD momentum, RMSprop, Adam, AMSGrad and SF AdamW),
  and within 1.2 times of torch's fused kernel wherever torch has one: the compiled
  chapter took 1.07 to 1.19 times its time.
* **Schedule-Free reaches the floor with $x$ implicit.** The bench times
  `implicit_x=True`, 28 bytes a coordinate, with each tensor's numbers its own (above): its
  compiled step took 20.6 ms, 1.01 times the floor (0.96 in the repeat, below, before a
  change to how it computes its numbers per tensor).
* **What is left is arithmetic and calls per tensor.** The same-traffic loop ran at 0.88
  to 1.31 times the floor for the one-pass updates. Against that loop the compiled
  one-pass chapters took 1.08 to 1.39 times as long (RAdam the most, below), and torch's
  fused kernels 1.02 to 1.11 times; for all five algorithms that have one, the fused
  kernel was nearer its loop than the compiled chapter. A
  compiled loop does the update's square roots and divisions in vector registers as a
  fused kernel does, but the Python code inductor generates around its loops also pays,
  for every tensor, a call, checks of every argument's size and stride, and a small
  buffer for each number it stores (the bias corrections), where ATen's fused kernels
  take the whole list of tensors in one call. Over 150 tensors of 16 floats, where the
  bytes are nothing, Adam's compiled step took 1.1 and 1.2 ms in two earlier
  measurements (0.8 ms with inductor's `size_asserts` off) and 1.3 ms in the committed
  one (above), whose nine rounds ranged from 1.09 to 1.83 ms; SGD with momentum's took
  0.53 ms. The compiled one-pass rows here exceed their same-traffic loops by 1.22 ms
  (Lion) to 6.74 ms (RAdam): the cost per tensor is part of each gap, from about half to
  four fifths of Adam's (2.27 ms) over those nine rounds, and 16 to 27 % of RAdam's.
  Alternated with the same bytes split by tensor, every compiled one-pass step that was
  measured so took 0.98 to 1.17 times that loop's time (above). The 0.8 ms that
  `_divide` saved in its alternated comparison (above) is below what two runs of this
  bench resolve (next).
* **The ratios move from run to run by more than the margins they are judged by.** The
  previous run is committed beside this one (`labml_optim/fast/cpu-large-repeat.json`: the
  same options, with the rows of Adam, RAdam, LAMB and Adafactor from a later run that
  added `--compile-early`). For the fourteen algorithms whose compiled step did not change
  between the two (all but Schedule-Free), the compiled step's ratio to the floor moved by
  up to 0.30, and either side of a ratio can move it. RAdam's step took 20.2 and 24.0 ms
  while the probe measured 40.5 and 42.5 GB/s: its ratio went from 1.21 to 1.52 with the
  step's own time, which moved by 19 % (its same-traffic loop's by 13 %, so that over that
  loop the step went only from 1.33 to 1.39). Adam's step took 17.9 and 16.5 ms, but the
  probe measured 36.5 and 49.1 GB/s: its ratio went from 0.97 to 1.20 with the probe,
  which moved by 35 %. A row at 1.25 is not reliably above 1.2, nor one at 1.15 below it.
* **RAdam is the one-pass row furthest from its loop.** The same code measured 1.52 times
  the floor here and 1.21 in the repeat. Its same-traffic loop, the same bytes as Adam's,
  measured 1.09 times the floor here (0.92 in the repeat), and the compiled step took 1.39
  times that loop here and 1.33 in the repeat, the most of the one-pass rows in both runs.
  Its generated loop has Adam's square root and division, and two selections (the
  rectified and the unrectified step) and the masks they need. In one process that
  alternated the two compiled steps for eleven rounds (12 M parameters in 74 tensors, one
  core, on the earlier machine and before `_divide`), RAdam's took 1.10 times Adam's (the
  median of the rounds' ratios). Two rewrites that moved the selections out of the loop,
  into numbers per tensor, saved 2 and 4 % in the same kind of comparison; the chapter
  keeps the form that reads like the algorithm.
* **Not there yet, by more than that:**
  * LAMB's passes end in sums: its same-traffic loop alone was 1.66 times the floor
    here (1.20 in the repeat), and the compiled step 0.97 times that loop. The stored
    $u$ and its page faults are gone (above). With the write-backs early its second pass
    can read the cache: the row is 1.57 here and 1.16 in the repeat (with an earlier
    version of the pass), and alternated with a plain compile in one process the early
    step took 0.76 times its time (above).
  * Adafactor's same-traffic loop is 1.28 times the floor here, within the one-pass
    loops' 0.88 to 1.31, and 1.46 in the repeat, above every one-pass loop there (at
    most 1.14): two of its three passes only read and sum, and in that run a sum, even
    by rows, drew less bandwidth from one core than a copy. The compiled step is 2.14
    times that loop. Its first pass reads $G$ twice, since the column sums run down the
    columns in a loop of their own, and $\theta$ once: 12 bytes where the floor counts 8.
    The stored factors and the norms by rows (above) took the compiled step from 17.0 to
    12.3 ms, in one process that alternated the old and the new step for nine rounds
    (medians; 4.8 M parameters in 30 tensors, one core). With the write-backs early,
    the row is 1.58 (above).
* **Muon is bound by arithmetic, not by bytes.** Its iteration costs over 15,000 operations
  per parameter of a $512 \times 512$ matrix (above); over the large run's 75 matrices of
  $625 \times 512$ that is 346 GFLOP a step, which one core did in bfloat16 at about
  2.5 GFLOP/s: 141 s a step, alike for ours eager, ours compiled and torch's, thousands of
  times the byte floor, which does not describe it. Its rows come from a run of their own
  on an earlier machine (one step a round and three rounds, before the same-traffic loop
  existed; the probe measured 18.1 GB/s): at this cost a step, the bench's five rounds of
  five steps of its three rows would take about three hours.
* **Compiling torch's own for-loop does not get there.** Its rows ("torch for-loop
  compiled"; Adam 2.49, RAdam 2.88 times the floor) show the inlined powers
  described above.
* **RAdam and LAMB have no fused kernel anywhere**, and compiled, the chapters are ahead
  of every other implementation: 1.88 times faster than the fastest other RAdam
  (labml_nn's) and 1.91 times faster than the fastest other LAMB (torch-optimizer's);
  compiled with the write-backs early, 2.20 and 1.95 times.
* **The eager chapters are the reference, not the fast path.** A for-loop launches several
  kernels per tensor and writes intermediates, so eager steps run at 1.4 to 3.9 times the
  floor, like torch's own for-loop, and more for Adafactor.
* **The floor can nearly be met.** torch's fused kernels ran at 1.02 to 1.13 of it (0.84
  to 1.25 in the repeat, whose probe measured less), the compiled Schedule-Free at 1.01,
  and some same-traffic loops below it: the probe, an
  `add_` from ATen over two reads and a write, does not draw from the core the bandwidth
  that some updates' mixes of streams do.
* **Compiling costs up to two and a quarter minutes, once.** With an empty inductor cache
  of its own for each algorithm, the first compiled step over 150 tensors took 24 to 135 s
  more than a step, and 2 to 20 s with the cache warm (after `torch._dynamo.reset()`): the last
  column, cold / cached seconds, the first call's time less one step.

**Many small tensors**, 2,000 tensors (1,000 matrices of $16 \times 512$ and their biases,
8 M parameters), eager, and Adam compiled too:

| algorithm | floor, ms | same traffic | ours | compiled | early | fused | best other | compile s |
|---|---:|---:|---:|---:|---:|---:|---|---:|
| SGD momentum | 5.2 | - | 5.38 | - | - | 2.86 | torch fused 2.86 | - |
| Adagrad | 4.5 | - | 13.23 | - | - | 5.00 | torch fused 5.00 | - |
| RMSprop | 4.1 | - | 13.35 | - | - | - | torch foreach 10.41 | - |
| Adam | 6.8 | 1.03 | 11.35 | 10.36 | - | 4.03 | torch fused 4.03 | 1203 / 166 |
| AdamW | 6.5 | - | 12.75 | - | - | 4.23 | torch fused 4.23 | - |
| RAdam | 6.6 | - | 19.06 | - | - | - | labml_nn 10.57 | - |
| AMSGrad | 8.0 | - | 9.23 | - | - | 3.06 | torch fused 3.06 | - |
| LAMB | 9.2 | - | 16.74 | - | - | - | torch-optimizer 12.46 | - |
| NAdam | 5.6 | - | 15.46 | - | - | - | torch for-loop 15.85 | - |
| Adamax | 6.1 | - | 9.03 | - | - | - | torch for-loop 10.29 | - |
| AdaBelief | 5.7 | - | 15.02 | - | - | - | adabelief-pytorch 13.85 | - |
| Lion | 3.9 | - | 10.92 | - | - | - | lion-pytorch foreach 8.79 | - |
| Sophia-G | 5.3 | - | 14.95 | - | - | - | labml_nn 10.02 | - |
| SF AdamW | 6.1 | - | 11.34 | - | - | - | sf default loop 10.16 | - |
| Adafactor | 5.7 | - | 36.32 | - | - | - | torch foreach 33.45 | - |
| Muon | 4.3 | - | 106.55 | - | - | - | torch for-loop 102.93 | - |

Here the fixed cost per tensor dominates: a for-loop over 2,000 tensors launches tens of
thousands of small kernels a step, and the eager chapters, like torch's for-loop, run at
5.4 to 36.3 times the floor (Muon's iteration aside), while torch's fused kernels, which
take every tensor in one call, stay within 2.9 to 5.0 times it. This run ran on the same
machine as the large tensors' (the median of its probe over its algorithms, Adam's later
run among them, 37.0 GB/s, is 2 % below the repeat's, 37.9, and 11 % below this run's,
41.5; Adam's later run, below, measured 34.0).
The run was made with `--no-compile`: a step over 2,000 tensors compiles into one graph
holding every tensor's update, and the time to compile grows faster than the tensors. On
this machine, in one process, Adam's compiled step over 50, 100 and 200 tensors of 4,096
floats took 15, 29 and 65 s to compile; torch's developers note the same of per-tensor
loops, which is why torch's own compiled optimizers go through its foreach path
([pytorch/pytorch#110506](https://github.com/pytorch/pytorch/issues/110506)). Adam's rows
come from a later run of their own, which compiled (`--only Adam --compile-cost`; its rows
took the place of the first run's, as `--append` places them). With an empty cache its
first compiled step took 1,203 s longer than a step, twenty minutes, and with a warm one
166 s. The compiled step then took 69.9 ms, 0.91 times the eager chapter's 76.6 ms and 2.6
times torch's fused kernel's 27.2 ms, while the same bytes in one loop took 1.03 times
the floor. Over 2,000 tensors a compiled step is nearly all cost per tensor, 35 µs a
tensor, and part of that cost grows with the square of the tensors (above). On a CPU,
with thousands of small tensors, take torch's fused path where torch has one: compiling
the chapter does not pay for itself there.

**Which step to take, on one core of this CPU.** The runs above say:

* **Where torch has a fused kernel** (SGD with momentum, Adagrad, Adam, AdamW and
  AMSGrad), take it: it ran at 1.02 to 1.13 times the floor over the large tensors (0.84
  to 1.25 in the repeat) and 2.9 to 5.0 times over the small ones, where the eager
  chapters of those five ran at 5.4 to 13.2, and it needs no compile. The chapters' state
  dicts load into torch's classes and back (the parity suite), so the switch costs
  nothing. Compiled, the chapter took 1.07 to 1.19 times the fused kernel's time over the
  large tensors (0.94 to 1.13 in the repeat), after 24 to 67 s of compiling.
* **Over large tensors, where torch has none, compile the chapter.** The compiled one-pass
  chapters without a fused kernel in torch ran at 1.01 (SF AdamW) to 1.52 (RAdam) times
  the floor, and compiled RAdam and LAMB 1.88 and 1.91 times faster than the fastest other
  implementation; these chapters' first steps compiled for 26 to 135 s (3 to 20 s with a
  warm cache). Compile LAMB and Adafactor with `compile_step`: alternated with a plain
  compile, the early step took 0.76 and 0.58 of the plain step's time (LAMB's 0.98 in the
  bench's run, 0.76 in the repeat). On a GPU the advice differs: for RMSprop and RAdam, which
  torch has without a fused kernel and which were compiled there, torch's foreach path
  beat the compiled chapter (below).
* **Muon is bound by arithmetic.** Ours eager, ours compiled and torch's took alike about
  141 s a step over the large tensors (on the earlier machine); compiling buys nothing.
* **Over thousands of small tensors the calls per tensor decide.** Where torch has no
  fused kernel, take the fastest row of the small table (its "best other" column, or the
  chapter where that is slower): the eager chapter was the fastest only for NAdam and
  Adamax, in one run. Compiling does not pay there soon: Adam's step took twenty minutes
  to compile and then 0.91 of the eager step's time, which repays the compile only after
  about 180,000 steps (25,000 with a warm cache), and torch's fused Adam took 0.39 of the
  compiled step's time.

## On a GPU

`scripts/bench_optim.py --device cuda` runs the same rows on a GPU; `scripts/bench_cuda.sh`
is the prepared script that did it, on one NVIDIA H200 lent for fifteen minutes, with
torch 2.11.0 (CUDA 13.0), the version that machine had. The committed runs are
`labml_optim/fast/cuda-large.json` and `cuda-small.json`. The probe measured 4.2 TB/s, so
the floor of an Adam step over the 24 M parameters is

$$
\frac{28 \text{ B} \times 24.0 \times 10^6}{4.17 \times 10^{12} \text{ B/s}} = 0.16 \text{ ms} ,
$$

85 times less than the CPU core's in its run above. The per-tensor cost does not shrink
with it: each kernel is still launched by Python on the host. Same columns as above; the
same-traffic column is empty, since that loop joined the bench after this run, and
Schedule-Free's "ours" is the chapter's default layout (44 bytes), which the bench timed
before `implicit_x` existed.

**Large tensors**, 24 M parameters in 150 tensors:

| algorithm | floor, ms | same traffic | ours | compiled | early | fused | best other | compile s |
|---|---:|---:|---:|---:|---:|---:|---|---:|
| SGD momentum | 0.115 | - | 27.62 | 15.09 | - | 2.83 | torch fused 2.83 | 15 / 3 |
| Adagrad | 0.115 | - | 46.90 | 19.12 | - | - | torch foreach 11.47 | 72 / 6 |
| RMSprop | 0.116 | - | 61.62 | 19.73 | - | - | torch foreach 12.57 | 20 / 4 |
| Adam | 0.161 | - | 54.85 | 17.87 | - | 2.99 | torch fused 2.99 | 46 / 8 |
| AdamW | 0.162 | - | 60.84 | 17.91 | - | 3.01 | torch fused 3.01 | 48 / 6 |
| RAdam | 0.161 | - | 88.81 | 19.22 | - | - | torch foreach 10.88 | 73 / 12 |
| AMSGrad | 0.207 | - | 45.19 | 14.94 | - | 2.44 | torch fused 2.44 | 50 / 6 |
| LAMB | 0.230 | - | 100.82 | - | - | - | pytorch-optimizer 13.29 | - |
| NAdam | 0.162 | - | 65.38 | - | - | - | torch foreach 12.67 | - |
| Adamax | 0.161 | - | 46.58 | - | - | - | torch foreach 7.06 | - |
| AdaBelief | 0.161 | - | 77.86 | - | - | - | adabelief-pytorch 73.79 | - |
| Lion | 0.116 | - | 54.97 | - | - | - | lion-pytorch foreach 14.90 | - |
| Sophia-G | 0.138 | - | 89.10 | - | - | - | labml_nn 58.08 | - |
| SF AdamW | 0.162 | - | 83.85 | - | - | - | sf default foreach 5.39 | - |
| Adafactor | 0.138 | - | 177.85 | - | - | - | torch foreach 96.62 | - |
| Muon | 0.116 | - | 244.44 | - | - | - | torch for-loop 240.42 | - |

**Many small tensors**, 2,000 tensors, 8 M parameters, eager only:

| algorithm | floor, ms | same traffic | ours | compiled | early | fused | best other | compile s |
|---|---:|---:|---:|---:|---:|---:|---|---:|
| SGD momentum | 0.043 | - | 983.78 | - | - | 98.70 | torch fused 98.70 | - |
| Adagrad | 0.042 | - | 1715.29 | - | - | - | torch foreach 421.77 | - |
| RMSprop | 0.043 | - | 2035.85 | - | - | - | torch foreach 295.22 | - |
| Adam | 0.058 | - | 2103.54 | - | - | 114.27 | torch fused 114.27 | - |
| AdamW | 0.059 | - | 2359.32 | - | - | 117.75 | torch fused 117.75 | - |
| RAdam | 0.058 | - | 3364.36 | - | - | - | torch foreach 387.40 | - |
| AMSGrad | 0.075 | - | 1785.34 | - | - | 96.51 | torch fused 96.51 | - |
| LAMB | 0.083 | - | 3851.18 | - | - | - | pytorch-optimizer 531.41 | - |
| NAdam | 0.059 | - | 2520.67 | - | - | - | torch foreach 575.95 | - |
| Adamax | 0.059 | - | 1742.70 | - | - | - | torch foreach 288.21 | - |
| AdaBelief | 0.058 | - | 3035.52 | - | - | - | adabelief-pytorch 2705.54 | - |
| Lion | 0.046 | - | 1924.19 | - | - | - | lion-pytorch foreach 490.75 | - |
| Sophia-G | 0.049 | - | 3353.38 | - | - | - | labml_nn 2201.64 | - |
| SF AdamW | 0.065 | - | 2728.14 | - | - | - | sf default foreach 191.60 | - |
| Adafactor | 0.050 | - | 6164.37 | - | - | - | torch foreach 3572.14 | - |
| Muon | 0.041 | - | 8392.81 | - | - | - | torch for-loop 8350.02 | - |

What it shows:

* **Every step here is launch-bound, not memory-bound.** Divide an eager chapter's step by
  its tensors and the time per tensor is the same in both runs (Adam 59 µs a tensor over
  150 tensors of 160 k floats, 61 µs over 2,000 tensors of 4 k floats), though the tensors
  differ forty-fold in size: it is the host's cost of issuing a tensor's kernels, and
  none of it is the bytes.
* **A copied chapter is exactly as fast as torch's for-loop** (0.92 to 1.07 of it, every
  algorithm with a twin, both runs), because it issues the same kernels, and as slow: torch's
  foreach path, which issues each operation once for all tensors, is 4 to 9 times faster
  (Adafactor, whose work per tensor is larger, 1.7 to 1.8), and the fused kernels, one launch for
  the whole update, reach 2.4 to 3.0 times the floor on the large tensors.
* **Compiling helps by a factor of 1.8 to 4.6 and stops well short.** Compiled, the
  chapters that this run reached (SGD with momentum, Adagrad, RMSprop, Adam, AdamW, RAdam
  and AMSGrad) run at 15 to 20 times
  the floor: 1.6 to 2.2 times torch's foreach path (SGD's 4.2) and 5.3 to 6.1 times its
  fused kernel. Adam's compiled step, 2.9 ms, is still about 19 µs a tensor, a cost per
  tensor again (we did not count the kernels inductor generated on that machine).
* **So on a GPU, take torch's fused or foreach path where torch has the algorithm**; the
  chapters' state dicts load into torch's classes and back (the parity suite), so the switch
  costs nothing. Where torch has none, compile the chapter. Capturing the compiled step in
  a CUDA graph (`mode="reduce-overhead"`) or letting inductor fuse the tensors' kernels
  horizontally could remove the per-tensor launches; neither was measured, so neither is
  claimed.
* **Compiling costs 15 to 73 seconds cold and 3 to 12 cached**, on the 16-core host of
  that machine.
* **Not measured:** the compiled rows from LAMB on (the lent time ran out while LAMB
  compiled), compiled rows for the small tensors, and torch's compiled for-loop.

## Sharding

An elementwise update is the same on a shard as on the whole tensor, which is why the
elementwise chapters run unchanged under FSDP2, whose parameters are `DTensor` shards (the
scale tests train a model with each chapter under DDP, `ZeroRedundancyOptimizer` and FSDP2
on two processes and compare with one process). Norms are the exception: LAMB's trust ratio
needs $\lVert \theta \rVert$ of the whole tensor. On a `DTensor`, `vector_norm` reduces
across the shards and gives that norm; computing it from the local shard alone (as a
shard-unaware implementation that calls `to_local()` would) gives a norm smaller by about
$\sqrt{\text{shards}}$ and a wrong step. Adafactor's column means and RMS values are such
reductions too, and Muon's iteration needs the whole matrix, which it gathers; each
chapter's introduction says in one line how it stands under sharding. Compiled over the
shards, `torch.compile(opt.step)` traces these reductions and Muon's gather in one graph:
the scale tests compile every chapter's step under FSDP2 and compare it with the eager
FSDP2 run (within 1e-6, no graph break). Their model's shards are even. With uneven shards
(34 and 33 rows), compiling LAMB's norm failed on one rank when inductor's on-disk caches
held code another rank had compiled for its own shard (torch 2.13, a size check on
entry); with those caches off on each rank, the compiled norm equals the unsharded one,
which the tests check.

## References

- PyTorch's optimizer implementations and their `foreach` and `fused` paths:
  [torch.optim](https://docs.pytorch.org/docs/stable/optim.html)
- Diederik P. Kingma and Jimmy Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015.
  [arXiv:1412.6980](https://arxiv.org/abs/1412.6980)
- Ilya Loshchilov and Frank Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019.
  [arXiv:1711.05101](https://arxiv.org/abs/1711.05101)
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch._inductor.custom_graph_pass import CustomGraphPass

# The table above, as numbers: arrays read and written per coordinate, in float32.
READS_WRITES: dict[str, tuple[int, int]] = {
    "SGD": (2, 1),
    "SGD momentum": (3, 2),
    "Adagrad": (3, 2),
    "RMSprop": (3, 2),
    "RMSprop centered": (4, 3),
    "Adam": (4, 3),
    "AdamW": (4, 3),
    "RAdam": (4, 3),
    "AMSGrad": (5, 4),
    # Pass 1 reads g, m, v, theta and writes m, v and u; pass 2 reads theta and u and
    # writes theta. (Recomputing u from m, v instead, as the compiled chapter does, moves
    # the same 40 bytes: see PASSES.)
    "LAMB": (6, 4),
    "NAdam": (4, 3),
    "Adamax": (4, 3),
    "AdaBelief": (4, 3),
    "Lion": (3, 2),
    # The step: reads g, m, h, theta; writes m, theta (h is written by `update_hessian`).
    "Sophia-G": (4, 2),
    # The two-buffer layout (theta holds y; z and v are state).
    "SF AdamW": (4, 3),
    # Three passes over a matrix: g, theta; g; g, theta (writing theta). The n + m
    # numbers of state are left out.
    "Adafactor": (5, 1),
    # The elementwise part only; the Newton–Schulz products are arithmetic, not traffic.
    "Muon": (3, 2),
}

BYTES_PER_PARAM: dict[str, int] = {name: 4 * (r + w) for name, (r, w) in READS_WRITES.items()}

# The same traffic pass by pass, one letter per array, where an update needs more than
# one pass; the bench's same-traffic loop runs exactly these. LAMB's are the compiled
# chapter's: the first pass updates m and v and sums the norms, the second recomputes u
# from m, v and theta (24 + 16 bytes). Adafactor's are the three of the table above.
PASSES: dict[str, list[tuple[str, str]]] = {
    "LAMB": [("gmvt", "mv"), ("mvt", "t")],
    "Adafactor": [("gt", ""), ("g", ""), ("gt", "t")],
}


def passes(name: str) -> list[tuple[str, str]]:
    """The arrays each pass over `name`'s coordinates reads and writes, one letter each."""
    if name in PASSES:
        return PASSES[name]
    reads, writes = READS_WRITES[name]
    return [("abcdefgh"[:reads], "abcdefgh"[:writes])]


def floor_seconds(n_params: int, bytes_per_param: int, bandwidth: float) -> float:
    r"""$T_{\text{floor}} = n B / W$: the time to move every byte once at bandwidth W (B/s)."""
    return n_params * bytes_per_param / bandwidth


def newton_schulz_flops(rows: int, cols: int, steps: int = 5) -> int:
    r"""$5(4A^2B + 2A^3)$: the operations of Muon's iteration, with $A \le B$ the short side."""
    a, b = min(rows, cols), max(rows, cols)
    return steps * (4 * a * a * b + 2 * a**3)


def results_dir() -> Path:
    """The committed bench results: `labml_optim/fast/<device>-<regime>.json`."""
    return Path(__file__).with_name("fast")


def load_results(device: str, regime: str) -> dict | None:
    path = results_dir() / f"{device}-{regime}.json"
    return json.loads(path.read_text()) if path.exists() else None


def results_table(result: dict) -> str:
    """The chapter's table of one committed run: per algorithm, the floor and each kind of
    implementation's step time as a multiple of it (lower is better, 1 is the floor)."""
    by_algorithm: dict[str, dict[str, dict]] = {}
    for row in result["rows"]:
        by_algorithm.setdefault(row["algorithm"], {})[row["implementation"]] = row
    lines = [
        "| algorithm | floor, ms | same traffic | ours | compiled | early | fused "
        "| best other | compile s |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]

    def times(row: dict | None) -> str:
        return f"{row['ms'] / row['floor_ms']:.2f}" if row and row["floor_ms"] else "-"

    order = list(READS_WRITES)
    for algorithm, rows in sorted(by_algorithm.items(), key=lambda kv: order.index(kv[0])):
        ours, compiled = rows.get("labml_optim"), rows.get("labml_optim compiled")
        others = [r for label, r in rows.items() if not label.startswith("labml_optim")]
        fastest = min(others, key=lambda r: r["ms"], default=None)
        cost = "-"
        if compiled and "compile_cold_s" in compiled:
            # The bench times the first call, which also runs one step: take that step off.
            cold, cached = (compiled[f"compile_{k}_s"] - compiled["ms"] / 1e3
                            for k in ("cold", "cached"))
            cost = f"{cold:.0f} / {cached:.0f}"
        first = next(iter(rows.values()))
        floor = first["floor_ms"]
        # The bench's loop that moves the floor's bytes and computes nothing (runs before
        # it had one show "-").
        twin = f"{first['twin_ms'] / floor:.2f}" if first.get("twin_ms") else "-"
        digits = 1 if floor >= 1 else 3  # a GPU's floors are fractions of a millisecond
        lines.append(
            f"| {algorithm} | {floor:.{digits}f} | {twin} | {times(ours)} | {times(compiled)} "
            f"| {times(rows.get('labml_optim compiled early'))} "
            f"| {times(rows.get('torch fused'))} "
            f"| {fastest['implementation'] + ' ' + times(fastest) if fastest else '-'} "
            f"| {cost} |"
        )
    return "\n".join(lines)


# ## Writing each tensor back as soon as it is known
#
# `torch.compile` hands inductor a functional graph: an update that mutates a parameter or
# a state tensor in place becomes a new value and, at the very end of the graph, a
# `copy_` of that value into the tensor (AOTAutograd's write-back of mutated inputs).
# Inductor computes a value where it is needed, so the last pass of every tensor's update
# runs at the end of the step, after the first passes of all the tensors. For a one-pass
# update that costs nothing. For an update that must sum over a tensor before it can
# write it (LAMB, Adafactor), the first pass has long left the cache when the last pass
# reads the same arrays again, and they come from memory twice. Moved to where its value
# is known, each tensor's write-back runs while its arrays are still in the cache.
#
# The pass below does that move on the graph inductor gets after its own passes
# (`post_grad_custom_post_pass`, which runs before inductor turns the graph back into
# in-place updates). It groups the write-backs that share an array (a parameter's, its
# gradient's and its state's, which one tensor's update reads together), and moves each
# group to just after the last node it needs, or after the last node that still reads
# one of the old tensors or a view of them, whichever is later. It never moves a
# write-back later. Numbers shared by every tensor (a 0-d step count of the group, a
# tensor `lr`) do not join groups: they would make one group of the whole step. A graph
# it was not made for (one that writes anything but a graph input, or reads an input
# after writing it) it leaves as it is.
def _is_write_back(node: torch.fx.Node) -> bool:
    """A `copy_` of a new value into a graph input: AOTAutograd's write-back."""
    return (node.op == "call_function" and node.target is torch.ops.aten.copy_.default
            and len(node.args) == 2 and all(isinstance(a, torch.fx.Node) for a in node.args)
            and node.args[0].op == "placeholder")


def _writes(node: torch.fx.Node) -> bool:
    """Whether `node` may write to memory: a mutable op, or a call that is neither an op
    nor Python's arithmetic and item access (`operator`, as on sizes)."""
    if node.op not in ("call_function", "call_method", "call_module"):
        return False
    schema = getattr(node.target, "_schema", None)
    if schema is None:
        return getattr(node.target, "__module__", None) != operator.getitem.__module__
    return schema.is_mutable


def _aliases(node: torch.fx.Node) -> set[torch.fx.Node]:
    """`node` and every node that may alias it: a view or an in-place op of it, an item of
    a list of views (`split`), or a call that is not an op."""
    found, todo = {node}, [node]
    while todo:
        for user in todo.pop().users:
            schema = getattr(user.target, "_schema", None)
            may_alias = schema is None or any(r.alias_info is not None for r in schema.returns)
            if may_alias and user.op != "output" and user not in found:
                found.add(user)
                todo.append(user)
    return found


def _arrays_read(nodes: list[torch.fx.Node]) -> dict[torch.fx.Node, frozenset[torch.fx.Node]]:
    """For every node, the graph inputs of one dimension or more that its value depends on."""
    arrays: dict[torch.fx.Node, frozenset[torch.fx.Node]] = {}
    for n in nodes:
        if n.op == "placeholder":
            is_array = getattr(n.meta.get("val"), "ndim", 0) >= 1
            arrays[n] = frozenset([n]) if is_array else frozenset()
        else:
            arrays[n] = frozenset().union(*(arrays[a] for a in n.all_input_nodes))
    return arrays


def _groups(copies: list[torch.fx.Node],
            arrays: dict[torch.fx.Node, frozenset[torch.fx.Node]]) -> list[list[torch.fx.Node]]:
    """The write-backs joined, directly or through others, by the arrays they read or
    write (union-find); each group in graph order."""
    parent = list(range(len(copies)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[torch.fx.Node, int] = {}
    for i, c in enumerate(copies):
        for array in arrays[c.args[0]] | arrays[c.args[1]]:
            if array in owner:
                parent[root(i)] = root(owner[array])
            else:
                owner[array] = i
    groups: dict[int, list[torch.fx.Node]] = {}
    for i, c in enumerate(copies):
        groups.setdefault(root(i), []).append(c)
    return list(groups.values())


class EarlyWriteBack(CustomGraphPass):
    """An inductor pass that writes each updated tensor back where its new value is known.

    Use it through `compile_step`, or as
    `torch.compile(opt.step, options={"post_grad_custom_post_pass": EarlyWriteBack()})`.
    The loops it reorders compute the same values: the results equal a plain compile's.
    """

    def __call__(self, graph: torch.fx.Graph) -> None:
        nodes = list(graph.nodes)
        position = {n: i for i, n in enumerate(nodes)}
        copies = [n for n in nodes if _is_write_back(n)]
        if not copies or any(_writes(n) and not _is_write_back(n) for n in nodes):
            return
        readers = {c: [u for a in _aliases(c.args[0]) for u in a.users if u is not c]
                   for c in copies}
        # An input read after its write-back wants the new value: not a graph from
        # AOTAutograd's mold, so nothing moves.
        if any(position[u] > position[c] for c in copies for u in readers[c]
               if u.op != "output"):
            return
        last_placeholder = max(i for n, i in position.items() if n.op == "placeholder")
        moves = []
        for group in _groups(copies, _arrays_read(nodes)):
            # The new values must exist, and every read of an old tensor (or a view of
            # it) must come first. The nodes this looks at are not write-backs, so their
            # order is the original one while the groups move.
            last = max([last_placeholder, *(position[c.args[1]] for c in group),
                        *(position[u] for c in group for u in readers[c] if u not in group)])
            if last < min(position[c] for c in group) and not _is_write_back(nodes[last]):
                moves.append((nodes[last], group))
        for anchor, group in moves:
            for c in group:
                anchor.append(c)
                anchor = c

    def uuid(self) -> bytes | str:
        # Inductor's caches key compiled code on this: the pass's own source.
        parts = (_is_write_back, _writes, _aliases, _arrays_read, _groups, EarlyWriteBack)
        return hashlib.sha256("".join(inspect.getsource(f) for f in parts).encode()).hexdigest()


def compile_step(optimizer: torch.optim.Optimizer, **kwargs: Any) -> Callable[..., Any]:
    """`torch.compile(optimizer.step)` with `EarlyWriteBack`; other keywords (not `mode`,
    which `torch.compile` refuses beside `options`) pass through."""
    options = dict(kwargs.pop("options", None) or {})
    if options.get("post_grad_custom_post_pass") is not None:
        raise ValueError("compile_step: options['post_grad_custom_post_pass'] is taken by "
                         "EarlyWriteBack; compile with torch.compile to use another pass")
    options["post_grad_custom_post_pass"] = EarlyWriteBack()
    return torch.compile(optimizer.step, options=options, **kwargs)


# ## The figure
#
# One panel per committed run: for each algorithm, each implementation's step time over
# the floor (1 is the floor the probe measured). The bars are drawn from the committed
# results of `scripts/bench_optim.py --json`, never measured at build time.
#
# ![Step time over the bandwidth floor, per algorithm and implementation](fast.png)
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Plot the committed optimizer benchmark.")
    parser.add_argument("--save", metavar="FILE", help="write the figure to FILE (PNG)")
    args = parser.parse_args(argv)

    import matplotlib

    if args.save:
        matplotlib.use("Agg")  # no display needed to write a file
    import matplotlib.pyplot as plt

    panels = [("cpu", "large"), ("cpu", "small"), ("cuda", "large"), ("cuda", "small")]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 4 * len(panels)))
    for ax, (device, regime) in zip(axes, panels, strict=True):
        result = load_results(device, regime)
        if result is None:
            ax.text(0.5, 0.5, f"no {device} run committed ({regime} tensors)",
                    ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        rows = [r for r in result["rows"] if r["floor_ms"]]
        order = list(READS_WRITES)
        algorithms = sorted({r["algorithm"] for r in rows}, key=order.index)
        # One bar per kind of implementation; the peers' packages (eager) as their fastest.
        kinds = ["labml_optim", "labml_optim compiled", "torch for-loop", "torch foreach",
                 "torch fused", "torch for-loop compiled", "fastest peer"]
        colours = ["tab:blue", "tab:cyan", "tab:orange", "tab:olive", "tab:red", "tab:brown",
                   "tab:purple"]
        width = 0.8 / len(kinds)
        for j, (kind, colour) in enumerate(zip(kinds, colours, strict=True)):
            xs, ys = [], []
            for i, algorithm in enumerate(algorithms):
                mine = [r for r in rows if r["algorithm"] == algorithm]
                if kind == "fastest peer":
                    mine = [r for r in mine if not r["implementation"].startswith(
                        ("labml_optim", "torch "))]
                    mine = sorted(mine, key=lambda r: r["ms"])[:1]
                else:
                    mine = [r for r in mine if r["implementation"] == kind]
                for r in mine:
                    xs.append(i + (j - (len(kinds) - 1) / 2) * width)
                    ys.append(r["ms"] / r["floor_ms"])
            if xs:
                ax.bar(xs, ys, width=width, label=kind, color=colour)
        # The same-traffic loop, a black tick across each algorithm's bars.
        twins: list[tuple[int, float]] = []
        for i, algorithm in enumerate(algorithms):
            row = next(r for r in rows if r["algorithm"] == algorithm)
            if row.get("twin_ms"):
                twins.append((i, row["twin_ms"] / row["floor_ms"]))
        if twins:
            ax.hlines([y for _, y in twins], [i - 0.45 for i, _ in twins],
                      [i + 0.45 for i, _ in twins], colors="black", linewidth=2,
                      label="same traffic, no arithmetic")
        ax.axhline(1.0, color="black", linewidth=1)
        ax.set_xticks(range(len(algorithms)), algorithms, rotation=20)
        ax.set_ylabel("step time / floor")
        ax.set_title(
            f"{device}, {result['params'] / 1e6:.1f} M params in {result['tensors']} tensors, "
            f"{result['bandwidth_gbs']:.1f} GB/s measured, torch {result['torch']}"
        )
        ax.set_yscale("log")
        ax.set_ylim(top=ax.get_ylim()[1] * 4)  # room for the legend above the bars
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8, ncol=4, loc="upper left")
    fig.tight_layout()
    if args.save:
        fig.savefig(args.save, dpi=120)
    else:
        plt.show()


if __name__ == "__main__":
    main()
