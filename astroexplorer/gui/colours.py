"""Colour schemes for the map: categorical (legend) or continuous (colour bar)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QBrush

from ..core.catalogue import Catalogue

__all__ = ["ColourScheme", "categorical_columns", "colour_scheme", "colour_by_candidates",
           "colour_limits", "category_codes", "CATEGORY_COLOURS", "MISSING_COLOUR", "COLOUR_MAPS",
           "LIMIT_PRESETS"]

#: Distinct colours for categories (Tableau 10 without its grey, then three darker).
CATEGORY_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                    "#e377c2", "#17becf", "#bcbd22", "#393b79", "#637939", "#ad494a")
#: Colour of missing values (NaN, masked, empty strings).
MISSING_COLOUR = "#b4b4b4"
#: Colour of the categories beyond the palette, lumped as "other".
OTHER_COLOUR = "#6e6e6e"
#: Most unique values a string column may have to be offered for colouring.
MAX_CATEGORIES = 20
_ALPHA = 210
#: Colour maps offered for continuous columns (perceptually uniform first).
COLOUR_MAPS = ("viridis", "plasma", "inferno", "magma", "cividis", "turbo")
#: Presets for the ends of a continuous colour map: name -> percentiles.
LIMIT_PRESETS = {"1-99 %": (1.0, 99.0), "min-max": (0.0, 100.0)}
#: Above this many values, percentiles are taken on an evenly strided sample.
_PERCENTILE_SAMPLE = 200_000


def _brush(colour: str | tuple, alpha: int = _ALPHA) -> QBrush:
    c = pg.mkColor(colour)
    c.setAlpha(alpha)
    return pg.mkBrush(c)


@dataclass
class ColourScheme:
    """Per-point colours as indices into a small set of shared brushes.

    Attributes
    ----------
    index : ndarray, shape (N,), int
        Each row's brush in :attr:`brushes`.
    brushes : ndarray of QBrush, shape (K,)
        Shared brushes (object array), so that a recolour is one ``setBrush``.
    categories : list of (label, QBrush)
        Legend entries for categorical columns; empty for continuous ones.
    levels : (float, float)
        Values at the two ends of the colour map (continuous columns).
    colour_map : pyqtgraph ColorMap or None
    """

    index: np.ndarray
    brushes: np.ndarray
    categories: list[tuple[str, QBrush]] = field(default_factory=list)
    levels: tuple[float, float] = (0.0, 1.0)
    colour_map: pg.ColorMap | None = None
    #: Number of rows with a missing value (NaN, masked, empty string).
    n_missing: int = 0
    #: Name of the colour map (continuous columns).
    colour_map_name: str = ""

    @property
    def is_categorical(self) -> bool:
        return bool(self.categories)

    @property
    def rgba(self) -> np.ndarray:
        """(K, 4) uint8 colours of :attr:`brushes`, for rasters drawn in the same colours."""
        cached = self.__dict__.get("_rgba")
        if cached is None:
            cached = np.array([b.color().getRgb() for b in self.brushes], dtype=np.uint8)
            self.__dict__["_rgba"] = cached
        return cached

    @property
    def missing_index(self) -> int:
        """Index in :attr:`brushes` of the missing-value colour (the last brush)."""
        return len(self.brushes) - 1

    @property
    def n_levels(self) -> int:
        """Colour-map steps (continuous); :attr:`index` below it is a finite value."""
        return 0 if self.categories else len(self.brushes) - 1


def _is_categorical(values: np.ndarray) -> bool:
    if values.dtype.kind in "USOb":
        return True
    if values.dtype.kind in "iu":
        sample = np.ma.compressed(np.ma.asarray(values[:100_000]))
        return np.unique(sample).size <= len(CATEGORY_COLOURS)
    return False


def _labels(values: np.ndarray) -> np.ndarray:
    mask = np.ma.getmaskarray(values)
    data = np.ma.getdata(values)
    if data.dtype.kind == "b":
        labels = np.where(data, "true", "false").astype(object)
    elif data.dtype.kind == "S":
        labels = np.char.decode(data, "utf-8", "replace").astype(object)
    else:
        labels = data.astype(str).astype(object)
    labels[mask] = ""
    return labels


def category_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct labels of a column of shape (N,): ``(names (K,) str, inverse (N,) int,
    counts (K,) int)`` as :func:`numpy.unique` gives them, missing values as ``""``.

    Fixed-width string columns are coded through a 32-bit hash of their characters
    (checked exactly afterwards, falling back to a sort on a collision): about 20x
    faster than sorting 10^6 strings."""
    mask = np.ma.getmaskarray(values)
    data = np.ma.getdata(values)
    if data.dtype.kind in "US" and data.size > 10_000 and data.dtype.itemsize > 0:
        flat = np.ascontiguousarray(data)
        width = flat.dtype.itemsize // (4 if flat.dtype.kind == "U" else 1)
        chars = flat.view(np.uint32 if flat.dtype.kind == "U" else np.uint8).reshape(flat.size,
                                                                                      width)
        # FNV-1a over the characters' codes, in place (uint32: equal strings get equal
        # hashes; unequal ones colliding is caught by the exact check below).
        hashed = np.full(flat.size, 2166136261, dtype=np.uint32)
        prime = np.uint32(16777619)
        for j in range(width):
            np.bitwise_xor(hashed, chars[:, j], out=hashed, casting="unsafe")
            np.multiply(hashed, prime, out=hashed)
        if mask.any():
            hashed[mask] = 0
        # Distinct hashes from a sample, then every row looked up among them; np.unique
        # over all rows (a sort) only when the sample missed a value.
        keys = np.unique(hashed[:: max(1, hashed.size // 20_000)])
        if keys.size <= 32:
            pos = np.zeros(hashed.size, dtype=np.int64)
            found = np.zeros(hashed.size, dtype=bool)
            for k, key in enumerate(keys):
                hit = hashed == key
                pos[hit] = k
                found |= hit
            complete = bool(found.all())
        else:
            pos = np.minimum(np.searchsorted(keys, hashed), keys.size - 1)
            complete = np.array_equal(keys[pos], hashed)
        if not complete:
            keys, pos = np.unique(hashed, return_inverse=True)
        pos = pos.ravel()
        first = np.zeros(keys.size, dtype=np.int64)
        first[pos[::-1]] = np.arange(pos.size - 1, -1, -1)
        # Exact check that equal hashes are equal strings: on the strings themselves,
        # half the time of comparing an (N, width) copy of their characters' codes.
        if np.array_equal(flat[first][pos], flat) and \
                np.array_equal(mask[first][pos], mask):
            reps = flat[first]
            counts = np.bincount(pos, minlength=keys.size)
            names = _labels(np.ma.MaskedArray(reps, mask=mask[first])).astype(str)
            if names.size != np.unique(names).size:  # e.g. "a" and "a " (S columns)
                return _sorted_codes(values)
            order = np.argsort(names, kind="stable")
            rank = np.empty_like(order)
            rank[order] = np.arange(order.size)
            return names[order], rank[pos], counts[order]
    return _sorted_codes(values)


def _sorted_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    labels = _labels(values)
    names, inverse, counts = np.unique(labels.astype(str), return_inverse=True,
                                       return_counts=True)
    return names, inverse.ravel(), counts


def _categorical(values: np.ndarray) -> ColourScheme:
    names, inverse, counts = category_codes(values)
    order = np.argsort(-counts, kind="stable")
    present = [i for i in order if names[i] != ""]
    n_colours = len(CATEGORY_COLOURS)
    keep = present if len(present) <= n_colours else present[: n_colours - 1]
    brushes = [_brush(c) for c in CATEGORY_COLOURS[: len(keep)]]
    categories = [(f"{names[i]} ({counts[i]})", b) for i, b in zip(keep, brushes)]
    other = _brush(OTHER_COLOUR)
    missing = _brush(MISSING_COLOUR)
    lookup = np.full(names.size, len(keep), dtype=np.int64)  # default: "other"
    lookup[keep] = np.arange(len(keep))
    kept = set(keep)
    n_other = int(sum(counts[i] for i in present if i not in kept))
    if n_other:
        categories.append((f"other ({n_other})", other))
    missing_index = np.flatnonzero(names == "")
    n_missing = 0
    if missing_index.size:
        lookup[missing_index] = len(keep) + 1
        n_missing = int(counts[missing_index[0]])
        categories.append((f"missing ({n_missing})", missing))
    return ColourScheme(index=lookup[inverse.ravel()],
                        brushes=np.array([*brushes, other, missing], dtype=object),
                        categories=categories, n_missing=n_missing)


def colour_limits(values: np.ndarray, preset: str = "1-99 %") -> tuple[float, float]:
    """Values for the two ends of a colour map over a column of shape (N,), in the
    column's unit: a :data:`LIMIT_PRESETS` name (``"1-99 %"``: the 1st and 99th
    percentiles, taken on an evenly strided sample of 200k values above that size;
    ``"min-max"``: the extremes). NaN and masked values are ignored; always lo < hi."""
    if preset not in LIMIT_PRESETS:
        raise KeyError(f"unknown colour limits {preset!r}; choose from {list(LIMIT_PRESETS)}")
    data = np.ma.filled(np.ma.asarray(values, dtype=np.float64), np.nan)
    finite = data[np.isfinite(data)]
    lo_pct, hi_pct = LIMIT_PRESETS[preset]
    if not finite.size:
        lo, hi = 0.0, 1.0
    elif lo_pct == 0.0 and hi_pct == 100.0:
        lo, hi = float(finite.min()), float(finite.max())
    else:
        sample = finite[:: max(1, finite.size // _PERCENTILE_SAMPLE)]
        lo, hi = (float(v) for v in np.percentile(sample, [lo_pct, hi_pct]))
        if hi <= lo:
            lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def _continuous(values: np.ndarray, limits: tuple[float, float] | None = None,
                colour_map: str = "viridis", n_levels: int = 256) -> ColourScheme:
    data = np.ma.filled(np.ma.asarray(values, dtype=np.float64), np.nan)
    if limits is None:
        lo, hi = colour_limits(data)
    else:
        lo, hi = float(limits[0]), float(limits[1])
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
            raise ValueError(f"colour limits must be finite with low < high, not {limits}")
    if colour_map not in COLOUR_MAPS:
        raise KeyError(f"unknown colour map {colour_map!r}; choose from {list(COLOUR_MAPS)}")
    # Without the palest end (viridis' yellow), which vanishes on a white background.
    top = 0.9 if colour_map in ("viridis", "plasma", "inferno", "magma", "cividis") else 1.0
    lut = pg.colormap.get(colour_map).getLookupTable(0.0, top, n_levels, alpha=False)
    brushes = [_brush(tuple(int(v) for v in rgb)) for rgb in lut] + [_brush(MISSING_COLOUR)]
    with np.errstate(invalid="ignore"):
        scaled = np.clip((data - lo) / (hi - lo), 0.0, 1.0) * (n_levels - 1)
    finite = np.isfinite(data)
    index = np.where(finite, np.nan_to_num(scaled).round(), n_levels).astype(np.int64)
    return ColourScheme(index=index, brushes=np.array(brushes, dtype=object),
                        levels=(float(lo), float(hi)),
                        colour_map=pg.ColorMap(np.linspace(0.0, 1.0, n_levels), lut),
                        n_missing=int(data.size - np.count_nonzero(finite)),
                        colour_map_name=colour_map)


def colour_scheme(values: np.ndarray, name: str = "",
                  limits: tuple[float, float] | None = None,
                  colour_map: str = "viridis") -> ColourScheme:
    """Colours for a column of shape (N,): distinct colours for strings, booleans and
    integers with few values; otherwise a colour map (one of :data:`COLOUR_MAPS`)
    between ``limits`` (in the column's unit; by default its 1st and 99th
    percentiles). Missing values (NaN, masked, empty strings) are grey."""
    values = values if isinstance(values, np.ma.MaskedArray) else np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"cannot colour by {name or 'a column'} of shape {values.shape}")
    if _is_categorical(values):
        return _categorical(values)
    return _continuous(values, limits, colour_map)


def _column_kind(catalogue: Catalogue, name: str) -> str | None:
    """``"categorical"`` (strings with at most ``MAX_CATEGORIES`` values, booleans,
    integers with few values), ``"numeric"`` (other numbers) or None (the id column,
    free text, multi-dimensional columns)."""
    col = catalogue.table[name]
    if col.ndim != 1 or name == catalogue.id_column:
        return None
    kind = col.dtype.kind
    if kind in "USO":
        # A sample rules out free-text columns cheaply before the full count.
        if np.unique(np.asarray(col[:5000]).astype(str)).size <= MAX_CATEGORIES and \
                np.unique(np.asarray(col).astype(str)).size <= MAX_CATEGORIES:
            return "categorical"
        return None
    if kind == "b" or (kind in "iu" and _is_categorical(np.asarray(col))):
        return "categorical"
    return "numeric" if kind in "iuf" else None


def categorical_columns(catalogue: Catalogue) -> list[str]:
    """The catalogue's columns of categories (class labels, flags), in table order."""
    return [name for name in catalogue.table.colnames
            if _column_kind(catalogue, name) == "categorical"]


def colour_by_candidates(catalogue: Catalogue) -> list[str]:
    """Columns worth colouring by: the :func:`categorical_columns` first, then the
    numeric ones."""
    kinds = {name: _column_kind(catalogue, name) for name in catalogue.table.colnames}
    return ([name for name, kind in kinds.items() if kind == "categorical"]
            + [name for name, kind in kinds.items() if kind == "numeric"])
