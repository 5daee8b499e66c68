"""Parity with torch.optim, one table for every chapter that has a torch twin.

Each row of `TWINS` names our optimizer, torch's, and the configurations to try; every test
below runs over the whole table, so a chapter gets the same checks as every other and a new
chapter gets them all by adding one row:

- bitwise equality with torch's for-loop path (`foreach=False`) for each listed
  configuration, in float32 and float64, over the harness's gradient sequence (a zero-size
  parameter, a missing grad, a frozen layer), comparing parameters and every state tensor
  after every step; and with torch's default path (on CPU it is the for-loop one);
- hypothesis over the hyper-parameters, drawing the dtype, complex parameters (where torch
  takes them) and the gradient scale too;
- complex parameters against torch, and against their own real view;
- state dicts both ways (ours -> torch, torch -> ours, and ours -> ours for our own
  options) through `torch.save` / `torch.load(weights_only=True)`, training on identically;
- the state-dict layout (group keys and values, state keys and dtypes) is torch's;
- older state dicts (group keys newer torch added missing, the step a Python number) load
  through `__setstate__` and train on identically;
- several parameter groups with their own hyper-parameters;
- a tensor learning rate.

The chapters torch has no twin of are held to their authors' packages the same way, in a
second, smaller table (`REFERENCES`: bitwise × dtype, state dicts both ways, groups).

Where op order forbids bitwise equality a row carries a tolerance, and the reason sits
beside it. What is particular to a chapter (its derivation, its own options, sparse
gradients, argument errors) stays in the chapter's test file; torch's own conformance data
runs in test_torch_conformance.py and the compiled step in test_compile.py.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import lion_pytorch
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from support import references
from support.chapters import optimizer_classes
from support.optim_harness import (
    OptimizerFactory,
    apply_step,
    bind,
    check_complex_matches_real_view,
    check_old_state_dict,
    check_parity,
    check_state_dict_transfer,
    clone_params,
    make_gradients,
    make_params,
)

from labml_optim.adabelief import AdaBelief
from labml_optim.adafactor import Adafactor
from labml_optim.adagrad import Adagrad
from labml_optim.adam import Adam
from labml_optim.adamax import Adamax
from labml_optim.adamw import AdamW
from labml_optim.amsgrad import AMSGrad
from labml_optim.lion import Lion
from labml_optim.muon import CUBIC_COEFFICIENTS, Muon
from labml_optim.nadam import NAdam
from labml_optim.radam import AdamVWarmup, RAdam
from labml_optim.rmsprop import RMSprop
from labml_optim.sgd import SGD

Kw = dict
# A tolerance and its reason; `BITWISE` where the two must agree to the last bit.
BITWISE = None
# torch steps some complex tensors as complex (SGD throughout, the L2 term of Adagrad,
# RMSprop and Adamax): an `add_` with `alpha` on complex numbers can round one ulp away from
# the same `add_` on the real view.
COMPLEX_ADD_ULP = 1e-6
# torch keeps a tensor lr a float32 tensor in `1 - lr * weight_decay` where RAdam reads it as
# a Python number (double): decoupled decay may differ in the last bit.
TENSOR_LR_DECAY_ULP = 1e-6


@dataclass(frozen=True)
class Twin:
    """One chapter optimizer and its torch twin, with the configurations to compare."""

    name: str
    ours: type[torch.optim.Optimizer]
    theirs: type[torch.optim.Optimizer]
    fixed: Kw = field(default_factory=dict)  # keyword arguments torch's needs to be ours
    bitwise: list[Kw] = field(default_factory=lambda: [{}])  # each in float32 ...
    bitwise64: list[Kw] | None = None  # ... and these in float64 (None: the same rows)
    hyper: st.SearchStrategy | None = None
    examples: int = 25
    fix: Callable[[Kw], Kw] = lambda kw: kw  # a drawn combination both refuse, made legal
    grad_scales: tuple[float, ...] = (1.0,)
    complex_: bool = True  # torch takes complex parameters
    complex_rows: list[Kw] = field(default_factory=list)
    real_view: list[tuple[Kw, float | None]] = field(default_factory=list)
    state_dicts: list[Kw] = field(default_factory=lambda: [{}])
    own_state_dicts: list[Kw] = field(default_factory=list)  # ours -> ours: our own options
    old: dict | None = None  # check_old_state_dict's arguments, and `source`: ours or torch
    groups: Callable[[list], list[dict]] | None = None
    group_defaults: Kw = field(default_factory=dict)
    tensor_lr: list[tuple[Kw, float | None]] = field(default_factory=list)
    shapes: tuple[tuple[int, ...], ...] | None = None
    steps: int = 50
    foreach: bool = True  # torch's class takes `foreach` (Muon's does not)
    own_group_keys: frozenset[str] = frozenset()  # group keys only ours has

    def ours_(self, **kw) -> OptimizerFactory:
        return bind(self.ours)(**kw)

    def theirs_(self, **kw) -> OptimizerFactory:
        loop = {"foreach": False} if self.foreach else {}
        return bind(self.theirs, **loop, **self.fixed)(**kw)

    def grouped(self, cls: type, **extra) -> OptimizerFactory:
        assert self.groups is not None
        return lambda p: cls(self.groups(p), **self.group_defaults, **extra)


def adam_like(**extra: st.SearchStrategy) -> st.SearchStrategy:
    return st.fixed_dictionaries({
        "lr": st.sampled_from([1e-4, 1e-3, 3e-2, 0.5]),
        "betas": st.tuples(st.sampled_from([0.0, 0.5, 0.9, 0.99]),
                           st.sampled_from([0.0, 0.9, 0.99, 0.999])),
        "eps": st.sampled_from([0.0, 1e-8, 1e-3]),
        "weight_decay": st.sampled_from([0.0, 1e-2, 0.3]),
        "maximize": st.booleans(),
        **extra,
    })


def sgd_fix(kw: Kw) -> Kw:
    if kw["nesterov"]:  # both refuse nesterov without momentum or with dampening
        kw = {**kw, "dampening": 0.0, "momentum": max(kw["momentum"], 0.1)}
    return kw


def rmsprop_fix(kw: Kw) -> Kw:
    if kw["centered"] and kw["alpha"] == 0.0:
        # v - m^2 = 0 exactly: NaN in both (test_rmsprop pins down that the NaNs agree)
        kw = {**kw, "alpha": 0.5}
    return kw


# Keys a newer torch added to the param groups; an older checkpoint lacks them.
ADAM_NEW_KEYS = ("amsgrad", "foreach", "capturable", "fused", "differentiable",
                 "decoupled_weight_decay", "maximize")
# Muon takes matrices only: tall, wide, empty, square, single column (index 1 loses its
# grad for a step, index 3 is frozen for two, as in the harness).
MATRIX_SHAPES = ((5, 3), (3, 7), (0, 3), (6, 6), (4, 1))
# torch's Adafactor divides by zero on a parameter with no elements (0/0 in its RMS; pinned
# down in test_adafactor), so its rows use the harness's shapes without the empty one.
NONEMPTY_SHAPES = ((5, 3), (7,), (2, 3, 2), (4, 1))

SGD_CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.5),
    dict(lr=0.05, momentum=0.9, dampening=0.9),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, momentum=0.5, weight_decay=0.1),
    dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01, maximize=True),
    dict(lr=0.01, weight_decay=0.3, maximize=True),
]
ADAGRAD_CONFIGS = [
    dict(),
    dict(lr=0.1),
    dict(lr=0.1, lr_decay=0.05),
    dict(lr=0.05, initial_accumulator_value=0.3),
    dict(lr=0.05, weight_decay=0.1, eps=1e-6),
    dict(lr=0.05, lr_decay=0.01, weight_decay=0.01, maximize=True,
         initial_accumulator_value=0.1),
]
RMSPROP_CONFIGS = [
    dict(),
    dict(lr=0.01, alpha=0.9),
    dict(lr=0.01, centered=True),
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.01, momentum=0.5, centered=True, eps=1e-4),
    dict(lr=0.01, weight_decay=0.1, maximize=True),
    dict(lr=0.003, alpha=0.5, momentum=0.9, centered=True, weight_decay=0.01, maximize=True),
]
RADAM_BETA2S = (0.5, 0.8, 0.9, 0.99, 0.999, 0.9999)  # both branches, rectified or not
RADAM_HYPER = st.fixed_dictionaries({
    "lr": st.sampled_from([1e-4, 1e-3, 3e-2, 0.5]),
    "betas": st.tuples(st.sampled_from([0.0, 0.5, 0.9, 0.99]), st.sampled_from(RADAM_BETA2S)),
    "eps": st.sampled_from([0.0, 1e-8, 1e-4]),
    "weight_decay": st.sampled_from([0.0, 1e-2, 0.3]),
    "decoupled_weight_decay": st.booleans(),
    "maximize": st.booleans(),
})

TWINS = [
    Twin(
        "sgd", SGD, torch.optim.SGD,
        bitwise=SGD_CONFIGS,
        hyper=st.fixed_dictionaries({
            "lr": st.floats(0.0, 0.5),
            "momentum": st.sampled_from([0.0, 0.1, 0.5, 0.9, 0.99]),
            "dampening": st.floats(0.0, 1.0),
            "weight_decay": st.sampled_from([0.0, 1e-4, 0.1]),
            "nesterov": st.booleans(),
            "maximize": st.booleans(),
        }),
        examples=30, fix=sgd_fix,
        complex_rows=SGD_CONFIGS[1:7:2],
        real_view=[(kw, COMPLEX_ADD_ULP) for kw in SGD_CONFIGS[1:7:2]]
        + [(dict(lr=1.0), BITWISE)],  # no scaled complex add: bitwise
        state_dicts=[dict(lr=0.1), dict(lr=0.1, momentum=0.9),
                     dict(lr=0.1, momentum=0.9, nesterov=True)],
        old=dict(source="ours", kw=dict(lr=0.1, momentum=0.9), number_state_keys=(),
                 dropped_group_keys=("nesterov", "maximize", "foreach", "differentiable",
                                     "fused")),
        groups=lambda p: [dict(params=p[:2], lr=0.2, weight_decay=0.1),
                          dict(params=p[2:], lr=0.01, momentum=0.5, nesterov=True)],
        group_defaults=dict(lr=0.05, momentum=0.9),
        tensor_lr=[(dict(lr=torch.tensor([0.03]), momentum=0.9, weight_decay=0.01), BITWISE)],
    ),
    Twin(
        "adagrad", Adagrad, torch.optim.Adagrad,
        bitwise=ADAGRAD_CONFIGS,
        hyper=st.fixed_dictionaries({
            "lr": st.floats(0.0, 1.0),
            "lr_decay": st.sampled_from([0.0, 1e-3, 0.1, 1.0]),
            "weight_decay": st.sampled_from([0.0, 1e-4, 0.1]),
            "initial_accumulator_value": st.sampled_from([0.0, 0.01, 1.0]),
            "eps": st.sampled_from([1e-10, 1e-8, 1e-3]),
            "maximize": st.booleans(),
        }),
        examples=30, grad_scales=(1e-3, 1.0, 100.0),
        complex_rows=[ADAGRAD_CONFIGS[2], ADAGRAD_CONFIGS[5]],
        real_view=[(ADAGRAD_CONFIGS[2], BITWISE),
                   (ADAGRAD_CONFIGS[5], COMPLEX_ADD_ULP)],  # L2 added on the complex tensor
        state_dicts=[ADAGRAD_CONFIGS[2], ADAGRAD_CONFIGS[5]],
        old=dict(source="ours", kw=dict(lr=0.1),
                 dropped_group_keys=("foreach", "maximize", "differentiable", "fused")),
        # torch ignores a per-group initial_accumulator_value; so must we
        groups=lambda p: [dict(params=p[:2], lr=0.2, weight_decay=0.1,
                               initial_accumulator_value=5.0),
                          dict(params=p[2:], lr=0.01, lr_decay=0.1)],
        group_defaults=dict(lr=0.05, initial_accumulator_value=0.1),
        tensor_lr=[(dict(lr=torch.tensor([0.03]), lr_decay=0.1, weight_decay=0.01), BITWISE)],
    ),
    Twin(
        "rmsprop", RMSprop, torch.optim.RMSprop,
        bitwise=RMSPROP_CONFIGS,
        hyper=st.fixed_dictionaries({
            "lr": st.floats(0.0, 0.1),
            "alpha": st.sampled_from([0.0, 0.5, 0.9, 0.99, 0.999]),  # 1.0: v stays 0
            "eps": st.sampled_from([1e-8, 1e-6, 1e-2]),
            "weight_decay": st.sampled_from([0.0, 1e-4, 0.1]),
            "momentum": st.sampled_from([0.0, 0.5, 0.9]),
            "centered": st.booleans(),
            "maximize": st.booleans(),
        }),
        examples=30, fix=rmsprop_fix, grad_scales=(1e-3, 1.0, 100.0),
        complex_rows=[RMSPROP_CONFIGS[4], RMSPROP_CONFIGS[6]],
        real_view=[(RMSPROP_CONFIGS[4], BITWISE),
                   (RMSPROP_CONFIGS[6], COMPLEX_ADD_ULP)],  # L2 added on the complex tensor
        state_dicts=[RMSPROP_CONFIGS[0], RMSPROP_CONFIGS[4], RMSPROP_CONFIGS[6]],
        old=dict(source="ours", kw=dict(lr=0.01, momentum=0.9, centered=True),
                 dropped_group_keys=("foreach", "maximize", "differentiable", "capturable")),
        groups=lambda p: [dict(params=p[:2], lr=0.02, weight_decay=0.1, centered=True),
                          dict(params=p[2:], lr=0.001, momentum=0.9, alpha=0.9)],
        group_defaults=dict(lr=0.05),
        tensor_lr=[(dict(lr=torch.tensor([0.003]), momentum=0.9, centered=True), BITWISE)],
    ),
    Twin(
        "adam", Adam, torch.optim.Adam,
        bitwise=[{}, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True,
                          maximize=True),
                 dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)],
        hyper=adam_like(amsgrad=st.booleans(), decoupled_weight_decay=st.booleans()),
        examples=30,
        complex_rows=[dict(lr=0.01, weight_decay=0.1, amsgrad=a, decoupled_weight_decay=d)
                      for a in (False, True) for d in (False, True)],
        real_view=[(dict(lr=0.01, weight_decay=0.1, amsgrad=a, decoupled_weight_decay=d),
                    BITWISE) for a in (False, True) for d in (False, True)],
        state_dicts=[dict(lr=0.01, weight_decay=0.05, amsgrad=a) for a in (False, True)],
        own_state_dicts=[dict(lr=0.01, weight_decay=0.05)],
        old=dict(source="torch", kw=dict(lr=0.01), target_kw=dict(lr=0.5),
                 dropped_group_keys=ADAM_NEW_KEYS, expected_group=dict(lr=0.01)),
        groups=lambda p: [{"params": p[:2], "lr": 0.1, "weight_decay": 0.2},
                          {"params": p[2:], "lr": 1e-3, "betas": (0.5, 0.9), "amsgrad": True}],
        group_defaults=dict(lr=0.01),
        tensor_lr=[(dict(lr=torch.tensor(0.01)), BITWISE),
                   (dict(lr=torch.tensor([0.01]), weight_decay=0.1, amsgrad=True), BITWISE)],
    ),
    Twin(
        "nadam", NAdam, torch.optim.NAdam,
        bitwise=[{}, dict(lr=0.01, weight_decay=0.1, momentum_decay=6e-3, maximize=True),
                 dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)],
        hyper=adam_like(momentum_decay=st.sampled_from([0.0, 4e-3, 6e-3, 0.5]),
                        decoupled_weight_decay=st.booleans()),
        complex_rows=[dict(lr=0.01, weight_decay=0.1),
                      dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)],
        real_view=[(dict(lr=0.01, weight_decay=0.1), BITWISE),
                   (dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True), BITWISE)],
        state_dicts=[{}, dict(weight_decay=0.1, momentum_decay=6e-3),
                     dict(weight_decay=0.1, decoupled_weight_decay=True)],
        old=dict(source="torch", kw={}, number_state_keys=("step", "mu_product"),
                 dropped_group_keys=("maximize", "foreach", "capturable", "differentiable",
                                     "decoupled_weight_decay")),
        groups=lambda p: [{"params": p[:2], "lr": 0.1, "weight_decay": 0.2},
                          {"params": p[2:4], "momentum_decay": 0.0, "betas": (0.5, 0.9)},
                          {"params": p[4:], "weight_decay": 0.05,
                           "decoupled_weight_decay": True}],
        group_defaults=dict(lr=0.01),
        tensor_lr=[(dict(lr=torch.tensor(0.01)), BITWISE),
                   (dict(lr=torch.tensor([0.01]), weight_decay=0.1, decoupled_weight_decay=True),
                    BITWISE)],
    ),
    Twin(
        "adamax", Adamax, torch.optim.Adamax,
        bitwise=[{}, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, maximize=True)],
        hyper=adam_like(),
        complex_rows=[dict(lr=0.01), dict(lr=0.01, weight_decay=0.1)],
        real_view=[(dict(lr=0.01), BITWISE),
                   (dict(lr=0.01, weight_decay=0.1), COMPLEX_ADD_ULP)],  # L2 on the complex
        state_dicts=[{}, dict(weight_decay=0.1, betas=(0.8, 0.99)), dict(maximize=True, lr=0.05)],
        old=dict(source="torch", kw={},
                 dropped_group_keys=("maximize", "foreach", "capturable", "differentiable")),
        groups=lambda p: [{"params": p[:2], "lr": 0.1, "weight_decay": 0.2},
                          {"params": p[2:], "betas": (0.5, 0.9), "eps": 1e-3}],
        group_defaults=dict(lr=0.01),
        tensor_lr=[(dict(lr=torch.tensor(0.01), weight_decay=0.1), BITWISE),
                   (dict(lr=torch.tensor([0.01]), weight_decay=0.1), BITWISE)],
    ),
    Twin(
        "amsgrad", AMSGrad, torch.optim.Adam, fixed=dict(amsgrad=True),
        bitwise=[{}, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, maximize=True)],
        hyper=adam_like(decoupled_weight_decay=st.booleans()),
        complex_rows=[dict(lr=0.01, weight_decay=0.1)],
        real_view=[(dict(lr=0.01, weight_decay=0.1, max_of=m), BITWISE)
                   for m in ("raw", "corrected")],
        state_dicts=[dict(lr=0.01, weight_decay=0.05)],
        own_state_dicts=[dict(lr=0.01, max_of="corrected")],
        old=dict(source="torch", kw={},
                 dropped_group_keys=tuple(k for k in ADAM_NEW_KEYS if k != "amsgrad")),
        groups=lambda p: [{"params": p[:2], "lr": 0.1, "weight_decay": 0.2},
                          {"params": p[2:], "lr": 1e-3, "betas": (0.5, 0.9)}],
        group_defaults=dict(lr=0.01),
        tensor_lr=[(dict(lr=torch.tensor(0.01), weight_decay=0.1), BITWISE)],
        own_group_keys=frozenset({"max_of"}),
    ),
    Twin(
        "adamw", AdamW, torch.optim.AdamW,
        bitwise=[{}, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True,
                          maximize=True)],
        hyper=adam_like(weight_decay=st.sampled_from([0.0, 1e-2, 0.5]), amsgrad=st.booleans()),
        complex_rows=[dict(lr=0.01, weight_decay=0.1, amsgrad=a) for a in (False, True)],
        real_view=[(dict(lr=0.01, weight_decay=0.1, amsgrad=a), BITWISE) for a in (False, True)],
        state_dicts=[dict(lr=0.01, weight_decay=0.1, amsgrad=a) for a in (False, True)],
        own_state_dicts=[dict(lr=0.01, weight_decay_mode="schedule")],
        old=dict(source="torch", kw=dict(lr=0.01),
                 dropped_group_keys=("amsgrad", "foreach", "capturable", "fused",
                                     "differentiable", "maximize")),
        groups=lambda p: [{"params": p[:2], "lr": 0.1, "weight_decay": 0.2},
                          {"params": p[2:], "lr": 1e-3, "weight_decay": 0.0, "amsgrad": True}],
        group_defaults=dict(lr=0.01),
        tensor_lr=[(dict(lr=torch.tensor(0.01), weight_decay=0.1), BITWISE)],
        own_group_keys=frozenset({"weight_decay_mode"}),
    ),
    Twin(
        "radam", RAdam, torch.optim.RAdam,
        hyper=RADAM_HYPER, examples=30, grad_scales=(1e-3, 1.0, 50.0),
        complex_rows=[dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)],
        real_view=[(dict(lr=0.01, weight_decay=0.1), BITWISE),
                   (dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True,
                         rho_threshold=4.0, degenerated_to_sgd=False), BITWISE)],
        state_dicts=[{}, dict(lr=0.02, betas=(0.8, 0.99), weight_decay=0.1),
                     dict(weight_decay=0.05, decoupled_weight_decay=True, maximize=True)],
        own_state_dicts=[dict(rho_threshold=4.0, degenerated_to_sgd=False)],
        old=dict(source="ours", kw={}, number=lambda t: int(t.item())),
        groups=lambda p: [{"params": p[:2], "lr": 0.05, "weight_decay": 0.1},
                          {"params": p[2:4], "betas": (0.8, 0.99)},
                          {"params": p[4:], "weight_decay": 0.02,
                           "decoupled_weight_decay": True}],
        group_defaults=dict(lr=1e-3),
        tensor_lr=[(dict(lr=torch.tensor(0.01)), BITWISE),
                   (dict(lr=torch.tensor(0.01), weight_decay=0.1, decoupled_weight_decay=True),
                    TENSOR_LR_DECAY_ULP)],
        steps=60, own_group_keys=frozenset({"rho_threshold", "degenerated_to_sgd"}),
    ),
    Twin(
        # RAdam's Adam-2k baseline: without its warm-up it is torch's Adam
        "radam.AdamVWarmup", AdamVWarmup, torch.optim.Adam,
        hyper=RADAM_HYPER, examples=20,
        real_view=[(dict(lr=0.01, warmup_v_steps=4), BITWISE)],
        state_dicts=[dict(weight_decay=0.1)],
        own_state_dicts=[dict(weight_decay=0.1, warmup_v_steps=4)],
        steps=40, own_group_keys=frozenset({"warmup_v_steps"}),
    ),
    Twin(
        "adafactor", Adafactor, torch.optim.Adafactor,
        bitwise=[{}, dict(lr=0.02, beta2_decay=-0.5, eps=(1e-30, 1e-3), d=1.5, weight_decay=0.1,
                          maximize=True)],
        hyper=st.fixed_dictionaries({
            "lr": st.sampled_from([1e-3, 1e-2, 0.3]),
            "beta2_decay": st.sampled_from([-0.5, -0.8, -1.0, 0.0]),
            "eps": st.tuples(st.sampled_from([None, 0.0, 1e-30, 1e-3]),
                             st.sampled_from([0.0, 1e-3])),
            "d": st.sampled_from([1.0, 1.5, 4.0]),
            "weight_decay": st.sampled_from([0.0, 1e-2, 0.3]),
            "maximize": st.booleans(),
        }),
        grad_scales=(1e-5, 1.0, 30.0),
        complex_=False,  # torch's Adafactor refuses complex parameters; so does ours
        state_dicts=[{}, dict(weight_decay=0.1, lr=0.02), dict(d=1.5)],
        own_state_dicts=[dict(eps_placement="paper")],
        groups=lambda p: [{"params": p[:2], "lr": 0.1, "weight_decay": 0.2},
                          {"params": p[2:], "beta2_decay": -0.5, "d": 2.0}],
        group_defaults=dict(lr=0.01),
        tensor_lr=[(dict(lr=torch.tensor(0.05), weight_decay=0.1), BITWISE),
                   (dict(lr=torch.tensor([0.05]), weight_decay=0.1), BITWISE)],
        shapes=NONEMPTY_SHAPES, own_group_keys=frozenset({"eps_placement"}),
    ),
    Twin(
        "muon", Muon, torch.optim.Muon,
        bitwise=[
            {},
            {"lr": 0.02},
            {"lr": 0.05, "weight_decay": 0.0, "momentum": 0.8},
            {"lr": 0.02, "nesterov": False},
            {"lr": 0.02, "momentum": 0.0},
            {"lr": 0.02, "ns_steps": 6},
            {"lr": 0.02, "ns_steps": 0},
            {"lr": 0.02, "ns_coefficients": (3.4, -4.7, 2.0)},
            {"lr": 0.02, "ns_coefficients": CUBIC_COEFFICIENTS, "ns_steps": 12},
            {"lr": 0.02, "adjust_lr_fn": "original"},
            {"lr": 0.02, "adjust_lr_fn": "match_rms_adamw", "eps": 1e-5},
        ],
        # Muon's steps are the dearest in the table (a Newton-Schulz iteration each): the
        # float64 rows are the two the float32 ones vary around
        bitwise64=[{}, {"lr": 0.02, "adjust_lr_fn": "match_rms_adamw"}],
        hyper=st.fixed_dictionaries({
            "lr": st.sampled_from([1e-3, 0.02, 0.1]),
            "weight_decay": st.sampled_from([0.0, 0.1]),
            "momentum": st.sampled_from([0.0, 0.8, 0.95]),
            "nesterov": st.booleans(),
            "ns_steps": st.sampled_from([0, 1, 5]),
            "adjust_lr_fn": st.sampled_from([None, "original", "match_rms_adamw"]),
        }),
        examples=4,
        complex_=False,  # torch's Muon takes real matrices only; ours refuses complex too
        state_dicts=[{}, {"lr": 0.02, "nesterov": False, "adjust_lr_fn": "match_rms_adamw"}],
        own_state_dicts=[{}, {"lr": 0.02, "nesterov": False, "adjust_lr_fn": "match_rms_adamw"}],
        groups=lambda p: [{"params": p[:2], "lr": 0.1, "weight_decay": 0.2,
                           "adjust_lr_fn": "match_rms_adamw"},
                          {"params": p[2:], "momentum": 0.5, "nesterov": False, "ns_steps": 3}],
        group_defaults=dict(lr=0.01),
        tensor_lr=[({"lr": torch.tensor(0.01), "weight_decay": 0.3}, BITWISE)],
        shapes=MATRIX_SHAPES, steps=40, foreach=False,
    ),
]
DTYPES = [torch.float32, torch.float64]


@pytest.fixture(autouse=True)
def one_thread():
    """The tensors here are tiny: torch's intra-op thread pool only adds hand-offs (Muon's
    matrix products ran 35 times slower in wall time with 2 threads on a busy 2-core
    machine). Both sides of every comparison run under the same setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def show(kw: Kw) -> str:
    def value(v):
        if isinstance(v, torch.Tensor):
            return f"tensor{list(v.shape)}({v.flatten()[0].item():g})"
        return f"{v:g}" if isinstance(v, float) else str(v)
    return ",".join(f"{k}={value(v)}" for k, v in kw.items()) or "defaults"


