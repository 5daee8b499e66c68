"""Plumbing shared by the experiments: command line, results file and schema, progress, data.

Not a chapter (no front matter). Every experiment module defines `NAME`, `FULL` and `QUICK`
(config dicts), `run(config) -> list[run]` and `draw(results) -> Figure`, and its `main`
calls `experiment_main` here.

The command line, the same for every experiment:

* `python -m labml_optim.experiments.<name>` runs the full experiment with a progress bar,
  writes `labml_optim/experiments/<name>/results.json` (committed) and shows the figure.
* `--quick` runs a tiny version in seconds and writes to `--results PATH` (default: a new
  temporary file); it refuses to overwrite the committed results.
* `--save FILE` only draws the figure, from the committed results (or from `--results
  PATH`), and writes it as a PNG: no training. The site build calls this.
* `--no-show` skips the window at the end of a run.

Progress uses `tqdm`, not `labml`'s `monit`/`tracker`: labml writes `~/.labml/configs.yaml`
and a `logs/` folder in the working directory, warns without a `.labml.yaml` or without
gitpython, and prints terminal control codes into captured test output, while the results
these pages need (every metric per step and seed, in one file committed beside the page) are
a plain JSON file either way.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import torch

SCHEMA_VERSION = 1
HERE = Path(__file__).resolve().parent

Run = dict[str, Any]
Results = dict[str, Any]


def results_path(name: str) -> Path:
    """The committed results of experiment `name`."""
    return HERE / name / "results.json"


# ## Results


def new_run(label: str, seed: int, **settings: Any) -> Run:
    """One training run (or one simulation): its label, seed, settings and metrics."""
    return {"label": label, "seed": seed, "settings": settings, "metrics": {}, "extra": {}}


def clean(x: float, digits: int = 6) -> float | None:
    """A float rounded to `digits` significant digits; None for NaN and infinities."""
    x = float(x)
    if not math.isfinite(x):
        return None
    return float(f"{x:.{digits}g}")


def record(run: Run, metric: str, step: int, value: float) -> None:
    """Append `value` of `metric` at `step` (NaN or infinite become null)."""
    m = run["metrics"].setdefault(metric, {"steps": [], "values": []})
    m["steps"].append(int(step))
    m["values"].append(clean(value))


def series(run: Run, metric: str) -> tuple[list[int], list[float]]:
    """A metric's steps and values, null read back as NaN."""
    m = run["metrics"][metric]
    return m["steps"], [math.nan if v is None else v for v in m["values"]]


def validate(results: Any) -> None:
    """Raise ValueError naming the first thing in `results` that breaks the schema."""

    def need(cond: bool, what: str) -> None:
        if not cond:
            raise ValueError(f"results: {what}")

    need(isinstance(results, dict), "not an object")
    for key, kind in (("schema", int), ("experiment", str), ("config", dict),
                      ("torch_version", str), ("python_version", str), ("platform", str),
                      ("wall_time_s", (int, float)), ("runs", list)):
        need(key in results, f"missing key {key!r}")
        need(isinstance(results[key], kind), f"{key!r} has the wrong type")
    need(results["schema"] == SCHEMA_VERSION, f"schema {results['schema']} != {SCHEMA_VERSION}")
    need(results["config"].get("mode") in ("full", "quick"), "config.mode not full or quick")
    need(results["wall_time_s"] >= 0, "negative wall time")
    need(len(results["runs"]) > 0, "no runs")
    for i, run in enumerate(results["runs"]):
        where = f"runs[{i}]"
        need(isinstance(run, dict), f"{where} not an object")
        need(isinstance(run.get("label"), str), f"{where}.label not a string")
        need(isinstance(run.get("seed"), int), f"{where}.seed not an int")
        need(isinstance(run.get("settings"), dict), f"{where}.settings not an object")
        need(isinstance(run.get("extra"), dict), f"{where}.extra not an object")
        metrics = run.get("metrics")
        need(isinstance(metrics, dict) and metrics, f"{where}.metrics empty or not an object")
        for name, m in metrics.items():
            w = f"{where}.metrics[{name!r}]"
            need(isinstance(m, dict) and set(m) == {"steps", "values"}, f"{w} keys")
            steps, values = m["steps"], m["values"]
            need(isinstance(steps, list) and isinstance(values, list), f"{w} not lists")
            need(len(steps) == len(values) > 0, f"{w} steps and values differ in length")
            need(all(isinstance(s, int) for s in steps), f"{w} steps not ints")
            need(all(a < b for a, b in zip(steps, steps[1:], strict=False)),
                 f"{w} steps not increasing")
            need(all(v is None or (isinstance(v, (int, float)) and math.isfinite(v))
                     for v in values), f"{w} values not finite numbers or null")


