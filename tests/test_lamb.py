"""Tests of the LAMB chapter: the algorithm, its derivations, torch and the two LAMB peers.

torch has no LAMB, so the ground truth is threefold:

* an independent reference written here in plain Python floats (float64), one coordinate
  at a time, straight from Algorithm 2 of the paper;
* torch itself where LAMB reduces to a torch optimizer: with `adapt=False` the step is
  exactly `torch.optim.AdamW` (and `Adam` without decay), bitwise;
* the two published PyTorch LAMBs, with the flags that make them the same algorithm, and
  a computed demonstration of each place where their defaults differ.

The chapter's formulas (relative step, Adam's relative step, decay inside the norm, the
bias-correction equivalences, the bias growth bound) are each checked numerically.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from support.optim_harness import (
    apply_step,
    assert_same_state,
    check_complex_matches_real_view,
    check_parity,
    check_state_dict_transfer,
    clone_params,
    make_gradients,
    make_params,
    roundtrip_state_dict,
)

from labml_optim.lamb import LAMB, lamb_param_groups

MOMENTS = ("exp_avg", "exp_avg_sq")


# ## An independent reference: Algorithm 2, one float at a time


def reference_lamb(
    params: list[torch.Tensor],
    grads: list[list[torch.Tensor | None]],
    groups: list[tuple[list[int], dict]],
) -> tuple[list[list[float]], dict[int, tuple[list[float], list[float]]]]:
    """Run LAMB in Python floats; return final parameters and (m, v) per parameter.

    `groups` lists (parameter indices, hyper-parameters). Complex numbers are not used here.
    """
    xs = [p.detach().double().flatten().tolist() for p in params]
    ms: dict[int, list[float]] = {}
    vs: dict[int, list[float]] = {}
    count: dict[int, int] = {}
    for step_grads in grads:
        for indices, hp in groups:
            b1, b2 = hp["betas"]
            for i in indices:
                g_t = step_grads[i]
                if g_t is None:
                    continue
                g = g_t.double().flatten().tolist()
                if hp["maximize"]:
                    g = [-a for a in g]
                x = xs[i]
                m = ms.setdefault(i, [0.0] * len(x))
                v = vs.setdefault(i, [0.0] * len(x))
                count[i] = t = count.get(i, 0) + 1
                for k in range(len(x)):
                    m[k] = b1 * m[k] + (1 - b1) * g[k]
                    v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k]
                u = []
                for k in range(len(x)):
                    if hp["bias_correction"]:
                        m_hat, v_hat = m[k] / (1 - b1**t), v[k] / (1 - b2**t)
                    else:
                        m_hat, v_hat = m[k], v[k]
                    r = m_hat / (math.sqrt(v_hat) + hp["eps"])
                    u.append(r + hp["weight_decay"] * x[k])
                ratio = 1.0
                if hp["adapt"]:
                    w_norm = math.sqrt(sum(a * a for a in x))
                    if hp["clamp_value"] is not None:
                        w_norm = min(w_norm, hp["clamp_value"])
                    u_norm = math.sqrt(sum(a * a for a in u))
                    if w_norm > 0 and u_norm > 0:
                        ratio = w_norm / u_norm
                xs[i] = [x[k] - hp["lr"] * ratio * u[k] for k in range(len(x))]
    return xs, {i: (ms[i], vs[i]) for i in ms}


hyper = st.fixed_dictionaries({
    "lr": st.floats(0.0, 0.2),
    "betas": st.tuples(st.floats(0.0, 0.99), st.floats(0.0, 0.9999)),
    "eps": st.floats(1e-8, 1e-1),
    "weight_decay": st.one_of(st.just(0.0), st.floats(0.0, 0.5)),
    "bias_correction": st.booleans(),
    "clamp_value": st.one_of(st.none(), st.floats(0.1, 10.0)),
    "adapt": st.booleans(),
    "maximize": st.booleans(),
})


@settings(max_examples=40, deadline=None)
@given(first=hyper, second=hyper, seed=st.integers(0, 1000), zero_start=st.booleans())
def test_matches_independent_reference(first: dict, second: dict, seed: int,
                                       zero_start: bool) -> None:
    """Two groups with independent hyper-parameters, 12 steps, float64, vs the reference.

    With `zero_start` two tensors start at zero, as biases do (trust ratio 1 at first).
    """
    params = make_params(dtype=torch.float64, seed=seed)
    if zero_start:
        params[1] = torch.zeros_like(params[1], requires_grad=True)
        params[4] = torch.zeros_like(params[4], requires_grad=True)
    grads = make_gradients(params, 12, seed=seed + 1)
    layout = [([0, 1, 2], first), ([3, 4], second)]
    ours = clone_params(params)
    opt = LAMB([{"params": [ours[i] for i in idx], **hp} for idx, hp in layout])
    for g in grads:
        apply_step(opt, ours, g)
    xs, moments = reference_lamb(params, grads, layout)
    for i, p in enumerate(ours):
        expected = torch.tensor(xs[i], dtype=torch.float64).reshape(p.shape)
        torch.testing.assert_close(p.detach(), expected, rtol=1e-9, atol=1e-10)
        m, v = moments[i]
        state = opt.state[p]
        torch.testing.assert_close(state["exp_avg"].flatten(), torch.tensor(m, dtype=torch.float64),
                                   rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(state["exp_avg_sq"].flatten(),
                                   torch.tensor(v, dtype=torch.float64), rtol=1e-12, atol=1e-14)
        assert state["step"].item() == sum(g[i] is not None for g in grads)


def test_reference_is_not_vacuous() -> None:
    """The reference's trust ratio matters: with and without adaptation it differs."""
    params = make_params(dtype=torch.float64)
    grads = make_gradients(params, 5)
    hp = dict(lr=0.05, betas=(0.9, 0.99), eps=0.1, weight_decay=0.1, bias_correction=True,
              clamp_value=None, adapt=True, maximize=False)
    xs, _ = reference_lamb(params, grads, [([0, 1, 2, 3, 4], hp)])
    other, _ = reference_lamb(params, grads, [([0, 1, 2, 3, 4], {**hp, "adapt": False})])
    assert max(abs(a - b) for a, b in zip(xs[0], other[0], strict=True)) > 1e-3


