"""The warmup chapter: closed forms, the untuned warmup, RAdam's r_t, and the recipes' traps.

Expected values are computed here from the formulas (or taken from the reference notes),
never read off our own code.
"""

from __future__ import annotations

import math
import pickle

import pytest
import torch
from test_schedules_common import lrs_over, make_params, param_groups, save_and_load, train
from torch.optim.lr_scheduler import LambdaLR

from labml_optim.warmup import (
    UntunedExponentialWarmupLR,
    UntunedLinearWarmupLR,
    WarmupCosineLR,
    WarmupLinearLR,
    radam_rectification,
)

BASE = (1.0, 0.3)
BETA2S = (0.999, 0.99)  # the untuned tests give each group its own beta2


def adam(base=BASE, betas=(0.9, 0.999)) -> torch.optim.Adam:
    return torch.optim.Adam(param_groups(make_params(), base), betas=betas)


def linear_expected(k: int, w: int, t: int) -> float:
    """Up k/W, down to reach 0 at step T+1: the two lines and the floor, min/max of them."""
    return max(0.0, min(k / w, (t + 1 - k) / (t + 1 - w)))


# ## Linear warmup, linear decay


@pytest.mark.parametrize(("w", "t"), [(10, 50), (1, 20), (7, 7), (100, 1000)])
def test_linear_follows_the_formula_for_each_group(w: int, t: int) -> None:
    sched = WarmupLinearLR(adam(), warmup_steps=w, total_steps=t)
    for k, lrs in enumerate(lrs_over(sched, t + 10), start=1):
        expected = [b * linear_expected(k, w, t) for b in BASE]
        assert lrs == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_linear_endpoints() -> None:
    w, t = 10, 50
    lrs = [lr for lr, _ in lrs_over(WarmupLinearLR(adam(), w, t), t + 2)]
    assert lrs[0] == 1.0 / w  # step 1: base / W, not 0
    assert lrs[w - 1] == 1.0  # step W: the full rate
    assert all(lr > 0 for lr in lrs[:t])  # every one of the T steps moves the parameters
    assert lrs[t - 1] == pytest.approx(1.0 / (t + 1 - w))
    assert lrs[t] == lrs[t + 1] == 0.0  # past T: the floor


def test_warmup_equal_to_total_is_a_pure_warmup() -> None:
    lrs = [lr for lr, _ in lrs_over(WarmupLinearLR(adam(), 5, 5), 6)]
    assert lrs == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0, 0.0])


# ## Cosine


@pytest.mark.parametrize("ratio", [0.0, 0.1, 1.0])
def test_cosine_follows_the_formula(ratio: float) -> None:
    w, t = 10, 40
    sched = WarmupCosineLR(adam(), warmup_steps=w, total_steps=t, min_lr_ratio=ratio)
    for k, lrs in enumerate(lrs_over(sched, t + 10), start=1):
        if k <= w:
            mult = k / w
        else:
            progress = min(1.0, (k - w) / (t + 1 - w))
            mult = ratio + (1 - ratio) * (1 + math.cos(math.pi * progress)) / 2
        assert lrs == pytest.approx([b * mult for b in BASE], rel=1e-12, abs=1e-15)
    assert lrs[0] == pytest.approx(BASE[0] * ratio)  # past T: the floor


# ## The untuned warmups of Ma & Yarats


def test_untuned_linear_reads_beta2_per_group() -> None:
    opt = adam()
    opt.param_groups[1]["betas"] = (0.9, 0.99)  # a second group with its own pace
    sched = UntunedLinearWarmupLR(opt)
    for t, lrs in enumerate(lrs_over(sched, 2100), start=1):
        expected = [b * min(1.0, (1 - b2) / 2 * t) for b, b2 in zip(BASE, BETA2S, strict=True)]
        assert lrs == pytest.approx(expected, rel=1e-12)
    # Full rate after 2 / (1 - beta2) steps: 2000 for 0.999, 200 for 0.99.
    used = lrs_over(UntunedLinearWarmupLR(adam()), 2001)
    assert used[1998][0] < 1.0 and used[1999][0] == 1.0


def test_untuned_exponential_follows_the_formula() -> None:
    opt = adam()
    opt.param_groups[1]["betas"] = (0.9, 0.99)
    sched = UntunedExponentialWarmupLR(opt)
    for t, lrs in enumerate(lrs_over(sched, 3000), start=1):
        expected = [b * (1 - math.exp(-(1 - b2) * t)) for b, b2 in zip(BASE, BETA2S, strict=True)]
        assert lrs == pytest.approx(expected, rel=1e-12)


def test_both_untuned_forms_hold_back_the_same_total() -> None:
    # The sum over steps of (1 - omega_t) is ~ 1 / (1 - beta2) = 1000 for both forms.
    opt = adam(base=(1.0, 1.0))
    for cls in (UntunedLinearWarmupLR, UntunedExponentialWarmupLR):
        held_back = sum(1 - lr for lr, _ in lrs_over(cls(opt), 20_000))
        assert held_back == pytest.approx(1000, rel=2e-3)


def test_untuned_needs_betas() -> None:
    sgd = torch.optim.SGD(make_params(), lr=0.1)
    for cls in (UntunedLinearWarmupLR, UntunedExponentialWarmupLR):
        with pytest.raises(ValueError, match=r"^optimizer: param group 0 has no 'betas'"):
            cls(sgd)
    opt = adam()
    opt.param_groups[1]["betas"] = (0.9, 1.0)
    with pytest.raises(ValueError, match=r"^optimizer: betas\[1\]"):
        UntunedLinearWarmupLR(opt)


