"""`fast.EarlyWriteBack`: each tensor's write-back moved to where its value is known.

Compiled, the in-place updates of a step become new values and `copy_`s at the end of the
graph, so the last pass of every tensor runs after the first passes of all of them. The
pass moves each tensor's `copy_`s up. These tests check that

* the graph it leaves writes a tensor back before the next tensor's arrays are read (LAMB,
  Adafactor, Adam), which the graph without it does not;
* it never moves a write-back above a read of the old tensor, directly or through a view,
  leaves a tensor written twice alone, and does not let a shared number join tensors;
* every chapter compiled with it equals eager (as the plain compile must), and LAMB's,
  Adafactor's and Adam's steps equal the plain compile's bitwise.
"""

from __future__ import annotations

import pytest
import torch
import torch._dynamo
import torch._inductor.config as inductor_config
from support.chapters import INDUCTOR_OPTIONS, optimizer_classes
from torch._dynamo.utils import counters

from labml_optim import fast

CLASSES = {cls.__name__: cls for cls in optimizer_classes()}
aten = torch.ops.aten

# ## The graph the pass leaves


class Recorded(fast.EarlyWriteBack):
    """The pass, or with `move=False` nothing, and the graph it left."""

    def __init__(self, move: bool = True) -> None:
        self.move, self.graph = move, None

    def __call__(self, graph: torch.fx.Graph) -> None:
        if self.move:
            super().__call__(graph)
        self.graph = graph


# Three parameters told apart by their row counts (every state array of a parameter has its
# rows, or its shape's first entry), stepped in this order.
ROWS = (40, 48, 56)


def rows_of(node: torch.fx.Node) -> int | None:
    val = node.meta.get("val")
    return val.shape[0] if val is not None and val.ndim >= 1 else None


def compiled_graph(name: str, move: bool) -> torch.fx.Graph:
    torch._dynamo.reset()
    gen = torch.Generator().manual_seed(0)
    params = [torch.randn(rows, 24, generator=gen).requires_grad_() for rows in ROWS]
    opt = CLASSES[name](params, lr=1e-2)
    recorded = Recorded(move)
    # Without inductor's cache, which would hand back code compiled before without
    # running any pass.
    step = torch.compile(opt.step, options={"post_grad_custom_post_pass": recorded,
                                            "fx_graph_cache": False})
    for _ in range(2):  # the second step's graph is the steady state's
        for p in params:
            p.grad = torch.randn(p.shape, generator=gen)
        step()
    return recorded.graph


def written_before_next_read(graph: torch.fx.Graph) -> list[str]:
    """Where a parameter's write-backs come after the first read of the next one's arrays."""
    nodes = list(graph.nodes)
    position = {n: i for i, n in enumerate(nodes)}
    late = []
    for this, following in zip(ROWS, ROWS[1:], strict=False):
        writes = [position[n] for n in nodes if n.target is aten.copy_.default
                  and rows_of(n.args[0]) == this]
        reads = [position[u] for n in nodes if n.op == "placeholder"
                 and rows_of(n) == following for u in n.users]
        assert writes and reads, (this, following)
        if max(writes) > min(reads):
            late.append(f"{this}-row tensor written at {max(writes)}, "
                        f"{following}-row arrays read from {min(reads)}")
    return late


@pytest.mark.parametrize("name", ["LAMB", "Adafactor", "Adam"])
def test_each_tensor_is_written_back_before_the_next_is_read(name: str) -> None:
    assert written_before_next_read(compiled_graph(name, move=False)), (
        "without the pass the write-backs should all come at the end")
    assert not written_before_next_read(compiled_graph(name, move=True))


# ## Moves it must not make, on graphs built by hand


