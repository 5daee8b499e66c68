"""Adafactor: where it differs from torch.optim.Adafactor, the paper's form against
pytorch-optimizer, and the chapter's derivations.

Parity with torch.optim.Adafactor (bitwise, dtypes, complex, state dicts, groups, tensor lr) is
in test_parity.py, with every chapter that has a torch twin.
"""

from __future__ import annotations

import inspect
import math

import pytest
import torch
from pytorch_optimizer import AdaFactor as ReferenceAdaFactor
from support.optim_harness import (
    apply_step,
    assert_same_state,
    clone_params,
    make_gradients,
    make_params,
)

from labml_optim.adafactor import (
    Adafactor,
    adam_equivalent_beta2,
    beta2_schedule,
    kl_divergence,
    measured_state_bytes,
    rank1_fit,
    state_bytes,
    transformer_shapes,
)


def nonempty_params(dtype: torch.dtype = torch.float32, seed: int = 0) -> list[torch.Tensor]:
    """The harness's parameters without the zero-size one, on which torch's step fails."""
    return [p for p in make_params(dtype=dtype, seed=seed) if p.numel()]


# ## Where torch's Adafactor and ours part


def test_eps1_comes_from_the_first_parameter_of_the_group() -> None:
    """torch takes a missing eps1 from the first parameter's dtype and keeps it for the
    group; with a float64 parameter first and tiny float32 gradients after it, that matters."""
    def build(cls, **kw):
        def factory(params):
            first = torch.zeros(3, dtype=torch.float64, requires_grad=True)
            return cls([first, *params], **kw)
        return factory

    params = nonempty_params()
    grads = make_gradients(params, 10, scale=1e-5)
    a, b = clone_params(params), clone_params(params)
    opt_a, opt_b = build(Adafactor)(a), build(torch.optim.Adafactor, foreach=False)(b)
    first_a, first_b = opt_a.param_groups[0]["params"][0], opt_b.param_groups[0]["params"][0]
    for g in grads:
        first_a.grad = first_b.grad = torch.ones(3, dtype=torch.float64)
        apply_step(opt_a, a, g)
        apply_step(opt_b, b, g)
        assert_same_state(opt_a, a, opt_b, b)


def test_torch_state_dict_gets_our_default_eps_placement() -> None:
    params = nonempty_params()
    torch_opt = torch.optim.Adafactor(params)
    for p in params:
        p.grad = torch.ones_like(p)
    torch_opt.step()
    mine = Adafactor(clone_params(params), eps_placement="paper")
    mine.load_state_dict(torch_opt.state_dict())
    assert mine.param_groups[0]["eps_placement"] == "torch"


def test_signature_defaults_and_keys_are_torchs() -> None:
    ours_sig = list(inspect.signature(Adafactor).parameters.values())
    torch_sig = list(inspect.signature(torch.optim.Adafactor).parameters.values())
    assert [(p.name, p.kind, p.default) for p in ours_sig[:len(torch_sig)]] == [
        (p.name, p.kind, p.default) for p in torch_sig]
    assert [(p.name, p.kind) for p in ours_sig[len(torch_sig):]] == [
        ("eps_placement", inspect.Parameter.KEYWORD_ONLY)]
    params = [torch.nn.Parameter(torch.ones(4, 3)), torch.nn.Parameter(torch.ones(3))]
    copies = clone_params(params)
    a, b = Adafactor(params), torch.optim.Adafactor(copies)
    assert set(a.param_groups[0]) == set(b.param_groups[0]) | {"eps_placement"}
    for ps, opt in ((params, a), (copies, b)):
        for p in ps:
            p.grad = torch.ones_like(p)
        opt.step()
    for p, q in zip(params, copies, strict=True):
        assert a.state[p].keys() == b.state[q].keys()
    assert a.state[params[0]].keys() == {"step", "row_var", "col_var"}
    assert a.state[params[1]].keys() == {"step", "variance"}


