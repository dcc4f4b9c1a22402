"""Export a selection: rows, embedding, projection, cutouts and light curves to FITS."""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import Column, Table

from ..core.catalogue import Catalogue, Embedding, Projection
from ..core.errors import UserError
from ..core.rowset import RowSet
from .fits_writer import write_catalogue_fits

__all__ = ["export_selection", "lightcurves_table"]

#: Name of the column recording each exported row's index in the source catalogue.
ROW_INDEX = "row_index"


def lightcurves_table(catalogue: Catalogue, rows: np.ndarray) -> Table | None:
    """Long-format light curves of ``rows``: one table row per observation, with
    ``row_index`` (into the source catalogue) and the catalogue's id column."""
    source = catalogue.lightcurves
    if source is None:
        return None
    curves = [source.get(int(r)) for r in rows]
    counts = np.array([len(c) for c in curves], dtype=np.int64)
    first = next((c for c in curves if len(c)), None)
    time_name = first.time_format if first else source.time_format
    value_name = first.value_name if first else "value"
    value_unit = first.value_unit if first else ""
    table = Table()
    table[ROW_INDEX] = Column(np.repeat(rows, counts), description="row in the source catalogue")
    if catalogue.id_column is not None:
        ids = np.asarray(catalogue.table[catalogue.id_column])[rows]
        table[catalogue.id_column] = np.repeat(ids, counts)

    def concat(attr: str, dtype) -> np.ndarray:
        parts = [getattr(c, attr) for c in curves]
        return np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype)

    time_unit = u.day if time_name in ("mjd", "jd", "bjd", "hjd", "bkjd", "btjd") else None
    table[time_name] = Column(concat("time", np.float64), unit=time_unit,
                              description=f"observation time ({time_name.upper()})")
    table[value_name] = Column(concat("value", np.float64), unit=value_unit or None)
    table[f"{value_name}_err"] = Column(concat("error", np.float64), unit=value_unit or None,
                                        description=f"1-sigma uncertainty of {value_name}")
    table["band"] = Column(concat("band", str), description="band / passband")
    return table


def export_selection(
    catalogue: Catalogue,
    rows: RowSet,
    out: Path,
    embedding: Embedding | None = None,
    projection: Projection | None = None,
    description: str = "",
    overwrite: bool = False,
) -> Path:
    """Write the selected rows of a catalogue and everything attached to them.

    The ``CATALOGUE`` extension holds the rows with every column (units kept) plus
    ``row_index``, the ``embedding`` vector column and ``proj_x``/``proj_y``;
    ``CUTOUTS`` the (n, C, H, W) cube; ``LIGHTCURVES`` the observations.

    Raises
    ------
    UserError
        For an empty selection, arrays not aligned with the catalogue, or an output
        path that exists or is an input.
    """
    if not len(rows):
        raise UserError("the selection is empty: select some objects before exporting")
    idx = rows.rows
    n = len(catalogue)
    if idx[-1] >= n:
        raise UserError(f"row {idx[-1]} is outside the catalogue {catalogue.name} of {n} rows")
    table = catalogue.table[idx]
    table.meta = dict(catalogue.table.meta)
    table.add_column(Column(idx, name=ROW_INDEX, description="row in the source catalogue"),
                     index=0)
    if embedding is not None:
        if embedding.vectors.shape[0] != n:
            raise UserError(f"the embedding has {embedding.vectors.shape[0]} rows but the "
                            f"catalogue {catalogue.name} has {n}")
        table["embedding"] = Column(embedding.vectors[idx],
                                    description=f"{embedding.method} embedding vector")
    if projection is not None:
        if projection.xy.shape[0] != n:
            raise UserError(f"the projection has {projection.xy.shape[0]} rows but the "
                            f"catalogue {catalogue.name} has {n}")
        table["proj_x"] = Column(projection.xy[idx, 0], description=f"{projection.method} x")
        table["proj_y"] = Column(projection.xy[idx, 1], description=f"{projection.method} y")
    provenance = {
        # No comment: a long path continues over several cards (CONTINUE convention).
        "SRCFILE": str(catalogue.path) if catalogue.path else catalogue.name,
        "NSELECT": (len(idx), "number of rows exported"),
        "SELECTN": (description or "interactive selection", "how the rows were selected"),
    }
    if embedding is not None:
        provenance["EMBMETH"] = (embedding.method, "embedding method")
    if projection is not None:
        provenance["PROJMETH"] = (projection.method, "projection method")
    cutouts = catalogue.images.get_many(idx) if catalogue.images is not None else None
    return write_catalogue_fits(
        out, table, cutouts=cutouts,
        bands=catalogue.images.bands if catalogue.images is not None else None,
        lightcurves=lightcurves_table(catalogue, idx),
        provenance=provenance, overwrite=overwrite, inputs=[catalogue.path],
    )
