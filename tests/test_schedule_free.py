"""Schedule-Free AdamW: parity with the authors' package, the train/eval switch, the
chapter's derivations and the numbers quoted on the page.

torch has no schedule-free optimizer; the ground truth is `schedulefree==1.4.1`, a test
dependency (its import failing fails these tests). Our optimizer follows
`AdamWScheduleFreeReference` operation for operation and is compared bitwise; the
package's default `AdamWScheduleFree` keeps x implicit and is compared to a tolerance.
"""

from __future__ import annotations

import copy
import io

import pytest
import schedulefree
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from support.optim_harness import (
    apply_step,
    assert_same_state,
    bind,
    check_complex_matches_real_view,
    check_parity,
    check_state_dict_both_ways,
    check_state_dict_transfer,
    clone_params,
    make_gradients,
    make_params,
)
from torch._dynamo.utils import counters

from labml_optim.schedule_free import (
    AdamWScheduleFree,
    anytime_curves,
    averaging_weights,
    linear_decay_lr,
    warmup_weight_sum,
    x_from_y_z,
    y_step_without_x,
)

COUNTERS = ("k", "weight_sum", "lr_max", "scheduled_lr", "train_mode")


def in_train_mode(cls, **fixed):
    """A factory whose optimizer has had `train()` called, as the package requires."""

    def build(params):
        opt = cls(params, **fixed)
        opt.train()
        return opt

    return build


def reference(**kw):
    return in_train_mode(schedulefree.AdamWScheduleFreeReference, **kw)


def ours(**kw):
    return in_train_mode(AdamWScheduleFree, **kw)


# ## Bitwise parity with AdamWScheduleFreeReference

hyper = st.fixed_dictionaries({
    "lr": st.sampled_from([1e-3, 2.5e-3, 0.1]),
    "betas": st.tuples(st.sampled_from([0.0, 0.5, 0.9]), st.sampled_from([0.9, 0.999])),
    "eps": st.sampled_from([1e-8, 1e-3]),
    "weight_decay": st.sampled_from([0.0, 0.05]),
    "warmup_steps": st.sampled_from([0, 5, 30]),
    "r": st.sampled_from([0.0, 0.5]),
    "weight_lr_power": st.sampled_from([0.0, 2.0]),
    "decay_at_z": st.booleans(),
})


def run_both(kw: dict, steps: int = 40, dtype=torch.float32):
    """Step ours and the reference on one gradient sequence; return both optimizers."""
    params = make_params(dtype=dtype)
    grads = make_gradients(params, steps)
    a, b = clone_params(params), clone_params(params)
    opt_a, opt_b = ours(**kw)(a), reference(**kw)(b)
    for t, g in enumerate(grads):
        apply_step(opt_a, a, g)
        apply_step(opt_b, b, g)
        assert_same_state(opt_a, a, opt_b, b, where=f"step {t + 1}: ")
        for ga, gb in zip(opt_a.param_groups, opt_b.param_groups, strict=True):
            assert all(ga[key] == gb[key] for key in COUNTERS), (ga, gb)
    return opt_a, a, opt_b, b


@settings(max_examples=20, deadline=None)
@given(kw=hyper)
def test_bitwise_equal_to_the_reference_float32(kw: dict) -> None:
    run_both(kw)


@settings(max_examples=5, deadline=None)
@given(kw=hyper)
def test_bitwise_equal_to_the_reference_float64(kw: dict) -> None:
    run_both(kw, dtype=torch.float64)


def test_defaults_and_eval_mode_agree_with_the_reference() -> None:
    # Same defaults; after eval() both hold x, after train() both hold y, bitwise.
    opt_a, a, opt_b, b = run_both({}, steps=20)
    opt_a.eval()
    opt_b.eval()
    assert_same_state(opt_a, a, opt_b, b, where="after eval(): ")
    opt_a.train()
    opt_b.train()
    assert_same_state(opt_a, a, opt_b, b, where="after train(): ")


def test_groups_with_their_own_hyper_parameters() -> None:
    def groups(p):
        return [{"params": p[:2], "lr": 0.05, "weight_decay": 0.1},
                {"params": p[2:], "betas": (0.5, 0.99), "warmup_steps": 4}]

    check_parity(lambda p: ours(lr=0.01)(groups(p)), lambda p: reference(lr=0.01)(groups(p)))