def rows(attribute: str, *, of=lambda twin, row: [row]):
    """pytest params for every (chapter, row) of a table column."""
    out = []
    for twin in TWINS:
        for row in getattr(twin, attribute):
            for case in of(twin, row):
                kw = case[0] if isinstance(case, tuple) else case
                out.append(pytest.param(twin, *(case if isinstance(case, tuple) else (case,)),
                                        id=f"{twin.name}-{show(kw)}"))
    return out


def tolerance(atol: float | None) -> dict:
    return {"exact": True} if atol is None else {"exact": False, "atol": atol}


# ## Bitwise, both dtypes


def rows_in_both_dtypes():
    out = []
    for twin in TWINS:
        in64 = twin.bitwise if twin.bitwise64 is None else twin.bitwise64
        for dtype, table in ((torch.float32, twin.bitwise), (torch.float64, in64)):
            out += [pytest.param(twin, kw, dtype, id=f"{twin.name}-{show(kw)}-{dtype}")
                    for kw in table]
    return out


@pytest.mark.parametrize(("twin", "kw", "dtype"), rows_in_both_dtypes())
def test_bitwise_equal_to_torch(twin: Twin, kw: Kw, dtype: torch.dtype) -> None:
    check_parity(twin.ours_(**kw), twin.theirs_(**kw), steps=twin.steps, dtype=dtype,
                 shapes=twin.shapes)