# ## torch: without adaptation LAMB is AdamW, bitwise


@settings(max_examples=15, deadline=None)
@given(
    lr=st.floats(0.0, 0.1), beta1=st.floats(0.0, 0.99), beta2=st.floats(0.0, 0.9999),
    eps=st.floats(1e-8, 1e-2), weight_decay=st.floats(0.0, 0.5), maximize=st.booleans(),
    dtype=st.sampled_from([torch.float32, torch.float64]), complex_=st.booleans(),
)
def test_unadapted_group_is_torch_adamw_bitwise(lr, beta1, beta2, eps, weight_decay, maximize,
                                                dtype, complex_) -> None:
    kw = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, maximize=maximize)
    check_parity(lambda p: LAMB(p, adapt=False, **kw),
                 lambda p: torch.optim.AdamW(p, foreach=False, **kw),
                 steps=50, dtype=dtype, complex_=complex_)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_unadapted_group_without_decay_is_torch_adam_bitwise(dtype) -> None:
    kw = dict(lr=3e-2, betas=(0.8, 0.99), eps=1e-6)
    check_parity(lambda p: LAMB(p, adapt=False, **kw),
                 lambda p: torch.optim.Adam(p, foreach=False, **kw), dtype=dtype)


def test_adapted_step_differs_from_adamw() -> None:
    """Layer adaptation is not a no-op: the parity above is specific to adapt=False."""
    with pytest.raises(AssertionError):
        check_parity(lambda p: LAMB(p, lr=1e-2), lambda p: torch.optim.Adam(p, lr=1e-2, eps=1e-6,
                                                                             foreach=False),
                     steps=2)


@pytest.mark.parametrize("direction", ["torch to ours", "ours to torch"])
def test_state_dict_moves_between_lamb_and_torch_adamw(direction) -> None:
    kw = dict(lr=1e-2, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.05)
    ours = lambda p: LAMB(p, adapt=False, **kw)  # noqa: E731
    theirs = lambda p: torch.optim.AdamW(p, foreach=False, **kw)  # noqa: E731
    if direction == "torch to ours":
        check_state_dict_transfer(theirs, ours)
    else:
        check_state_dict_transfer(ours, theirs)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_state_dict_round_trip_continues_identically(dtype) -> None:
    kw = dict(lr=1e-2, weight_decay=0.1, clamp_value=3.0, bias_correction=False)
    check_state_dict_transfer(lambda p: LAMB(p, **kw), lambda p: LAMB(p, **kw), dtype=dtype)


def test_loading_an_adamw_state_dict_fills_lamb_keys_from_the_constructor() -> None:
    p = torch.nn.Parameter(torch.randn(4))
    adamw = torch.optim.AdamW([p], lr=1e-2)
    p.grad = torch.randn(4)
    adamw.step()
    state = roundtrip_state_dict(adamw.state_dict())
    state["state"][0]["step"] = 1  # an old checkpoint with a Python number
    lamb = LAMB([p], adapt=True, clamp_value=5.0, bias_correction=False)
    lamb.load_state_dict(state)
    group = lamb.param_groups[0]
    assert (group["adapt"], group["clamp_value"], group["bias_correction"]) == (True, 5.0, False)
    assert group["weight_decay"] == 1e-2  # AdamW's, kept: same meaning in both
    step = lamb.state[p]["step"]
    assert torch.is_tensor(step) and step.dtype == torch.float32 and step.item() == 1.0
    p.grad = torch.randn(4)
    lamb.step()
    assert lamb.state[p]["step"].item() == 2.0