def test_zero_size_parameter_counts_its_step_where_torch_fails() -> None:
    p = torch.zeros(0, requires_grad=True)
    q = torch.zeros(0, requires_grad=True)
    p.grad, q.grad = torch.zeros(0), torch.zeros(0)
    opt = Adafactor([p])
    opt.step()
    assert opt.state[p]["step"].item() == 1.0 and opt.state[p]["variance"].numel() == 0
    with pytest.raises(ZeroDivisionError):
        torch.optim.Adafactor([q]).step()


# ## Arguments
#
# torch's optim_db data (error inputs, argument sets) and the compiled step run for
# every chapter in test_torch_conformance.py and test_compile.py.


@pytest.mark.parametrize(("argument", "value", "start", "torch_words"), [
    ("lr", -0.1, "lr", "Learning rate should be >= 0 but is: -0.1"),
    ("beta2_decay", 0.5, "beta2_decay", "beta2_decay should be <= 0 but is: 0.5"),
    ("eps", (-1.0, 1e-3), r"eps\[0\]", "epsilon1 should be >= 0 but is: -1.0"),
    ("eps", (None, -1.0), r"eps\[1\]", "epsilon2 should be >= 0 but is: -1.0"),
    ("d", 0.5, "d", "Clipping threshold d should be >= 1 but is: 0.5"),
    ("weight_decay", -1.0, "weight_decay", "weight_decay should be >= 0 but is: -1.0"),
])
def test_argument_errors_name_the_argument(argument, value, start, torch_words) -> None:
    with pytest.raises(ValueError, match=f"^{start}") as raised:
        Adafactor([torch.nn.Parameter(torch.ones(1))], **{argument: value})
    assert torch_words in str(raised.value)
    with pytest.raises(ValueError, match=torch_words.replace("(", r"\(")):
        torch.optim.Adafactor([torch.nn.Parameter(torch.ones(1))], **{argument: value})


def test_foreach_and_unknown_placement_are_refused() -> None:
    with pytest.raises(ValueError, match="^foreach"):
        Adafactor([torch.nn.Parameter(torch.ones(1))], foreach=True)
    with pytest.raises(ValueError, match="^eps_placement"):
        Adafactor([torch.nn.Parameter(torch.ones(1))], eps_placement="tf")


def test_failing_step_changes_nothing_complex_in_a_later_group() -> None:
    """torch checks each group as it reaches it, after updating the groups before; we check
    every group first, so the real parameters of the first group are left alone too."""
    params = nonempty_params()
    z = torch.zeros(2, dtype=torch.complex64, requires_grad=True)
    opt = Adafactor([{"params": params}, {"params": [z]}], weight_decay=0.1)
    for p in params:
        p.grad = torch.randn_like(p)
    opt.step()  # z has no gradient yet
    before = clone_params(params)
    state = {i: {k: v.clone() for k, v in opt.state[p].items()} for i, p in enumerate(params)}
    for p in params:
        p.grad = torch.randn_like(p)
    z.grad = torch.ones(2, dtype=torch.complex64)
    with pytest.raises(RuntimeError, match="Adafactor does not support complex parameters"):
        opt.step()
    for i, (p, q) in enumerate(zip(params, before, strict=True)):
        assert torch.equal(p.detach(), q.detach())
        for key, value in opt.state[p].items():
            assert torch.equal(value, state[i][key])
    assert z not in opt.state


# ## The paper's epsilon placement, against pytorch-optimizer


def reference_paper_adafactor(params):
    """pytorch-optimizer's AdaFactor set to the paper's algorithm: no momentum (beta1 None),
    a beta2 cap that never binds, relative step min(1e-2, 1/sqrt t), parameter scaling,
    d = 1, eps1 = 1e-30 added to G^2, eps2 = 1e-3."""
    return ReferenceAdaFactor(params, lr=None, betas=(None, 1 - 1e-12), decay_rate=-0.8,
                              weight_decay=0.0, clip_threshold=1.0, scale_parameter=True,
                              relative_step=True, warmup_init=False, eps1=1e-30, eps2=1e-3,
                              foreach=False)