@pytest.mark.parametrize("twin", [t for t in TWINS if t.foreach], ids=lambda t: t.name)
def test_torch_default_path_is_the_for_loop_on_cpu(twin: Twin) -> None:
    """What users run: torch's class with `foreach` left at None."""
    check_parity(twin.ours_(), bind(twin.theirs, **twin.fixed)(), steps=twin.steps,
                 shapes=twin.shapes)


# ## Hypothesis over the hyper-parameters


@pytest.mark.parametrize("twin", [t for t in TWINS if t.hyper is not None],
                         ids=lambda t: t.name)
def test_hypothesis(twin: Twin) -> None:
    """float32 or float64, real or complex, at each gradient scale: bitwise."""

    @settings(max_examples=twin.examples, deadline=None)
    @given(kw=twin.hyper, fp64=st.booleans(), complex_=st.booleans() if twin.complex_ else
           st.just(False), scale=st.sampled_from(twin.grad_scales))
    def run(kw: Kw, fp64: bool, complex_: bool, scale: float) -> None:
        kw = twin.fix(kw)
        check_parity(twin.ours_(**kw), twin.theirs_(**kw), steps=twin.steps,
                     dtype=torch.float64 if fp64 else torch.float32, complex_=complex_,
                     grad_scale=scale, shapes=twin.shapes)

    run()


