"""Simulated multi-band survey light curves of known variability classes.

Builds a labelled demo survey: irregular ZTF/LSST-like cadence (seasonal
gaps, visits every 1-5 nights with weather losses, one or two of the bands
g, r, i per visit with per-band rates differing per object), heteroscedastic
magnitude-dependent errors with a floor, and occasional outliers.

Conventions
-----------
* ``mean_mag`` is the r-band reference magnitude (AB): the cycle mean for
  pulsators, the out-of-eclipse level for eclipsing binaries, the long-term
  mean for constant stars and AGN, and the r-band *peak* of the supernova
  alone (without host) for supernovae.  Other bands follow from the colours
  ``color_gr = g - r`` and ``color_ri = r - i`` stored in the parameters.
* The error model uses single-visit 5-sigma depths between ZTF and LSST
  (g 22.2, r 22.0, i 21.4, varying by ~0.25 mag from visit to visit), so
  sensible ``mean_mag`` values are ~15-21.5 (errors ~0.01 to ~0.15 mag).  Reported ``mag_err`` equals the true Gaussian noise
  sigma, except for outliers whose error bars do not cover their offset.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "VARIABILITY_CLASSES",
    "LC_BANDS",
    "PARAM_KEYS",
    "simulate_lightcurve",
    "simulate_lightcurves",
]

VARIABILITY_CLASSES: tuple[str, ...] = (
    "constant", "rr_lyrae", "cepheid", "eclipsing_binary", "long_period", "supernova", "agn",
)
LC_BANDS: tuple[str, ...] = ("g", "r", "i")

#: Keys of every parameter dict, identical for all classes (NaN = not applicable).
PARAM_KEYS: tuple[str, ...] = (
    "mean_mag",  # r-band reference magnitude (see module docstring)
    "color_gr",  # g - r of the reference level, mag
    "color_ri",  # r - i of the reference level, mag
    "period_days",  # true period, days
    "amplitude_mag",  # g-band peak-to-peak amplitude, mag (SN: r-band host-to-peak)
    "t0_mjd",  # epoch of g maximum / primary eclipse / r-band SN peak, MJD
    "peak_mag",  # SN-only r-band peak magnitude
    "rise_days",  # Bazin rise timescale (r band), days
    "fall_days",  # Bazin decline timescale (r band), days
    "tau_days",  # DRW damping timescale, days
    "sf_inf_mag",  # DRW asymptotic structure function in g, mag
    "eclipse_depth_mag",  # primary eclipse depth in g, mag
    "secondary_depth_mag",  # secondary eclipse depth in g, mag
    "eclipse_width_phase",  # eclipse profile scale w, phase units: dip ~ exp(-|dphase / w|^s / 2)
    "n_obs",  # number of points M
    "n_outliers",  # number of injected outliers
)

_M5 = np.array([22.2, 22.0, 21.4])  # median single-visit 5-sigma depth per band, mag
_SIGMA_FLOOR = 0.01  # systematic error floor, mag
_SIGMA_MAX = 1.5  # cap on the reported error, mag
_GAMMA = 0.039  # LSST photometric-error model parameter
_BAND_RATE = np.array([0.8, 1.0, 0.35])  # relative per-visit band choice weights
_YEAR = 365.25


def _cadence(
    rng: np.random.Generator, t_start: float, duration: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw an irregular survey cadence.

    Returns
    -------
    mjd : ndarray, shape (M,), float64
        Sorted observation times, days (MJD).
    band : ndarray, shape (M,), int64
        Index into ``LC_BANDS``.
    dm5 : ndarray, shape (M,), float64
        Per-visit offset of the 5-sigma depth, mag (shared within a visit).
    """
    t_end = t_start + duration
    nights = np.arange(math.floor(t_start), math.ceil(t_end), dtype=np.float64)
    n_nights = nights.size
    season_len = rng.uniform(180.0, 245.0)  # ~6-8 months visible per year
    centre = t_start + rng.uniform(0.0, _YEAR)
    dist = (nights - centre + 0.5 * _YEAR) % _YEAR - 0.5 * _YEAR
    visible = np.abs(dist) <= 0.5 * season_len
    if visible.sum() < min(30, n_nights):  # short window outside the season
        visible[:] = True
    n_vis = int(visible.sum())

    p_two = rng.uniform(0.2, 0.7)  # probability that a visit takes two bands
    n_target = math.exp(rng.uniform(math.log(60.0), math.log(250.0))) * duration / 730.0
    visits_needed = max(n_target / (1.0 + p_two), 8.0)
    gap_mean = float(np.clip(0.85 * n_vis / visits_needed, 1.0, 5.0))
    gaps = 1 + rng.poisson(gap_mean - 1.0, size=n_nights)
    idx = np.cumsum(gaps) - rng.integers(1, gaps[0] + 1)
    idx = idx[idx < n_nights]
    cand = idx[visible[idx]]
    # multi-night bad-weather spells, then random losses tuned to the target density
    n_spells = rng.poisson(1.5 * duration / _YEAR)
    starts = rng.uniform(t_start, t_end, n_spells)
    lengths = rng.uniform(3.0, 14.0, n_spells)
    c_n = nights[cand]
    bad = ((c_n[:, None] >= starts) & (c_n[:, None] < starts + lengths)).any(axis=1)
    cand = cand[~bad]
    p_loss = float(np.clip(1.0 - visits_needed / max(cand.size, 1), 0.05, 0.85))
    cand = cand[rng.random(cand.size) >= p_loss]
    if cand.size < min(8, n_vis):
        cand = np.sort(rng.choice(np.flatnonzero(visible), size=min(8, n_vis), replace=False))

    t_visit = nights[cand] + rng.uniform(0.12, 0.45, cand.size)  # night-time UT fraction
    t_visit = t_visit[(t_visit >= t_start) & (t_visit <= t_end - 0.05)]
    n = t_visit.size
    weights = _BAND_RATE * rng.uniform(0.6, 1.4, 3)
    order = np.argsort(-(np.log(weights) + rng.gumbel(size=(n, 3))), axis=1)
    two = rng.random(n) < p_two
    dm5_visit = rng.normal(0.0, 0.25, n)
    mjd = np.concatenate([t_visit, t_visit[two] + rng.uniform(0.015, 0.05, int(two.sum()))])
    band = np.concatenate([order[:, 0], order[two, 1]]).astype(np.int64)
    dm5 = np.concatenate([dm5_visit, dm5_visit[two]])
    srt = np.argsort(mjd, kind="stable")
    return mjd[srt], band[srt], dm5[srt]