def test_state_dict_moves_both_ways_with_the_reference() -> None:
    kw = dict(lr=0.01, weight_decay=0.05, warmup_steps=5)
    check_state_dict_both_ways(ours(**kw), reference(**kw))
    check_state_dict_both_ways(ours(**kw), ours(**kw))


def test_lr_as_a_tensor() -> None:
    check_parity(ours(lr=torch.tensor(0.01)), reference(lr=0.01), steps=10)


# ## The package's default AdamWScheduleFree: the same method, x kept implicit


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("kw", [{}, {"lr": 0.05, "weight_decay": 0.1, "warmup_steps": 10}])
def test_close_to_the_memory_saving_default(foreach: bool, kw: dict) -> None:
    # It keeps only z and v and updates y in place; x = (y - (1 - beta1) z) / beta1 is
    # never stored. The same arithmetic in another order: 1e-5 relative over 50 steps
    # (the division by beta1 in the recovery of x amplifies rounding).
    check_parity(ours(**kw), in_train_mode(schedulefree.AdamWScheduleFree, foreach=foreach,
                                           **kw),
                 steps=50, exact=False, atol=1e-5, state_keys=("z", "exp_avg_sq"))


def default(**kw):
    return in_train_mode(schedulefree.AdamWScheduleFree, foreach=False, **kw)


def implicit(**kw):
    return ours(implicit_x=True, **kw)


@settings(max_examples=15, deadline=None)
@given(kw=hyper.filter(lambda kw: kw["betas"][0] > 0 and not kw["decay_at_z"]))
def test_implicit_x_is_bitwise_the_default(kw: dict) -> None:
    # With implicit_x=True the chapter keeps the default's layout (theta holds y; z and v
    # stored) and its order of operations: bitwise equal to its for-loop path, for the
    # parameters, z, v and the group counters.
    kw = {k: v for k, v in kw.items() if k != "decay_at_z"}
    params = make_params()
    grads = make_gradients(params, 40)
    a, b = clone_params(params), clone_params(params)
    opt_a, opt_b = implicit(**kw)(a), default(**kw)(b)
    for t, g in enumerate(grads):
        apply_step(opt_a, a, g)
        apply_step(opt_b, b, g)
        assert_same_state(opt_a, a, opt_b, b, where=f"step {t + 1}: ")
        for ga, gb in zip(opt_a.param_groups, opt_b.param_groups, strict=True):
            assert all(ga[key] == gb[key] for key in COUNTERS), (ga, gb)
    # eval() recovers x as the default does, train() puts y back: bitwise.
    for opt in (opt_a, opt_b):
        opt.eval()
    assert_same_state(opt_a, a, opt_b, b, where="after eval(): ")
    for opt in (opt_a, opt_b):
        opt.train()
    assert_same_state(opt_a, a, opt_b, b, where="after train(): ")


def test_implicit_x_float64_and_groups() -> None:
    def groups(p):
        return [{"params": p[:2], "lr": 0.05, "weight_decay": 0.1},
                {"params": p[2:], "betas": (0.5, 0.99), "warmup_steps": 4}]

    check_parity(implicit(lr=0.01), default(lr=0.01), dtype=torch.float64)
    check_parity(lambda p: implicit(lr=0.01)(groups(p)), lambda p: default(lr=0.01)(groups(p)))


def test_implicit_x_state_dict_moves_both_ways_with_the_default() -> None:
    # A state dict of the default has no implicit_x key: its state (z and v, no x) says
    # which layout it is, and the loading optimizer takes that layout.
    kw = dict(lr=0.01, weight_decay=0.05, warmup_steps=5)
    check_state_dict_both_ways(implicit(**kw), default(**kw))
    check_state_dict_transfer(default(**kw), ours(**kw))
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.ones(3)
    source = default()([p])
    source.step()
    loaded = AdamWScheduleFree([torch.nn.Parameter(torch.ones(3))])
    loaded.load_state_dict(source.state_dict())
    assert loaded.param_groups[0]["implicit_x"] is True