def test_complex_parameters_step_as_their_real_view() -> None:
    for kw in ({}, {"weight_decay": 0.1, "clamp_value": 2.0}, {"bias_correction": False},
               {"adapt": False, "weight_decay": 0.1}):
        check_complex_matches_real_view(lambda p, kw=kw: LAMB(p, lr=1e-2, **kw))


def test_argument_errors() -> None:
    p = [torch.nn.Parameter(torch.ones(2))]
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match=r"^clamp_value must be > 0"):
            LAMB(p, clamp_value=bad)
    with pytest.raises(ValueError, match=r"^differentiable"):
        LAMB(p, differentiable=True)
    with pytest.raises(ValueError, match=r"^betas must be a pair"):
        LAMB(p, betas=(0.9,))


# ## No host sync


def test_step_reads_no_tensor_value_on_the_host() -> None:
    """On the meta device no value can be read: any `.item()`, `bool()` or `float()` of a
    parameter, gradient, moment or norm raises. Only the CPU step counter is real."""
    params = [torch.nn.Parameter(torch.empty(5, 3, device="meta")),
              torch.nn.Parameter(torch.empty(0, device="meta"))]
    opt = LAMB(params, weight_decay=0.1, clamp_value=10.0)
    for _ in range(2):
        for p in params:
            p.grad = torch.empty_like(p)
        opt.step()
    assert opt.state[params[0]]["step"].item() == 2.0


def test_step_calls_no_item_or_bool(monkeypatch) -> None:
    """The same on CPU: during `step`, `__bool__`, `__int__` and `tolist` are refused, and
    `item` and `__float__` are allowed only on the step counters (CPU scalars)."""
    params = make_params()
    grads = make_gradients(params, 3)
    opt = LAMB(params, weight_decay=0.1, clamp_value=10.0)

    def refuse(*_args, **_kwargs):
        raise AssertionError("host read of a tensor value during step")

    def counter_only(real):
        def read(tensor):
            counters = {id(s["step"]) for s in opt.state.values()}
            if id(tensor) not in counters:
                raise AssertionError(f"{real.__name__}() of a tensor other than a step counter")
            return real(tensor)
        return read

    with monkeypatch.context() as patch:
        for name in ("__bool__", "__int__", "tolist"):
            patch.setattr(torch.Tensor, name, refuse)
        patch.setattr(torch.Tensor, "__float__", counter_only(torch.Tensor.__float__))
        patch.setattr(torch.Tensor, "item", counter_only(torch.Tensor.item))
        for g in grads:
            apply_step(opt, params, g)
    assert all(torch.isfinite(p.detach()).all() for p in params)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_step_never_synchronises_cuda() -> None:
    """On a GPU, torch's sync debug mode turns any device-to-host wait into an error."""
    params = [torch.nn.Parameter(torch.randn(64, 32, device="cuda")),
              torch.nn.Parameter(torch.zeros(32, device="cuda"))]
    opt = LAMB(params, weight_decay=0.1, clamp_value=10.0)
    for p in params:
        p.grad = torch.randn_like(p)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(3):  # the first step creates the state, the others reuse it
            opt.step()
    finally:
        torch.cuda.set_sync_debug_mode("default")


# ## The chapter's formulas


@pytest.mark.parametrize("clamp_value", [None, 2.0])
def test_relative_step_is_the_learning_rate(clamp_value) -> None:
    r"""$\lVert\Delta x\rVert = \eta\,\phi(\lVert x\rVert)$ for every adapted tensor, every step,
    with weight decay on."""
    lr = 3e-3
    params = make_params(dtype=torch.float64)
    grads = make_gradients(params, 30)
    opt = LAMB(params, lr=lr, weight_decay=0.2, clamp_value=clamp_value)
    checked = 0
    for g in grads:
        before = [p.detach().clone() for p in params]
        apply_step(opt, params, g)
        for p, b, gi in zip(params, before, g, strict=True):
            if gi is None or b.numel() == 0:
                continue
            phi = b.norm() if clamp_value is None else b.norm().clamp(max=clamp_value)
            torch.testing.assert_close((p.detach() - b).norm(), lr * phi, rtol=1e-12, atol=0)
            checked += 1
    assert checked > 100


