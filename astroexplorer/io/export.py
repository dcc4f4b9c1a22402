"""Export a selection: rows, embedding, projection, cutouts and light curves to FITS,
or the table alone to VOTable, ECSV or CSV."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import Column, Table

from ..core.catalogue import Catalogue, Embedding, Projection
from ..core.errors import UserError
from ..core.rowset import RowSet
from .fits_writer import CUTOUT_LAYOUTS, write_catalogue_fits
from .table_writer import FORMAT_LABELS, format_for, write_table

__all__ = ["export_selection", "lightcurves_table", "selection_table", "export_provenance",
           "row_index_name"]

#: Name of the column recording each exported row's index in the source catalogue.
ROW_INDEX = "row_index"


def row_index_name(table: Table) -> str:
    """Name of the column recording the exported rows' indices: ``row_index``, or
    ``row_index_2``, ``_3``... when the table already has one (a re-export keeps
    the earlier export's column as it is)."""
    name, k = ROW_INDEX, 1
    while name in table.colnames:
        k += 1
        name = f"{ROW_INDEX}_{k}"
    return name


def lightcurves_table(catalogue: Catalogue, rows: np.ndarray) -> Table | None:
    """Long-format light curves of ``rows``: one table row per observation, with
    the row index (into the source catalogue; named as in the exported table, see
    :func:`row_index_name`) and the catalogue's id column."""
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
    table[row_index_name(catalogue.table)] = Column(np.repeat(rows, counts),
                                                    description="row in the source catalogue")
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
    # Which column is which, so that the export reads back whatever the names.
    table.meta.update(LCID=row_index_name(catalogue.table), LCTIME=time_name,
                      LCVALUE=value_name, LCERR=f"{value_name}_err", LCBAND="band")
    offset = first.time_offset_jd if first else 0.0
    if offset:
        # Keep the zero point of an offset system (BKJD, BTJD), as Kepler/TESS files do.
        table.meta["BJDREFI"] = int(np.floor(offset))
        table.meta["BJDREFF"] = float(offset - np.floor(offset))
        table.meta["TIMESYS"] = (first.time_scale or "tdb").upper()
        table.meta["TIMEUNIT"] = "d"
        table[time_name].description = (f"observation time ({time_name.upper()} = BJD - "
                                        f"{offset:.1f})")
    return table


def selection_table(
    catalogue: Catalogue,
    idx: np.ndarray,
    embedding: Embedding | None = None,
    projection: Projection | None = None,
) -> Table:
    """The rows ``idx`` of the catalogue with every column (units, descriptions,
    masks kept), ``row_index`` first, then the ``embedding`` vector column
    ((n, D) float32) and ``proj_x`` / ``proj_y`` (float32) when given.

    Raises
    ------
    UserError
        If the embedding or projection is not aligned with the catalogue's rows.
    """
    n = len(catalogue)
    table = catalogue.table[idx]
    table.meta = dict(catalogue.table.meta)
    table.add_column(Column(idx, name=row_index_name(catalogue.table),
                            description="row in the source catalogue"), index=0)
    if embedding is not None:
        if embedding.vectors.shape[0] != n:
            raise UserError(f"the embedding has {embedding.vectors.shape[0]} rows but the "
                            f"catalogue {catalogue.name} has {n}")
        table["embedding"] = Column(embedding.vectors[idx].astype(np.float32),
                                    description=f"{embedding.method} embedding vector")
    if projection is not None:
        if projection.xy.shape[0] != n:
            raise UserError(f"the projection has {projection.xy.shape[0]} rows but the "
                            f"catalogue {catalogue.name} has {n}")
        table["proj_x"] = Column(projection.xy[idx, 0], description=f"{projection.method} x")
        table["proj_y"] = Column(projection.xy[idx, 1], description=f"{projection.method} y")
    return table


def _source_files(catalogue: Catalogue) -> list[Path]:
    """The files the catalogue was read from: its own and any separate cutout or
    light-curve file named in its open options."""
    files = [catalogue.path] if catalogue.path is not None else []
    options = catalogue.open_options
    for name in ("cutouts", "lightcurves"):
        value = getattr(options, name, None)
        if value is not None:
            files.append(Path(value))
    return files


def export_provenance(
    catalogue: Catalogue,
    n_rows: int,
    description: str = "",
    embedding: Embedding | None = None,
    projection: Projection | None = None,
) -> dict[str, object]:
    """Keyword -> value (or (value, comment)) recording where an export came from:
    ``SRCFILE`` (the catalogue file), ``SRCCUTS`` / ``SRCLC`` (separate cutout and
    light-curve files from the catalogue's open options, else where the attached
    ones were found), ``NSELECT`` (rows), ``SELECTN`` (how they were selected),
    ``EMBMETH`` / ``EMBDIM`` / ``EMBCONF`` and ``PROJMETH`` / ``PROJCONF`` (methods
    and their parameters, JSON). The writers add ``CREATOR`` and ``DATE``."""
    options = catalogue.open_options
    provenance: dict[str, object] = {
        # No comment: a long path continues over several cards (CONTINUE convention).
        "SRCFILE": str(catalogue.path) if catalogue.path else catalogue.name,
    }
    cutouts = getattr(options, "cutouts", None)
    if cutouts is not None:
        provenance["SRCCUTS"] = str(cutouts)
    elif catalogue.images is not None and catalogue.images.origin:
        provenance["SRCCUTS"] = str(catalogue.images.origin)
    lightcurves = getattr(options, "lightcurves", None)
    if lightcurves is not None:
        provenance["SRCLC"] = str(lightcurves)
    elif catalogue.lightcurves is not None and getattr(catalogue.lightcurves, "origin", ""):
        provenance["SRCLC"] = str(catalogue.lightcurves.origin)
    provenance["NSELECT"] = (int(n_rows), "number of rows exported")
    provenance["SELECTN"] = (description or "interactive selection", "how the rows were selected")
    if embedding is not None:
        provenance["EMBMETH"] = (embedding.method, "embedding method")
        provenance["EMBDIM"] = (int(embedding.vectors.shape[1]), "embedding dimension")
        if embedding.config:
            provenance["EMBCONF"] = json.dumps(embedding.config, default=str, sort_keys=True)
    if projection is not None:
        provenance["PROJMETH"] = (projection.method, "projection method")
        if projection.config:
            provenance["PROJCONF"] = json.dumps(projection.config, default=str, sort_keys=True)
    return provenance


def export_selection(
    catalogue: Catalogue,
    rows: RowSet,
    out: Path,
    embedding: Embedding | None = None,
    projection: Projection | None = None,
    description: str = "",
    overwrite: bool = False,
    format: str | None = None,
    cutout_layout: str = "cube",
    table_only: bool = False,
    inputs: Sequence[Path | str | None] = (),
) -> Path:
    """Write the selected rows of a catalogue and everything attached to them.

    The table holds the rows with every column (units, descriptions, null values
    kept) plus ``row_index`` (row in the source catalogue), the ``embedding``
    vector column ((n, D) float32) and ``proj_x`` / ``proj_y``.

    Formats (``format``, else from the suffix of ``out``: .fits/.fit/.fts,
    .vot/.xml/.votable, .csv, .ecsv):

    * ``fits``: primary header with provenance (``CREATOR`` application and
      version, ``DATE`` UTC, ``SRCFILE`` / ``SRCCUTS`` / ``SRCLC`` source files,
      ``SELECTN`` the ``description`` of the selection, ``NSELECT`` rows, methods;
      see :func:`export_provenance`); extension ``CATALOGUE`` the table; cutouts
      either as one ``CUTOUTS`` (n, C, H, W) cube (``cutout_layout="cube"``) or as
      one ``CUTOUT_<row>`` (C, H, W) image per object with its WCS when known
      (``"per_object"``, also spelled ``"per-object"``); ``LIGHTCURVES`` the
      long-format observations (units kept).
    * ``votable``, ``ecsv``: the table with units and descriptions, provenance as
      INFO elements / meta. ``csv``: the table's values only (see
      :func:`astroexplorer.io.table_writer.write_table`).

    These three formats hold no cutouts or light curves: for a catalogue that has
    either, the export is refused unless ``table_only`` says that the table alone
    is wanted (``table_only`` leaves them out of FITS too).

    Raises
    ------
    UserError
        For an empty selection, arrays not aligned with the catalogue, an unknown
        format or cutout layout, cutouts or light curves asked of a table-only
        format, or an output path that exists (without ``overwrite``) or is an
        input (the catalogue, its separate cutout / light-curve file, or any of
        ``inputs``, e.g. the embedding file). Nothing is written then.
    """
    fmt = format_for(Path(out), format)
    layout = cutout_layout.replace("-", "_")
    if layout not in CUTOUT_LAYOUTS:
        raise UserError(f"cutout layout {cutout_layout!r} is unknown: use cube or per-object")
    if not len(rows):
        raise UserError("the selection is empty: select some objects before exporting")
    idx = rows.rows
    n = len(catalogue)
    if idx[-1] >= n:
        raise UserError(f"row {idx[-1]} is outside the catalogue {catalogue.name} of {n} rows")
    table = selection_table(catalogue, idx, embedding, projection)
    provenance = export_provenance(catalogue, len(idx), description, embedding, projection)
    inputs = [*_source_files(catalogue), *(Path(p) for p in inputs if p is not None)]
    if fmt != "fits":
        extras = [what for what, source in (("cutouts", catalogue.images),
                                            ("light curves", catalogue.lightcurves))
                  if source is not None]
        if extras and not table_only:
            raise UserError(
                f"cannot write {out}: {FORMAT_LABELS[fmt]} holds only the table, not the "
                f"selection's {' and '.join(extras)}; export to FITS to keep them, or ask "
                "for the table alone (--table-only)"
            )
        return write_table(Path(out), table, fmt, provenance, overwrite=overwrite, inputs=inputs)
    images = None if table_only else catalogue.images
    cutouts = images.get_many(idx) if images is not None else None
    ids = None
    wcs = None
    if cutouts is not None and layout == "per_object":
        if catalogue.id_column is not None:
            ids = np.asarray(catalogue.table[catalogue.id_column])[idx]
        wcs = [images.wcs(int(r)) for r in idx]
        provenance["CUTLAYT"] = ("per_object", "one image HDU per object: CUTOUT_<row>")
    elif cutouts is not None:
        provenance["CUTLAYT"] = ("cube", "cutouts in one (n, C, H, W) CUTOUTS image")
    return write_catalogue_fits(
        out, table, cutouts=cutouts,
        bands=images.bands if images is not None else None,
        lightcurves=None if table_only else lightcurves_table(catalogue, idx),
        provenance=provenance, overwrite=overwrite, inputs=inputs,
        cutout_layout=layout, cutout_rows=idx, cutout_ids=ids, cutout_wcs=wcs,
    )