def test_a_state_dict_without_the_key_and_without_state_keeps_the_built_layout() -> None:
    # Saved before any step, the package's state dict shows no layout: the optimizer keeps
    # the one it was built with. A reference-layout state (x and y stored) replaces it.
    for built in (True, False):
        source = default()([torch.nn.Parameter(torch.ones(3))])
        opt = AdamWScheduleFree([torch.nn.Parameter(torch.ones(3))], implicit_x=built)
        opt.load_state_dict(source.state_dict())
        assert opt.param_groups[0]["implicit_x"] is built
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.ones(3)
    source = reference()([p])
    source.step()
    opt = AdamWScheduleFree([torch.nn.Parameter(torch.ones(3))], implicit_x=True)
    opt.load_state_dict(source.state_dict())
    assert opt.param_groups[0]["implicit_x"] is False
    # beta1 = 0 cannot keep x implicit: refused before anything loads.
    source = reference(betas=(0.0, 0.999))([torch.nn.Parameter(torch.ones(3))])
    opt = AdamWScheduleFree([torch.nn.Parameter(torch.ones(3))], implicit_x=True)
    with pytest.raises(ValueError, match=r"^implicit_x=True needs betas\[0\] > 0"):
        opt.load_state_dict(source.state_dict())
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)


def test_implicit_x_stores_z_and_v_only_and_is_close_to_the_reference() -> None:
    p = torch.nn.Parameter(torch.randn(4, 3))
    opt = AdamWScheduleFree([p], implicit_x=True)
    p.grad = torch.randn(4, 3)
    opt.step()
    assert list(opt.state[p]) == ["z", "exp_avg_sq"]
    # The same method as the reference layout: y (the parameters), z and v agree to rounding
    # (the sums are formed in another order, and the differences accumulate).
    check_parity(implicit(lr=0.05, weight_decay=0.1), reference(lr=0.05, weight_decay=0.1),
                 exact=False, atol=1e-5, state_keys=("z", "exp_avg_sq"))


def test_implicit_x_maximize_complex_and_decay_at_z() -> None:
    check_complex_matches_real_view(bind(AdamWScheduleFree)(lr=0.01, weight_decay=0.1,
                                                            implicit_x=True))
    params = make_params()
    grads = make_gradients(params, 20)
    a, b = clone_params(params), clone_params(params)
    opt_a = AdamWScheduleFree(a, maximize=True, lr=0.01, implicit_x=True)
    opt_b = AdamWScheduleFree(b, lr=0.01, implicit_x=True)
    for g in grads:
        apply_step(opt_a, a, g)
        apply_step(opt_b, b, [None if x is None else -x for x in g])
    assert_same_state(opt_a, a, opt_b, b)
    # Decay at z: u = g / (sqrt(v_hat) + eps) + lambda z, the reference's z step. Against
    # the reference layout with decay_at_z, to rounding as above.
    check_parity(implicit(lr=0.05, weight_decay=0.1, decay_at_z=True),
                 reference(lr=0.05, weight_decay=0.1, decay_at_z=True),
                 exact=False, atol=1e-5, state_keys=("z", "exp_avg_sq"))


