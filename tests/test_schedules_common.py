"""What every schedule of the noam and warmup chapters must do, and helpers their tests share.

Each schedule is built around a small model with two param groups (different base lrs),
trained on a gradient sequence that depends only on the step number, so that a run can
be cut anywhere, saved, rebuilt from fresh objects and continued, and compared with the
uninterrupted run for exact equality.
"""

from __future__ import annotations

import copy
import io
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from labml_optim.noam import NoamLR
from labml_optim.warmup import (
    UntunedExponentialWarmupLR,
    UntunedLinearWarmupLR,
    WarmupCosineLR,
    WarmupLinearLR,
)

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

BASE_LRS = (0.1, 0.03)
BETAS = (0.9, 0.9)  # beta2 = 0.9: the untuned warmups last 20 (linear) and ~10 (exp) steps
TOTAL = 14
SPLIT = 5  # every schedule below is still warming up after 5 steps

ScheduleFactory = Callable[[Optimizer], LRScheduler]
OptimizerFactory = Callable[[list[dict]], Optimizer]

SCHEDULES: dict[str, ScheduleFactory] = {
    "NoamLR": lambda opt: NoamLR(opt, d_model=16, warmup=8, factor=2.0),
    "WarmupLinearLR": lambda opt: WarmupLinearLR(opt, warmup_steps=8, total_steps=12),
    "WarmupCosineLR": lambda opt: WarmupCosineLR(opt, 8, 12, min_lr_ratio=0.2),
    "UntunedLinearWarmupLR": UntunedLinearWarmupLR,
    "UntunedExponentialWarmupLR": UntunedExponentialWarmupLR,
}
NEEDS_BETAS = {"UntunedLinearWarmupLR", "UntunedExponentialWarmupLR"}

OPTIMIZERS: dict[str, OptimizerFactory] = {
    "torch.Adam": lambda groups: torch.optim.Adam(groups, betas=BETAS),
    "torch.AdamW": lambda groups: torch.optim.AdamW(groups, betas=BETAS),
    "torch.SGD": lambda groups: torch.optim.SGD(groups, momentum=0.9),
}
try:  # our own Adam chapter, once it exists
    from labml_optim.adam import Adam as LabmlAdam
except ImportError:
    LabmlAdam = None
else:
    OPTIMIZERS["labml.Adam"] = lambda groups: LabmlAdam(groups, betas=BETAS)

PAIRS = [
    (s, o) for s in SCHEDULES for o in OPTIMIZERS if not (s in NEEDS_BETAS and o == "torch.SGD")
]


# ## Helpers shared with test_noam.py and test_warmup.py


def make_params() -> list[torch.nn.Parameter]:
    gen = torch.Generator().manual_seed(0)
    return [torch.nn.Parameter(torch.randn(3, generator=gen)) for _ in BASE_LRS]


def param_groups(params: list[torch.nn.Parameter], lrs=BASE_LRS) -> list[dict]:
    return [{"params": [p], "lr": lr} for p, lr in zip(params, lrs, strict=True)]


def loss_at(step: int, params: list[torch.nn.Parameter]) -> torch.Tensor:
    """A loss whose targets depend only on the step number, not on the run's history."""
    gen = torch.Generator().manual_seed(1000 + step)
    return sum(((p - torch.randn(p.shape, generator=gen)) ** 2).sum() for p in params)


def train(
    params: list[torch.nn.Parameter],
    opt: Optimizer,
    sched: LRScheduler,
    start: int,
    stop: int,
) -> list[list[float]]:
    """Optimizer steps start+1 .. stop; returns the lrs each step ran with."""
    used = []
    for step in range(start + 1, stop + 1):
        used.append([float(g["lr"]) for g in opt.param_groups])
        opt.zero_grad()
        loss_at(step, params).backward()
        opt.step()
        sched.step()
    return used


def lrs_over(sched: LRScheduler, steps: int) -> list[list[float]]:
    """The lrs of optimizer steps 1..steps, without gradients (the steps are no-ops)."""
    used = []
    for _ in range(steps):
        used.append([float(g["lr"]) for g in sched.optimizer.param_groups])
        sched.optimizer.step()  # a no-op without grads; keeps torch's call-order check quiet
        sched.step()
    return used


