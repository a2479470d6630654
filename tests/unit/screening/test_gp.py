"""Tanimoto/MinMax Gaussian process and acquisition functions."""

from __future__ import annotations

import numpy as np
import pytest

from discovery.errors import ConfigError, InputError
from discovery.screening.acquisition import expected_improvement, select_batch
from discovery.screening.fingerprints import FingerprintSpec
from discovery.screening.gp import features, fit_gp, minmax_kernel


def test_minmax_kernel_matches_definition(esol_smiles):
    X = features(esol_smiles[:60], FingerprintSpec(nbits=1024))
    K = minmax_kernel(X[:25], X)
    a, b = X[:25].astype(np.int64), X.astype(np.int64)
    ref = np.minimum(a[:, None], b[None]).sum(-1) / np.maximum(a[:, None], b[None]).sum(-1)
    assert np.allclose(K, ref, rtol=0, atol=1e-6)
    assert np.allclose(np.diag(K[:, :25]), 1.0)
    # binary features: the kernel is the Tanimoto similarity
    from discovery.screening.fingerprints import tanimoto_exact, pack_bits

    B = (X > 0).astype(np.uint8)
    p = pack_bits(B)
    assert np.allclose(minmax_kernel(B[:1], B)[0], tanimoto_exact(p[0], p), atol=1e-6)


@pytest.mark.slow
def test_gp_on_esol_scaffold_split_is_accurate_and_calibrated(esol_table):
    from discovery.chem.splits import make_split

    smi = esol_table["smiles"].tolist()
    y = esol_table["logp"].to_numpy()
    X = features(smi)
    sp = make_split(smi, "scaffold", seed=0)
    tr = np.concatenate([sp.train, sp.val])
    gp = fit_gp(X[tr], y[tr], seed=0)
    mu, sd = gp.predict(X[sp.test])
    rmse = float(np.sqrt(np.mean((mu - y[sp.test]) ** 2)))
    baseline = float(np.sqrt(np.mean((y[tr].mean() - y[sp.test]) ** 2)))
    assert rmse < 0.5 * baseline  # the GP learns (measured: 0.74 vs 2.0)
    lo, hi = gp.interval(X[sp.test], 0.9)
    coverage = float(np.mean((y[sp.test] >= lo) & (y[sp.test] <= hi)))
    assert 0.85 <= coverage <= 0.99
    assert gp.noise > 0 and gp.s2 > 0 and gp.info["optimizer_converged"]
    # same inputs, same numbers
    gp2 = fit_gp(X[tr], y[tr], seed=0)
    assert np.array_equal(gp2.predict(X[sp.test])[0], mu)


@pytest.mark.slow
def test_descriptor_kernel_beats_minmax_on_esol_and_never_lowers_the_likelihood(esol_table):
    from discovery.chem.splits import make_split
    from discovery.screening.gp import GPFeatures, _mixed_kernel

    smi = esol_table["smiles"].tolist()
    y = esol_table["logp"].to_numpy()
    X = features(smi, descriptors="physchem")
    assert isinstance(X, GPFeatures) and X.desc.shape == (len(smi), 64)
    sp = make_split(smi, "scaffold", seed=1)
    tr = np.concatenate([sp.train, sp.val])
    plain = fit_gp(X.counts[tr], y[tr], seed=1)
    mixed = fit_gp(X[tr], y[tr], kernel="minmax+physchem", seed=1)
    # w = 0 (plain MinMax) is in the grid, so the chosen mix has at least its likelihood
    assert mixed.info["log_marginal_likelihood"] >= plain.info["log_marginal_likelihood"] - 1e-6
    assert mixed.info["descriptor_weight"] > 0
    rmse = {k: float(np.sqrt(np.mean((g.predict(X[sp.test])[0] - y[sp.test]) ** 2)))
            for k, g in (("plain", plain), ("mixed", mixed))}
    assert rmse["mixed"] < 0.85 * rmse["plain"]  # measured on this split: 0.905 vs 1.177
    # SMILES in, the same numbers as features in
    np.testing.assert_allclose(mixed.predict([smi[i] for i in sp.test[:5]])[0], mixed.predict(X[sp.test[:5]])[0])
    # the kernel: w = 0 is MinMax; any w gives 1 on the diagonal
    sub = X[:30]
    m, sd = np.nanmean(sub.desc, 0), np.nanstd(sub.desc, 0) + 1.0
    np.testing.assert_allclose(_mixed_kernel(sub, sub, m, sd, 0.0, 5.0), minmax_kernel(sub.counts, sub.counts))
    K = _mixed_kernel(sub, sub, m, sd, 0.5, 5.0)
    np.testing.assert_allclose(np.diag(K), 1.0)
    assert np.linalg.eigvalsh(K).min() > -1e-8
    with pytest.raises(InputError, match="needs SMILES or GPFeatures"):
        mixed.predict(X.counts[:3])