def write_results(path: Path, results: Results) -> None:
    validate(results)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, separators=(",", ":"), allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def load_results(path: Path) -> Results:
    results = json.loads(Path(path).read_text(encoding="utf-8"))
    validate(results)
    return results


# ## Progress


def progress(items: Iterable[Any], desc: str, total: int | None = None) -> Iterator[Any]:
    """Iterate with a tqdm progress bar on stderr."""
    from tqdm import tqdm

    yield from tqdm(items, desc=desc, total=total, file=sys.stderr, dynamic_ncols=True,
                    mininterval=0.5)


# ## Data


def stdlib_corpus(n_bytes: int) -> bytes:
    """The first `n_bytes` of the standard library's `.py` files, in sorted path order.

    The files ship with every Python, so nothing is downloaded; the order is fixed, so two
    runs on the same Python see the same bytes (other Python versions see other bytes).
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    chunks, size = [], 0
    for path in sorted(root.glob("*.py")):
        data = path.read_bytes()
        chunks.append(data)
        size += len(data)
        if size >= n_bytes:
            break
    corpus = b"".join(chunks)[:n_bytes]
    if len(corpus) < n_bytes:
        raise RuntimeError(f"standard library has only {len(corpus)} bytes of .py files")
    return corpus


# ## Command line


def experiment_main(
    argv: list[str] | None,
    *,
    name: str,
    description: str,
    full: dict[str, Any],
    quick: dict[str, Any],
    run: Callable[[dict[str, Any]], list[Run]],
    draw: Callable[[Results], Any],
) -> Path | None:
    """Parse the command line and run, or draw; return the results file written, if any."""
    parser = argparse.ArgumentParser(prog=f"python -m labml_optim.experiments.{name}",
                                     description=description)
    parser.add_argument("--quick", action="store_true", help="a tiny run, in seconds")
    parser.add_argument("--results", metavar="PATH",
                        help="results file to write (run) or read (--save)")
    parser.add_argument("--save", metavar="FILE",
                        help="only draw the figure from the results and write it as a PNG")
    parser.add_argument("--no-show", action="store_true", help="do not show the figure")
    args = parser.parse_args(argv)
    committed = results_path(name)

    import matplotlib

    if args.save or args.no_show:
        matplotlib.use("Agg")

    if args.save:
        if args.quick:
            parser.error("--save draws existing results; it does not run (drop --quick)")
        results = load_results(Path(args.results) if args.results else committed)
        fig = draw(results)
        fig.savefig(args.save, dpi=110)
        return None

    config = dict(quick if args.quick else full)
    config["mode"] = "quick" if args.quick else "full"
    if args.results:
        path = Path(args.results)
    elif args.quick:
        fd, tmp = tempfile.mkstemp(prefix=f"{name}-quick-", suffix=".json")
        os.close(fd)
        path = Path(tmp)
    else:
        path = committed
    if args.quick and path.resolve() == committed.resolve():
        parser.error("--quick never overwrites the committed results")

    # One thread: the runs are small, the machine may be shared, and one thread makes the
    # numbers independent of how many cores the machine has.
    torch.set_num_threads(1)
    start = time.perf_counter()
    runs = run(config)
    wall = time.perf_counter() - start
    results = {
        "schema": SCHEMA_VERSION,
        "experiment": name,
        "config": config,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
                    f"{torch.get_num_threads()} torch threads",
        "wall_time_s": round(wall, 2),
        "runs": runs,
    }
    write_results(path, results)
    print(f"{name}: {len(runs)} runs in {wall:.1f} s, results in {path}", file=sys.stderr)
    if not args.no_show:
        import matplotlib.pyplot as plt

        draw(results)
        plt.show()
    return path
