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
from ..core.lightcurves import LightCurveSource, time_order

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


def _segment_median(values: np.ndarray, segment: np.ndarray, n: int) -> np.ndarray:
    """Median of ``values`` (shape (P,)) within each of ``n`` segments, shape (n,).

    ``segment`` (shape (P,), int, in ``0..n-1``, any order) names each value's
    segment. The same as ``np.median`` of each segment's values: the middle value,
    or the mean of the two middle ones for an even count; NaN if the segment holds
    a NaN, and NaN for an empty segment.

    Vectorised: the segments are laid out as the rows of NaN-padded matrices, one
    per power-of-two width (so a few long segments cost no memory for the many
    short ones), and each matrix is sorted along its rows.
    """
    count = np.bincount(segment, minlength=n)
    out = np.full(n, np.nan)
    if values.size == 0:
        return out
    if np.any(segment[1:] < segment[:-1]):
        # Group the segments; the order within one does not matter, it is sorted below.
        order = np.argsort(segment, kind="stable")  # fast on nearly sorted segments
        values, segment = values[order], segment[order]
    slot = np.arange(values.size) - (np.cumsum(count) - count)[segment]
    width_class = np.zeros(n, dtype=np.int64)
    width_class[count > 0] = np.ceil(np.log2(count[count > 0])).astype(np.int64)
    width_class += (1 << width_class) < count  # should log2 round down
    point_class = width_class[segment]
    row = np.zeros(n, dtype=np.int64)  # of each segment in its matrix
    for w in np.unique(width_class[count > 0]):
        segs = np.flatnonzero((width_class == w) & (count > 0))
        row[segs] = np.arange(segs.size)
        mine = point_class == w
        padded = np.full((segs.size, 1 << int(w)), np.nan)
        padded[row[segment[mine]], slot[mine]] = values[mine]
        padded.sort(axis=1)  # NaN last: padding, and any NaN of the segment itself
        c, r = count[segs], np.arange(segs.size)
        lo, hi = padded[r, (c - 1) // 2], padded[r, c // 2]
        # np.median: the mean of the middle value(s); of one, the value itself.
        med = np.where(c % 2 == 1, lo, (lo + hi) / 2)
        med[np.isnan(padded[r, c - 1])] = np.nan  # the segment holds a NaN
        out[segs] = med
    return out


def _normalised(value: np.ndarray, error: np.ndarray, owner: np.ndarray, group: np.ndarray,
                is_magnitude: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The normalisation of the module notes, for all objects at once.

    ``value``, ``error`` (shape (P,)) are the finite-time, finite-value points of
    ``n = is_magnitude.size`` objects; ``owner`` (P,) the object of each point and
    ``group`` (P,) a number for each (object, band) pair. Returns per point
    ``(value, error, level)``, then per object ``(centre, scale)`` (shape (n,); NaN
    for an object with no points).
    """
    n = is_magnitude.size
    good = np.isfinite(error) & (error > 0)
    med_err = _segment_median(error[good], owner[good], n)
    x, ex = -value, error
    flux = ~is_magnitude[owner]
    if flux.any():
        v, e, o = value[flux], error[flux], owner[flux]
        spread = _MAD_TO_SIGMA * _segment_median(
            np.abs(v - _segment_median(v, o, n)[o]), o, n)
        f0 = np.where(np.isfinite(med_err), med_err, spread)
        fallback = _segment_median(np.abs(v), o, n)
        fallback = np.where(1.0 > fallback, 1.0, fallback)  # max(median |v|, 1.0)
        f0 = np.where(f0 > 0, f0, fallback)
        # f0 ** 2 as Python floats compute it (C pow, which is not always f0 * f0),
        # for the flux objects only.
        f0_sq = np.full(n, np.nan)
        objects = np.flatnonzero(~is_magnitude & (np.bincount(o, minlength=n) > 0))
        f0_sq[objects] = (f0[objects].astype(object) ** 2).astype(np.float64)
        ex = ex.copy()  # x = -value is already a new array
        x[flux] = np.arcsinh(v / f0[o])
        ex[flux] = e / np.sqrt(v ** 2 + f0_sq[o])
        good = flux & np.isfinite(ex) & (ex > 0)
        flux_err = _segment_median(ex[good], owner[good], n)
        med_err = np.where(is_magnitude, med_err, flux_err)
    centre = _segment_median(x, owner, n)
    band_median = _segment_median(x, group, int(group.max(initial=-1)) + 1)[group]
    resid = x - band_median
    mad = _MAD_TO_SIGMA * _segment_median(np.abs(resid), owner, n)
    # max(mad, med_err or 0, floor) as Python's max does it (NaN mad stays NaN).
    fill = np.where(np.isfinite(med_err), med_err, 0.0)
    scale = np.where(fill > mad, fill, mad)
    scale = np.where(_SCALE_FLOOR > scale, _SCALE_FLOOR, scale)
    # Points without a usable error get the object's median error (0 if none has one).
    ex = np.where(np.isfinite(ex) & (ex > 0), ex, fill[owner])
    return resid / scale[owner], ex / scale[owner], band_median - centre[owner], centre, scale


def _factorise(names: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of the str array ``names`` (shape (P,)), in some order,
    and the index of each value among them (shape (P,), int64)."""
    if names.size and names.dtype.itemsize == 4 and names.dtype.isnative:
        # One character each (band names "g", "r"...): count code points, no sort.
        points = names.view(np.uint32)
        present = np.flatnonzero(np.bincount(points))
        index = np.zeros(present[-1] + 1, dtype=np.int64)
        index[present] = np.arange(present.size)
        return present.astype(np.uint32).view(names.dtype), index[points]
    distinct, inverse = np.unique(names, return_inverse=True)
    return distinct, inverse.reshape(-1)


def read_lightcurves(source: LightCurveSource, rows: Sequence[int] | np.ndarray,
                     band_index: dict[str, int], max_length: int, seed: int = 0
                     ) -> RaggedLightCurves:
    """Read and normalise the light curves of ``rows`` (shape (n,)).

    Points with a non-finite time or value are dropped; an error that is NaN or not
    positive becomes the object's median error. A light curve longer than
    ``max_length`` is sub-sampled to ``max_length`` points, one at random in each of
    ``max_length`` equal slices of its points (times are kept, never resampled);
    the choice depends only on ``seed`` and the row, so it is reproducible.

    Vectorised: the source reads all rows at once
    (:meth:`~astroexplorer.core.lightcurves.LightCurveSource.get_many`) and the
    per-object statistics (medians) are computed for all objects together; only the
    choice of points of the light curves longer than ``max_length`` loops over
    those objects.

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
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    n = rows.size
    curves = source.get_many(rows)
    owner = np.repeat(np.arange(n), curves.lengths)
    keep = np.isfinite(curves.time) & np.isfinite(curves.value)
    owner, t = owner[keep], curves.time[keep]
    # Time order within each object (stable: ties keep the source's order).
    take = np.flatnonzero(keep)
    order = time_order(t, owner)
    if order is not None:
        take = take[order]
    count = np.bincount(owner, minlength=n)
    start = np.cumsum(count) - count
    lengths = np.minimum(count, max_length)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    # Point k of object i is its k-th in time order, except in long light curves.
    pos = np.arange(offsets[-1], dtype=np.int64) + np.repeat(start - offsets[:-1], lengths)
    for i in np.flatnonzero(count > max_length):
        pos[offsets[i]:offsets[i + 1]] = start[i] + _stratified(
            int(count[i]), max_length, np.random.default_rng((seed, int(rows[i]))))
    take = take[pos]
    owner = np.repeat(np.arange(n), lengths)
    t, v, e = curves.time[take], curves.value[take], curves.error[take]
    names, name_code = _factorise(curves.band[take])
    codes = np.array([band_index.get(str(nm), 0) for nm in names], dtype=np.int16)
    group = owner * names.size + name_code  # each (object, band name) pair
    if names.size > 16:  # number only the pairs present, not n * names.size
        group = np.unique(group, return_inverse=True)[1].reshape(-1)
    x, ex, level, centre, scale = _normalised(v, e, owner, group, curves.is_magnitude)
    has = lengths > 0
    centre = np.where(has, centre, 0.0)
    scale = np.where(has, scale, 1.0)
    first = t[offsets[:-1][has]]
    return RaggedLightCurves((t - np.repeat(first, lengths[has])).astype(np.float32),
                             x.astype(np.float32), ex.astype(np.float32), codes[name_code],
                             level.astype(np.float32), offsets, centre, scale)


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