@pytest.mark.parametrize(("kw", "error", "pattern"), [
    ({"implicit_x": 1}, TypeError, "^implicit_x must be a bool"),
    ({"implicit_x": True, "betas": (0.0, 0.999)}, ValueError,
     r"^implicit_x=True needs betas\[0\] > 0"),
])
def test_implicit_x_bad_arguments_name_themselves(kw: dict, error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        AdamWScheduleFree([torch.nn.Parameter(torch.ones(2))], **kw)
    opt = AdamWScheduleFree([torch.nn.Parameter(torch.ones(2))])
    with pytest.raises(error, match=pattern):
        opt.add_param_group({"params": [torch.nn.Parameter(torch.ones(2))], **kw})
    assert len(opt.param_groups) == 1


def test_a_layout_switched_by_hand_raises_and_changes_nothing() -> None:
    p = torch.nn.Parameter(torch.ones(3))
    opt = AdamWScheduleFree([p], lr=0.1)
    p.grad = torch.ones(3)
    opt.step()
    before = copy.deepcopy((p.detach(), opt.state_dict()))
    opt.param_groups[0]["implicit_x"] = True
    with pytest.raises(ValueError, match=r"implicit_x=True.*\['exp_avg_sq', 'x', 'y', 'z'\]"):
        opt.step()
    opt.param_groups[0]["implicit_x"] = False
    after = (p.detach(), opt.state_dict())
    assert torch.equal(before[0], after[0])
    assert before[1]["param_groups"] == after[1]["param_groups"]
    for key, value in before[1]["state"][0].items():
        assert torch.equal(after[1]["state"][0][key], value), key


def test_eval_with_x_implicit_and_beta1_zero_raises_and_changes_nothing() -> None:
    a, b = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2))
    opt = AdamWScheduleFree([{"params": [a]}, {"params": [b]}], lr=0.1, implicit_x=True)
    a.grad, b.grad = torch.ones(3), torch.ones(2)
    opt.step()
    before = (a.detach().clone(), b.detach().clone())
    opt.param_groups[1]["betas"] = (0.0, 0.999)
    with pytest.raises(ValueError, match=r"^implicit_x=True needs betas\[0\] > 0"):
        opt.eval()
    assert [g["train_mode"] for g in opt.param_groups] == [True, True]
    assert torch.equal(a.detach(), before[0]) and torch.equal(b.detach(), before[1])


def test_the_default_divides_the_callers_gradient_in_place() -> None:
    # A side effect of the package's default that this chapter and the reference avoid.
    for cls, changes in [(schedulefree.AdamWScheduleFree, True),
                         (schedulefree.AdamWScheduleFreeReference, False),
                         (AdamWScheduleFree, False)]:
        p = torch.nn.Parameter(torch.ones(3))
        opt = cls([p], lr=0.1, **({"foreach": False} if cls is schedulefree.AdamWScheduleFree
                                  else {}))
        opt.train()
        grad = torch.full((3,), 2.0)
        p.grad = grad
        opt.step()
        assert (not torch.equal(grad, torch.full((3,), 2.0))) == changes, cls


def test_the_default_starts_in_eval_mode_and_ours_in_train_mode() -> None:
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.ones(3)
    with pytest.raises(Exception, match="train mode"):
        schedulefree.AdamWScheduleFreeReference([p]).step()
    # Before any step x = y = z, so starting in train mode changes no parameter.
    opt = AdamWScheduleFree([p])
    assert opt.param_groups[0]["train_mode"] is True
    opt.step()


# ## train() and eval()


def trained(steps: int = 30, beta1: float = 0.9):
    gen = torch.Generator().manual_seed(0)
    p = torch.nn.Parameter(torch.randn(6, dtype=torch.float64, generator=gen))
    opt = AdamWScheduleFree([p], lr=0.05, betas=(beta1, 0.999))
    for _ in range(steps):
        p.grad = torch.randn(6, dtype=torch.float64, generator=gen)
        opt.step()
    return p, opt


def test_eval_puts_x_in_the_parameters_and_train_puts_y_back() -> None:
    p, opt = trained()
    state = opt.state[p]
    assert torch.equal(p.detach(), state["y"])
    assert not torch.equal(state["x"], state["y"])
    opt.eval()
    assert torch.equal(p.detach(), state["x"])
    opt.eval()  # idempotent
    assert torch.equal(p.detach(), state["x"])
    opt.train()
    opt.train()
    assert torch.equal(p.detach(), state["y"])


def test_a_step_in_eval_mode_raises_and_changes_nothing() -> None:
    # Forgetting train() after eval() would take the next gradient at x: refused.
    p, opt = trained()
    opt.eval()
    before_p, before = p.detach().clone(), copy.deepcopy(opt.state_dict())
    p.grad = torch.ones(6, dtype=torch.float64)
    with pytest.raises(RuntimeError, match=r"train\(\)"):
        opt.step()
    assert torch.equal(p.detach(), before_p)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for key, value in after["state"][0].items():
        assert torch.equal(value, before["state"][0][key])


