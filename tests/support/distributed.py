"""Two-process training runs under torch.distributed (gloo, CPU), for the scale tests.

Each run trains the same small model on the same batches with every optimizer named in
`OPTIMIZERS`, once per data-parallel engine, and rank 0 saves the final parameters (full
tensors) to a file the test compares with a single-process run. Workers must be
importable (module level) because `torch.multiprocessing.spawn` starts fresh interpreters.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from support.chapters import INDUCTOR_OPTIONS

WORLD = 2
STEPS = 6
BATCH = 8  # per rank; the single-process run sees both halves

# name -> (module, class, keyword arguments): every chapter optimizer that takes any
# parameter shape, with a learning rate large enough that six steps move the weights.
OPTIMIZERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "sgd": ("sgd", "SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "adagrad": ("adagrad", "Adagrad", {"lr": 0.1}),
    "rmsprop": ("rmsprop", "RMSprop", {"lr": 0.01, "centered": True}),
    "adam": ("adam", "Adam", {"lr": 0.01}),
    "amsgrad": ("amsgrad", "AMSGrad", {"lr": 0.01}),
    "adamw": ("adamw", "AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    "radam": ("radam", "RAdam", {"lr": 0.01}),
    "lamb": ("lamb", "LAMB", {"lr": 0.01, "weight_decay": 0.01}),
    "nadam": ("nadam", "NAdam", {"lr": 0.01}),
    "adamax": ("adamax", "Adamax", {"lr": 0.01}),
    "adabelief": ("adabelief", "AdaBelief", {"lr": 0.01, "weight_decay": 0.01,
                                             "decoupled_weight_decay": True}),
    "lion": ("lion", "Lion", {"lr": 0.001, "weight_decay": 0.1}),
    "sophia": ("sophia", "SophiaG", {"lr": 0.01, "rho": 0.05}),
    "schedule_free": ("schedule_free", "AdamWScheduleFree", {"lr": 0.01, "warmup_steps": 2,
                                                             "weight_decay": 0.01}),
    # x implicit: the parameters hold y and are updated in place, z and v are the state.
    "schedule_free_implicit_x": ("schedule_free", "AdamWScheduleFree",
                                 {"lr": 0.01, "warmup_steps": 2, "weight_decay": 0.01,
                                  "implicit_x": True}),
    "adafactor": ("adafactor", "Adafactor", {"lr": 0.01, "weight_decay": 0.01}),
    "muon": ("muon", "Muon", {"lr": 0.02}),
}

# Muon takes matrices only: it gets the weights, and the biases stay where they are (the
# comparison then also checks that nobody moved them).
MATRICES_ONLY = {"muon"}
# Sophia-G folds a Hessian sample into its estimate every other step, before stepping (here
# the minibatch gradient itself stands in for the gradient on sampled labels).
HESSIAN_EVERY = {"sophia": 2}


def optimizer_class(name: str) -> tuple[type[torch.optim.Optimizer], dict[str, Any]]:
    module, cls, kwargs = OPTIMIZERS[name]
    return getattr(importlib.import_module(f"labml_optim.{module}"), cls), kwargs


def trained(name: str, model: nn.Module) -> list[torch.Tensor]:
    """The parameters `name` updates: all of them, or the matrices for Muon."""
    params = list(model.parameters())
    return [p for p in params if p.ndim == 2] if name in MATRICES_ONLY else params


def before_step(name: str, opt: torch.optim.Optimizer, k: int) -> None:
    """What an optimizer needs between the backward pass and step `k` (from 0)."""
    every = HESSIAN_EVERY.get(name)
    if every and k % every == 0:
        # ZeroRedundancyOptimizer keeps the wrapped optimizer (its own shard) as `optim`.
        getattr(opt, "optim", opt).update_hessian()


def make_model() -> nn.Module:
    torch.manual_seed(0)
    # Widths divisible by the world size, so FSDP2 shards every tensor evenly on dim 0.
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 4), nn.Tanh(), nn.Linear(4, 2))


def batches() -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(1)
    return [
        (torch.randn(WORLD * BATCH, 6, generator=gen), torch.randn(WORLD * BATCH, 2, generator=gen))
        for _ in range(STEPS)
    ]


def loss_fn(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return ((model(x) - y) ** 2).mean()


def reference(name: str) -> dict[str, torch.Tensor]:
    """One process: each rank's half gives a mean gradient; the step uses their average,
    computed as the data-parallel engines do it (each half divided by the world size,
    then summed)."""
    model = make_model()
    cls, kwargs = optimizer_class(name)
    opt = cls(trained(name, model), **kwargs)
    for k, (x, y) in enumerate(batches()):
        halves = []
        for r in range(WORLD):
            model.zero_grad()
            loss_fn(model, x[r * BATCH:(r + 1) * BATCH], y[r * BATCH:(r + 1) * BATCH]).backward()
            halves.append([p.grad.clone() for p in model.parameters()])
        for p, *gs in zip(model.parameters(), *halves, strict=True):
            total = gs[0] / WORLD
            for g in gs[1:]:
                total = total + g / WORLD
            p.grad = total
        before_step(name, opt, k)
        opt.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _train(name: str, model: nn.Module, opt: torch.optim.Optimizer, rank: int,
           step: Callable[[], object] | None = None) -> None:
    for k, (x, y) in enumerate(batches()):
        opt.zero_grad()
        half = slice(rank * BATCH, (rank + 1) * BATCH)
        loss_fn(model, x[half], y[half]).backward()
        before_step(name, opt, k)
        (step or opt.step)()


def run_ddp(name: str, rank: int) -> dict[str, torch.Tensor]:
    from torch.nn.parallel import DistributedDataParallel

    model = DistributedDataParallel(make_model())
    cls, kwargs = optimizer_class(name)
    _train(name, model, cls(trained(name, model.module), **kwargs), rank)
    return {k: v.detach().clone() for k, v in model.module.state_dict().items()}


def run_zero(name: str, rank: int) -> dict[str, torch.Tensor]:
    from torch.distributed.optim import ZeroRedundancyOptimizer
    from torch.nn.parallel import DistributedDataParallel

    model = DistributedDataParallel(make_model())
    cls, kwargs = optimizer_class(name)
    opt = ZeroRedundancyOptimizer(trained(name, model.module), optimizer_class=cls, **kwargs)
    _train(name, model, opt, rank)
    return {k: v.detach().clone() for k, v in model.module.state_dict().items()}


def run_fsdp2(name: str, rank: int, compiled: bool = False) -> dict[str, torch.Tensor]:
    from torch.distributed.fsdp import fully_shard

    model = make_model()
    for layer in model:
        if isinstance(layer, nn.Linear):
            fully_shard(layer)
    fully_shard(model)
    cls, kwargs = optimizer_class(name)
    opt = cls(trained(name, model), **kwargs)
    if not compiled:
        _train(name, model, opt, rank)
    else:
        import torch._inductor.config as inductor_config

        torch._dynamo.reset()
        with inductor_config.patch(**INDUCTOR_OPTIONS.get(cls.__name__, {})):
            _train(name, model, opt, rank, torch.compile(opt.step))
    # Gather the shards (DTensors) into full tensors for the comparison.
    return {k: v.full_tensor().detach().clone() for k, v in model.state_dict().items()}


def shard_norms() -> dict[str, torch.Tensor]:
    """The first layer's weight norm three ways: over the whole DTensor (what LAMB uses),
    over this rank's shard only (what a shard-local implementation would use), and
    unsharded. LAMB's trust ratio divides two such norms, so the local one is wrong."""
    from torch.distributed.fsdp import fully_shard

    full = make_model()[0].weight.detach()
    model = make_model()
    fully_shard(model)
    weight = model[0].weight
    return {
        "dtensor": torch.linalg.vector_norm(weight).full_tensor(),
        "local": torch.linalg.vector_norm(weight.to_local()),
        "unsharded": torch.linalg.vector_norm(full),
        # `.item()` on the DTensor norm, without `full_tensor()` first: no error, and
        # (the test checks) this rank's partial value, the local norm.
        "item": torch.tensor(torch.linalg.vector_norm(weight).item()),
        **compiled_lamb_norm(weight.device_mesh),
    }


