"""The experiment pages: every quick run works, the committed results are full and valid,
the figures draw from them, and the numbers the pages quote are read from them here.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch
from support.chapters import PACKAGE, chapter_names

from labml_optim.experiments import _common
from labml_optim.literate import read_front_matter

EXPERIMENTS_DIR = PACKAGE / "experiments"
EXPERIMENTS = sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.py") if not p.stem.startswith("_"))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def experiment(name: str) -> ModuleType:
    return importlib.import_module(f"labml_optim.experiments.{name}")


def committed(name: str) -> dict:
    return _common.load_results(_common.results_path(name))


def test_there_are_experiments() -> None:
    assert {"radam_variance", "trajectories"} <= set(EXPERIMENTS)


# ## Every experiment


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_front_matter(name: str) -> None:
    meta, _ = read_front_matter((EXPERIMENTS_DIR / f"{name}.py").read_text(encoding="utf-8"))
    assert meta.get("group") == "Experiments"
    assert float(meta["order"]) >= 500
    assert meta.get("title") and meta.get("summary")


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_module_shape(name: str) -> None:
    module = experiment(name)
    assert module.NAME == name
    for attr in ("FULL", "QUICK", "run", "draw", "main"):
        assert hasattr(module, attr), attr
    assert "mode" not in module.FULL and "mode" not in module.QUICK


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_quick_run_validates_and_draws(name: str, tmp_path: Path) -> None:
    out = tmp_path / "quick.json"
    experiment(name).main(["--quick", "--results", str(out), "--no-show"])
    results = json.loads(out.read_text(encoding="utf-8"))
    _common.validate(results)
    assert results["experiment"] == name
    assert results["config"]["mode"] == "quick"
    assert results["config"] == {**experiment(name).QUICK, "mode": "quick"}
    png = tmp_path / "quick.png"
    experiment(name).main(["--save", str(png), "--results", str(out)])
    assert png.read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_committed_results_are_full_and_current(name: str) -> None:
    results = committed(name)
    assert results["experiment"] == name
    assert results["config"]["mode"] == "full"
    # The committed results were made with the configuration the code now holds.
    assert results["config"] == {**experiment(name).FULL, "mode": "full"}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_figure_draws_from_committed_results(name: str, tmp_path: Path) -> None:
    png = tmp_path / f"{name}.png"
    experiment(name).main(["--save", str(png)])
    assert png.read_bytes()[:8] == PNG_MAGIC


def test_command_line_save_only_draws(tmp_path: Path) -> None:
    """`python -m ... --save` draws from the committed results (what the site build runs)."""
    png = tmp_path / "fig.png"
    before = _common.results_path("radam_variance").read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "labml_optim.experiments.radam_variance", "--save", str(png)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert _common.results_path("radam_variance").read_bytes() == before


def test_quick_never_overwrites_committed_results() -> None:
    path = _common.results_path("radam_variance")
    before = path.read_bytes()
    with pytest.raises(SystemExit):
        experiment("radam_variance").main(["--quick", "--results", str(path), "--no-show"])
    assert path.read_bytes() == before


# ## The results schema


def _good() -> dict:
    run = _common.new_run("a", 0, lr=0.1)
    _common.record(run, "loss", 1, 2.0)
    _common.record(run, "loss", 2, float("nan"))
    return {"schema": _common.SCHEMA_VERSION, "experiment": "x", "config": {"mode": "quick"},
            "torch_version": "2", "python_version": "3", "platform": "p", "wall_time_s": 1.0,
            "runs": [run]}


BREAKAGES = {
    "no runs": lambda r: r.update(runs=[]),
    "missing torch version": lambda r: r.pop("torch_version"),
    "bad mode": lambda r: r["config"].update(mode="medium"),
    "negative wall time": lambda r: r.update(wall_time_s=-1.0),
    "steps not increasing": lambda r: r["runs"][0]["metrics"]["loss"].update(steps=[2, 1]),
    "lengths differ": lambda r: r["runs"][0]["metrics"]["loss"]["values"].append(1.0),
    "NaN value": lambda r: r["runs"][0]["metrics"]["loss"].update(values=[1.0, math.nan]),
    "seed not int": lambda r: r["runs"][0].update(seed="0"),
    "empty metrics": lambda r: r["runs"][0].update(metrics={}),
}


def test_schema_accepts_a_good_file(tmp_path: Path) -> None:
    good = _good()
    assert good["runs"][0]["metrics"]["loss"]["values"] == [2.0, None]  # NaN stored as null
    _common.write_results(tmp_path / "r.json", good)
    assert _common.load_results(tmp_path / "r.json") == good


@pytest.mark.parametrize("breakage", BREAKAGES, ids=list(BREAKAGES))
def test_schema_rejects(breakage: str) -> None:
    bad = copy.deepcopy(_good())
    BREAKAGES[breakage](bad)
    with pytest.raises(ValueError, match="results"):
        _common.validate(bad)


def test_stdlib_corpus_is_fixed_and_sized() -> None:
    a = _common.stdlib_corpus(10_000)
    assert len(a) == 10_000 and a == _common.stdlib_corpus(10_000)
    assert b"def " in a


# ## RAdam: the variance of the adaptive rate


def _variance(name: str, metric: str, mean: float) -> dict[int, list[float]]:
    """Step -> the values of every seed, for one gradient mean, unscaled."""
    out: dict[int, list[float]] = {}
    for run in committed(name)["runs"]:
        if run["settings"]["mean"] == mean:
            steps, values = _common.series(run, metric)
            for t, v in zip(steps, values, strict=True):
                out.setdefault(t, []).append(v)
    return out


def test_radam_variance_first_steps_are_unstable_across_seeds() -> None:
    """The page: at t = 1 the sample variance differs by orders of magnitude between seeds."""
    first = _variance("radam_variance", "var_psi", 0.0)[1]
    assert max(first) / min(first) > 100
    assert min(first) > 1e4


def test_radam_variance_follows_the_exact_form_early() -> None:
    """The page: from t = 3 to ~100 the EMA's variance is within 5% of the exact SMA form."""
    from labml_optim.radam import psi_variance_exact, psi_variance_first_order, sma_length

    measured = _variance("radam_variance", "var_psi", 0.0)
    beta2 = committed("radam_variance")["config"]["beta2"]
    for t in (3, 5, 6, 10, 30, 37, 89):
        exact = psi_variance_exact(sma_length(t, beta2))
        for value in measured[t]:
            assert 0.94 < value / exact < 1.05, (t, value, exact)
    # ...and the first-order form overestimates it by the chapter's factors.
    for t, factor in ((5, 3.3), (6, 2.15), (10, 1.38)):
        for value in measured[t]:
            ratio = psi_variance_first_order(sma_length(t, beta2)) / value
            assert ratio == pytest.approx(factor, rel=0.06), t


