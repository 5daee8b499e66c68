"""torch's own conformance data and compile check, applied to a chapter's optimizer.

`torch.testing._internal.common_optimizers.optim_db` lists, for every torch optimizer, the
inputs that must fail (with the exception type and a message regex) and the
hyper-parameter sets torch tests it with. A twin must fail where torch fails, with a message
that matches torch's regex, and must equal torch's for-loop path on every listed input.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

import torch
from torch.testing._internal.common_optimizers import OptimizerErrorEnum, optim_db

from support.optim_harness import (
    OptimizerFactory,
    apply_step,
    assert_same_state,
    check_parity,
    clone_params,
    make_gradients,
    make_params,
)


def optim_info(torch_cls: type) -> object:
    (info,) = [info for info in optim_db if info.optim_cls is torch_cls]
    return info


def check_optim_db_errors(ours: type, torch_cls: type) -> int:
    """Every error input of torch's optimizer raises the same type, matching torch's regex,
    in our class too. Returns how many inputs were checked."""
    inputs = optim_info(torch_cls).optim_error_inputs_func(device="cpu", dtype=torch.float32)
    for error_input in inputs:
        given = error_input.optimizer_error_input
        what = f"{ours.__name__}: {given.desc}"
        kind, pattern = error_input.error_type, error_input.error_regex
        if issubclass(kind, Warning):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                opt = ours(given.params, **given.kwargs)
                if error_input.error_on == OptimizerErrorEnum.STEP_ERROR:
                    opt.step()
            assert any(issubclass(w.category, kind) and re.search(pattern, str(w.message))
                       for w in caught), what
            continue
        try:
            opt = ours(given.params, **given.kwargs)
            if error_input.error_on == OptimizerErrorEnum.STEP_ERROR:
                opt.step()
        except Exception as raised:  # noqa: BLE001 - the type is checked just below
            assert isinstance(raised, kind), f"{what}: {type(raised).__name__}, want {kind}"
            assert re.search(pattern, str(raised)), f"{what}: {raised!s} !~ {pattern!r}"
        else:
            raise AssertionError(f"{what}: no {kind.__name__} raised")
    return len(inputs)


def optim_db_kwargs(torch_cls: type) -> list[tuple[str, dict]]:
    """The CPU hyper-parameter sets torch tests its optimizer with."""
    inputs = optim_info(torch_cls).optim_inputs_func(device="cpu", dtype=torch.float32)
    return [(given.desc, given.kwargs) for given in inputs]


def check_compiled_step_equals_eager(
    factory: OptimizerFactory, *, steps: int = 8, atol: float = 0.0,
    params: list[torch.Tensor] | None = None,
) -> None:
    """`torch.compile(opt.step)` takes the same steps as the eager `opt.step` (to `atol`;
    0 means bitwise) and the update has no graph break."""
    torch._dynamo.reset()
    params = params if params is not None else [p for p in make_params() if p.numel()]
    grads = make_gradients(params, steps, seed=5)
    eager, compiled = clone_params(params), clone_params(params)
    opt_e, opt_c = factory(eager), factory(compiled)
    compiled_step = torch.compile(opt_c.step)
    for t, g in enumerate(grads):
        apply_step(opt_e, eager, g)
        for p, gi in zip(compiled, g, strict=True):
            p.grad = None if gi is None else gi.clone()
        compiled_step()
        assert_same_state(opt_e, eager, opt_c, compiled, exact=atol == 0.0, atol=atol,
                          where=f"compiled step {t + 1}: ")
    explained = torch._dynamo.explain(opt_c.step)()
    assert explained.graph_break_count == 0, explained.break_reasons


def check_failing_step_changes_nothing(factory: OptimizerFactory,
                                       poison: Callable[[list[torch.Tensor]], None]) -> None:
    """A step that raises leaves every parameter and every state entry as it was.

    `poison` makes the last parameter's gradient unacceptable (sparse, complex...); the
    others have ordinary gradients, and one warm-up step has filled the state."""
    params = [p for p in make_params() if p.numel()]
    opt = factory(params)
    for p in params:
        p.grad = torch.randn_like(p)
    opt.step()
    before = clone_params(params)
    state_before = {i: {k: v.clone() if torch.is_tensor(v) else v
                        for k, v in opt.state[p].items()} for i, p in enumerate(params)}
    for p in params:
        p.grad = torch.randn_like(p)
    poison(params)
    try:
        opt.step()
    except (RuntimeError, ValueError):
        pass
    else:
        raise AssertionError("the poisoned step did not raise")
    for i, (p, q) in enumerate(zip(params, before, strict=True)):
        assert torch.equal(p.detach(), q.detach()), f"param {i} changed"
        assert set(opt.state[p]) == set(state_before[i]), f"param {i}: state keys changed"
        for key, value in opt.state[p].items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(state_before[i][key])), (
                f"param {i} state {key!r} changed"
            )


def check_optim_db_inputs(ours: Callable[..., OptimizerFactory],
                          theirs: Callable[..., OptimizerFactory], torch_cls: type,
                          **parity) -> int:
    """Bitwise parity with torch's for-loop path on every CPU input of optim_db."""
    cases = optim_db_kwargs(torch_cls)
    for _, kwargs in cases:
        check_parity(ours(**kwargs), theirs(**kwargs), **parity)
    return len(cases)