# ## Complex parameters


@pytest.mark.parametrize(("twin", "kw"), rows("complex_rows"))
def test_complex_equal_to_torch(twin: Twin, kw: Kw) -> None:
    check_parity(twin.ours_(**kw), twin.theirs_(**kw), steps=twin.steps, complex_=True,
                 shapes=twin.shapes)


@pytest.mark.parametrize(("twin", "kw", "atol"), rows("real_view"))
def test_complex_is_its_real_view(twin: Twin, kw: Kw, atol: float | None) -> None:
    check_complex_matches_real_view(twin.ours_(**kw), shapes=twin.shapes, **tolerance(atol))


def test_complex_claims_are_true() -> None:
    """A chapter marked as taking no complex parameters is right that torch refuses them."""
    for twin in TWINS:
        if twin.complex_:
            continue
        p = torch.zeros(4, 3, dtype=torch.complex64, requires_grad=True)
        p.grad = torch.ones_like(p)
        with pytest.raises((RuntimeError, ValueError, NotImplementedError)):
            twin.theirs(**twin.fixed, params=[p]).step()


# ## State dicts


def directions(twin: Twin, kw: Kw):
    return [(kw, "ours->torch"), (kw, "torch->ours")]


def make(twin: Twin, side: str, kw: Kw) -> OptimizerFactory:
    return twin.ours_(**kw) if side == "ours" else twin.theirs_(**kw)


