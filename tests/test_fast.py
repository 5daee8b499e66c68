"""The "Fast optimizers" chapter: its byte counts against what the chapters' steps touch."""

from __future__ import annotations

import importlib
import json
import statistics

import pytest
import torch
from support.chapters import ROOT
from support.scripts import load_script
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from labml_optim import fast


class Touched(TorchDispatchMode):
    """Records which of the given arrays an operation reads and which it writes in place."""

    def __init__(self, arrays: list[torch.Tensor]) -> None:
        super().__init__()
        self.ids = {a.untyped_storage().data_ptr(): i for i, a in enumerate(arrays)}
        self.read: set[int] = set()
        self.written: set[int] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        for schema_arg, value in zip(func._schema.arguments, [*args, *kwargs.values()],
                                     strict=False):
            for t in tree_leaves(value):
                if isinstance(t, torch.Tensor) and t.dim() > 0:
                    i = self.ids.get(t.untyped_storage().data_ptr())
                    if i is None:
                        continue
                    alias = schema_arg.alias_info
                    if alias is not None and alias.is_write:
                        self.written.add(i)
                        # An in-place op reads its destination too (x.mul_(b) reads x),
                        # except a pure copy into it.
                        if func.__name__ not in ("copy_", "zero_", "fill_"):
                            self.read.add(i)
                    else:
                        self.read.add(i)
        return func(*args, **kwargs)


# algorithm in the chapter's table -> (chapter, class, keyword arguments)
CASES = {
    "SGD": ("sgd", "SGD", {"lr": 0.1}),
    "SGD momentum": ("sgd", "SGD", {"lr": 0.1, "momentum": 0.9}),
    "Adagrad": ("adagrad", "Adagrad", {"lr": 0.1}),
    "RMSprop": ("rmsprop", "RMSprop", {"lr": 0.01}),
    "RMSprop centered": ("rmsprop", "RMSprop", {"lr": 0.01, "centered": True}),
    "Adam": ("adam", "Adam", {"lr": 0.01}),
    "AdamW": ("adamw", "AdamW", {"lr": 0.01}),
    "RAdam": ("radam", "RAdam", {"lr": 0.01}),
    "AMSGrad": ("amsgrad", "AMSGrad", {"lr": 0.01}),
    "NAdam": ("nadam", "NAdam", {"lr": 0.01}),
    "Adamax": ("adamax", "Adamax", {"lr": 0.01}),
    "AdaBelief": ("adabelief", "AdaBelief", {"lr": 0.01}),
    "Lion": ("lion", "Lion", {"lr": 0.01}),
    "Sophia-G": ("sophia", "SophiaG", {"lr": 0.01}),
    "Muon": ("muon", "Muon", {"lr": 0.01}),  # its elementwise part; the iteration copies
}
# Muon takes matrices only.
SHAPE = {"Muon": (8, 16)}


@pytest.mark.parametrize("algorithm", list(CASES))
def test_one_pass_table_matches_the_arrays_a_step_touches(algorithm: str) -> None:
    """The arrays our step reads and writes (parameter, gradient, state; scalars aside)
    are exactly those the chapter's table counts."""
    module, name, kwargs = CASES[algorithm]
    cls = getattr(importlib.import_module(f"labml_optim.{module}"), name)
    shape = SHAPE.get(algorithm, (64,))
    param = torch.randn(shape, requires_grad=True)
    opt = cls([param], **kwargs)
    # Eight steps first, so that RAdam is past its threshold and every buffer exists.
    for _ in range(8):
        param.grad = torch.randn(shape)
        opt.step()
    param.grad = torch.randn(shape)
    arrays = [param, param.grad] + [v for v in opt.state[param].values()
                                    if torch.is_tensor(v) and v.dim() > 0]
    touched = Touched(arrays)
    with touched:
        opt.step()
    assert (len(touched.read), len(touched.written)) == fast.READS_WRITES[algorithm]
    assert fast.BYTES_PER_PARAM[algorithm] == 4 * sum(fast.READS_WRITES[algorithm])


def test_lamb_touches_adams_arrays_and_needs_a_second_pass() -> None:
    """LAMB's step reads and writes Adam's arrays; the chapter's 40 bytes add the second
    pass over theta and u that the whole-tensor norms force (12 bytes)."""
    from labml_optim.lamb import LAMB

    param = torch.randn(64, requires_grad=True)
    opt = LAMB([param], lr=0.01, weight_decay=0.01)
    param.grad = torch.randn(64)
    opt.step()
    param.grad = torch.randn(64)
    arrays = [param, param.grad, opt.state[param]["exp_avg"], opt.state[param]["exp_avg_sq"]]
    touched = Touched(arrays)
    with touched:
        opt.step()
    assert (len(touched.read), len(touched.written)) == fast.READS_WRITES["Adam"]
    assert fast.BYTES_PER_PARAM["LAMB"] == fast.BYTES_PER_PARAM["Adam"] + 12


def test_floor_example() -> None:
    """24 M parameters at Adam's 28 bytes: 672 MB a step, 16.8 ms at 40 GB/s."""
    assert 24e6 * fast.BYTES_PER_PARAM["Adam"] == pytest.approx(672e6)
    assert fast.floor_seconds(24_000_000, 28, 40e9) == pytest.approx(16.8e-3)


def test_figure_draws_without_results(tmp_path, monkeypatch) -> None:
    """With no committed run the panels say so; with one, the bars are drawn."""
    monkeypatch.setattr(fast, "results_dir", lambda: tmp_path)
    out = tmp_path / "fast.png"
    fast.main(["--save", str(out)])
    assert out.stat().st_size > 0


def touched_by_step(opt: torch.optim.Optimizer, arrays: list[torch.Tensor],
                    step=None) -> tuple[set[int], set[int]]:
    touched = Touched(arrays)
    with touched:
        (step or opt.step)()
    return touched.read, touched.written


def test_sophia_hessian_update_moves_12_bytes_every_k_steps() -> None:
    """`update_hessian` reads the sampled gradient and h and writes h: 12 bytes, so every
    k = 10 steps add 1.2 bytes per step to the step's 24."""
    from labml_optim.sophia import SophiaG

    param = torch.randn(64, requires_grad=True)
    opt = SophiaG([param], lr=0.01)
    param.grad = torch.randn(64)
    opt.step()
    param.grad = torch.randn(64)
    hessian = opt.state[param]["hessian"]
    read, written = touched_by_step(opt, [param, param.grad, hessian], opt.update_hessian)
    assert (read, written) == ({1, 2}, {2})
    assert fast.BYTES_PER_PARAM["Sophia-G"] + 4 * (len(read) + len(written)) / 10 == 25.2


def test_schedule_free_two_buffer_layout_and_the_reference_layout() -> None:
    """The package's default class (theta holds y; z, v stored) moves 28 bytes a step, and
    so does the chapter's with `implicit_x=True`; in the reference's layout (x and y
    stored too, the chapter's default) it moves 44."""
    import schedulefree

    from labml_optim.schedule_free import AdamWScheduleFree

    def step_counts(opt: torch.optim.Optimizer, param: torch.Tensor) -> tuple[int, int]:
        for _ in range(3):
            param.grad = torch.randn(64)
            opt.step()
        param.grad = torch.randn(64)
        state = [v for v in opt.state[param].values() if torch.is_tensor(v) and v.dim() > 0]
        read, written = touched_by_step(opt, [param, param.grad, *state])
        # The package divides the gradient in place to save a buffer (index 1): a write the
        # update does not need, since the scaled gradient can stay in registers.
        return len(read), len(written - {1})

    param = torch.randn(64, requires_grad=True)
    package = schedulefree.AdamWScheduleFree([param], lr=0.01, foreach=False)
    package.train()
    assert step_counts(package, param) == fast.READS_WRITES["SF AdamW"]
    param = torch.randn(64, requires_grad=True)
    ours = step_counts(AdamWScheduleFree([param], lr=0.01), param)
    assert ours == (6, 5) and 4 * sum(ours) == 44
    assert fast.BYTES_PER_PARAM["SF AdamW"] == 28
    # With x implicit the chapter's class is in the package default's layout, which the
    # bench times.
    param = torch.randn(64, requires_grad=True)
    implicit = AdamWScheduleFree([param], lr=0.01, implicit_x=True)
    assert step_counts(implicit, param) == fast.READS_WRITES["SF AdamW"]


def test_adafactor_touches_only_g_and_theta_and_keeps_n_plus_m_numbers() -> None:
    """A matrix's step reads g and theta and writes theta (besides its n + m numbers of
    state); the chapter's 24 bytes are three passes: g, theta; g; g, theta and theta."""
    from labml_optim.adafactor import Adafactor

    n, m = 8, 16
    param = torch.randn(n, m, requires_grad=True)
    opt = Adafactor([param], lr=0.01)
    param.grad = torch.randn(n, m)
    opt.step()
    param.grad = torch.randn(n, m)
    state = [v for v in opt.state[param].values() if torch.is_tensor(v) and v.dim() > 0]
    assert sum(v.numel() for v in state) == n + m
    read, written = touched_by_step(opt, [param, param.grad])
    assert (read, written) == ({0, 1}, {0})
    assert fast.READS_WRITES["Adafactor"] == (3 + 2, 1)
    assert fast.BYTES_PER_PARAM["Adafactor"] == 24
    assert (512 + 512) / (512 * 512) < 0.01


