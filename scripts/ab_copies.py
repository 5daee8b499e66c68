"""One chapter's compiled step over fresh copies of its parameters, beside its same-traffic
loop, alternated in one process.

    python scripts/ab_copies.py "SGD momentum" Adagrad [--copies 3] [--rounds 9] [--threads 1]

For each algorithm the script builds the bench's large parameters (`bench_optim.build_params`)
`--copies` times, each copy with its own optimizer and its own `torch.compile(opt.step)`
(the same graph: the later copies compile from inductor's cache). Beside them run the
bench's same-traffic loop over flat arrays (`bench_optim.traffic_twin`) and, for a one-pass
update, the same loop over arrays of the parameters' shapes, one per tensor. Each round
times five steps of each in turn, starting one place further along the list each round,
so that a noisy machine slows all alike and no run always follows the same one; the script
prints each one's median and the median of its rounds' ratios to the flat loop, and keeps
every round's time in the JSON.

Two copies run the same generated code over the same shapes, on arrays of their own; the
spread of their ratios bounds how much the arrays alone (where they lie in memory) move a
step, together with what the rounds leave of the machine's noise. The loop per tensor
differs from the flat one only by being split as the parameters are.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from pathlib import Path

import torch
from bench_optim import build_params, candidates, rotated, time_steps, traffic_twin

from labml_optim import fast


def twin_per_tensor(algorithm: str, shapes: list[torch.Size]) -> Callable[[], object] | None:
    """The same-traffic loop of a one-pass update, over one array per tensor and pass
    letter, compiled; None for an update of several passes."""
    plan = fast.passes(algorithm)
    if len(plan) != 1:
        return None
    reads, writes = plan[0]
    arrays = {name: [torch.rand(shape) for shape in shapes] for name in reads}

    def run() -> None:
        for i in range(len(shapes)):
            total = arrays[reads[0]][i]
            for name in reads[1:]:
                total = total + arrays[name][i]
            for name in writes:
                arrays[name][i].copy_(total * (1 / len(reads)))

    return torch.compile(run, fullgraph=True)


def compare(algorithm: str, copies: int, rounds: int, million: float,
            tensors: int) -> dict[str, dict[str, float]]:
    factory = candidates()[algorithm]["labml_optim"]
    # Every copy's `opt.step` is the same function to dynamo, one cache entry a copy; an
    # earlier algorithm's entries would count towards its limit, past which it runs eager.
    torch._dynamo.reset()
    shapes = [p.shape for p in build_params(million, tensors, "cpu")]
    runs: dict[str, Callable[[], object]] = {}
    flat = traffic_twin(algorithm, sum(s.numel() for s in shapes), "cpu")
    if flat is None:
        raise SystemExit("the same-traffic loop needs labml_optim.fast")
    runs["same traffic, flat"] = flat
    split = twin_per_tensor(algorithm, shapes)
    if split is not None:
        runs["same traffic, per tensor"] = split
    keep = []  # the copies' parameters and optimizers stay alive for the whole comparison
    for k in range(copies):
        params = build_params(million, tensors, "cpu")
        opt = factory(params)
        opt.step()  # state allocation is not part of a step's cost
        runs[f"compiled, copy {k + 1}"] = torch.compile(opt.step)
        keep.append((params, opt))
    for run in runs.values():  # compiles, and a first step
        run(), run()
    times: dict[str, list[float]] = {label: [] for label in runs}
    labels = list(runs)
    for r in range(rounds):
        # Each round starts one place further along, so that no run always follows the
        # same one.
        for label in rotated(labels, r):
            times[label].append(time_steps(runs[label], 5, "cpu") * 1e3)
    base = times["same traffic, flat"]
    return {label: {"ms": statistics.median(t),
                    "ratio": statistics.median(a / b for a, b in zip(t, base, strict=True)),
                    "round_ms": t}
            for label, t in times.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", choices=sorted(fast.READS_WRITES))
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--million", type=float, default=24.0, help="parameters, millions")
    parser.add_argument("--tensors", type=int, default=150)
    parser.add_argument("--json", help="write the results to this file as JSON")
    args = parser.parse_args(argv)
    if args.copies < 1 or args.rounds < 1:
        parser.error("--copies and --rounds must be at least 1")
    limit = torch._dynamo.config.recompile_limit
    if args.copies > limit:
        parser.error(f"--copies {args.copies}: dynamo compiles one function at most {limit} "
                     "times (torch._dynamo.config.recompile_limit); the rest would run eager")
    torch.set_num_threads(args.threads)
    results = {"torch": torch.__version__, "threads": torch.get_num_threads(),
               "million": args.million, "tensors": args.tensors, "copies": args.copies,
               "rounds": args.rounds, "steps": 5, "algorithms": {}}
    for name in args.names:
        result = compare(name, args.copies, args.rounds, args.million, args.tensors)
        results["algorithms"][name] = result
        print(f"{name}, median of {args.rounds} rounds (ratio: to the flat same-traffic loop)")
        for label, r in result.items():
            print(f"  {label:26} {r['ms']:7.2f} ms  ratio {r['ratio']:.3f}")
        copies = [r["ratio"] for label, r in result.items() if label.startswith("compiled")]
        print(f"  copies: highest / lowest ratio {max(copies) / min(copies):.3f}")
        if args.json:  # after each algorithm, so that a stopped run keeps what it measured
            Path(args.json).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