def test_adams_first_relative_step_is_lr_sqrt_n_over_norm() -> None:
    r"""Adam's first step: $r_1 = g/(|g| + \epsilon)$, so $\rho_1 = \eta\lVert r_1\rVert/\lVert
    x\rVert \approx \eta\sqrt n/\lVert x\rVert \approx \eta/\sigma$ for an i.i.d. start."""
    gen = torch.Generator().manual_seed(0)
    lr, eps = 1e-3, 1e-8
    for sigma, n in ((0.02, 20000), (0.5, 5000), (1.0, 300)):
        x = torch.nn.Parameter(torch.randn(n, generator=gen, dtype=torch.float64) * sigma)
        g = torch.randn(n, generator=gen, dtype=torch.float64)
        start = x.detach().clone()
        opt = torch.optim.Adam([x], lr=lr, eps=eps, foreach=False)
        x.grad = g.clone()
        opt.step()
        rho = ((x.detach() - start).norm() / start.norm()).item()
        exact = lr * (g / (g.abs() + eps)).norm().item() / start.norm().item()
        assert rho == pytest.approx(exact, rel=1e-10)
        assert rho == pytest.approx(lr * math.sqrt(n) / start.norm().item(), rel=1e-5)
        assert rho == pytest.approx(lr / sigma, rel=5 / math.sqrt(n))


def adam_first_relative_steps(model: torch.nn.Module, lr: float) -> dict[str, float]:
    """rho of each weight matrix after one Adam step on a random regression loss."""
    torch.manual_seed(1)
    params = {n: p for n, p in model.named_parameters() if p.dim() >= 2}
    before = {n: p.detach().clone() for n, p in params.items()}
    opt = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-8, foreach=False)
    x = torch.randint(0, 50, (256,)) if isinstance(model[0], torch.nn.Embedding) \
        else torch.randn(256, 64)
    model(x).pow(2).mean().backward()
    opt.step()
    return {n: ((params[n].detach() - before[n]).norm() / before[n].norm()).item()
            for n in params}


def test_homogeneous_model_has_equal_adam_relative_steps_and_heterogeneous_does_not() -> None:
    """The argument for "no advantage on a homogeneous MLP": Adam's relative steps are
    already equal there, so LAMB could only change the global scale."""
    lr = 1e-3
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(*[torch.nn.Linear(64, 64, bias=False) for _ in range(4)])
    for layer in mlp:
        torch.nn.init.normal_(layer.weight, std=0.05)
    rho = adam_first_relative_steps(mlp, lr)
    assert max(rho.values()) / min(rho.values()) < 1.1
    assert all(r == pytest.approx(lr / 0.05, rel=0.1) for r in rho.values())

    mixed = torch.nn.Sequential(torch.nn.Embedding(50, 64), torch.nn.LayerNorm(64),
                                torch.nn.Linear(64, 256), torch.nn.Linear(256, 8))
    torch.nn.init.normal_(mixed[0].weight, std=0.02)
    rho = adam_first_relative_steps(mixed, lr)
    assert max(rho.values()) / min(rho.values()) > 1.5
    # The embedding's step is about lr / 0.02 on the rows the batch touched (all 50 here).
    assert rho["0.weight"] == pytest.approx(lr / 0.02, rel=0.1)


def test_decay_inside_the_norm_shrinks_by_one_minus_lr_for_any_lambda() -> None:
    r"""With $r = 0$ (zero gradients) the update is $\lambda x$ and the step is $-\eta x$."""
    lr, steps = 0.01, 25
    for weight_decay in (1e-4, 0.01, 3.0):
        x0 = torch.randn(6, 4, dtype=torch.float64)
        for adapt, factor in ((True, 1 - lr), (False, 1 - lr * weight_decay)):
            p = torch.nn.Parameter(x0.clone())
            opt = LAMB([p], lr=lr, weight_decay=weight_decay, adapt=adapt)
            for _ in range(steps):
                p.grad = torch.zeros_like(p)
                opt.step()
            torch.testing.assert_close(p.detach(), x0 * factor**steps, rtol=1e-12, atol=0)


def next_step(opt: LAMB, group: dict) -> int:
    """The step number the group's (single) parameter is about to take."""
    state = opt.state.get(group["params"][0], {})
    return int(state["step"].item()) + 1 if "step" in state else 1


