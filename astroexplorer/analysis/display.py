"""Display transforms for cutouts and light curves (numpy and astropy only, no Qt).

These turn data into what a view shows: a single band stretched to [0, 1], a
Lupton et al. (2004) colour composite, a light curve folded on a period. They are
kept out of the GUI so that they can be tested without a display.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from astropy.stats import sigma_clipped_stats
from astropy.visualization import (
    AsinhStretch,
    BaseInterval,
    BaseStretch,
    LinearStretch,
    LogStretch,
    ManualInterval,
    MinMaxInterval,
    PercentileInterval,
    SqrtStretch,
    ZScaleInterval,
    make_lupton_rgb,
)
from astropy.visualization.lupton_rgb import LuptonAsinhStretch

__all__ = [
    "STRETCHES",
    "INTERVALS",
    "LuptonParameters",
    "stretch_image",
    "band_wavelength",
    "rgb_band_order",
    "lupton_parameters",
    "make_rgb",
    "fold_time",
]

#: Names accepted by :func:`stretch_image` for ``stretch`` and ``interval``.
STRETCHES: tuple[str, ...] = ("asinh", "sqrt", "linear", "log")
INTERVALS: tuple[str, ...] = ("zscale", "percentile", "minmax")

# Approximate effective wavelengths (nm), only used to order bands blue -> red.
_WAVELENGTH_NM: dict[str, float] = {
    "fuv": 153, "nuv": 231, "u": 365, "b": 445, "g": 475, "v": 551, "r": 620,
    "i": 760, "z": 900, "y": 1000, "j": 1250, "h": 1650, "k": 2200, "ks": 2150,
    "w1": 3400, "w2": 4600, "w3": 12000, "w4": 22000,
    "blue": 450, "green": 530, "red": 630,
}
_FILTER_NUMBER = re.compile(r"^f(\d{3,4})(w|m|n|lp|x|w2)?$")
_BAND_PREFIX = re.compile(r"^(?:[a-z]+[_\-. ])?([a-z]{1,2}\d?)(?:[_\-. ]?band)?$")


def _interval(name: str, percentile: float) -> BaseInterval:
    if name == "zscale":
        return ZScaleInterval()
    if name == "percentile":
        return PercentileInterval(percentile)
    if name == "minmax":
        return MinMaxInterval()
    raise ValueError(f"unknown interval {name!r}; choose one of {', '.join(INTERVALS)}")


def _stretch(name: str) -> BaseStretch:
    if name == "asinh":
        return AsinhStretch(a=0.1)
    if name == "sqrt":
        return SqrtStretch()
    if name == "linear":
        return LinearStretch()
    if name == "log":
        return LogStretch(a=1000.0)
    raise ValueError(f"unknown stretch {name!r}; choose one of {', '.join(STRETCHES)}")


def stretch_image(
    data: np.ndarray,
    stretch: str = "asinh",
    interval: str = "zscale",
    percentile: float = 99.5,
) -> np.ndarray:
    """Scale one band to [0, 1] for display.

    Parameters
    ----------
    data : ndarray, shape (H, W)
        Pixel values in any unit; NaN and inf are allowed.
    stretch : {"asinh", "sqrt", "linear", "log"}
        Stretch applied after the interval has mapped the data to [0, 1].
    interval : {"zscale", "percentile", "minmax"}
        How the black and white levels are found, from finite pixels only.
    percentile : float
        Percentage of pixels kept inside the limits for ``interval="percentile"``.

    Returns
    -------
    ndarray, shape (H, W), float32
        Values in [0, 1]. Non-finite pixels are 0; an image with no contrast
        (constant, or no finite pixel) is all 0.
    """
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError(f"stretch_image needs a 2-D image, not shape {data.shape}")
    interval_obj, stretch_obj = _interval(interval, percentile), _stretch(stretch)
    finite = np.isfinite(data)
    out = np.zeros(data.shape, dtype=np.float32)
    if not finite.any():
        return out
    vmin, vmax = interval_obj.get_limits(data[finite])
    if not np.isfinite(vmin) or not np.isfinite(vmax) or vmax <= vmin:
        return out
    scaled = np.clip((data[finite] - vmin) / (vmax - vmin), 0.0, 1.0)
    out[finite] = np.clip(stretch_obj(scaled, clip=True), 0.0, 1.0)
    return out


def band_wavelength(name: str) -> float | None:
    """Approximate effective wavelength (nm) of a band name, or None if unknown.

    Knows ugrizy, UBVRI, JHK(s), WISE W1-W4, GALEX FUV/NUV, "red"/"green"/"blue",
    prefixed names such as "HSC-G" or "mag_r", and HST/JWST filters ("F606W"),
    whose number is used as is (so only filters of one instrument sort correctly).
    """
    key = str(name).strip().lower()
    if key in _WAVELENGTH_NM:
        return float(_WAVELENGTH_NM[key])
    match = _FILTER_NUMBER.match(key)
    if match:
        return float(match.group(1))
    match = _BAND_PREFIX.match(key)
    if match and match.group(1) in _WAVELENGTH_NM:
        return float(_WAVELENGTH_NM[match.group(1)])
    return None


def rgb_band_order(bands: Sequence[str]) -> tuple[int, int, int]:
    """Channel indices to show as red, green and blue.

    The reddest band goes to red and the bluest to blue (g, r, z -> z, r, g).
    With more than three bands, green gets the band nearest the middle; with two,
    green repeats the bluer band (see :func:`make_rgb`, which averages them); with
    one, all three are that band. If any band name is unknown, the channels are
    assumed to be in order of increasing wavelength, as in most survey cubes.

    Parameters
    ----------
    bands : sequence of str
        Band names in channel order.

    Returns
    -------
    (int, int, int)
        Indices into ``bands`` for red, green, blue.
    """
    n = len(bands)
    if n == 0:
        raise ValueError("no bands to make a colour image from")
    waves = [band_wavelength(b) for b in bands]
    if all(w is not None for w in waves):
        blue_to_red = [int(i) for i in np.argsort(np.asarray(waves), kind="stable")]
    else:
        blue_to_red = list(range(n))
    if n == 1:
        return (blue_to_red[0],) * 3
    if n == 2:
        return blue_to_red[1], blue_to_red[0], blue_to_red[0]
    return blue_to_red[-1], blue_to_red[(n - 1) // 2], blue_to_red[0]


@dataclass(frozen=True)
class LuptonParameters:
    """Arguments of the Lupton et al. (2004) asinh scaling of a composite.

    Attributes
    ----------
    minimum : ndarray, shape (3,)
        Level mapped to black in each of R, G, B (the sky), in data units.
    stretch : float
        Linear scale of the asinh, in data units.
    Q : float
        Asinh softening: 0 is linear, larger compresses bright parts more.
    """

    minimum: np.ndarray
    stretch: float
    Q: float


#: Pixels used at most to estimate the sky (a regular subsample keeps large cutouts fast).
_SKY_SAMPLE = 16384


def _sky_and_noise(values: np.ndarray) -> tuple[float, float]:
    """Sky level and noise of pixels, ignoring objects by 3-sigma clipping."""
    values = values[:: max(1, values.size // _SKY_SAMPLE)]
    _, median, std = sigma_clipped_stats(values, sigma=3.0, maxiters=5, stdfunc="mad_std")
    return float(median), float(std)


def _lupton_value(intensity: float, stretch: float, q: float) -> float:
    """Display value (0..1, before clipping) astropy gives an intensity."""
    return float(np.arcsinh(q * intensity / stretch) * 0.1 / np.arcsinh(0.1 * q))


def lupton_parameters(
    rgb: np.ndarray,
    white_percentile: float = 99.8,
    sky_level: float = 0.05,
    max_q: float = 12.0,
) -> LuptonParameters:
    """Choose ``minimum``, ``stretch`` and ``Q`` from the data of one composite.

    Each band's sky is its sigma-clipped median (black); the brightest pixels
    (``white_percentile`` of the summed intensity) become white; ``Q`` is then
    the least softening that shows one sky-noise sigma at ``sky_level`` (dark
    grey), so faint structure is visible without lifting the sky. When the object
    is faint compared to the noise, white is raised to keep the sky dark.

    Parameters
    ----------
    rgb : ndarray, shape (3, H, W)
        The images shown as R, G, B; finite values only.
    white_percentile : float
        Percentile of the intensity that is mapped to white.
    sky_level : float
        Display value (0..1) wanted for a pixel one noise sigma above the sky.
    max_q : float
        Largest softening tried.

    Returns
    -------
    LuptonParameters
    """
    flat = rgb.reshape(3, -1).astype(np.float64)
    minimum = np.array([_sky_and_noise(band)[0] for band in flat])
    intensity = (flat - minimum[:, None]).mean(axis=0)
    sigma = _sky_and_noise(intensity)[1]
    white = float(np.percentile(intensity, white_percentile))
    if sigma <= 0 and white <= 0:
        return LuptonParameters(minimum, 1.0, 0.0)
    if sigma <= 0:
        # Noise-free data (a model, a clipped JPEG): resolve a thousandth of white.
        sigma = white * 1e-3
    white = max(white, sigma / sky_level)
    best_q, best_stretch = 0.0, white
    for q in np.linspace(0.0, max_q, 121)[1:]:
        # The stretch that maps ``white`` to exactly 1 for this softening.
        stretch = q * white / np.sinh(np.arcsinh(0.1 * q) / 0.1)
        best_q, best_stretch = float(q), float(stretch)
        if _lupton_value(sigma, stretch, q) >= sky_level:
            break
    return LuptonParameters(minimum, best_stretch, best_q)


def make_rgb(
    cutout: np.ndarray,
    bands: Sequence[str],
    params: LuptonParameters | None = None,
    scales: Sequence[float] | None = None,
) -> np.ndarray:
    """A colour composite of a multi-band cutout (Lupton et al. 2004).

    Parameters
    ----------
    cutout : ndarray, shape (C, H, W)
        The bands, in any (common) unit; NaN pixels are shown as sky.
    bands : sequence of str
        Band names, one per channel; they choose the colours
        (:func:`rgb_band_order`). One band gives a grey image.
    params : LuptonParameters, optional
        Fixed scaling; by default chosen from the data (:func:`lupton_parameters`).
    scales : sequence of 3 float, optional
        Weights applied to the R, G, B images before scaling (colour balance).

    Returns
    -------
    ndarray, shape (H, W, 3), uint8
    """
    cutout = np.asarray(cutout, dtype=np.float64)
    if cutout.ndim == 2:
        cutout = cutout[None]
    if cutout.ndim != 3 or cutout.shape[0] != len(bands):
        raise ValueError(f"a cutout of shape {cutout.shape} does not match bands {tuple(bands)}")
    r, g, b = rgb_band_order(bands)
    rgb = cutout[[r, g, b]].copy()
    if len(bands) == 2:
        rgb[1] = 0.5 * (cutout[r] + cutout[b])
    if scales is not None:
        rgb *= np.asarray(scales, dtype=np.float64)[:, None, None]
    for channel in rgb:
        finite = np.isfinite(channel)
        fill = float(np.median(channel[finite])) if finite.any() else 0.0
        channel[~finite] = fill
    if params is None:
        params = lupton_parameters(rgb)
    if params.Q <= 0:
        return np.zeros((*rgb.shape[1:], 3), dtype=np.uint8)
    # astropy divides by the intensity before masking where it is 0.
    with np.errstate(invalid="ignore", divide="ignore"):
        return make_lupton_rgb(
            rgb[0], rgb[1], rgb[2],
            interval=[ManualInterval(vmin=float(m)) for m in params.minimum],
            stretch_object=LuptonAsinhStretch(stretch=params.stretch, Q=params.Q),
        )


def fold_time(time: np.ndarray, period: float, epoch: float = 0.0) -> np.ndarray:
    """Phase of each time for a period, in [0, 1).

    Parameters
    ----------
    time : ndarray, shape (M,)
        Times, in the same unit as ``period`` (e.g. MJD, days).
    period : float
        Folding period, > 0.
    epoch : float
        Time of phase 0.

    Returns
    -------
    ndarray, shape (M,), float64
    """
    if not period > 0:
        raise ValueError(f"the folding period must be positive, not {period}")
    phase = np.mod((np.asarray(time, dtype=np.float64) - epoch) / period, 1.0)
    # mod can return exactly 1.0 for tiny negative values after rounding.
    return np.where(phase >= 1.0, 0.0, phase)
