"""Light curves as padded tensors for the sequence encoders, without resampling.

Each object's observations stay at their own times: a batch holds, per
observation, the time since the object's first observation (days), the value
normalised per object, its error in the same units and the band index, padded
to the longest light curve of the batch with a mask.

Normalisation (per object, so any survey depth or unit works):

- magnitudes: ``x = -mag`` (brighter is larger, like flux);
- fluxes: ``x = asinh(flux / f0)`` with ``f0`` the object's median error (its
  noise level; the robust spread when there are no errors), errors propagated
  as ``err / sqrt(flux**2 + f0**2)``;
- the value is ``(x - m_b) / s``, about the median ``m_b`` of its own band, with
  ``s = max(1.4826 * MAD(x - m_b), median error, 1e-3)``: a constant star's points
  scatter by about 1 with errors of about 1, a variable's errors are much smaller
  than its spread, so amplitude relative to the noise is kept even though each
  object is rescaled;
- the colours are kept apart, unscaled: each point carries ``level = m_b -
  median(x)`` (mag for magnitudes), and each object ``log10(s)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..core.errors import UserError
from ..core.lightcurves import LightCurveSource

__all__ = ["LightCurveBatch", "MIN_POINTS", "RaggedLightCurves", "band_index_of",
           "check_lightcurves", "read_lightcurves"]

#: Objects with fewer usable points than this are embedded from what they have
#: (none: a zero vector) and counted as short in the embedding's config.
MIN_POINTS = 3
_MAD_TO_SIGMA = 1.4826
_SCALE_FLOOR = 1e-3


@dataclass
class LightCurveBatch:
    """A padded batch of ``B`` light curves of at most ``L`` observations.

    Attributes
    ----------
    time : Tensor, shape (B, L), float32
        Days since the object's first observation (0 in padding).
    value : Tensor, shape (B, L), float32
        Normalised value (see the module notes; brighter is larger).
    error : Tensor, shape (B, L), float32
        1-sigma error of ``value`` in the same units.
    band : Tensor, shape (B, L), int64
        Index into the source's bands.
    mask : Tensor, shape (B, L), bool
        True for an observation, False for padding.
    level : Tensor, shape (B, L), float32
        Median of the observation's band minus the object's median (unscaled).
    log_scale : Tensor, shape (B,), float32
        ``log10`` of the object's scale ``s``.
    """

    time: torch.Tensor
    value: torch.Tensor
    error: torch.Tensor
    band: torch.Tensor
    mask: torch.Tensor
    level: torch.Tensor
    log_scale: torch.Tensor

    FIELDS = ("time", "value", "error", "band", "mask", "level", "log_scale")

    def to(self, device: torch.device, non_blocking: bool = False) -> LightCurveBatch:
        return LightCurveBatch(*(getattr(self, f).to(device, non_blocking=non_blocking)
                                 for f in self.FIELDS))

    def pin_memory(self) -> LightCurveBatch:
        return LightCurveBatch(*(getattr(self, f).pin_memory() for f in self.FIELDS))

    @property
    def lengths(self) -> torch.Tensor:
        """Observations per object, shape (B,), int64."""
        return self.mask.sum(1)

    def __len__(self) -> int:
        return int(self.time.shape[0])


@dataclass
class RaggedLightCurves:
    """Normalised light curves of ``n`` objects, concatenated (``P`` points in all).

    Attributes
    ----------
    time, value, error : ndarray, shape (P,), float32
        As in :class:`LightCurveBatch`, object after object, each in time order.
    band : ndarray, shape (P,), int16
    level : ndarray, shape (P,), float32
    offsets : ndarray, shape (n + 1,), int64
        Object ``i`` owns points ``offsets[i]:offsets[i + 1]``.
    centre, scale : ndarray, shape (n,), float64
        The per-object median and robust scale of ``x`` (see the module notes).
    """

    time: np.ndarray
    value: np.ndarray
    error: np.ndarray
    band: np.ndarray
    level: np.ndarray
    offsets: np.ndarray
    centre: np.ndarray
    scale: np.ndarray

    def __len__(self) -> int:
        return int(self.offsets.size - 1)

    @property
    def lengths(self) -> np.ndarray:
        """Points per object, shape (n,), int64."""
        return np.diff(self.offsets)

    def batch(self, index: np.ndarray) -> LightCurveBatch:
        """Objects ``index`` (shape (B,)) padded to their longest, as tensors.

        Vectorised: one gather for all points, no loop over objects. An object with
        no points is all padding.
        """
        index = np.asarray(index, dtype=np.int64)
        lengths = self.lengths[index]
        width = max(int(lengths.max(initial=0)), 1)
        b = index.size
        slot = np.arange(width)
        mask = slot[None, :] < lengths[:, None]
        src = (self.offsets[index][:, None] + slot[None, :])[mask]
        out = {}
        for name, dtype in (("time", np.float32), ("value", np.float32), ("error", np.float32),
                            ("band", np.int64), ("level", np.float32)):
            full = np.zeros((b, width), dtype=dtype)
            full[mask] = getattr(self, name)[src]
            out[name] = torch.from_numpy(full)
        log_scale = torch.from_numpy(np.log10(self.scale[index]).astype(np.float32))
        return LightCurveBatch(out["time"], out["value"], out["error"], out["band"],
                               torch.from_numpy(mask), out["level"], log_scale)


def _stratified(m: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """``length`` increasing indices into ``m > length`` points: one at random in each
    of ``length`` equal slices, so the whole time span stays covered."""
    u = rng.random(length)
    return np.minimum(((np.arange(length) + u) * (m / length)).astype(np.int64), m - 1)


def _normalise(value: np.ndarray, error: np.ndarray, band: np.ndarray, is_magnitude: bool
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """One object's ``(value, error, level, centre, scale)`` (see the module notes):
    arrays of shape (M,) for ``band`` codes (M,), then two floats."""
    good_err = np.isfinite(error) & (error > 0)
    med_err = float(np.median(error[good_err])) if good_err.any() else np.nan
    if is_magnitude:
        x, ex = -value, error
    else:
        spread = _MAD_TO_SIGMA * float(np.median(np.abs(value - np.median(value))))
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
    mad = _MAD_TO_SIGMA * float(np.median(np.abs(resid)))
    scale = max(mad, med_err if np.isfinite(med_err) else 0.0, _SCALE_FLOOR)
    # Points without a usable error get the object's median error (0 if none has one).
    ex = np.where(np.isfinite(ex) & (ex > 0), ex, med_err if np.isfinite(med_err) else 0.0)
    return resid / scale, ex / scale, band_median[band] - centre, centre, scale


def read_lightcurves(source: LightCurveSource, rows: Sequence[int] | np.ndarray,
                     band_index: dict[str, int], max_length: int, seed: int = 0
                     ) -> RaggedLightCurves:
    """Read and normalise the light curves of ``rows`` (shape (n,)).

    Points with a non-finite time or value are dropped; an error that is NaN or not
    positive becomes the object's median error. A light curve longer than
    ``max_length`` is sub-sampled to ``max_length`` points, one at random in each of
    ``max_length`` equal slices of its points (times are kept, never resampled);
    the choice depends only on ``seed`` and the row, so it is reproducible.

    Parameters
    ----------
    source : LightCurveSource
    rows : sequence of int, shape (n,)
    band_index : dict of str to int
        Index of each band name; bands not in it get index 0.
    max_length : int
        Most observations kept per object.
    seed : int

    Returns
    -------
    RaggedLightCurves
    """
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
            order = order[_stratified(order.size, max_length,
                                      np.random.default_rng((seed, int(row))))]
        t, v, e, band = t[order], v[order], e[order], band[order]
        names, inverse = np.unique(band, return_inverse=True)
        codes = np.array([band_index.get(str(nm), 0) for nm in names], dtype=np.int16)
        x, ex, level, centre[i], scale[i] = _normalise(v, e, inverse.reshape(-1),
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


def band_index_of(source: LightCurveSource) -> dict[str, int]:
    """Index of each of the source's bands (in its order), e.g. ``{"g": 0, "r": 1}``."""
    bands = list(source.bands) or [""]
    return {str(b): i for i, b in enumerate(bands)}


def check_lightcurves(source: LightCurveSource, label: str) -> None:
    """Raise :class:`UserError` when ``source`` cannot be embedded at all."""
    n = len(source)
    if n < 2:
        raise UserError(f"{label} needs at least 2 light curves, but the source has {n}.")
    if int(source.n_points) == 0:
        raise UserError(f"{label}: none of the {n} light curves has any observation.")
