"""The "Fast optimizers" chapter: its byte counts against what the chapters' steps touch."""

from __future__ import annotations

import importlib

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from labml_optim import fast


class Touched(TorchDispatchMode):
    """Records which of the given arrays an operation reads and which it writes in place."""

    def __init__(self, arrays: list[torch.Tensor]) -> None:
        super().__init__()
        self.ids = {a.untyped_storage().data_ptr(): i for i, a in enumerate(arrays)}
        self.read: set[int] = set()
        self.written: set[int] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        for schema_arg, value in zip(func._schema.arguments, [*args, *kwargs.values()],
                                     strict=False):
            for t in tree_leaves(value):
                if isinstance(t, torch.Tensor) and t.dim() > 0:
                    i = self.ids.get(t.untyped_storage().data_ptr())
                    if i is None:
                        continue
                    alias = schema_arg.alias_info
                    if alias is not None and alias.is_write:
                        self.written.add(i)
                        # An in-place op reads its destination too (x.mul_(b) reads x),
                        # except a pure copy into it.
                        if func.__name__ not in ("copy_", "zero_", "fill_"):
                            self.read.add(i)
                    else:
                        self.read.add(i)
        return func(*args, **kwargs)


# algorithm in the chapter's table -> (chapter, class, keyword arguments)
CASES = {
    "SGD": ("sgd", "SGD", {"lr": 0.1}),
    "SGD momentum": ("sgd", "SGD", {"lr": 0.1, "momentum": 0.9}),
    "Adagrad": ("adagrad", "Adagrad", {"lr": 0.1}),
    "RMSprop": ("rmsprop", "RMSprop", {"lr": 0.01}),
    "RMSprop centered": ("rmsprop", "RMSprop", {"lr": 0.01, "centered": True}),
    "Adam": ("adam", "Adam", {"lr": 0.01}),
    "AdamW": ("adamw", "AdamW", {"lr": 0.01}),
    "RAdam": ("radam", "RAdam", {"lr": 0.01}),
    "AMSGrad": ("amsgrad", "AMSGrad", {"lr": 0.01}),
}


@pytest.mark.parametrize("algorithm", list(CASES))
def test_one_pass_table_matches_the_arrays_a_step_touches(algorithm: str) -> None:
    """The arrays our step reads and writes (parameter, gradient, state; scalars aside)
    are exactly those the chapter's table counts."""
    module, name, kwargs = CASES[algorithm]
    cls = getattr(importlib.import_module(f"labml_optim.{module}"), name)
    param = torch.randn(64, requires_grad=True)
    opt = cls([param], **kwargs)
    # Eight steps first, so that RAdam is past its threshold and every buffer exists.
    for _ in range(8):
        param.grad = torch.randn(64)
        opt.step()
    param.grad = torch.randn(64)
    arrays = [param, param.grad] + [v for v in opt.state[param].values()
                                    if torch.is_tensor(v) and v.dim() > 0]
    touched = Touched(arrays)
    with touched:
        opt.step()
    assert (len(touched.read), len(touched.written)) == fast.READS_WRITES[algorithm]
    assert fast.BYTES_PER_PARAM[algorithm] == 4 * sum(fast.READS_WRITES[algorithm])


def test_lamb_touches_adams_arrays_and_needs_a_second_pass() -> None:
    """LAMB's step reads and writes Adam's arrays; the chapter's 40 bytes add the second
    pass over theta and u that the whole-tensor norms force (12 bytes)."""
    from labml_optim.lamb import LAMB

    param = torch.randn(64, requires_grad=True)
    opt = LAMB([param], lr=0.01, weight_decay=0.01)
    param.grad = torch.randn(64)
    opt.step()
    param.grad = torch.randn(64)
    arrays = [param, param.grad, opt.state[param]["exp_avg"], opt.state[param]["exp_avg_sq"]]
    touched = Touched(arrays)
    with touched:
        opt.step()
    assert (len(touched.read), len(touched.written)) == fast.READS_WRITES["Adam"]
    assert fast.BYTES_PER_PARAM["LAMB"] == fast.BYTES_PER_PARAM["Adam"] + 12


def test_floor_example() -> None:
    """24 M parameters at Adam's 28 bytes: 672 MB a step, 16.8 ms at 40 GB/s."""
    assert 24e6 * fast.BYTES_PER_PARAM["Adam"] == pytest.approx(672e6)
    assert fast.floor_seconds(24_000_000, 28, 40e9) == pytest.approx(16.8e-3)


def test_figure_draws_without_results(tmp_path, monkeypatch) -> None:
    """With no committed run the panels say so; with one, the bars are drawn."""
    monkeypatch.setattr(fast, "results_dir", lambda: tmp_path)
    out = tmp_path / "fast.png"
    fast.main(["--save", str(out)])
    assert out.stat().st_size > 0