def test_a_checkpoint_saved_without_eval_holds_y_not_x() -> None:
    # The model's own state dict holds whatever the parameters hold: save after eval().
    p, opt = trained()
    model = {"w": p}

    def save_and_reload() -> torch.Tensor:
        buffer = io.BytesIO()
        torch.save({k: v.detach().clone() for k, v in model.items()}, buffer)
        buffer.seek(0)
        return torch.load(buffer, weights_only=True)["w"]

    forgot = save_and_reload()
    assert torch.equal(forgot, opt.state[p]["y"])
    assert not torch.equal(forgot, opt.state[p]["x"])
    opt.eval()
    assert torch.equal(save_and_reload(), opt.state[p]["x"])


def test_forgetting_eval_costs_loss_in_the_figure() -> None:
    curves = anytime_curves()
    x = curves["Schedule-Free AdamW (x, after eval())"]
    y = curves["Schedule-Free AdamW (y, eval() forgotten)"]
    assert y[399] == pytest.approx(0.023, abs=5e-4)
    assert y[399] / x[399] == pytest.approx(2.2, abs=0.05)


# ## The derivations


def test_x_is_the_weighted_mean_of_the_zs() -> None:
    # x_{t+1} = sum_i w_i z_{i+1} / sum_i w_i, with warmup, r > 0 and a hand-lowered lr.
    gen = torch.Generator().manual_seed(1)
    p = torch.nn.Parameter(torch.randn(5, dtype=torch.float64, generator=gen))
    opt = AdamWScheduleFree([p], lr=0.1, warmup_steps=6, r=0.5, weight_decay=0.01)
    zs, lrs = [], []
    for t in range(1, 26):
        if t == 15:
            opt.param_groups[0]["lr"] = 0.03  # lowered by hand: w keeps the maximum rate
        p.grad = torch.randn(5, dtype=torch.float64, generator=gen)
        opt.step()
        lrs.append(float(opt.param_groups[0]["scheduled_lr"]))
        zs.append(opt.state[p]["z"].clone())
        lr_max = max(lrs)
        weights = [i**0.5 * max(lrs[:i]) ** 2 for i in range(1, t + 1)]
        mean = sum(w * z for w, z in zip(weights, zs, strict=True)) / sum(weights)
        torch.testing.assert_close(opt.state[p]["x"], mean, rtol=1e-12, atol=1e-12)
        assert float(opt.param_groups[0]["lr_max"]) == lr_max


def test_averaging_weights_helper_matches_the_optimizer() -> None:
    p = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    opt = AdamWScheduleFree([p], lr=0.2, warmup_steps=8, r=0.25)
    lrs, cs = [], []
    for _ in range(20):
        before = float(opt.param_groups[0]["weight_sum"])
        p.grad = torch.ones(2, dtype=torch.float64)
        opt.step()
        group = opt.param_groups[0]
        lrs.append(float(group["scheduled_lr"]))
        cs.append((float(group["weight_sum"]) - before) / float(group["weight_sum"]))
    assert averaging_weights(lrs, r=0.25) == pytest.approx(cs, rel=1e-12)
    # Equal weights (no warmup, r = 0) give the running mean, c_{t+1} = 1/t.
    assert averaging_weights([0.1] * 10) == pytest.approx([1 / t for t in range(1, 11)])


@pytest.mark.parametrize("warmup", [1, 2, 10, 1000])
def test_the_warmup_counts_about_a_third(warmup: int) -> None:
    direct = sum((t / warmup) ** 2 for t in range(1, warmup + 1))
    assert warmup_weight_sum(warmup) == pytest.approx(direct, rel=1e-12)
    # ... against (W + 1) / 2 for weights linear in the rate,
    assert sum(t / warmup for t in range(1, warmup + 1)) == pytest.approx((warmup + 1) / 2)
    if warmup >= 1000:
        # (W + 1)(2W + 1)/(6W^2) = 1/3 + 1/(2W) + 1/(6W^2)
        third = 1 / 3 + 1 / (2 * warmup)
        assert warmup_weight_sum(warmup) / warmup == pytest.approx(third, rel=1e-6)
    # ... and the optimizer's own weight sum after the warmup says the same in lr^2 units.
    if warmup <= 10:
        p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        opt = AdamWScheduleFree([p], lr=0.5, warmup_steps=warmup)
        for _ in range(warmup):
            p.grad = torch.ones(1, dtype=torch.float64)
            opt.step()
        assert float(opt.param_groups[0]["weight_sum"]) / 0.5**2 == pytest.approx(direct, rel=1e-12)


