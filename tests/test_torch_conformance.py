"""torch's own optimizer conformance data, run against every chapter with a counterpart.

torch ships, in the wheel, the inputs its optimizer tests use:
`torch.testing._internal.common_optimizers.optim_db` holds, per optimizer, the bad
arguments (`optim_error_inputs_func`: each with the exception type and a message regex)
and the argument sets its tests step through (`optim_inputs_func`). Every error input
must raise the same exception type with a message matching torch's regex (our messages
start with the argument's name and carry torch's words too), and every argument set must
give results bitwise equal to torch's for-loop path (`foreach=False`) in float32.

What is skipped, and why: inputs that select torch's other code paths (`foreach=True`,
`fused=True`, `capturable=True`), which these single-tensor files refuse on purpose. The
inputs torch lists only for CUDA (they all set `capturable=True`, some with tensor `lr`
and tensor `betas`) are run too, with `capturable` dropped, because their tensor
hyper-parameters are exactly what the for-loop path must match. Adafactor is stepped
without the harness's zero-size parameter, on which torch's step divides by zero (its own
tests pin that difference down).
"""

from __future__ import annotations

import inspect
import warnings

import pytest
import torch
from support import optim_harness
from support.chapters import optimizer_classes
from support.optim_harness import check_parity
from torch.testing._internal.common_optimizers import OptimizerErrorEnum, optim_db

OURS = {cls.__name__: cls for cls in optimizer_classes()}
DB = {info.optim_cls.__name__: info for info in optim_db}

# Our class -> (torch's class, fixed keyword arguments for torch's): every chapter with
# a torch counterpart. AMSGrad is torch's Adam with `amsgrad=True`; Adam-2k without its
# warm-up is Adam. LAMB has none (its parity is with its reference packages, in its own
# tests), nor has RAdam's AdamEpsHat (the RAdam paper's Adam with epsilon before the bias
# correction, held to the paper's formula in tests/test_radam.py).
COUNTERPARTS = {
    "SGD": ("SGD", {}),
    "Adagrad": ("Adagrad", {}),
    "RMSprop": ("RMSprop", {}),
    "Adam": ("Adam", {}),
    "AMSGrad": ("Adam", {"amsgrad": True}),
    "AdamW": ("AdamW", {}),
    "RAdam": ("RAdam", {}),
    "AdamVWarmup": ("Adam", {}),
    "Muon": ("Muon", {}),
    "NAdam": ("NAdam", {}),
    "Adamax": ("Adamax", {}),
    "Adafactor": ("Adafactor", {}),
}
# Optimizers that, like torch.optim.Muon, take only matrices: they get matrix parameters
# (tall, wide, square, empty, one column) where the others get vectors and 3-d tensors.
MATRIX_ONLY = {"Muon"}
MATRIX_SHAPES = ((5, 3), (3, 7), (0, 3), (6, 6), (4, 1))
# Held to their reference code in their own tests: LAMB (its reference packages), the
# RAdam paper's Adam-eps baseline (the official RAdam repository's formula), and the
# chapters whose authors' packages are their twins (lion-pytorch, adabelief-pytorch,
# schedulefree, sophia-opt).
NO_COUNTERPART = {"LAMB", "AdamEpsHat", "Lion", "AdaBelief", "AdamWScheduleFree", "SophiaG"}
# torch's Adafactor fails on a parameter with no elements (0/0 in its RMS).
NONEMPTY_ONLY = {"Adafactor"}
OTHER_PATHS = ("foreach", "fused", "capturable")


def test_every_chapter_optimizer_is_classified() -> None:
    """A new chapter optimizer must be listed with its counterpart or as having none."""
    assert set(OURS) == set(COUNTERPARTS) | NO_COUNTERPART, (
        set(OURS) ^ (set(COUNTERPARTS) | NO_COUNTERPART))


def accepts(cls: type, kwargs: dict) -> bool:
    """Our optimizer takes these keywords (AMSGrad has no `amsgrad` switch: always on)."""
    return set(kwargs) <= set(inspect.signature(cls).parameters)


def error_cases():
    for ours, (theirs, _) in COUNTERPARTS.items():
        info = DB[theirs]
        for i, err in enumerate(info.optim_error_inputs_func(device="cpu", dtype=torch.float32)):
            kwargs = dict(err.optimizer_error_input.kwargs)
            if ours == "AMSGrad":
                kwargs.pop("amsgrad", None)
            yield pytest.param(ours, err, kwargs, id=f"{ours}-{i}-{err.optimizer_error_input.desc}")


ERROR_CASES = list(error_cases())