@pytest.mark.parametrize(("twin", "kw", "direction"), rows("state_dicts", of=directions))
def test_state_dict_moves_to_torch_and_back(twin: Twin, kw: Kw, direction: str) -> None:
    """Through torch.save / torch.load(weights_only=True); both then take the same steps."""
    source, target = direction.split("->")
    check_state_dict_transfer(make(twin, source, kw), make(twin, target, kw), shapes=twin.shapes)


@pytest.mark.parametrize(("twin", "kw"), rows("own_state_dicts"))
def test_state_dict_with_our_own_options_round_trips(twin: Twin, kw: Kw) -> None:
    check_state_dict_transfer(twin.ours_(**kw), twin.ours_(**kw), shapes=twin.shapes)


@pytest.mark.parametrize(("twin", "kw"), rows("bitwise"))
def test_state_dict_layout_is_torchs(twin: Twin, kw: Kw) -> None:
    """Same group keys and values (ours may add its own options), same state keys, same
    dtypes: a checkpoint of one is a checkpoint of the other."""
    params = make_params(shapes=twin.shapes)
    grads = make_gradients(params, 3)
    pa, pb = clone_params(params), clone_params(params)
    # torch's class as users build it (`foreach` left at None, as ours keeps it)
    oa, ob = twin.ours_(**kw)(pa), bind(twin.theirs, **twin.fixed)(**kw)(pb)
    for g in grads:
        apply_step(oa, pa, g)
        apply_step(ob, pb, g)
    sa, sb = oa.state_dict(), ob.state_dict()
    for ga, gb in zip(sa["param_groups"], sb["param_groups"], strict=True):
        assert set(ga) - set(gb) == set(twin.own_group_keys), set(ga) ^ set(gb)
        assert set(gb) <= set(ga), set(gb) - set(ga)
        for key in gb:
            assert ga[key] == gb[key] or (isinstance(gb[key], torch.Tensor)
                                          and torch.equal(ga[key], gb[key])), key
    assert sa["state"].keys() == sb["state"].keys()
    for i in sa["state"]:
        assert sa["state"][i].keys() == sb["state"][i].keys(), i
        for key, value in sb["state"][i].items():
            assert sa["state"][i][key].dtype == value.dtype, (i, key)