@pytest.mark.parametrize("beta1", [0.5, 0.9, 0.98])
def test_x_is_recoverable_from_y_and_z(beta1: float) -> None:
    p, opt = trained(beta1=beta1)
    state = opt.state[p]
    torch.testing.assert_close(x_from_y_z(state["y"], state["z"], beta1), state["x"],
                               rtol=1e-12, atol=1e-12)


def test_beta1_zero_takes_the_gradient_at_z() -> None:
    p, opt = trained(beta1=0.0)
    assert torch.equal(opt.state[p]["y"], opt.state[p]["z"])


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_the_update_without_x_is_the_same_algebra(weight_decay: float) -> None:
    # y_{t+1} = (1 - c) y_t + c z_t - lr (1 - beta1 (1 - c)) u_t, step after step.
    gen = torch.Generator().manual_seed(2)
    p = torch.nn.Parameter(torch.randn(7, dtype=torch.float64, generator=gen))
    beta1, lr = 0.9, 0.05
    opt = AdamWScheduleFree([p], lr=lr, betas=(beta1, 0.99), weight_decay=weight_decay,
                            warmup_steps=3)
    y, z = p.detach().clone(), p.detach().clone()
    v = torch.zeros(7, dtype=torch.float64)
    for t in range(1, 21):
        g = torch.randn(7, dtype=torch.float64, generator=gen)
        weight_sum = float(opt.param_groups[0]["weight_sum"])
        p.grad = g
        opt.step()
        group = opt.param_groups[0]
        c = (float(group["weight_sum"]) - weight_sum) / float(group["weight_sum"])
        v = 0.99 * v + 0.01 * g * g
        u = g / ((v / (1 - 0.99**t)).sqrt() + 1e-8) + weight_decay * y
        y, z = y_step_without_x(y, z, u, lr=float(group["scheduled_lr"]), ckp1=c, beta1=beta1)
        torch.testing.assert_close(y, p.detach(), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(z, opt.state[p]["z"], rtol=1e-12, atol=1e-12)


def test_primal_averaging_is_momentum_with_a_decaying_rate() -> None:
    # beta1 -> 1 (gradient at the average), SGD for z, c_{t+1} = 1/t: x follows heavy ball
    # with coefficient (t - 2)/t and rate gamma/t (t >= 2). Quadratic f(x) = x^T A x / 2.
    gen = torch.Generator().manual_seed(3)
    a = torch.randn(4, 4, dtype=torch.float64, generator=gen)
    a = a @ a.T / 4 + torch.eye(4, dtype=torch.float64)
    gamma = 0.3
    x = z = torch.randn(4, dtype=torch.float64, generator=gen)
    hb, hb_prev = x.clone(), x.clone()
    for t in range(1, 60):
        g = a @ x
        z = z - gamma * g
        x = (1 - 1 / t) * x + (1 / t) * z
        g_hb = a @ hb
        momentum = (t - 2) / t if t >= 2 else 0.0
        hb, hb_prev = hb + momentum * (hb - hb_prev) - gamma / t * g_hb, hb
        torch.testing.assert_close(hb, x, rtol=1e-10, atol=1e-12)


# ## The anytime comparison quoted on the page


def test_the_numbers_quoted_for_the_figure() -> None:
    c = anytime_curves()
    sf = c["Schedule-Free AdamW (x, after eval())"]
    plan100, plan400 = c["AdamW, linear decay to 100"], c["AdamW, linear decay to 400"]
    constant = c["AdamW, constant"]
    quoted = {(id(plan100), 100): 0.037, (id(plan400), 100): 0.153,
              (id(plan400), 400): 0.014, (id(sf), 100): 0.088, (id(sf), 400): 0.010,
              (id(constant), 100): 0.195, (id(constant), 400): 0.120}
    for curve in (plan100, plan400, sf, constant):
        for step in (100, 400):
            if (id(curve), step) in quoted:
                assert curve[step - 1] == pytest.approx(quoted[(id(curve), step)], abs=5e-4)
    # The 100-step plan's rate is zero from step 101 on: its loss is frozen.
    assert linear_decay_lr(0.1, 101, 100) == 0.0 and plan100[399] == plan100[99]
    assert sf[99] / plan100[99] == pytest.approx(2.4, abs=0.05)
    # Between the plans at 100, the best at 400, better than the constant rate at both.
    assert plan100[99] < sf[99] < plan400[99]
    assert sf[399] < min(plan100[399], plan400[399], constant[399])
    assert sf[99] < constant[99]


# ## torch.optim behaviour


def test_maximize_is_minimizing_the_negation() -> None:
    params = make_params()
    grads = make_gradients(params, 20)
    a, b = clone_params(params), clone_params(params)
    opt_a, opt_b = AdamWScheduleFree(a, maximize=True, lr=0.01), AdamWScheduleFree(b, lr=0.01)
    for g in grads:
        apply_step(opt_a, a, g)
        apply_step(opt_b, b, [None if x is None else -x for x in g])
    assert_same_state(opt_a, a, opt_b, b)


def test_complex_parameters_are_their_real_view() -> None:
    check_complex_matches_real_view(bind(AdamWScheduleFree)(lr=0.01, weight_decay=0.1))


def test_a_sparse_gradient_anywhere_changes_nothing() -> None:
    dense, sparse = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(4, 2))
    opt = AdamWScheduleFree([{"params": [dense]}, {"params": [sparse]}], lr=0.1)
    dense.grad = torch.ones(3)
    sparse.grad = torch.sparse_coo_tensor([[1, 3]], torch.ones(2, 2), (4, 2))
    groups_before = copy.deepcopy(opt.state_dict()["param_groups"])
    with pytest.raises(RuntimeError, match="AdamWScheduleFree.*sparse"):
        opt.step()
    assert torch.equal(dense.detach(), torch.ones(3)) and len(opt.state) == 0
    assert opt.state_dict()["param_groups"] == groups_before


