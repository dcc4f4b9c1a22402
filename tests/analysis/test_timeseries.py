"""Lomb-Scargle periodograms and binning of light curves."""

from __future__ import annotations

import numpy as np
import pytest

from astroexplorer.analysis.timeseries import (
    MAX_FREQUENCIES,
    bin_lightcurve,
    frequency_grid,
    lomb_scargle,
    lomb_scargle_job,
)
from astroexplorer.core.errors import UserError
from astroexplorer.core.lightcurves import LightCurve
from astroexplorer.jobs.base import Progress


def sinusoid(period: float, n: int = 150, baseline: float = 300.0, seed: int = 0,
             bands: tuple[str, ...] = ("g",), noise: float = 0.05,
             offsets: tuple[float, ...] = (0.0, 0.4, 0.7)) -> LightCurve:
    """Irregularly sampled sinusoid of amplitude 0.3 mag around 18 mag, shape (n,)."""
    rng = np.random.default_rng(seed)
    time = np.sort(59000.0 + rng.uniform(0.0, baseline, n))
    band_index = rng.integers(0, len(bands), n)
    value = (18.0 + np.asarray(offsets)[band_index]
             + 0.3 * np.sin(2 * np.pi * time / period) + rng.normal(0.0, noise, n))
    return LightCurve(time=time, value=value, error=np.full(n, noise),
                      band=np.asarray(bands)[band_index])


@pytest.mark.parametrize("period", [0.37, 2.9, 41.0])
def test_single_band_recovers_a_known_period(period: float) -> None:
    result = lomb_scargle(sinusoid(period, seed=int(period * 10)))
    assert result.best_period == pytest.approx(period, rel=0.01)
    assert result.method == "single-band" and result.bands == ("g",)
    assert result.false_alarm_probability < 1e-6
    assert result.frequency.shape == result.power.shape
    assert np.all(np.diff(result.frequency) > 0)
    # The grid's peak and the refined peak agree.
    assert result.best_power >= result.power.max() - 1e-9
    assert result.min_period < period < result.max_period


def test_noise_has_no_significant_peak() -> None:
    rng = np.random.default_rng(5)
    time = np.sort(rng.uniform(0, 200, 120))
    lc = LightCurve(time, rng.normal(18, 0.05, 120), np.full(120, 0.05), np.full(120, "r"))
    assert lomb_scargle(lc).false_alarm_probability > 0.01


def test_multiband_recovers_the_shared_period() -> None:
    lc = sinusoid(0.61, n=240, bands=("g", "r", "i"), seed=3)
    result = lomb_scargle(lc)
    assert result.method == "multiband"
    assert set(result.bands) == {"g", "r", "i"}
    assert result.best_period == pytest.approx(0.61, rel=0.01)
    assert np.isnan(result.false_alarm_probability)
    one = lomb_scargle(lc, bands=["r"])
    assert one.bands == ("r",) and one.method == "single-band"
    assert one.n_points == int(np.sum(lc.band == "r"))
    with pytest.raises(UserError, match="no band 'z'"):
        lomb_scargle(lc, bands=["z"])


def test_nan_points_are_dropped_and_missing_errors_tolerated() -> None:
    lc = sinusoid(1.7, n=200, seed=8)
    value, error = lc.value.copy(), lc.error.copy()
    value[::10] = np.nan
    error[::7] = np.nan
    time = lc.time.copy()
    time[3] = np.nan
    holed = LightCurve(time, value, error, lc.band)
    result = lomb_scargle(holed)
    assert result.n_points == 200 - 20 - 1
    assert result.best_period == pytest.approx(1.7, rel=0.01)
    no_errors = LightCurve(lc.time, lc.value, np.full(200, np.nan), lc.band)
    assert lomb_scargle(no_errors).best_period == pytest.approx(1.7, rel=0.01)


def test_too_few_points_is_a_user_error() -> None:
    one = LightCurve(np.array([59000.0]), np.array([18.0]), np.array([0.1]), np.array(["g"]))
    with pytest.raises(UserError, match="1 usable point .*at least 3"):
        lomb_scargle(one)
    nans = LightCurve(np.arange(5.0), np.full(5, np.nan), np.full(5, 0.1), np.full(5, "g"))
    with pytest.raises(UserError, match="0 usable points"):
        lomb_scargle(nans)
    same_time = LightCurve(np.zeros(4), np.arange(4.0), np.full(4, 0.1), np.full(4, "g"))
    with pytest.raises(UserError, match="spans no time"):
        lomb_scargle(same_time)
    with pytest.raises(UserError, match="period range"):
        lomb_scargle(sinusoid(1.0), min_period=5.0, max_period=2.0)