@pytest.mark.parametrize(("dtype", "rtol"), [(torch.float64, 1e-12), (torch.float32, 2e-5)])
def test_paper_placement_matches_pytorch_optimizer(dtype: torch.dtype, rtol: float) -> None:
    """Same algorithm, different order of operations: pytorch-optimizer forms
    rsqrt(R / mean R) * rsqrt(C) where we form rsqrt(R C / mean R), and computes the RMS as
    a tensor. So the two agree to rounding: 1e-12 relative in float64 (measured ~1e-14),
    2e-5 in float32 (measured ~3e-6 after 40 steps of accumulated rounding). The reference
    counts steps per group, so every parameter gets a gradient at every step here."""
    params = nonempty_params(dtype)
    gen = torch.Generator().manual_seed(3)
    a, b = clone_params(params), clone_params(params)
    opt_a, opt_b = Adafactor(a, eps_placement="paper"), reference_paper_adafactor(b)
    for t in range(40):
        scale = 10.0 if t == 20 else 1.0  # a jump in scale, so that clipping acts
        grads = [torch.randn(p.shape, generator=gen, dtype=dtype) * scale for p in params]
        apply_step(opt_a, a, grads)
        apply_step(opt_b, b, grads)
        for x, y in zip(a, b, strict=True):
            torch.testing.assert_close(x, y, rtol=rtol, atol=0)
    for x, y in zip(a, b, strict=True):
        if x.dim() > 1:
            torch.testing.assert_close(opt_a.state[x]["row_var"].squeeze(-1),
                                       opt_b.state[y]["exp_avg_sq_row"], rtol=rtol, atol=0)


def test_placements_agree_for_ordinary_gradients_and_differ_for_tiny_ones() -> None:
    """torch bounds mean(R) by eps1 = 1.19e-7 (float32): it binds only where the mean
    squared gradient of a row is below that, i.e. gradients below about sqrt(eps1) = 3.5e-4."""
    def run(placement, scale):
        params = nonempty_params()
        grads = make_gradients(params, 20, scale=scale)
        ps = clone_params(params)
        opt = Adafactor(ps, eps_placement=placement)
        for g in grads:
            apply_step(opt, ps, g)
        return ps[0].detach()

    assert torch.allclose(run("torch", 1.0), run("paper", 1.0), rtol=1e-5, atol=0)
    assert (run("torch", 1e-5) - run("paper", 1e-5)).abs().max() > 1e-4
    eps1 = torch.finfo(torch.float32).eps
    assert f"{eps1:.2e}" == "1.19e-07" and f"{math.sqrt(eps1):.1e}" == "3.5e-04"


# ## The rank-1 fit in generalised KL


def random_nonnegative(n: int, m: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, m, generator=gen, dtype=torch.float64) ** 2


@pytest.mark.parametrize("seed", range(4))
def test_rank1_fit_beats_every_perturbation(seed: int) -> None:
    v = random_nonnegative(7, 5, seed)
    w = rank1_fit(v)
    best = kl_divergence(v, w)
    rows, cols = v.sum(1, keepdim=True), v.sum(0, keepdim=True) / v.sum()
    gen = torch.Generator().manual_seed(100 + seed)
    for size in (1e-1, 1e-2, 1e-3):
        for _ in range(50):
            r = rows * torch.exp(size * torch.randn(rows.shape, generator=gen, dtype=v.dtype))
            c = cols * torch.exp(size * torch.randn(cols.shape, generator=gen, dtype=v.dtype))
            assert kl_divergence(v, r @ c) > best
    # Rescaling r up and s down by the same factor is the same W: no perturbation at all.
    torch.testing.assert_close(kl_divergence(v, (3 * rows) @ (cols / 3)), best)