@pytest.mark.parametrize(("kw", "pattern"), [
    ({"lr": -1.0}, "^lr"), ({"eps": -1.0}, "^eps"), ({"weight_decay": -1.0}, "^weight_decay"),
    ({"warmup_steps": -1}, "^warmup_steps"), ({"warmup_steps": 2.5}, "^warmup_steps"),
    ({"r": -1.0}, "^r "), ({"weight_lr_power": -2.0}, "^weight_lr_power"),
    ({"betas": (1.0, 0.9)}, r"^betas\[0\]"), ({"betas": (0.9, 1.0)}, r"^betas\[1\]"),
    ({"betas": (0.9,)}, "^betas"), ({"foreach": True}, "^foreach"),
])
def test_bad_arguments_name_themselves(kw: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        AdamWScheduleFree([torch.nn.Parameter(torch.ones(2))], **kw)


def test_compiled_step_equals_eager() -> None:
    # fullgraph=True: any graph break inside the step is an error. The counters k,
    # weight_sum, lr_max are tensors updated in place, so after the first two calls (the
    # first creates the state) nothing is compiled again. Inductor fuses the
    # interpolations and multiplies by the tensor c_{t+1} where eager adds with
    # `alpha=c`, so rounding may differ by an ulp or two: 1e-6.
    torch._dynamo.reset()
    counters.clear()
    kw = dict(lr=0.01, weight_decay=0.1, warmup_steps=3)
    params = [p for p in make_params() if p.numel()][:2]
    # Every parameter has a gradient at every step: a state created late would (rightly)
    # compile the step once more.
    grads = [[torch.randn_like(p) for p in params] for _ in range(8)]
    a, b = clone_params(params), clone_params(params)
    eager, compiled = AdamWScheduleFree(a, **kw), AdamWScheduleFree(b, **kw)
    step = torch.compile(compiled.step, fullgraph=True)
    graphs = []
    for g in grads:
        for pa, pb, gi in zip(a, b, g, strict=True):
            pa.grad = None if gi is None else gi.clone()
            pb.grad = None if gi is None else gi.clone()
        eager.step()
        step()
        graphs.append(counters["stats"]["unique_graphs"])
        assert_same_state(eager, a, compiled, b, exact=False, atol=1e-6)
        # The counters themselves are exact: the same double-precision arithmetic.
        for key in ("k", "weight_sum", "lr_max", "scheduled_lr"):
            assert torch.equal(compiled.param_groups[0][key], eager.param_groups[0][key]), key
    assert graphs[1] == graphs[-1], graphs
    assert compiled.state_dict()["param_groups"] == eager.state_dict()["param_groups"]


def test_a_checkpoint_taken_in_eval_mode_resumes_exactly() -> None:
    # Save the model (holding x) and the optimizer (x, y, z, mode) after eval(); a fresh
    # model and optimizer load both, train() puts y back, and training continues the same.
    gen = torch.Generator().manual_seed(4)
    grads = [torch.randn(5, dtype=torch.float64, generator=gen) for _ in range(20)]
    p = torch.nn.Parameter(torch.randn(5, dtype=torch.float64, generator=gen))
    opt = AdamWScheduleFree([p], lr=0.05, warmup_steps=3, weight_decay=0.01)
    for g in grads[:10]:
        p.grad = g.clone()
        opt.step()
    opt.eval()
    buffer = io.BytesIO()
    torch.save({"model": p.detach().clone(), "opt": opt.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    q = torch.nn.Parameter(saved["model"].clone())
    fresh = AdamWScheduleFree([q])
    fresh.load_state_dict(saved["opt"])
    assert torch.equal(q.detach(), opt.state[p]["x"])
    for o in (opt, fresh):
        o.train()
    for g in grads[10:]:
        p.grad, q.grad = g.clone(), g.clone()
        opt.step()
        fresh.step()
        assert_same_state(opt, [p], fresh, [q])


def test_counters_are_tensors_in_the_groups_and_numbers_in_the_state_dict() -> None:
    # Live: one float64 tensor per counter and group (never shared between groups, which
    # would advance a counter twice per step); saved: the reference's plain numbers.
    p, q = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(3))
    opt = AdamWScheduleFree([{"params": [p]}], lr=0.1, warmup_steps=2)
    opt.add_param_group({"params": [q], "lr": 0.2})
    for _ in range(3):
        p.grad, q.grad = torch.ones(2), torch.ones(3)
        opt.step()
    seen = set()
    for group in opt.param_groups:
        for key in ("k", "weight_sum", "lr_max", "scheduled_lr"):
            value = group[key]
            assert isinstance(value, torch.Tensor) and value.dtype == torch.float64, key
            assert id(value) not in seen
            seen.add(id(value))
    saved = opt.state_dict()["param_groups"]
    assert [g["k"] for g in saved] == [3, 3] and all(type(g["k"]) is int for g in saved)
    assert saved[1]["lr_max"] == 0.2 and saved[1]["weight_sum"] == pytest.approx(
        0.1**2 + 0.2**2 + 0.2**2)
    assert all(type(g[k]) is float for g in saved for k in ("weight_sum", "lr_max",
                                                             "scheduled_lr"))


@pytest.mark.parametrize("as_saved", ["numbers", "0-d tensors"])
def test_a_state_dict_with_other_counter_types_loads_and_steps_the_same(as_saved: str) -> None:
    # The reference's (and this chapter's older) state dicts hold numbers; one written by
    # hand may hold 0-d tensors. Either loads into tensors of the live format, and the next
    # steps are bitwise those of the optimizer that saved it.
    params = make_params()
    grads = make_gradients(params, 12)
    a = clone_params(params)
    opt = AdamWScheduleFree(a, lr=0.01, warmup_steps=4)
    for g in grads[:6]:
        apply_step(opt, a, g)
    saved = copy.deepcopy(opt.state_dict())
    if as_saved == "0-d tensors":
        for group in saved["param_groups"]:
            for key in ("k", "weight_sum", "lr_max", "scheduled_lr"):
                group[key] = torch.tensor(float(group[key]), dtype=torch.float64)
    b = clone_params(a)
    fresh = AdamWScheduleFree(b)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["k"].shape == (1,)
    for g in grads[6:]:
        apply_step(opt, a, g)
        apply_step(fresh, b, g)
        assert_same_state(opt, a, fresh, b)