# ## RAdam's r_t, against the reference values


def test_radam_rectification_reference_values() -> None:
    # rho_t <= 4 for t <= 4 (rho_1 = 1): no rectified step.
    assert [radam_rectification(t, 0.999) for t in range(1, 5)] == [0.0] * 4
    for t, r_t in [(6, 0.0258), (100, 0.2153), (1000, 0.6453)]:
        assert radam_rectification(t, 0.999) == pytest.approx(r_t, abs=5e-5)
    assert radam_rectification(100_000, 0.999) == pytest.approx(1.0, abs=1e-12)


# ## Argument checks


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        ((0, 10), {}, "warmup_steps"),
        ((-1, 10), {}, "warmup_steps"),
        ((math.nan, 10), {}, "warmup_steps"),
        ((10, 9), {}, "total_steps"),
        ((10, math.nan), {}, "total_steps"),
        ((10, 20), {"min_lr_ratio": -0.1}, "min_lr_ratio"),
        ((10, 20), {"min_lr_ratio": 1.5}, "min_lr_ratio"),
    ],
)
def test_invalid_arguments_name_themselves(args: tuple, kwargs: dict, name: str) -> None:
    for cls in (WarmupLinearLR, WarmupCosineLR):
        if kwargs and cls is WarmupLinearLR:
            continue
        with pytest.raises(ValueError, match=rf"^{name}"):
            cls(adam(), *args, **kwargs)


# ## The traps of the common recipes


def bert_recipe(w: int, t: int):
    """The usual lambda: evaluated at torch's counter s = k - 1, so step 1 gets s / W = 0."""
    return lambda s: s / w if s < w else max(0.0, (t - s) / (t - w))


def test_trap_first_step_at_lr_zero() -> None:
    def first_steps(make_sched) -> tuple[list[list[float]], bool]:
        params = make_params()
        before = [p.detach().clone() for p in params]
        opt = torch.optim.Adam(param_groups(params))
        sched = make_sched(opt)
        first = train(params, opt, sched, 0, 1)
        moved = any(not torch.equal(p.detach(), b) for p, b in zip(params, before, strict=True))
        return first + train(params, opt, sched, 1, 10), moved

    # The recipe: step 1 runs at lr 0 and moves nothing; step W is not yet at the full rate.
    lrs, moved = first_steps(lambda opt: LambdaLR(opt, bert_recipe(10, 50)))
    assert lrs[0] == [0.0, 0.0] and not moved
    assert lrs[9] == pytest.approx([0.1 * 0.9, 0.03 * 0.9])

    # Ours: step 1 runs at base / W and moves the parameters; step W at the full rate.
    lrs, moved = first_steps(lambda opt: WarmupLinearLR(opt, 10, 50))
    assert lrs[0] == pytest.approx([0.1 / 10, 0.03 / 10]) and moved
    assert lrs[9] == [0.1, 0.03]


def test_trap_lambda_cannot_be_pickled_but_ours_can() -> None:
    opt = adam()
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        pickle.dumps(LambdaLR(opt, bert_recipe(10, 50)))
    pickle.dumps(WarmupLinearLR(adam(), 10, 50))


def test_trap_lambda_state_dict_drops_the_schedule() -> None:
    """The checkpoint keeps the step count only; a resumed run follows the new code's lambda.

    Here the resumed code was edited to warm up over 20 steps instead of 10. LambdaLR
    silently follows the edit; ours restores the saved schedule, as torch's built-in
    schedulers restore theirs.
    """

    def run(make_sched, remake_sched) -> tuple[list[list[float]], list[list[float]]]:
        params = make_params()
        opt = torch.optim.Adam(param_groups(params))
        sched = make_sched(opt)
        head = train(params, opt, sched, 0, 4)
        saved = save_and_load({"opt": opt.state_dict(), "sched": sched.state_dict()})
        straight = head + train(params, opt, sched, 4, 12)

        params = make_params()
        opt = torch.optim.Adam(param_groups(params))
        sched = remake_sched(opt)
        opt.load_state_dict(saved["opt"])
        sched.load_state_dict(saved["sched"])
        return straight, head + train(params, opt, sched, 4, 12)

    lambda_saved = LambdaLR(adam(), bert_recipe(10, 50)).state_dict()
    assert lambda_saved["lr_lambdas"] == [None, None]

    straight, resumed = run(
        lambda o: LambdaLR(o, bert_recipe(10, 50)), lambda o: LambdaLR(o, bert_recipe(20, 50))
    )
    assert resumed != straight

    straight, resumed = run(
        lambda o: WarmupLinearLR(o, 10, 50), lambda o: WarmupLinearLR(o, 20, 50)
    )
    assert resumed == straight


def test_trap_warmup_zero_divides_by_zero() -> None:
    warmup = 0  # a default of 0, meant as "no warmup"
    with pytest.raises(ZeroDivisionError):
        LambdaLR(adam(), lambda s: min(1.0, (s + 1) / warmup))
    with pytest.raises(ValueError, match="^warmup_steps must be >= 1, got 0"):
        WarmupLinearLR(adam(), 0, 50)