def compiled_lamb_norm(mesh: Any) -> dict[str, torch.Tensor]:
    """LAMB's compiled norm (summed by rows, for rows of 16 floats or more) of a 67 x 32
    matrix sharded 34 + 33 on dim 0, and the unsharded norm."""
    import torch._functorch.config
    import torch._inductor.config as inductor_config
    from torch.distributed.tensor import Shard, distribute_tensor

    from labml_optim.lamb import _norm

    full = torch.randn(67, 32, generator=torch.Generator().manual_seed(5))
    sharded = distribute_tensor(full.clone(), mesh, [Shard(0)])
    # Each rank compiles for its own shard. With inductor's on-disk caches on, a rank
    # loaded the code another rank had compiled for 33 rows and failed its size check on
    # 34 (torch 2.13; why the cache took it as a hit, I did not trace).
    with inductor_config.patch(fx_graph_cache=False, autotune_local_cache=False), \
            torch._functorch.config.patch(enable_autograd_cache=False):
        compiled = torch.compile(_norm)(sharded).full_tensor()
    return {"lamb_compiled": compiled, "lamb_unsharded": torch.linalg.vector_norm(full)}


def shard_orthogonalization(rank: int) -> dict[str, torch.Tensor]:
    """Newton–Schulz of the first layer's weight under FSDP2, on this rank: the chapter's
    gathered `orthogonalize`, the iteration run on the local shard alone (what a
    shard-unaware implementation would do), and this rank's rows of the unsharded result."""
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor import Shard, distribute_tensor

    from labml_optim.muon import newton_schulz, orthogonalize

    full = make_model()[0].weight.detach()
    model = make_model()
    fully_shard(model)
    weight = model[0].weight.detach()
    # Rows that do not divide evenly (3 + 2), on FSDP2's mesh.
    uneven = torch.randn(5, 6, generator=torch.Generator().manual_seed(2))
    sharded = distribute_tensor(uneven, weight.device_mesh, [Shard(0)])
    return {
        "gathered": orthogonalize(weight).to_local(),
        "local": newton_schulz(weight.to_local()),
        "whole": newton_schulz(full).chunk(WORLD)[rank],
        "uneven": orthogonalize(sharded).full_tensor(),
        "uneven_whole": newton_schulz(uneven),
    }


