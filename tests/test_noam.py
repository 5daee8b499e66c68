"""The Noam chapter: the formula of "Attention is all you need" §5.3, and the traps of its copies.

Expected values are computed here from the paper's formula, never read off our own code.
"""

from __future__ import annotations

import math

import pytest
import torch
from test_schedules_common import lrs_over, make_params, param_groups, save_and_load, train
from torch.optim.lr_scheduler import LambdaLR

from labml_optim.noam import NoamLR


def paper_lr(step: int, d_model: int, warmup: int) -> float:
    """lrate = d_model^-0.5 * min(step_num^-0.5, step_num * warmup_steps^-1.5)."""
    return d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)


@pytest.mark.parametrize(
    ("d_model", "warmup", "factor"), [(512, 4000, 1.0), (256, 4000, 1.0), (64, 10, 2.0)]
)
def test_lrs_follow_the_formula_for_each_group(d_model: int, warmup: int, factor: float) -> None:
    base = (1.0, 0.25)
    opt = torch.optim.Adam(param_groups(make_params(), base))
    sched = NoamLR(opt, d_model=d_model, warmup=warmup, factor=factor)
    steps = 3 * warmup
    for k, lrs in enumerate(lrs_over(sched, steps), start=1):
        expected = [b * factor * paper_lr(k, d_model, warmup) for b in base]
        assert lrs == pytest.approx(expected, rel=1e-12, abs=0)


def test_peak_is_at_the_warmup_step_and_equals_inverse_sqrt_of_d_times_w() -> None:
    opt = torch.optim.Adam(param_groups(make_params()[:1], (1.0,)))
    lrs = [lr for (lr,) in lrs_over(NoamLR(opt, d_model=512, warmup=4000), 6000)]
    peak_step = max(range(len(lrs)), key=lrs.__getitem__) + 1
    assert peak_step == 4000
    assert lrs[peak_step - 1] == pytest.approx((512 * 4000) ** -0.5, rel=1e-12)
    assert lrs[peak_step - 1] == pytest.approx(6.99e-4, abs=5e-7)


def test_decay_is_inverse_square_root_not_exponential() -> None:
    sched = NoamLR(torch.optim.Adam(make_params()[:1], lr=1.0), d_model=512, warmup=100)
    peak = sched.multiplier(100)
    # Quadrupling k halves the lr, at any distance from the peak ...
    for k in (100, 400, 1600, 6400):
        assert sched.multiplier(4 * k) == pytest.approx(peak * math.sqrt(100 / (4 * k)))
    # ... so equal intervals lose ever smaller fractions, which an exponential would not.
    ratios = [sched.multiplier(k + 1000) / sched.multiplier(k) for k in (1000, 2000, 3000)]
    assert ratios[0] < ratios[1] < ratios[2]


def test_the_papers_settings() -> None:
    """Adam(lr=1, betas=(0.9, 0.98), eps=1e-9) with d_model 512 and 4000 warmup steps."""
    params = make_params()[:1]
    opt = torch.optim.Adam(params, lr=1.0, betas=(0.9, 0.98), eps=1e-9)
    sched = NoamLR(opt, d_model=512, warmup=4000)
    assert opt.param_groups[0]["lr"] == pytest.approx(512**-0.5 * 4000**-1.5, rel=1e-12)
    train(params, opt, sched, 0, 3)
    assert sched.get_last_lr()[0] == pytest.approx(paper_lr(4, 512, 4000), rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"warmup": 0}, "warmup"),
        ({"warmup": -5}, "warmup"),
        ({"warmup": 0.5}, "warmup"),
        ({"warmup": math.nan}, "warmup"),
        ({"d_model": 0}, "d_model"),
        ({"d_model": -512}, "d_model"),
        ({"factor": -1.0}, "factor"),
    ],
)
def test_invalid_arguments_name_themselves(kwargs: dict, name: str) -> None:
    args = {"d_model": 512, "warmup": 4000, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name}"):
        NoamLR(torch.optim.Adam(make_params(), lr=1.0), **args)


# ## The traps of the widely copied versions


class ForgetfulNoamWrapper:
    """The common shape: the optimizer wrapped in a class that counts steps itself."""

    def __init__(self, optimizer: torch.optim.Optimizer, d_model: int, warmup: int) -> None:
        self.optimizer, self.d_model, self.warmup, self._step = optimizer, d_model, warmup, 0

    def step(self) -> None:
        self._step += 1
        for group in self.optimizer.param_groups:
            group["lr"] = paper_lr(self._step, self.d_model, self.warmup)
        self.optimizer.step()