def _mag_errors(mag: np.ndarray, band: np.ndarray, dm5: np.ndarray) -> np.ndarray:
    """LSST-style photometric error, shape (M,), mag: grows as 10^(0.4(m - m5)), floor 0.01."""
    x = 10.0 ** (0.4 * (mag - (_M5[band] + dm5)))
    sig_rand2 = (0.04 - _GAMMA) * x + _GAMMA * x * x
    return np.minimum(np.sqrt(_SIGMA_FLOOR**2 + sig_rand2), _SIGMA_MAX)


def _colors(rng: np.random.Generator, var_class: str) -> tuple[float, float]:
    """Reference colours (g - r, r - i) in mag for a class."""
    if var_class == "rr_lyrae":
        return rng.uniform(0.1, 0.35), rng.uniform(0.0, 0.15)
    if var_class == "cepheid":
        return rng.uniform(0.4, 0.9), rng.uniform(0.2, 0.45)
    if var_class == "long_period":
        return rng.uniform(1.2, 2.0), rng.uniform(1.0, 2.5)
    if var_class == "supernova":  # colour of the SN at peak
        return rng.uniform(-0.15, 0.15), rng.uniform(-0.4, -0.1)
    if var_class == "agn":
        return rng.uniform(0.0, 0.4), rng.uniform(0.0, 0.3)
    gr = rng.uniform(0.2, 1.4)  # stars along the stellar locus
    return gr, 0.4 * gr - 0.05 + rng.normal(0.0, 0.03)