# Compiled under FSDP2: every chapter, the elementwise ones, the two whose reductions
# cross the shards (LAMB, Adafactor) and Muon, which gathers its matrix.
COMPILED_UNDER_FSDP2 = list(OPTIMIZERS)


def compiled_fsdp2(rank: int) -> dict[str, Any]:
    """For each of `COMPILED_UNDER_FSDP2`: the weights after the compiled FSDP2 run
    (gathered), to compare with the engine's eager run, and its graph breaks (none
    expected)."""
    from torch._dynamo.utils import counters

    results: dict[str, Any] = {}
    for name in COMPILED_UNDER_FSDP2:
        counters.clear()
        weights = run_fsdp2(name, rank, compiled=True)
        results[name] = (weights, dict(counters["graph_break"]))
    return results


def shard_adafactor() -> dict[tuple[int, ...], tuple[torch.Tensor, torch.Tensor]]:
    """Adafactor on tensors of more than two dimensions, sharded on dim 0 on FSDP2's mesh
    (an even split, 3 + 2, and a 4-D tensor split 2 + 1), four steps; the gathered result
    and the unsharded one, for each shape. The factors reduce the last two dimensions,
    which every shard holds whole; only the two RMS values cross the shards."""
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor import Shard, distribute_tensor

    from labml_optim.adafactor import Adafactor

    model = make_model()
    fully_shard(model)
    mesh = model[0].weight.device_mesh
    results = {}
    for shape in [(4, 6, 5), (5, 6, 5), (3, 4, 6, 5)]:
        gen = torch.Generator().manual_seed(3)
        start = torch.randn(*shape, generator=gen)
        grads = [torch.randn(*shape, generator=gen) for _ in range(4)]
        whole = start.clone().requires_grad_()
        sharded = distribute_tensor(start.clone(), mesh, [Shard(0)]).requires_grad_()
        kwargs = {"lr": 0.01, "weight_decay": 0.01}
        whole_opt, sharded_opt = Adafactor([whole], **kwargs), Adafactor([sharded], **kwargs)
        for grad in grads:
            whole.grad = grad.clone()
            whole_opt.step()
            sharded.grad = distribute_tensor(grad.clone(), mesh, [Shard(0)])
            sharded_opt.step()
        results[shape] = (sharded.detach().full_tensor(), whole.detach())
    return results


ENGINES: dict[str, Callable[[str, int], dict[str, torch.Tensor]]] = {
    "ddp": run_ddp,
    "zero": run_zero,
    "fsdp2": run_fsdp2,
}


def worker(rank: int, engine: str, names: list[str], out_dir: str) -> None:
    """Entry point for `torch.multiprocessing.spawn`: one rank of one engine, all optimizers."""
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"file://{os.path.join(out_dir, 'store')}", rank=rank,
        world_size=WORLD,
    )
    try:
        results: dict[str, Any] = {}
        for name in names:
            try:
                results[name] = ENGINES[engine](name, rank)
            except Exception as exc:  # reported to the test, which fails on it
                results[name] = f"{type(exc).__name__}: {exc}"
            dist.barrier()
        if engine == "fsdp2":
            results["_norms"] = shard_norms()
            results["_muon"] = shard_orthogonalization(rank)
            results["_adafactor"] = shard_adafactor()
            results["_compiled"] = compiled_fsdp2(rank)
        if rank == 0:
            torch.save(results, Path(out_dir) / f"{engine}.pt")
    finally:
        dist.destroy_process_group()
