"""A plain and an early compile of one chapter's step, alternated in one process.

    python scripts/ab_write_back.py LAMB Adafactor Adam [--rounds 9] [--threads 1] [--layers 75]
        [--json results.json]

For each optimizer: two copies of the bench's large parameters (75 matrices of 625 x 512
and their biases, fixed gradients), one stepped by `torch.compile(opt.step)` and one by
`labml_optim.fast.compile_step(opt)`, each compiled outside the timing. The rounds time
five steps of each in turn, the plain step first in odd rounds and the early one first in
even rounds, so a noisy machine slows both alike and neither always runs second; the
script prints the medians and the median of the rounds' ratios (early / plain), keeps
every round's time in the JSON, and checks at the end that the two copies' parameters are
bitwise equal.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable

import torch
from bench_optim import build_params, rotated, time_steps

from labml_optim import fast
from labml_optim.adafactor import Adafactor
from labml_optim.adam import Adam
from labml_optim.lamb import LAMB
from labml_optim.radam import RAdam

CLASSES = {"LAMB": LAMB, "Adafactor": Adafactor, "Adam": Adam, "RAdam": RAdam}


def params(layers: int = 75) -> list[torch.Tensor]:
    """The bench's large parameters, `layers` matrices of 625 x 512 and their biases."""
    return build_params(layers * 625 * 512 / 1e6, 2 * layers, "cpu")


def timed(step: Callable[[], object]) -> float:
    return time_steps(step, 5, "cpu") * 1e3


def compare(name: str, rounds: int, layers: int = 75) -> dict[str, object]:
    # Each algorithm compiles in a fresh dynamo, as the bench's rows do.
    torch._dynamo.reset()
    plain_params, early_params = params(layers), params(layers)
    plain = torch.compile(CLASSES[name](plain_params, lr=1e-3).step)
    early = fast.compile_step(CLASSES[name](early_params, lr=1e-3))
    for _ in range(3):  # compiles, and the state's first step
        plain(), early()
    times: dict[str, list[float]] = {"plain": [], "early": []}
    steps = {"plain": plain, "early": early}
    for k in range(rounds):
        for which in rotated(list(steps), k):  # plain first, then early first, in turn
            times[which].append(timed(steps[which]))
    if not all(torch.equal(a, b) for a, b in zip(plain_params, early_params, strict=True)):
        raise SystemExit(f"{name}: the early compile's parameters differ from the plain one's")
    ratios = [e / p for p, e in zip(times["plain"], times["early"], strict=True)]
    return {"plain_ms": statistics.median(times["plain"]),
            "early_ms": statistics.median(times["early"]), "ratio": statistics.median(ratios),
            "round_ms": times}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", choices=sorted(CLASSES))
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--layers", type=int, default=75, help="matrices (each with a bias)")
    parser.add_argument("--json", help="write the results, every round's times too, here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = {"torch": torch.__version__, "threads": args.threads, "layers": args.layers,
               "rounds": args.rounds, "steps": 5, "algorithms": {}}
    for name in args.names:
        r = compare(name, args.rounds, args.layers)
        results["algorithms"][name] = r
        print(f"{name}: plain {r['plain_ms']:.1f} ms, early {r['early_ms']:.1f} ms, "
              f"early / plain {r['ratio']:.2f} (median of {args.rounds} rounds), bitwise equal")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