def test_radam_variance_rectified_rate_is_not_flat() -> None:
    """The page: Var[r_t psi_t] / target is ~0.47 at t = 6, ~0.72 at 10, ~0.92 at 30."""
    from labml_optim.radam import psi_variance_first_order

    beta2 = committed("radam_variance")["config"]["beta2"]
    target = psi_variance_first_order(2 / (1 - beta2) - 1)
    rect = _variance("radam_variance", "var_rpsi", 0.0)
    for t, expected in ((6, 0.47), (10, 0.72), (30, 0.92)):
        for value in rect[t]:
            assert value / target == pytest.approx(expected, abs=0.03), t


def test_radam_variance_dip_at_2000_is_the_effective_sample_count() -> None:
    """The page: at t = 2000 the variance is rho_t / n_t = 0.90 of the form at rho_t."""
    from labml_optim.experiments.radam_variance import ema_effective_samples
    from labml_optim.radam import psi_variance_exact, psi_variance_first_order, sma_length

    beta2 = committed("radam_variance")["config"]["beta2"]
    last = committed("radam_variance")["config"]["steps"]
    ratio = sma_length(last, beta2) / ema_effective_samples(last, beta2)
    assert ratio == pytest.approx(0.902, abs=0.001)
    target = psi_variance_first_order(2 / (1 - beta2) - 1)
    for value in _variance("radam_variance", "var_psi", 0.0)[last]:
        assert value / psi_variance_exact(sma_length(last, beta2)) == pytest.approx(ratio, abs=0.02)
    for value in _variance("radam_variance", "var_rpsi", 0.0)[last]:
        assert value / target == pytest.approx(ratio, abs=0.02)


def test_radam_variance_rectified_follows_the_effective_sample_count() -> None:
    """The page's dotted curve: r_t^2 Var_exact(n_t) tracks the measured mu = 0 curve."""
    from labml_optim.experiments.radam_variance import ema_effective_samples
    from labml_optim.radam import psi_variance_exact, rectification, sma_length

    beta2 = committed("radam_variance")["config"]["beta2"]
    rho_inf = 2 / (1 - beta2) - 1
    for t, values in _variance("radam_variance", "var_rpsi", 0.0).items():
        predicted = (rectification(sma_length(t, beta2), rho_inf) ** 2
                     * psi_variance_exact(ema_effective_samples(t, beta2)))
        assert 0.95 < sorted(values)[1] / predicted < 1.05, t


@pytest.mark.parametrize("t", [1, 2, 6, 100, 2000])
def test_radam_variance_effective_samples_formula(t: int) -> None:
    """n_t in closed form equals 1 / sum of the squared bias-corrected EMA weights."""
    from labml_optim.experiments.radam_variance import ema_effective_samples

    beta2 = 0.999
    weights = [(1 - beta2) * beta2**a / (1 - beta2**t) for a in range(t)]
    assert ema_effective_samples(t, beta2) == pytest.approx(1 / sum(w * w for w in weights),
                                                            rel=1e-9)


@pytest.mark.parametrize("mean", [0.5, 1.0, 2.0])
def test_radam_variance_with_a_mean_matches_the_delta_method(mean: float) -> None:
    """The page: within 1-10% of the delta method on v-hat at t = 37..89."""
    from labml_optim.experiments.radam_variance import delta_method_scaled
    from labml_optim.radam import sma_length

    beta2 = committed("radam_variance")["config"]["beta2"]
    measured = _variance("radam_variance", "var_psi", mean)
    for t in (37, 89):
        predicted = delta_method_scaled(sma_length(t, beta2), mean) / (mean**2 + 1)
        for value in measured[t]:
            assert 0.99 < value / predicted < 1.12, (t, value / predicted)


