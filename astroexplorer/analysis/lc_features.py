"""Classical light-curve features: the baseline the learned embeddings are measured against.

Per object: the Lomb-Scargle period and power of its best-sampled band, robust
amplitude, moments, percentiles, the fraction of points beyond one sigma, the von
Neumann ratio, the reduced chi-square about a constant, number of points, time
span, the median level and colours between consecutive bands. Values are
analysed as given (magnitudes or fluxes), each band about its own median so that
colours do not count as variability.
"""

from __future__ import annotations

import numpy as np
from astropy.timeseries import LombScargle
from scipy import stats

from ..core.catalogue import Embedding
from ..core.errors import UserError
from ..core.lightcurves import LightCurve, LightCurveSource
from ..jobs.base import Job, Progress

__all__ = ["BASE_FEATURES", "compute_lc_features", "feature_names", "lc_features_job"]

#: Features of every object, in column order; colours follow (see :func:`feature_names`).
BASE_FEATURES: tuple[str, ...] = (
    "log10_period_days", "period_power", "amplitude", "std", "skew", "kurtosis",
    "p05", "p25", "p75", "p95", "median", "beyond_1sigma", "von_neumann_eta",
    "log10_reduced_chi2", "n_points", "log10_span_days",
)
_MIN_POINTS = 5
_CHUNK = 128
#: Coarse periodogram peaks refined, and how many times finer their grid is.
_PEAKS = 10
_REFINE = 10


def feature_names(bands: tuple[str, ...] | list[str]) -> list[str]:
    """Column names: :data:`BASE_FEATURES`, then ``colour_<a>-<b>`` for each pair of
    consecutive bands (median of ``a`` minus median of ``b``)."""
    bands = [str(b) for b in bands]
    return list(BASE_FEATURES) + [f"colour_{a}-{b}" for a, b in zip(bands[:-1], bands[1:])]


def compute_lc_features(lc: LightCurve, bands: tuple[str, ...] | list[str],
                        min_period: float = 0.1, max_period: float = 1000.0,
                        samples_per_peak: float = 3.0) -> np.ndarray:
    """The features of one light curve, shape ``(F,)`` float64 (order of
    :func:`feature_names`); NaN where a feature is undefined (too few points, a
    band it lacks).

    Parameters
    ----------
    lc : LightCurve
        Times in days; points with a NaN time or value are ignored.
    bands : sequence of str
        The source's bands (for the colours).
    min_period, max_period : float
        Period range of the periodogram, days.
    samples_per_peak : float
        The coarse search grid's step is ``1 / (samples_per_peak * span)``; the 10
        highest peaks are then refined on a grid 10 times finer.
    """
    out = np.full(len(feature_names(bands)), np.nan)
    t = np.asarray(lc.time, dtype=np.float64)
    v = np.asarray(lc.value, dtype=np.float64)
    e = np.asarray(lc.error, dtype=np.float64)
    band = np.asarray(lc.band).astype(str)
    keep = np.isfinite(t) & np.isfinite(v)
    t, v, e, band = t[keep], v[keep], e[keep], band[keep]
    out[14] = t.size
    if t.size == 0:
        return out
    span = float(t.max() - t.min())
    out[15] = np.log10(span) if span > 0 else np.nan
    names, inverse = np.unique(band, return_inverse=True)
    medians = np.array([np.median(v[inverse == k]) for k in range(names.size)])
    out[10] = float(np.median(v))
    for j, (a, b) in enumerate(zip(list(bands)[:-1], list(bands)[1:])):
        if a in names and b in names:
            out[len(BASE_FEATURES) + j] = medians[names == a][0] - medians[names == b][0]
    if t.size < _MIN_POINTS:
        return out
    resid = v - medians[inverse]  # each band about its own median
    p05, p25, p75, p95 = np.percentile(resid, [5, 25, 75, 95])
    std = float(np.std(resid))
    out[2:10] = [p95 - p05, std, stats.skew(resid), stats.kurtosis(resid), p05, p25, p75, p95]
    out[11] = float(np.mean(np.abs(resid - resid.mean()) > std)) if std > 0 else 0.0
    order = np.argsort(t, kind="stable")
    var = float(np.var(resid))
    out[12] = float(np.mean(np.diff(resid[order]) ** 2) / var) if var > 0 else np.nan
    good = np.isfinite(e) & (e > 0)
    if good.sum() >= 2:
        w = 1.0 / e[good] ** 2
        r = resid[good]
        mean = np.sum(w * r) / np.sum(w)
        out[13] = np.log10(max(np.sum(w * (r - mean) ** 2) / (good.sum() - 1), 1e-12))
    # Periodogram of the best-sampled band (a shared period across bands would need
    # per-band means, which the multi-band model fits, at several times the cost).
    counts = np.bincount(inverse)
    k = int(np.argmax(counts))
    sel = inverse == k
    tb, vb, eb = t[sel], v[sel], e[sel]
    span_b = float(tb.max() - tb.min()) if tb.size else 0.0
    if tb.size >= _MIN_POINTS and span_b > 0:
        dy = eb if np.all(np.isfinite(eb) & (eb > 0)) else None
        out[0], out[1] = _best_period(tb, vb, dy, 1.0 / min(max_period, span_b),
                                      1.0 / min_period, 1.0 / (samples_per_peak * span_b))
    return out


