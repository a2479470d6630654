"""Calibration math, coverage, miscalibration area, MC dropout switch, metrics with NaNs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem

from discovery.chem import featurize
from discovery.molprop.metrics import (
    expected_calibration_error,
    metrics_table,
    pr_auc,
    r2,
    rmse,
    roc_auc,
    summarize_members,
)
from discovery.molprop.models import build_model
from discovery.molprop.uncertainty import (
    calibration_report,
    combine_samples,
    fit_calibration_scale,
    interval_coverage,
    mc_dropout,
    miscalibration_area,
)


def _synthetic(n=20000, seed=0):
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=(n, 1))
    true_sigma = rng.uniform(0.2, 2.0, size=(n, 1))
    y = mu + true_sigma * rng.standard_normal((n, 1))
    return y, mu, true_sigma


def test_overconfident_sigma_is_rescaled_by_two():
    y, mu, sigma = _synthetic()
    s = fit_calibration_scale(y, mu, sigma / 2.0)  # reported sigma too small by 2x
    assert s.shape == (1,)
    assert s[0] == pytest.approx(2.0, rel=0.03)
    before = interval_coverage(y, mu, sigma / 2.0, 0.9)
    after = interval_coverage(y, mu, sigma / 2.0 * s[0], 0.9)
    assert before < 0.65  # ~ P(|z| < 0.82) = 0.59
    assert after == pytest.approx(0.9, abs=0.01)
    assert miscalibration_area(y, mu, sigma / 2.0) > 0.15
    assert miscalibration_area(y, mu, sigma / 2.0 * s[0]) < 0.01


def test_closed_form_minimises_gaussian_nll():
    y, mu, sigma = _synthetic(n=3000, seed=1)
    sigma = sigma * 0.7
    s_hat = fit_calibration_scale(y, mu, sigma)[0]

    def nll(s):
        ss = s * sigma
        return np.mean(0.5 * np.log(2 * np.pi * ss**2) + 0.5 * ((y - mu) / ss) ** 2)

    grid = np.linspace(0.5, 3.0, 2001)
    assert grid[np.argmin([nll(s) for s in grid])] == pytest.approx(s_hat, abs=2e-3)


def test_calibration_ignores_missing_labels_and_zero_sigma():
    y = np.array([[1.0, np.nan], [2.0, 5.0], [np.nan, 1.0], [4.0, 2.0]])
    mu = np.zeros_like(y)
    sigma = np.array([[1.0, 1.0], [1.0, 0.0], [1.0, 1.0], [2.0, 1.0]])
    s = fit_calibration_scale(y, mu, sigma)
    assert s[0] == pytest.approx(np.sqrt((1 + 4 + 4) / 3))
    assert s[1] == pytest.approx(np.sqrt((1 + 4) / 2))
    # nothing usable -> 1.0
    assert fit_calibration_scale(np.full((3, 1), np.nan), np.zeros((3, 1)), np.ones((3, 1)))[0] == 1.0


def test_miscalibration_area_bounds_and_perfect_case():
    y, mu, sigma = _synthetic(n=50000, seed=2)
    assert miscalibration_area(y, mu, sigma) < 0.01
    # hugely overconfident: almost nothing is covered -> area close to 0.5
    assert miscalibration_area(y, mu, sigma * 1e-3) > 0.45
    assert miscalibration_area(np.array([np.nan]), np.array([0.0]), np.array([1.0])) is None


def test_calibration_report_fields():
    y, mu, sigma = _synthetic(n=2000)
    rep = calibration_report(y, mu, sigma / 2, [2.0], ["t"])["t"]
    assert rep["scale"] == 2.0
    assert rep["coverage90_after"] > rep["coverage90_before"]
    assert rep["miscalibration_area_after"] < rep["miscalibration_area_before"]
    assert rep["nll_after"] < rep["nll_before"]


def test_combine_samples():
    s = np.array([[[1.0]], [[3.0]]])
    mean, std = combine_samples(s)
    assert mean[0, 0] == 2.0 and std[0, 0] == 1.0


def test_mc_dropout_switches_dropout_only_inside_context():
    graphs = featurize([Chem.MolFromSmiles(s) for s in ["CCO", "c1ccccc1N", "CC(=O)O"]])
    g = graphs.collate(np.arange(3))
    for name in ("dmpnn", "gin", "attentivefp"):
        torch.manual_seed(0)
        model = build_model({"model": name, "hidden": 32, "ffn_hidden": 16, "dropout": 0.0}).eval()
        with torch.no_grad():
            a, b = model(g), model(g)
            assert torch.equal(a, b)
            with mc_dropout(model, p=0.3):
                c, d = model(g), model(g)
            assert not torch.equal(c, d), name
            assert torch.equal(model(g), a), name  # restored: deterministic again
        assert not any(m.training for m in model.modules())
        drops = [m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)]
        assert all(p == 0.0 for p in drops)


def test_metrics_mask_nans():
    y = np.array([[1.0, 0.0], [2.0, np.nan], [3.0, 1.0], [np.nan, 1.0]])
    p = np.array([[1.5, 0.2], [2.0, 0.9], [2.0, 0.7], [100.0, 0.6]])
    assert rmse(y[:, 0], p[:, 0]) == pytest.approx(np.sqrt((0.25 + 0 + 1) / 3))
    assert r2(y[:, 0], p[:, 0]) == pytest.approx(1 - 1.25 / 2.0)
    t = metrics_table(y[:, :1], p[:, :1], ["a"], "regression")
    assert t["a"]["n"] == 3 and t["mean"]["rmse"] == t["a"]["rmse"]
    assert roc_auc(y[:, 1], p[:, 1]) == 1.0
    assert pr_auc(y[:, 1], p[:, 1]) == 1.0
    assert roc_auc(np.array([1.0, 1.0]), np.array([0.2, 0.3])) is None  # one class: undefined
    ct = metrics_table(y[:, 1:], p[:, 1:], ["b"], "classification")
    assert set(ct["b"]) == {"roc_auc", "pr_auc", "ece", "n"}


def test_expected_calibration_error():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=100000)
    y = (rng.uniform(size=p.size) < p).astype(float)
    assert expected_calibration_error(y, p) < 0.01
    assert expected_calibration_error(y, np.clip(p + 0.2, 0, 1)) > 0.1


def test_summarize_members():
    tabs = [{"a": {"rmse": 1.0, "n": 3}}, {"a": {"rmse": 3.0, "n": 3}}]
    s = summarize_members(tabs)
    assert s["a"]["rmse"]["mean"] == 2.0 and s["a"]["rmse"]["sd"] == pytest.approx(np.sqrt(2))


def test_calibration_floor_rescues_near_zero_sigma():
    """A few near-zero member spreads must not blow up the fitted scale.

    Errors are N(0, 0.5^2) everywhere, the raw sigma is right (0.5) for most
    molecules but 1e-4 for 5% of them (members agreeing by chance). The pure
    scale fit is dominated by those; the (scale, floor) fit recovers ~90%
    coverage and a lower NLL.
    """
    import numpy as np

    from discovery.molprop.uncertainty import (
        apply_calibration, fit_calibration, fit_calibration_scale, gaussian_nll, interval_coverage,
    )

    rng = np.random.default_rng(0)
    n = 2000
    y = rng.normal(0.0, 0.5, size=n)
    mu = np.zeros(n)
    sigma = np.full(n, 0.5)
    sigma[: n // 20] = 1e-4
    s_only = fit_calibration_scale(y, mu, sigma)[0]
    assert s_only > 20  # the failure mode: a huge scale
    scale, floor = fit_calibration(y, mu, sigma)
    cal = apply_calibration(sigma, scale, floor)
    assert floor[0] > 0.1
    assert 0.85 <= interval_coverage(y, mu, cal, 0.9) <= 0.95
    assert gaussian_nll(y, mu, cal) < gaussian_nll(y, mu, sigma * s_only)


def test_calibration_without_floor_need_keeps_scale():
    import numpy as np

    from discovery.molprop.uncertainty import fit_calibration

    rng = np.random.default_rng(1)
    sigma = rng.uniform(0.2, 1.0, size=3000)
    y = rng.normal(0.0, 2.0 * sigma)
    scale, floor = fit_calibration(y, np.zeros_like(y), sigma)
    assert abs(scale[0] - 2.0) < 0.1
    assert floor[0] < 0.1