@pytest.mark.parametrize(("ours", "err", "kwargs"), ERROR_CASES)
def test_error_input_raises_torchs_error(ours: str, err, kwargs: dict) -> None:
    cls = OURS[ours]
    missing = set(kwargs) - set(inspect.signature(cls).parameters)
    assert not missing, f"{ours} lacks torch's keywords {missing}"
    params = err.optimizer_error_input.params
    if params is None:
        second = (3, 2) if ours in MATRIX_ONLY else (3,)
        params = [torch.nn.Parameter(torch.randn(2, 3)), torch.nn.Parameter(torch.randn(second))]

    def run() -> None:
        opt = cls(params, **kwargs)
        if err.error_on == OptimizerErrorEnum.STEP_ERROR:
            opt.step()

    if issubclass(err.error_type, Warning):
        with pytest.warns(err.error_type, match=err.error_regex):
            run()
    else:
        with pytest.raises(err.error_type, match=err.error_regex):
            run()


def optim_cases():
    for ours, (theirs, fixed) in COUNTERPARTS.items():
        info = DB[theirs]
        cpu = info.optim_inputs_func(device="cpu", dtype=torch.float32)
        cuda_only = [x for x in info.optim_inputs_func(device="cuda", dtype=torch.float32)
                     if x.desc not in {c.desc for c in cpu}]
        for origin, inputs in (("cpu", cpu), ("cuda-list", cuda_only)):
            for x in inputs:
                kwargs = dict(x.kwargs)
                if origin == "cuda-list":
                    kwargs.pop("capturable", None)
                if any(kwargs.get(k) for k in OTHER_PATHS):
                    continue
                if ours == "AMSGrad" and kwargs.pop("amsgrad", True) is False:
                    continue
                if ours == "AdamVWarmup" and kwargs.get("amsgrad"):
                    continue  # Adam-2k has no AMSGrad variant
                kwargs.pop("amsgrad", None) if ours in ("AMSGrad", "AdamVWarmup") else None
                yield pytest.param(ours, theirs, fixed, kwargs,
                                   id=f"{ours}-{origin}-{x.desc}")


OPTIM_CASES = list(optim_cases())


@pytest.mark.parametrize(("ours", "theirs", "fixed", "kwargs"), OPTIM_CASES)
def test_optim_input_is_bitwise_torchs_for_loop(ours: str, theirs: str, fixed: dict,
                                               kwargs: dict,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    cls, reference = OURS[ours], getattr(torch.optim, theirs)
    assert accepts(cls, kwargs), set(kwargs) - set(inspect.signature(cls).parameters)
    if ours in MATRIX_ONLY:
        monkeypatch.setattr(optim_harness, "SHAPES", MATRIX_SHAPES)
    # torch's Muon has only its for-loop path, and no `foreach` switch.
    for_loop = {"foreach": False} if "foreach" in inspect.signature(reference).parameters else {}

    def stepped(params: list[torch.Tensor]) -> list[torch.Tensor]:
        return [p for p in params if p.numel()] if ours in NONEMPTY_ONLY else params

    check_parity(
        lambda params: cls(stepped(params), **kwargs),
        lambda params: reference(stepped(params), **fixed, **kwargs, **for_loop),
        steps=12,
    )


def test_conformance_tables_are_not_empty() -> None:
    """Numbers for the report: how many of torch's inputs run per optimizer."""
    per = {name: (sum(1 for c in ERROR_CASES if c.values[0] == name),
                  sum(1 for c in OPTIM_CASES if c.values[0] == name)) for name in COUNTERPARTS}
    print(per)
    assert all(errors > 0 and inputs > 0 for errors, inputs in per.values()), per


# ## The known differences, each pinned down


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AMSGrad", "AdamW",
                                  "RAdam", "AdamVWarmup", "LAMB", "NAdam", "Adamax",
                                  "Adafactor"])
