"""Read plain tables (CSV, ECSV, VOTable, HDF5, Parquet) through astropy."""

from __future__ import annotations

from pathlib import Path

from astropy.io.ascii import InconsistentTableError
from astropy.table import Table

from ..core.catalogue import Catalogue
from ..core.errors import UserError
from .registry import Reader, register_reader

__all__ = ["read_table_catalogue", "TABLE_FORMATS"]

#: File suffix -> astropy unified I/O format name.
TABLE_FORMATS = {
    ".csv": "ascii.csv",
    ".ecsv": "ascii.ecsv",
    ".vot": "votable",
    ".votable": "votable",
    ".xml": "votable",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
    ".parquet": "parquet",
}


def _format(path: Path) -> str | None:
    fmt = TABLE_FORMATS.get(path.suffix.lower())
    if fmt == "ascii.csv":
        with open(path, "rb") as f:
            if f.read(7) == b"# %ECSV":
                return "ascii.ecsv"
    return fmt


def read_table_catalogue(path: Path) -> Catalogue:
    """Read a table file into a catalogue with no cutouts or light curves.

    A table without numeric columns is opened (as TOPCAT does): the views then say
    there is nothing to plot. Columns holding file paths are kept as text; per-row
    files are not read (nor checked) here.

    Raises
    ------
    UserError
        Naming the file and the problem: empty, not UTF-8, rows with a different
        number of values than the header, no rows.
    """
    fmt = _format(path)
    if path.stat().st_size == 0:
        raise UserError(f"{path} is empty (0 bytes): it has no header and no rows")
    try:
        table = Table.read(path, format=fmt)
    except UnicodeDecodeError as exc:
        raise UserError(f"{path} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
    except InconsistentTableError as exc:
        raise UserError(f"{path} is not a consistent table: {exc}") from None
    except ImportError as exc:
        # astropy raises bare ImportErrors (no .name) whose text names the package.
        package = exc.name or {"parquet": "pyarrow and pandas", "hdf5": "h5py"}.get(fmt or "", "")
        extra = " (pip install 'astroexplorer[parquet]')" if fmt == "parquet" else ""
        noun = "packages" if " and " in package else "package"
        raise UserError(f"{path} needs the Python {noun} {package or 'for ' + str(fmt)} "
                        f"to be read: install it{extra}") from None
    if len(table) == 0:
        raise UserError(f"{path} is an empty table: it has no rows")
    return Catalogue(table, name=path.stem, path=path)


register_reader(Reader("table (CSV/ECSV/VOTable/HDF5/Parquet)", lambda p: _format(p) is not None,
                       read_table_catalogue, priority=0))
