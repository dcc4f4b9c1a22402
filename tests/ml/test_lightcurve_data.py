from __future__ import annotations

import numpy as np
import pytest
import torch

from astroexplorer.core.errors import UserError
from astroexplorer.core.lightcurves import LightCurve
from astroexplorer.ml.lightcurve_data import (
    band_index_of,
    check_lightcurves,
    read_lightcurves,
)
from tests.ml.lightcurve_helpers import ListLightCurveSource, make_periodic_and_constant

BANDS = {"g": 0, "r": 1, "i": 2}


def _lc(t, v, e=None, band=None, **kw) -> LightCurve:
    t = np.asarray(t, float)
    e = np.full(t.size, 0.05) if e is None else np.asarray(e, float)
    band = np.array(["r"] * t.size) if band is None else np.asarray(band)
    return LightCurve(t, np.asarray(v, float), e, band, **kw)


def test_padding_masks_and_irregular_times_are_kept():
    src, _ = make_periodic_and_constant(n=5, points=(8, 15))
    ragged = read_lightcurves(src, np.arange(5), band_index_of(src), max_length=200)
    lengths = np.array([len(src.get(i)) for i in range(5)])
    assert ragged.lengths.tolist() == lengths.tolist()
    batch = ragged.batch(np.array([3, 0, 4]))
    assert batch.time.shape == (3, lengths[[3, 0, 4]].max()) and batch.time.dtype == torch.float32
    assert batch.band.dtype == torch.int64 and batch.mask.dtype == torch.bool
    for j, row in enumerate([3, 0, 4]):
        m = int(lengths[row])
        assert batch.mask[j, :m].all() and not batch.mask[j, m:].any()
        assert batch.lengths[j] == m
        lc = src.get(row)
        # Actual times since the first observation, not positions or a regular grid.
        np.testing.assert_allclose(batch.time[j, :m].numpy(), lc.time - lc.time[0], atol=1e-4)
        assert batch.band[j, :m].tolist() == [BANDS[b] for b in lc.band]
        assert not batch.value[j, m:].any() and not batch.time[j, m:].any()


def test_magnitudes_are_flipped_and_fluxes_asinh_scaled_alike():
    mags, _ = make_periodic_and_constant(n=4, seed=3)
    fluxes, _ = make_periodic_and_constant(n=4, seed=3, magnitudes=False)
    a = read_lightcurves(mags, np.arange(4), BANDS, 200)
    b = read_lightcurves(fluxes, np.arange(4), BANDS, 200)
    for k in range(4):
        lo, hi = a.offsets[k], a.offsets[k + 1]
        lc = mags.get(k)
        # Brighter (smaller magnitude) is larger, like flux; about each band's median.
        expected = -lc.value
        for name in "gri":
            expected[lc.band == name] -= np.median(expected[lc.band == name])
        np.testing.assert_allclose(a.value[lo:hi] * a.scale[k], expected, atol=1e-5)
        # Bright sources: asinh(flux) is log(flux) up to a constant, so both normalised
        # curves agree closely; robust median 0 and errors in the same units.
        np.testing.assert_allclose(a.value[lo:hi], b.value[lo:hi], atol=0.02)
        np.testing.assert_allclose(a.error[lo:hi], b.error[lo:hi], rtol=0.02)
        assert abs(np.median(a.value[lo:hi])) < 1e-6
    # A constant star's points scatter by about its errors: normalised errors ~ 1;
    # the variable's errors are much smaller than its spread.
    assert 0.5 < np.median(a.error[a.offsets[0]:a.offsets[1]]) <= 1.0
    assert np.median(a.error[a.offsets[1]:a.offsets[2]]) < 0.3
    # Colours are kept apart, unscaled, in magnitudes (brighter = larger): g - r = 0.5.
    lo, hi = a.offsets[0], a.offsets[1]
    band = a.band[lo:hi]
    assert a.level[lo:hi][band == 0][0] - a.level[lo:hi][band == 1][0] == pytest.approx(-0.5, abs=0.03)
    assert np.ptp(a.level[lo:hi][band == 0]) == 0
    batch = a.batch(np.array([0, 1]))
    np.testing.assert_allclose(batch.log_scale.numpy(), np.log10(a.scale[:2]), rtol=1e-6)


