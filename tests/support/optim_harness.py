"""Run two optimizers on the same gradient sequence and compare everything they hold.

torch's own optimizer tests treat the single-tensor ("for-loop") path as ground truth and
compare parameters and every state tensor step by step. This module does the same for our
chapters: one gradient sequence, two optimizers built on identical copies of the
parameters, and a comparison of parameters and state after every step. The sequence has
the awkward cases torch tests for: a zero-size parameter, a parameter whose grad is
``None`` for one step, and a layer frozen for two steps.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable, Sequence

import torch
from torch import Tensor
from torch.optim import Optimizer

OptimizerFactory = Callable[[list[Tensor]], Optimizer]
Gradients = list[list[Tensor | None]]

SHAPES: tuple[tuple[int, ...], ...] = ((5, 3), (7,), (0,), (2, 3, 2), (4, 1))
NONE_GRAD = {3: [1]}  # step index -> parameter indices whose grad is None that step
FROZEN = {10: [3], 11: [3]}  # a layer frozen for two steps


def bind(cls: Callable[..., Optimizer], **fixed) -> Callable[..., OptimizerFactory]:
    """`bind(Adam, foreach=False)(lr=0.1)` is a factory building `Adam(params, foreach=False,
    lr=0.1)`: one line per implementation instead of a helper function in every test file."""
    return lambda **kw: (lambda params: cls(params, **fixed, **kw))


def make_params(
    *, dtype: torch.dtype = torch.float32, seed: int = 0, complex_: bool = False,
    shapes: Sequence[tuple[int, ...]] | None = None,
) -> list[Tensor]:
    """Leaf parameters of several shapes (default `SHAPES`, one of them empty)."""
    gen = torch.Generator().manual_seed(seed)
    params = []
    for shape in SHAPES if shapes is None else shapes:
        if complex_:
            real = torch.randn(*shape, 2, generator=gen, dtype=dtype)
            params.append(torch.view_as_complex(real).requires_grad_())
        else:
            params.append(torch.randn(*shape, generator=gen, dtype=dtype).requires_grad_())
    return params


def make_gradients(
    params: Sequence[Tensor], steps: int, *, seed: int = 1, scale: float = 1.0
) -> Gradients:
    """A gradient per parameter per step, with ``None`` where a grad is missing."""
    gen = torch.Generator().manual_seed(seed)
    sequence: Gradients = []
    for step in range(steps):
        missing = set(NONE_GRAD.get(step, [])) | set(FROZEN.get(step, []))
        grads: list[Tensor | None] = []
        for i, p in enumerate(params):
            if p.is_complex():
                real = torch.randn(*p.shape, 2, generator=gen, dtype=torch.float64)
                g = torch.view_as_complex(real * scale).to(p.dtype)
            else:
                g = (torch.randn(p.shape, generator=gen, dtype=torch.float64) * scale).to(p.dtype)
            grads.append(None if i in missing else g)
        sequence.append(grads)
    return sequence


def clone_params(params: Sequence[Tensor]) -> list[Tensor]:
    return [p.detach().clone().requires_grad_() for p in params]


def apply_step(opt: Optimizer, params: Sequence[Tensor], grads: Sequence[Tensor | None]) -> None:
    for p, g in zip(params, grads, strict=True):
        p.grad = None if g is None else g.clone()
    opt.step()


def _compare(a: Tensor, b: Tensor, *, exact: bool, atol: float, what: str) -> None:
    assert a.shape == b.shape, f"{what}: shape {tuple(a.shape)} vs {tuple(b.shape)}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} vs {b.dtype}"
    if exact:
        if not torch.equal(a, b):
            diff = (a - b).abs().max().item() if a.numel() else 0.0
            raise AssertionError(f"{what}: not bitwise equal (max |diff| = {diff:.3g})")
    else:
        torch.testing.assert_close(a, b, atol=atol, rtol=atol, msg=lambda m: f"{what}: {m}")


def assert_same_state(
    opt_a: Optimizer,
    params_a: Sequence[Tensor],
    opt_b: Optimizer,
    params_b: Sequence[Tensor],
    *,
    exact: bool = True,
    atol: float = 1e-6,
    where: str = "",
    state_keys: Sequence[str] | None = None,
) -> None:
    """Parameters and every state tensor of the two optimizers agree.

    ``state_keys`` limits the state comparison to those keys (for a third-party optimizer
    that keeps extra or differently typed entries); by default every key is compared.
    """
    for i, (pa, pb) in enumerate(zip(params_a, params_b, strict=True)):
        _compare(pa.detach(), pb.detach(), exact=exact, atol=atol, what=f"{where}param {i}")
        state_a, state_b = opt_a.state.get(pa, {}), opt_b.state.get(pb, {})
        if state_keys is not None:
            state_a = {k: v for k, v in state_a.items() if k in state_keys}
            state_b = {k: v for k, v in state_b.items() if k in state_keys}
        assert set(state_a) == set(state_b), (
            f"{where}param {i}: state keys {sorted(state_a)} vs {sorted(state_b)}"
        )
        for key in state_a:
            va, vb = state_a[key], state_b[key]
            if isinstance(va, Tensor) and isinstance(vb, Tensor):
                _compare(va, vb, exact=exact, atol=atol, what=f"{where}param {i} state {key!r}")
            else:
                assert va == vb, f"{where}param {i} state {key!r}: {va!r} vs {vb!r}"


def check_parity(
    ours: OptimizerFactory,
    reference: OptimizerFactory,
    *,
    steps: int = 50,
    dtype: torch.dtype = torch.float32,
    complex_: bool = False,
    exact: bool = True,
    atol: float = 1e-6,
    seed: int = 0,
    grad_scale: float = 1.0,
    state_keys: Sequence[str] | None = None,
    shapes: Sequence[tuple[int, ...]] | None = None,
) -> None:
    """Step both optimizers on one gradient sequence, comparing after every step."""
    params = make_params(dtype=dtype, seed=seed, complex_=complex_, shapes=shapes)
    grads = make_gradients(params, steps, seed=seed + 1, scale=grad_scale)
    params_a, params_b = clone_params(params), clone_params(params)
    opt_a, opt_b = ours(params_a), reference(params_b)
    for t, g in enumerate(grads):
        apply_step(opt_a, params_a, g)
        apply_step(opt_b, params_b, g)
        assert_same_state(opt_a, params_a, opt_b, params_b, exact=exact, atol=atol,
                          where=f"step {t + 1}: ", state_keys=state_keys)


def roundtrip_state_dict(state_dict: dict) -> dict:
    """``torch.save`` then ``torch.load(weights_only=True)``, as a checkpoint would."""
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def check_state_dict_transfer(
    source: OptimizerFactory,
    target: OptimizerFactory,
    *,
    steps: int = 10,
    dtype: torch.dtype = torch.float32,
    exact: bool = True,
    atol: float = 1e-6,
    seed: int = 0,
    shapes: Sequence[tuple[int, ...]] | None = None,
) -> None:
    """Train ``source``, load its state dict into a fresh ``target``, continue both.

    The state dict goes through ``torch.save`` / ``torch.load(weights_only=True)``. After
    loading, ``target`` must hold the same state as ``source`` and then take the same
    steps, so a run can be resumed with the other implementation.
    """
    params = make_params(dtype=dtype, seed=seed, shapes=shapes)
    grads = make_gradients(params, 2 * steps, seed=seed + 1)
    params_src = clone_params(params)
    opt_src = source(params_src)
    for g in grads[:steps]:
        apply_step(opt_src, params_src, g)

    params_dst = clone_params(params_src)
    opt_dst = target(params_dst)
    opt_dst.load_state_dict(roundtrip_state_dict(copy.deepcopy(opt_src.state_dict())))
    assert_same_state(opt_src, params_src, opt_dst, params_dst, exact=exact, atol=atol,
                      where="after load: ")
    for t, g in enumerate(grads[steps:]):
        apply_step(opt_src, params_src, g)
        apply_step(opt_dst, params_dst, g)
        assert_same_state(opt_src, params_src, opt_dst, params_dst, exact=exact, atol=atol,
                          where=f"resumed step {t + 1}: ")


def check_complex_matches_real_view(
    factory: OptimizerFactory,
    *,
    steps: int = 10,
    dtype: torch.dtype = torch.float32,
    exact: bool = True,
    atol: float = 1e-6,
    shapes: Sequence[tuple[int, ...]] | None = None,
) -> None:
    """A complex parameter is updated exactly as its real view would be.

    ``exact=False`` compares to ``atol`` instead: torch itself does some steps on the
    complex tensor (SGD throughout, L2 weight decay in Adagrad and RMSprop), and a complex
    ``add`` with ``alpha`` can round one ulp away from the same ``add`` on the real view.
    """
    params = make_params(dtype=dtype, complex_=True, shapes=shapes)
    grads = make_gradients(params, steps)
    params_c = clone_params(params)
    params_r = [torch.view_as_real(p.detach()).clone().requires_grad_() for p in params]
    opt_c, opt_r = factory(params_c), factory(params_r)
    for g in grads:
        apply_step(opt_c, params_c, g)
        apply_step(opt_r, params_r, [None if x is None else torch.view_as_real(x) for x in g])
    for i, (pc, pr) in enumerate(zip(params_c, params_r, strict=True)):
        _compare(torch.view_as_real(pc.detach()), pr.detach(), exact=exact, atol=atol,
                 what=f"complex param {i}")


def check_state_dict_both_ways(
    ours: OptimizerFactory, theirs: OptimizerFactory, **kwargs
) -> None:
    """`check_state_dict_transfer` from ours to theirs and from theirs to ours."""
    check_state_dict_transfer(ours, theirs, **kwargs)
    check_state_dict_transfer(theirs, ours, **kwargs)


def check_old_state_dict(
    source: OptimizerFactory,
    target: OptimizerFactory,
    *,
    dropped_group_keys: Sequence[str] = (),
    number_state_keys: Sequence[str] = ("step",),
    number: Callable[[Tensor], float | int] = lambda t: t.item(),
    expected_group: dict | None = None,
    expected_state_dtype: torch.dtype | None = torch.float32,
    steps: int = 4,
    shapes: Sequence[tuple[int, ...]] | None = None,
) -> None:
    """A state dict written by an older torch loads into ``target`` and training goes on.

    ``source`` trains ``steps`` steps; its state dict then loses the group keys a newer
    torch added (``dropped_group_keys``) and has the state entries older torch kept as
    Python numbers (``number_state_keys``) turned into numbers. Loaded into a fresh
    ``target`` (through `__setstate__`), the dropped keys must come back with the values in
    ``expected_group``, the number entries must be tensors again (of
    ``expected_state_dtype`` where given), and ``target`` must then take exactly the steps
    ``source`` takes.
    """
    params = make_params(shapes=shapes)
    grads = make_gradients(params, 2 * steps)
    params_src = clone_params(params)
    opt_src = source(params_src)
    for g in grads[:steps]:
        apply_step(opt_src, params_src, g)
    saved = roundtrip_state_dict(copy.deepcopy(opt_src.state_dict()))
    for state in saved["state"].values():
        for key in number_state_keys:
            state[key] = number(state[key])
    for group in saved["param_groups"]:
        for key in dropped_group_keys:
            group.pop(key)
    params_dst = clone_params(params_src)
    opt_dst = target(params_dst)
    opt_dst.load_state_dict(saved)
    for group in opt_dst.param_groups:
        for key, value in (expected_group or {}).items():
            assert group[key] == value, f"group key {key!r}: {group[key]!r}, expected {value!r}"
    for state in opt_dst.state.values():
        for key in number_state_keys:
            assert isinstance(state[key], Tensor), f"state {key!r} stayed {state[key]!r}"
            if expected_state_dtype is not None:
                assert state[key].dtype == expected_state_dtype, (key, state[key].dtype)
    for t, g in enumerate(grads[steps:]):
        apply_step(opt_src, params_src, g)
        apply_step(opt_dst, params_dst, g)
        assert_same_state(opt_src, params_src, opt_dst, params_dst,
                          where=f"resumed step {t + 1}: ")
