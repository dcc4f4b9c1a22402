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
    PowerStretch,
    SqrtStretch,
    ZScaleInterval,
    make_lupton_rgb,
)
from astropy.visualization.lupton_rgb import LuptonAsinhStretch

__all__ = [
    "STRETCHES",
    "INTERVALS",
    "PERCENTILES",
    "STRETCH_PARAMETERS",
    "LuptonParameters",
    "make_stretch",
    "image_limits",
    "stretch_image",
    "is_display_rgb",
    "display_white",
    "linear_rgb",
    "cubehelix",
    "band_wavelength",
    "rgb_band_order",
    "lupton_parameters",
    "composite_channels",
    "make_rgb",
    "fold_time",
]

#: Names accepted by :func:`stretch_image` for ``stretch`` and ``interval``.
STRETCHES: tuple[str, ...] = ("asinh", "sqrt", "linear", "log", "power")
INTERVALS: tuple[str, ...] = ("zscale", "percentile", "minmax", "sky")
#: Percentages of pixels kept inside the limits offered for ``interval="percentile"``.
PERCENTILES: tuple[float, ...] = (99.5, 99.0, 98.0, 95.0)
#: The adjustable parameter of each stretch that has one: (name, default, minimum, maximum).
#: asinh: ``y = asinh(x / a) / asinh(1 / a)``; log: ``y = log(a x + 1) / log(a + 1)``;
#: power: ``y = x ** a`` (astropy ``AsinhStretch``, ``LogStretch``, ``PowerStretch``).
STRETCH_PARAMETERS: dict[str, tuple[str, float, float, float]] = {
    "asinh": ("softening a", 0.1, 1e-4, 1.0),
    "log": ("a", 1000.0, 1.0, 1e6),
    "power": ("exponent", 2.0, 0.05, 10.0),
}

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
    if name == "sky":
        return PercentileInterval(percentile)  # the upper limit; see image_limits
    raise ValueError(f"unknown interval {name!r}; choose one of {', '.join(INTERVALS)}")


def make_stretch(name: str, parameter: float | None = None) -> BaseStretch:
    """The astropy stretch called ``name``, which maps [0, 1] onto [0, 1].

    Parameters
    ----------
    name : {"asinh", "sqrt", "linear", "log", "power"}
    parameter : float, optional
        The stretch's parameter (:data:`STRETCH_PARAMETERS`: asinh softening ``a``,
        log ``a``, power exponent); its default when None; ignored by sqrt and linear.
    """
    if name not in STRETCHES:
        raise ValueError(f"unknown stretch {name!r}; choose one of {', '.join(STRETCHES)}")
    if name in STRETCH_PARAMETERS:
        label, default, low, high = STRETCH_PARAMETERS[name]
        value = default if parameter is None else float(parameter)
        if not (np.isfinite(value) and low <= value <= high):
            raise ValueError(f"the {name} stretch's {label} must be in [{low:g}, {high:g}], "
                             f"not {parameter}")
        return {"asinh": AsinhStretch, "log": LogStretch, "power": PowerStretch}[name](value)
    return SqrtStretch() if name == "sqrt" else LinearStretch()