def test_adafactor_on_a_vector_touches_adams_less_one_and_needs_two_passes() -> None:
    """A vector keeps its full second moment v: the step reads g, v, theta and writes v,
    theta; with the second pass for the RMS values that is 4 x (3 + 1 + 3 + 1) = 32."""
    from labml_optim.adafactor import Adafactor

    param = torch.randn(64, requires_grad=True)
    opt = Adafactor([param], lr=0.01)
    param.grad = torch.randn(64)
    opt.step()
    param.grad = torch.randn(64)
    read, written = touched_by_step(opt, [param, param.grad, opt.state[param]["variance"]])
    assert (read, written) == ({0, 1, 2}, {0, 2})
    assert 4 * ((len(read) + 1) + (len(read) + 1)) == 32
    # Storing U in a matrix's second pass adds its write to the 24 bytes: pass one reads
    # g, theta; pass two reads g and writes U; pass three reads U, theta and writes theta.
    assert fast.BYTES_PER_PARAM["Adafactor"] + 4 == 4 * (2 + (1 + 1) + (2 + 1))


@pytest.mark.parametrize("shape", [(8, 16), (16, 8), (12, 12), (1, 5)])
def test_newton_schulz_operation_count(shape: tuple[int, int]) -> None:
    """torch's flop counter over Muon's iteration agrees with 5 (4 A^2 B + 2 A^3)."""
    from torch.utils.flop_counter import FlopCounterMode

    from labml_optim.muon import newton_schulz

    counter = FlopCounterMode(display=False)
    with counter:
        newton_schulz(torch.randn(shape))
    assert counter.get_total_flops() == fast.newton_schulz_flops(*shape)


def test_muon_operations_per_parameter_at_512() -> None:
    assert fast.newton_schulz_flops(512, 512) / (512 * 512) == 15_360
    assert 15_360 / 12 > 1000  # against Adam's dozen operations per parameter
    assert fast.BYTES_PER_PARAM["Muon"] == fast.BYTES_PER_PARAM["SGD momentum"] == 20


def test_bench_floor_lookup_covers_every_benched_algorithm() -> None:
    """Every algorithm the bench script times has a floor in the chapter's table."""
    bench = load_script("bench_optim")
    for algorithm in bench.candidates():
        assert bench.floor_bytes(algorithm) == fast.BYTES_PER_PARAM[algorithm], algorithm


def load_bench():
    return load_script("bench_optim")


def test_bench_writes_and_appends_results(tmp_path) -> None:
    """A tiny eager run writes the JSON the chapter reads; `--append` replaces the rows of
    the algorithms it runs and keeps the others, each row with its own floor."""
    bench = load_bench()
    out = tmp_path / "run.json"
    tiny = ["--million", "0.02", "--tensors", "4", "--steps", "1", "--rounds", "1",
            "--no-compile", "--threads", "1", "--json", str(out)]
    threads = torch.get_num_threads()
    try:
        bench.main([*tiny, "--only", "Adam", "Lion"])
        bench.main([*tiny, "--only", "Lion", "SGD momentum", "--append"])
        with pytest.raises(SystemExit, match="threads"):
            bench.main([*tiny[:-4], "--threads", "2", "--json", str(out), "--only", "Lion",
                        "--append"])
    finally:
        torch.set_num_threads(threads)  # the bench sets it for the whole process
    result = json.loads(out.read_text())
    algorithms = [row["algorithm"] for row in result["rows"]]
    assert sorted(set(algorithms)) == ["Adam", "Lion", "SGD momentum"]
    assert algorithms.count("Lion") == len({r["implementation"] for r in result["rows"]
                                            if r["algorithm"] == "Lion"})
    for row in result["rows"]:
        assert row["ms"] > 0 and row["bandwidth_gbs"] > 0
        assert row["floor_ms"] == pytest.approx(
            fast.BYTES_PER_PARAM[row["algorithm"]] * result["params"]
            / (row["bandwidth_gbs"] * 1e9) * 1e3)
    table = fast.results_table(result)
    assert table.count("\n") == 1 + 3
    # The merged file's bandwidth is the median over its algorithms, one probe each.
    probes = {row["algorithm"]: row["bandwidth_gbs"] for row in result["rows"]}
    assert result["bandwidth_gbs"] == statistics.median(probes.values())
    # Two algorithms of five and three rows: the median over rows would be Adam's probe.
    two = tmp_path / "two.json"
    try:
        bench.main([*tiny[:-1], str(two), "--only", "Adam", "Lion"])
        bench.main([*tiny[:-1], str(two), "--only", "Lion", "--append"])
    finally:
        torch.set_num_threads(threads)
    result = json.loads(two.read_text())
    probes = {row["algorithm"]: row["bandwidth_gbs"] for row in result["rows"]}
    counts = [sum(r["algorithm"] == a for r in result["rows"]) for a in ("Adam", "Lion")]
    assert counts[0] > counts[1] and probes["Adam"] != probes["Lion"]
    assert result["bandwidth_gbs"] == pytest.approx((probes["Adam"] + probes["Lion"]) / 2)
    assert result["bandwidth_gbs"] == bench.run_bandwidth(result)


@pytest.mark.parametrize("n", [1, 3, 8])
def test_bench_round_orders_give_every_row_every_place(n: int) -> None:
    """Over twice as many rounds as rows, each row takes every place twice and each pair of
    neighbours runs in both orders: a noisy moment falls on every row alike, and no row
    always runs first or always right after the same row."""
    round_order = load_bench().round_order
    items = list(range(n))
    orders = [round_order(items, k) for k in range(2 * n)]
    for order in orders:
        assert sorted(order) == items
    for place in range(n):
        assert sorted(order[place] for order in orders) == sorted(2 * items)
    pairs = {(a, b) for order in orders for a, b in zip(order, order[1:], strict=False)}
    assert all((b, a) in pairs for a, b in pairs)
    assert round_order([], 3) == []
    # The A/B scripts' order: each item takes every place once over as many rounds.
    rotated = load_bench().rotated
    assert [rotated(items, k)[0] for k in range(n)] == items
    assert rotated(items, n) == items and rotated([], 2) == []


def test_bench_times_every_row_every_round_in_the_changing_order(monkeypatch,
                                                                tmp_path) -> None:
    """The bench's loop itself: each round times the probe and every implementation, in
    that round's order (a tiny eager run of three rounds, its timer replaced by a log)."""
    bench = load_bench()
    calls: list[object] = []
    timer = bench.time_steps

    def logged(step, steps, device):
        calls.append(step)
        return timer(step, steps, device)

    monkeypatch.setattr(bench, "time_steps", logged)
    threads = torch.get_num_threads()
    try:
        bench.main(["--million", "0.02", "--tensors", "4", "--steps", "1", "--rounds", "3",
                    "--no-compile", "--threads", "1", "--only", "Lion",
                    "--json", str(tmp_path / "run.json")])
    finally:
        torch.set_num_threads(threads)
    result = json.loads((tmp_path / "run.json").read_text())
    timed = len({r["implementation"] for r in result["rows"]}) + 1  # and the probe
    assert len(calls) == 3 * timed
    rounds = [calls[k * timed:(k + 1) * timed] for k in range(3)]
    assert len(set(map(id, rounds[0]))) == timed
    for k, order in enumerate(rounds):
        assert [id(f) for f in order] == [id(f) for f in bench.round_order(rounds[0], k)]


def test_a_files_bandwidth_is_the_median_of_the_run_most_algorithms_share() -> None:
    """`run_bandwidth`: one probe an algorithm, the rows of the shape most algorithms were
    timed with, whichever run wrote the file first; no shape left empty."""
    run_bandwidth = load_bench().run_bandwidth

    def row(algorithm: str, gbs: float, steps: int, rounds: int) -> dict:
        return {"algorithm": algorithm, "bandwidth_gbs": gbs, "steps": steps,
                "rounds": rounds}

    main = [row("Adam", 40.0, 5, 5), row("Adam", 40.0, 5, 5), row("Lion", 30.0, 5, 5),
            row("SGD momentum", 32.0, 5, 5)]
    muon = [row("Muon", 18.0, 1, 3)]
    # A Muon-only file that the main run was appended to: the main run's shape wins.
    assert run_bandwidth({"steps": 1, "rounds": 3, "rows": muon + main}) == 32.0
    assert run_bandwidth({"steps": 5, "rounds": 5, "rows": main + muon}) == 32.0
    # Rows of another shape only: their own median, not an empty one.
    assert run_bandwidth({"steps": 5, "rounds": 5, "rows": muon}) == 18.0
    # Rows without their own shape take the file's.
    assert run_bandwidth({"steps": 5, "rounds": 5, "rows": [
        {"algorithm": "Adam", "bandwidth_gbs": 40.0}, {"algorithm": "Lion",
                                                       "bandwidth_gbs": 30.0}]}) == 35.0