@pytest.mark.parametrize("twin", [t for t in TWINS if t.old], ids=lambda t: t.name)
def test_older_state_dict_loads(twin: Twin) -> None:
    """Group keys a newer torch added are missing, the step is a plain number: `__setstate__`
    fills the keys with our defaults, makes the step a tensor, and training goes on."""
    old = dict(twin.old)
    source, kw = old.pop("source"), old.pop("kw")
    target_kw = old.pop("target_kw", kw)
    defaults = {name: p.default for name, p in inspect.signature(twin.ours).parameters.items()}
    expected = {k: defaults[k] for k in old.get("dropped_group_keys", ()) if k in defaults}
    expected.update(old.pop("expected_group", {}))
    check_old_state_dict(make(twin, source, kw), twin.ours_(**target_kw),
                         expected_group=expected, shapes=twin.shapes, **old)


# ## Parameter groups and tensor lr


@pytest.mark.parametrize("twin", [t for t in TWINS if t.groups], ids=lambda t: t.name)
def test_param_groups_with_their_own_settings(twin: Twin) -> None:
    loop = {"foreach": False} if twin.foreach else {}
    ours = twin.grouped(twin.ours)
    theirs = twin.grouped(twin.theirs, **loop, **twin.fixed)
    check_parity(ours, theirs, steps=twin.steps, shapes=twin.shapes)
    check_state_dict_transfer(ours, theirs, shapes=twin.shapes)
    check_state_dict_transfer(theirs, ours, shapes=twin.shapes)