def image_limits(
    data: np.ndarray, interval: str = "zscale", percentile: float = 99.5,
) -> tuple[float, float]:
    """Black and white levels of an image, in its data units, from finite pixels.

    Parameters
    ----------
    data : ndarray, any shape
        Pixel values; NaN and inf are ignored.
    interval : {"zscale", "percentile", "minmax", "sky"}
        zscale as IRAF/DS9 (astropy ``ZScaleInterval``), the central ``percentile``
        per cent of the pixels (``PercentileInterval``), the extremes, or "sky":
        black one noise sigma below the sky (median and standard deviation of the
        pixels left by 3-sigma clipping), white at the upper limit of ``percentile``; it keeps
        the sky dark and faint outskirts visible.
    percentile : float
        Percentage of pixels kept inside the limits, in (0, 100], for "percentile"
        and "sky".

    Returns
    -------
    (float, float)
        ``(vmin, vmax)``; ``(nan, nan)`` when no pixel is finite.
    """
    if interval in ("percentile", "sky") and not (0 < percentile <= 100):
        raise ValueError(f"the percentile must be in (0, 100], not {percentile}")
    interval_obj = _interval("percentile" if interval == "sky" else interval, percentile)
    values = np.asarray(data, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if not values.size:
        return float("nan"), float("nan")
    vmin, vmax = interval_obj.get_limits(values)
    if interval == "sky":
        sky, noise = _sky_and_noise(values)
        vmin = sky - noise
    return float(vmin), float(vmax)


def stretch_image(
    data: np.ndarray,
    stretch: str = "asinh",
    interval: str = "zscale",
    percentile: float = 99.5,
    *,
    limits: tuple[float, float] | None = None,
    parameter: float | None = None,
) -> np.ndarray:
    """Scale one band to [0, 1] for display.

    The limits map the data linearly onto [0, 1] (clipped), then the stretch
    bends it: ``out = stretch((data - vmin) / (vmax - vmin))``.

    Parameters
    ----------
    data : ndarray, shape (H, W)
        Pixel values in any unit; NaN and inf are allowed.
    stretch : {"asinh", "sqrt", "linear", "log", "power"}
        Stretch applied after the interval has mapped the data to [0, 1].
    interval : {"zscale", "percentile", "minmax", "sky"}
        How the black and white levels are found, from finite pixels only
        (:func:`image_limits`); ignored when ``limits`` is given.
    percentile : float
        Percentage of pixels kept inside the limits for ``interval="percentile"``.
    limits : (float, float), optional
        Black and white levels in data units, e.g. set with histogram handles.
    parameter : float, optional
        The stretch's parameter (:func:`make_stretch`).

    Returns
    -------
    ndarray, shape (H, W), float32
        Values in [0, 1]. Non-finite pixels are 0; an image with no contrast
        (constant, or no finite pixel, or ``vmax <= vmin``) is all 0.
    """
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError(f"stretch_image needs a 2-D image, not shape {data.shape}")
    stretch_obj = make_stretch(stretch, parameter)
    if limits is None:
        _interval(interval, percentile)  # refuse an unknown name even for a blank image
    finite = np.isfinite(data)
    out = np.zeros(data.shape, dtype=np.float32)
    if not finite.any():
        return out
    vmin, vmax = (image_limits(data[finite], interval, percentile) if limits is None
                  else (float(limits[0]), float(limits[1])))
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


def composite_channels(
    cutout: np.ndarray, bands: Sequence[str], channels: Sequence[int] | None = None,
) -> np.ndarray:
    """The images shown as R, G, B by :func:`make_rgb`, NaN replaced by their median.

    Parameters
    ----------
    cutout : ndarray, shape (C, H, W)
    bands : sequence of str, one per channel
    channels : sequence of 3 int, optional
        Band indices for R, G, B; by default :func:`rgb_band_order` (with two
        bands, green is their mean).

    Returns
    -------
    ndarray, shape (3, H, W), float64, finite
    """
    cutout = np.asarray(cutout, dtype=np.float64)
    if cutout.ndim == 2:
        cutout = cutout[None]
    if cutout.ndim != 3 or cutout.shape[0] != len(bands):
        raise ValueError(f"a cutout of shape {cutout.shape} does not match bands {tuple(bands)}")
    r, g, b = _check_channels(channels, len(bands)) if channels is not None else rgb_band_order(bands)
    rgb = cutout[[r, g, b]].copy()
    if len(bands) == 2 and channels is None:
        rgb[1] = 0.5 * (cutout[r] + cutout[b])
    for channel in rgb:
        finite = np.isfinite(channel)
        fill = float(np.median(channel[finite])) if finite.any() else 0.0
        channel[~finite] = fill
    return rgb


def make_rgb(
    cutout: np.ndarray,
    bands: Sequence[str],
    params: LuptonParameters | None = None,
    scales: Sequence[float] | None = None,
    channels: Sequence[int] | None = None,
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
    channels : sequence of 3 int, optional
        Indices of the bands shown as R, G, B (any band may repeat); by default
        :func:`rgb_band_order`.

    Returns
    -------
    ndarray, shape (H, W, 3), uint8
    """
    rgb = composite_channels(cutout, bands, channels)
    if scales is not None:
        rgb *= np.asarray(scales, dtype=np.float64)[:, None, None]
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


def _check_channels(channels: Sequence[int], n_bands: int) -> tuple[int, int, int]:
    chosen = tuple(int(c) for c in channels)
    if len(chosen) != 3 or not all(0 <= c < n_bands for c in chosen):
        raise ValueError(f"R, G, B channels {tuple(channels)} are not 3 indices of the "
                         f"{n_bands} bands")
    return chosen  # type: ignore[return-value]


def _is_8bit(cutout: np.ndarray) -> bool:
    """Every finite value a whole number in 0..255, the largest above 1."""
    finite = cutout[np.isfinite(cutout)]
    return bool(finite.size and finite.min() >= 0 and finite.max() <= 255 and finite.max() > 1
                and np.all(finite == np.round(finite)))


def is_display_rgb(cutout: np.ndarray, bands: Sequence[str]) -> bool:
    """Whether a 3-band cutout is a picture already rendered for display.

    True for 8-bit RGB (every finite value a whole number in 0..255, as in
    Galaxy10 or PNG/JPEG cutouts) and for bands named red, green, blue (a press
    image such as the Hubble XDF demo, possibly divided by 255). Such a cutout is
    shown as it is (:func:`linear_rgb`, channels in order), not re-stretched.

    Parameters
    ----------
    cutout : ndarray, shape (C, H, W)
    bands : sequence of str, one per channel
    """
    cutout = np.asarray(cutout)
    if cutout.ndim != 3 or cutout.shape[0] != 3:
        return False
    if tuple(str(b).strip().lower() for b in bands) == ("red", "green", "blue"):
        return True
    return _is_8bit(cutout)


def display_white(cutout: np.ndarray) -> float:
    """The data value shown as white by a linear composite of ``cutout``.

    255 for 8-bit data; 1 for data in [0, 1] (a picture divided by 255, a little
    negative after sky subtraction allowed); otherwise the 99.5th percentile of
    the finite values (1 when there is none or it is not positive).

    Parameters
    ----------
    cutout : ndarray, shape (C, H, W), data units
    """
    cutout = np.asarray(cutout, dtype=np.float64)
    finite = cutout[np.isfinite(cutout)]
    if not finite.size:
        return 1.0
    if _is_8bit(finite):
        return 255.0
    if finite.max() <= 1.0 and finite.min() >= -1.0:
        return 1.0
    white = float(np.percentile(finite, 99.5))
    return white if white > 0 else 1.0


def linear_rgb(
    cutout: np.ndarray,
    channels: Sequence[int] = (0, 1, 2),
    white: float | None = None,
    black: float = 0.0,
) -> np.ndarray:
    """A linear colour image: ``black`` -> 0, ``white`` -> 255 in every channel.

    With the defaults an 8-bit RGB cutout is shown exactly as stored.

    Parameters
    ----------
    cutout : ndarray, shape (C, H, W)
        Data units; NaN is shown black.
    channels : sequence of 3 int
        Indices of the bands shown as R, G, B.
    white : float, optional
        Data value shown at full intensity; :func:`display_white` by default.
    black : float
        Data value shown as black.

    Returns
    -------
    ndarray, shape (H, W, 3), uint8
    """
    cutout = np.asarray(cutout, dtype=np.float64)
    if cutout.ndim == 2:
        cutout = cutout[None]
    if cutout.ndim != 3:
        raise ValueError(f"linear_rgb needs a (C, H, W) cutout, not shape {cutout.shape}")
    chosen = _check_channels(channels, cutout.shape[0])
    if white is None:
        white = display_white(cutout[list(chosen)])
    if not (np.isfinite(white) and np.isfinite(black) and white > black):
        raise ValueError(f"white ({white}) must be above black ({black})")
    rgb = (np.moveaxis(cutout[list(chosen)], 0, -1) - black) * (255.0 / (white - black))
    rgb = np.nan_to_num(rgb, nan=0.0, posinf=255.0, neginf=0.0)
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def cubehelix(n: int = 256, start: float = 0.5, rotations: float = -1.5, hue: float = 1.0,
              gamma: float = 1.0) -> np.ndarray:
    """Green's (2011) cubehelix colour map: brightness rises monotonically.

    Parameters
    ----------
    n : int
        Number of colours.
    start, rotations, hue, gamma : float
        Starting colour (0..3, R=1 G=2 B=3), turns of the helix from black to
        white, saturation and brightness exponent (the defaults are Green's).

    Returns
    -------
    ndarray, shape (n, 3), float64
        RGB in [0, 1], from black to white.
    """
    x = np.linspace(0.0, 1.0, n) ** gamma
    phi = 2 * np.pi * (start / 3 + rotations * np.linspace(0.0, 1.0, n))
    amp = hue * x * (1 - x) / 2
    cos, sin = np.cos(phi), np.sin(phi)
    rgb = np.stack([x + amp * (-0.14861 * cos + 1.78277 * sin),
                    x + amp * (-0.29227 * cos - 0.90649 * sin),
                    x + amp * (1.97294 * cos)], axis=1)
    return np.clip(rgb, 0.0, 1.0)


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