def _band_mags(r: float, gr: float, ri: float) -> np.ndarray:
    """Per-band magnitudes, shape (3,), for r-band mag ``r`` and colours."""
    return np.array([r + gr, r, r - ri])


def _profile(rise_frac: float, n_harm: int, n_grid: int = 256) -> np.ndarray:
    """Smooth periodic pulsation shape, shape (n_grid,), mag offset vs phase.

    A sawtooth (linear rise over ``rise_frac`` of the cycle, linear decline
    otherwise) truncated to ``n_harm`` Fourier harmonics, normalised to zero
    mean and unit peak-to-peak, with maximum light (minimum mag) at phase 0.
    """
    phi = np.arange(n_grid) / n_grid
    bright = np.where(phi < 1.0 - rise_frac, 1.0 - phi / (1.0 - rise_frac),
                      (phi - (1.0 - rise_frac)) / rise_frac)
    spec = np.fft.rfft(bright)
    spec[n_harm + 1:] = 0.0
    s = np.fft.irfft(spec, n_grid)
    s = np.roll(s, -int(np.argmax(s)))
    return -(s - s.mean()) / np.ptp(s)


def _eval_profile(prof: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """Interpolate a periodic profile of shape (K,) at phases of shape (M,) (cycles)."""
    grid = np.arange(prof.size) / prof.size
    return np.interp(phase % 1.0, grid, prof, period=1.0)


# Class models: ``t`` (M,) times in MJD days, ``b`` (M,) band indices, ``base`` (3,)
# band reference mags; each returns noiseless mags of shape (M,) and fills the truth into ``p``.


def _pulsator(rng: np.random.Generator, t: np.ndarray, b: np.ndarray, base: np.ndarray,
              p: dict[str, float], var_class: str, t_start: float, duration: float) -> np.ndarray:
    """RR Lyrae, Cepheid or long-period variable (Mira / semi-regular)."""
    if var_class == "rr_lyrae":
        if rng.random() < 0.7:  # RRab: sawtooth
            period, rise, n_harm, amp = rng.uniform(0.45, 0.75), rng.uniform(0.1, 0.2), 8, rng.uniform(0.5, 1.0)
        else:  # RRc: near-sinusoidal
            period, rise, n_harm, amp = rng.uniform(0.25, 0.4), rng.uniform(0.35, 0.48), 2, rng.uniform(0.3, 0.5)
        ratio = np.array([1.0, rng.uniform(0.7, 0.8), rng.uniform(0.55, 0.65)])
        lag = np.array([0.0, rng.uniform(0.005, 0.02), rng.uniform(0.01, 0.04)])
    elif var_class == "cepheid":
        period = math.exp(rng.uniform(math.log(3.0), math.log(40.0)))
        rise, n_harm, amp = rng.uniform(0.2, 0.4), 5, rng.uniform(0.4, 1.0)
        ratio = np.array([1.0, rng.uniform(0.65, 0.75), rng.uniform(0.5, 0.6)])
        lag = np.array([0.0, rng.uniform(0.005, 0.02), rng.uniform(0.01, 0.04)])
    else:  # long_period
        period = rng.uniform(100.0, 500.0)
        rise, n_harm, amp = rng.uniform(0.35, 0.5), 3, rng.uniform(1.0, 4.0)
        ratio = np.array([1.0, rng.uniform(0.6, 0.75), rng.uniform(0.35, 0.55)])
        lag = np.array([0.0, rng.uniform(0.0, 0.03), rng.uniform(0.02, 0.06)])
    prof = _profile(rise, n_harm)
    t0 = t_start + rng.uniform(0.0, period)
    p.update(period_days=period, amplitude_mag=amp, t0_mjd=t0)
    if var_class != "long_period":
        phase = (t - t0) / period
        return base[b] + amp * ratio[b] * _eval_profile(prof, phase - lag[b])
    # cycle-to-cycle irregularity: jittered cycle lengths, amplitudes and mean levels
    n_cyc = int(math.ceil(duration / period)) + 8
    lengths = period * np.clip(1.0 + rng.uniform(0.02, 0.1) * rng.normal(size=n_cyc), 0.6, 1.4)
    bounds = t0 - lengths[:4].sum() + np.concatenate([[0.0], np.cumsum(lengths)])
    k = np.clip(np.searchsorted(bounds, t, side="right") - 1, 0, n_cyc - 1)
    phase = k + (t - bounds[k]) / lengths[k]
    mids = 0.5 * (bounds[:-1] + bounds[1:])
    a_fac = np.interp(t, mids, np.clip(1.0 + rng.uniform(0.05, 0.2) * rng.normal(size=n_cyc), 0.4, None))
    offset = np.interp(t, mids, rng.normal(0.0, 0.1, n_cyc))
    return base[b] + amp * ratio[b] * a_fac * _eval_profile(prof, phase - lag[b]) + offset


def _eclipsing(rng: np.random.Generator, t: np.ndarray, b: np.ndarray, base: np.ndarray,
               p: dict[str, float], t_start: float) -> np.ndarray:
    """Contact (W UMa) or detached binary: two eclipses (secondary at phase 0.5) + ellipsoidal."""
    if rng.random() < 0.5:  # contact / near-contact: wide, nearly equal minima
        period = math.exp(rng.uniform(math.log(0.3), math.log(1.0)))
        width, shape = rng.uniform(0.08, 0.12), rng.uniform(1.5, 2.0)
        d1 = rng.uniform(0.1, 0.8)
        d2 = d1 * rng.uniform(0.7, 1.0)
        ellip = rng.uniform(0.02, 0.1)
    else:  # detached: eclipse width ~ (R1 + R2) / a, which scales as P^(-2/3)
        period = math.exp(rng.uniform(math.log(0.5), math.log(10.0)))
        width = float(np.clip(0.045 * period ** (-2.0 / 3.0) * rng.uniform(0.7, 1.3), 0.006, 0.1))
        shape = rng.uniform(2.0, 4.0)  # > 2: flatter-bottomed (total) eclipses
        d1 = rng.uniform(0.1, 1.0)
        d2 = d1 * rng.uniform(0.05, 0.9)
        ellip = rng.uniform(0.0, 0.05) / max(period, 1.0) ** 1.5
    d1_b = d1 * np.array([1.0, rng.uniform(0.9, 1.0), rng.uniform(0.8, 0.95)])
    d2_b = d2 * np.array([1.0, rng.uniform(1.0, 1.15), rng.uniform(1.1, 1.3)])
    t0 = t_start + rng.uniform(0.0, period)

    def dip(x: np.ndarray) -> np.ndarray:
        return np.exp(-0.5 * np.abs(((x + 0.5) % 1.0 - 0.5) / width) ** shape)

    def flux(phase: np.ndarray, bb: np.ndarray) -> np.ndarray:
        f1 = 1.0 - 10.0 ** (-0.4 * d1_b[bb])
        f2 = 1.0 - 10.0 ** (-0.4 * d2_b[bb])
        f = 1.0 - f1 * dip(phase) - f2 * dip(phase - 0.5) - ellip * 0.5 * (1.0 - np.cos(4.0 * np.pi * phase))
        return np.clip(f, 0.05, None)

    grid = np.linspace(0.0, 1.0, 2001)
    g_model = -2.5 * np.log10(flux(grid, np.zeros(grid.size, dtype=np.int64)))
    p.update(period_days=period, t0_mjd=t0, eclipse_depth_mag=d1, secondary_depth_mag=d2,
             eclipse_width_phase=width, amplitude_mag=float(np.ptp(g_model)))
    return base[b] - 2.5 * np.log10(flux((t - t0) / period, b))


def _supernova(rng: np.random.Generator, t: np.ndarray, b: np.ndarray, peak_b: np.ndarray,
               mean_mag: float, p: dict[str, float], t_start: float, duration: float) -> np.ndarray:
    """Bazin-profile transient on a faint host; g fades fastest, so colours redden."""
    inner = t[(t > t_start + 0.05 * duration) & (t < t_start + 0.95 * duration)]
    pool = inner if inner.size else t
    t_peak = float(pool[rng.integers(pool.size)] + rng.uniform(-5.0, 5.0)) if pool.size \
        else t_start + rng.uniform(0.1, 0.9) * duration
    tau_rise = rng.uniform(2.5, 5.0)
    tau_fall = rng.uniform(15.0, 35.0) * np.array([1.0, rng.uniform(1.2, 1.5), rng.uniform(1.4, 1.9)])
    dt_peak = np.array([rng.uniform(-2.0, 0.0), 0.0, rng.uniform(1.0, 4.0)])  # i peaks later
    host_r = min(mean_mag + rng.uniform(1.5, 4.0), _M5[1] + rng.uniform(0.0, 0.5))
    host_b = np.minimum(_band_mags(host_r, rng.uniform(0.5, 1.0), rng.uniform(0.2, 0.5)), _M5 + 0.5)
    # Bazin f = exp(-x/tf) / (1 + exp(-x/tr)), x = t - t_ref; its maximum is at x = tr*ln(tf/tr - 1)
    x_max = tau_rise * np.log(tau_fall / tau_rise - 1.0)
    f_max = np.exp(-x_max / tau_fall) / (1.0 + np.exp(-x_max / tau_rise))
    x = np.clip(t - (t_peak + dt_peak[b]) + x_max[b], -60.0 * tau_rise, None)
    f_sn = np.exp(-x / tau_fall[b]) / (1.0 + np.exp(-x / tau_rise)) / f_max[b]
    flux = 10.0 ** (-0.4 * host_b[b]) + 10.0 ** (-0.4 * peak_b[b]) * f_sn
    peak_tot = -2.5 * math.log10(10.0 ** (-0.4 * host_b[1]) + 10.0 ** (-0.4 * peak_b[1]))
    p.update(t0_mjd=t_peak, peak_mag=mean_mag, rise_days=tau_rise, fall_days=float(tau_fall[1]),
             amplitude_mag=float(host_b[1] - peak_tot))
    return -2.5 * np.log10(flux)


def _agn(rng: np.random.Generator, t: np.ndarray, b: np.ndarray, base: np.ndarray,
         p: dict[str, float]) -> np.ndarray:
    """Damped random walk with the exact OU update over irregular steps; bands share it."""
    tau = math.exp(rng.uniform(math.log(50.0), math.log(500.0)))
    sf_inf = rng.uniform(0.1, 0.4)
    scale = np.array([1.0, rng.uniform(0.75, 0.85), rng.uniform(0.6, 0.75)])
    sigma = sf_inf / math.sqrt(2.0)
    decay = np.exp(-np.diff(t) / tau)
    kicks = sigma * np.sqrt(1.0 - decay**2) * rng.normal(size=decay.size)
    x = np.empty(t.size)
    if t.size:
        x[0] = sigma * rng.normal()
    for j in range(decay.size):
        x[j + 1] = decay[j] * x[j] + kicks[j]
    p.update(tau_days=tau, sf_inf_mag=sf_inf)
    return base[b] + scale[b] * x


def simulate_lightcurve(
    var_class: str,
    rng: np.random.Generator,
    mean_mag: float,
    t_start_mjd: float = 59000.0,
    duration_days: float = 730.0,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Simulate one irregularly sampled g/r/i light curve.

    Parameters
    ----------
    var_class : str
        One of ``VARIABILITY_CLASSES``.
    rng : numpy.random.Generator
        Source of randomness (consumed).
    mean_mag : float
        r-band reference magnitude, AB mag (SN: peak of the SN alone).
    t_start_mjd : float, optional
        Start of the survey window, MJD (days).
    duration_days : float, optional
        Length of the survey window, days (> 0).

    Returns
    -------
    lc : dict of str to ndarray
        Arrays of shape (M,), M typically 60-250 for a 730-day window:
        ``'mjd'`` (float64, MJD days, ascending), ``'mag'`` (float32, AB mag),
        ``'mag_err'`` (float32, mag, > 0), ``'band'`` (str, values of ``LC_BANDS``).
    params : dict of str to float
        True parameters with keys ``PARAM_KEYS`` (NaN where not applicable).
    """
    if var_class not in VARIABILITY_CLASSES:
        raise ValueError(f"unknown variability class {var_class!r}; expected one of {VARIABILITY_CLASSES}")
    if not math.isfinite(mean_mag) or not duration_days > 0 or not math.isfinite(t_start_mjd):
        raise ValueError("mean_mag and t_start_mjd must be finite and duration_days > 0")
    t, b, dm5 = _cadence(rng, float(t_start_mjd), float(duration_days))
    gr, ri = _colors(rng, var_class)
    base = _band_mags(float(mean_mag), gr, ri)
    p = dict.fromkeys(PARAM_KEYS, math.nan)
    p.update(mean_mag=float(mean_mag), color_gr=gr, color_ri=ri)
    if var_class == "constant":
        true = base[b]
        p["amplitude_mag"] = 0.0
    elif var_class in ("rr_lyrae", "cepheid", "long_period"):
        true = _pulsator(rng, t, b, base, p, var_class, t_start_mjd, duration_days)
    elif var_class == "eclipsing_binary":
        true = _eclipsing(rng, t, b, base, p, t_start_mjd)
    elif var_class == "supernova":
        true = _supernova(rng, t, b, base, float(mean_mag), p, t_start_mjd, duration_days)
    else:
        true = _agn(rng, t, b, base, p)
    err = _mag_errors(true, b, dm5)
    mag = true + err * rng.normal(size=t.size)
    outlier = rng.random(t.size) < rng.uniform(0.0, 0.02)
    n_out = int(outlier.sum())
    shift = np.maximum(0.2 + rng.exponential(0.4, n_out), 5.0 * err[outlier])
    mag[outlier] += rng.choice([-1.0, 1.0], n_out) * shift
    p.update(n_obs=float(t.size), n_outliers=float(n_out))
    lc = {
        "mjd": t.astype(np.float64),
        "mag": mag.astype(np.float32),
        "mag_err": err.astype(np.float32),
        "band": np.asarray(LC_BANDS)[b],
    }
    return lc, {k: float(v) for k, v in p.items()}


def simulate_lightcurves(
    var_classes: Sequence[str], mean_mags: Sequence[float], seed: int
) -> tuple[dict[str, np.ndarray], list[dict[str, float]]]:
    """Simulate many objects and return them in long (one row per point) format.

    Object ``i`` uses its own generator from ``np.random.SeedSequence(seed).spawn``,
    so it is reproducible and independent of how many objects follow it.

    Parameters
    ----------
    var_classes : sequence of str, length N
        Class of each object (values of ``VARIABILITY_CLASSES``).
    mean_mags : sequence of float, length N
        r-band reference magnitude of each object, AB mag.
    seed : int
        Master seed.

    Returns
    -------
    table_columns : dict of str to ndarray
        Arrays of shape (sum M_i,): ``'row'`` (int64 object index), ``'mjd'``
        (float64, MJD days), ``'mag'`` (float32, mag), ``'mag_err'`` (float32,
        mag), ``'band'`` (str); objects in input order, each sorted by ``mjd``.
    params_list : list of dict, length N
        True parameters of each object (see `simulate_lightcurve`).
    """
    if len(var_classes) != len(mean_mags):
        raise ValueError("var_classes and mean_mags must have the same length")
    children = np.random.SeedSequence(seed).spawn(len(var_classes))
    lcs, params = [], []
    for cls, mm, ss in zip(var_classes, mean_mags, children):
        lc, p = simulate_lightcurve(cls, np.random.default_rng(ss), float(mm))
        lcs.append(lc)
        params.append(p)
    cols = {
        "row": np.repeat(np.arange(len(lcs), dtype=np.int64), [lc["mjd"].size for lc in lcs]),
        "mjd": np.concatenate([lc["mjd"] for lc in lcs] or [np.empty(0, np.float64)]),
        "mag": np.concatenate([lc["mag"] for lc in lcs] or [np.empty(0, np.float32)]),
        "mag_err": np.concatenate([lc["mag_err"] for lc in lcs] or [np.empty(0, np.float32)]),
        "band": np.concatenate([lc["band"] for lc in lcs] or [np.empty(0, "<U1")]),
    }
    return cols, params