def test_bench_times_the_step_compiled_with_early_write_backs(tmp_path) -> None:
    """`--compile-early` adds ours compiled through `fast.compile_step`, and the chapter's
    table shows it in its own column."""
    bench = load_bench()
    out = tmp_path / "run.json"
    threads = torch.get_num_threads()
    try:
        bench.main(["--million", "0.02", "--tensors", "4", "--steps", "1", "--rounds", "1",
                    "--threads", "1", "--only", "Adafactor", "--compile-early",
                    "--json", str(out)])
    finally:
        torch.set_num_threads(threads)
    result = json.loads(out.read_text())
    labels = {row["implementation"] for row in result["rows"]}
    assert {"labml_optim compiled", "labml_optim compiled early"} <= labels
    early = next(r for r in result["rows"] if r["implementation"] == "labml_optim compiled early")
    row = fast.results_table(result).splitlines()[2].split("|")
    assert row[6].strip() == f"{early['ms'] / early['floor_ms']:.2f}"


@pytest.mark.parametrize(("option", "algorithm", "expected"), [
    (None, "Adam", False), ([], "Adam", True), (["Adam"], "Adam", True),
    (["RAdam"], "Adam", False),
])
def test_bench_options_that_take_algorithms(option, algorithm, expected) -> None:
    """`--compile-cost` absent times no compile, alone every one, with names those named."""
    assert load_bench().chosen(option, algorithm) is expected


@pytest.mark.parametrize("option", ["--only", "--skip", "--compile-cost", "--compile-torch",
                                    "--compile-early"])
def test_bench_rejects_an_unknown_algorithm_by_its_option(option, capsys) -> None:
    with pytest.raises(SystemExit):
        load_bench().main([option, "Adma"])
    assert f"{option}: unknown algorithm(s) ['Adma']" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["--no-compile", "--compile-cost"], "--compile-cost needs the compiled rows"),
    (["--only", "Adam", "--compile-torch", "RAdam"], "--compile-torch: ['RAdam'] not run"),
    (["--skip", "Adam", "--compile-cost", "Adam"], "--compile-cost: ['Adam'] not run"),
])
def test_bench_rejects_compile_options_that_would_do_nothing(argv, message, capsys) -> None:
    with pytest.raises(SystemExit):
        load_bench().main(argv)
    assert message in capsys.readouterr().err


def test_passes_move_the_floors_bytes() -> None:
    for name in fast.READS_WRITES:
        plan = fast.passes(name)
        assert 4 * sum(len(r) + len(w) for r, w in plan) == fast.BYTES_PER_PARAM[name], name
        assert all(set(w) <= set(r) for r, w in plan), name  # an update reads what it writes


def test_a_whole_tensor_sum_compiles_to_a_cascade_and_a_sum_by_rows_does_not() -> None:
    """What a compiled sum costs: inductor sums a whole large tensor through a cascade of
    partial sums, and a norm of row norms without one."""
    from torch._inductor.utils import run_and_get_code

    x = torch.randn(625, 512)
    torch._dynamo.reset()
    _, whole = run_and_get_code(torch.compile(lambda: torch.linalg.vector_norm(x)))
    _, rows = run_and_get_code(torch.compile(
        lambda: torch.linalg.vector_norm(torch.linalg.vector_norm(x, dim=-1))))
    assert "CascadeSumHelper" in "".join(whole)
    assert "CascadeSumHelper" not in "".join(rows)


@pytest.mark.parametrize(("algorithm", "loops"), [("Adam", 1), ("LAMB", 3), ("Adafactor", 5)])
def test_same_traffic_loop_runs_the_floors_passes(algorithm: str, loops: int) -> None:
    """The bench's same-traffic loop compiles to one generated loop a pass, plus a short
    one that adds up the row sums of each pass that ends in a sum (LAMB 2 + 1, Adafactor
    3 + 2): a later pass waits on the sum of the one before, so inductor cannot merge them
    (it did, before the passes were chained)."""
    from torch._inductor.utils import run_and_get_code

    bench = load_bench()
    torch._dynamo.reset()
    twin = bench.traffic_twin(algorithm, 100_000, "cpu")
    _, codes = run_and_get_code(twin)
    assert sum(code.count("for(int64_t x0") for code in codes) == loops
    # Every array a pass writes is stored once, as a vector.
    writes = sum(len(w) for _, w in fast.passes(algorithm))
    assert sum(code.count(".store(") for code in codes) == writes


def test_the_copies_script_times_each_copy_beside_the_same_traffic_loops(tmp_path,
                                                                        capsys) -> None:
    """`scripts/ab_copies.py`, which measured the chapter's copies, on four tensors and one
    round: every copy and both same-traffic loops are timed, the ratios are to the flat
    loop, and an update of several passes gets no loop per tensor."""
    script = load_script("ab_copies")
    out = tmp_path / "copies.json"
    threads = torch.get_num_threads()
    try:
        script.main(["SGD momentum", "--copies", "2", "--rounds", "1", "--million", "0.02",
                     "--tensors", "4", "--json", str(out)])
    finally:
        torch.set_num_threads(threads)
    rows = json.loads(out.read_text())["algorithms"]["SGD momentum"]
    assert list(rows) == ["same traffic, flat", "same traffic, per tensor",
                          "compiled, copy 1", "compiled, copy 2"]
    assert rows["same traffic, flat"]["ratio"] == 1
    assert all(r["ms"] > 0 for r in rows.values())
    assert all(len(r["round_ms"]) == 1 for r in rows.values())
    assert "highest / lowest ratio" in capsys.readouterr().out
    assert script.twin_per_tensor("LAMB", [torch.Size([4, 8])]) is None


def test_the_loop_per_tensor_moves_the_flat_loops_arrays() -> None:
    """The same-traffic loop split by tensor reads and writes what the flat one does: SGD
    with momentum's three arrays read and two written, per tensor."""
    script = load_script("ab_copies")
    torch._dynamo.reset()
    from torch._inductor.utils import run_and_get_code

    twin = script.twin_per_tensor("SGD momentum", [torch.Size([8, 64]), torch.Size([8])])
    _, codes = run_and_get_code(twin)
    code = "".join(codes)
    assert code.count("for(int64_t x0") == 2  # one loop a tensor
    assert code.count(".store(") == 2 * 2  # two arrays written in each


def test_the_per_tensor_cost_script_counts_the_state_key_lookups(tmp_path, capsys) -> None:
    """`scripts/per_tensor_cost.py` on four tiny tensors: the three steps are timed and the
    compiled Adam step looks up its state's keys twice a tensor."""
    script = load_script("per_tensor_cost")
    out = tmp_path / "cost.json"
    threads = torch.get_num_threads()
    try:
        script.main(["Adam", "--tensors", "4", "--rounds", "1", "--lookups", "10", "20",
                     "--json", str(out)])
    finally:
        torch.set_num_threads(threads)
    adam = json.loads(out.read_text())["algorithms"]["Adam"]
    assert adam["lookups per tensor"] == 2
    assert set(adam["lookup ms"]) == {"10", "20"}
    assert all(adam[key] > 0 for key in ("eager ms", "compiled ms",
                                         "compiled, no size asserts ms"))
    assert "state-key lookups: 2.00 a tensor a step" in capsys.readouterr().out


