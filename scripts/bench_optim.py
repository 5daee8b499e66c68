"""Step time of every chapter against torch.optim and the peers, as ratios from one run.

    python scripts/bench_optim.py [--million 24] [--tensors 150] [--steps 5] [--rounds 5]

Each algorithm gets a fresh set of parameters (~24 M floats in ~150 tensors, shaped like a
stack of linear layers with biases) and random gradients. For every implementation we
time `step()` over a few steps, round-robin across implementations so that a noisy
machine slows all of them alike, and report the median per-step time and its ratio to
torch's single-tensor ("for-loop") path of the same algorithm. A ratio of 1.00 is parity;
below 1 is faster.
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
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
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
    for algorithm, (module, name, kwargs) in ours.items():
        cls = optional(module, name)
        if cls is not None:
            table[algorithm]["labml_optim"] = lambda p, c=cls, k=kwargs: c(p, **k)
    for algorithm, entries in peers.items():
        for label, module, name, kwargs in entries:
            cls = optional(module, name)
            if cls is not None:
                table[algorithm][label] = lambda p, c=cls, k=kwargs: c(p, **k)
    # Twins of NAdam, Adamax and Adafactor: torch's for-loop and foreach paths (they have no
    # fused one), ours eager, and both for-loops under torch.compile(opt.step).
    twins = {
        "NAdam": (o.NAdam, "labml_optim.nadam", "NAdam", {"lr": 2e-3}),
        "Adamax": (o.Adamax, "labml_optim.adamax", "Adamax", {"lr": 2e-3}),
        "Adafactor": (o.Adafactor, "labml_optim.adafactor", "Adafactor", {"lr": 1e-2}),
    }
    for algorithm, (torch_cls, module, name, kwargs) in twins.items():
        variants = torch_variants(torch_cls, **kwargs)
        table[algorithm] = {k: variants[k] for k in ("torch for-loop", "torch foreach")}
        table[algorithm]["torch compiled"] = lambda p, f=variants["torch for-loop"]: (
            compiled(f(p)))
        cls = optional(module, name)
        if cls is not None:
            table[algorithm]["labml_optim"] = lambda p, c=cls, k=kwargs: c(p, **k)
            table[algorithm]["labml_optim compiled"] = lambda p, c=cls, k=kwargs: (
                compiled(c(p, **k)))
    return table


def compiled(opt: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """The optimizer with `step` replaced by `torch.compile(opt.step)` (compiled at the
    untimed first step)."""
    opt.step = torch.compile(opt.step)
    return opt


def time_steps(opt: torch.optim.Optimizer, steps: int, device: str) -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def bench(args: argparse.Namespace) -> list[tuple[str, str, float, float | None]]:
    rows = []
    for algorithm, impls in candidates().items():
        if args.only and algorithm not in args.only:
            continue
        optimizers = {}
        for label, factory in impls.items():
            params = build_params(args.million, args.tensors, args.device)
            try:
                opt = factory(params)
                opt.step()  # state allocation is not part of a step's cost
            except (RuntimeError, ValueError, TypeError) as error:
                print(f"  {algorithm:13} {label:18} skipped: {str(error).splitlines()[0]}")
                continue
            optimizers[label] = opt
        times: dict[str, list[float]] = {label: [] for label in optimizers}
        for _ in range(args.rounds):
            for label, opt in optimizers.items():
                times[label].append(time_steps(opt, args.steps, args.device))
        medians = {label: statistics.median(t) for label, t in times.items()}
        base = medians.get("torch for-loop") or medians.get("labml_optim")
        for label, median in medians.items():
            rows.append((algorithm, label, median, median / base if base else None))
        del optimizers
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--million", type=float, default=24.0, help="parameters, millions")
    parser.add_argument("--tensors", type=int, default=150)
    parser.add_argument("--steps", type=int, default=5, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", nargs="*", help="algorithms to run, e.g. Adam RAdam")
    args = parser.parse_args(argv)
    n = sum(p.numel() for p in build_params(args.million, args.tensors, "cpu"))
    print(f"torch {torch.__version__}, {args.device}, {torch.get_num_threads()} threads, "
          f"{n / 1e6:.1f} M params in {args.tensors} tensors, median of {args.rounds} "
          f"rounds x {args.steps} steps\n")
    rows = bench(args)
    print(f"| {'algorithm':13} | {'implementation':18} | {'ms/step':>8} | {'vs for-loop':>11} |")
    print(f"|{'-' * 15}|{'-' * 20}|{'-' * 10}|{'-' * 13}|")
    for algorithm, label, median, ratio in rows:
        shown = f"{ratio:.2f}" if ratio is not None else "-"
        print(f"| {algorithm:13} | {label:18} | {median * 1e3:8.1f} | {shown:>11} |")


if __name__ == "__main__":
    main()
