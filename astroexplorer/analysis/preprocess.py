"""Pixel normalisation robust to the sky's dynamic range (shared by PCA and the encoders)."""

from __future__ import annotations

import numpy as np

from ..core.images import ImageSource

__all__ = ["SOFTENING", "fit_band_scales", "normalise_cutouts"]

#: The arcsinh softening of normalised pixels, in units of a band's noise scale.
SOFTENING = 3.0


def fit_band_scales(images: ImageSource, sample: int = 512, seed: int = 0) -> np.ndarray:
    """Per-band noise scale of a cutout collection, shape (C,), in pixel units.

    The scale is the robust standard deviation (1.4826 x median absolute deviation)
    of a random sample of cutouts' pixels in each band: mostly sky, so it tracks the
    noise level. Used by :func:`normalise_cutouts` as the arcsinh softening.
    """
    n = len(images)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, size=min(sample, n), replace=False))
    cut = images.get_many(rows)
    pix = np.moveaxis(cut, 1, 0).reshape(cut.shape[1], -1)
    pix = np.where(np.isfinite(pix), pix, np.nan)
    med = np.nanmedian(pix, axis=1, keepdims=True)
    mad = np.nanmedian(np.abs(pix - med), axis=1)
    scales = 1.4826 * mad
    # A band that is constant (or all NaN) still needs a positive scale.
    fallback = np.nanmax(np.abs(pix), axis=1) if np.isfinite(pix).any() else np.ones(len(scales))
    scales = np.where(np.isfinite(scales) & (scales > 0), scales, np.where(fallback > 0, fallback, 1.0))
    return scales.astype(np.float32)


def normalise_cutouts(cutouts: np.ndarray, scales: np.ndarray, softening: float = SOFTENING
                      ) -> np.ndarray:
    """``arcsinh(x / (softening * scale_band))`` per band; NaN/inf become 0.

    Parameters
    ----------
    cutouts : ndarray, shape (n, C, H, W)
    scales : ndarray, shape (C,)
        From :func:`fit_band_scales`.

    Returns
    -------
    ndarray, shape (n, C, H, W), float32
        Roughly linear in the noise, logarithmic in bright cores.
    """
    x = np.asarray(cutouts, dtype=np.float32)
    s = (softening * np.asarray(scales, dtype=np.float32))[None, :, None, None]
    out = np.arcsinh(x / s)
    out[~np.isfinite(out)] = 0.0
    return out