def test_gp_recovers_hyperparameters_of_a_sample_from_its_prior():
    # y = f + noise with f drawn from GP(0, 1.0 * MinMax) and noise sd 0.3: the fit finds both
    rng = np.random.default_rng(0)
    X = rng.poisson(0.3, size=(400, 256)).astype(np.uint8)
    K = minmax_kernel(X, X)
    f = np.linalg.cholesky(K + 1e-6 * np.eye(400)) @ rng.normal(size=400)
    y = f + rng.normal(scale=0.3, size=400)
    gp = fit_gp(X, y)
    assert np.sqrt(gp.noise) * gp.y_std == pytest.approx(0.3, rel=0.15)
    assert gp.s2 * gp.y_std ** 2 == pytest.approx(1.0, rel=0.4)


def test_gp_bad_input():
    with pytest.raises(InputError):
        fit_gp(["CCO", "CCN"], [1.0, 2.0])
    with pytest.raises(InputError, match="finite"):
        fit_gp(["CCO", "CCN", "CCC"], [1.0, np.nan, 2.0])
    with pytest.raises(InputError, match="invalid SMILES"):
        fit_gp(["CCO", "CCN", "C(("], [1.0, 2.0, 3.0])
    with pytest.raises(ConfigError):
        fit_gp(["CCO", "CCN", "CCC"], [1.0, 2.0, 3.0], kernel="rbf")


def test_expected_improvement_formula():
    from scipy.stats import norm

    mu, sd = np.array([1.0, 0.0, 2.0]), np.array([1.0, 2.0, 0.5])
    ei = expected_improvement(mu, sd, best=1.0)
    z = (mu - 1.0) / sd
    assert np.allclose(ei, (mu - 1.0) * norm.cdf(z) + sd * norm.pdf(z))
    assert ei[0] == pytest.approx(norm.pdf(0))


@pytest.fixture(scope="module")
def lipo():
    import pandas as pd

    from discovery.data.loaders import resolve

    df = pd.read_csv(resolve("Lipophilicity")[0])
    return df["smiles"].tolist()[:700], df["lipo"].to_numpy()[:700]


@pytest.fixture(scope="module")
def lipo_gp(lipo):
    smi, y = lipo
    return fit_gp(smi[:100], y[:100])


@pytest.mark.parametrize("acq", ["ei", "ucb", "thompson", "random", "greedy"])
def test_select_batch_diverse_deterministic(lipo, lipo_gp, acq):
    smi, y = lipo
    gp = lipo_gp
    a = select_batch(gp, smi[100:400], 12, acquisition=acq, max_sim=0.6, pool=150, seed=1)
    b = select_batch(gp, smi[100:400], 12, acquisition=acq, max_sim=0.6, pool=150, seed=1)
    assert a["position"].tolist() == b["position"].tolist()
    assert len(set(a["position"])) == 12
    assert np.nanmax(a["max_sim_in_batch"]) < 0.6
    assert a["reason"].str.len().min() > 20
    if acq in ("ei", "ucb", "greedy"):
        # the first pick is the best by the acquisition over the whole library
        mu, sd = gp.predict(smi[100:400])
        if acq == "greedy":
            assert a["position"].iloc[0] == int(np.argmax(mu))
    with pytest.raises(InputError):
        select_batch(gp, smi[100:110], 11, acquisition=acq)


def test_select_batch_excludes_and_minimises(lipo, lipo_gp):
    smi, y = lipo
    gp = lipo_gp
    mu, _ = gp.predict(smi[100:400])
    best = int(np.argmin(mu))
    res = select_batch(gp, smi[100:400], 5, acquisition="greedy", maximize=False, max_sim=1.0, pool=100)
    assert res["position"].iloc[0] == best
    res2 = select_batch(gp, smi[100:400], 5, acquisition="greedy", maximize=False, max_sim=1.0, exclude=[best],
                        pool=100)
    assert best not in res2["position"].tolist()
