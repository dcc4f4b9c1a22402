"""Light curves attached to catalogue rows, read from a long-format table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from astropy.table import Table
from astropy.time import Time

__all__ = ["ConcatenatedLightCurves", "LightCurve", "LightCurveSource",
           "TableLightCurveSource", "time_order"]


@dataclass(frozen=True)
class LightCurve:
    """One object's multi-band time series.

    Attributes
    ----------
    time : ndarray, shape (M,), float64
        Observation times in ``time_format`` (e.g. MJD, days).
    value : ndarray, shape (M,), float64
        Magnitude (``is_magnitude``) or flux, in ``value_unit``.
    error : ndarray, shape (M,), float64
        1-sigma uncertainty of ``value`` (NaN where unknown).
    band : ndarray, shape (M,), str
        Band / passband name of each point.
    time_format : str
        Name of the time system: an astropy format ("mjd", "jd"), or the name of
        an offset system ("bkjd", "btjd": days since ``time_offset_jd``).
    time_offset_jd : float
        Julian Date of ``time == 0`` for offset systems (BJDREFI + BJDREFF of a
        Kepler/TESS file: 2454833.0 for BKJD, 2457000.0 for BTJD); 0.0 when
        ``time_format`` is itself an astropy format such as MJD or JD.
    time_scale : str
        astropy time scale of ``time`` ("tdb", "utc"...); "" means "tdb" for
        barycentric systems (bjd, bkjd, btjd or an offset) and "utc" otherwise.
    """

    time: np.ndarray
    value: np.ndarray
    error: np.ndarray
    band: np.ndarray
    time_format: str = "mjd"
    value_name: str = "mag"
    value_unit: str = "mag"
    is_magnitude: bool = True
    time_offset_jd: float = 0.0
    time_scale: str = ""

    def __len__(self) -> int:
        return int(self.time.size)

    @property
    def bands(self) -> tuple[str, ...]:
        """Distinct bands in order of first appearance."""
        _, first = np.unique(self.band, return_index=True)
        return tuple(str(b) for b in self.band[np.sort(first)])

    def to_time(self) -> Time:
        """The observation times as an astropy ``Time`` in TDB, shape (M,).

        Offset systems (``time_offset_jd`` non-zero) give JD = ``time_offset_jd`` +
        ``time`` (kept as two doubles, so no precision is lost); otherwise
        ``time_format`` must be an astropy format (mjd, jd; bjd/hjd are read as JD).

        Raises
        ------
        ValueError
            If the time system is unknown (e.g. a column named "time" in no stated
            system).
        """
        fmt = self.time_format.lower()
        barycentric = self.time_offset_jd != 0.0 or fmt in ("bjd", "bkjd", "btjd")
        scale = self.time_scale.lower() or ("tdb" if barycentric else "utc")
        time = np.asarray(self.time, dtype=np.float64)
        if self.time_offset_jd != 0.0:
            t = Time(np.full(time.shape, float(self.time_offset_jd)), time,
                     format="jd", scale=scale)
        elif fmt in ("mjd", "jd", "bjd", "hjd"):
            t = Time(time, format="mjd" if fmt == "mjd" else "jd", scale=scale)
        else:
            raise ValueError(f"time system {self.time_format!r} has no known zero point")
        return t.tdb


@dataclass(frozen=True)
class ConcatenatedLightCurves:
    """The light curves of ``n`` catalogue rows, concatenated (``P`` points in all).

    Object ``i``'s points are ``offsets[i]:offsets[i + 1]``, exactly the points of
    ``source.get(rows[i])`` in the same order.

    Attributes
    ----------
    time, value, error : ndarray, shape (P,), float64
        As in :class:`LightCurve`.
    band : ndarray, shape (P,), str
    offsets : ndarray, shape (n + 1,), int64
    is_magnitude : ndarray, shape (n,), bool
        Whether each object's values are magnitudes (else fluxes).
    """

    time: np.ndarray
    value: np.ndarray
    error: np.ndarray
    band: np.ndarray
    offsets: np.ndarray
    is_magnitude: np.ndarray

    def __len__(self) -> int:
        return int(self.offsets.size - 1)

    @property
    def lengths(self) -> np.ndarray:
        """Points per object, shape (n,), int64."""
        return np.diff(self.offsets)

    @classmethod
    def of(cls, curves: Sequence[LightCurve]) -> ConcatenatedLightCurves:
        """``curves`` (n of them) one after the other."""
        lengths = np.array([len(c.time) for c in curves], dtype=np.int64)
        offsets = np.zeros(lengths.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])

        def cat(arrays: list[np.ndarray], empty: np.ndarray) -> np.ndarray:
            return np.concatenate(arrays) if arrays else empty

        return cls(
            time=cat([np.asarray(c.time, dtype=np.float64) for c in curves], np.zeros(0)),
            value=cat([np.asarray(c.value, dtype=np.float64) for c in curves], np.zeros(0)),
            error=cat([np.asarray(c.error, dtype=np.float64) for c in curves], np.zeros(0)),
            band=cat([np.asarray(c.band).astype(str) for c in curves], np.zeros(0, dtype=str)),
            offsets=offsets,
            is_magnitude=np.array([bool(c.is_magnitude) for c in curves], dtype=bool),
        )


class LightCurveSource:
    """Light curves, one (possibly empty) per catalogue row."""

    origin: str = ""
    time_format: str = "mjd"

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def get(self, row: int) -> LightCurve:  # pragma: no cover - abstract
        """The light curve of catalogue row ``row`` (empty if it has none)."""
        raise NotImplementedError

    def get_many(self, rows: Sequence[int] | np.ndarray) -> ConcatenatedLightCurves:
        """The light curves of ``rows`` (shape (n,), in the order given, repeats
        allowed) concatenated, each exactly as :meth:`get` returns it.

        This version calls :meth:`get` row after row; sources that can read many
        rows at once override it.
        """
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        return ConcatenatedLightCurves.of([self.get(int(row)) for row in rows])

    @property
    def bands(self) -> tuple[str, ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def n_points(self) -> int:  # pragma: no cover - abstract
        """Total number of observations over all objects."""
        raise NotImplementedError


class TableLightCurveSource(LightCurveSource):
    """Light curves from a long-format table: one row per observation.

    Parameters
    ----------
    table : Table
        Observations, with an id column, time, value (mag or flux), error, band.
    object_ids : ndarray, shape (N,)
        The catalogue's id for each of its rows; observation rows are matched
        to catalogue rows through ``table[id_col]``.
    id_col, time_col, value_col, error_col, band_col : str
        Column names in ``table``; ``error_col`` and ``band_col`` may be None.

    Notes
    -----
    An id shared by several catalogue rows is matched to the *first* of them only;
    the later rows get an empty light curve (listed in ``duplicate_rows``), since
    the observations cannot say which object they belong to. Observations of ids
    that no catalogue row has are ignored. Points are returned in time order
    whatever their order on disk; NaN values are kept (NaN times sort last).

    Attributes
    ----------
    duplicate_rows : ndarray, shape (K,), int64
        Catalogue rows whose id repeats an earlier row's, hence with no light curve.
    """

    def __init__(
        self,
        table: Table,
        object_ids: np.ndarray,
        id_col: str,
        time_col: str,
        value_col: str,
        error_col: str | None = None,
        band_col: str | None = None,
        time_format: str = "mjd",
        origin: str = "",
    ) -> None:
        self.table = table
        self.id_col, self.time_col, self.value_col = id_col, time_col, value_col
        self.error_col, self.band_col = error_col, band_col
        self.time_format = time_format
        self.origin = origin
        # An offset time system (BKJD, BTJD...) keeps its zero point in the table's
        # meta as FITS does (BJDREFI + BJDREFF, TIMESYS), e.g. in our own exports.
        meta = table.meta or {}
        self.time_offset_jd = float(meta.get("BJDREFI", 0) or 0) + float(meta.get("BJDREFF", 0) or 0)
        self.time_scale = str(meta.get("TIMESYS", "") or "").lower() if self.time_offset_jd else ""
        unit = table[value_col].unit
        self.value_unit = str(unit) if unit is not None else ""
        self.is_magnitude = "mag" in self.value_unit or "mag" in value_col.lower()

        obs_ids = np.asarray(table[id_col])
        object_ids = np.asarray(object_ids)
        # Group observations by object once: rows [_start, _stop) of the ids in
        # _order (None: as stored, when the ids are already non-decreasing).
        self._order, self._start, self._stop = _group_by_id(obs_ids, object_ids)
        self._bands: tuple[str, ...] | None = None
        # Only the first row with a given id gets its observations (see Notes).
        first = np.zeros(object_ids.size, dtype=bool)
        if object_ids.size:
            first[np.unique(object_ids, return_index=True)[1]] = True
        self.duplicate_rows = np.flatnonzero(~first).astype(np.int64)
        self._stop[self.duplicate_rows] = self._start[self.duplicate_rows]
        self._n_rows = object_ids.size

    def __len__(self) -> int:
        return self._n_rows

    @property
    def n_points(self) -> int:
        return len(self.table)

    @property
    def bands(self) -> tuple[str, ...]:
        if self.band_col is None:
            return ("",)
        if self._bands is None:
            self._bands = _distinct(self.table[self.band_col])
        return self._bands

    def counts(self) -> np.ndarray:
        """Number of observations of each catalogue row, shape (N,)."""
        return self._stop - self._start

    def observation_rows(self, row: int) -> np.ndarray:
        """Indices into ``table`` of row ``row``'s observations, in time order."""
        start, stop = int(self._start[row]), int(self._stop[row])
        idx = np.arange(start, stop) if self._order is None else self._order[start:stop]
        # Index only these rows: the columns may be memory-mapped, 10^7 rows long.
        time = np.asarray(self.table[self.time_col][idx])
        return idx[np.argsort(time, kind="stable")]

    def get(self, row: int) -> LightCurve:
        if not 0 <= row < self._n_rows:
            raise IndexError(f"row {row} is outside a catalogue of {self._n_rows} rows")
        idx = self.observation_rows(row)
        return LightCurve(
            time=self._column(self.time_col, idx, np.nan).astype(np.float64),
            value=self._column(self.value_col, idx, np.nan).astype(np.float64),
            error=self._column(self.error_col, idx, np.nan).astype(np.float64),
            band=self._column(self.band_col, idx, "").astype(str),
            time_format=self.time_format,
            value_name=self.value_col,
            value_unit=self.value_unit,
            is_magnitude=self.is_magnitude,
            time_offset_jd=self.time_offset_jd,
            time_scale=self.time_scale,
        )

    def get_many(self, rows: Sequence[int] | np.ndarray) -> ConcatenatedLightCurves:
        """As :meth:`LightCurveSource.get_many`, vectorised: all the rows'
        observations are gathered at once, put in time order within each object by
        one stable sort (NaN times last, as :meth:`observation_rows`), and each
        column is indexed once, at those observations only.

        Raises
        ------
        IndexError
            If a row is outside the catalogue.
        """
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if rows.size and (rows.min() < 0 or rows.max() >= self._n_rows):
            bad = rows[(rows < 0) | (rows >= self._n_rows)][0]
            raise IndexError(f"row {bad} is outside a catalogue of {self._n_rows} rows")
        start = self._start[rows]
        lengths = self._stop[rows] - start
        offsets = np.zeros(rows.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        owner = np.repeat(np.arange(rows.size), lengths)
        # Position k of object i is observation start[i] + k of the grouped order.
        pos = np.arange(offsets[-1], dtype=np.int64) + np.repeat(start - offsets[:-1], lengths)
        idx = pos if self._order is None else self._order[pos]
        # The same sort key as observation_rows: the stored times (not NaN-filled).
        time = self.table[self.time_col][idx]
        order = time_order(np.asarray(time), owner)
        if order is not None:
            idx, time = idx[order], time[order]
        return ConcatenatedLightCurves(
            time=_filled(time, np.nan).astype(np.float64),
            value=self._column(self.value_col, idx, np.nan).astype(np.float64),
            error=self._column(self.error_col, idx, np.nan).astype(np.float64),
            band=self._column(self.band_col, idx, "").astype(str),
            offsets=offsets,
            is_magnitude=np.full(rows.size, self.is_magnitude, dtype=bool),
        )

    def _column(self, name: str | None, idx: np.ndarray, fill: float | str) -> np.ndarray:
        """Column ``name`` at table rows ``idx`` (all ``fill`` when there is no such
        column); only those rows are read, since columns may be memory-mapped."""
        if name is None:
            return np.full(idx.size, fill)
        return _filled(self.table[name][idx], fill)


def time_order(time: np.ndarray, owner: np.ndarray) -> np.ndarray | None:
    """The stable sort of ``time`` (shape (P,)) within each object, NaN last, as
    ``np.lexsort((time, owner))``, for points grouped by object (``owner`` (P,)
    non-decreasing); None when they are in that order already (checked first, in
    one pass: light curves are usually stored in time order)."""
    if time.size < 2:
        return None
    later = time[1:]
    in_order = (later >= time[:-1]) | np.isnan(later) if time.dtype.kind == "f" \
        else later >= time[:-1]
    if np.all(in_order | (owner[1:] != owner[:-1])):
        return None
    return np.lexsort((time, owner))


def _filled(col, fill: float | str) -> np.ndarray:
    """``col`` as a plain array: masked entries ``fill``, FITS bytes decoded to str."""
    if hasattr(col, "filled"):
        col = col.filled(fill)
    col = np.asarray(col)
    if col.dtype.kind == "S":  # a memory-mapped FITS string column
        col = np.char.rstrip(np.char.decode(col, "ascii", "replace"))
    return col


def _group_by_id(obs_ids: np.ndarray, object_ids: np.ndarray, chunk: int = 1 << 22
                 ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Where each object's observations are, shapes ``(M,)`` or None, ``(N,)``, ``(N,)``.

    Returns ``(order, start, stop)``: row ``i``'s observations are
    ``order[start[i]:stop[i]]`` (``order`` None: rows ``start[i]:stop[i]`` as stored).
    Integer or string ids already non-decreasing (as surveys deliver them) are
    scanned in chunks, never copied or sorted whole; others are argsorted (stable).
    """
    n = obs_ids.size
    runs = _runs(obs_ids, chunk) if obs_ids.dtype.kind in "iuSU" else None
    if runs is None:
        order = np.argsort(obs_ids, kind="stable")
        sorted_ids = obs_ids[order]
        return (order, np.searchsorted(sorted_ids, object_ids, side="left"),
                np.searchsorted(sorted_ids, object_ids, side="right"))
    run_ids, run_starts = runs
    bounds = np.append(run_starts, n)
    pos = np.searchsorted(run_ids, object_ids)
    found = pos < run_ids.size
    found[found] = run_ids[pos[found]] == object_ids[found]
    start = np.where(found, bounds[pos.clip(0, max(run_ids.size - 1, 0))], 0)
    stop = np.where(found, bounds[(pos + 1).clip(0, run_ids.size)], 0)
    return None, start.astype(np.int64), stop.astype(np.int64)


def _runs(ids: np.ndarray, chunk: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Distinct values of non-decreasing ``ids`` and the index where each run starts,
    or None if ``ids`` ever decrease. Reads ``chunk`` values at a time."""
    values: list[np.ndarray] = []
    starts: list[np.ndarray] = []
    last = None
    for s in range(0, ids.size, chunk):
        c = np.asarray(ids[s : s + chunk])
        c = c.astype(c.dtype.newbyteorder("="), copy=False)
        if np.any(c[1:] < c[:-1]) or (last is not None and c[0] < last):
            return None
        new = np.flatnonzero(c[1:] != c[:-1]) + 1
        if last is None or c[0] != last:
            new = np.concatenate([[0], new])
        values.append(c[new])
        starts.append(new + s)
        last = c[-1]
    if not values:
        return ids[:0], np.zeros(0, dtype=np.int64)
    return np.concatenate(values), np.concatenate(starts).astype(np.int64)


def _distinct(column: np.ndarray, chunk: int = 1 << 22) -> tuple[str, ...]:
    """Sorted distinct values of a (possibly memory-mapped, bytes) column, as str."""
    seen: set = set()
    for s in range(0, len(column), chunk):
        c = np.asarray(column[s : s + chunk])
        if c.dtype == np.dtype("S1"):  # one-letter bands: count bytes, no sort
            seen.update(bytes([b]) for b in np.flatnonzero(np.bincount(c.view(np.uint8))))
        else:
            seen.update(np.unique(c).tolist())
    out = (v.rstrip(b"\0 ").decode("ascii", "replace") if isinstance(v, bytes) else str(v)
           for v in sorted(seen))
    return tuple(dict.fromkeys(out))