def test_the_early_write_back_claims_hold_in_the_committed_run() -> None:
    """What "What a compiled step writes last" says of `scripts/ab_write_back.py`'s
    committed run and of the bench's early rows, in this run and the repeat."""
    result = fast.load_results("cpu", "large")
    rows = {(r["algorithm"], r["implementation"]): r for r in result["rows"]}
    repeat = json.loads((fast.results_dir() / "cpu-large-repeat.json").read_text())
    again = {(r["algorithm"], r["implementation"]): r for r in repeat["rows"]}
    text = " ".join(fast.__doc__.split())

    def plain_early(algorithm: str, rows: dict = rows) -> tuple[dict, dict]:
        return (rows[(algorithm, "labml_optim compiled")],
                rows[(algorithm, "labml_optim compiled early")])

    def floor(row: dict) -> str:
        return f"{row['ms'] / row['floor_ms']:.2f}"

    # The alternated run: every round kept, the medians of the rounds' ratios quoted.
    ab = json.loads((fast.results_dir() / "ab-write-back.json").read_text())
    assert (ab["layers"], ab["rounds"], ab["steps"], ab["threads"]) == (75, 9, 5, 1)
    ratio = {}
    for algorithm, r in ab["algorithms"].items():
        rounds = [e / p for p, e in zip(r["round_ms"]["plain"], r["round_ms"]["early"],
                                        strict=True)]
        assert len(rounds) == ab["rounds"]
        assert r["ratio"] == statistics.median(rounds)
        ratio[algorithm] = rounds
    assert f"the early step took {statistics.median(ratio['LAMB']):.2f}, " \
           f"{statistics.median(ratio['Adafactor']):.2f} and " \
           f"{statistics.median(ratio['Adam']):.2f} times the plain step's time for LAMB, " \
           "Adafactor and Adam" in text
    assert f"LAMB's rounds ranged from {min(ratio['LAMB']):.2f} to " \
           f"{max(ratio['LAMB']):.2f})" in text
    # The two-pass updates gain in every round; the one-pass Adam does not, by a margin.
    for algorithm in ("LAMB", "Adafactor"):
        assert max(ratio[algorithm]) < 1, algorithm
    assert abs(statistics.median(ratio["Adam"]) - 1) < 0.1
    # The chapters quote the alternated ratio beside the pass it speeds up.
    for algorithm, module in (("LAMB", "lamb"), ("Adafactor", "adafactor")):
        source = " ".join(line.strip().lstrip("# ") for line in
                          (ROOT / "labml_optim" / f"{module}.py").read_text().splitlines())
        assert f"({statistics.median(ratio[algorithm]):.2f} times a plain compile's time, in " \
               "one process that alternated the two)" in source, algorithm
    # The bench's early rows, which moved more.
    early_run = sorted({a for a, i in rows if i == "labml_optim compiled early"})
    assert early_run == ["Adafactor", "Adam", "LAMB", "RAdam"]
    plain, early = plain_early("Adafactor")
    assert f"the pass took Adafactor's compiled step from {plain['ms']:.1f} to " \
           f"{early['ms']:.1f} ms, {floor(plain)} to {floor(early)} times the floor" in text
    plain, early = plain_early("LAMB")
    assert early["ms"] / plain["ms"] > max(ratio["LAMB"])
    assert f"but LAMB's only from {plain['ms']:.1f} to {early['ms']:.1f} ms " \
           f"({early['ms'] / plain['ms']:.2f} of its time, above every round of the alternated " \
           f"run), {floor(plain)} to {floor(early)} times the floor and " \
           f"{early['ms'] / early['twin_ms']:.2f} times its same-traffic loop" in text
    plain, early = plain_early("Adam")
    assert f"Adam, a one-pass update, gained nothing in the alternated run " \
           f"({statistics.median(ratio['Adam']):.2f}), and in the bench its rows were " \
           f"{floor(plain)} and {floor(early)} times the floor, plain and early" in text
    plain, early = plain_early("RAdam")
    assert "RAdam" not in ab["algorithms"]
    assert f"RAdam, also one pass and not in the alternated run, took {floor(plain)} and " \
           f"{floor(early)} (and its early row was the faster in the repeat too)" in text
    plain, early = plain_early("RAdam", again)
    assert early["ms"] < plain["ms"]
    # LAMB's is the early row that moved more than the alternated rounds; the others' did not.
    for algorithm in ("Adafactor", "Adam"):
        plain, early = plain_early(algorithm)
        assert min(ratio[algorithm]) < early["ms"] / plain["ms"] < max(ratio[algorithm])
    # The committed run's order: the plain compile first, torch's compiled for-loop (where
    # the bench compiled it) between it and the early one; the JSON keeps that order.
    for algorithm in early_run:
        order = [i for a, i in rows if a == algorithm]
        between = order[order.index("labml_optim compiled") + 1:
                        order.index("labml_optim compiled early")]
        assert between == (["torch for-loop compiled"]
                           if algorithm in ("Adam", "RAdam") else []), algorithm
    plain, early = plain_early("LAMB", again)
    assert "in a fixed order, the plain compile always before the early one (just before it " \
           "for LAMB and Adafactor; the bench now changes the order from round to round). " \
           "In its \"early\" column" in text
    # The order is not why LAMB's early row gained little: the repeat, in the same order,
    # gained as the alternated run did.
    assert f"in the repeat (below; timed in the same order, with an earlier version of the " \
           f"pass) it took LAMB's from {plain['ms']:.1f} to {early['ms']:.1f} ms " \
           f"({early['ms'] / plain['ms']:.2f} of its time), {floor(plain)} to {floor(early)} " \
           "times the floor" in text
    assert f"{early['ms'] / plain['ms']:.2f}" == f"{statistics.median(ratio['LAMB']):.2f}"
    # Each array once: LAMB's reads and writes are Adam's, Adafactor's its last pass's.
    assert fast.BYTES_PER_PARAM["Adam"] == 28
    assert 4 * sum(len(arrays) for arrays in fast.passes("Adafactor")[-1]) == 12
    assert "writes $m, v, \\theta$, Adam's 28 bytes a parameter, and Adafactor reads $g, " \
           "\\theta$ and writes $\\theta$, 12." in text
    assert round(625 * 512 * 4 / 1e6, 1) == 1.3
    assert "tensor's arrays are 1.3 MB each" in text


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("regime", ["large", "small"])
def test_committed_results_are_the_chapters_table(device: str, regime: str) -> None:
    """The chapter's tables are `results_table` of the committed runs, to the digit."""
    result = fast.load_results(device, regime)
    assert result is not None, f"labml_optim/fast/{device}-{regime}.json is not committed"
    assert set(r["algorithm"] for r in result["rows"]) <= set(fast.BYTES_PER_PARAM)
    assert fast.results_table(result) in fast.__doc__


def probe_median(result: dict) -> float:
    """A run's bandwidth as the bench states it: the median over its algorithms, one probe
    each, of the rows timed as the file's run was (Muon's large-tensor rows, from a run of
    their own, are left out)."""
    return load_bench().run_bandwidth(result)


@pytest.mark.parametrize("name", ["cpu-large", "cpu-large-repeat", "cpu-small", "cuda-large",
                                  "cuda-small"])
def test_each_committed_run_states_its_bandwidth_as_the_bench_does(name: str) -> None:
    result = json.loads((fast.results_dir() / f"{name}.json").read_text())
    # All of an algorithm's rows share its probe.
    for algorithm in {r["algorithm"] for r in result["rows"]}:
        assert len({r["bandwidth_gbs"] for r in result["rows"]
                    if r["algorithm"] == algorithm}) == 1, algorithm
    assert result["bandwidth_gbs"] == probe_median(result)