@pytest.mark.parametrize(("twin", "kw", "atol"), rows("tensor_lr"))
def test_tensor_lr(twin: Twin, kw: Kw, atol: float | None) -> None:
    check_parity(twin.ours_(**kw), twin.theirs_(**kw), steps=30, shapes=twin.shapes,
                 **tolerance(atol))


# Chapter optimizers torch has no twin of: held to their authors' packages or the paper's
# formulas in their own tests (LAMB, RAdam's Adam-eps baseline, Lion, AdaBelief,
# Schedule-Free AdamW, Sophia-G).
NO_TWIN = {"LAMB", "AdamEpsHat", "Lion", "AdaBelief", "AdamWScheduleFree", "SophiaG"}


def test_every_chapter_optimizer_is_in_the_table_or_has_no_twin() -> None:
    found = {cls.__name__ for cls in optimizer_classes()}
    assert found == {t.ours.__name__ for t in TWINS} | NO_TWIN
    for name in NO_TWIN:
        assert not hasattr(torch.optim, name), f"torch has {name} now: add it to the table"


# ## Chapters held to their authors' packages


@dataclass(frozen=True)
class Reference:
    """A chapter optimizer torch has no twin of, and its authors' package."""

    name: str
    ours: type[torch.optim.Optimizer]
    reference: Callable[..., OptimizerFactory]  # keyword arguments -> factory
    bitwise: list[Kw]
    state_dicts: list[Kw]
    groups: Callable[[list], list[dict]]
    group_defaults: Kw
    state_keys: tuple[str, ...] | None = None  # None: every state entry
    to_reference_atol: float | None = BITWISE  # ours -> reference: its own rounding
    steps: int = 50

    def ours_(self, **kw) -> OptimizerFactory:
        return bind(self.ours)(**kw)