def test_radam_variance_delta_method_reduces_to_the_chapter() -> None:
    """For mu = 0 the page's formula is 1/(2 rho), the large-rho limit of section 6."""
    from labml_optim.experiments.radam_variance import delta_method_scaled
    from labml_optim.radam import psi_variance_first_order

    assert delta_method_scaled(1e6, 0.0) == pytest.approx(psi_variance_first_order(1e6), 1e-5)
    assert delta_method_scaled(50, 1.0) / delta_method_scaled(50, 0.0) == pytest.approx(0.75)
    assert delta_method_scaled(50, 2.0) / delta_method_scaled(50, 0.0) == pytest.approx(0.36)


# ## Trajectories


def test_trajectories_cover_every_optimizer_chapter() -> None:
    from labml_optim.experiments.trajectories import LEFT_OUT, OPTIMIZERS

    covered = {f"{module}.{cls}" for _, module, cls, _ in OPTIMIZERS}
    for name in chapter_names():
        module = importlib.import_module(f"labml_optim.{name}")
        for cls_name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, torch.optim.Optimizer) and obj.__module__ == module.__name__:
                key = f"{name}.{cls_name}"
                assert key in covered or key in LEFT_OUT, f"{key} missing from the gallery"
    results = committed("trajectories")
    assert {r["settings"]["optimizer"] for r in results["runs"]} == {o[0] for o in OPTIMIZERS}