def test_frequency_grid_defaults_and_cap() -> None:
    rng = np.random.default_rng(2)
    time = np.sort(rng.uniform(0, 100, 300))
    frequency, capped = frequency_grid(time, samples_per_peak=5)
    baseline = time.max() - time.min()
    assert frequency[0] == pytest.approx(1 / baseline)
    assert np.allclose(np.diff(frequency), 1 / (5 * baseline))
    steps = np.diff(time)
    assert 1 / frequency[-1] == pytest.approx(2 * np.percentile(steps[steps > 0], 5), rel=0.01)
    assert not capped
    dense = np.linspace(0, 1000, 50_001)  # 0.02 d steps over 1000 d: 125,000 frequencies
    frequency, capped = frequency_grid(dense)
    assert capped and frequency.size == MAX_FREQUENCIES
    assert 1 / frequency[-1] > 0.04  # the shortest period was raised
    frequency, _ = frequency_grid(time, min_period=0.5, max_period=10.0)
    assert frequency[0] == pytest.approx(0.1) and frequency[-1] == pytest.approx(2.0, rel=1e-3)


def test_job_reports_progress() -> None:
    job = lomb_scargle_job(sinusoid(3.3))
    reports = []
    try:
        while True:
            reports.append(next(job))
    except StopIteration as stop:
        result = stop.value
    assert all(isinstance(r, Progress) for r in reports) and len(reports) == 2
    assert result.best_period == pytest.approx(3.3, rel=0.01)


def test_demo_pulsators_recovered() -> None:
    """Simulated RR Lyrae and Cepheids of the demo survey (sparse, 3 bands, outliers)."""
    from astroexplorer.demo.lightcurves import simulate_lightcurves

    classes = ["rr_lyrae"] * 3 + ["cepheid"] * 3
    columns, params = simulate_lightcurves(classes, [18.0] * 6, seed=43)
    rows = np.asarray(columns["row"])
    for i in range(6):
        m = rows == i
        lc = LightCurve(np.asarray(columns["mjd"])[m], np.asarray(columns["mag"])[m].astype(float),
                        np.asarray(columns["mag_err"])[m].astype(float),
                        np.asarray(columns["band"])[m])
        true = params[i]["period_days"]
        # Searched down to 0.2 d (RR Lyrae pulsate in 0.25-0.75 d), as a user would.
        found = lomb_scargle(lc, min_period=0.2).best_period
        assert found == pytest.approx(true, rel=0.01), classes[i]


def test_binning_weighted_means_per_band() -> None:
    time = np.array([0.0, 0.2, 0.4, 1.1, 0.1, 0.3, 5.0])
    value = np.array([10.0, 12.0, 14.0, 20.0, 1.0, 3.0, 7.0])
    error = np.array([1.0, 1.0, 2.0, 1.0, np.nan, np.nan, np.nan])
    band = np.array(["g", "g", "g", "g", "r", "r", "r"])
    binned = bin_lightcurve(LightCurve(time, value, error, band), 1.0)
    assert list(binned.band) == ["g", "g", "r", "r"]
    assert list(binned.count) == [3, 1, 2, 1]
    w = np.array([1.0, 1.0, 0.25])
    assert binned.value[0] == pytest.approx(np.sum(w * value[:3]) / w.sum())
    assert binned.error[0] == pytest.approx(1 / np.sqrt(w.sum()))
    assert binned.time[0] == pytest.approx(0.2)
    assert binned.value[1] == 20.0 and binned.error[1] == 1.0
    # No errors: plain mean and the standard error of the mean; one point: NaN error.
    assert binned.value[2] == pytest.approx(2.0)
    assert binned.error[2] == pytest.approx(np.std([1.0, 3.0], ddof=1) / np.sqrt(2))
    assert np.isnan(binned.error[3]) and binned.value[3] == 7.0


def test_binning_drops_nan_and_checks_width() -> None:
    lc = sinusoid(2.0, n=100, baseline=50.0, bands=("g", "r"))
    value = lc.value.copy()
    value[:5] = np.nan
    binned = bin_lightcurve(LightCurve(lc.time, value, lc.error, lc.band), 5.0)
    assert binned.count.sum() == 95
    assert np.all(np.diff(binned.time[binned.band == "g"]) > 0)
    assert np.all(np.isfinite(binned.value))
    for bad in (0.0, -1.0, np.nan):
        with pytest.raises(UserError, match="bin width"):
            bin_lightcurve(lc, bad)
    empty = LightCurve(np.empty(0), np.empty(0), np.empty(0), np.empty(0, dtype=str))
    assert len(bin_lightcurve(empty, 1.0)) == 0