def _best_period(t: np.ndarray, y: np.ndarray, dy: np.ndarray | None, f_min: float,
                 f_max: float, step: float) -> tuple[float, float]:
    """``(log10 period in days, power)`` of the highest Lomb-Scargle peak between
    frequencies ``f_min`` and ``f_max`` (1/d), for points ``t, y, dy`` (shape (M,)).

    A coarse search on a regular grid of ``step`` (Press & Rybicki's fast
    approximation, oversampling 3), then the exact periodogram on a grid
    :data:`_REFINE` times finer around each of the :data:`_PEAKS` highest coarse
    peaks: a few ms per object where the full fine grid took ~0.1 s, with the same
    or better agreement with the true periods of simulated variables.
    """
    n_freq = max(int((f_max - f_min) / step) + 1, 2)
    freq = f_min + step * np.arange(n_freq)
    ls = LombScargle(t, y, dy)
    with np.errstate(all="ignore"):
        power = np.asarray(ls.power(freq, method="fast", assume_regular_frequency=True,
                                    method_kwds={"algorithm": "fasper",
                                                 "trig_sum_kwds": {"oversampling": 3}}),
                           dtype=np.float64)
    power = np.where(np.isfinite(power), power, -np.inf)
    k = min(_PEAKS, n_freq - 1)
    top = np.argpartition(-power, k)[:k] if k < n_freq else np.arange(n_freq)
    offsets = step * np.linspace(-1.0, 1.0, 2 * _REFINE + 1)
    local = np.unique((freq[top][:, None] + offsets[None, :]).ravel())
    local = local[(local >= f_min) & (local <= f_max)]
    with np.errstate(all="ignore"):
        fine = np.asarray(ls.power(local, method="cython"), dtype=np.float64)
    fine = np.where(np.isfinite(fine), fine, -np.inf)
    best = int(np.argmax(fine))
    if not np.isfinite(fine[best]):
        return np.nan, np.nan
    return float(np.log10(1.0 / local[best])), float(fine[best])


def lc_features_job(lightcurves: LightCurveSource, min_period: float = 0.1,
                    max_period: float = 1000.0, samples_per_peak: float = 3.0
                    ) -> Job[Embedding]:
    """Classical features of every light curve, as an Embedding.

    Yields one Progress per 128 objects. Columns are standardised (zero mean, unit
    standard deviation, after the NaN fill); a NaN (undefined feature) becomes its
    column's median, a column undefined everywhere becomes 0.

    Returns
    -------
    Embedding
        ``vectors`` ``(N, F)`` float32, method ``"lc_features"``; config has
        ``feature_names``, the raw column ``mean`` and ``std`` used to standardise,
        ``n_undefined`` per column and the periodogram settings.

    Raises
    ------
    UserError
        Fewer than 2 light curves, no observations, or an invalid period range.
    """
    n = len(lightcurves)
    if n < 2:
        raise UserError(f"Light-curve features need at least 2 light curves, not {n}.")
    if int(lightcurves.n_points) == 0:
        raise UserError(f"None of the {n} light curves has any observation.")
    if not (0 < min_period < max_period) or not samples_per_peak > 0:
        raise UserError(f"The period range {min_period:g} to {max_period:g} d (and samples "
                        "per peak) must satisfy 0 < shortest < longest.")
    return _features(lightcurves, min_period, max_period, samples_per_peak)


def _features(source: LightCurveSource, min_period: float, max_period: float,
              samples_per_peak: float) -> Job[Embedding]:
    n = len(source)
    bands = tuple(str(b) for b in source.bands if str(b))
    names = feature_names(bands)
    raw = np.empty((n, len(names)))
    total = -(-n // _CHUNK) + 1
    for k, start in enumerate(range(0, n, _CHUNK)):
        yield Progress(k, total, f"light-curve features {start:,}/{n:,}")
        for row in range(start, min(start + _CHUNK, n)):
            raw[row] = compute_lc_features(source.get(row), bands, min_period, max_period,
                                           samples_per_peak)
    if not np.any(raw[:, BASE_FEATURES.index("n_points")] > 0):
        raise UserError(f"None of the {n} light curves has a point with a finite time and value.")
    undefined = ~np.isfinite(raw)
    with np.errstate(all="ignore"):
        fill = np.nanmedian(np.where(undefined, np.nan, raw), axis=0)
    fill = np.where(np.isfinite(fill), fill, 0.0)
    filled = np.where(undefined, fill, raw)
    mean, std = filled.mean(0), filled.std(0)
    std = np.where(std > 0, std, 1.0)
    vectors = (filled - mean) / std
    yield Progress(total, total, "light-curve features done")
    return Embedding(vectors.astype(np.float32), "lc_features", {
        "feature_names": names, "mean": mean.tolist(), "std": std.tolist(),
        "n_undefined": undefined.sum(0).tolist(), "min_period": min_period,
        "max_period": max_period, "samples_per_peak": samples_per_peak, "bands": list(bands),
        "periodogram": "Lomb-Scargle of the best-sampled band"})
