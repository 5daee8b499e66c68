"""`fast.EarlyWriteBack`: each tensor's write-back moved to where its value is known.

Compiled, the in-place updates of a step become new values and `copy_`s at the end of the
graph, so the last pass of every tensor runs after the first passes of all of them. The
pass moves each tensor's `copy_`s up. These tests check that

* the graph it leaves writes a tensor back before the next tensor's arrays are read (LAMB,
  Adafactor, Adam), which the graph without it does not;
* it never moves a write-back above a read of the old tensor (directly, through a view or
  an item of a `split`), keeps a tensor's two writes in order, moves write-backs joined by
  their arrays together, keeps the graph valid, leaves graphs of another shape alone, and
  does not let a shared number join tensors;
* every chapter compiled with it equals eager (as the plain compile must), and LAMB's,
  Adafactor's and Adam's steps equal the plain compile's bitwise.
"""

from __future__ import annotations

import operator

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
    """`new = param + grad * 0.5`, written back into `param` at the end, then `other` updated
    the same way; optionally a read of the old `param` after `new` (directly, through a
    view, or through an item of a `split`), or a second write into `param`."""
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
    elif late_read == "split":
        n["halves"] = g.call_function(aten.split.Tensor, (n["param"], 2))
        n["half"] = g.call_function(operator.getitem, (n["halves"], 1))
        n["late"] = g.call_function(aten.mul.Tensor, (n["half"], 2.0))
    n["other_step"] = g.call_function(aten.mul.Tensor, (n["other_grad"], scale))
    n["other_new"] = g.call_function(aten.add.Tensor, (n["other"], n["other_step"]))
    n["copy"] = g.call_function(aten.copy_.default, (n["param"], n["new"]))
    if twice:
        n["copy_again"] = g.call_function(aten.copy_.default, (n["param"], n["other_new"]))
    n["other_copy"] = g.call_function(aten.copy_.default, (n["other"], n["other_new"]))
    g.output((n["late"],) if "late" in n else ())
    return g, n


def moved(graph: torch.fx.Graph) -> list[str]:
    """The pass over `graph`, which must stay a valid graph; the names in their new order."""
    fast.EarlyWriteBack()(graph)
    graph.lint()
    return [node.name for node in graph.nodes]


def test_a_write_back_moves_up_to_its_value() -> None:
    g, n = graph_with()
    names = moved(g)
    assert names.index(n["copy"].name) == names.index(n["new"].name) + 1
    assert names.index(n["copy"].name) < names.index(n["other_step"].name)


@pytest.mark.parametrize("late_read", ["direct", "view", "split"])
def test_a_write_back_stays_below_a_read_of_the_old_tensor(late_read: str) -> None:
    g, n = graph_with(late_read=late_read)
    names = moved(g)
    assert names.index(n["copy"].name) > names.index(n["late"].name)


def test_a_tensor_written_twice_keeps_the_order_of_its_writes() -> None:
    g, n = graph_with(twice=True)
    names = moved(g)
    assert names.index(n["copy"].name) < names.index(n["copy_again"].name)
    assert names.index(n["copy_again"].name) > names.index(n["other_new"].name)


def test_a_shared_number_does_not_join_the_tensors() -> None:
    g, n = graph_with(shared_number=True)
    names = moved(g)
    assert names.index(n["copy"].name) < names.index(n["other_step"].name)


def test_write_backs_that_share_arrays_move_together() -> None:
    """a's update reads b, b's reads c: the three move as one group, after all three values."""
    g = torch.fx.Graph()
    a, b, c = (g.placeholder(name) for name in "abc")
    for x in (a, b, c):
        x.meta["val"] = torch.empty(3)
    new_c = g.call_function(aten.mul.Tensor, (c, 2.0))
    new_b = g.call_function(aten.add.Tensor, (b, c))
    tail = g.call_function(aten.mul.Tensor, (new_c, 3.0))  # needed by no write-back
    new_a = g.call_function(aten.add.Tensor, (a, b))
    copies = [g.call_function(aten.copy_.default, (x, v))
              for x, v in ((a, new_a), (b, new_b), (c, new_c))]
    g.output((tail,))
    names = moved(g)
    assert [names.index(x.name) for x in copies] == list(
        range(names.index(new_a.name) + 1, names.index(new_a.name) + 4))


def test_a_write_back_of_another_input_stays_below_the_inputs() -> None:
    """`p.copy_(q)`: the source is an input itself; the graph must stay valid."""
    g = torch.fx.Graph()
    q, p = g.placeholder("q"), g.placeholder("p")
    for x in (q, p):
        x.meta["val"] = torch.empty(3)
    r = g.call_function(aten.mul.Tensor, (q, 2.0))
    copy = g.call_function(aten.copy_.default, (p, q))
    g.output((r,))
    names = moved(g)
    assert names.index(copy.name) > names.index(p.name)


@pytest.mark.parametrize("shape", ["write elsewhere", "read after write"])
def test_a_graph_of_another_shape_is_left_alone(shape: str) -> None:
    """A write into a non-input, or an input read after its write-back (it wants the new
    value): not AOTAutograd's mold, so the pass moves nothing."""
    g = torch.fx.Graph()
    p, q = g.placeholder("p"), g.placeholder("q")
    for x in (p, q):
        x.meta["val"] = torch.empty(3)
    new = g.call_function(aten.mul.Tensor, (p, 2.0))
    other = g.call_function(aten.add.Tensor, (q, 1.0))
    if shape == "write elsewhere":
        buf = g.call_function(aten.empty.memory_format, ([3],))
        g.call_function(aten.copy_.default, (buf, other))
        g.call_function(aten.copy_.default, (p, new))
        g.call_function(aten.copy_.default, (q, buf))
    else:
        g.call_function(aten.copy_.default, (p, new))
        g.call_function(aten.copy_.default, (q, p))  # reads p's new value
    g.output(())
    before = [node.name for node in g.nodes]
    assert moved(g) == before


def test_compile_step_keeps_a_callers_pass_out() -> None:
    from labml_optim.sgd import SGD

    opt = SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="post_grad_custom_post_pass"):
        fast.compile_step(opt, options={"post_grad_custom_post_pass": fast.EarlyWriteBack()})


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


def test_the_alternating_script_runs_and_checks_bits(capsys, tmp_path) -> None:
    """`scripts/ab_write_back.py`, which measured the chapter's alternated ratios, on two
    layers and two rounds (one in each order), every round's times kept in its JSON."""
    import json
    import statistics

    from support.scripts import load_script

    script = load_script("ab_write_back")
    threads = torch.get_num_threads()
    out = tmp_path / "ab.json"
    try:
        script.main(["Adam", "--rounds", "2", "--layers", "2", "--json", str(out)])
    finally:
        torch.set_num_threads(threads)
    assert "Adam: plain" in capsys.readouterr().out
    result = json.loads(out.read_text())
    assert (result["layers"], result["rounds"], result["threads"]) == (2, 2, 1)
    adam = result["algorithms"]["Adam"]
    assert [len(adam["round_ms"][k]) for k in ("plain", "early")] == [2, 2]
    assert adam["ratio"] == statistics.median(
        e / p for p, e in zip(adam["round_ms"]["plain"], adam["round_ms"]["early"], strict=True))
