"""Property tests for the simulated survey light curves (astroexplorer.demo.lightcurves)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from astropy.timeseries import LombScargle

from astroexplorer.demo.lightcurves import (
    LC_BANDS,
    PARAM_KEYS,
    VARIABILITY_CLASSES,
    simulate_lightcurve,
    simulate_lightcurves,
)

N_PER_CLASS = 30
PERIODIC = ("rr_lyrae", "cepheid", "eclipsing_binary", "long_period")


def _split(cols: dict[str, np.ndarray], n: int) -> list[dict[str, np.ndarray]]:
    """Long-format columns -> one dict of arrays per object."""
    bounds = np.searchsorted(cols["row"], np.arange(n + 1))
    return [{k: v[bounds[i]:bounds[i + 1]] for k, v in cols.items() if k != "row"} for i in range(n)]


@pytest.fixture(scope="module")
def sample() -> dict[str, tuple[list[dict[str, np.ndarray]], list[dict[str, float]]]]:
    """30 objects per class at r = 16-20 mag, one long-format call per class."""
    out = {}
    for k, cls in enumerate(VARIABILITY_CLASSES):
        mags = np.random.default_rng(k).uniform(16.0, 20.0, N_PER_CLASS)
        cols, params = simulate_lightcurves([cls] * N_PER_CLASS, mags, seed=100 + k)
        out[cls] = (_split(cols, N_PER_CLASS), params)
    return out


def _band(lc: dict[str, np.ndarray], band: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = lc["band"] == band
    return lc["mjd"][m], lc["mag"][m].astype(float), lc["mag_err"][m].astype(float)


def _clipped_chi2(mag: np.ndarray, err: np.ndarray, nsig: float = 4.0) -> tuple[float, int]:
    """chi^2 about the weighted mean after removing > nsig outliers from the median; (chi2, dof)."""
    keep = np.abs(mag - np.median(mag)) < nsig * err
    w = 1.0 / err[keep] ** 2
    mu = np.sum(w * mag[keep]) / np.sum(w)
    return float(np.sum(w * (mag[keep] - mu) ** 2)), int(keep.sum() - 1)


def _ls_period(t: np.ndarray, y: np.ndarray, e: np.ndarray, f_max: float) -> float:
    """Best Lomb-Scargle period (days) on a grid from 1/600 to ``f_max`` cycles/day."""
    freq, power = LombScargle(t, y, e).autopower(
        minimum_frequency=1 / 600, maximum_frequency=f_max, samples_per_peak=5)
    return float(1.0 / freq[np.argmax(power)])


def test_constants() -> None:
    assert VARIABILITY_CLASSES == ("constant", "rr_lyrae", "cepheid", "eclipsing_binary",
                                   "long_period", "supernova", "agn")
    assert LC_BANDS == ("g", "r", "i")


@pytest.mark.parametrize("var_class", VARIABILITY_CLASSES)
def test_single_lightcurve_structure(var_class: str) -> None:
    for seed in range(5):
        lc, p = simulate_lightcurve(var_class, np.random.default_rng(seed), 18.0)
        assert set(lc) == {"mjd", "mag", "mag_err", "band"}
        m = lc["mjd"].size
        assert 40 <= m <= 320
        assert all(v.ndim == 1 and v.size == m for v in lc.values())
        assert lc["mjd"].dtype == np.float64
        assert lc["mag"].dtype == np.float32 and lc["mag_err"].dtype == np.float32
        assert lc["band"].dtype.kind == "U" and set(lc["band"]) <= set(LC_BANDS)
        assert np.all(np.diff(lc["mjd"]) >= 0)
        assert 59000.0 <= lc["mjd"][0] and lc["mjd"][-1] <= 59730.0
        assert np.all(np.isfinite(lc["mag"])) and np.all(np.isfinite(lc["mag_err"]))
        assert np.all(lc["mag_err"] > 0) and np.all(lc["mag_err"] >= 0.0099)
        assert tuple(p) == PARAM_KEYS and all(isinstance(v, float) for v in p.values())
        assert p["n_obs"] == m and p["mean_mag"] == 18.0
        assert np.isfinite(p["period_days"]) == (var_class in PERIODIC)
        assert np.isfinite(p["tau_days"]) == (var_class == "agn")
        assert np.isfinite(p["peak_mag"]) == (var_class == "supernova")
        assert np.isfinite(p["eclipse_depth_mag"]) == (var_class == "eclipsing_binary")


def test_true_parameter_ranges(sample) -> None:
    for cls, (_, params) in sample.items():
        assert all(tuple(p) == PARAM_KEYS for p in params)
        per = np.array([p["period_days"] for p in params])
        amp = np.array([p["amplitude_mag"] for p in params])
        if cls == "rr_lyrae":
            assert np.all((per >= 0.25) & (per <= 0.75)) and np.all((amp >= 0.3) & (amp <= 1.0))
        elif cls == "cepheid":
            assert np.all((per >= 3) & (per <= 40)) and np.all((amp >= 0.4) & (amp <= 1.0))
        elif cls == "eclipsing_binary":
            d1 = np.array([p["eclipse_depth_mag"] for p in params])
            d2 = np.array([p["secondary_depth_mag"] for p in params])
            assert np.all((per >= 0.3) & (per <= 10)) and np.all(d2 < d1)
        elif cls == "long_period":
            assert np.all((per >= 100) & (per <= 500)) and np.all((amp >= 1) & (amp <= 4))
        elif cls == "agn":
            tau = np.array([p["tau_days"] for p in params])
            sf = np.array([p["sf_inf_mag"] for p in params])
            assert np.all((tau >= 50) & (tau <= 500)) and np.all((sf >= 0.1) & (sf <= 0.4))
        elif cls == "constant":
            assert np.all(amp == 0.0)


def test_cadence_is_survey_like(sample) -> None:
    lcs = [lc for cls in VARIABILITY_CLASSES for lc in sample[cls][0]]
    n_obs = np.array([lc["mjd"].size for lc in lcs])
    assert n_obs.min() < 90 and n_obs.max() > 200  # sparse and dense objects
    med_gap = []
    for lc in lcs:
        gaps = np.diff(np.unique(np.floor(lc["mjd"])))
        assert gaps.max() > 60  # a seasonal gap inside two years
        assert np.sum(gaps > 60) <= 3  # ... and only the seasonal gaps are that long
        med_gap.append(np.median(gaps))
    assert 1.0 <= np.min(med_gap) and np.max(med_gap) <= 15.0
    assert 2.0 <= np.median(med_gap) <= 6.0  # typically every few nights within seasons
    # per-band cadences differ: i is observed less often than r overall; bands vary per object
    counts = np.array([[np.sum(lc["band"] == b) for b in LC_BANDS] for lc in lcs])
    assert counts[:, 2].sum() < counts[:, 1].sum()
    frac_r = counts[:, 1] / counts.sum(axis=1)
    assert frac_r.std() > 0.03
    # some visits take two bands within an hour
    dt = np.concatenate([np.diff(lc["mjd"]) for lc in lcs])
    assert np.mean(dt < 0.06) > 0.1


def test_errors_heteroscedastic(sample) -> None:
    lcs, params = sample["constant"]
    mm = np.array([p["mean_mag"] for p in params])
    med_err = np.array([np.median(_band(lc, "r")[2]) for lc in lcs])
    assert np.corrcoef(mm, np.log(med_err))[0, 1] > 0.9  # fainter -> larger errors
    assert med_err[mm < 17].max() < 0.03 and med_err[mm > 19.5].min() > 0.02
    for lc in lcs:  # within an object, the faint g band has larger errors than r
        assert np.median(_band(lc, "g")[2]) >= np.median(_band(lc, "r")[2]) * 0.95


def test_constant_chi2_near_one(sample) -> None:
    lcs, _ = sample["constant"]
    ratios = []
    for lc in lcs:
        chi2 = dof = 0
        for b in LC_BANDS:
            _, y, e = _band(lc, b)
            if y.size >= 3:
                c, d = _clipped_chi2(y, e)
                chi2, dof = chi2 + c, dof + d
        ratios.append(chi2 / dof)
    ratios = np.array(ratios)
    assert 0.9 < np.median(ratios) < 1.1
    assert np.all((ratios > 0.6) & (ratios < 1.6))


def test_variables_are_variable(sample) -> None:
    for cls in ("rr_lyrae", "cepheid", "long_period", "agn"):
        lcs, _ = sample[cls]
        ratios = [np.divide(*_clipped_chi2(*_band(lc, "r")[1:], nsig=50.0)) for lc in lcs]
        assert np.median(ratios) > 5.0, cls


def test_outliers_are_rare(sample) -> None:
    params = [p for cls in VARIABILITY_CLASSES for p in sample[cls][1]]
    n_out = sum(p["n_outliers"] for p in params)
    n_obs = sum(p["n_obs"] for p in params)
    assert 0.002 < n_out / n_obs < 0.02


@pytest.mark.parametrize("var_class,f_max,tol,min_frac", [
    ("rr_lyrae", 5.0, 0.01, 0.8), ("cepheid", 2.5, 0.02, 0.8), ("long_period", 1.0, 0.15, 0.8)])
def test_lomb_scargle_recovers_period(sample, var_class: str, f_max: float, tol: float,
                                      min_frac: float) -> None:
    """r-band LS on a grid wide enough to include the 1-day aliases of the true frequency."""
    lcs, params = sample[var_class]
    ok = [abs(_ls_period(*_band(lc, "r"), f_max) / p["period_days"] - 1) < tol
          for lc, p in zip(lcs, params)]
    assert np.mean(ok) >= min_frac


def test_lomb_scargle_eclipsing_binaries(sample) -> None:
    """Wide (contact-like) eclipses: LS finds P or P/2; narrow detached ones are often missed."""
    lcs, params = sample["eclipsing_binary"]
    ok, wide = [], []
    for lc, p in zip(lcs, params):
        ratio = _ls_period(*_band(lc, "r"), 7.0) / p["period_days"]
        ok.append(min(abs(ratio - 1), abs(2 * ratio - 1)) < 0.01)
        wide.append(p["eclipse_width_phase"] >= 0.08)
    ok, wide = np.array(ok), np.array(wide)
    assert wide.sum() >= 8 and (~wide).sum() >= 8
    assert ok[wide].mean() >= 0.65  # typically ~0.85; failures are faint, shallow systems
    assert ok.mean() >= 0.3


def test_eclipses_at_true_epoch() -> None:
    """Folded at the true ephemeris, g points at primary minimum are fainter by ~ the true depth."""
    n = 120
    cols, params = simulate_lightcurves(["eclipsing_binary"] * n, [16.0] * n, seed=7)
    checked, good = 0, 0
    for lc, p in zip(_split(cols, n), params):
        t, y, _ = _band(lc, "g")
        phase = ((t - p["t0_mjd"]) / p["period_days"] + 0.5) % 1.0 - 0.5
        w = p["eclipse_width_phase"]
        inside = np.abs(phase) < 0.5 * w
        outside = (np.abs(phase) > 4 * w) & (np.abs(np.abs(phase) - 0.5) > 4 * w)
        if inside.sum() >= 2 and outside.sum() >= 5:
            checked += 1
            depth = np.median(y[inside]) - np.median(y[outside])
            good += 0.6 * p["eclipse_depth_mag"] < depth < 1.15 * p["eclipse_depth_mag"]
    assert checked >= 8 and good / checked >= 0.9


def test_pulsation_amplitude_decreases_to_red(sample) -> None:
    for cls in ("rr_lyrae", "cepheid", "long_period"):
        lcs, params = sample[cls]
        ok = []
        for lc, p in zip(lcs, params):
            amps = []
            for b in LC_BANDS:
                _, y, _ = _band(lc, b)
                amps.append(np.ptp(np.percentile(y, [5, 95])) if y.size >= 15 else math.nan)
            if np.all(np.isfinite(amps)) and p["mean_mag"] < 19:
                ok.append(amps[0] > amps[1] > amps[2])
        assert len(ok) >= 5 and np.mean(ok) >= 0.7, cls


def test_supernova_single_peak(sample) -> None:
    lcs, params = sample["supernova"]
    n_bright_total, n_bright_near, peak_found = 0, 0, []
    colour_peak, colour_late = [], []
    for lc, p in zip(lcs, params):
        t0 = p["t0_mjd"]
        assert p["amplitude_mag"] > 1.0 and p["rise_days"] > 0 and p["fall_days"] > p["rise_days"]
        for b in LC_BANDS:
            t, y, e = _band(lc, b)
            far = np.abs(t - t0) > 250
            if far.sum() < 5:
                continue
            base = np.median(y[far])
            bright = y < base - np.maximum(1.0, 5 * e)
            n_bright_total += bright.sum()
            n_bright_near += np.sum(bright & (t > t0 - 40) & (t < t0 + 150))
        t, y, _ = _band(lc, "r")
        if np.any(np.abs(t - t0) < 5):
            peak_found.append(abs(t[np.argmin(y)] - t0) < 15)
        tg, yg, _ = _band(lc, "g")
        for tt, yy in zip(tg, yg):
            j = np.argmin(np.abs(t - tt))
            if abs(t[j] - tt) < 0.1:
                if abs(tt - t0) < 7:
                    colour_peak.append(yy - y[j])
                elif 20 < tt - t0 < 60:
                    colour_late.append(yy - y[j])
    assert n_bright_total > 100 and n_bright_near / n_bright_total > 0.97
    assert len(peak_found) >= 8 and np.mean(peak_found) >= 0.9
    assert len(colour_peak) >= 5 and len(colour_late) >= 5
    assert np.median(colour_late) - np.median(colour_peak) > 0.3  # reddens after peak


def test_agn_bands_correlated(sample) -> None:
    lcs, params = sample["agn"]
    corrs, sf_ratio = [], []
    for lc, p in zip(lcs, params):
        tg, yg, _ = _band(lc, "g")
        tr, yr, _ = _band(lc, "r")
        j = np.clip(np.searchsorted(tr, tg), 1, max(tr.size - 1, 1))
        j = np.where(np.abs(tr[j - 1] - tg) < np.abs(tr[j] - tg), j - 1, j) if tr.size > 1 else j * 0
        pair = np.abs(tr[j] - tg) < 0.1
        if pair.sum() >= 15 and p["mean_mag"] < 19 and p["sf_inf_mag"] > 0.15:
            corrs.append(np.corrcoef(yg[pair], yr[j][pair])[0, 1])
            sf_ratio.append(np.std(yg[pair]) / np.std(yr[j][pair]))
    assert len(corrs) >= 5
    assert np.median(corrs) > 0.8 and np.median(sf_ratio) > 1.0


def test_deterministic_and_prefix_independent() -> None:
    classes = list(VARIABILITY_CLASSES) * 2
    mags = np.linspace(16, 20, len(classes))
    a_cols, a_par = simulate_lightcurves(classes, mags, seed=3)
    b_cols, b_par = simulate_lightcurves(classes, mags, seed=3)
    for k in a_cols:
        np.testing.assert_array_equal(a_cols[k], b_cols[k])
    assert a_par == b_par or all(
        all((x == y) or (math.isnan(x) and math.isnan(y)) for x, y in zip(pa.values(), pb.values()))
        for pa, pb in zip(a_par, b_par))
    c_cols, _ = simulate_lightcurves(classes[:5], mags[:5], seed=3)
    n5 = int(np.searchsorted(a_cols["row"], 5))
    for k in c_cols:
        np.testing.assert_array_equal(c_cols[k], a_cols[k][:n5])
    d_cols, _ = simulate_lightcurves(classes, mags, seed=4)
    assert d_cols["mjd"].size != a_cols["mjd"].size or not np.array_equal(d_cols["mjd"], a_cols["mjd"])


def test_long_format_matches_single_objects() -> None:
    classes, mags, seed = ["agn", "rr_lyrae", "supernova"], [17.0, 18.0, 19.0], 11
    cols, params = simulate_lightcurves(classes, mags, seed=seed)
    assert set(cols) == {"row", "mjd", "mag", "mag_err", "band"}
    assert cols["row"].dtype == np.int64 and np.all(np.diff(cols["row"]) >= 0)
    assert set(np.unique(cols["row"])) == {0, 1, 2}
    children = np.random.SeedSequence(seed).spawn(3)
    for i, lc in enumerate(_split(cols, 3)):
        ref, p = simulate_lightcurve(classes[i], np.random.default_rng(children[i]), mags[i])
        for k in ref:
            np.testing.assert_array_equal(lc[k], ref[k])
        assert p["n_obs"] == params[i]["n_obs"] == lc["mjd"].size


def test_empty_and_invalid_inputs() -> None:
    cols, params = simulate_lightcurves([], [], seed=0)
    assert params == [] and all(v.size == 0 for v in cols.values())
    assert cols["row"].dtype == np.int64 and cols["mag"].dtype == np.float32
    with pytest.raises(ValueError):
        simulate_lightcurve("quasar", np.random.default_rng(0), 18.0)
    with pytest.raises(ValueError):
        simulate_lightcurve("agn", np.random.default_rng(0), float("nan"))
    with pytest.raises(ValueError):
        simulate_lightcurves(["agn", "agn"], [18.0], seed=0)