REFERENCES = [
    Reference(
        "lion", Lion, bind(lion_pytorch.Lion),
        bitwise=[dict(lr=1e-4),
                 dict(lr=0.01, betas=(0.9, 0.99), weight_decay=0.1),
                 dict(lr=0.3, betas=(0.5, 0.9), weight_decay=1.0),
                 dict(lr=0.01, betas=(0.95, 0.98), weight_decay=0.0),
                 dict(lr=0.01, betas=(0.0, 0.99)),
                 dict(lr=0.01, betas=(0.9, 0.0), weight_decay=0.5)],
        state_dicts=[dict(lr=0.01, weight_decay=0.0), dict(lr=0.01, weight_decay=0.3)],
        groups=lambda p: [{"params": p[:2], "lr": 0.1, "weight_decay": 0.2},
                          {"params": p[2:], "lr": 1e-3, "betas": (0.5, 0.9)}],
        group_defaults=dict(lr=0.01),
    ),
    Reference(
        "adabelief", AdaBelief, references.adabelief,
        bitwise=[dict(lr=1e-3),
                 dict(lr=0.01, weight_decay=0.1),
                 dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
                 dict(lr=0.01, decoupled_weight_decay=True),
                 dict(lr=0.01, amsgrad=True),
                 dict(lr=0.01, amsgrad=True, weight_decay=0.05, decoupled_weight_decay=True),
                 dict(lr=0.05, betas=(0.5, 0.9), eps=1e-8, weight_decay=0.2, amsgrad=True),
                 dict(lr=0.01, eps=0.0),
                 dict(lr=0.01, betas=(0.0, 0.99), eps=1e-12)],
        state_dicts=[dict(lr=0.01, amsgrad=a, weight_decay=0.05) for a in (False, True)],
        groups=lambda p: [{"params": p[:2], "lr": 0.1, "weight_decay": 0.2},
                          {"params": p[2:], "lr": 1e-3, "eps": 1e-8}],
        group_defaults=dict(lr=0.01),
        # The reference keeps `step` an int where ours keeps torch's tensor: compare the rest.
        state_keys=("exp_avg", "exp_avg_var", "max_exp_avg_var"),
        # Running on our tensor step, the reference computes beta ** step as a float32 tensor
        # power instead of a float64 one: later steps agree to rounding.
        to_reference_atol=1e-6,
    ),
]


def reference_rows(attribute: str, *, of=lambda ref, row: [(row,)]):
    return [pytest.param(ref, *case, id=f"{ref.name}-{show(case[0])}")
            for ref in REFERENCES for row in getattr(ref, attribute) for case in of(ref, row)]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize(("ref", "kw"), reference_rows("bitwise"))
def test_bitwise_equal_to_the_authors_package(ref: Reference, kw: Kw, dtype: torch.dtype) -> None:
    check_parity(ref.ours_(**kw), ref.reference(**kw), steps=ref.steps, dtype=dtype,
                 state_keys=ref.state_keys)


@pytest.mark.parametrize(("ref", "kw", "direction"), reference_rows(
    "state_dicts", of=lambda ref, row: [(row, "ours->reference"), (row, "reference->ours")]))
def test_state_dict_moves_to_the_authors_package_and_back(ref: Reference, kw: Kw,
                                                           direction: str) -> None:
    if direction == "ours->reference":
        check_state_dict_transfer(ref.ours_(**kw), ref.reference(**kw),
                                  **tolerance(ref.to_reference_atol))
    else:
        check_state_dict_transfer(ref.reference(**kw), ref.ours_(**kw))


@pytest.mark.parametrize("ref", REFERENCES, ids=lambda r: r.name)
def test_param_groups_like_the_authors_package(ref: Reference) -> None:
    check_parity(lambda p: ref.ours(ref.groups(p), **ref.group_defaults),
                 lambda p: ref.reference(**ref.group_defaults)(ref.groups(p)),
                 steps=ref.steps, state_keys=ref.state_keys)