def test_faint_fluxes_around_zero_stay_finite():
    t = np.arange(10.0)
    flux = np.array([-3.0, 0.0, 2.0, 1.0, -1.0, 50.0, 0.5, 0.0, 1.5, -0.5])
    src = ListLightCurveSource([_lc(t, flux, np.ones(10), is_magnitude=False),
                                _lc(t, flux + 1, np.ones(10), is_magnitude=False)])
    r = read_lightcurves(src, [0, 1], BANDS, 200)
    assert np.isfinite(r.value).all() and np.isfinite(r.error).all()
    assert r.value[5] == r.value[:10].max()  # the outburst stays the brightest point


def test_nan_points_are_dropped_and_missing_errors_filled():
    lc = _lc([1, 2, np.nan, 4, 5, 6], [18, np.nan, 18.2, 18.1, 18.3, 17.9],
             [0.1, 0.1, 0.1, np.nan, 0.2, -1.0])
    r = read_lightcurves(ListLightCurveSource([lc, lc]), [0], BANDS, 200)
    assert r.lengths.tolist() == [4]
    np.testing.assert_allclose(r.time, [0, 3, 4, 5])
    # NaN and negative errors become the median of the valid ones (0.1, 0.2 -> 0.15).
    assert r.error[1] == pytest.approx(0.15 / r.scale[0]) and r.error[3] == r.error[1]


def test_long_light_curves_are_subsampled_evenly_and_reproducibly():
    t = np.sort(np.random.default_rng(0).uniform(0, 1000, 5000))
    index = np.arange(5000.0)  # the "magnitude" of each point is its index
    src = ListLightCurveSource([_lc(t, index), _lc(t[:50], index[:50])])
    r1 = read_lightcurves(src, [0, 1], BANDS, max_length=100, seed=7)
    r2 = read_lightcurves(src, [0, 1], BANDS, max_length=100, seed=7)
    r3 = read_lightcurves(src, [0, 1], BANDS, max_length=100, seed=8)
    assert r1.lengths.tolist() == [100, 50]
    # Undo the normalisation (one band: level 0) to find which points were kept.
    kept = np.rint(-(r1.value[:100] * r1.scale[0] + r1.centre[0])).astype(int)
    assert np.all(kept // 50 == np.arange(100))  # one point per slice of 50
    # Their actual times, relative to the first kept point.
    np.testing.assert_allclose(r1.time[:100], t[kept] - t[kept[0]], atol=1e-3)
    assert np.array_equal(r1.time, r2.time) and not np.array_equal(r1.time, r3.time)


def test_empty_and_short_light_curves_pad_without_error():
    src = ListLightCurveSource([_lc([], []), _lc([1.0], [18.0]), _lc([1, 2, 3], [18, 19, 18])])
    r = read_lightcurves(src, [0, 1, 2], BANDS, 200)
    assert r.lengths.tolist() == [0, 1, 3]
    batch = r.batch(np.array([0, 1]))
    assert batch.mask.tolist() == [[False], [True]]
    assert np.isfinite(batch.value.numpy()).all()


def test_bad_sources_are_user_errors():
    with pytest.raises(UserError, match="at least 2 light curves"):
        check_lightcurves(ListLightCurveSource([_lc([1, 2, 3], [1, 2, 3])]), "X")
    with pytest.raises(UserError, match="none of the 2 light curves has any observation"):
        check_lightcurves(ListLightCurveSource([_lc([], []), _lc([], [])]), "X")
    assert band_index_of(ListLightCurveSource([], bands=("u", "g"))) == {"u": 0, "g": 1}
