"""Write a catalogue table to VOTable, ECSV or CSV, atomically.

These formats hold one table: an export's cutouts and light curves cannot go
into them (see :func:`astroexplorer.io.export.export_selection`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from astropy.io.votable import from_table
from astropy.io.votable.tree import Info
from astropy.table import Column, MaskedColumn, Table
from astropy.utils.exceptions import AstropyWarning

from .. import __version__
from ..core.errors import UserError
from .fits_writer import atomic_write_path, check_output_path, utc_now

__all__ = ["TABLE_FORMATS", "EXPORT_FORMATS", "SUFFIX_FORMATS", "format_for", "write_table",
           "flatten_array_columns"]

#: Formats :func:`write_table` writes.
TABLE_FORMATS = ("votable", "csv", "ecsv")
#: Every export format: FITS (table, cutouts, light curves) and the table-only ones.
EXPORT_FORMATS = ("fits", *TABLE_FORMATS)
#: Output suffix (lower case) -> format.
SUFFIX_FORMATS = {
    ".fits": "fits", ".fit": "fits", ".fts": "fits",
    ".vot": "votable", ".xml": "votable", ".votable": "votable",
    ".csv": "csv", ".ecsv": "ecsv",
}
#: Format -> name for messages.
FORMAT_LABELS = {"fits": "FITS", "votable": "VOTable", "csv": "CSV", "ecsv": "ECSV"}


def format_for(out: Path, format: str | None = None) -> str:
    """The export format for ``out``: ``format`` if given (one of
    :data:`EXPORT_FORMATS`), else the one its suffix names (:data:`SUFFIX_FORMATS`).

    Raises
    ------
    UserError
        For an unknown format, or a suffix that names none when no format is given.
    """
    if format is not None:
        fmt = format.lower()
        if fmt not in EXPORT_FORMATS:
            raise UserError(f"cannot write {out}: format {format!r} is unknown; use "
                            f"{', '.join(EXPORT_FORMATS)}")
        return fmt
    suffix = Path(out).suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        raise UserError(
            f"cannot tell which format to write {out} in from its suffix "
            f"{suffix or '(none)'}: name it .fits, .vot/.xml/.votable, .csv or .ecsv, "
            f"or give the format ({', '.join(EXPORT_FORMATS)})"
        )
    return SUFFIX_FORMATS[suffix]


def flatten_array_columns(table: Table) -> Table:
    """A copy of ``table`` where each array column ``x`` of shape (N, D...) becomes
    scalar columns ``x_0 .. x_{K-1}`` (K = product of D...), in C order, keeping
    the unit, description and mask. For formats holding scalars only (CSV)."""
    out = Table(meta=dict(table.meta))
    for name in table.colnames:
        col = table[name]
        if col.ndim <= 1:
            out[name] = col
            continue
        flat = col.reshape(len(col), -1)
        mask = np.ma.getmaskarray(col).reshape(len(col), -1)
        for k in range(flat.shape[1]):
            part_cls = MaskedColumn if isinstance(col, MaskedColumn) else Column
            kwargs = {"mask": mask[:, k]} if part_cls is MaskedColumn else {}
            out[f"{name}_{k}"] = part_cls(
                np.asarray(flat[:, k]), unit=col.unit,
                description=f"{col.description or name} [{k}]", **kwargs)
    return out


def _float_text(value: float, single: bool = False) -> str:
    """A float as CSV text that reads back the same (the shortest such text, for
    float32 if ``single``), ``NaN`` / ``Infinity`` spelled as Java, Python and
    pandas all parse them."""
    if value is np.ma.masked:
        return ""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return str(np.float32(value)) if single else repr(float(value))


def _float32_text(value: float) -> str:
    return _float_text(value, single=True)


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_table(
    out: Path,
    table: Table,
    format: str,
    provenance: Mapping[str, object] | None = None,
    overwrite: bool = False,
    inputs: Sequence[Path | None] = (),
) -> Path:
    """Write ``table`` to ``out`` as VOTable, ECSV or CSV, atomically.

    * ``votable`` (VOTable 1.4, TABLEDATA): units (as VOUnits), descriptions
      (``DESCRIPTION``), null values (empty cells), booleans (``boolean``) and
      array columns (``arraysize``) kept (int8, float16 and unsigned integer
      columns widened: VOTable has no such types); ``CREATOR``, ``DATE`` and the
      ``provenance`` entries are ``INFO`` elements of the resource.
    * ``ecsv``: everything kept (units, descriptions, masks, array columns, dtypes);
      ``CREATOR``, ``DATE`` and the provenance are in the table's meta, beside the
      table's own meta.
    * ``csv``: values only, with a header line of column names. Units,
      descriptions, dtypes and provenance are lost (CSV cannot hold them: use
      ECSV to keep them); array columns are split into ``name_0, name_1, ...``;
      masked values are empty fields; NaN is written ``NaN``.

    Parameters
    ----------
    out : Path
        Destination. Written through a temporary file renamed at the end, so a
        failure leaves nothing behind; never over an input, nor over an existing
        file unless ``overwrite``.
    table : Table
        The rows to write, with their units, descriptions and masks.
    format : str
        One of :data:`TABLE_FORMATS`.
    provenance : mapping of str to value or (value, comment)
        What produced the table (source files, selection, methods).

    Raises
    ------
    UserError
        For an unknown format, a column the format cannot hold (e.g. Python
        objects, or dates in VOTable), or an output path that exists (without
        ``overwrite``), is an input, is a directory or lies in a missing folder.
        Nothing is written then.
    """
    if format not in TABLE_FORMATS:
        raise UserError(f"cannot write {out}: format {format!r} is not one of "
                        f"{', '.join(TABLE_FORMATS)}")
    out = check_output_path(out, overwrite, inputs)
    info = {"CREATOR": f"AstroExplorer {__version__}", "DATE": utc_now()}
    for key, value in (provenance or {}).items():
        info[key] = _plain(value[0] if isinstance(value, tuple) else value)
    try:
        with atomic_write_path(out) as tmp, warnings.catch_warnings():
            # Units outside VOUnit / the FITS standard are written as they are.
            warnings.simplefilter("ignore", AstropyWarning)
            if format == "votable":
                _write_votable(tmp, table, info)
            elif format == "ecsv":
                copy = Table(table, copy=False)
                copy.meta = {**{k: _plain(v) for k, v in table.meta.items()}, **info}
                copy.write(tmp, format="ascii.ecsv")
            else:
                flat = flatten_array_columns(table)
                flat.meta = {}
                formats = {name: _float32_text if flat[name].dtype == np.float32 else _float_text
                           for name in flat.colnames if flat[name].dtype.kind == "f"}
                flat.write(tmp, format="ascii.csv", formats=formats)
    except (ValueError, TypeError, UnicodeError) as exc:
        # A column the format cannot hold (objects, dates in VOTable...): nothing written.
        raise UserError(f"cannot write {out} as {FORMAT_LABELS[format]}: {exc}") from None
    return out


#: VOTable has no signed byte, half float or unsigned integers above a byte:
#: such columns are widened to the smallest type holding every value.
_VOTABLE_WIDER = {np.dtype(np.int8): np.int16, np.dtype(np.float16): np.float32,
                  np.dtype(np.uint16): np.int32, np.dtype(np.uint32): np.int64,
                  np.dtype(np.uint64): np.int64}


def _votable_ready(table: Table) -> Table:
    """A shallow copy of ``table`` with the columns VOTable cannot type widened."""
    out = Table(table, copy=False)
    out.meta = {}
    for name in out.colnames:
        col = out[name]
        wider = _VOTABLE_WIDER.get(col.dtype)
        if wider is None:
            continue
        if col.dtype == np.uint64 and np.ma.compressed(col).max(initial=0) > np.iinfo(np.int64).max:
            raise ValueError(f"column {name!r} holds unsigned 64-bit values above 2**63, "
                             "which VOTable cannot hold")
        out.replace_column(name, col.astype(wider))
    return out


def _write_votable(path: Path, table: Table, info: Mapping[str, object]) -> None:
    votable = from_table(_votable_ready(table))
    resource = votable.resources[0]
    for key, value in info.items():
        resource.infos.append(Info(name=str(key), value=str(value)))
    for field in resource.tables[0].fields:
        # astropy writes booleans as "bit"; "boolean" (T/F/null) is what tools expect.
        if field.datatype == "bit":
            field.datatype = "boolean"
    votable.to_xml(str(path))
