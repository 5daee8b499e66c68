"""AMSGrad: moving to and from torch's Adam, the two maxima, the counterexamples, labml_nn.

Parity with torch.optim.Adam(amsgrad=True) is in test_parity.py, with every chapter that
has a torch twin.
"""

from __future__ import annotations

import math

import pytest
import torch
from support.optim_harness import (
    apply_step,
    clone_params,
    make_gradients,
    make_params,
)

from labml_optim.adam import Adam
from labml_optim.amsgrad import AMSGrad, counterexample_gradient, run_counterexample


def test_loaded_into_torch_adam_it_stays_amsgrad() -> None:
    p = torch.nn.Parameter(torch.ones(3))
    opt = AMSGrad([p])
    p.grad = torch.ones(3)
    opt.step()
    theirs = torch.optim.Adam([torch.nn.Parameter(torch.ones(3))])
    theirs.load_state_dict(opt.state_dict())
    assert theirs.param_groups[0]["amsgrad"] is True
    # and a plain-Adam state dict resumes under AMSGrad, the maximum starting from v
    plain = torch.optim.Adam([p])
    plain.step()
    resumed = AMSGrad([p])
    resumed.load_state_dict(plain.state_dict())
    assert resumed.param_groups[0]["amsgrad"] is True
    assert resumed.param_groups[0]["max_of"] == "raw"
    p.grad = torch.ones(3)
    resumed.step()
    assert torch.equal(resumed.state[p]["max_exp_avg_sq"], resumed.state[p]["exp_avg_sq"])


def test_bad_max_of_is_refused() -> None:
    with pytest.raises(ValueError, match="^max_of"):
        AMSGrad([torch.nn.Parameter(torch.ones(2))], max_of="paper")


# ## The two maxima against their formulas


def reference_amsgrad(grads, *, lr, beta1, beta2, eps, max_of):
    """A float64 AMSGrad written from the formulas, returning the parameter after each step."""
    theta, m, v, vmax, out = 0.0, 0.0, 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        if max_of == "raw":
            vmax = max(vmax, v)
            denom = math.sqrt(vmax) / math.sqrt(1 - beta2**t) + eps
        else:
            vmax = max(vmax, v / (1 - beta2**t))
            denom = math.sqrt(vmax) + eps
        theta -= lr / (1 - beta1**t) * m / denom
        out.append(theta)
    return out


@pytest.mark.parametrize("max_of", ["raw", "corrected"])
def test_maxima_match_their_formulas(max_of: str) -> None:
    gen = torch.Generator().manual_seed(2)
    # A large first gradient, then smaller ones: where the two maxima differ most.
    grads = [20.0] + (torch.randn(300, generator=gen, dtype=torch.float64)).tolist()
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = AMSGrad([p], lr=0.01, betas=(0.9, 0.999), max_of=max_of)
    history, vs = [], []
    for g in grads:
        p.grad = torch.tensor([g], dtype=torch.float64)
        opt.step()
        history.append(p.item())
        vs.append(opt.state[p]["exp_avg_sq"].item())
    expected = reference_amsgrad(grads, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, max_of=max_of)
    assert history == pytest.approx(expected, rel=1e-10, abs=1e-13)
    stored = opt.state[p]["max_exp_avg_sq"].item()
    if max_of == "raw":
        assert stored == max(vs)
    else:
        assert stored == pytest.approx(max(v / (1 - 0.999**s) for s, v in enumerate(vs, 1)))
        # the first gradient's square, a one-sample estimate, is the maximum for good
        assert stored == pytest.approx(400.0)


def test_corrected_denominator_is_never_smaller() -> None:
    gen = torch.Generator().manual_seed(4)
    grads = [20.0] + (torch.randn(300, generator=gen, dtype=torch.float64)).tolist()
    raw = reference_amsgrad(grads, lr=0.01, beta1=0.0, beta2=0.999, eps=0.0, max_of="raw")
    cor = reference_amsgrad(grads, lr=0.01, beta1=0.0, beta2=0.999, eps=0.0, max_of="corrected")
    steps_raw = [abs(b - a) for a, b in zip([0.0] + raw, raw, strict=False)]
    steps_cor = [abs(b - a) for a, b in zip([0.0] + cor, cor, strict=False)]
    assert all(c <= r * (1 + 1e-12) for r, c in zip(steps_raw, steps_cor, strict=True))
    # After a large first gradient the corrected variant moves far less: the raw maximum's
    # share of g_1^2 has shrunk towards (1 - beta2) g_1^2, the corrected one keeps g_1^2.
    assert sum(steps_cor[100:]) < 0.2 * sum(steps_raw[100:])


# ## The counterexamples