def graph_with(*, late_read: str | None = None, twice: bool = False,
               shared_number: bool = False) -> tuple[torch.fx.Graph, dict[str, torch.fx.Node]]:
    """`new = param + grad * lr`, written back into `param` at the end, then `other` updated
    the same way; optionally a read of the old `param` (or of a view of it) after `new`."""
    g = torch.fx.Graph()
    n: dict[str, torch.fx.Node] = {}
    for name, shape in [("param", (4,)), ("grad", (4,)), ("other", (4,)), ("other_grad", (4,)),
                        ("lr", ())]:
        n[name] = g.placeholder(name)
        n[name].meta["val"] = torch.empty(shape)
    scale = n["lr"] if shared_number else 0.5
    n["step"] = g.call_function(aten.mul.Tensor, (n["grad"], scale))
    n["new"] = g.call_function(aten.add.Tensor, (n["param"], n["step"]))
    if late_read == "direct":
        n["late"] = g.call_function(aten.mul.Tensor, (n["param"], 2.0))
    elif late_read == "view":
        n["view"] = g.call_function(aten.view.default, (n["param"], [2, 2]))
        n["late"] = g.call_function(aten.mul.Tensor, (n["view"], 2.0))
    n["other_step"] = g.call_function(aten.mul.Tensor, (n["other_grad"], scale))
    n["other_new"] = g.call_function(aten.add.Tensor, (n["other"], n["other_step"]))
    n["copy"] = g.call_function(aten.copy_.default, (n["param"], n["new"]))
    if twice:
        g.call_function(aten.copy_.default, (n["param"], n["other_new"]))
    n["other_copy"] = g.call_function(aten.copy_.default, (n["other"], n["other_new"]))
    g.output((n["late"],) if "late" in n else ())
    return g, n


def order(graph: torch.fx.Graph) -> list[str]:
    return [node.name for node in graph.nodes]


def test_a_write_back_moves_up_to_its_value() -> None:
    g, n = graph_with()
    fast.EarlyWriteBack()(g)
    names = order(g)
    assert names.index(n["copy"].name) == names.index(n["new"].name) + 1
    assert names.index(n["copy"].name) < names.index(n["other_step"].name)
    g.lint()


@pytest.mark.parametrize("late_read", ["direct", "view"])
def test_a_write_back_stays_below_a_read_of_the_old_tensor(late_read: str) -> None:
    g, n = graph_with(late_read=late_read)
    fast.EarlyWriteBack()(g)
    names = order(g)
    assert names.index(n["copy"].name) > names.index(n["late"].name)
    g.lint()


def test_a_tensor_written_twice_is_left_alone() -> None:
    g, _ = graph_with(twice=True)
    before = order(g)
    fast.EarlyWriteBack()(g)
    assert order(g) == before


def test_a_shared_number_does_not_join_the_tensors() -> None:
    g, n = graph_with(shared_number=True)
    fast.EarlyWriteBack()(g)
    names = order(g)
    assert names.index(n["copy"].name) < names.index(n["other_step"].name)


# ## Every chapter, compiled with the pass


def params_for(name: str, seed: int = 0) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    second = (6, 9) if name == "Muon" else (9,)  # Muon takes matrices only
    return [torch.randn(shape, generator=gen).requires_grad_()
            for shape in [(12, 8), second, (10, 8)]]


def run(name: str, compiled: str | None, steps: int = 4) -> tuple[list, torch.optim.Optimizer]:
    torch._dynamo.reset()
    counters.clear()
    params = params_for(name)
    opt = CLASSES[name](params, lr=1e-2)
    if compiled == "early":
        step = fast.compile_step(opt)
    elif compiled == "plain":
        step = torch.compile(opt.step)
    else:
        step = opt.step
    gen = torch.Generator().manual_seed(1)
    with inductor_config.patch(**INDUCTOR_OPTIONS.get(name, {})):
        for _ in range(steps):
            for p in params:
                p.grad = torch.randn(p.shape, generator=gen)
            step()
    assert not counters["graph_break"], dict(counters["graph_break"])
    return params, opt


@pytest.mark.parametrize("name", list(CLASSES))
def test_every_chapter_compiled_with_the_pass_equals_eager(name: str) -> None:
    eager, _ = run(name, None)
    early, _ = run(name, "early")
    for i, (a, b) in enumerate(zip(eager, early, strict=True)):
        torch.testing.assert_close(b.detach(), a.detach(), atol=1e-6, rtol=1e-6,
                                   msg=lambda m, i=i: f"{name} param {i}: {m}")


@pytest.mark.parametrize("name", ["LAMB", "Adafactor", "Adam"])
def test_the_pass_changes_no_bit_of_the_plain_compile(name: str) -> None:
    plain, plain_opt = run(name, "plain")
    early, early_opt = run(name, "early")
    for a, b in zip(plain, early, strict=True):
        assert torch.equal(a, b)
        for key, value in plain_opt.state[a].items():
            assert torch.equal(early_opt.state[b][key], value), key