def test_bias_correction_without_decay_is_a_smaller_eps() -> None:
    r"""Corrected, $\lambda = 0$ = uncorrected with $\epsilon_t = \epsilon\sqrt{1-\beta_2^t}$.

    One group per tensor, since each tensor counts its own steps (one skips a step).
    """
    betas, eps = (0.9, 0.999), 1e-3  # a large eps, so that a wrong eps would show
    params = make_params(dtype=torch.float64)
    grads = make_gradients(params, 50)
    pa, pb, pc = clone_params(params), clone_params(params), clone_params(params)
    kw = dict(lr=1e-2, betas=betas, eps=eps)
    a = LAMB([{"params": [p]} for p in pa], bias_correction=True, **kw)
    b = LAMB([{"params": [p]} for p in pb], bias_correction=False, **kw)
    c = LAMB([{"params": [p]} for p in pc], bias_correction=False, **kw)
    for t, g in enumerate(grads, start=1):
        for group in b.param_groups:
            group["eps"] = eps * math.sqrt(1 - betas[1] ** next_step(b, group))
        for opt, ps in ((a, pa), (b, pb), (c, pc)):
            apply_step(opt, ps, g)
        assert_same_state(a, pa, b, pb, exact=False, atol=1e-12, where=f"step {t}: ")
    # The plain uncorrected run, with the fixed eps, does differ.
    assert (pc[0] - pa[0]).abs().max() > 1e-6


def c_t(t: int, betas=(0.9, 0.999)) -> float:
    return math.sqrt(1 - betas[1] ** t) / (1 - betas[0] ** t)


def test_uncorrected_decay_is_corrected_decay_times_c_t() -> None:
    r"""Uncorrected $(\epsilon, \lambda)$ = corrected $(\epsilon/\sqrt{1-\beta_2^t},
    c_t\lambda)$, step for step."""
    betas, eps, wd = (0.9, 0.999), 1e-4, 0.3
    params = make_params(dtype=torch.float64)
    grads = make_gradients(params, 50)
    pa, pb = clone_params(params), clone_params(params)
    a = LAMB([{"params": [p]} for p in pa], lr=1e-2, betas=betas, eps=eps, weight_decay=wd,
             bias_correction=False)
    b = LAMB([{"params": [p]} for p in pb], lr=1e-2, betas=betas, bias_correction=True)
    for t, g in enumerate(grads, start=1):
        for group in b.param_groups:
            k = next_step(b, group)
            group["eps"] = eps / math.sqrt(1 - betas[1] ** k)
            group["weight_decay"] = c_t(k, betas) * wd
        apply_step(a, pa, g)
        apply_step(b, pb, g)
        assert_same_state(a, pa, b, pb, exact=False, atol=1e-12, where=f"step {t}: ")


def test_c_t_values_quoted_in_the_chapter() -> None:
    values = [c_t(t) for t in range(1, 20001)]
    assert values[0] == pytest.approx(0.316, abs=5e-4)
    t_min = 1 + min(range(len(values)), key=values.__getitem__)
    assert t_min == 12 and values[t_min - 1] == pytest.approx(0.152, abs=5e-4)
    assert 1 / values[t_min - 1] == pytest.approx(6.6, abs=0.05)
    assert c_t(100) == pytest.approx(0.309, abs=5e-4)
    assert c_t(1000) == pytest.approx(0.795, abs=5e-4)
    assert next(t for t in range(1, 20001) if values[t - 1] > 0.99) == 3916
    assert all(v > 0.99 for v in values[3915:])


def test_uncorrected_unadapted_first_step_is_3_16_lr() -> None:
    lr, betas = 1e-3, (0.9, 0.999)
    p = torch.nn.Parameter(torch.zeros(7, dtype=torch.float64))
    opt = LAMB([p], lr=lr, betas=betas, eps=1e-12, adapt=False, bias_correction=False)
    p.grad = torch.linspace(-3, 3, 7, dtype=torch.float64) + 0.1
    opt.step()
    expected = lr * (1 - betas[0]) / math.sqrt(1 - betas[1])
    assert expected == pytest.approx(3.16e-3, abs=5e-6)
    torch.testing.assert_close(p.detach().abs(), torch.full((7,), expected, dtype=torch.float64))


def steps_to_reach(norm: float, *, adapt: bool, lr: float = 1e-3, n: int = 768) -> int:
    """Steps for a zero-initialised bias, pushed by a constant gradient, to reach `norm`."""
    p = torch.nn.Parameter(torch.zeros(n, dtype=torch.float64))
    opt = LAMB([p], lr=lr, adapt=adapt)
    g = torch.ones(n, dtype=torch.float64)
    for t in range(1, 100000):
        p.grad = g
        opt.step()
        if p.detach().norm() >= norm:
            return t
    raise AssertionError("never reached")