def test_counterexample_gradients() -> None:
    assert [counterexample_gradient(t) for t in range(1, 7)] == [3.0, -1.0, -1.0] * 2
    period = [counterexample_gradient(t, 101, 1010.0, 10.0) for t in range(1, 102)]
    assert period[0] == 1010.0 and set(period[1:]) == {-10.0} and sum(period) == 10.0


@pytest.fixture(scope="module")
def runs():
    steps = 3000
    return {
        "adam": run_counterexample(torch.optim.Adam, steps),
        "ours_adam": run_counterexample(Adam, steps),
        "amsgrad": run_counterexample(AMSGrad, steps),
        "adam_999": run_counterexample(torch.optim.Adam, steps, beta2_101=0.999),
    }


def tail_mean(path: list[float], n: int) -> float:
    return sum(path[-n:]) / n


def test_adam_goes_to_the_worst_point_and_amsgrad_to_the_optimum(runs) -> None:
    c = 3.0
    adam3, adam101, adam_regret = runs["adam"]
    ams3, ams101, ams_regret = runs["amsgrad"]
    assert tail_mean(adam3, 300) > 0.98
    assert tail_mean(ams3, 300) < -0.98
    # Average regret: about 2(C - 2)/3 for Adam (x near +1), near 0 for AMSGrad.
    assert adam_regret > 0.9 * 2 * (c - 2) / 3
    assert ams_regret < 0.05
    # With momentum, the 101-step problem: Adam with beta2 = 0.99 goes up, AMSGrad down.
    assert tail_mean(adam101, 101) > 0.8
    assert tail_mean(ams101, 101) < -0.5
    # beta2 = 0.999 remembers the large gradient over ten periods: Adam is not broken.
    assert tail_mean(runs["adam_999"][1], 101) < -0.2
    # Our Adam chapter is torch's Adam here too.
    assert runs["ours_adam"][0] == adam3 and runs["ours_adam"][1] == adam101


def test_drift_bounds_of_the_derivation() -> None:
    # Without projection, every step on C moves down by at most alpha_t sqrt(1+C^2)/C and
    # every step on -1 moves up by at least alpha_t sqrt(1+C^2)/(sqrt(2) C).
    for c in (2.5, 3.0, 6.0):
        beta2, alpha = 1 / (1 + c * c), 0.5
        x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([x], lr=alpha, betas=(0.0, beta2), eps=0.0)
        scale = math.sqrt(1 + c * c) / c
        net = 0.0
        for t in range(1, 600):
            before = x.item()
            opt.param_groups[0]["lr"] = alpha / math.sqrt(t)
            g = counterexample_gradient(t, 3, c, 1.0)
            x.grad = torch.tensor([g], dtype=torch.float64)
            opt.step()
            delta = x.item() - before
            alpha_t = alpha / math.sqrt(t)
            if g > 0:
                assert -delta <= alpha_t * scale * (1 + 1e-12)
            elif t > 10:  # once the bias correction 1 - beta2^t is 1 to double precision
                assert delta >= alpha_t * scale / math.sqrt(2) * (1 - 1e-12)
            net += delta
        assert net > 0


# ## labml_nn's AMSGrad


def test_labml_nn_amsgrad_is_the_raw_variant_up_to_rounding() -> None:
    from labml_nn.optimizers import WeightDecay
    from labml_nn.optimizers.amsgrad import AMSGrad as LabmlAMSGrad

    params = make_params()
    grads = make_gradients(params, 50, scale=0.1)

    def run(factory):
        ps = clone_params(params)
        opt = factory(ps)
        for g in grads:
            apply_step(opt, ps, g)
        return ps

    theirs = run(lambda p: LabmlAMSGrad(p, lr=0.01, eps=1e-8, optimized_update=False,
                                        weight_decay=WeightDecay(0.0)))
    raw = run(lambda p: AMSGrad(p, lr=0.01))
    corrected = run(lambda p: AMSGrad(p, lr=0.01, max_of="corrected"))

    def gap(a, b):
        return max((x - y).abs().max().item() for x, y in zip(a, b, strict=True) if x.numel())

    # Agrees with the raw (torch) maximum up to the first moment's rounding
    # (mul_().add_() against lerp_), and is clearly not the corrected one.
    assert 0 < gap(theirs, raw) < 1e-5
    assert gap(theirs, corrected) > 1e-3
    # Its default (optimized_update=True, eps=1e-16) puts eps before the bias correction;
    # with a realistic eps the two placements differ measurably for small gradients.
    tiny = [[None if g is None else g * 1e-6 for g in step] for step in grads]
    params_a, params_b = clone_params(params), clone_params(params)
    opt_a = LabmlAMSGrad(params_a, lr=0.01, eps=1e-8, weight_decay=WeightDecay(0.0))
    opt_b = AMSGrad(params_b, lr=0.01, eps=1e-8)
    for g in tiny:
        apply_step(opt_a, params_a, g)
        apply_step(opt_b, params_b, g)
    assert gap(params_a, params_b) > 1e-4
