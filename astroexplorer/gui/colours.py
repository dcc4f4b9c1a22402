"""Colour schemes for the map: categorical (legend) or continuous (colour bar)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QBrush

from ..core.catalogue import Catalogue

__all__ = ["ColourScheme", "colour_scheme", "colour_by_candidates", "CATEGORY_COLOURS",
           "MISSING_COLOUR"]

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

    @property
    def is_categorical(self) -> bool:
        return bool(self.categories)


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


def _categorical(values: np.ndarray) -> ColourScheme:
    labels = _labels(values)
    names, inverse, counts = np.unique(labels.astype(str), return_inverse=True, return_counts=True)
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
    if missing_index.size:
        lookup[missing_index] = len(keep) + 1
        categories.append((f"missing ({int(counts[missing_index[0]])})", missing))
    return ColourScheme(index=lookup[inverse.ravel()],
                        brushes=np.array([*brushes, other, missing], dtype=object),
                        categories=categories)


def _continuous(values: np.ndarray, n_levels: int = 256) -> ColourScheme:
    data = np.ma.filled(np.ma.asarray(values, dtype=np.float64), np.nan)
    finite = data[np.isfinite(data)]
    if finite.size:
        lo, hi = np.percentile(finite, [1, 99])
        if hi <= lo:
            lo, hi = float(finite.min()), float(finite.max())
    else:
        lo, hi = 0.0, 1.0
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    # Viridis without its palest yellow, which vanishes on a white background.
    lut = pg.colormap.get("viridis").getLookupTable(0.0, 0.9, n_levels, alpha=False)
    colour_map = pg.ColorMap(np.linspace(0.0, 1.0, n_levels), lut)
    brushes = [_brush(tuple(int(v) for v in rgb)) for rgb in lut] + [_brush(MISSING_COLOUR)]
    with np.errstate(invalid="ignore"):
        scaled = np.clip((data - lo) / (hi - lo), 0.0, 1.0) * (n_levels - 1)
    index = np.where(np.isfinite(data), np.nan_to_num(scaled).round(), n_levels).astype(np.int64)
    return ColourScheme(index=index, brushes=np.array(brushes, dtype=object),
                        levels=(float(lo), float(hi)), colour_map=colour_map)


def colour_scheme(values: np.ndarray, name: str = "") -> ColourScheme:
    """Colours for a column of shape (N,): distinct colours for strings, booleans and
    integers with few values; a colour map over the 1-99 percentile range otherwise.
    Missing values (NaN, masked, empty strings) are grey."""
    values = values if isinstance(values, np.ma.MaskedArray) else np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"cannot colour by {name or 'a column'} of shape {values.shape}")
    return _categorical(values) if _is_categorical(values) else _continuous(values)


def colour_by_candidates(catalogue: Catalogue) -> list[str]:
    """Columns worth colouring by: categorical ones (strings with at most
    ``MAX_CATEGORIES`` values, booleans, small integers) first, then numeric ones."""
    categorical, numeric = [], []
    for name in catalogue.table.colnames:
        col = catalogue.table[name]
        if col.ndim != 1 or name == catalogue.id_column:
            continue
        kind = col.dtype.kind
        if kind in "USO":
            # A sample rules out free-text columns cheaply before the full count.
            if np.unique(np.asarray(col[:5000]).astype(str)).size <= MAX_CATEGORIES and \
                    np.unique(np.asarray(col).astype(str)).size <= MAX_CATEGORIES:
                categorical.append(name)
        elif kind == "b" or (kind in "iu" and _is_categorical(np.asarray(col))):
            categorical.append(name)
        elif kind in "iuf":
            numeric.append(name)
    return categorical + numeric
