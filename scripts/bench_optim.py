"""Step time of every chapter against torch.optim and the peers, as ratios from one run.

    python scripts/bench_optim.py [--million 24] [--tensors 150] [--small] [--device cuda]
        [--only Adam RAdam | --skip Muon] [--no-compile] [--compile-cost [ALG ...]]
        [--compile-torch [ALG ...]] [--compile-early [ALG ...]] [--threads 1]
        [--json results.json [--append]]

Each algorithm gets a fresh set of parameters (~24 M floats in ~150 tensors, shaped like a
stack of linear layers with biases) and random gradients. For every implementation we
time `step()` over a few steps, round-robin across implementations in an order that changes
from round to round, so that a noisy machine slows all of them alike and none always runs
first, and report the median per-step time and its ratio to
torch's single-tensor ("for-loop") path of the same algorithm. A ratio of 1.00 is parity;
below 1 is faster. It also reports each row's ratio to the memory-bandwidth floor (bytes
the update must move, from the "Fast optimizers" chapter, over the bandwidth measured in
the same run) and to a loop that moves the same bytes and computes nothing (the "same
traffic" column), the peak extra memory of a step, and, for `torch.compile(opt.step)`, the
one-time compile cost; `--compile-early` adds ours compiled with the write-backs moved
early (`labml_optim.fast.compile_step`). `--small` switches to many small tensors, where
per-tensor overhead dominates. The same script runs on a GPU with `--device cuda`.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
from collections.abc import Callable

import torch

Factory = Callable[[list[torch.Tensor]], torch.optim.Optimizer]


def build_params(million: float, tensors: int, device: str) -> list[torch.Tensor]:
    """Half weight matrices, half bias vectors, ~`million` M parameters in all."""
    layers = tensors // 2
    width = 512
    rows = max(1, int(million * 1e6 / layers / width))
    gen = torch.Generator().manual_seed(0)
    params = []
    for _ in range(layers):
        params.append(torch.randn(rows, width, generator=gen).to(device).requires_grad_())
        params.append(torch.randn(rows, generator=gen).to(device).requires_grad_())
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen).to(device) * 1e-2
    return params


def optional(module: str, attr: str) -> type | None:
    """The class, or None where its package is missing or fails to import (a peer's
    package may need something this machine lacks; its rows are then left out, and said)."""
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return None
    except Exception as error:  # a peer's own import-time failure is not the bench's
        print(f"  {module}: not importable here ({type(error).__name__}: {error})")
        return None


def torch_variants(cls: type, **kwargs) -> dict[str, Factory]:
    return {
        "torch for-loop": lambda p: cls(p, foreach=False, **kwargs),
        "torch foreach": lambda p: cls(p, foreach=True, **kwargs),
        "torch fused": lambda p: cls(p, fused=True, **kwargs),
    }


def candidates() -> dict[str, dict[str, Factory]]:
    """Algorithm -> implementation -> factory. The first torch entry is the baseline."""
    o = torch.optim
    table: dict[str, dict[str, Factory]] = {
        "SGD momentum": torch_variants(o.SGD, lr=1e-2, momentum=0.9),
        "Adagrad": torch_variants(o.Adagrad, lr=1e-2),
        "RMSprop": torch_variants(o.RMSprop, lr=1e-3),
        "Adam": torch_variants(o.Adam, lr=1e-3),
        "AMSGrad": torch_variants(o.Adam, lr=1e-3, amsgrad=True),
        "AdamW": torch_variants(o.AdamW, lr=1e-3),
        "RAdam": torch_variants(o.RAdam, lr=1e-3),
        "LAMB": {},
    }
    ours = {
        "SGD momentum": ("labml_optim.sgd", "SGD", {"lr": 1e-2, "momentum": 0.9}),
        "Adagrad": ("labml_optim.adagrad", "Adagrad", {"lr": 1e-2}),
        "RMSprop": ("labml_optim.rmsprop", "RMSprop", {"lr": 1e-3}),
        "Adam": ("labml_optim.adam", "Adam", {"lr": 1e-3}),
        "AMSGrad": ("labml_optim.amsgrad", "AMSGrad", {"lr": 1e-3}),
        "AdamW": ("labml_optim.adamw", "AdamW", {"lr": 1e-3}),
        "RAdam": ("labml_optim.radam", "RAdam", {"lr": 1e-3}),
        "LAMB": ("labml_optim.lamb", "LAMB", {"lr": 1e-3, "weight_decay": 1e-2}),
    }
    peers = {
        "Adam": [("labml_nn", "labml_nn.optimizers.adam", "Adam", {"lr": 1e-3})],
        "AMSGrad": [("labml_nn", "labml_nn.optimizers.amsgrad", "AMSGrad", {"lr": 1e-3})],
        "RAdam": [("labml_nn", "labml_nn.optimizers.radam", "RAdam", {"lr": 1e-3})],
        "LAMB": [
            ("pytorch-optimizer", "pytorch_optimizer", "Lamb",
             {"lr": 1e-3, "weight_decay": 1e-2}),
            ("torch-optimizer", "torch_optimizer", "Lamb", {"lr": 1e-3, "weight_decay": 1e-2}),
        ],
    }
    # No torch twin: Lion and AdaBelief run beside their authors' packages (and labml_nn's
    # AdaBelief, its argument order undone); their ratios are to ours.
    table.update({"Lion": {}, "AdaBelief": {}})
    ours.update({"Lion": ("labml_optim.lion", "Lion", {"lr": 1e-4}),
                 "AdaBelief": ("labml_optim.adabelief", "AdaBelief", {"lr": 1e-3})})
    peers.update({
        "Lion": [("lion-pytorch", "lion_pytorch", "Lion", {"lr": 1e-4}),
                 ("lion-pytorch foreach", "lion_pytorch.foreach", "Lion", {"lr": 1e-4})],
        "AdaBelief": [
            ("adabelief-pytorch", "adabelief_pytorch", "AdaBelief",
             {"lr": 1e-3, "rectify": False, "weight_decouple": False, "print_change_log": False}),
            ("labml_nn", "labml_nn.optimizers.ada_belief", "AdaBelief",
             {"lr": 1e-3, "rectify": False, "amsgrad": False, "degenerate_to_sgd": False}),
        ],
    })
    for algorithm, (module, name, kwargs) in ours.items():
        cls = optional(module, name)
        if cls is not None:
            table[algorithm]["labml_optim"] = lambda p, c=cls, k=kwargs: c(p, **k)
    for algorithm, entries in peers.items():
        for label, module, name, kwargs in entries:
            cls = optional(module, name)
            if cls is not None:
                table[algorithm][label] = lambda p, c=cls, k=kwargs: c(p, **k)
    # No torch twin: ours is the baseline, beside the authors' implementations. Schedule-free
    # optimizers are put in train mode first (the package's refuse to step otherwise).
    no_twin = {
        "SF AdamW": [
            # x implicit: the layout of the floor's 28 bytes (the chapter's default keeps
            # the reference's, 44 bytes).
            ("labml_optim", "labml_optim.schedule_free", "AdamWScheduleFree",
             {"implicit_x": True}),
            ("sf Reference", "schedulefree", "AdamWScheduleFreeReference", {}),
            ("sf default loop", "schedulefree", "AdamWScheduleFree", {"foreach": False}),
            ("sf default foreach", "schedulefree", "AdamWScheduleFree", {"foreach": True}),
        ],
        "Sophia-G": [
            ("labml_optim", "labml_optim.sophia", "SophiaG", {}),
            ("sophia-opt", "sophia_opt", "SophiaG", {}),
            ("labml_nn", "labml_nn.optimizers.sophia", "Sophia", {}),
        ],
    }

    def built(cls: type, kwargs: dict) -> Factory:
        def build(p: list[torch.Tensor]) -> torch.optim.Optimizer:
            opt = cls(p, **kwargs)
            if hasattr(opt, "train"):
                opt.train()
            return opt

        return build

    for algorithm, entries in no_twin.items():
        table[algorithm] = {}
        for label, module, name, kwargs in entries:
            cls = optional(module, name)
            if cls is not None:
                table[algorithm][label] = built(cls, kwargs)

    # Muon takes only matrices, so it steps the weight matrices of the set (not the biases).
    # torch's Muon has only the for-loop path; the compiled rows come from `bench`.
    def muon(cls: type) -> Factory:
        return lambda params: cls([p for p in params if p.ndim == 2], lr=0.02)

    table["Muon"] = {"torch for-loop": muon(o.Muon)}
    ours_muon = optional("labml_optim.muon", "Muon")
    if ours_muon is not None:
        table["Muon"]["labml_optim"] = muon(ours_muon)

    # Twins of NAdam, Adamax and Adafactor: torch's for-loop and foreach paths (they have no
    # fused one) and ours; the compiled rows come from `bench`.
    twins = {
        "NAdam": (o.NAdam, "labml_optim.nadam", "NAdam", {"lr": 2e-3}),
        "Adamax": (o.Adamax, "labml_optim.adamax", "Adamax", {"lr": 2e-3}),
        "Adafactor": (o.Adafactor, "labml_optim.adafactor", "Adafactor", {"lr": 1e-2}),
    }
    for algorithm, (torch_cls, module, name, kwargs) in twins.items():
        variants = torch_variants(torch_cls, **kwargs)
        table[algorithm] = {k: variants[k] for k in ("torch for-loop", "torch foreach")}
        cls = optional(module, name)
        if cls is not None:
            table[algorithm]["labml_optim"] = lambda p, c=cls, k=kwargs: c(p, **k)
    return table


def run_bandwidth(result: dict) -> float:
    """A results file's bandwidth, GB/s, as a run states it: the median over its algorithms,
    one probe each however many rows an algorithm has. Rows kept from a run of another
    shape (other steps or rounds, as Muon's one-step rounds) are left out: the shape that
    most algorithms were timed with is the file's run."""
    def shape(row: dict) -> tuple[int, int]:
        return row.get("steps", result["steps"]), row.get("rounds", result["rounds"])

    shapes: dict[tuple[int, int], dict[str, float]] = {}
    for row in result["rows"]:
        shapes.setdefault(shape(row), {})[row["algorithm"]] = row["bandwidth_gbs"]
    probes = max(shapes.values(), key=len)
    return statistics.median(probes.values())


def rotated(items: list, k: int) -> list:
    """`items` starting `k` places along, wrapping around: over as many rounds as items,
    each takes every place once (the A/B scripts' order)."""
    if not items:
        return []
    k %= len(items)
    return items[k:] + items[:k]


def round_order(items: list, k: int) -> list:
    """`items` in the order of the bench's round `k`: even rounds start `k / 2` places
    along, wrapping around, and odd rounds run the previous round's order backwards. Over
    twice as many rounds as items, each takes every place twice, and each pair of
    neighbours runs in both orders."""
    order = rotated(items, k // 2)
    return order[::-1] if k % 2 else order


def time_steps(step: Callable[[], object], steps: int, device: str) -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


# ## Memory bandwidth, the floor's denominator
#
# The floor of an elementwise update is the bytes it must move divided by the bandwidth
# the machine sustains. We measure that bandwidth the same way the update uses memory: a
# large in-place `add_` (read two arrays, write one), timed in the same run as the
# optimizers so that a loaded machine lowers both alike.
PROBE_FLOATS = 32_000_000
PROBE_BYTES = 3 * 4 * PROBE_FLOATS  # x.add_(y): read x and y, write x


def bandwidth_probe(device: str) -> tuple[Callable[[], object], torch.Tensor, torch.Tensor]:
    """A step that moves PROBE_BYTES: `x.add_(y)` over arrays far larger than any cache."""
    x = torch.zeros(PROBE_FLOATS, device=device)
    y = torch.ones(PROBE_FLOATS, device=device)
    return (lambda: x.add_(y, alpha=0.5)), x, y


# ## The same traffic, and nothing else
#
# The probe's `add_` reads two arrays and writes one; an update reads three to six and
# writes one to four, and one core does not draw the same bandwidth from every mix of
# streams. So beside the probe each algorithm gets a loop that moves exactly its floor's
# bytes, pass by pass (`fast.passes`), and does no arithmetic beyond a sum: compiled, it is
# one generated loop per pass over arrays of the run's size (and a short one adding up the
# row sums of a pass that ends in a sum). Its time is what the
# memory system allows for that traffic; the gap from it to a compiled step is the
# step's own arithmetic and per-tensor cost.
def row_width(n: int) -> int:
    """The widest row, of at most 1,024 numbers, that divides `n` exactly (1 if none of at
    least 64 does: then the arrays stay flat)."""
    width = max(d for d in range(1, 1025) if n % d == 0)
    return width if width >= 64 else 1


def traffic_twin(algorithm: str, n_params: int, device: str) -> Callable[[], object] | None:
    """A compiled step that reads and writes what `algorithm`'s floor counts, or None."""
    fast = optional("labml_optim.fast", "passes")
    if fast is None:
        return None
    plan = fast(algorithm)
    # Sums go by rows, as Adafactor's compiled norms do: inductor sums a whole large
    # tensor through a cascade of partial sums kept in memory, a slower loop on the CPU.
    width = row_width(n_params)
    arrays = {name: torch.rand(n_params // width, width, device=device)
              for name in sorted(set("".join(reads for reads, _ in plan)))}

    def run() -> list[torch.Tensor]:
        sums: list[torch.Tensor] = []
        for i, (reads, writes) in enumerate(plan):
            total = arrays[reads[0]]
            for name in reads[1:]:
                total = total + arrays[name]
            if sums:
                # Each pass needs the reduction of the one before (LAMB's norms, Adafactor's
                # sums), which keeps inductor from merging two passes into one loop.
                total = total * (1 + sums[-1] * 1e-30)
            for name in writes:
                arrays[name].copy_(total * (1 / len(reads)))  # the mean: stays in [0, 1]
            if not writes or i < len(plan) - 1:
                sums.append(total.sum(dim=-1).sum())
        return sums

    return torch.compile(run, fullgraph=True)


# ## Extra memory a step allocates
#
# On a GPU the caching allocator reports its peak. On the CPU there is no such counter,
# so for eager optimizers a dispatch mode watches every tensor an operation creates whose
# storage did not exist before the step (the parameters, gradients and state exist) and
# keeps the peak of the bytes alive at once. A compiled step runs fused kernels below the
# dispatcher, where the mode cannot see, so on the CPU it is reported as unknown.
def peak_extra_bytes(opt: torch.optim.Optimizer, step: Callable[[], object],
                     device: str, compiled: bool) -> int | None:
    if device == "cuda":
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        step()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - before
    if compiled:
        return None
    import weakref

    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    class LiveBytes(TorchDispatchMode):
        def __init__(self, existing: list[torch.Tensor]) -> None:
            super().__init__()
            self.known = {t.untyped_storage().data_ptr() for t in existing}
            self.live = self.peak = 0

        def free(self, nbytes: int, ptr: int) -> None:
            self.live -= nbytes
            self.known.discard(ptr)

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in tree_leaves(out):
                if isinstance(t, torch.Tensor):
                    storage = t.untyped_storage()
                    ptr = storage.data_ptr()
                    if ptr and ptr not in self.known:
                        self.known.add(ptr)
                        self.live += storage.nbytes()
                        self.peak = max(self.peak, self.live)
                        weakref.finalize(t, self.free, storage.nbytes(), ptr)
            return out

    existing = [p for g in opt.param_groups for p in g["params"]]
    existing += [p.grad for p in existing if p.grad is not None]
    existing += [v for s in opt.state.values() for v in s.values() if torch.is_tensor(v)]
    mode = LiveBytes(existing)
    with mode:
        step()
    return mode.peak


def compiled_step(opt: torch.optim.Optimizer, device: str, cost: bool,
                  early: bool = False) -> tuple[Callable[[], object], float | None, float | None]:
    """`torch.compile(opt.step)`, compiled once outside the timing; with `cost`, the seconds
    of its first call, cold (an empty inductor cache) and again after
    `torch._dynamo.reset()`, when inductor's caches are warm. With `early`, compiled with
    each tensor's write-back moved to where its value is known (`fast.compile_step`)."""
    def first_call() -> tuple[Callable[[], object], float]:
        if early:
            from labml_optim.fast import compile_step

            step = compile_step(opt)
        else:
            step = torch.compile(opt.step)
        start = time.perf_counter()
        step()
        if device == "cuda":
            torch.cuda.synchronize()
        return step, time.perf_counter() - start

    if not cost:
        return first_call()[0], None, None
    import torch._inductor.utils as inductor_utils

    # Older torch names it `fresh_inductor_cache`.
    fresh_cache = (getattr(inductor_utils, "fresh_cache", None)
                   or inductor_utils.fresh_inductor_cache)

    # An empty inductor cache of its own, in memory and on disk, so that kernels compiled
    # for an earlier algorithm of the same run do not make this one look cheap.
    with fresh_cache():
        torch._dynamo.reset()
        _, cold = first_call()
        torch._dynamo.reset()
        step, cached = first_call()
    return step, cold, cached


def floor_bytes(algorithm: str) -> int | None:
    """Bytes per parameter the update must move, from the "Fast optimizers" chapter."""
    fast = optional("labml_optim.fast", "BYTES_PER_PARAM")
    return fast.get(algorithm) if fast else None


def chosen(option: list[str] | None, algorithm: str) -> bool:
    """An option that takes algorithms: absent is none of them, given alone is all."""
    return option is not None and (not option or algorithm in option)


def selected(args: argparse.Namespace) -> list[str]:
    """The algorithms a run times: `--only`'s (all when absent), less `--skip`'s."""
    return [a for a in candidates()
            if (not args.only or a in args.only) and a not in (args.skip or [])]


def bench(args: argparse.Namespace, on_algorithm: Callable[[dict], None] | None = None) -> dict:
    """Times every implementation; returns everything the report and the chapter need.

    `on_algorithm` is called with the results so far after each algorithm, so that a long
    run that is stopped keeps what it measured."""
    n_params = sum(p.numel() for p in build_params(args.million, args.tensors, "cpu"))
    rows: list[dict] = []
    bandwidths: list[float] = []
    result = {
        "torch": torch.__version__, "device": args.device, "threads": torch.get_num_threads(),
        "params": n_params, "tensors": args.tensors, "bandwidth_gbs": None,
        "steps": args.steps, "rounds": args.rounds, "rows": rows,
    }
    run = selected(args)
    for algorithm, impls in candidates().items():
        if algorithm not in run:
            continue
        if args.compile:
            # The compiled step of ours (compiled first: measuring its cost resets dynamo)
            # and, with --compile-torch, of torch's for-loop path: the readable per-tensor
            # loops that compile is meant to turn into fused kernels.
            labels = ["labml_optim"] + (["torch for-loop"]
                                        if chosen(args.compile_torch, algorithm) else [])
            to_compile = {f"{label} compiled": impls[label] for label in labels if label in impls}
            if chosen(args.compile_early, algorithm):
                to_compile["labml_optim compiled early"] = impls["labml_optim"]
            impls = {**to_compile, **impls}
        runners = {}
        costs: dict[str, tuple[float | None, float | None]] = {}
        for label, factory in impls.items():
            params = build_params(args.million, args.tensors, args.device)
            try:
                opt = factory(params)
                opt.step()  # state allocation is not part of a step's cost
                step = opt.step
                if " compiled" in label:
                    cost_it = (chosen(args.compile_cost, algorithm)
                               and label == "labml_optim compiled")
                    step, *cost = compiled_step(opt, args.device, cost_it,
                                                early=label.endswith("early"))
                    costs[label] = tuple(cost)
            except (RuntimeError, ValueError, TypeError) as error:
                print(f"  {algorithm:13} {label:26} skipped: {str(error).splitlines()[0]}")
                continue
            runners[label] = (opt, step)
        # The bandwidth probe and the same-traffic loop take their turns in every round,
        # beside the implementations, so that they are measured under the same load as the
        # steps they are compared with.
        probe = bandwidth_probe(args.device)
        twin = traffic_twin(algorithm, n_params, args.device) if args.compile else None
        if twin is not None:
            twin()  # compiled outside the timing
        # The order changes from round to round (`round_order`), so that no row always runs
        # first, nor always right after the same row.
        timed = [(" probe", probe[0])] + ([(" twin", twin)] if twin is not None else []) \
            + [(label, step) for label, (_, step) in runners.items()]
        times: dict[str, list[float]] = {label: [] for label, _ in timed}
        for k in range(args.rounds):
            for label, step in round_order(timed, k):
                times[label].append(time_steps(step, args.steps, args.device))
        probe_times, twin_times = times.pop(" probe"), times.pop(" twin", [])
        del probe, twin, timed
        bandwidth = PROBE_BYTES / statistics.median(probe_times)
        twin_ms = statistics.median(twin_times) * 1e3 if twin_times else None
        bandwidths.append(bandwidth)
        medians = {label: statistics.median(t) for label, t in times.items()}
        bytes_pp = floor_bytes(algorithm)
        floor = bytes_pp * n_params / bandwidth if bytes_pp else None
        for label, median in medians.items():
            opt, step = runners[label]
            compiled = " compiled" in label
            rows.append({
                "algorithm": algorithm, "implementation": label, "ms": median * 1e3,
                "floor_ms": floor * 1e3 if floor else None,
                "bandwidth_gbs": bandwidth / 1e9, "twin_ms": twin_ms,
                "steps": args.steps, "rounds": args.rounds,
                "peak_extra_bytes": peak_extra_bytes(opt, step, args.device, compiled),
            })
            cold, cached = costs.get(label, (None, None))
            if cold is not None:
                rows[-1]["compile_cold_s"], rows[-1]["compile_cached_s"] = cold, cached
        del runners
        torch._dynamo.reset()
        result["bandwidth_gbs"] = statistics.median(bandwidths) / 1e9
        if on_algorithm is not None:
            on_algorithm(result)
    return result


def report(result: dict) -> str:
    """The Markdown table: ms/step, ratio to the floor, to torch's for-loop and to ours."""
    lines = [
        f"torch {result['torch']}, {result['device']}, {result['threads']} threads, "
        f"{result['params'] / 1e6:.1f} M params in {result['tensors']} tensors, "
        f"bandwidth {result['bandwidth_gbs']:.1f} GB/s (median over algorithms), "
        f"median of {result['rounds']} rounds "
        f"x {result['steps']} steps",
        "",
        "| algorithm | implementation | ms/step | x floor | x same traffic | vs torch for-loop "
        "| vs ours | extra MB | compile cold/cached s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by_key = {(r["algorithm"], r["implementation"]): r for r in result["rows"]}
    for r in result["rows"]:
        base = by_key.get((r["algorithm"], "torch for-loop"))
        ours = by_key.get((r["algorithm"], "labml_optim"))

        def ratio(other: dict | None, r: dict = r) -> str:
            return f"{r['ms'] / other['ms']:.2f}" if other else "-"

        floor = f"{r['ms'] / r['floor_ms']:.2f}" if r["floor_ms"] else "-"
        twin = f"{r['ms'] / r['twin_ms']:.2f}" if r.get("twin_ms") else "-"
        extra = r["peak_extra_bytes"]
        extra_mb = f"{extra / 1e6:.0f}" if extra is not None else "-"
        cost = (f"{r['compile_cold_s']:.1f} / {r['compile_cached_s']:.1f}"
                if "compile_cold_s" in r else "-")
        lines.append(
            f"| {r['algorithm']} | {r['implementation']} | {r['ms']:.1f} | {floor} | {twin} "
            f"| {ratio(base)} | {ratio(ours)} | {extra_mb} | {cost} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--million", type=float, default=24.0, help="parameters, millions")
    parser.add_argument("--tensors", type=int, default=150)
    parser.add_argument("--small", action="store_true",
                        help="the many-small-tensors regime: 2000 tensors of 4096 floats")
    parser.add_argument("--steps", type=int, default=5, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", nargs="*", help="algorithms to run, e.g. Adam RAdam")
    parser.add_argument("--skip", nargs="*", help="algorithms not to run, e.g. Muon")
    parser.add_argument("--no-compile", dest="compile", action="store_false",
                        help="skip the torch.compile(opt.step) rows")
    parser.add_argument("--compile-cost", nargs="*", metavar="ALGORITHM",
                        help="also time the first compiled step, cold and cached (of the "
                             "algorithms named; alone, of all)")
    parser.add_argument("--compile-torch", nargs="*", metavar="ALGORITHM",
                        help="also time torch.compile over torch's for-loop path (of the "
                             "algorithms named; alone, of all)")
    parser.add_argument("--compile-early", nargs="*", metavar="ALGORITHM",
                        help="also time ours compiled with the write-backs moved early "
                             "(of the algorithms named; alone, of all)")
    parser.add_argument("--threads", type=int, help="torch's intra-op threads (default: torch's)")
    parser.add_argument("--json", help="write the results to this file as JSON")
    parser.add_argument("--append", action="store_true",
                        help="merge into the --json file: its rows of the algorithms run now are "
                             "replaced, the others kept (same regime, device and threads)")
    args = parser.parse_args(argv)
    known = list(candidates())
    for option in ("only", "skip", "compile_cost", "compile_torch", "compile_early"):
        unknown = [name for name in getattr(args, option) or [] if name not in known]
        if unknown:
            parser.error(f"--{option.replace('_', '-')}: unknown algorithm(s) {unknown}; "
                         f"the bench has {known}")
    run = selected(args)
    for option in ("compile_cost", "compile_torch", "compile_early"):
        named = getattr(args, option)
        if named is not None and not args.compile:
            parser.error(f"--{option.replace('_', '-')} needs the compiled rows; "
                         "drop --no-compile")
        idle = [name for name in named or [] if name not in run]
        if idle:
            parser.error(f"--{option.replace('_', '-')}: {idle} not run (see --only, --skip)")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.small:
        args.tensors, args.million = 2000, 2000 * 4096 / 1e6
    import json
    from pathlib import Path

    earlier = None
    if args.json and args.append and Path(args.json).exists():
        earlier = json.loads(Path(args.json).read_text())

    def save(result: dict) -> None:
        if not args.json:
            return
        if earlier is not None:
            for key in ("device", "threads", "params", "tensors", "torch"):
                if earlier[key] != result[key]:
                    raise SystemExit(f"--append: {args.json} has {key}={earlier[key]!r}, "
                                     f"this run {result[key]!r}")
            ran = {row["algorithm"] for row in result["rows"]}
            kept = [row for row in earlier["rows"] if row["algorithm"] not in ran]
            # Each row carries its own steps and rounds; the file's are those of its first run.
            result = {**result, "rows": kept + result["rows"],
                      "steps": earlier["steps"], "rounds": earlier["rounds"]}
            result["bandwidth_gbs"] = run_bandwidth(result)
        # Written beside, then renamed: a run stopped mid-write keeps the last whole file.
        partial = Path(args.json + ".partial")
        partial.write_text(json.dumps(result, indent=1) + "\n")
        partial.replace(args.json)

    result = bench(args, on_algorithm=save)
    print(report(result))
    save(result)


if __name__ == "__main__":
    main()
