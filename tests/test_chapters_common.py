"""Checks every chapter must pass, whatever it teaches.

A chapter is copied alone into other projects, run from the command line for its figure,
and used as a drop-in torch.optim optimizer. These tests hold each chapter to that,
discovering the chapters and their optimizer classes so a new chapter is covered as soon
as it exists.
"""

from __future__ import annotations

import ast
import copy
import inspect
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from support.chapters import PACKAGE, chapter_names, optimizer_classes

from labml_optim.literate import load_chapter

CHAPTERS = chapter_names()
OPTIMIZERS = optimizer_classes()
OPTIMIZER_IDS = [f"{c.__module__.rsplit('.', 1)[-1]}.{c.__name__}" for c in OPTIMIZERS]

# Optimizers that accept sparse gradients, as torch's counterparts do.
SPARSE_SUPPORTED = {"Adagrad", "SGD"}
# Optimizers that, like torch.optim.SGD and torch.optim.Muon, count no steps (Lion: its
# update needs no count).
STEPLESS = {"SGD", "Lion", "Muon"}
# Optimizers that, like torch.optim.Muon, take only 2-D parameters.
MATRIX_ONLY = {"Muon"}
# Optimizers that count steps in the param group (one counter per group, as their reference
# implementation does), not in a per-parameter `step`: name -> the group key.
GROUP_COUNTED = {"AdamWScheduleFree": "k"}
# Optimizers whose update is exactly zero for a zero gradient but whose interpolations
# ((1 - c) x + c x, as the reference computes them) round: compared to 1 ulp-ish.
ROUNDS_AT_REST = {"AdamWScheduleFree"}

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_there_are_chapters() -> None:
    assert "sgd" in CHAPTERS and len(OPTIMIZERS) >= 1


# ## The single file stands alone