@pytest.mark.parametrize("seed", range(3))
def test_rank1_fit_equals_a_numerical_minimiser(seed: int) -> None:
    """Minimise D over log r, log s with L-BFGS from a random start; it lands on R C / S."""
    v = random_nonnegative(6, 4, seed)
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(6, 1, generator=gen, dtype=v.dtype).requires_grad_()
    b = torch.randn(1, 4, generator=gen, dtype=v.dtype).requires_grad_()
    opt = torch.optim.LBFGS([a, b], lr=1, max_iter=500, tolerance_grad=1e-14,
                            tolerance_change=1e-16, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = kl_divergence(v, torch.exp(a + b))
        loss.backward()
        return loss

    opt.step(closure)
    torch.testing.assert_close(torch.exp(a + b).detach(), rank1_fit(v), rtol=1e-6, atol=1e-9)


def test_rank1_fit_keeps_row_and_column_sums_and_is_exact_for_rank1() -> None:
    v = random_nonnegative(8, 3, 9)
    w = rank1_fit(v)
    torch.testing.assert_close(w.sum(1), v.sum(1))
    torch.testing.assert_close(w.sum(0), v.sum(0))
    gen = torch.Generator().manual_seed(2)
    x, y = torch.rand(8, 1, generator=gen, dtype=v.dtype), torch.rand(1, 3, generator=gen,
                                                                       dtype=v.dtype)
    torch.testing.assert_close(rank1_fit(x @ y), x @ y)


def test_optimizer_second_moment_is_the_rank1_fit_of_the_full_average() -> None:
    """Running averages of row and column means are enough to form the best rank-1 fit of
    the full running average of G^2, which is never stored; means and sums give the same."""
    gen = torch.Generator().manual_seed(0)
    p = torch.zeros(5, 7, dtype=torch.float64, requires_grad=True)
    opt = Adafactor([p], eps=(0.0, 1e-3))
    full = torch.zeros(5, 7, dtype=torch.float64)
    for t in range(1, 30):
        g = torch.randn(5, 7, generator=gen, dtype=torch.float64)
        p.grad = g.clone()
        opt.step()
        full.lerp_(g * g, t**-0.8)
        state = opt.state[p]
        estimate = state["row_var"] @ state["col_var"] / state["row_var"].mean()
        torch.testing.assert_close(estimate, rank1_fit(full), rtol=1e-12, atol=0)
        sums = (state["row_var"] * 7) @ (state["col_var"] * 5) / (state["row_var"] * 7).sum()
        torch.testing.assert_close(sums, estimate, rtol=1e-12, atol=0)


# ## Memory


def test_state_bytes_of_a_transformer_and_the_quoted_numbers() -> None:
    shapes = transformer_shapes()
    assert len(shapes) == 97
    assert round(sum(math.prod(s) for s in shapes) / 1e6, 1) == 35.3
    adam, factor = state_bytes(shapes, "adam"), state_bytes(shapes, "adafactor")
    assert round(adam / 1e6, 1) == 282.4 and round(factor / 1e6, 2) == 0.51
    assert round(adam / factor) == 552
    assert round(2 * 32000 * 512 * 4 / 1e6) == 131


def test_state_bytes_formula_matches_the_optimizers() -> None:
    """Measured on real optimizers for a small Transformer (the formula is then quoted for
    the base size, too large to allocate in a unit test)."""
    shapes = transformer_shapes(d_model=64, d_ff=256, layers=2, vocab=1000)
    params = [torch.zeros(s, requires_grad=True) for s in shapes]
    for p in params:
        p.grad = torch.ones_like(p)
    adam, factor = torch.optim.Adam(params), Adafactor(params)
    adam.step()
    factor.step()
    assert measured_state_bytes(adam) == state_bytes(shapes, "adam")
    assert measured_state_bytes(factor) == state_bytes(shapes, "adafactor")
    torch_factor = torch.optim.Adafactor(clone_params(params))
    for p in torch_factor.param_groups[0]["params"]:
        p.grad = torch.ones_like(p)
    torch_factor.step()
    assert measured_state_bytes(torch_factor) == state_bytes(shapes, "adafactor")


# ## The decay schedule


def test_adam_bias_correction_is_a_time_varying_decay_rate() -> None:
    gen = torch.Generator().manual_seed(1)
    beta2, v, v_hat = 0.999, 0.0, 0.0
    for t in range(1, 300):
        g2 = torch.randn(1, generator=gen, dtype=torch.float64).item() ** 2
        v = beta2 * v + (1 - beta2) * g2
        b = adam_equivalent_beta2(t, beta2)
        v_hat = b * v_hat + (1 - b) * g2
        assert v_hat == pytest.approx(v / (1 - beta2**t), rel=1e-10)
    assert adam_equivalent_beta2(1) == 0.0


def test_c_equal_one_is_the_arithmetic_mean_and_weights_sum_to_one() -> None:
    gen = torch.Generator().manual_seed(2)
    grads = [torch.randn(6, generator=gen, dtype=torch.float64) for _ in range(50)]
    p = torch.zeros(6, dtype=torch.float64, requires_grad=True)
    opt = Adafactor([p], beta2_decay=-1.0)
    for t, g in enumerate(grads, start=1):
        p.grad = g.clone()
        opt.step()
        mean = torch.stack([x * x for x in grads[:t]]).mean(0)
        torch.testing.assert_close(opt.state[p]["variance"], mean, rtol=1e-12, atol=0)
    for c in (0.5, 0.8, 1.0):
        weights = []
        for i in range(1, 201):
            w = 1 - beta2_schedule(i, -c)
            weights = [x * beta2_schedule(i, -c) for x in weights] + [w]
        assert sum(weights) == pytest.approx(1.0, abs=1e-12)


def test_schedule_numbers_quoted_in_the_text() -> None:
    assert beta2_schedule(1) == 0.0
    assert round(beta2_schedule(2), 3) == 0.426
    assert round(beta2_schedule(100), 3) == 0.975
    t = math.ceil(1000 ** (1 / 0.8))
    assert t == 5624 and beta2_schedule(t) >= 0.999 > beta2_schedule(t - 1)
    assert round(1000 ** (1 / 0.8)) == 5623
    assert abs(adam_equivalent_beta2(5623) - 0.999) < 1e-5
    near_mean = [t for t in range(1, 100)
                 if abs((1 - adam_equivalent_beta2(t)) * t - 1) <= 0.01]
    assert near_mean == list(range(1, 21))


# ## Update clipping and the relative step


def test_clipping_caps_the_update_rms_at_d_and_first_vector_step_is_sign() -> None:
    gen = torch.Generator().manual_seed(4)
    for d in (1.0, 2.0):
        p = torch.ones(400, dtype=torch.float64, requires_grad=True)
        opt = Adafactor([p], d=d)
        for t in range(1, 40):
            scale = 100.0 if t == 30 else 1.0
            g = torch.randn(400, generator=gen, dtype=torch.float64) * scale
            before = p.detach().clone()
            rms_theta = before.norm().item() / 20
            p.grad = g.clone()
            opt.step()
            alpha = max(1e-3, rms_theta) * min(1e-2, t**-0.5)
            u = g / opt.state[p]["variance"].sqrt()
            rms_u = u.norm().item() / 20
            moved = (p.detach() - before).norm().item() / 20
            assert moved == pytest.approx(alpha * min(rms_u, d), rel=1e-9)
            if t == 1:
                torch.testing.assert_close(u, g.sign())
            if t == 30:
                assert rms_u > d  # the spike: clipping is active
            # The new G^2 enters V_t with weight t^-c: |U_t| <= t^(c/2) per coordinate.
            assert u.abs().max().item() <= t**0.4 * (1 + 1e-12)
    assert f"{1000**0.4:.1f}" == "15.8"


def test_relative_step_moves_each_matrix_by_the_same_fraction() -> None:
    gen = torch.Generator().manual_seed(5)
    big = (100 * torch.randn(30, 20, generator=gen, dtype=torch.float64)).requires_grad_()
    small = (1e-2 * torch.randn(30, 20, generator=gen, dtype=torch.float64)).requires_grad_()
    opt = Adafactor([big, small], d=1.0)
    for _ in range(1, 20):
        before = [big.detach().clone(), small.detach().clone()]
        g = torch.randn(30, 20, generator=gen, dtype=torch.float64) * 50
        big.grad, small.grad = g.clone(), g.clone()
        opt.step()
        for x, x0 in zip((big, small), before, strict=True):
            fraction = (x.detach() - x0).norm() / x0.norm()
            assert fraction.item() <= 1e-2 * (1 + 1e-12)
    # ... and a parameter starting at zero moves by eps2 * rho at most.
    z = torch.zeros(10, dtype=torch.float64, requires_grad=True)
    opt = Adafactor([z])
    z.grad = torch.ones(10, dtype=torch.float64)
    opt.step()
    torch.testing.assert_close(z.detach(), torch.full((10,), -1e-3 * 1e-2, dtype=z.dtype))