def test_the_chapters_claims_hold_in_the_committed_runs() -> None:
    """What the chapter says of the large-tensor run, checked against it."""
    result = fast.load_results("cpu", "large")
    assert result is not None
    rows = {(r["algorithm"], r["implementation"]): r for r in result["rows"]}

    def floor(algorithm: str, implementation: str) -> float:
        row = rows[(algorithm, implementation)]
        return row["ms"] / row["floor_ms"]

    compiled = [a for a in fast.READS_WRITES
                if (a, "labml_optim compiled") in rows and a != "Muon"]
    assert len(compiled) >= 15, compiled
    # Muon: 346 GFLOP a step at about 2.5 GFLOP/s, 141 s, alike for all three rows.
    flops = fast.newton_schulz_flops(625, 512) * 75
    assert round(flops / 1e9) == 346
    muon = [rows[("Muon", i)]["ms"] / 1e3 for i in
            ("labml_optim", "labml_optim compiled", "torch for-loop")]
    assert all(abs(t / 141 - 1) < 0.02 for t in muon), muon
    assert round(flops / 1e9 / statistics.median(muon), 1) == 2.5
    # Five rounds of five steps of its three rows, as the other algorithms ran.
    assert round(5 * 5 * 3 * statistics.median(muon) / 3600) == 3
    assert "five steps of its three rows would take about three hours" in " ".join(
        fast.__doc__.split())
    # Within 1.2 times the floor as the table prints it, to two decimals.
    passing = [a for a in compiled if round(floor(a, "labml_optim compiled"), 2) <= 1.2]
    named = ", ".join(passing[:-1]) + " and " + passing[-1]
    text = " ".join(fast.__doc__.split())
    words = {5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten", 11: "eleven",
             12: "twelve"}
    assert f"(1.20 or less, as the table prints them) for {words[len(passing)]} of these " \
           f"algorithms ({named})," in text, passing
    # One run: every row but Muon's shares it, and the probe's range and median are quoted.
    assert len({(r["steps"], r["rounds"]) for r in result["rows"] if r["algorithm"] != "Muon"}) == 1
    probes = [rows[(a, "labml_optim")]["bandwidth_gbs"] for a in compiled]
    muon_probe = rows[("Muon", "labml_optim")]["bandwidth_gbs"]
    assert f"The probe measured {min(probes):.1f} to {max(probes):.1f} GB/s, a median of " \
           f"{probe_median(result):.1f} over the run" in text
    assert "Muon" not in {r["algorithm"] for r in result["rows"]
                          if (r["steps"], r["rounds"]) == (result["steps"], result["rounds"])}
    assert f"on an earlier machine ({muon_probe:.1f} GB/s, below)" in text
    assert result["bandwidth_gbs"] > 2 * muon_probe
    # Within 1.2 times of torch's fused kernel wherever torch has one.
    with_fused = [a for a in compiled if (a, "torch fused") in rows]
    vs_fused = [rows[(a, "labml_optim compiled")]["ms"] / rows[(a, "torch fused")]["ms"]
                for a in with_fused]
    assert len(vs_fused) >= 4 and max(vs_fused) <= 1.2, vs_fused

    # The same-traffic loop: its time over the floor, and each compiled step over it.
    def twin(algorithm: str, implementation: str = "labml_optim compiled",
             rows: dict = rows) -> float:
        row = rows[(algorithm, implementation)]
        return row["ms"] / row["twin_ms"]

    def span(values: list[float]) -> str:
        return f"{min(values):.2f} to {max(values):.2f}"

    def twin_floor(algorithm: str, rows: dict = rows) -> float:
        row = rows[(algorithm, "labml_optim")]
        return row["twin_ms"] / row["floor_ms"]

    assert f"the compiled chapter took {span(vs_fused)} times its time" in text
    one_pass = [a for a in compiled if a not in fast.PASSES]
    assert f"loop ran at {span([twin_floor(a) for a in one_pass])} times the floor for the " \
           "one-pass updates" in text
    plain = [twin(a) for a in one_pass]
    assert max(one_pass, key=twin) == "RAdam"
    assert f"compiled one-pass chapters took {span(plain)} times as long (RAdam the most" in text
    fused_twin = [twin(a, "torch fused") for a in with_fused]
    assert f"torch's fused kernels {span(fused_twin)} times" in text
    nearer = [a for a in with_fused if twin(a, "torch fused") < twin(a)]
    assert len(with_fused) == 5 and nearer == with_fused
    assert "for all five algorithms that have one, the fused kernel was nearer its loop than " \
           "the compiled chapter" in text
    # Schedule-Free, timed with x implicit, against its row in the previous run.
    sf = ("SF AdamW", "labml_optim compiled")
    # The previous run: for the algorithms whose code did not change between the two,
    # how far the compiled step's ratio to the floor moved.
    repeat = json.loads((fast.results_dir() / "cpu-large-repeat.json").read_text())
    again = {(r["algorithm"], r["implementation"]): r for r in repeat["rows"]}
    assert f"compiled step took {rows[sf]['ms']:.1f} ms, {floor(*sf):.2f} times the floor " \
           f"({again[sf]['ms'] / again[sf]['floor_ms']:.2f} in the repeat, below, before a " \
           "change to how it computes its numbers per tensor)" in text
    assert floor(*sf) <= 1.2 and again[sf]["ms"] / again[sf]["floor_ms"] <= 1.2
    unchanged = [a for a in compiled if a != "SF AdamW"]
    words[14] = "fourteen"
    assert f"For the {words[len(unchanged)]} algorithms whose compiled step did not change " \
           "between the two (all but Schedule-Free)" in text
    assert len({(r["steps"], r["rounds"]) for r in repeat["rows"] if r["algorithm"] != "Muon"}) \
        == 1

    def moved(algorithm: str) -> float:
        key = (algorithm, "labml_optim compiled")
        return abs(rows[key]["ms"] / rows[key]["floor_ms"]
                   - again[key]["ms"] / again[key]["floor_ms"])

    most = max(unchanged, key=moved)
    assert most == "RAdam"

    def pct(x: float) -> str:
        return f"{abs(x - 1):.0%}".replace("%", " %")

    # RAdam's ratio moved with its own time, Adam's with the probe's.
    for algorithm, joint in (("RAdam", " while"), ("Adam", ", but")):
        key = (algorithm, "labml_optim compiled")
        now, before = rows[key], again[key]
        assert f"{algorithm}'s step took {before['ms']:.1f} and {now['ms']:.1f} ms{joint} " \
               f"the probe measured {before['bandwidth_gbs']:.1f} and " \
               f"{now['bandwidth_gbs']:.1f} GB/s: its ratio went from " \
               f"{before['ms'] / before['floor_ms']:.2f} to {now['ms'] / now['floor_ms']:.2f} " \
               "with the" in text, algorithm
    radam, adam = ("RAdam", "labml_optim compiled"), ("Adam", "labml_optim compiled")
    assert f"with the step's own time, which moved by " \
           f"{pct(rows[radam]['ms'] / again[radam]['ms'])} (its same-traffic loop's" in text
    assert f"with the probe, which moved by " \
           f"{pct(rows[adam]['bandwidth_gbs'] / again[adam]['bandwidth_gbs'])}." in text
    assert f"moved by up to {moved(most):.2f}, and either side of a ratio can move it" in text
    # RAdam, unchanged: the furthest one-pass row from its loop in both runs.
    assert f"The same code measured {floor(*radam):.2f} times the floor here and " \
           f"{again[radam]['ms'] / again[radam]['floor_ms']:.2f} in the " \
           f"repeat. Its same-traffic loop, the same bytes as Adam's, measured " \
           f"{twin_floor('RAdam'):.2f} times the floor here ({twin_floor('RAdam', again):.2f} " \
           f"in the repeat), and the compiled step took {twin('RAdam'):.2f} times that loop " \
           f"here and {twin('RAdam', rows=again):.2f} in the repeat, the most of the one-pass " \
           "rows in both runs" in text
    assert max(one_pass, key=lambda a: twin(a, rows=again)) == "RAdam"
    # Over its loop RAdam's step moved little: the loop moved with it.
    radam_loop = rows[("RAdam", "labml_optim")]["twin_ms"] / \
        again[("RAdam", "labml_optim")]["twin_ms"]
    assert f"(its same-traffic loop's by {pct(radam_loop)}, so that over that loop the step " \
           f"went only from {twin('RAdam', rows=again):.2f} to {twin('RAdam'):.2f})" in text
    assert fast.BYTES_PER_PARAM["RAdam"] == fast.BYTES_PER_PARAM["Adam"]
    # Adam's excess over its same-traffic loop: test_the_cost_per_tensor_is_set_beside_...
    lamb_early = ("LAMB", "labml_optim compiled early")
    assert f"same-traffic loop alone was {twin_floor('LAMB'):.2f} times the floor here " \
           f"({twin_floor('LAMB', again):.2f} in the repeat), and the compiled step " \
           f"{twin('LAMB'):.2f} times that loop" in text
    assert f"the row is {floor(*lamb_early):.2f} here and " \
           f"{again[lamb_early]['ms'] / again[lamb_early]['floor_ms']:.2f} in the repeat" in text
    ab = json.loads((fast.results_dir() / "ab-write-back.json").read_text())["algorithms"]
    assert f"a plain compile in one process the early step took {ab['LAMB']['ratio']:.2f} " \
           "times its time (above)" in text
    loops = [twin_floor(a) for a in one_pass]
    loops_before = [twin_floor(a, again) for a in one_pass]
    assert min(loops) < twin_floor("Adafactor") < max(loops)
    assert twin_floor("Adafactor", again) > max(loops_before)
    assert f"Adafactor's same-traffic loop is {twin_floor('Adafactor'):.2f} times the floor " \
           f"here, within the one-pass loops' {span(loops)}, and " \
           f"{twin_floor('Adafactor', again):.2f} in the repeat, above every one-pass loop " \
           f"there (at most {max(loops_before):.2f})" in text
    assert f"The compiled step is {twin('Adafactor'):.2f} times that loop" in text
    assert f"With the write-backs early, the row is " \
           f"{floor('Adafactor', 'labml_optim compiled early'):.2f} (above)" in text
    for algorithm in ("LAMB", "Adafactor"):
        assert floor(algorithm, "labml_optim compiled") > 1.2 + moved(most), algorithm
    # torch's for-loop, compiled, stays far from the floor; the chapters' compiled RAdam
    # and LAMB are ahead of every other row.
    assert (f"Adam {floor('Adam', 'torch for-loop compiled'):.2f}, RAdam "
            f"{floor('RAdam', 'torch for-loop compiled'):.2f} times the floor") in text
    for algorithm in ("Adam", "RAdam"):
        assert floor(algorithm, "torch for-loop compiled") > 2
        assert again[(algorithm, "torch for-loop compiled")]["ms"] \
            / again[(algorithm, "torch for-loop compiled")]["floor_ms"] > 2
    assert "Adam, compiled, runs at more than twice its floor" in text
    ahead, fastest = {}, {}
    for algorithm in ("RAdam", "LAMB"):
        ours = rows[(algorithm, "labml_optim compiled")]["ms"]
        others = {i: r["ms"] for (a, i), r in rows.items()
                  if a == algorithm and not i.startswith("labml_optim")}
        fastest[algorithm] = min(others, key=others.get)
        ahead[algorithm] = others[fastest[algorithm]] / ours
        assert ahead[algorithm] > 1.4, algorithm
    assert fastest == {"RAdam": "labml_nn", "LAMB": "torch-optimizer"}
    assert f"{ahead['RAdam']:.2f} times faster than the fastest other RAdam (labml_nn's) and " \
           f"{ahead['LAMB']:.2f} times faster than the fastest other LAMB " \
           "(torch-optimizer's)" in text
    early = {a: others_fastest / rows[(a, "labml_optim compiled early")]["ms"]
             for a, others_fastest in ((a, ahead[a] * rows[(a, "labml_optim compiled")]["ms"])
                                       for a in ("RAdam", "LAMB"))}
    assert f"(torch-optimizer's); compiled with the write-backs early, {early['RAdam']:.2f} " \
           f"and {early['LAMB']:.2f} times." in text
    # Eager chapters at 1.4 to 3.9 times the floor, more for Adafactor; fused kernels near it.
    heavier = {"Adafactor"}
    eager = [floor(a, "labml_optim") for a in compiled if a not in heavier]
    assert f"eager steps run at {min(eager):.1f} to {max(eager):.1f} times the floor" in text
    assert all(floor(a, "labml_optim") > max(eager) for a in heavier)
    fused = [floor(a, "torch fused") for a in with_fused]
    fused_before = [again[(a, "torch fused")]["ms"] / again[(a, "torch fused")]["floor_ms"]
                    for a in with_fused]
    assert f"fused kernels ran at {span(fused)} of it ({span(fused_before)} in the repeat, " \
           f"whose probe measured less), the compiled Schedule-Free at {floor(*sf):.2f}, and " \
           "some same-traffic loops below it" in text
    assert probe_median(repeat) < probe_median(result)
    assert min(fused + [floor(*sf)]) > 1 > min(twin_floor(a) for a in one_pass)  # "nearly"
    costs = [(r["compile_cold_s"] - r["ms"] / 1e3, r["compile_cached_s"] - r["ms"] / 1e3)
             for r in result["rows"] if "compile_cold_s" in r and r["algorithm"] != "Muon"]
    assert len(costs) == len(compiled), costs
    colds, cacheds = [c for c, _ in costs], [c for _, c in costs]
    assert round(max(colds) / 15) == 9  # "up to two and a quarter minutes"
    assert "Compiling costs up to two and a quarter minutes, once" in text
    # "five rounds of each": every row of the run (Muon's come from another) alike.
    assert {(r["steps"], r["rounds"]) for r in result["rows"] if r["algorithm"] != "Muon"} \
        == {(5, 5)}
    assert (f"took {min(colds):.0f} to {max(colds):.0f} s more than a step, and "
            f"{min(cacheds):.0f} to {max(cacheds):.0f} s with the cache warm") in text
    # Many small tensors: eager chapters far above the floor (Muon aside), torch's fused
    # kernels closer, on the same machine as the large run.
    small = fast.load_results("cpu", "small")
    assert small is not None
    ours = [r["ms"] / r["floor_ms"] for r in small["rows"]
            if r["implementation"] == "labml_optim" and r["algorithm"] != "Muon"]
    fused = [r["ms"] / r["floor_ms"] for r in small["rows"] if r["implementation"] == "torch fused"]
    assert f"run at {min(ours):.1f} to {max(ours):.1f} times the floor (Muon's" in text
    assert f"stay within {min(fused):.1f} to {max(fused):.1f} times it" in text
    assert max(fused) < min(ours)
    adam = next(r for r in small["rows"] if r["implementation"] == "labml_optim compiled")
    probe = {name: probe_median(run) for name, run in
             (("small", small), ("repeat", repeat), ("large", result))}
    assert f"the median of its probe over its algorithms, Adam's later run among them, " \
           f"{probe['small']:.1f} GB/s, is {pct(probe['small'] / probe['repeat'])} below the " \
           f"repeat's, " \
           f"{probe['repeat']:.1f}, and {pct(probe['small'] / probe['large'])} below this " \
           f"run's, {probe['large']:.1f}; Adam's later run, below, measured " \
           f"{adam['bandwidth_gbs']:.1f})" in text
    assert probe["small"] < probe["repeat"] < probe["large"]