def module_level_imports(path: Path) -> set[str]:
    """Root names of the modules a file imports when it is imported (not inside a def)."""
    roots: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            roots.add("." if node.level else (node.module or "").split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return roots


@pytest.mark.parametrize("name", CHAPTERS)
def test_imports_only_stdlib_and_torch(name: str) -> None:
    roots = module_level_imports(PACKAGE / f"{name}.py")
    foreign = {r for r in roots if r != "torch" and r not in sys.stdlib_module_names}
    assert not foreign, f"{name}.py imports {sorted(foreign)} at module level"


STANDALONE_RUNNER = textwrap.dedent(
    """
    import importlib.abc, runpy, sys

    class BlockProject(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path=None, target=None):
            if fullname.split(".")[0] == "labml_optim":
                raise ImportError(f"blocked import of {fullname}")
            return None

    sys.meta_path.insert(0, BlockProject())
    script, *args = sys.argv[1:]
    sys.argv = [script, *args]
    runpy.run_path(script, run_name="__main__")
    """
)


@pytest.mark.parametrize("name", CHAPTERS)
def test_copied_file_runs_its_main(name: str, tmp_path: Path) -> None:
    """Copied alone, with the package unimportable, the file draws its figure."""
    shutil.copy(PACKAGE / f"{name}.py", tmp_path / f"{name}.py")
    figure = tmp_path / "figure.png"
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": ""}
    result = subprocess.run(
        [sys.executable, "-c", STANDALONE_RUNNER, f"{name}.py", "--save", str(figure)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert figure.read_bytes()[:8] == PNG_MAGIC


# Chapters that teach about optimizers without defining one: nothing to step. Their copied
# file is still imported alone (and its figure drawn) by the tests above.
NOTHING_TO_STEP = {"fast": "derives the bandwidth floor; its code is the byte table"}


@pytest.mark.parametrize("name", [c for c in CHAPTERS if c not in NOTHING_TO_STEP])
def test_copied_file_imports_and_steps(name: str, tmp_path: Path) -> None:
    """The copied file's optimizers and schedulers take steps without the package around.

    Every chapter it runs on defines at least one of them, so the check never passes
    empty; the few that define none are listed in `NOTHING_TO_STEP` with the reason."""
    shutil.copy(PACKAGE / f"{name}.py", tmp_path / f"{name}.py")
    code = textwrap.dedent(
        f"""
        import importlib.abc, inspect, sys
        class BlockProject(importlib.abc.MetaPathFinder):
            def find_spec(self, fullname, path=None, target=None):
                if fullname.split(".")[0] == "labml_optim":
                    raise ImportError(fullname)
        sys.meta_path.insert(0, BlockProject())
        import torch, {name} as chapter
        for cls in vars(chapter).values():
            if (inspect.isclass(cls) and issubclass(cls, torch.optim.Optimizer)
                    and cls.__module__ == chapter.__name__):
                p = torch.nn.Parameter(torch.ones(3, 2))  # a matrix: Muon takes nothing else
                opt = cls([p], lr=0.1)
                p.grad = torch.ones(3, 2)
                opt.step()
                assert not torch.equal(p.detach(), torch.ones(3, 2)), cls
                print(cls.__name__)
        # Schedulers: built with small arguments for their required parameters, they set
        # a positive lr that changes from step to step during the warmup.
        small = {{"d_model": 16, "warmup": 4, "warmup_steps": 4, "total_steps": 10}}
        for cls in vars(chapter).values():
            if (inspect.isclass(cls)
                    and issubclass(cls, torch.optim.lr_scheduler.LRScheduler)
                    and cls.__module__ == chapter.__name__ and not cls.__name__.startswith("_")):
                p = torch.nn.Parameter(torch.ones(3))
                opt = torch.optim.Adam([p], lr=1.0, betas=(0.9, 0.9))
                required = [n for n, q in inspect.signature(cls).parameters.items()
                            if n != "optimizer" and q.default is inspect.Parameter.empty]
                sched = cls(opt, **{{n: small[n] for n in required}})
                lrs = []
                for _ in range(3):
                    lrs.append(opt.param_groups[0]["lr"])
                    p.grad = torch.ones(3)
                    opt.step()
                    sched.step()
                assert all(lr > 0 for lr in lrs) and len(set(lrs)) == 3, (cls, lrs)
                print(cls.__name__)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": ""}, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split(), f"{name}.py: no optimizer or scheduler was stepped"


# ## Every chapter is a page


@pytest.mark.parametrize("name", CHAPTERS)
def test_front_matter(name: str) -> None:
    chapter = load_chapter(PACKAGE / f"{name}.py")
    assert chapter.title.strip() and chapter.summary.strip()


@pytest.mark.parametrize("name", CHAPTERS)
def test_latex_lives_in_raw_strings(name: str) -> None:
    r"""A backslash in a plain docstring is an escape: `\beta` would be a backspace."""
    tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
    source_lines = (PACKAGE / f"{name}.py").read_text(encoding="utf-8").splitlines()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list) or not body:
            continue
        first = body[0]
        if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)):
            opening = source_lines[first.lineno - 1][first.col_offset:first.col_offset + 2]
            if "\\" in ast.get_source_segment("\n".join(source_lines), first):
                assert opening[0] in "rR", f"{name}.py:{first.lineno}: use a raw docstring"


@pytest.mark.parametrize("name", CHAPTERS)
def test_update_functions_come_before_their_class(name: str) -> None:
    """The skeleton of docs/conventions.md: the update reads first, then the class that
    calls it. A module-level function a class calls and defines later than that class
    must be one of the torch-compatibility footer's helpers."""
    source = (PACKAGE / f"{name}.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.splitlines()
    footer = next((i + 1 for i, line in enumerate(lines)
                   if line.strip() == "# ## torch compatibility"), len(lines) + 1)
    functions = {n.name: n.lineno for n in tree.body if isinstance(n, ast.FunctionDef)}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        called = {c.func.id for c in ast.walk(cls)
                  if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
        for fn in sorted(called & functions.keys()):
            line = functions[fn]
            assert line < cls.lineno or line > footer, (
                f"{name}.py:{line}: {fn}, called by {cls.name} (line {cls.lineno}), "
                "belongs before the class or in the footer")


# ## Optimizers behave like torch.optim


def shaped(cls: type[torch.optim.Optimizer], tensor: torch.Tensor) -> torch.nn.Parameter:
    """`tensor` as a parameter, viewed as a one-row matrix for an optimizer that takes only
    matrices."""
    if cls.__name__ in MATRIX_ONLY and tensor.dim() != 2:
        tensor = tensor.reshape(1, -1)
    return torch.nn.Parameter(tensor)


def make(cls: type[torch.optim.Optimizer], params, **overrides) -> torch.optim.Optimizer:
    """An optimizer with its defaults, lr 1e-2, and weight decay off where it has one."""
    accepted = inspect.signature(cls).parameters
    kwargs = {"lr": 1e-2}
    if "weight_decay" in accepted:
        kwargs["weight_decay"] = 0.0
    kwargs.update(overrides)
    return cls(params, **{k: v for k, v in kwargs.items() if k in accepted})


INVALID = [
    ("lr", -1.0, "lr"),
    ("eps", -1e-8, "eps"),
    ("weight_decay", -0.1, "weight_decay"),
    ("momentum", -0.5, "momentum"),
    ("alpha", -0.9, "alpha"),
    ("lr_decay", -0.1, "lr_decay"),
    ("betas", (1.0, 0.999), r"betas\[0\]"),
    ("betas", (-0.1, 0.999), r"betas\[0\]"),
    ("betas", (0.9, 1.0), r"betas\[1\]"),
    ("betas", (0.9, -0.5), r"betas\[1\]"),
]


# Only the combinations that exist: an optimizer without `momentum` has nothing to check.
INVALID_CASES = [
    pytest.param(cls, arg, value, pattern, id=f"{cid}-{arg}={value}")
    for cls, cid in zip(OPTIMIZERS, OPTIMIZER_IDS, strict=True)
    for arg, value, pattern in INVALID
    if arg in inspect.signature(cls).parameters
]


@pytest.mark.parametrize(("cls", "arg", "value", "pattern"), INVALID_CASES)
def test_invalid_argument_names_itself(cls, arg: str, value, pattern: str) -> None:
    with pytest.raises(ValueError, match=rf"^{pattern}"):
        cls([torch.nn.Parameter(torch.ones(2))], **{arg: value})


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_foreach_true_is_refused_not_ignored(cls) -> None:
    if "foreach" not in inspect.signature(cls).parameters:
        pytest.skip(f"{cls.__name__} has no foreach keyword")
    with pytest.raises(ValueError, match="foreach"):
        cls([torch.nn.Parameter(torch.ones(2))], foreach=True)


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_sparse_gradient(cls) -> None:
    p = torch.nn.Parameter(torch.ones(4, 2))
    opt = make(cls, [p])
    p.grad = torch.sparse_coo_tensor([[1, 3]], torch.ones(2, 2), (4, 2))
    if cls.__name__ in SPARSE_SUPPORTED:
        opt.step()
        assert torch.equal(p.detach()[0], torch.ones(2)), "untouched rows must stay"
        assert not torch.equal(p.detach()[1], torch.ones(2))
    else:
        with pytest.raises(RuntimeError, match="(?i)sparse") as raised:
            opt.step()
        assert cls.__name__ in str(raised.value), "the error should name the optimizer"


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_zero_gradient_without_decay_changes_nothing(cls) -> None:
    p = torch.nn.Parameter(torch.randn(5, 3))
    before = p.detach().clone()
    opt = make(cls, [p])
    for _ in range(3):
        p.grad = torch.zeros_like(p)
        opt.step()
    if cls.__name__ in ROUNDS_AT_REST:
        torch.testing.assert_close(p.detach(), before, rtol=1e-6, atol=0)
    else:
        assert torch.equal(p.detach(), before)


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_step_without_gradients_is_a_no_op(cls) -> None:
    p = shaped(cls, torch.randn(3))
    before = p.detach().clone()
    opt = make(cls, [p])
    state_before = copy.deepcopy(opt.state_dict()["state"])  # Adagrad fills it in __init__
    opt.step()
    assert torch.equal(p.detach(), before)
    state_after = opt.state_dict()["state"]
    assert state_after.keys() == state_before.keys()
    for key, entry in state_after.items():
        for name, value in entry.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(state_before[key][name]))


@pytest.fixture(params=[torch.float32, torch.float64], ids=str)
def default_dtype(request: pytest.FixtureRequest):
    """Run a test under each default dtype, restoring the previous one afterwards."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(request.param)
    yield request.param
    torch.set_default_dtype(previous)


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_step_counter_is_a_cpu_scalar_of_the_default_dtype(cls, default_dtype) -> None:
    """torch keeps `step` as a CPU scalar tensor of the default float dtype, whatever the
    parameter's dtype, so a state dict carries it the same way."""
    p = shaped(cls, torch.randn(3, dtype=torch.float32))
    opt = make(cls, [p])
    p.grad = torch.ones_like(p)
    opt.step()
    step = opt.state[p].get("step")
    if cls.__name__ in STEPLESS:
        assert step is None
        return
    if cls.__name__ in GROUP_COUNTED:
        assert step is None and opt.param_groups[0][GROUP_COUNTED[cls.__name__]] == 1
        return
    assert isinstance(step, torch.Tensor) and step.dim() == 0
    assert step.dtype == default_dtype and step.device.type == "cpu"
    assert step.item() == 1.0


# Our optimizer -> torch's, where torch has one. Ours may add keyword-only options.
TORCH_COUNTERPART = {
    "SGD": torch.optim.SGD,
    "Adagrad": torch.optim.Adagrad,
    "RMSprop": torch.optim.RMSprop,
    "Adam": torch.optim.Adam,
    "AdamW": torch.optim.AdamW,
    "RAdam": torch.optim.RAdam,
    "AMSGrad": torch.optim.Adam,  # Adam(amsgrad=True): no `amsgrad` switch of its own
    "NAdam": torch.optim.NAdam,
    "Adamax": torch.optim.Adamax,
    "Adafactor": torch.optim.Adafactor,
}


def describe(cls) -> dict[str, tuple]:
    return {p.name: (p.kind, p.default) for p in inspect.signature(cls).parameters.values()}


@pytest.mark.parametrize("cls", [c for c in OPTIMIZERS if c.__name__ in TORCH_COUNTERPART],
                         ids=lambda c: c.__name__)
def test_signature_is_torchs(cls) -> None:
    """Same names, kinds and defaults as torch's class: code written for torch keeps working."""
    ours, theirs = describe(cls), describe(TORCH_COUNTERPART[cls.__name__])
    if cls.__name__ == "AMSGrad":
        theirs.pop("amsgrad")
    for name, (kind, default) in theirs.items():
        assert name in ours, f"{cls.__name__} lacks torch's {name!r}"
        assert ours[name] == (kind, default), f"{cls.__name__}.{name}: {ours[name]}"
    extras = set(ours) - set(theirs)
    assert all(ours[name][0] is inspect.Parameter.KEYWORD_ONLY for name in extras), extras


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_closure_loss_is_returned_and_loss_goes_down(cls) -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=gen)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 3.0]) + 0.1
    w = shaped(cls, torch.zeros(4))
    b = shaped(cls, torch.zeros(()))
    opt = make(cls, [w, b], lr=0.05)

    def closure() -> torch.Tensor:
        assert torch.is_grad_enabled(), "closure must run with grad enabled"
        opt.zero_grad()
        loss = ((x @ w.reshape(4) + b.reshape(()) - y) ** 2).mean()
        loss.backward()
        return loss

    first = opt.step(closure)
    assert isinstance(first, torch.Tensor)
    for _ in range(200):
        last = opt.step(closure)
    assert last.item() < 0.5 * first.item()


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_maximize_climbs(cls) -> None:
    if "maximize" not in inspect.signature(cls).parameters:
        pytest.skip(f"{cls.__name__} has no maximize")
    p = torch.nn.Parameter(torch.tensor([0.5, -0.3]))
    opt = make(cls, [p], maximize=True)
    start = (p.detach() ** 2).sum().item()
    for _ in range(10):
        opt.zero_grad()
        (p**2).sum().backward()
        opt.step()
    assert (p.detach() ** 2).sum().item() > start


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_deepcopy_repr_and_state_dict(cls) -> None:
    p = shaped(cls, torch.randn(3))
    opt = make(cls, [p])
    p.grad = torch.ones_like(p)
    opt.step()
    clone = copy.deepcopy(opt)
    assert cls.__name__ in repr(opt)
    state = opt.state_dict()
    assert state["param_groups"][0]["lr"] == 1e-2
    assert clone.state_dict()["param_groups"] == state["param_groups"]


def test_the_common_tests_see_every_optimizer_chapter() -> None:
    """A chapter that defines an optimizer must be found by the discovery above."""
    found = {c.__module__.rsplit(".", 1)[-1] for c in OPTIMIZERS}
    for name in CHAPTERS:
        text = (PACKAGE / f"{name}.py").read_text(encoding="utf-8")
        if "(Optimizer)" in text or "(torch.optim.Optimizer)" in text:
            assert name in found

