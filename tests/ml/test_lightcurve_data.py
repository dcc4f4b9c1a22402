from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from astropy.table import MaskedColumn

from astroexplorer.core.errors import UserError
from astroexplorer.core.lightcurves import LightCurve, TableLightCurveSource
from astroexplorer.demo.survey import build_survey_catalogue, survey_lightcurve_source
from astroexplorer.ml.lightcurve_data import (
    RaggedLightCurves,
    _segment_median,
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


# --- The per-object implementation of read_lightcurves before it was vectorised,
# kept verbatim as the reference the vectorised one must reproduce bit for bit
# (cached embeddings and resumed runs depend on it). ---

_REF_MAD_TO_SIGMA = 1.4826
_REF_SCALE_FLOOR = 1e-3


def _reference_stratified(m: int, length: int, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(length)
    return np.minimum(((np.arange(length) + u) * (m / length)).astype(np.int64), m - 1)


def _reference_normalise(value: np.ndarray, error: np.ndarray, band: np.ndarray,
                         is_magnitude: bool
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    good_err = np.isfinite(error) & (error > 0)
    med_err = float(np.median(error[good_err])) if good_err.any() else np.nan
    if is_magnitude:
        x, ex = -value, error
    else:
        spread = _REF_MAD_TO_SIGMA * float(np.median(np.abs(value - np.median(value))))
        f0 = med_err if np.isfinite(med_err) else spread
        if not f0 > 0:
            f0 = max(float(np.median(np.abs(value))), 1.0)
        x = np.arcsinh(value / f0)
        ex = error / np.sqrt(value ** 2 + f0 ** 2)
        good = np.isfinite(ex) & (ex > 0)
        med_err = float(np.median(ex[good])) if good.any() else np.nan
    centre = float(np.median(x))
    band_median = np.array([np.median(x[band == k]) if np.any(band == k) else 0.0
                            for k in range(int(band.max()) + 1)])
    resid = x - band_median[band]
    mad = _REF_MAD_TO_SIGMA * float(np.median(np.abs(resid)))
    scale = max(mad, med_err if np.isfinite(med_err) else 0.0, _REF_SCALE_FLOOR)
    ex = np.where(np.isfinite(ex) & (ex > 0), ex, med_err if np.isfinite(med_err) else 0.0)
    return resid / scale, ex / scale, band_median[band] - centre, centre, scale


def _reference_read_lightcurves(source, rows, band_index, max_length, seed=0
                                ) -> RaggedLightCurves:
    rows = np.asarray(rows, dtype=np.int64)
    parts: dict[str, list[np.ndarray]] = {"time": [], "value": [], "error": [], "band": [],
                                          "level": []}
    lengths = np.zeros(rows.size, dtype=np.int64)
    centre = np.zeros(rows.size)
    scale = np.ones(rows.size)
    for i, row in enumerate(rows):
        lc = source.get(int(row))
        t = np.asarray(lc.time, dtype=np.float64)
        v = np.asarray(lc.value, dtype=np.float64)
        keep = np.isfinite(t) & np.isfinite(v)
        if not keep.any():
            continue
        t, v = t[keep], v[keep]
        e = np.asarray(lc.error, dtype=np.float64)[keep]
        band = np.asarray(lc.band).astype(str)[keep]
        order = np.argsort(t, kind="stable")
        if order.size > max_length:
            order = order[_reference_stratified(order.size, max_length,
                                                np.random.default_rng((seed, int(row))))]
        t, v, e, band = t[order], v[order], e[order], band[order]
        names, inverse = np.unique(band, return_inverse=True)
        codes = np.array([band_index.get(str(nm), 0) for nm in names], dtype=np.int16)
        x, ex, level, centre[i], scale[i] = _reference_normalise(v, e, inverse.reshape(-1),
                                                                 lc.is_magnitude)
        parts["time"].append((t - t[0]).astype(np.float32))
        parts["value"].append(x.astype(np.float32))
        parts["error"].append(ex.astype(np.float32))
        parts["band"].append(codes[inverse.reshape(-1)])
        parts["level"].append(level.astype(np.float32))
        lengths[i] = t.size
    offsets = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])

    def cat(name: str, dtype: type) -> np.ndarray:
        return np.concatenate(parts[name]).astype(dtype, copy=False) if parts[name] else \
            np.zeros(0, dtype)

    return RaggedLightCurves(cat("time", np.float32), cat("value", np.float32),
                             cat("error", np.float32), cat("band", np.int16),
                             cat("level", np.float32), offsets, centre, scale)


# --- The vectorised read_lightcurves against the reference, bit for bit. ---


def _assert_identical(got: RaggedLightCurves, want: RaggedLightCurves) -> None:
    for field in dataclasses.fields(RaggedLightCurves):
        a, b = getattr(got, field.name), getattr(want, field.name)
        assert a.dtype == b.dtype and a.shape == b.shape, field.name
        assert np.array_equal(a, b), field.name


def _check(source, rows, band_index, max_length, seed=0) -> RaggedLightCurves:
    got = read_lightcurves(source, rows, band_index, max_length, seed)
    _assert_identical(got, _reference_read_lightcurves(source, rows, band_index,
                                                       max_length, seed))
    return got


@pytest.fixture(scope="module")
def survey():
    table, _, _, lc_table = build_survey_catalogue(n_objects=300, seed=0)
    return table, lc_table


def _flux_source(table, lc_table, damage: bool) -> TableLightCurveSource:
    """The survey in fluxes (uJy-like, no 'mag' in the name or unit); ``damage``
    puts NaN times and fluxes, NaN / zero / negative / masked errors in it."""
    lc = lc_table.copy()
    mag = np.asarray(lc["mag"], dtype=np.float64)
    flux = 10 ** (-0.4 * (mag - 22))
    err = flux * np.asarray(lc["mag_err"], dtype=np.float64) * np.log(10) / 2.5
    mask = np.zeros(len(lc), dtype=bool)
    if damage:
        rng = np.random.default_rng(5)
        k = len(lc)
        flux[rng.choice(k, k // 50, replace=False)] = np.nan
        err[rng.choice(k, k // 20, replace=False)] = np.nan
        err[rng.choice(k, k // 20, replace=False)] = 0.0
        err[rng.choice(k, k // 50, replace=False)] = -1.0
        mask[rng.choice(k, k // 50, replace=False)] = True
        time = np.asarray(lc["mjd"], dtype=np.float64).copy()
        time[rng.choice(k, k // 50, replace=False)] = np.nan
        lc["mjd"] = time
    lc["flux"] = flux
    lc["flux_err"] = MaskedColumn(err, mask=mask)
    src = TableLightCurveSource(lc, np.asarray(table["object_id"]), "object_id", "mjd",
                                "flux", "flux_err", "band")
    assert not src.is_magnitude
    return src


@pytest.mark.parametrize("max_length", [64, 256])
def test_demo_survey_magnitudes_match_the_reference(survey, max_length):
    table, lc_table = survey
    src = survey_lightcurve_source(table, lc_table)
    rows = np.arange(len(src))
    r = _check(src, rows, band_index_of(src), max_length, seed=3)
    # Most of the survey's light curves are longer than 64 points: sub-sampled.
    assert (r.lengths == max_length).mean() > (0.5 if max_length == 64 else 0.0)
    # Rows out of order and repeated; a band index without "i" ("i" gets index 0).
    rows = np.random.default_rng(1).integers(0, len(src), 400)
    _check(src, rows, {"g": 0, "r": 1}, max_length, seed=4)


@pytest.mark.parametrize("damage", [False, True])
def test_demo_survey_fluxes_match_the_reference(survey, damage):
    table, lc_table = survey
    src = _flux_source(table, lc_table, damage)
    rows = np.arange(len(src))
    for max_length in (64, 256):
        _check(src, rows, band_index_of(src), max_length, seed=2)
    _check(src, np.concatenate([rows[::-3], rows[:50]]), {"r": 2}, 100, seed=9)


def test_unsorted_and_damaged_table_matches_the_reference(survey):
    """Observations stored out of time order (ties included) and out of id order."""
    table, lc_table = survey
    lc = lc_table.copy()
    rng = np.random.default_rng(7)
    time = np.round(np.asarray(lc["mjd"], dtype=np.float64), 0)  # many equal times
    time[rng.choice(len(lc), 300, replace=False)] = np.nan
    lc["mjd"] = time
    lc = lc[rng.permutation(len(lc))]
    src = TableLightCurveSource(lc, np.asarray(table["object_id"]), "object_id", "mjd",
                                "mag", "mag_err", "band")
    _check(src, np.arange(len(src)), band_index_of(src), 64, seed=1)
    _check(src, rng.integers(0, len(src), 500), band_index_of(src), 256)


def _edge_curves() -> list[LightCurve]:
    nan = np.nan
    rng = np.random.default_rng(11)
    long_t = rng.uniform(0, 100, 300).round(1)  # unsorted, with ties
    long_band = rng.choice(["g", "r", "i", "z"], 300)
    f0, f1 = 0.0003813247217822376, 4.133511842886342
    assert f0 ** 2 != f0 * f0 and f1 ** 2 != f1 * f1

    def flux(t, v, e, band):
        return _lc(t, v, e, band, value_name="flux", value_unit="uJy", is_magnitude=False)

    return [
        _lc([], []),                                                    # no points
        _lc([1, 2, 3], [nan, nan, nan]),                                # only NaN values
        _lc([nan, nan], [18, 19]),                                      # only NaN times
        _lc([5.0], [18.0]),                                             # one point
        _lc([3, 1], [18.0, 18.5]),                                      # two, unsorted
        _lc([1, 2, 3, 4], [18, 18.2, 18.1, 17.9], [nan, nan, nan, nan]),  # no errors
        _lc([1, 2, 3, 4, 5], [18, 18.2, 18.1, 17.9, 18], [0, 0.1, nan, -1, 0.2]),
        _lc([1, 2, 3], [18, 18, 18], [0, 0, 0]),                        # constant, no errors
        _lc([4, nan, 2, 2, 1, 3], [18, 1, 18.3, 18.2, nan, 17.5],
            band=["g", "r", "z", "y", "g", ""]),                        # unknown bands
        _lc(np.arange(6.0), [18, 19, 18.5, 17, 18.2, 18.1],
            band=["ztf_g", "ztf_r", "ztf_g", "ztf_r", "ztf_i", "ztf_g"]),  # long names
        _lc(long_t, rng.normal(18, 0.3, 300), rng.uniform(0.01, 0.1, 300), long_band),
        _lc(long_t[:101], rng.normal(18, 0.3, 101), band=long_band[:101]),  # just over
        flux([1.0], [5.0], [nan], ["g"]),                               # one flux point
        flux([1, 2, 3, 4], [0.0, 0.0, 0.0, 0.0], [0, 0, 0, 0], ["r"] * 4),  # f0 from 1.0
        flux([1, 2, 3, 4], [3.0, 3.0, 3.0, 3.0], [nan] * 4, ["r"] * 4),  # spread 0
        flux([1, 2, 3, 4, 5], [-3.0, 0.5, 2.0, 50.0, -0.5], [nan, 2, 0, -1, nan],
             ["g", "r", "g", "r", "z"]),                                # spread as f0
        flux(np.arange(10.0), [-3, 0, 2, 1, -1, 50, 0.5, 0, 1.5, -0.5], np.ones(10),
             ["g", "r"] * 5),
        flux(long_t, rng.lognormal(3, 1, 300), rng.uniform(0.5, 2, 300), long_band),
        flux([2, 1, 2, nan], [1e-3, 2e-3, -1e-3, 4.0], [1e-4, nan, 2e-4, 1e-4], ["i"] * 4),
        # f0 = the error, whose f0 ** 2 (C pow) is not f0 * f0: the scale, float64,
        # is err / sqrt(flux ** 2 + f0 ** 2) and shows the difference.
        flux([1, 2, 3], [f0] * 3, [f0] * 3, ["g"] * 3),
        flux([1, 2, 3], [2 * f1] * 3, [f1] * 3, ["r"] * 3),
    ]


def test_edge_cases_match_the_reference():
    """A list source (read through the base class's loop over get)."""
    src = ListLightCurveSource(_edge_curves())
    n = len(src)
    for max_length in (100, 3, 1):
        _check(src, np.arange(n), BANDS, max_length, seed=5)
    rows = np.array([10, 0, 17, 10, 3, 3, 12, 1, 2])
    r = _check(src, rows, {"g": 2, "z": 1}, 100, seed=6)
    assert r.lengths[1] == 0 and r.centre[1] == 0 and r.scale[1] == 1
    _check(src, [], BANDS, 100)
    _check(src, [0, 1, 2], BANDS, 100)  # nothing to keep at all


def test_random_light_curves_match_the_reference():
    rng = np.random.default_rng(12)
    curves = []
    for k in range(400):
        m = int(rng.integers(0, 90))
        t = rng.uniform(0, 50, m).round(int(rng.integers(0, 3)))
        v = rng.normal(18, 0.5, m) if k % 2 else rng.lognormal(2, 1.5, m) - 3
        e = rng.uniform(0.01, 0.2, m)
        for arr, frac in ((t, 0.05), (v, 0.05), (e, 0.1)):
            arr[rng.random(m) < frac] = np.nan
        e[rng.random(m) < 0.05] = 0.0
        band = rng.choice(["g", "r", "i", "z", "u", "Y"][:int(rng.integers(1, 7))], m)
        curves.append(_lc(t, v, e, band, is_magnitude=bool(k % 2)))
    src = ListLightCurveSource(curves)
    for max_length, seed in ((40, 0), (200, 1)):
        _check(src, rng.permutation(len(src)), BANDS, max_length, seed)
    # Many band names (their (object, band) pairs are numbered differently).
    names = np.array([f"b{k}" for k in range(40)])
    many = [_lc(c.time, c.value, c.error, rng.choice(names, len(c)),
                is_magnitude=c.is_magnitude) for c in curves]
    _check(ListLightCurveSource(many), np.arange(len(many)), {"b3": 1, "b7": 2}, 60)


def test_segment_median_is_numpy_median_per_segment():
    rng = np.random.default_rng(3)
    n = 60
    count = rng.integers(0, 40, n)
    count[:5] = [0, 1, 2, 3, 1]
    segment = rng.permutation(np.repeat(np.arange(n), count))  # any order
    values = rng.normal(size=segment.size).round(1)  # ties
    values[segment == 7] = np.nan  # a NaN makes the median NaN, as np.median
    values[np.flatnonzero(segment == 8)[:1]] = np.inf
    got = _segment_median(values, segment, n)
    want = np.array([np.median(values[segment == k]) if count[k] else np.nan
                     for k in range(n)])
    assert np.array_equal(got, want, equal_nan=True)
    assert np.isnan(got[0]) and np.isnan(got[7])
    assert _segment_median(np.zeros(0), np.zeros(0, dtype=np.int64), 3).shape == (3,)