def test_the_cpu_advice_quotes_the_runs() -> None:
    """"Which step to take, on one core of this CPU": each number from the committed runs."""
    text = " ".join(fast.__doc__.split())
    large, small = fast.load_results("cpu", "large"), fast.load_results("cpu", "small")
    repeat = json.loads((fast.results_dir() / "cpu-large-repeat.json").read_text())
    gpu = fast.load_results("cuda", "large")
    assert large is not None and small is not None and gpu is not None

    def by(result: dict) -> dict:
        return {(r["algorithm"], r["implementation"]): r for r in result["rows"]}

    rows, again, few, cuda = by(large), by(repeat), by(small), by(gpu)

    def floor(rows: dict, algorithm: str, implementation: str) -> float:
        row = rows[(algorithm, implementation)]
        return row["ms"] / row["floor_ms"]

    def span(values: list[float], digits: int = 2) -> str:
        return f"{min(values):.{digits}f} to {max(values):.{digits}f}"

    def cost(rows: dict, algorithms: list[str]) -> tuple[list[float], list[float]]:
        compiled = [rows[(a, "labml_optim compiled")] for a in algorithms]
        return ([r["compile_cold_s"] - r["ms"] / 1e3 for r in compiled],
                [r["compile_cached_s"] - r["ms"] / 1e3 for r in compiled])

    fused = [a for a, i in rows if i == "torch fused"]
    assert sorted(fused) == sorted(["SGD momentum", "Adagrad", "Adam", "AdamW", "AMSGrad"])
    assert sorted(a for a, i in few if i == "torch fused") == sorted(fused)
    # The fused kernel is the fastest row of the small run for each of the five.
    for algorithm in fused:
        fastest = min((r["ms"], i) for (a, i), r in few.items() if a == algorithm)
        assert fastest[1] == "torch fused", algorithm
    eager_small = [floor(few, a, "labml_optim") for a in fused]
    assert "(SGD with momentum, Adagrad, Adam, AdamW and AMSGrad), take it: it ran at " \
           f"{span([floor(rows, a, 'torch fused') for a in fused])} times the floor over the " \
           f"large tensors ({span([floor(again, a, 'torch fused') for a in fused])} in the " \
           f"repeat) and {span([floor(few, a, 'torch fused') for a in fused], 1)} times " \
           f"over the small ones, where the eager chapters of those five ran at " \
           f"{span(eager_small, 1)}, and it needs no compile" in text

    def vs_fused(rows: dict) -> list[float]:
        return [rows[(a, "labml_optim compiled")]["ms"] / rows[(a, "torch fused")]["ms"]
                for a in fused]

    colds, _ = cost(rows, fused)
    assert f"Compiled, the chapter took {span(vs_fused(rows))} times the fused kernel's time " \
           f"over the large tensors ({span(vs_fused(again))} in the repeat), after " \
           f"{span(colds, 0)} s of compiling" in text
    # The chapters torch has no fused kernel for, compiled; the one-pass ones' ratios.
    others = [a for a, i in rows if i == "labml_optim compiled" and a not in fused
              and a != "Muon"]
    one_pass = [a for a in others if a not in fast.PASSES]
    assert sorted(one_pass) == ["AdaBelief", "Adamax", "Lion", "NAdam", "RAdam", "RMSprop",
                                "SF AdamW", "Sophia-G"]
    ratio = {a: floor(rows, a, "labml_optim compiled") for a in one_pass}
    low, high = min(ratio, key=ratio.get), max(ratio, key=ratio.get)
    assert f"ran at {ratio[low]:.2f} ({low}) to {ratio[high]:.2f} ({high}) times the floor" \
        in text
    ahead = []
    for algorithm in ("RAdam", "LAMB"):
        others_ms = [r["ms"] for (a, i), r in rows.items()
                     if a == algorithm and not i.startswith("labml_optim")]
        ahead.append(min(others_ms) / rows[(algorithm, "labml_optim compiled")]["ms"])
    assert f"compiled RAdam and LAMB {ahead[0]:.2f} and {ahead[1]:.2f} times faster than the " \
           "fastest other implementation" in text
    colds, cacheds = cost(rows, others)
    assert f"these chapters' first steps compiled for {span(colds, 0)} s ({span(cacheds, 0)} " \
           "s with a warm cache)" in text
    ab = json.loads((fast.results_dir() / "ab-write-back.json").read_text())["algorithms"]
    lamb = [r[("LAMB", "labml_optim compiled early")]["ms"]
            / r[("LAMB", "labml_optim compiled")]["ms"] for r in (rows, again)]
    assert f"the early step took {ab['LAMB']['ratio']:.2f} and {ab['Adafactor']['ratio']:.2f} " \
           f"of the plain step's time (LAMB's {lamb[0]:.2f} in the bench's run, {lamb[1]:.2f} " \
           "in the repeat)" in text
    # On the GPU, torch's foreach beat the compiled chapter where both were measured.
    for algorithm in ("RMSprop", "RAdam"):
        assert (algorithm, "torch fused") not in cuda
        assert cuda[(algorithm, "torch foreach")]["ms"] < \
            cuda[(algorithm, "labml_optim compiled")]["ms"], algorithm
    assert "for RMSprop and RAdam, which torch has without a fused kernel and which were " \
           "compiled there, torch's foreach path beat the compiled chapter" in text
    # Muon: alike, about 141 s (its three rows are asserted within 2 % of it elsewhere).
    muon = [rows[("Muon", i)]["ms"] / 1e3 for i in
            ("labml_optim", "labml_optim compiled", "torch for-loop")]
    assert max(muon) / min(muon) < 1.02 and round(statistics.median(muon)) == 141
    assert "took alike about 141 s a step over the large tensors (on the earlier machine)" \
        in text
    # Small tensors: where torch has no fused kernel, the chapter led only for two.
    led = []
    for algorithm in {a for a, _ in few} - set(fused):
        fastest = min((r["ms"], i) for (a, i), r in few.items() if a == algorithm)
        if fastest[1] == "labml_optim":
            led.append(algorithm)
    assert sorted(led) == ["Adamax", "NAdam"]
    assert "the eager chapter was the fastest only for NAdam and Adamax, in one run" in text
    adam, eager = few[("Adam", "labml_optim compiled")], few[("Adam", "labml_optim")]
    fused_adam = few[("Adam", "torch fused")]
    assert round(adam["compile_cold_s"] / 60) == 20
    saved = (eager["ms"] - adam["ms"]) / 1e3
    assert round(adam["compile_cold_s"] / saved, -4) == 180_000
    assert round(adam["compile_cached_s"] / saved, -3) == 25_000
    assert f"Adam's step took twenty minutes to compile and then " \
           f"{adam['ms'] / eager['ms']:.2f} of the eager step's time, which repays the compile " \
           "only after about 180,000 steps (25,000 with a warm cache), and torch's fused Adam " \
           f"took {fused_adam['ms'] / adam['ms']:.2f} of the compiled step's time" in text