def test_adapted_bias_grows_geometrically_from_zero() -> None:
    r"""$\lVert b_t\rVert \le (1+\eta)^{t-1}\eta\lVert r_1\rVert$: 1979 steps to 0.2, Adam 8."""
    lr, n = 1e-3, 768
    first = lr * math.sqrt(n) * (1 / (1 + 1e-6))  # r_1 = g / (|g| + eps) with |g| = 1
    bound = 1 + math.ceil(math.log(0.2 / first) / math.log(1 + lr))
    assert steps_to_reach(0.2, adapt=True) == bound == 1979
    assert steps_to_reach(0.2, adapt=False) == math.ceil(0.2 / first) == 8


# ## The parameter groups


class TinyTransformer(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(40, 16)
        self.layer = torch.nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0,
                                                      batch_first=True)
        self.norm = torch.nn.LayerNorm(16)
        self.head = torch.nn.Linear(16, 40)
        self.head.weight = self.embed.weight  # tied, as language models often are

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.layer(self.embed(tokens))))


def group_names(model: torch.nn.Module, groups: list[dict]) -> list[set[str]]:
    names = {id(p): n for n, p in model.named_parameters()}
    return [{names[id(p)] for p in g["params"]} for g in groups]


def test_param_groups_on_a_transformer() -> None:
    model = TinyTransformer()
    groups = lamb_param_groups(model, 0.01)
    decayed, excluded = group_names(model, groups)
    assert decayed == {"embed.weight", "layer.self_attn.in_proj_weight",
                       "layer.self_attn.out_proj.weight", "layer.linear1.weight",
                       "layer.linear2.weight"}
    assert excluded == {"layer.self_attn.in_proj_bias", "layer.self_attn.out_proj.bias",
                        "layer.linear1.bias", "layer.linear2.bias", "layer.norm1.weight",
                        "layer.norm1.bias", "layer.norm2.weight", "layer.norm2.bias",
                        "norm.weight", "norm.bias", "head.bias"}
    assert groups[0]["weight_decay"] == 0.01 and "adapt" not in groups[0]
    assert groups[1]["weight_decay"] == 0.0 and groups[1]["adapt"] is False
    # every parameter exactly once (the tied weight too)
    listed = [p for g in groups for p in g["params"]]
    assert len(listed) == len({id(p) for p in listed}) == len(list(model.parameters()))

    # Embeddings can be excluded on request.
    decayed, excluded = group_names(model, lamb_param_groups(
        model, 0.01, no_decay_modules=(torch.nn.LayerNorm, torch.nn.Embedding)))
    assert "embed.weight" in excluded and "embed.weight" not in decayed

    # The groups train: the excluded group takes AdamW steps without decay.
    opt = LAMB(groups, lr=1e-2)
    tokens = torch.randint(0, 40, (4, 6))
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(tokens).flatten(0, 1), tokens.flatten())
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_param_groups_on_conv_norm_layers() -> None:
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.Conv2d(8, 8, 3, bias=False),
        torch.nn.GroupNorm(2, 8), torch.nn.InstanceNorm2d(8, affine=True),
        torch.nn.RMSNorm(8), torch.nn.Linear(8, 2),
    )
    decayed, excluded = group_names(model, lamb_param_groups(model, 0.1))
    assert decayed == {"0.weight", "2.weight", "6.weight"}
    assert excluded == {"0.bias", "1.weight", "1.bias", "3.weight", "3.bias", "4.weight",
                        "4.bias", "5.weight", "6.bias"}
    groups = lamb_param_groups(torch.nn.LayerNorm(3), 0.1)
    assert len(groups) == 1 and groups[0]["adapt"] is False  # no empty decay group


# ## The peers: torch-optimizer (cybertronai) and pytorch-optimizer


def test_torch_optimizer_lamb_matches_with_its_flags() -> None:
    """torch_optimizer.Lamb (0.3.0) is arXiv v3: no bias correction, eps added to sqrt(v)
    (as ours), decay inside the norm (as ours), trust ratio 1 when a norm is 0 (as ours),
    ||x|| always clamped to [0, clamp_value] (default 10).

    Matching flags: our `bias_correction=False` <-> its `debias=False` (its default);
    our `clamp_value=C` <-> its `clamp_value=C`, and our `None` <-> a clamp of 1e30; our
    `adapt=False` <-> its `adam=True`. It has no `maximize` and no complex support (its
    `addcmul_(grad, grad)` squares a complex gradient instead of taking |g|^2), and keeps
    an int step and three extra state entries, so only the moments are compared.
    """
    import torch_optimizer
    cases = [
        (dict(), dict(clamp_value=1e30)),
        (dict(weight_decay=0.1, clamp_value=2.0), dict(weight_decay=0.1, clamp_value=2.0)),
        (dict(weight_decay=0.1, adapt=False), dict(weight_decay=0.1, adam=True)),
        (dict(eps=1e-3, betas=(0.5, 0.9)), dict(eps=1e-3, betas=(0.5, 0.9), clamp_value=1e30)),
    ]
    for ours_kw, theirs_kw in cases:
        check_parity(
            lambda p, kw=ours_kw: LAMB(p, lr=1e-2, bias_correction=False, **kw),
            lambda p, kw=theirs_kw: torch_optimizer.Lamb(p, lr=1e-2, **kw),
            steps=50, exact=False, atol=1e-6, state_keys=MOMENTS,
        )


