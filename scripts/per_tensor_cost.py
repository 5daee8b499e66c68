"""What a compiled step pays for each tensor, apart from its loops.

    python scripts/per_tensor_cost.py Adam "SGD momentum" [--tensors 150] [--rounds 9]
                                      [--lookups 150 2000] [--json FILE]

Over `--tensors` parameters of 16 floats each, a step's loops cost next to nothing, and what
is left is the cost per tensor of the code around them. For each algorithm the script
times, alternated in one process over the same parameters (each round starting one place
further along):

* the eager step;
* `torch.compile(opt.step)`;
* the same compiled with inductor's `size_asserts` off (the generated code then skips
  its check of every input's size and stride);

and counts, with `cProfile`, the calls per compiled step to inductor's
`assert_size_stride` (one for each input it checks) and to dynamo's `dict_keys_getitem`:
the generated code finds each state tensor through the position of its parameter among
`opt.state`'s keys, and that function walks the keys up to it.
Last, it times those walks alone (the median of nine), as many per tensor as counted at
`--tensors`, over state dicts of `--lookups` tensors: to reach position $i$ the walk passes
$i + 1$ keys, so a step's walks grow with the square of the tensors.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from bench_optim import candidates, rotated, time_steps
from torch._dynamo.utils import dict_keys_getitem


def calls_per_step(step: Callable[[], object], names: tuple[str, ...],
                   steps: int = 10) -> dict[str, float]:
    """Calls per call of `step` to each function named (a Python function's name, or a
    part of a built-in's), counted by cProfile."""
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(steps):
        step()
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    return {name: sum(stat[1] for key, stat in stats.items()
                      if key[2] == name or (key[0] == "~" and name in key[2])) / steps
            for name in names}


def lookup_ms(tensors: int, per_tensor: float, repeats: int = 9) -> float:
    """The walks the compiled step makes, alone: `per_tensor` lookups at each position of a
    dict with `tensors` tensor keys, in milliseconds a step (the median of `repeats`)."""
    state = {torch.zeros(1): {} for _ in range(tensors)}
    calls = round(per_tensor)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(tensors):
            for _ in range(calls):
                dict_keys_getitem(state, i)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def measure(algorithm: str, tensors: int, rounds: int) -> dict:
    factory = candidates()[algorithm]["labml_optim"]
    torch._dynamo.reset()  # an earlier algorithm's compiled steps are not looked through
    gen = torch.Generator().manual_seed(0)
    params = [torch.randn(16, generator=gen).requires_grad_() for _ in range(tensors)]
    for p in params:
        p.grad = torch.randn(16, generator=gen)
    runs: dict[str, Callable[[], object]] = {}
    for label, options in (("compiled", None), ("compiled, no size asserts",
                                                {"size_asserts": False})):
        opt = factory(params)
        opt.step()
        runs[label] = torch.compile(opt.step, options=options)
    eager = factory(params)
    eager.step()
    runs["eager"] = eager.step
    for run in runs.values():  # compiles, and a first step
        run(), run()
    times: dict[str, list[float]] = {label: [] for label in runs}
    labels = list(runs)
    for r in range(rounds):  # each round starts one place further along
        for label in rotated(labels, r):
            times[label].append(time_steps(runs[label], 20, "cpu") * 1e3)
    result: dict = {f"{label} ms": statistics.median(t) for label, t in times.items()}
    result["round ms"] = times
    calls = calls_per_step(runs["compiled"], ("dict_keys_getitem", "assert_size_stride"))
    result["lookups per tensor"] = calls["dict_keys_getitem"] / tensors
    result["size checks per tensor"] = calls["assert_size_stride"] / tensors
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", choices=sorted(candidates()))
    parser.add_argument("--tensors", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--lookups", type=int, nargs="+", default=[150, 2000],
                        metavar="TENSORS", help="state dicts to time the key walks over")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", help="write the results to this file as JSON")
    args = parser.parse_args(argv)
    if args.tensors < 1 or args.rounds < 1:
        parser.error("--tensors and --rounds must be at least 1")
    torch.set_num_threads(args.threads)
    out: dict = {"torch": torch.__version__, "threads": torch.get_num_threads(),
                 "tensors": args.tensors, "floats": 16, "rounds": args.rounds,
                 "algorithms": {}}
    for name in args.names:
        r = measure(name, args.tensors, args.rounds)
        r["lookup ms"] = {str(n): lookup_ms(n, r["lookups per tensor"]) for n in args.lookups}
        out["algorithms"][name] = r
        print(f"{name}, {args.tensors} tensors of 16 floats, medians of {args.rounds} rounds:")
        for key in ("eager ms", "compiled ms", "compiled, no size asserts ms"):
            print(f"  {key[:-3]:26} {r[key]:.3f} ms a step")
        print(f"  size checks: {r['size checks per tensor']:.2f} a tensor a step")
        print(f"  state-key lookups: {r['lookups per tensor']:.2f} a tensor a step; alone, "
              + ", ".join(f"{ms:.2f} ms over {n} tensors" for n, ms in r["lookup ms"].items()))
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
