"""Light-curve analysis: Lomb-Scargle periodograms and time binning (no Qt).

Times are in the light curve's own system (MJD, BKJD, BTJD...: days), so
frequencies are in cycles per day and periods in days. Values may be magnitudes
or fluxes; both are analysed as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from astropy.timeseries import LombScargle

from ..core.errors import UserError
from ..core.lightcurves import LightCurve
from ..jobs.base import Job, Progress, run_sync

try:  # astropy >= 6.0
    from astropy.timeseries import LombScargleMultiband
except ImportError:  # pragma: no cover - depends on the installed astropy
    LombScargleMultiband = None

__all__ = ["Periodogram", "BinnedLightCurve", "frequency_grid", "lomb_scargle",
           "lomb_scargle_job", "bin_lightcurve", "MAX_FREQUENCIES", "MIN_POINTS"]

#: Largest frequency grid computed (about 0.4 s with astropy's "fast" method).
MAX_FREQUENCIES = 100_000
#: Fewest usable points for a periodogram (a sinusoid has 3 free parameters).
MIN_POINTS = 3
_REFINE_POINTS = 51


@dataclass(frozen=True)
class Periodogram:
    """A Lomb-Scargle periodogram of one light curve.

    Attributes
    ----------
    frequency : ndarray, shape (K,), float64
        Regular frequency grid, cycles per day (per unit of the light curve's time).
    power : ndarray, shape (K,), float64
        Normalised power ("standard" normalisation: 0 to 1).
    best_period : float
        Period of the highest peak, days, refined on a fine grid around it.
    best_power : float
        Power at ``best_period``.
    false_alarm_probability : float
        Baluev (2008) false-alarm probability of the peak over the grid's frequency
        range; NaN for a multi-band periodogram (astropy has none for it).
    bands : tuple of str
        Bands used.
    method : str
        "single-band" or "multiband" (astropy's ``LombScargleMultiband``, "fast").
    n_points : int
        Number of points used (finite time and value).
    capped : bool
        True when the grid would have exceeded ``MAX_FREQUENCIES`` and its shortest
        period was raised to fit.
    """

    frequency: np.ndarray
    power: np.ndarray
    best_period: float
    best_power: float
    false_alarm_probability: float
    bands: tuple[str, ...]
    method: str
    n_points: int
    capped: bool = False

    @property
    def period(self) -> np.ndarray:
        """Period of each grid frequency, days, shape (K,)."""
        return 1.0 / self.frequency

    @property
    def min_period(self) -> float:
        """Shortest period of the grid, days."""
        return float(1.0 / self.frequency[-1])

    @property
    def max_period(self) -> float:
        """Longest period of the grid, days."""
        return float(1.0 / self.frequency[0])


@dataclass(frozen=True)
class BinnedLightCurve:
    """A light curve averaged in time bins, per band.

    Attributes
    ----------
    time : ndarray, shape (B,), float64
        Mean time of the points in each bin (light curve's system, days).
    value : ndarray, shape (B,), float64
        Mean value: inverse-variance weighted when every point of the bin has a
        finite positive error, else the plain mean.
    error : ndarray, shape (B,), float64
        1-sigma error of ``value``: ``1 / sqrt(sum(1 / err**2))`` when weighted, else
        the standard error of the mean ``std / sqrt(n)`` (NaN for a single point
        without an error).
    band : ndarray, shape (B,), str
    count : ndarray, shape (B,), int64
        Number of points in each bin.
    width : float
        Bin width, days.
    """

    time: np.ndarray
    value: np.ndarray
    error: np.ndarray
    band: np.ndarray
    count: np.ndarray
    width: float

    def __len__(self) -> int:
        return int(self.time.size)


def _usable(lc: LightCurve, bands: str | Sequence[str]) -> tuple[np.ndarray, ...]:
    """Finite points of the chosen bands: (time, value, error, band), shapes (M,)."""
    time = np.asarray(lc.time, dtype=np.float64)
    value = np.asarray(lc.value, dtype=np.float64)
    error = np.asarray(lc.error, dtype=np.float64)
    band = np.asarray(lc.band).astype(str)
    keep = np.isfinite(time) & np.isfinite(value)
    if not (isinstance(bands, str) and bands == "all"):
        wanted = [bands] if isinstance(bands, str) else list(bands)
        unknown = [b for b in wanted if b not in lc.bands]
        if unknown:
            raise UserError(f"the light curve has no band {unknown[0]!r} "
                            f"(its bands: {', '.join(lc.bands) or 'none'})")
        keep &= np.isin(band, wanted)
    return time[keep], value[keep], error[keep], band[keep]


def frequency_grid(time: np.ndarray, min_period: float | None = None,
                   max_period: float | None = None, samples_per_peak: float = 5.0,
                   max_frequencies: int = MAX_FREQUENCIES) -> tuple[np.ndarray, bool]:
    """A regular frequency grid for a periodogram of points at ``time``.

    Defaults: the longest period is the baseline ``T = max(time) - min(time)``;
    the shortest is twice the 5th percentile of the positive time steps (a
    pseudo-Nyquist limit that still reaches periods below the typical cadence,
    as irregular sampling allows). The step is ``1 / (samples_per_peak * T)``.
    If that needs more than ``max_frequencies`` points the shortest period is
    raised so that it does not.

    Parameters
    ----------
    time : ndarray, shape (M,)
        Finite observation times, days.
    min_period, max_period : float, optional
        Period range, days.
    samples_per_peak : float
        Grid points across a peak of width ``1 / T``.
    max_frequencies : int
        Largest grid size.

    Returns
    -------
    frequency : ndarray, shape (K,), float64
        Ascending, cycles per day.
    capped : bool
        Whether the shortest period was raised to respect ``max_frequencies``.
    """
    time = np.asarray(time, dtype=np.float64)
    baseline = float(time.max() - time.min()) if time.size else 0.0
    if not baseline > 0:
        raise UserError("the light curve spans no time (all its points are at one time); "
                        "a periodogram needs a baseline")
    if not samples_per_peak > 0:
        raise UserError(f"samples per peak must be positive, not {samples_per_peak}")
    if max_period is None:
        max_period = baseline
    if min_period is None:
        steps = np.diff(np.sort(time))
        steps = steps[steps > 0]
        min_period = 2.0 * float(np.percentile(steps, 5))
    if not (np.isfinite(min_period) and np.isfinite(max_period) and 0 < min_period < max_period):
        raise UserError(f"the period range {min_period:g} to {max_period:g} d is not valid: "
                        "it needs 0 < shortest < longest")
    f_min, f_max = 1.0 / max_period, 1.0 / min_period
    step = 1.0 / (samples_per_peak * baseline)
    n = int(np.ceil((f_max - f_min) / step)) + 1
    capped = n > max_frequencies
    if capped:
        n = int(max_frequencies)
    return f_min + step * np.arange(max(n, 2)), capped


def lomb_scargle_job(lc: LightCurve, bands: str | Sequence[str] = "all",
                     min_period: float | None = None, max_period: float | None = None,
                     samples_per_peak: float = 5.0,
                     max_frequencies: int = MAX_FREQUENCIES) -> Job[Periodogram]:
    """:func:`lomb_scargle` as a job: yields two Progress reports, returns the result."""
    time, value, error, band = _usable(lc, bands)
    if time.size < MIN_POINTS:
        raise UserError(f"the light curve has {time.size} usable point"
                        f"{'s' if time.size != 1 else ''} (finite time and value); "
                        f"a periodogram needs at least {MIN_POINTS}")
    frequency, capped = frequency_grid(time, min_period, max_period, samples_per_peak,
                                       max_frequencies)
    good = np.isfinite(error) & (error > 0)
    if good.all():
        dy = error
    elif good.any():  # points without an error get the median error of the others
        dy = np.where(good, error, np.median(error[good]))
    else:
        dy = None
    used = tuple(b for b in lc.bands if b in set(band.tolist()))
    multiband = len(used) > 1 and LombScargleMultiband is not None
    yield Progress(0, 2, f"periodogram of {time.size} points on {frequency.size:,} frequencies")
    if multiband:
        model = LombScargleMultiband(time, value, band, dy)

        def power_at(freq: np.ndarray) -> np.ndarray:
            return np.asarray(model.power(freq, method="fast"), dtype=np.float64)
    else:
        model = LombScargle(time, value, dy)

        def power_at(freq: np.ndarray) -> np.ndarray:
            return np.asarray(model.power(freq, method="fast", assume_regular_frequency=True),
                              dtype=np.float64)
    with np.errstate(all="ignore"):
        power = power_at(frequency)
    power = np.where(np.isfinite(power), power, 0.0)
    yield Progress(1, 2, "refining the peak")
    peak = int(np.argmax(power))
    df = frequency[1] - frequency[0]
    fine = np.linspace(max(frequency[peak] - df, frequency[0]),
                       min(frequency[peak] + df, frequency[-1]), _REFINE_POINTS)
    with np.errstate(all="ignore"):
        if multiband:
            fine_power = power_at(fine)
        else:
            fine_power = np.asarray(model.power(fine, method="cython"), dtype=np.float64)
    fine_power = np.where(np.isfinite(fine_power), fine_power, 0.0)
    best = int(np.argmax(fine_power))
    best_frequency, best_power = float(fine[best]), float(fine_power[best])
    if best_power < power[peak]:
        best_frequency, best_power = float(frequency[peak]), float(power[peak])
    fap = np.nan
    if not multiband:
        fap = float(model.false_alarm_probability(
            best_power, method="baluev", minimum_frequency=frequency[0],
            maximum_frequency=frequency[-1], samples_per_peak=samples_per_peak))
    return Periodogram(frequency=frequency, power=power, best_period=1.0 / best_frequency,
                       best_power=best_power, false_alarm_probability=fap, bands=used,
                       method="multiband" if multiband else "single-band",
                       n_points=int(time.size), capped=capped)


def lomb_scargle(lc: LightCurve, bands: str | Sequence[str] = "all",
                 min_period: float | None = None, max_period: float | None = None,
                 samples_per_peak: float = 5.0,
                 max_frequencies: int = MAX_FREQUENCIES) -> Periodogram:
    """Lomb-Scargle periodogram of a light curve, with its peak and false-alarm probability.

    Points with a NaN time or value are dropped; errors are used as ``dy`` (points
    without a finite positive error get the median error of the others; no errors
    at all: unweighted). One band: astropy's ``LombScargle`` ("fast" method on the
    grid, exact "cython" method to refine the peak). Several bands: astropy's
    ``LombScargleMultiband`` ("fast": each band's own mean and amplitude, one
    shared period), without a false-alarm probability.

    Parameters
    ----------
    lc : LightCurve
        Times in days (MJD, BKJD, BTJD...).
    bands : "all" or str or list of str
        Bands to use.
    min_period, max_period : float, optional
        Period range, days; defaults from the sampling (see :func:`frequency_grid`).
    samples_per_peak : float
        Oversampling of the frequency grid.
    max_frequencies : int
        Largest grid size (bounds the time: about 0.4 s at 100,000).

    Returns
    -------
    Periodogram

    Raises
    ------
    UserError
        Fewer than ``MIN_POINTS`` usable points, no time baseline, an unknown
        band or an invalid period range.
    """
    return run_sync(lomb_scargle_job(lc, bands, min_period, max_period, samples_per_peak,
                                     max_frequencies))


def bin_lightcurve(lc: LightCurve, width: float) -> BinnedLightCurve:
    """Average a light curve in time bins of ``width`` days, band by band.

    Bins are ``[t0 + k * width, t0 + (k + 1) * width)`` with ``t0`` the earliest
    finite time of the whole curve, so every band shares the bin edges. Points
    with a NaN time or value are dropped. Magnitudes are averaged as magnitudes
    (fine for the small scatter within a bin).

    Parameters
    ----------
    lc : LightCurve
    width : float
        Bin width, days, > 0.

    Returns
    -------
    BinnedLightCurve
        Bins ordered by band (first appearance), then time; empty bins omitted.

    Raises
    ------
    UserError
        If ``width`` is not a positive finite number.
    """
    if not (np.isfinite(width) and width > 0):
        raise UserError(f"the bin width must be a positive number of days, not {width}")
    time, value, error, band = _usable(lc, "all")
    empty = BinnedLightCurve(np.empty(0), np.empty(0), np.empty(0), np.empty(0, dtype=str),
                             np.empty(0, dtype=np.int64), float(width))
    if time.size == 0:
        return empty
    bands = tuple(b for b in lc.bands if b in set(band.tolist()))
    distinct, inverse = np.unique(band, return_inverse=True)
    band_index = np.array([bands.index(str(b)) for b in distinct], dtype=np.int64)[inverse]
    bin_index = np.floor((time - time.min()) / width).astype(np.int64)
    n_bins = int(bin_index.max()) + 1
    key = band_index.astype(np.int64) * n_bins + bin_index
    keys, group, count = np.unique(key, return_inverse=True, return_counts=True)
    n = keys.size

    def total(x: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=x, minlength=n)

    has_error = np.isfinite(error) & (error > 0)
    weighted = total((~has_error).astype(np.float64)) == 0
    weight = np.where(has_error, 1.0 / np.where(has_error, error, 1.0) ** 2, 0.0)
    sum_w = total(weight)
    mean_w = total(weight * value) / np.where(weighted, sum_w, 1.0)
    mean = total(value) / count
    spread = total((value - mean[group]) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        sem = np.where(count > 1, np.sqrt(spread / np.maximum(count - 1, 1) / count), np.nan)
        error_w = 1.0 / np.sqrt(sum_w)
    return BinnedLightCurve(
        time=total(time) / count,
        value=np.where(weighted, mean_w, mean),
        error=np.where(weighted, error_w, sem),
        band=np.array(bands)[keys // n_bins],
        count=count.astype(np.int64),
        width=float(width),
    )