def test_torch_optimizer_debias_is_neither_paper_version() -> None:
    """Its `debias=True` multiplies the final step by sqrt(1-beta2^t)/(1-beta1^t) *outside*
    the trust ratio, so its step length is lr*||x||*c_t, not lr*||x||."""
    import torch_optimizer
    lr = 1e-2
    x0 = torch.randn(20, dtype=torch.float64)
    theirs = torch.nn.Parameter(x0.clone())
    opt = torch_optimizer.Lamb([theirs], lr=lr, debias=True, clamp_value=1e30)
    for t in range(1, 6):
        before = theirs.detach().clone()
        theirs.grad = torch.randn(20, dtype=torch.float64)
        opt.step()
        ratio = ((theirs.detach() - before).norm() / (lr * before.norm())).item()
        assert ratio == pytest.approx(c_t(t), rel=1e-9)


def pytorch_optimizer_lamb(params, *, clamp: float = 1e30, **kwargs):
    """pytorch_optimizer.Lamb with the flags that make it our algorithm."""
    from pytorch_optimizer import Lamb

    kwargs = {"weight_decouple": False, "adam_debias": True, "foreach": False, **kwargs}
    opt = Lamb(params, **kwargs)
    opt.clamp = clamp  # a class attribute (10.0), not an argument
    return opt


@pytest.mark.parametrize("foreach", [False, True])
def test_pytorch_optimizer_lamb_matches_with_its_flags(foreach) -> None:
    """pytorch_optimizer.Lamb (4.1.0): with `weight_decouple=False` decay is inside the norm
    (as ours); `adam_debias=True` removes the 1/(1-beta1^t) it otherwise puts on the step;
    no bias correction is available (ours `bias_correction=False`); `grad_averaging=True`,
    `pre_norm=False`, `rectify=False` (defaults); `adam=True` <-> our `adapt=False`; the
    clamp is the class attribute `clamp` (10.0). One difference is left: its trust ratio is
    ||x|| / (||u|| + eps), ours ||x|| / ||u||, a relative difference of eps/||u|| (below
    1e-6 with eps = 1e-6; reproduced exactly in the next test). It keeps the step count in
    the group and three extra state entries, so the moments are compared.
    """
    cases = [
        (dict(), dict()),
        (dict(weight_decay=0.1, clamp_value=2.0), dict(weight_decay=0.1, clamp=2.0)),
        (dict(weight_decay=0.1, adapt=False), dict(weight_decay=0.1, adam=True)),
        (dict(maximize=True, betas=(0.5, 0.9)), dict(maximize=True, betas=(0.5, 0.9))),
    ]
    for complex_ in (False, True):
        for ours_kw, theirs_kw in cases:
            check_parity(
                lambda p, kw=ours_kw: LAMB(p, lr=1e-2, bias_correction=False, **kw),
                lambda p, kw=theirs_kw: pytorch_optimizer_lamb(p, lr=1e-2, foreach=foreach,
                                                               **kw),
                steps=50, exact=False, atol=1e-6, state_keys=MOMENTS, complex_=complex_,
            )