@pytest.mark.parametrize("problem", ["rosenbrock", "noisy quadratic"])
def test_trajectories_hand_gradients_match_autograd(problem: str) -> None:
    from labml_optim.experiments.trajectories import PROBLEMS

    spec = PROBLEMS[problem]
    for point in ((-1.5, 2.0), (0.3, -0.7), (1.0, 1.0)):
        p = torch.tensor(point, dtype=torch.float64, requires_grad=True)
        spec["loss"](p).backward()
        assert p.grad.tolist() == pytest.approx(spec["grad"](*point), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("problem", ["rosenbrock", "noisy quadratic"])
def test_trajectories_hand_hessian_diagonals_match_autograd(problem: str) -> None:
    """Sophia-G's curvature refreshes use these diagonals."""
    from labml_optim.experiments.trajectories import PROBLEMS

    spec = PROBLEMS[problem]
    for point in ((-1.5, 2.0), (0.3, -0.7), (1.0, 1.0)):
        p = torch.tensor(point, dtype=torch.float64)
        hessian = torch.autograd.functional.hessian(spec["loss"], p)
        assert hessian.diagonal().tolist() == pytest.approx(spec["hessian_diagonal"](*point),
                                                            rel=1e-12, abs=1e-12)


def test_trajectories_muon_on_a_point_is_a_fixed_length_step() -> None:
    """The page: Muon on a 1x2 matrix steps about lr whatever |g|; the band is 0.68..1.20."""
    from labml_optim.muon import NS_COEFFICIENTS, Muon, quintic_band

    low, high = quintic_band(NS_COEFFICIENTS)
    assert (round(low, 2), round(high, 2)) == (0.68, 1.20)
    for scale in (1e-3, 1.0, 1e3):
        p = torch.zeros(1, 2, dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor([[3.0, -1.0]], dtype=torch.float64) * scale
        Muon([p], lr=0.1, weight_decay=0.0).step()
        assert 0.1 * 0.6 < p.detach().norm().item() < 0.1 * 1.25


def test_trajectories_adamax_running_maximum_quoted() -> None:
    """The page: Adamax's u_600 on Rosenbrock at lr 0.1 is at least 0.999^600 * 155 = 85."""
    from labml_optim.adamax import Adamax
    from labml_optim.experiments.trajectories import PROBLEMS, rosenbrock_grad

    assert 0.999**600 * 155 == pytest.approx(85, abs=0.5)
    p = torch.tensor(PROBLEMS["rosenbrock"]["start"], dtype=torch.float64)
    opt = Adamax([p], lr=0.1)
    for _ in range(600):
        p.grad = torch.tensor(rosenbrock_grad(*p.tolist()), dtype=torch.float64)
        opt.step()
    assert opt.state[p]["exp_inf"][0].item() >= 0.999**600 * 155 * (1 - 1e-9)


def test_trajectories_newer_chapters_readings() -> None:
    """The page's bullets on the newer chapters, from the committed results."""
    results = committed("trajectories")
    finals = experiment("trajectories").final_losses(results)
    newer = ["NAdam", "Adamax", "AdaBelief", "Lion", "Sophia-G", "Schedule-Free AdamW",
             "Adafactor", "Muon"]
    assert all(math.isfinite(v) for (_, o, _), v in finals.items() if o in newer)
    quad = {k: v for k, v in finals.items() if k[0] == "noisy quadratic"}
    ros = {k: v for k, v in finals.items() if k[0] == "rosenbrock"}
    assert min(quad, key=quad.get) == ("noisy quadratic", "Schedule-Free AdamW", 0.1)
    assert min(ros, key=ros.get) == ("rosenbrock", "AdaBelief", 0.1)
    adam_family = ["Adam", "AMSGrad", "AdamW", "RAdam", "NAdam", "Adamax", "AdaBelief"]
    floor = [quad[("noisy quadratic", o, 0.1)] for o in adam_family]
    assert (round(min(floor), 4), round(max(floor), 4)) == (0.0020, 0.0034)
    adam = quad[("noisy quadratic", "Adam", 0.1)]
    for o in ("Lion", "Muon"):
        assert 4.5 < quad[("noisy quadratic", o, 0.1)] / adam < 6
    free = quad[("noisy quadratic", "Schedule-Free AdamW", 0.1)]
    assert (round(min(floor) / free), round(max(floor) / free)) == (8, 13)


def _table_rows(module: ModuleType) -> list[list[str]]:
    """The cells of the Markdown table in a page's docstring (header and rule left out)."""
    rows = [line.strip().strip("|").split("|") for line in module.__doc__.splitlines()
            if line.startswith("| ")]
    return [[c.strip() for c in row] for row in rows[1:]]


def _matches(cell: str, value: float) -> bool:
    """A table cell against a measured value: 'div. (k)' for inf, else 2 significant digits."""
    cell = cell.replace("**", "")
    if cell.startswith("div."):
        return not math.isfinite(value)
    return math.isfinite(value) and float(f"{value:.2g}") == float(cell)


def test_trajectories_table_is_the_committed_results() -> None:
    module = experiment("trajectories")
    results = committed("trajectories")
    finals = module.final_losses(results)
    lrs = results["config"]["lrs"]
    rows = _table_rows(module)
    assert [r[0] for r in rows] == results["config"]["optimizers"]
    for row in rows:
        cells = iter(row[1:])
        for problem in ("rosenbrock", "noisy quadratic"):
            for lr in lrs:
                cell = next(cells)
                assert _matches(cell, finals[(problem, row[0], lr)]), (row[0], problem, lr, cell)
                if cell.startswith("div."):
                    run = next(r for r in results["runs"] if r["settings"] == {
                        "problem": problem, "optimizer": row[0], "lr": lr})
                    assert f"({run['extra']['diverged_at']})" in cell


def test_trajectories_radam_first_step_is_the_momentum_step() -> None:
    """The page: RAdam's first step on Rosenbrock at lr 0.1 has length 0.1 * |g| = 16."""
    from labml_optim.experiments.trajectories import PROBLEMS, rosenbrock_grad
    from labml_optim.radam import RAdam

    p = torch.tensor(PROBLEMS["rosenbrock"]["start"], dtype=torch.float64)
    p.grad = torch.tensor(rosenbrock_grad(*p.tolist()), dtype=torch.float64)
    assert p.grad.tolist() == [-155.0, -50.0]
    before = p.clone()
    RAdam([p], lr=0.1).step()
    assert (p - before).norm().item() == pytest.approx(16.29, abs=0.01)


def test_trajectories_rosenbrock_stability_limit() -> None:
    """The page: at the start the Hessian's larger eigenvalue is about 2100."""
    from labml_optim.experiments.trajectories import PROBLEMS, rosenbrock

    start = torch.tensor(PROBLEMS["rosenbrock"]["start"], dtype=torch.float64)
    top = torch.linalg.eigvalsh(torch.autograd.functional.hessian(rosenbrock, start))[-1]
    assert top.item() == pytest.approx(2100, rel=0.01)


# ## RAdam: warmup on a transformer


def test_radam_warmup_table_is_the_committed_results() -> None:
    module = experiment("radam_warmup")
    results = committed("radam_warmup")
    lrs = results["config"]["lrs"]
    rows = _table_rows(module)
    assert len(rows) == len(results["runs"]) // len(results["config"]["seeds"]) // len(lrs)
    for row in rows:
        norm, method = row[0].split(" ", 1)
        for lr, cell in zip(lrs, row[1:], strict=True):
            for seed, text in zip(results["config"]["seeds"], cell.split(" / "), strict=True):
                run = next(r for r in results["runs"] if r["seed"] == seed and r["settings"] == {
                    "method": method, "lr": lr, "norm": norm.split("-")[0].lower()})
                assert f"{module.final_val(run):.2f}" == text, (row[0], lr, seed)


def _early(method: str, lr: float, seed: int) -> dict:
    return next(r for r in committed("radam_warmup")["runs"] if r["seed"] == seed
                and r["settings"] == {"method": method, "lr": lr, "norm": "post"})


@pytest.mark.parametrize("lr", [3e-3, 3e-2])
@pytest.mark.parametrize("seed", [0, 1])
def test_radam_warmup_first_update_sizes(lr: float, seed: int) -> None:
    """The page: Adam's step-1 RMS is 0.92 lr; RAdam's 110-150x smaller; warmup's lr/100."""
    def first(method: str) -> float:
        return _common.series(_early(method, lr, seed), "update_rms")[1][0]

    assert first("Adam") / lr == pytest.approx(0.92, abs=0.01)
    assert 110 < first("Adam") / first("RAdam") < 155
    assert first("Adam + warmup") / first("Adam") == pytest.approx(0.01, rel=1e-3)
    assert first("Adam-2k (scaled)") == 0.0
    assert sum(_early("Adam-2k (scaled)", lr, seed)["extra"]["hist_counts"]) == 0


def test_radam_warmup_first_adam_step_is_lr_times_sign() -> None:
    """Adam's first update moves every coordinate with a nonzero gradient by exactly lr."""
    from labml_optim.adam import Adam
    from labml_optim.experiments.radam_warmup import ByteLM

    torch.manual_seed(0)
    model = ByteLM(1, 16, 2, 8, post_ln=True).double()  # float64: exact differences
    x = torch.randint(256, (2, 8))
    torch.nn.functional.cross_entropy(model(x).reshape(-1, 256), x.reshape(-1)).backward()
    params = list(model.parameters())
    before = [p.detach().clone() for p in params]
    Adam(params, lr=0.01).step()
    checked = 0
    for p, b in zip(params, before, strict=True):
        moved = (p.detach() - b).abs()
        # eps = 1e-8 shortens only steps whose gradient is within a few 1e-7 of zero.
        clear = p.grad.abs() > 1e-5
        checked += int(clear.sum())
        assert torch.allclose(moved[clear], torch.full_like(moved[clear], 0.01), rtol=1e-3)
        assert (moved[p.grad == 0] == 0).all()
    assert checked > 1000


def test_radam_warmup_rectifier_values_quoted() -> None:
    """The page: with beta2 = 0.98, RAdam rectifies from t = 6, r_6..r_10 = 0.12..0.22."""
    from labml_optim.radam import rectification, sma_length

    beta2 = committed("radam_warmup")["config"]["betas"][1]
    rho_inf = 2 / (1 - beta2) - 1
    assert sma_length(5, beta2) < 5 < sma_length(6, beta2)
    assert rectification(sma_length(6, beta2), rho_inf) == pytest.approx(0.12, abs=0.005)
    assert rectification(sma_length(10, beta2), rho_inf) == pytest.approx(0.22, abs=0.005)


# ## AdamW: weight decay against learning rate


def test_adamw_decay_never_helped() -> None:
    """The page: the smallest lambda is within 0.5 points of each column's best cell."""
    module = experiment("adamw_decay")
    results = committed("adamw_decay")
    errors = module.final_errors(results)
    for method, decays in results["config"]["decays"].items():
        for lr in results["config"]["lrs"]:
            best = min(errors[(method, lr, d)] for d in decays)
            assert errors[(method, lr, min(decays))] <= best + 0.005, (method, lr)


def test_adamw_decay_numbers_quoted() -> None:
    module = experiment("adamw_decay")
    results = committed("adamw_decay")
    e = {k: round(100 * v, 1) for k, v in module.final_errors(results).items()}
    paper, torch_, l2 = "AdamW, paper's λ", "AdamW, torch's λ", "Adam + L2"
    assert min(e.values()) in (2.0, 2.1)
    assert all(e[(m, 1e-4, d)] > 20 for m, ds in results["config"]["decays"].items()
               for d in ds)
    assert (e[(paper, 1e-4, 1e-2)], e[(paper, 1e-2, 1e-2)]) == (80.3, 2.6)
    assert 14 <= min(e[(torch_, lr, 10.0)] for lr in results["config"]["lrs"])
    assert max(e[(torch_, lr, 10.0)] for lr in results["config"]["lrs"]) <= 26
    assert all(81 <= e[(l2, lr, 0.1)] <= 92 for lr in results["config"]["lrs"])

    def cost(method: str, decay: float) -> list[float]:
        return [e[(method, lr, decay)] - min(e[(method, lr, d)]
                                             for d in results["config"]["decays"][method])
                for lr in results["config"]["lrs"]]

    assert 0.3 - 1e-9 <= min(cost(torch_, 1.0)) and max(cost(torch_, 1.0)) <= 0.7 + 1e-9
    assert 0.9 - 1e-9 <= min(cost(l2, 1e-2)) and max(cost(l2, 1e-2)) <= 11
    # seeds: the median absolute difference between the two seeds of a cell is 0.8 points
    finals: dict[tuple, list[float]] = {}
    for r in results["runs"]:
        s = r["settings"]
        finals.setdefault((s["method"], s["lr"], s["weight_decay"]), []).append(
            _common.series(r, "test_error")[1][-1])
    diffs = sorted(abs(a - b) for a, b in finals.values())
    assert round(100 * diffs[len(diffs) // 2], 1) == 0.8


def test_adamw_decay_digits_file_is_sklearns() -> None:
    """The experiment reads scikit-learn's shipped digits file without importing sklearn."""
    from sklearn.datasets import load_digits

    from labml_optim.experiments.adamw_decay import digits_csv

    rows = torch.tensor(digits_csv(), dtype=torch.float64)
    data = load_digits()
    assert torch.equal(rows[:, :64], torch.tensor(data.data))
    assert torch.equal(rows[:, 64].long(), torch.tensor(data.target))


# ## Large batches on the noisy quadratic model


def test_large_batch_table_is_the_committed_results() -> None:
    module = experiment("large_batch")
    results = committed("large_batch")
    by_power = module.steps_to_target(results)
    rows = _table_rows(module)
    header = next(line for line in module.__doc__.splitlines() if line.startswith("| $B$"))
    batches = [int(b) for b in header.strip().strip("|").split("|")[1:]]
    powers = {"SGD": 0.0, "$p = \\frac12$": 0.5, "Newton": 1.0}
    assert [r[0] for r in rows] == list(powers)
    for row in rows:
        all_b, steps = by_power[powers[row[0]]]
        for b, cell in zip(batches, row[1:], strict=True):
            value = steps[all_b.index(b)]
            assert (cell == "—" and math.isnan(value)) or float(cell) == value, (row[0], b)


def test_large_batch_critical_batch_ratios_quoted() -> None:
    module = experiment("large_batch")
    by_power = module.steps_to_target(committed("large_batch"))

    def excess(power: float, batch: int) -> float:
        b, s = by_power[power]
        return s[b.index(batch)] * batch / (s[0] * b[0])

    assert excess(0.0, 256) == pytest.approx(1.19, abs=0.005)
    assert excess(0.0, 1024) == pytest.approx(2.3, abs=0.05)
    assert excess(0.5, 4096) == pytest.approx(1.24, abs=0.005)
    assert excess(0.5, 16384) == pytest.approx(3.4, abs=0.05)


def test_large_batch_closed_form_matches_sgd_chapter_monte_carlo() -> None:
    """E[L_t] in closed form against 20 000 noisy runs of the SGD chapter's optimizer."""
    from labml_optim.experiments.large_batch import curvatures, expected_loss
    from labml_optim.sgd import SGD

    h, batch, lr, steps, power = curvatures(5), 4, 0.5, 20, 0.5
    gen = torch.Generator().manual_seed(0)
    theta = torch.ones(20_000, 5, dtype=torch.float64, requires_grad=True)
    opt = SGD([theta], lr=lr)
    for _ in range(steps):
        noise = torch.randn(theta.shape, generator=gen, dtype=torch.float64) * (h / batch).sqrt()
        # The preconditioner h^{-p} scales the noisy gradient: SGD on it is the page's step.
        theta.grad = (h * theta.detach() + noise) * h ** (-power)
        opt.step()
    measured = (0.5 * h * theta.detach() ** 2).sum(dim=1).mean().item()
    predicted = expected_loss(h, power, torch.tensor([lr], dtype=torch.float64), batch,
                              torch.tensor([float(steps)], dtype=torch.float64)).item()
    assert measured == pytest.approx(predicted, rel=0.02)


# ## Schedules on the Post-LN byte LM


def test_schedules_reproduce_the_radam_page() -> None:
    """The page: constant and untuned-warmup runs of seeds 0 and 1 are the RAdam page's runs."""
    schedules = experiment("schedules")
    ours = {(r["settings"]["schedule"], r["seed"]): r for r in committed("schedules")["runs"]}
    config = committed("schedules")["config"]
    theirs = committed("radam_warmup")
    shared = ["train_bytes", "val_bytes", "layers", "width", "heads", "context", "batch",
              "steps", "betas", "val_every", "val_batches"]
    assert [config[k] for k in shared] == [theirs["config"][k] for k in shared]
    assert config["lr"] in theirs["config"]["lrs"]
    pairs = {"constant": "Adam", "untuned warmup, then constant": "Adam + warmup"}
    for schedule, method in pairs.items():
        for seed in (0, 1):
            run = next(r for r in theirs["runs"] if r["seed"] == seed and r["settings"] == {
                "method": method, "lr": config["lr"], "norm": "post"})
            mine = ours[(schedule, seed)]
            assert schedules.final_val(mine) == pytest.approx(
                experiment("radam_warmup").final_val(run), rel=1e-5)
            assert _common.series(mine, "train_loss") == _common.series(run, "train_loss")


def test_schedules_table_is_the_committed_results() -> None:
    module = experiment("schedules")
    results = committed("schedules")
    table = module.summary(results)
    rows = _table_rows(module)
    assert [r[0] for r in rows] == results["config"]["schedules"]
    for name, seeds, mean, tail in rows:
        assert seeds.split(" / ") == [f"{v:.2f}" for v in table[name]["val"]], name
        assert (mean, tail) == (f"{table[name]['mean']:.2f}", f"{table[name]['tail']:.2f}")


def test_schedules_readings_quoted() -> None:
    """The page's bullets: the tuned W is the untuned one; spreads; Noam's tail."""
    module = experiment("schedules")
    results = committed("schedules")
    table = module.summary(results)
    untuned = round(2 / (1 - results["config"]["betas"][1]))
    assert module.best_warmup(results, "linear") == untuned == 100
    assert module.best_warmup(results, "cosine") == untuned
    assert module.best_warmup(results, "Noam") == 30

    def spread(name: str) -> float:
        return max(table[name]["val"]) - min(table[name]["val"])

    def names(low: int, high: int) -> list[str]:
        return [n for n in table if n.startswith(("linear", "cosine", "Noam"))
                and low <= module.parse_schedule(n)[1] <= high]

    assert [round(spread(n), 2) for n in names(1, 10)] == [0.50, 0.49]
    assert 0.15 <= min(spread(n) for n in names(30, 30)) <= max(
        spread(n) for n in names(30, 30)) <= 0.25
    assert 0.03 <= min(spread(n) for n in names(100, 200)) <= max(
        spread(n) for n in names(100, 200)) <= 0.07
    # W = 100 and W = 200 differ by less than the spread of their seeds.
    gap = table["linear, W=200"]["mean"] - table["linear, W=100"]["mean"]
    assert 0 < gap < min(spread("linear, W=100"), spread("linear, W=200")) + 0.01
    assert abs(table["Noam, W=30"]["mean"] - table["Noam, W=100"]["mean"]) < 0.025
    assert math.sqrt(30 / 300) == pytest.approx(0.32, abs=0.005)
    assert math.sqrt(100 / 300) == pytest.approx(0.58, abs=0.005)
    tails = {n: v["tail"] for n, v in table.items()}
    ranked = sorted(tails, key=tails.get)
    assert ranked[:2] == ["linear, W=100", "cosine, W=100"] and ranked[-1] == "constant"


def test_schedules_noam_factor_puts_the_peak_at_eta() -> None:
    """factor = sqrt(d W): the Noam lr reaches eta at t = W and falls as sqrt(W / t)."""
    from labml_optim.experiments.schedules import make_scheduler

    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.03)
    sched = make_scheduler("Noam, W=30", opt, 300, 32)
    lrs = []
    for _ in range(120):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert max(lrs) == pytest.approx(0.03, rel=1e-12)
    assert lrs.index(max(lrs)) + 1 == 30
    assert lrs[0] == pytest.approx(0.03 / 30, rel=1e-12)
    assert lrs[119] == pytest.approx(0.03 * math.sqrt(30 / 120), rel=1e-12)


def test_schedules_untuned_warmup_is_linear_warmup_of_100_steps() -> None:
    """The page: with beta2 = 0.98 the untuned warmup is W = 2/(1-beta2) = 100 steps."""
    from labml_optim.experiments.schedules import make_scheduler

    def lrs(name: str) -> list[float]:
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.Adam([p], lr=0.03, betas=(0.9, 0.98))
        sched = make_scheduler(name, opt, 300, 32)
        out = []
        for _ in range(300):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return out

    untuned, linear = lrs("untuned warmup, then constant"), lrs("linear, W=100")
    assert round(2 / (1 - 0.98)) == 100
    assert untuned[:100] == pytest.approx(linear[:100], rel=1e-12)
    assert untuned[99] == pytest.approx(0.03) and untuned[100:] == [untuned[99]] * 200
    assert linear[-1] == pytest.approx(0.03 / 201, rel=1e-12)


# ## Large batches, part 2: LAMB against AdamW


def test_lamb_scales_reparameterization_keeps_the_function() -> None:
    """The page: the skewed MLP computes the balanced one's function at initialization."""
    from labml_optim.experiments.lamb_scales import make_model

    x = torch.rand(32, 64, dtype=torch.float64)
    torch.manual_seed(3)
    balanced = make_model(128, [1.0, 1.0, 1.0]).double()
    torch.manual_seed(3)
    skewed = make_model(128, [10.0, 1.0, 0.1]).double()
    # float32 initialization, scaled in float32: equal to float32 rounding.
    assert torch.allclose(balanced(x), skewed(x), rtol=1e-6, atol=1e-7)
    ratio = (skewed[0].weight.norm() / skewed[4].weight.norm()) / (
        balanced[0].weight.norm() / balanced[4].weight.norm())
    assert ratio.item() == pytest.approx(100, rel=1e-6)


def _twin_nets(scales: list[float]) -> tuple[torch.nn.Module, torch.nn.Module, torch.Tensor]:
    from labml_optim.experiments.lamb_scales import make_model

    torch.manual_seed(5)
    balanced = make_model(32, [1.0, 1.0, 1.0]).double()
    torch.manual_seed(5)
    scaled = make_model(32, scales).double()
    return balanced, scaled, torch.rand(64, 64, dtype=torch.float64)


def _train_twins(balanced: torch.nn.Module, scaled: torch.nn.Module, x: torch.Tensor,
                 opt_b: torch.optim.Optimizer, opt_s: torch.optim.Optimizer) -> None:
    y = torch.randint(10, (64,), generator=torch.Generator().manual_seed(0))
    for _ in range(5):
        for model, opt in ((balanced, opt_b), (scaled, opt_s)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()


def test_lamb_scales_lamb_adapting_every_tensor_ignores_the_rescaling() -> None:
    """The page: LAMB's steps scale with each tensor, so the rescaled net stays the same
    function when every tensor is adapted (epsilon aside); the biases break this."""
    from labml_optim.lamb import LAMB

    balanced, skewed, x = _twin_nets([10.0, 1.0, 0.1])
    _train_twins(balanced, skewed, x, LAMB(balanced.parameters(), lr=0.01, eps=1e-30),
                 LAMB(skewed.parameters(), lr=0.01, eps=1e-30))
    assert torch.allclose(balanced(x), skewed(x), rtol=1e-6, atol=1e-7)
    # With the biases on Adam's absolute steps (the page's setup) the twins part.
    from labml_optim.lamb import lamb_param_groups

    balanced, skewed, x = _twin_nets([10.0, 1.0, 0.1])
    _train_twins(balanced, skewed, x, LAMB(lamb_param_groups(balanced, 0.0), lr=0.01),
                 LAMB(lamb_param_groups(skewed, 0.0), lr=0.01))
    assert (balanced(x) - skewed(x)).abs().max() > 1e-3


def test_lamb_scales_adam_on_the_rescaled_net_is_adam_with_layer_lrs() -> None:
    """The page: Adam on the net rescaled by c is Adam on the original net with the
    learning rate lr / c_k on layer k's weights and lr / (c_1...c_k) on its bias."""
    from labml_optim.adamw import AdamW

    scales = [10.0, 1.0, 0.1]
    balanced, skewed, x = _twin_nets(scales)
    groups, cumulative = [], 1.0
    for layer, c in zip(balanced[::2], scales, strict=True):
        cumulative *= c
        groups += [{"params": [layer.weight], "lr": 0.01 / c},
                   {"params": [layer.bias], "lr": 0.01 / cumulative}]
    _train_twins(balanced, skewed, x, AdamW(groups, lr=0.01, eps=1e-30, weight_decay=0.0),
                 AdamW(skewed.parameters(), lr=0.01, eps=1e-30, weight_decay=0.0))
    assert torch.allclose(balanced(x), skewed(x), rtol=1e-6, atol=1e-7)
    # One learning rate for every layer of the balanced net is another training run.
    balanced, skewed, x = _twin_nets(scales)
    _train_twins(balanced, skewed, x, AdamW(balanced.parameters(), lr=0.01, weight_decay=0.0),
                 AdamW(skewed.parameters(), lr=0.01, weight_decay=0.0))
    assert (balanced(x) - skewed(x)).abs().max() > 1e-3


def test_lamb_scales_table_is_the_committed_results() -> None:
    module = experiment("lamb_scales")
    results = committed("lamb_scales")
    rule = module.sqrt_rule(results)
    rows = _table_rows(module)
    assert len(rows) == len(rule)
    for row in rows:
        optimizer, scale = row[0].split(", ")
        lr0, errors = rule[(optimizer, scale)]
        assert float(row[1]) == lr0
        for cell, e in zip(row[2:], errors, strict=True):
            assert cell == (f"{100 * module.mean(e):.1f} ({100 * min(e):.1f}–"
                            f"{100 * max(e):.1f})"), (row[0], cell)


def test_lamb_scales_readings_quoted() -> None:
    """The page's bullets, from the committed results."""
    module = experiment("lamb_scales")
    results = committed("lamb_scales")
    batches = results["config"]["batches"]
    rule, tuned = module.sqrt_rule(results), module.retuned(results)
    scales = list(results["config"]["scales"])

    def at(table: dict, optimizer: str, scale: str) -> list[float]:
        row = table[(optimizer, scale)]
        errors = row[1] if table is rule else [e for _, e in row]
        return [round(100 * module.mean(e), 1) for e in errors]

    adamw_wins = [(s, b) for s in scales for b, a, lamb in zip(
        batches, at(rule, "AdamW", s), at(rule, "LAMB", s), strict=True) if a < lamb]
    assert len(adamw_wins) == 10
    assert {(s, b) for s in scales for b in batches} - set(adamw_wins) == {
        ("balanced", 1024), ("reversed", 1024)}
    assert all(a < lamb for s in scales for a, lamb in zip(
        at(tuned, "AdamW", s), at(tuned, "LAMB", s), strict=True))
    assert [at(tuned, "AdamW", s)[-1] for s in scales] == [8.4, 5.3, 9.2]
    assert [at(tuned, "LAMB", s)[-1] for s in scales] == [12.3, 11.5, 33.3]
    assert at(rule, "AdamW", "skewed")[0::3] == [2.1, 5.3]
    assert at(rule, "AdamW", "balanced")[0::3] == [3.6, 14.1]
    assert at(rule, "AdamW", "reversed")[-1] == 55.0
    gaps = [abs(a - b) for a, b in zip(at(rule, "LAMB", "balanced"), at(rule, "LAMB", "skewed"),
                                       strict=True)]
    assert max(gaps) == pytest.approx(0.8, abs=1e-9)
    assert at(rule, "LAMB", "reversed")[1:] == [7.9, 14.8, 36.8]
    assert round(10 * 1297 / 1024) == 13 and math.sqrt(1024 / 32) == pytest.approx(5.7, abs=0.05)
    best_small = [at(tuned, o, s)[0] for o in ("AdamW", "LAMB") for s in scales]
    best_large = [at(tuned, o, s)[-1] for o in ("AdamW", "LAMB") for s in scales]
    assert (min(best_small), max(best_small)) == (2.1, 4.3)
    assert (min(best_large), max(best_large)) == (5.3, 33.3)
    assert all(large > small for small, large in zip(best_small, best_large, strict=True))
