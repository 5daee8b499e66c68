"""Our optimizers under torch's own data-parallel engines: 2 CPU processes, gloo.

For every chapter optimizer (the table in `support.distributed`; tests/test_sharding.py
checks that none is missing), a small MLP is trained for a few steps under DDP, under DDP
with `ZeroRedundancyOptimizer` wrapping our class, and under FSDP2 (`fully_shard`, the
parameters and optimizer state are DTensor shards), and the final weights are compared
with a single-process run on the same batches. One launch of two processes per engine
runs every optimizer in turn.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.multiprocessing as mp
from support import distributed as D

NAMES = list(D.OPTIMIZERS)

# Every engine runs the very same arithmetic as the reference (each rank's gradient is
# divided by the world size and the two are summed; the step is the same code on the
# same numbers), so they agree bit for bit. Muon too: under FSDP2 it gathers the whole
# momentum matrix and runs the reference's iteration on it. The exceptions are the
# reductions that DTensor combines across the shards, added in another order than the
# unsharded ones, so the result may differ in the last bit: LAMB's two norms (trust
# ratio; measured 3e-8), and Adafactor's column means, parameter RMS and update RMS
# (measured 3e-8).
SHARD_REDUCED = {"lamb", "adafactor"}


def tolerance(engine: str, name: str) -> float:
    return 1e-7 if engine == "fsdp2" and name in SHARD_REDUCED else 0.0


@pytest.fixture(scope="module")
def references() -> dict[str, dict[str, torch.Tensor]]:
    return {name: D.reference(name) for name in NAMES}


@pytest.fixture(scope="module")
def run_engine(tmp_path_factory) -> Callable[[str], dict]:
    """Runs one engine's two processes once per module, on first use."""
    done: dict[str, dict] = {}

    def run(engine: str) -> dict:
        if engine not in done:
            out = tmp_path_factory.mktemp(engine)
            mp.spawn(D.worker, args=(engine, NAMES, str(out)), nprocs=D.WORLD, join=True)
            done[engine] = torch.load(out / f"{engine}.pt", weights_only=False)
        return done[engine]

    return run


@pytest.fixture(scope="module", params=list(D.ENGINES))
def engine_results(request, run_engine) -> tuple[str, dict]:
    return request.param, run_engine(request.param)


@pytest.mark.parametrize("name", NAMES)
def test_matches_single_process(engine_results, references, name: str) -> None:
    engine, results = engine_results
    got = results[name]
    assert not isinstance(got, str), f"{name} under {engine} failed: {got}"
    want = references[name]
    assert got.keys() == want.keys()
    moved = False
    for key in want:
        start = D.make_model().state_dict()[key]
        moved |= not torch.equal(want[key], start)
        torch.testing.assert_close(
            got[key], want[key], rtol=0, atol=tolerance(engine, name),
            msg=lambda m, key=key: f"{name} under {engine}, {key}: {m}",
        )
    assert moved, f"{name}: the reference run did not move the weights"


def test_fsdp2_norm_is_over_the_whole_tensor(run_engine) -> None:
    """On a DTensor shard, `vector_norm` reduces over every rank (the norm LAMB needs);
    the local shard's norm, which a shard-unaware implementation would use, is smaller."""
    norms = run_engine("fsdp2")["_norms"]
    torch.testing.assert_close(norms["dtensor"], norms["unsharded"], rtol=1e-6, atol=0)
    assert norms["local"] < 0.9 * norms["unsharded"]
    # Reading the DTensor norm with `.item()` alone silently gives the local one, which is
    # why Adafactor completes its norms (`full_tensor()`) before reading them as numbers.
    torch.testing.assert_close(norms["item"], norms["local"], rtol=1e-6, atol=0)
    # LAMB's compiled norm, by rows, also reduces over both (uneven) shards.
    torch.testing.assert_close(norms["lamb_compiled"], norms["lamb_unsharded"], rtol=1e-6,
                               atol=0)


def test_fsdp2_muon_orthogonalises_the_whole_matrix(run_engine) -> None:
    """Under FSDP2, `orthogonalize` gives this rank's rows of the unsharded Newton–Schulz,
    bit for bit; the iteration on the local shard alone gives something else."""
    got = run_engine("fsdp2")["_muon"]
    assert torch.equal(got["gathered"], got["whole"])
    assert torch.equal(got["uneven"], got["uneven_whole"])  # shards of 3 and 2 rows
    local, whole = got["local"].double(), got["whole"].double()
    assert (local - whole).norm() > 0.1 * whole.norm()


def test_fsdp2_adafactor_on_tensors_of_more_than_two_dimensions(run_engine) -> None:
    """Adafactor factors the last two dimensions of a 3-D or 4-D tensor, which FSDP2's dim-0
    shards hold whole; sharded, evenly or not, it matches one process up to the order of
    its two RMS sums, which cross the shards: within the MLP's 1e-7 and two float32 ulps
    of each entry (measured: one ulp on weights of order one, 2e-9 near zero)."""
    results = run_engine("fsdp2")["_adafactor"]
    assert set(results) == {(4, 6, 5), (5, 6, 5), (3, 4, 6, 5)}
    ulps = 2 * torch.finfo(torch.float32).eps
    for shape, (sharded, whole) in results.items():
        torch.testing.assert_close(sharded, whole, rtol=ulps,
                                   atol=tolerance("fsdp2", "adafactor"),
                                   msg=lambda m, shape=shape: f"{shape}: {m}")


@pytest.mark.parametrize("name", D.COMPILED_UNDER_FSDP2)
def test_fsdp2_compiled_step_equals_eager(run_engine, name: str) -> None:
    """`torch.compile(opt.step)` over DTensor shards: the weights of the eager FSDP2 run
    within the compile tests' 1e-6 (tests/test_compile.py), in one graph: Muon's gather
    and its slice of the result (`from_local`, `redistribute`) trace without a break."""
    results = run_engine("fsdp2")
    eager = results[name]
    assert not isinstance(eager, str), f"{name} under fsdp2 failed: {eager}"
    compiled, breaks = results["_compiled"][name]
    for key in eager:
        torch.testing.assert_close(compiled[key], eager[key], rtol=1e-6, atol=1e-6,
                                   msg=lambda m, key=key: f"{name} compiled, {key}: {m}")
    assert not breaks, breaks