def test_pytorch_optimizer_lamb_differences_computed() -> None:
    """Where pytorch_optimizer differs, each difference reproduced exactly from ours."""
    lr, eps, wd = 1e-2, 0.5, 0.2  # a large eps makes the trust-ratio difference visible
    x0 = torch.randn(30, dtype=torch.float64)
    grads = [torch.randn(30, dtype=torch.float64) for _ in range(4)]

    # 1. eps in the trust ratio: one step of theirs = ours scaled by ||u|| / (||u|| + eps).
    ours, theirs = torch.nn.Parameter(x0.clone()), torch.nn.Parameter(x0.clone())
    a = LAMB([ours], lr=lr, eps=eps, bias_correction=False)
    b = pytorch_optimizer_lamb([theirs], lr=lr, eps=eps)
    ours.grad, theirs.grad = grads[0].clone(), grads[0].clone()
    a.step()
    b.step()
    u = a.state[ours]["exp_avg"] / (a.state[ours]["exp_avg_sq"].sqrt() + eps)
    scale = u.norm() / (u.norm() + eps)
    torch.testing.assert_close(theirs.detach() - x0, (ours.detach() - x0) * scale,
                               rtol=1e-12, atol=0)
    assert abs(scale.item() - 1) > 1e-3

    # 2. Its default (adam_debias=False) divides the whole step by 1 - beta1^t.
    ours, theirs = torch.nn.Parameter(x0.clone()), torch.nn.Parameter(x0.clone())
    a = LAMB([ours], lr=lr, eps=1e-6, bias_correction=False)
    b = pytorch_optimizer_lamb([theirs], lr=lr, eps=1e-6, adam_debias=False)
    ours.grad, theirs.grad = grads[0].clone(), grads[0].clone()
    a.step()
    b.step()
    torch.testing.assert_close(theirs.detach() - x0, (ours.detach() - x0) / (1 - 0.9),
                               rtol=1e-5, atol=0)

    # 3. Its default weight_decouple=True decays outside the norm: it is AdamW-style
    #    x *= 1 - lr*wd, then LAMB without decay on the decayed x.
    ours, theirs = torch.nn.Parameter(x0.clone()), torch.nn.Parameter(x0.clone())
    a = LAMB([ours], lr=lr, eps=1e-6, bias_correction=False)
    b = pytorch_optimizer_lamb([theirs], lr=lr, eps=1e-6, weight_decay=wd,
                               weight_decouple=True)
    for g in grads:
        with torch.no_grad():
            ours.mul_(1 - lr * wd)
        ours.grad, theirs.grad = g.clone(), g.clone()
        a.step()
        b.step()
    torch.testing.assert_close(theirs.detach(), ours.detach(), rtol=1e-6, atol=1e-9)
    inside = torch.nn.Parameter(x0.clone())
    c = LAMB([inside], lr=lr, eps=1e-6, bias_correction=False, weight_decay=wd)
    for g in grads:
        inside.grad = g.clone()
        c.step()
    assert (inside.detach() - theirs.detach()).abs().max() > 1e-5
def test_deepcopy_keeps_groups() -> None:
    model = TinyTransformer()
    opt = LAMB(lamb_param_groups(model, 0.01), lr=1e-3, clamp_value=10.0)
    clone = copy.deepcopy(opt)
    assert clone.param_groups[1]["adapt"] is False
    assert clone.param_groups[0]["clamp_value"] == 10.0


def test_trust_ratio_is_one_when_a_norm_is_zero() -> None:
    """||x|| = 0: the step is Adam's. ||u|| = 0: no step, and no NaN from 0/0."""
    zero = torch.nn.Parameter(torch.zeros(5))
    x0 = torch.randn(5)
    still = torch.nn.Parameter(x0.clone())
    empty = torch.nn.Parameter(torch.zeros(0))
    opt = LAMB([zero, still, empty], lr=0.1)
    adam_ref = torch.nn.Parameter(torch.zeros(5))
    adam = torch.optim.Adam([adam_ref], lr=0.1, eps=1e-6, foreach=False)
    g = torch.randn(5)
    zero.grad, adam_ref.grad = g.clone(), g.clone()
    still.grad, empty.grad = torch.zeros(5), torch.zeros(0)
    opt.step()
    adam.step()
    assert torch.equal(zero.detach(), adam_ref.detach())
    assert torch.equal(still.detach(), x0)


def test_compiled_norms_by_rows_equal_eager() -> None:
    """Compiled, the trust ratio's norms of a matrix with rows of 16 floats or more are
    summed by rows (`_norm`); the step stays within the compiled tolerance of eager."""
    from labml_optim.lamb import _norm

    torch._dynamo.reset()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(40, 64, generator=gen)
    torch.testing.assert_close(torch.compile(_norm)(x), torch.linalg.vector_norm(x),
                               rtol=1e-6, atol=0)
    start = [torch.randn(40, 64, generator=gen), torch.randn(64, generator=gen)]
    eager_params = [p.clone().requires_grad_() for p in start]
    compiled_params = [p.clone().requires_grad_() for p in start]
    eager = LAMB(eager_params, lr=1e-2, weight_decay=0.01)
    compiled = LAMB(compiled_params, lr=1e-2, weight_decay=0.01)
    step = torch.compile(compiled.step)
    for _ in range(5):
        for a, b in zip(eager_params, compiled_params, strict=True):
            a.grad = torch.randn(a.shape, generator=gen)
            b.grad = a.grad.clone()
        eager.step()
        step()
    for a, b in zip(eager_params, compiled_params, strict=True):
        torch.testing.assert_close(b.detach(), a.detach(), rtol=1e-6, atol=1e-6)