def test_duplicate_parameter_steps_like_torch(name: str) -> None:
    """A parameter listed twice in one group: torch warns and updates it twice; so do we,
    with the same result (for SGD with momentum torch starts two buffers from the first
    gradient and keeps the second)."""
    cls = OURS[name]
    kwargs = {"momentum": 0.9} if name == "SGD" else {}
    p = torch.nn.Parameter(torch.randn(4))
    q = torch.nn.Parameter(p.detach().clone())
    with pytest.warns(UserWarning, match="duplicate parameters"):
        ours = cls([p, p], lr=0.1, **kwargs)
    if name in COUNTERPARTS:
        theirs_name, fixed = COUNTERPARTS[name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = getattr(torch.optim, theirs_name)([q, q], lr=0.1, foreach=False, **fixed,
                                                     **kwargs)
    else:
        theirs = None
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        g = torch.randn(4, generator=gen)
        p.grad, q.grad = g.clone(), g.clone()
        ours.step()
        if theirs is not None:
            theirs.step()
    if theirs is not None:
        assert torch.equal(p.detach(), q.detach())
    assert torch.isfinite(p.detach()).all()


SPARSE_REFUSED = ["RMSprop", "Adam", "AMSGrad", "AdamW", "RAdam", "AdamVWarmup", "LAMB",
                  "NAdam", "Adamax", "Adafactor", "Muon"]
# SGD and Adagrad take sparse gradients but refuse them with weight decay.
SPARSE_REFUSED_WITH_DECAY = ["SGD", "Adagrad"]


@pytest.mark.parametrize("warm", [False, True], ids=["empty-state", "after-a-step"])
@pytest.mark.parametrize("name", SPARSE_REFUSED + SPARSE_REFUSED_WITH_DECAY)
def test_a_failing_step_changes_nothing(name: str, warm: bool) -> None:
    """A sparse gradient late in the group fails the step before any parameter moves or
    any state entry changes, whether the state is still empty or filled by a step."""
    cls = OURS[name]
    kwargs = {"weight_decay": 0.1} if name in SPARSE_REFUSED_WITH_DECAY else {}
    if name == "SGD":
        kwargs["momentum"] = 0.9  # so that there is state to spoil
    dense = torch.nn.Parameter(torch.randn(3, 2))
    sparse = torch.nn.Parameter(torch.randn(4, 2))
    opt = cls([dense, sparse], lr=0.1, **kwargs)
    if warm:
        dense.grad, sparse.grad = torch.randn(3, 2), torch.randn(4, 2)
        opt.step()
        assert len(opt.state_dict()["state"]) == 2
    dense.grad = torch.ones(3, 2)
    sparse.grad = torch.sparse_coo_tensor([[1, 3]], torch.ones(2, 2), (4, 2))
    before = [dense.detach().clone(), sparse.detach().clone()]
    state_before = {k: {n: v.clone() if torch.is_tensor(v) else v for n, v in s.items()}
                    for k, s in opt.state_dict()["state"].items()}
    with pytest.raises(RuntimeError, match=rf"^{name}.*sparse"):
        opt.step()
    assert torch.equal(dense.detach(), before[0]) and torch.equal(sparse.detach(), before[1])
    state_after = opt.state_dict()["state"]
    assert state_after.keys() == state_before.keys()
    for k, entry in state_after.items():
        for n, v in entry.items():
            assert torch.equal(torch.as_tensor(v), torch.as_tensor(state_before[k][n]))


@pytest.mark.parametrize("name", ["Adam", "AMSGrad", "AdamW", "AdamVWarmup", "RAdam"])
def test_tensor_betas_stay_tensors(name: str) -> None:
    """torch keeps tensor betas as (0-d) tensors; so do we, in the group and state dict."""
    p = torch.nn.Parameter(torch.randn(3))
    opt = OURS[name]([p], betas=(torch.tensor([0.8]), torch.tensor([[0.99]])))
    beta1, beta2 = opt.param_groups[0]["betas"]
    assert torch.is_tensor(beta1) and beta1.dim() == 0 and beta1.item() == pytest.approx(0.8)
    assert torch.is_tensor(beta2) and beta2.dim() == 0


@pytest.mark.parametrize("name", ["Adam", "AMSGrad", "AdamW", "AdamVWarmup", "RAdam"])
@pytest.mark.parametrize("betas", [(0.9, torch.tensor(0.99)), (torch.tensor(0.9), 0.99)],
                         ids=["float-tensor", "tensor-float"])
def test_mixed_betas_are_refused_with_torchs_words(name: str, betas) -> None:
    with pytest.raises(ValueError, match="^betas must be either both floats or both Tensors"):
        OURS[name]([torch.nn.Parameter(torch.randn(3))], betas=betas)


@pytest.mark.parametrize("lr", [torch.tensor(0.01), torch.tensor([0.01])], ids=["0-d", "1-d"])
@pytest.mark.parametrize("adapt", [True, False])
def test_lamb_takes_a_one_element_lr_tensor(lr: torch.Tensor, adapt: bool) -> None:
    """A tensor lr gives LAMB the steps a float lr gives (to float32 rounding of lr)."""
    params = [torch.nn.Parameter(torch.randn(5, 3)) for _ in range(2)]
    copies = [torch.nn.Parameter(p.detach().clone()) for p in params]
    ours = OURS["LAMB"](params, lr=lr, adapt=adapt, weight_decay=0.1)
    ref = OURS["LAMB"](copies, lr=lr.item(), adapt=adapt, weight_decay=0.1)
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        for a, b in zip(params, copies, strict=True):
            g = torch.randn(a.shape, generator=gen)
            a.grad, b.grad = g.clone(), g.clone()
        ours.step()
        ref.step()
    for a, b in zip(params, copies, strict=True):
        torch.testing.assert_close(a.detach(), b.detach(), atol=1e-6, rtol=1e-6)