def test_the_per_tensor_cost_claims_hold_in_the_committed_run() -> None:
    """What the chapter says of `scripts/per_tensor_cost.py`'s committed run, and of the
    compiled Adam rows of the small-tensor run that it explains."""
    cost = json.loads((fast.results_dir() / "per-tensor-cost.json").read_text())
    assert (cost["tensors"], cost["floats"], cost["rounds"], cost["threads"]) == (150, 16, 9, 1)
    text = " ".join(fast.__doc__.split())
    adam, sgd = cost["algorithms"]["Adam"], cost["algorithms"]["SGD momentum"]
    for name, r in (("SGD momentum", sgd), ("Adam", adam)):
        assert (f"| {name} | {r['eager ms']:.2f} ms | {r['compiled ms']:.2f} ms | "
                f"{r['compiled, no size asserts ms']:.2f} ms |") in fast.__doc__, name
        assert len(r["round ms"]["compiled"]) == cost["rounds"]
    n = cost["tensors"]

    def us(ms: float) -> str:
        return f"{ms / n * 1e3:.0f} µs"

    assert f"a compiled Adam step costs {us(adam['compiled ms'])}**, against " \
           f"{us(adam['eager ms'])} for the eager step; with momentum, SGD's costs " \
           f"{us(sgd['compiled ms'])}." in text
    large = fast.load_results("cpu", "large")
    assert large is not None
    floor = next(r["floor_ms"] for r in large["rows"] if r["algorithm"] == "Adam")
    assert f"that is {adam['compiled ms']:.1f} ms, " \
           f"{adam['compiled ms'] / floor * 100:.0f} % of Adam's floor" in text
    # Five checks an Adam tensor, three an SGD one: one for each input.
    assert (adam["size checks per tensor"], sgd["size checks per tensor"]) == (5, 3)
    saved = {name: r["compiled ms"] - r["compiled, no size asserts ms"]
             for name, r in (("Adam", adam), ("SGD", sgd))}
    assert 1 / 3 < saved["Adam"] / adam["compiled ms"] < 1 / 2  # "more than a third"
    assert f"the steps took {saved['Adam']:.2f} and {saved['SGD']:.2f} ms less, " \
           f"{saved['Adam'] / (5 * n) * 1e3:.1f} and {saved['SGD'] / (3 * n) * 1e3:.1f} µs " \
           "a check" in text
    assert (adam["lookups per tensor"], sgd["lookups per tensor"]) == (2, 1)
    walks = adam["lookup ms"]
    assert f"they took {walks['150']:.2f} ms over 150 tensors and {walks['2000']:.1f} ms " \
           f"over 2,000 (SGD's one a tensor, {sgd['lookup ms']['2000']:.1f} ms)" in text
    small = fast.load_results("cpu", "small")
    assert small is not None
    rows = {r["implementation"]: r for r in small["rows"] if r["algorithm"] == "Adam"}
    compiled, eager = rows["labml_optim compiled"], rows["labml_optim"]
    fused = rows["torch fused"]
    assert walks["2000"] / compiled["ms"] > 0.2  # "over a fifth"
    # The small run's Adam rows, compiled.
    assert small["tensors"] == 2000
    assert f"With an empty cache its first compiled step took " \
           f"{compiled['compile_cold_s']:,.0f} s longer than a step, twenty minutes, and with " \
           f"a warm one {compiled['compile_cached_s']:.0f} s." in text
    assert round(compiled["compile_cold_s"] / 60) == 20
    assert f"The compiled step then took {compiled['ms']:.1f} ms, " \
           f"{compiled['ms'] / eager['ms']:.2f} times the eager chapter's {eager['ms']:.1f} ms " \
           f"and {compiled['ms'] / fused['ms']:.1f} times torch's fused kernel's " \
           f"{fused['ms']:.1f} ms, while the same bytes in one loop took " \
           f"{compiled['twin_ms'] / compiled['floor_ms']:.2f} times the floor" in text
    assert f"{compiled['ms'] / small['tensors'] * 1e3:.0f} µs a tensor" in text


def test_the_cost_per_tensor_is_set_beside_the_bench_gaps() -> None:
    """The "What is left" bullet: the committed per-tensor run's rounds, and the gaps
    between the compiled one-pass rows and their same-traffic loops in the large run."""
    text = " ".join(fast.__doc__.split())
    cost = json.loads((fast.results_dir() / "per-tensor-cost.json").read_text())
    adam, sgd = cost["algorithms"]["Adam"], cost["algorithms"]["SGD momentum"]
    rounds = adam["round ms"]["compiled"]
    assert f"whose nine rounds ranged from {min(rounds):.2f} to {max(rounds):.2f} ms; SGD " \
           f"with momentum's took {sgd['compiled ms']:.2f} ms" in text
    large = fast.load_results("cpu", "large")
    assert large is not None
    gaps = {r["algorithm"]: r["ms"] - r["twin_ms"] for r in large["rows"]
            if r["implementation"] == "labml_optim compiled" and r.get("twin_ms")
            and len(fast.passes(r["algorithm"])) == 1}
    low, high = min(gaps, key=gaps.get), max(gaps, key=gaps.get)
    assert f"exceed their same-traffic loops by {gaps[low]:.2f} ms ({low}) to " \
           f"{gaps[high]:.2f} ms ({high})" in text
    # Adam's cost per tensor, over the bench's 150 tensors, against the gaps.
    assert large["tensors"] == cost["tensors"]
    share = [ms / gaps["Adam"] for ms in rounds]
    assert 0.45 < min(share) < 0.5 and 0.8 < max(share) < 0.85  # "about half to four fifths"
    assert high == "RAdam"
    assert f"the cost per tensor is part of each gap, from about half to four fifths of " \
           f"Adam's ({gaps['Adam']:.2f} ms) over those nine rounds, and " \
           f"{min(rounds) / gaps[high] * 100:.0f} to {max(rounds) / gaps[high] * 100:.0f} % of " \
           "RAdam's" in text

def test_a_compiled_step_walks_the_state_keys_to_each_parameter() -> None:
    """The generated code of a compiled Adam step looks each tensor's state up by its
    parameter's position among `opt.state`'s keys, twice a tensor: the calls the chapter
    counts, at the positions that make a step pass T(T + 1) keys."""
    import torch._dynamo.utils as dynamo_utils

    from labml_optim.adam import Adam

    params = [torch.randn(16, requires_grad=True) for _ in range(5)]
    for p in params:
        p.grad = torch.randn(16)
    opt = Adam(params, lr=0.01)
    opt.step()
    torch._dynamo.reset()
    step = torch.compile(opt.step)
    step()
    positions: list[int] = []
    walk = dynamo_utils.dict_keys_getitem

    def counted(d, n):
        if d is opt.state:
            positions.append(n)
        return walk(d, n)

    dynamo_utils.dict_keys_getitem = counted
    try:
        step()
    finally:
        dynamo_utils.dict_keys_getitem = walk
    assert sorted(positions) == sorted(2 * list(range(len(params))))
    assert sum(i + 1 for i in positions) == len(params) * (len(params) + 1)
    torch._dynamo.reset()


