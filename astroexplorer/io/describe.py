"""A plain-text account of a catalogue: what was read and detected, for
``astroexplorer info`` and the window's Catalogue information."""

from __future__ import annotations

import numpy as np

from ..core.catalogue import Catalogue

__all__ = ["describe"]


def describe(cat: Catalogue) -> str:
    """Rows, columns (type, unit, shape), id column, the readers' notes, cutouts and
    light curves of ``cat``, one item per line."""
    table = cat.table
    lines = [f"rows: {len(table)}", f"columns: {len(table.colnames)}"]
    for name in table.colnames:
        col = table[name]
        unit = f" [{col.unit}]" if col.unit is not None else ""
        shape = f" shape={col.shape[1:]}" if col.ndim > 1 else ""
        kind = "str" if col.dtype.kind in "US" else col.dtype.name
        lines.append(f"  {name}: {kind}{unit}{shape}")
    lines.append(f"id column: {cat.id_column or 'none'}")
    lines.extend(f"detected: {note}" for note in cat.notes)
    if cat.images is None:
        lines.append("cutouts: none")
    else:
        c, h, w = cat.images.shape
        lines.append(f"cutouts: {len(cat.images)} of {c} band(s) ({', '.join(cat.images.bands)}), "
                     f"{h}x{w} px, from {cat.images.origin}")
    if cat.lightcurves is None:
        lines.append("light curves: none")
    else:
        lc = cat.lightcurves
        counts = lc.counts() if hasattr(lc, "counts") else None
        per = (f", {int(np.count_nonzero(counts))} objects with data, median "
               f"{int(np.median(counts[counts > 0])) if np.any(counts) else 0} points each"
               if counts is not None else "")
        lines.append(f"light curves: {len(lc)} rows, {lc.n_points} points in band(s) "
                     f"{', '.join(lc.bands)}{per}, from {lc.origin}")
    return "\n".join(lines)
