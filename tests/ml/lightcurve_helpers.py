"""Small synthetic light-curve sources for the light-curve tests (no torch here)."""

from __future__ import annotations

import numpy as np

from astroexplorer.core.lightcurves import LightCurve
from tests.helpers import ListLightCurveSource

__all__ = ["ListLightCurveSource", "make_periodic_and_constant"]


def make_periodic_and_constant(n: int = 48, seed: int = 0, magnitudes: bool = True,
                               points: tuple[int, int] = (20, 40),
                               periods: tuple[float, float] = (0.3, 0.7),
                               ) -> tuple[ListLightCurveSource, np.ndarray]:
    """``n`` three-band light curves at irregular times over 200 d and labels ``(n,)``:
    0 constant star, 1 sinusoid of period in ``periods`` (days) and amplitude 0.4-0.8 mag.

    Errors are 0.02-0.05 mag; fluxes (``magnitudes=False``) are ``10**(-0.4 (mag - 22))``
    with propagated errors. Bands have colours g - r = 0.5, r - i = 0.2.
    """
    rng = np.random.default_rng(seed)
    offsets = {"g": 0.5, "r": 0.0, "i": -0.2}
    curves, labels = [], np.arange(n) % 2
    for k in range(n):
        m = int(rng.integers(*points))
        t = 59000 + np.sort(rng.uniform(0, 200, m))
        band = rng.choice(["g", "r", "i"], m)
        mag = rng.uniform(17, 19) + np.array([offsets[b] for b in band])
        if labels[k]:
            period = rng.uniform(*periods)
            mag = mag + 0.5 * rng.uniform(0.4, 0.8) * np.sin(2 * np.pi * t / period)
        err = rng.uniform(0.02, 0.05, m)
        mag = mag + rng.normal(0, err)
        if magnitudes:
            curves.append(LightCurve(t, mag, err, band))
        else:
            flux = 10 ** (-0.4 * (mag - 22))
            curves.append(LightCurve(t, flux, flux * err * np.log(10) / 2.5, band,
                                     value_name="flux", value_unit="uJy", is_magnitude=False))
    return ListLightCurveSource(curves), labels