def save_and_load(obj: object) -> object:
    """A torch.save / torch.load(weights_only=True) round trip through memory."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def build(schedule: str, optimizer: str):
    params = make_params()
    opt = OPTIMIZERS[optimizer](param_groups(params))
    return params, opt, SCHEDULES[schedule](opt)


# ## Resuming mid-warmup continues exactly


def uninterrupted(schedule: str, optimizer: str):
    params, opt, sched = build(schedule, optimizer)
    lrs = train(params, opt, sched, 0, TOTAL)
    return lrs, [p.detach().clone() for p in params]


@pytest.mark.parametrize("scheduler_first", [True, False], ids=["sched-first", "opt-first"])
@pytest.mark.parametrize(("schedule", "optimizer"), PAIRS)
def test_resume_mid_warmup_matches_uninterrupted_run(
    schedule: str, optimizer: str, scheduler_first: bool
) -> None:
    expected_lrs, expected_params = uninterrupted(schedule, optimizer)

    params, opt, sched = build(schedule, optimizer)
    lrs = train(params, opt, sched, 0, SPLIT)
    checkpoint = save_and_load(
        {
            "params": [p.detach() for p in params],
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
        }
    )
    del params, opt, sched

    params = make_params()
    with torch.no_grad():
        for p, saved in zip(params, checkpoint["params"], strict=True):
            p.copy_(saved)
    opt = OPTIMIZERS[optimizer](param_groups(params))
    if scheduler_first:  # the order torch's documentation asks for
        sched = SCHEDULES[schedule](opt)
        opt.load_state_dict(checkpoint["optimizer"])
    else:  # the order that leaves torch's own schedulers at the lr of step 1
        opt.load_state_dict(checkpoint["optimizer"])
        sched = SCHEDULES[schedule](opt)
    sched.load_state_dict(checkpoint["scheduler"])
    lrs += train(params, opt, sched, SPLIT, TOTAL)

    assert lrs == expected_lrs
    for p, q in zip(params, expected_params, strict=True):
        assert torch.equal(p.detach(), q)


@pytest.mark.parametrize(("schedule", "optimizer"), PAIRS)
def test_pickle_and_deepcopy_continue_exactly(schedule: str, optimizer: str) -> None:
    expected_lrs, expected_params = uninterrupted(schedule, optimizer)
    for clone in (lambda s: pickle.loads(pickle.dumps(s)), copy.deepcopy):
        params, opt, sched = build(schedule, optimizer)
        lrs = train(params, opt, sched, 0, SPLIT)
        sched = clone(sched)
        # The clone carries its own copy of the optimizer and, through it, the params.
        opt = sched.optimizer
        params = [group["params"][0] for group in opt.param_groups]
        lrs += train(params, opt, sched, SPLIT, TOTAL)
        assert lrs == expected_lrs
        for p, q in zip(params, expected_params, strict=True):
            assert torch.equal(p.detach(), q)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_state_dict_is_plain_data_and_carries_the_schedule(schedule: str) -> None:
    """Numbers only, so weights_only loads it; the hyper-parameters travel with it."""
    _, opt, sched = build(schedule, "torch.Adam")
    state = sched.state_dict()
    assert save_and_load(state) == state
    hyper = {"warmup", "d_model", "factor", "warmup_steps", "total_steps", "min_lr_ratio"}
    for name in hyper & vars(sched).keys():
        assert state[name] == getattr(sched, name)


# ## Param groups, tensor lrs, the first step


@pytest.mark.parametrize(("schedule", "optimizer"), PAIRS)
def test_each_group_scales_its_own_base_lr(schedule: str, optimizer: str) -> None:
    _, _, sched = build(schedule, optimizer)
    for lr_a, lr_b in lrs_over(sched, 30):
        assert lr_a * BASE_LRS[1] == pytest.approx(lr_b * BASE_LRS[0], rel=1e-12)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_tensor_lr_is_updated_in_place(schedule: str) -> None:
    params = make_params()
    opt = OPTIMIZERS["torch.Adam"](param_groups(params, (torch.tensor(0.1), torch.tensor(0.03))))
    tensors = [g["lr"] for g in opt.param_groups]
    _, _, float_sched = build(schedule, "torch.Adam")
    sched = SCHEDULES[schedule](opt)
    sched.load_state_dict(sched.state_dict())
    for lrs, float_lrs in zip(lrs_over(sched, 12), lrs_over(float_sched, 12), strict=True):
        assert lrs == pytest.approx(float_lrs, rel=1e-6)  # float32 tensors
    assert all(g["lr"] is t for g, t in zip(opt.param_groups, tensors, strict=True))


@pytest.mark.parametrize(("schedule", "optimizer"), PAIRS)
def test_first_step_moves_the_parameters(schedule: str, optimizer: str) -> None:
    params, opt, sched = build(schedule, optimizer)
    before = [p.detach().clone() for p in params]
    (first_lrs,) = train(params, opt, sched, 0, 1)
    assert all(lr > 0 for lr in first_lrs)
    assert all(not torch.equal(p.detach(), b) for p, b in zip(params, before, strict=True))


# ## The figure, headless


@pytest.mark.parametrize("chapter", ["noam", "warmup"])
def test_module_main_saves_a_png_without_a_display(chapter: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND")}
    env["PYTHONPATH"] = str(ROOT)
    figure = tmp_path / f"{chapter}.png"
    result = subprocess.run(
        [sys.executable, "-m", f"labml_optim.{chapter}", "--save", str(figure)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert figure.read_bytes()[:8] == PNG_MAGIC


# ## Resuming by argument, and arguments of the wrong kind

SCHEDULE_ARGS: dict[str, tuple[type[LRScheduler], dict]] = {
    "NoamLR": (NoamLR, {"d_model": 16, "warmup": 8, "factor": 2.0}),
    "WarmupLinearLR": (WarmupLinearLR, {"warmup_steps": 8, "total_steps": 12}),
    "WarmupCosineLR": (WarmupCosineLR, {"warmup_steps": 8, "total_steps": 12,
                                        "min_lr_ratio": 0.2}),
    "UntunedLinearWarmupLR": (UntunedLinearWarmupLR, {}),
    "UntunedExponentialWarmupLR": (UntunedExponentialWarmupLR, {}),
}


def test_schedule_args_cover_every_schedule() -> None:
    assert set(SCHEDULE_ARGS) == set(SCHEDULES)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_last_epoch_resumes_by_argument(schedule: str) -> None:
    """As with torch's built-in schedulers: a scheduler built with `last_epoch=k - 1` on
    groups that hold `initial_lr` continues after step k with the uninterrupted lrs."""
    cls, kwargs = SCHEDULE_ARGS[schedule]
    opt = torch.optim.Adam(param_groups(make_params()), betas=BETAS)
    sched = cls(opt, **kwargs)
    lrs = []
    for _ in range(TOTAL):
        lrs.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    groups = [{**g, "initial_lr": lr} for g, lr in
              zip(param_groups(make_params()), BASE_LRS, strict=True)]
    resumed_opt = torch.optim.Adam(groups, betas=BETAS)
    resumed = cls(resumed_opt, **kwargs, last_epoch=SPLIT - 1)
    assert resumed.last_epoch == SPLIT
    for k in range(SPLIT, TOTAL):
        assert [g["lr"] for g in resumed_opt.param_groups] == lrs[k], f"step {k + 1}"
        resumed_opt.step()
        resumed.step()


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_last_epoch_without_initial_lr_fails_like_torch(schedule: str) -> None:
    cls, kwargs = SCHEDULE_ARGS[schedule]
    opt = torch.optim.Adam(param_groups(make_params()), betas=BETAS)
    with pytest.raises(KeyError, match="initial_lr"):
        cls(opt, **kwargs, last_epoch=3)


BAD_ARGUMENTS = [
    ("NoamLR", "d_model", 512.0), ("NoamLR", "d_model", True), ("NoamLR", "d_model", 0),
    ("NoamLR", "warmup", 4000.0), ("NoamLR", "warmup", True), ("NoamLR", "warmup", 0),
    ("NoamLR", "factor", float("inf")), ("NoamLR", "factor", float("nan")),
    ("NoamLR", "factor", True), ("NoamLR", "factor", -1.0),
    ("WarmupLinearLR", "warmup_steps", 8.0), ("WarmupLinearLR", "warmup_steps", True),
    ("WarmupLinearLR", "total_steps", float("inf")), ("WarmupLinearLR", "total_steps", 12.0),
    ("WarmupCosineLR", "min_lr_ratio", float("inf")), ("WarmupCosineLR", "min_lr_ratio", True),
    ("WarmupCosineLR", "min_lr_ratio", float("nan")), ("WarmupCosineLR", "min_lr_ratio", 1.5),
] + [(name, "last_epoch", value) for name in SCHEDULES
     for value in (1.0, True, -2, float("inf"))]


@pytest.mark.parametrize(("schedule", "arg", "value"), BAD_ARGUMENTS,
                         ids=[f"{s}-{a}={v!r}" for s, a, v in BAD_ARGUMENTS])
def test_wrong_kind_of_argument_is_refused_by_name(schedule: str, arg: str, value) -> None:
    cls, kwargs = SCHEDULE_ARGS[schedule]
    opt = torch.optim.Adam(param_groups(make_params()), betas=BETAS)
    with pytest.raises(ValueError, match=rf"^{arg} must be"):
        cls(opt, **{**kwargs, arg: value})