def test_the_copies_claims_hold_in_the_committed_runs() -> None:
    """The chapter's table of `scripts/ab_copies.py`'s committed run, and what it says of
    it and of the earlier run, against them; and the bench rows it compares them with."""
    text = " ".join(fast.__doc__.split())
    copies: dict[str, dict[str, list[float]]] = {}
    split: dict[str, list[float]] = {}
    for name in ("ab-copies.json", "ab-copies-earlier.json"):
        run = json.loads((fast.results_dir() / name).read_text())
        assert (run["million"], run["tensors"], run["copies"], run["rounds"]) == \
            (24.0, 150, 3, 9)
        copies[name] = {a: [rows[f"compiled, copy {k}"]["ratio"] for k in (1, 2, 3)]
                        for a, rows in run["algorithms"].items()}
        split[name] = [rows["same traffic, per tensor"]["ratio"]
                       for rows in run["algorithms"].values()]
        if name == "ab-copies.json":
            latest = run
    for algorithm, rows in latest["algorithms"].items():
        ratios = copies["ab-copies.json"][algorithm]
        per_tensor = rows["same traffic, per tensor"]["ratio"]
        cells = " | ".join(f"{x:.2f}" for x in [*ratios, max(ratios) / min(ratios), per_tensor])
        assert f"| {algorithm} | {cells} |" in fast.__doc__, algorithm
    # Against the loop per tensor, round by round.
    to_split = {a: [statistics.median(c / s for c, s in zip(
        rows[f"compiled, copy {k}"]["round_ms"], rows["same traffic, per tensor"]["round_ms"],
        strict=True)) for k in (1, 2, 3)] for a, rows in latest["algorithms"].items()}
    every = [x for r in to_split.values() for x in r]
    others = [x for a, r in to_split.items() if a != "Adagrad" for x in r]
    assert f"Every copy took {min(every):.2f} to {max(every):.2f} times the loop per " \
           f"tensor's time (the medians of the rounds' ratios), all but Adagrad's within " \
           f"{max(others):.2f}" in text
    assert max(to_split["Adagrad"]) > max(others)

    def span(values: list[float]) -> str:
        return f"{min(values):.2f} to {max(values):.2f}"

    flat = {name: [x for r in c.values() for x in r] for name, c in copies.items()}
    assert f"The loop per tensor took {span(split['ab-copies.json'])} times the flat loop's " \
           f"time here, and {span(split['ab-copies-earlier.json'])} in an earlier run" in text
    assert f"the compiled steps {span(flat['ab-copies.json'])} and " \
           f"{span(flat['ab-copies-earlier.json'])} times the flat loop, Adagrad's " \
           f"{span(copies['ab-copies.json']['Adagrad'])} here and " \
           f"{span(copies['ab-copies-earlier.json']['Adagrad'])} there" in text
    spread = {a: max(r) / min(r) for a, r in copies["ab-copies.json"].items()}
    widest = max(spread, key=spread.get)
    assert f"differed by up to {(spread[widest] - 1) * 100:.0f} % ({widest})" in text
    assert f"every compiled one-pass step that was measured so took {span(every)} times " \
           "that loop's time" in text
    # The bench's run: which of them are above 1.2 times the floor, and how far above
    # their loop there.
    large = fast.load_results("cpu", "large")
    assert large is not None
    bench = {r["algorithm"]: r for r in large["rows"]
             if r["implementation"] == "labml_optim compiled"}
    above = [a for a in latest["algorithms"]
             if round(bench[a]["ms"] / bench[a]["floor_ms"], 2) > 1.2]
    assert sorted(set(latest["algorithms"]) - set(above)) == ["Adam", "SGD momentum"]
    to_loop = {a: bench[a]["ms"] / bench[a]["twin_ms"] for a in above}
    measured = flat["ab-copies.json"] + flat["ab-copies-earlier.json"]
    outside = [a for a, x in to_loop.items() if round(x, 2) > round(max(measured), 2)]
    assert outside == ["AdaBelief", "RAdam"]
    edge = [a for a, x in to_loop.items() if round(x, 2) == round(max(measured), 2)]
    assert edge == ["NAdam"] and to_loop["NAdam"] > max(measured)
    assert f"six of these eight algorithms are above 1.2 times the floor as the table prints " \
           f"it (all but SGD momentum and Adam), at {min(to_loop.values()):.2f} to " \
           f"{max(to_loop.values()):.2f} times their flat loop there: within the " \
           f"{span(measured)} times the flat loop that the two runs above measured, " \
           f"but for AdaBelief ({to_loop['AdaBelief']:.2f}) and RAdam " \
           f"({to_loop['RAdam']:.2f}), with NAdam ({to_loop['NAdam']:.2f}) at its edge" in text


def test_the_chapters_gpu_claims_hold_in_the_committed_runs() -> None:
    """What the "On a GPU" section says, checked against the committed H200 runs."""
    large, small = fast.load_results("cuda", "large"), fast.load_results("cuda", "small")
    assert large is not None and small is not None
    text = " ".join(fast.__doc__.split())

    def table(result: dict) -> dict[tuple[str, str], dict]:
        return {(r["algorithm"], r["implementation"]): r for r in result["rows"]}

    big, many = table(large), table(small)
    assert f"measured {large['bandwidth_gbs'] / 1e3:.1f} TB/s" in text
    adam = big[("Adam", "torch fused")]["floor_ms"]
    assert f"= {adam:.2f} \\text{{ ms}}" in fast.__doc__
    cpu_adam = {r["algorithm"]: r for r in fast.load_results("cpu", "large")["rows"]}["Adam"]
    assert f"{cpu_adam['floor_ms'] / adam:.0f} times less than the CPU core's" in text
    # Time per tensor of an eager chapter is the same in both runs: launches, not bytes.
    per_tensor = {}
    for algorithm in {a for a, _ in big}:
        tensors = [large["tensors"], small["tensors"]]
        if algorithm == "Muon":  # it steps the matrices only
            tensors = [n // 2 for n in tensors]
        us = [rows[(algorithm, "labml_optim")]["ms"] * 1e3 / n
              for rows, n in zip((big, many), tensors, strict=True)]
        per_tensor[algorithm] = us
        assert 0.85 < us[0] / us[1] < 1.15, (algorithm, us)
    assert [round(u) for u in per_tensor["Adam"]] == [59, 61]
    assert "Adam 59 µs a tensor over 150 tensors" in text and "61 µs over 2,000" in text
    # Eager chapters equal torch's for-loop; foreach 4 to 9 times faster (Adafactor 1.7-1.8).
    ratios, foreach = [], []
    for rows in (big, many):
        for (algorithm, impl), row in rows.items():
            if impl != "labml_optim":
                continue
            if (algorithm, "torch for-loop") in rows:
                ratios.append(row["ms"] / rows[(algorithm, "torch for-loop")]["ms"])
            if (algorithm, "torch foreach") in rows:
                foreach.append((algorithm, row["ms"] / rows[(algorithm, "torch foreach")]["ms"]))
    assert 0.915 <= min(ratios) and max(ratios) < 1.075, ratios
    plain = [r for a, r in foreach if a != "Adafactor"]
    assert 4 <= min(plain) and max(plain) < 9, plain
    assert all(1.65 <= r < 1.85 for a, r in foreach if a == "Adafactor")
    fused = [r["ms"] / r["floor_ms"] for (a, i), r in big.items() if i == "torch fused"]
    assert 2.35 <= min(fused) and max(fused) < 3.05, fused
    # Compiled: 1.8 to 4.6 times faster than eager, 15 to 20 times the floor, 1.6 to 2.2
    # times foreach (SGD 4.2), 5.3 to 6.1 times fused.
    compiled = sorted(a for a, i in big if i == "labml_optim compiled")
    assert compiled == sorted(["SGD momentum", "Adagrad", "RMSprop", "Adam", "AdamW", "RAdam",
                               "AMSGrad"])
    assert "(SGD with momentum, Adagrad, RMSprop, Adam, AdamW, RAdam and AMSGrad)" in text

    def ms(algorithm: str, impl: str) -> float:
        return big[(algorithm, impl)]["ms"]

    speedup = [ms(a, "labml_optim") / ms(a, "labml_optim compiled") for a in compiled]
    assert 1.75 <= min(speedup) and max(speedup) < 4.65, speedup
    over = [ms(a, "labml_optim compiled") / big[(a, "labml_optim")]["floor_ms"]
            for a in compiled]
    assert 14.5 <= min(over) and max(over) < 20.5, over
    vs_foreach = {a: ms(a, "labml_optim compiled") / ms(a, "torch foreach") for a in compiled}
    sgd = vs_foreach.pop("SGD momentum")
    assert round(sgd, 1) == 4.2
    assert 1.55 <= min(vs_foreach.values()) and max(vs_foreach.values()) < 2.25, vs_foreach
    vs_fused = [ms(a, "labml_optim compiled") / ms(a, "torch fused") for a in compiled
                if (a, "torch fused") in big]
    assert 5.25 <= min(vs_fused) and max(vs_fused) < 6.15, vs_fused
    assert round(ms("Adam", "labml_optim compiled"), 1) == 2.9
    assert round(ms("Adam", "labml_optim compiled") * 1e3 / large["tensors"]) == 19
    cold = [big[(a, "labml_optim compiled")]["compile_cold_s"] for a in compiled]
    cached = [big[(a, "labml_optim compiled")]["compile_cached_s"] for a in compiled]
    assert (round(min(cold)), round(max(cold))) == (15, 73)
    assert (round(min(cached)), round(max(cached))) == (3, 12)
    assert "Compiling costs 15 to 73 seconds cold and 3 to 12 cached" in text