def test_trap_a_wrapper_forgets_its_step_count_on_resume() -> None:
    def run_wrapper(resume_at: int | None) -> list[float]:
        params = make_params()
        wrapper = ForgetfulNoamWrapper(torch.optim.Adam(params, lr=1.0), 64, 10)
        used = []
        for k in range(1, 9):
            if k == resume_at:  # what people save: the optimizer's state dict
                saved = save_and_load(wrapper.optimizer.state_dict())
                wrapper = ForgetfulNoamWrapper(torch.optim.Adam(params, lr=1.0), 64, 10)
                wrapper.optimizer.load_state_dict(saved)
            wrapper.optimizer.zero_grad()
            sum((p**2).sum() for p in params).backward()
            wrapper.step()
            used.append(wrapper.optimizer.param_groups[0]["lr"])
        return used

    straight, resumed = run_wrapper(None), run_wrapper(5)
    assert resumed[:4] == straight[:4]
    assert resumed[4] == paper_lr(1, 64, 10) != straight[4]  # warmup starts over

    def run_ours(resume_at: int | None) -> list[list[float]]:
        params = make_params()
        opt = torch.optim.Adam(param_groups(params), lr=1.0)
        sched = NoamLR(opt, d_model=64, warmup=10)
        used = train(params, opt, sched, 0, resume_at or 8)
        if resume_at:
            saved = save_and_load({"opt": opt.state_dict(), "sched": sched.state_dict()})
            opt = torch.optim.Adam(param_groups(params), lr=1.0)
            sched = NoamLR(opt, d_model=64, warmup=10)
            opt.load_state_dict(saved["opt"])
            sched.load_state_dict(saved["sched"])
            used += train(params, opt, sched, resume_at, 8)
        return used

    assert run_ours(4) == run_ours(None)


def test_trap_warmup_zero_divides_by_zero() -> None:
    # A default of warmup=0 crashes at the first step, with an error that names nothing.
    with pytest.raises(ZeroDivisionError):
        paper_lr(1, 512, 0)
    with pytest.raises(ValueError, match="^warmup must be >= 1, got 0"):
        NoamLR(torch.optim.Adam(make_params(), lr=1.0), d_model=512, warmup=0)


def test_trap_step_zero_fed_straight_from_torchs_counter() -> None:
    # torch's counter is 0 when the first lr is set; the formula has no value there.
    opt = torch.optim.Adam(make_params(), lr=1.0)
    with pytest.raises(ZeroDivisionError):
        LambdaLR(opt, lambda s: paper_lr(s, 512, 4000))
    # Ours turns the counter into k = counter + 1: step 1 gets the formula's first value.
    opt = torch.optim.Adam(make_params(), lr=1.0)
    NoamLR(opt, d_model=512, warmup=4000)
    assert opt.param_groups[0]["lr"] == pytest.approx(paper_lr(1, 512, 4000), rel=1e-12)


def test_labml_nn_noam_agrees_on_the_schedule_and_its_default_warmup_divides_by_zero() -> None:
    """labml_nn's `Noam` optimizer computes the same lr per step (it keeps the schedule
    inside an Adam variant instead of a scheduler), but its default `warmup=0` raises
    ZeroDivisionError at the first step; ours refuses warmup < 1 when it is built."""
    from labml_nn.optimizers.noam import Noam

    theirs = Noam([torch.nn.Parameter(torch.ones(1))], lr=1.0, d_model=512, warmup=4000)
    opt = torch.optim.Adam(param_groups(make_params()[:1], (1.0,)))
    ours = [lr for (lr,) in lrs_over(NoamLR(opt, d_model=512, warmup=4000), 8000)]
    for k in (1, 2, 100, 3999, 4000, 4001, 8000):
        assert ours[k - 1] == pytest.approx(theirs.get_lr({"step": k}, theirs.defaults),
                                            rel=1e-12)
    default = Noam([torch.nn.Parameter(torch.ones(1))], lr=1.0)
    with pytest.raises(ZeroDivisionError):
        default.get_lr({"step": 1}, default.defaults)
    with pytest.raises(ValueError, match="^warmup"):
        NoamLR(torch.optim.Adam([torch.nn.Parameter(torch.ones(1))]), d_model=512, warmup=0)
