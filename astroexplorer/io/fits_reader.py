"""Read FITS files: a catalogue table, an optional cutout cube and light-curve table."""

from __future__ import annotations

import gzip
import os
import warnings
import weakref
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Column, Table
from astropy.utils.exceptions import AstropyWarning

from ..core.catalogue import ID_COLUMN_NAMES, Catalogue
from ..core.errors import UserError
from ..core.images import ArrayImageSource, ImageSource
from ..core.lightcurves import TableLightCurveSource
from .detect import LightCurveColumns, detect_lightcurve_columns, find_column
from .registry import Reader, register_reader

__all__ = ["read_fits_catalogue", "is_fits", "bands_from_header"]

CATALOGUE_EXTNAME = "CATALOGUE"
CUTOUTS_EXTNAME = "CUTOUTS"
LIGHTCURVES_EXTNAME = "LIGHTCURVES"


_GZIP_MAGIC = b"\x1f\x8b"


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == _GZIP_MAGIC


def is_fits(path: Path) -> bool:
    """True if the file (or its gzip content) starts with a FITS primary header card."""
    if _is_gzip(path):
        with gzip.open(path, "rb") as f:
            try:
                return f.read(9) == b"SIMPLE  ="
            except (OSError, EOFError):
                return False
    with open(path, "rb") as f:
        return f.read(9) == b"SIMPLE  ="


def bands_from_header(header: fits.Header, n_bands: int) -> list[str]:
    """Band names from ``BAND1..BANDn`` keywords, else ``band0, band1, ...``."""
    names = [header.get(f"BAND{i + 1}") for i in range(n_bands)]
    if all(isinstance(n, str) and n for n in names):
        return [str(n) for n in names]
    return [f"band{i}" for i in range(n_bands)]


def _extname(hdu: fits.hdu.base._BaseHDU) -> str:
    return str(hdu.header.get("EXTNAME", "")).upper()


def _read_table(hdu: fits.BinTableHDU) -> Table:
    with warnings.catch_warnings():
        # Non-standard units are kept as UnrecognizedUnit; say nothing per column.
        warnings.simplefilter("ignore", AstropyWarning)
        table = Table.read(hdu, format="fits")  # named: guessing imports h5py
    # The file is opened with strings as bytes: numpy's cast decodes a 10^6-row column
    # several times faster than astropy's per-element decoding (same text; empty
    # strings stay plain "" rather than masked, as when astropy decodes).
    for name in table.colnames:
        col = table[name]
        if col.dtype.kind == "S":
            data = np.ma.getdata(col)
            try:
                text = data.astype(str)
            except UnicodeDecodeError:  # FITS strings are ASCII: show stray bytes as "?"
                text = np.char.replace(np.char.decode(data, "ascii", "replace"), "\ufffd", "?")
            table.replace_column(name, Column(
                text, name=name, unit=col.unit, description=col.description,
                format=col.format, meta=col.meta))
    # TCOMMn (TOPCAT's convention, written by our writer) carries column descriptions.
    for i, name in enumerate(table.colnames, start=1):
        comment = hdu.header.get(f"TCOMM{i}")
        if comment and not table[name].description:
            table[name].description = str(comment)
    return table


#: TFORM codes whose stored bytes are the values (no T/F logicals, bits, arrays of
#: descriptors): such columns can be used straight from the memory map.
_PLAIN_TFORMS = frozenset("BIJKED")
#: Keywords that make stored bytes differ from values (scaling, nulls, shapes).
_VALUE_KEYWORDS = ("TSCAL", "TZERO", "TNULL", "TDIM")


def _memmap_table(hdu: fits.BinTableHDU) -> Table | None:
    """``hdu``'s columns as a Table of read-only views into the memory-mapped file
    (big-endian, strings as bytes), or None if any column needs converting
    (scaled, nullable, logical, multi-valued or variable-length).

    Used for long light-curve tables (10^7 rows) that ``Table.read`` would copy.
    """
    header = hdu.header
    if not isinstance(hdu, fits.BinTableHDU) or hdu.data is None:
        return None
    for i in range(1, int(header.get("TFIELDS", 0)) + 1):
        if any(f"{key}{i}" in header for key in _VALUE_KEYWORDS):
            return None
        tform = str(header.get(f"TFORM{i}", "")).strip().upper()
        code = tform.lstrip("0123456789")
        if not (code == "A" or (code in _PLAIN_TFORMS and tform[: -1] in ("", "1"))):
            return None
    raw = np.ndarray.view(hdu.data, np.ndarray)
    columns = []
    for i, name in enumerate(raw.dtype.names, start=1):
        unit = header.get(f"TUNIT{i}")
        columns.append(Column(
            raw[name], name=name, copy=False,
            unit=u.Unit(unit, format="fits", parse_strict="silent") if unit else None,
            description=str(header.get(f"TCOMM{i}", "")) or None,
        ))
    return Table(columns, copy=False)


class _FitsCubeSource(ArrayImageSource):
    """A memory-mapped FITS cube read a few rows at a time.

    Stored numbers become values through ``BZERO + BSCALE * stored`` (e.g. 8-bit
    images) and ``BLANK`` -> NaN, applied to the rows read only (astropy would
    scale the whole cube at once). Before reading several rows, the kernel is asked
    to fetch them all (``posix_fadvise`` WILLNEED), so that scattered rows of a
    cube larger than memory are read from disk in parallel, not one fault at a time.
    """

    def __init__(self, data: np.ndarray, bands: Sequence[str], origin: str, path: Path | None,
                 data_offset: int, bscale: float = 1.0, bzero: float = 0.0,
                 blank: int | None = None) -> None:
        super().__init__(data, bands, origin)
        self.bscale, self.bzero, self.blank = bscale, bzero, blank
        self.scaled = not (bscale == 1.0 and bzero == 0.0 and blank is None)
        self._path, self._data_offset = path, data_offset
        self._row_bytes = int(np.prod(self._data.shape[1:])) * self._data.dtype.itemsize

    def _prefetch(self, rows: np.ndarray) -> None:
        if self._path is None or rows.size < 2 or not hasattr(os, "posix_fadvise"):
            return
        try:
            fd = os.open(self._path, os.O_RDONLY)
        except OSError:
            return  # reading will say what is wrong
        try:
            for row in rows.tolist():
                os.posix_fadvise(fd, self._data_offset + row * self._row_bytes,
                                 self._row_bytes, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(fd)

    def get_many(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        rows = self.checked_rows(rows)
        order = np.argsort(rows, kind="stable")
        self._prefetch(rows[order])
        stored = self._data[rows[order]]
        out = np.empty((rows.size, *self.shape), dtype=np.float32)
        if not self.scaled:
            out[order] = stored
            return out
        # 8/16-bit integers are exact in float32; wider ones are scaled in float64.
        work = np.float32 if stored.dtype.itemsize <= 2 else np.float64
        values = stored.astype(work) * work(self.bscale) + work(self.bzero)
        if self.blank is not None:
            values[stored == self.blank] = np.nan
        out[order] = values
        return out


def _cube_source(path: Path, hdul: fits.HDUList, index: int, data: np.ndarray,
                 bands: list[str], origin: str) -> ArrayImageSource:
    """The image source of the unscaled memory-mapped cube ``data`` of ``hdul[index]``."""
    header = hdul[index].header
    blank = header.get("BLANK") if data.dtype.kind in "iu" else None
    # A gzip file is decompressed into memory: there is nothing to fetch ahead.
    info = None if _is_gzip(path) else hdul.fileinfo(index)
    return _FitsCubeSource(
        data, bands, origin, path if info else None, int(info["datLoc"]) if info else 0,
        float(header.get("BSCALE", 1.0)), float(header.get("BZERO", 0.0)),
        int(blank) if blank is not None else None)


def _is_object_hdu(hdu: fits.hdu.base._BaseHDU) -> bool:
    """An image HDU holding one object's cutout (the per-object export layout)."""
    return _extname(hdu).startswith("CUTOUT_") and "ROW" in hdu.header


class _PerObjectSource(ImageSource):
    """Cutouts stored one image HDU per object (``CUTOUT_<row>``, see
    ``fits_writer.cutout_hdus``), each with its own WCS."""

    def __init__(self, hdul: fits.HDUList, indices: Sequence[int], bands: Sequence[str],
                 origin: str) -> None:
        self._hdul = hdul
        self._indices = np.asarray(indices, dtype=np.int64)
        first = hdul[int(self._indices[0])].data
        self._shape = (1, *first.shape) if first.ndim == 2 else tuple(first.shape)
        self.bands = tuple(bands)
        self.origin = origin

    def __len__(self) -> int:
        return int(self._indices.size)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self._shape)  # type: ignore[return-value]

    def get_many(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        rows = self.checked_rows(rows)
        out = np.empty((rows.size, *self.shape), dtype=np.float32)
        for k, row in enumerate(rows):
            out[k] = np.asarray(self._hdul[int(self._indices[row])].data,
                                dtype=np.float32).reshape(self.shape)
        return out

    def wcs(self, row: int):
        from astropy.wcs import WCS

        header = self._hdul[int(self._indices[row])].header
        if "CTYPE1" not in header:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyWarning)
            celestial = WCS(header).celestial
        return celestial if celestial.naxis == 2 else None


def _per_object_source(path: Path, hdul: fits.HDUList, table: Table) -> ImageSource | None:
    """The per-object cutout HDUs of an exported file, in the table's row order, or
    None if there are none (or they do not fit the table)."""
    found = {_extname(h): i for i, h in enumerate(hdul) if _is_object_hdu(h)}
    if not found:
        return None
    n = len(table)
    if "row_index" in table.colnames:
        names = [f"CUTOUT_{int(r)}" for r in np.asarray(table["row_index"])]
        indices = [found.get(name) for name in names]
    else:
        indices = list(found.values())
    if len(indices) != n or any(i is None for i in indices):
        raise UserError(f"{path} holds {len(found)} per-object cutout HDUs (CUTOUT_<row>) that "
                        f"do not match its {n} catalogue rows")
    shapes = {hdul[i].data.shape for i in indices}
    if len(shapes) != 1 or len(next(iter(shapes))) not in (2, 3):
        raise UserError(f"{path}: its per-object cutout HDUs do not all have one (C, H, W) "
                        f"shape ({', '.join(map(str, sorted(shapes)))})")
    first = hdul[indices[0]]
    n_bands = 1 if first.data.ndim == 2 else first.data.shape[0]
    return _PerObjectSource(hdul, indices, bands_from_header(first.header, n_bands),
                            origin=f"{path.name}[CUTOUT_<row> x {n}]")


def _open(path: Path) -> fits.HDUList:
    """Open ``path`` and read every header, refusing truncated or corrupt files.

    astropy only warns about a file shorter than its headers announce (and fails
    later, when the data are used), so the sizes are checked here, before any use.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AstropyWarning)
        try:
            # Unscaled: an 8-bit cube with BSCALE would otherwise become a float
            # copy of the whole cube on first use; rows are scaled as read instead.
            hdul = fits.open(path, memmap=True, do_not_scale_image_data=True,
                             character_as_bytes=True)
        except OSError as exc:
            raise UserError(f"{path} is not valid FITS: {exc}") from None
        try:
            len(hdul)  # reads every header now
        except Exception:
            hdul.close()
            raise
    try:
        # A gzip file's size says nothing of its content's; astropy's warnings still do.
        size = None if _is_gzip(path) else path.stat().st_size
        last = hdul.fileinfo(len(hdul) - 1) or {}
        expected = int(last.get("datLoc", 0)) + int(last.get("datSpan", 0))
        if size is not None and size < expected:
            raise UserError(
                f"{path} is truncated: it holds {size} bytes but its headers announce {expected}"
            )
        broken = [str(w.message) for w in caught
                  if "truncated" in str(w.message) or "extra bytes" in str(w.message)]
        if broken:
            raise UserError(
                f"{path} is truncated or corrupt after HDU {len(hdul) - 1}: "
                f"{broken[0].splitlines()[-1]}"
            )
        try:
            hdul.verify("exception")
        except fits.VerifyError as exc:
            raise UserError(f"{path} is not valid FITS: {str(exc).splitlines()[-1]}") from None
    except BaseException:
        hdul.close()
        raise
    return hdul


def read_fits_catalogue(path: Path) -> Catalogue:
    """Read ``path``: the ``CATALOGUE`` table (else the first table HDU), a cutout
    cube ``CUTOUTS`` (else the first 3-D/4-D image whose first axis matches the
    rows) and a long-format ``LIGHTCURVES`` table (else a table with time and
    value columns and the catalogue's id column).

    The cube stays memory-mapped: cutouts are read on demand. The file is closed
    when the catalogue is garbage-collected, or at once if it is refused.
    NaN and infinite values are kept as they are: they are data, not errors.

    Raises
    ------
    UserError
        Naming the file (and HDU) and the problem: truncated, not FITS, no table,
        no rows, a cube whose count does not match the rows, an unusable
        ``LIGHTCURVES`` table.
    """
    path = Path(path)
    hdul = _open(path)
    try:
        catalogue = _read_hdul(path, hdul)
    except BaseException:
        hdul.close()
        raise
    # Keep the file open while the catalogue lives: the cube is a memory map into it.
    catalogue._hdul = hdul  # type: ignore[attr-defined]
    weakref.finalize(catalogue, hdul.close)
    return catalogue


def _read_hdul(path: Path, hdul: fits.HDUList) -> Catalogue:
    """The catalogue in an opened, checked ``hdul`` (see :func:`read_fits_catalogue`)."""
    tables = [i for i, h in enumerate(hdul) if isinstance(h, (fits.BinTableHDU, fits.TableHDU))]
    if not tables:
        raise UserError(f"{path} holds no table HDU to use as a catalogue")
    named = {_extname(hdul[i]): i for i in range(len(hdul))}
    lc_index = named.get(LIGHTCURVES_EXTNAME)
    cat_index = named.get(CATALOGUE_EXTNAME, next((i for i in tables if i != lc_index), tables[0]))
    table = _read_table(hdul[cat_index])
    n = len(table)
    if n == 0:
        raise UserError(f"{path} [HDU {cat_index}] is an empty table: it has no rows")
    name = path.stem
    table.meta.setdefault("EXTNAME", _extname(hdul[cat_index]) or f"HDU{cat_index}")

    images = None
    cube_index = named.get(CUTOUTS_EXTNAME)
    if cube_index is None:
        cube_index = next(
            (i for i, h in enumerate(hdul)
             if isinstance(h, (fits.ImageHDU, fits.PrimaryHDU)) and not _is_object_hdu(h)
             and h.header.get("NAXIS", 0) in (3, 4) and h.header[f"NAXIS{h.header['NAXIS']}"] == n),
            None,
        )
    if cube_index is None:
        images = _per_object_source(path, hdul, table)
    if cube_index is not None:
        data = hdul[cube_index].data
        if data is None or data.ndim not in (3, 4):
            raise UserError(f"{path} [HDU {cube_index}] is not a cutout cube (N, C, H, W)")
        if data.shape[0] != n:
            raise UserError(
                f"{path} [HDU {cube_index}] holds {data.shape[0]} cutouts for a catalogue of {n} rows"
            )
        n_bands = 1 if data.ndim == 3 else data.shape[1]
        images = _cube_source(
            path, hdul, cube_index, data, bands_from_header(hdul[cube_index].header, n_bands),
            origin=f"{path.name}[{cube_index}]",
        )

    lightcurves = None
    id_col = find_column(table.colnames, ID_COLUMN_NAMES)
    candidates = [lc_index] if lc_index is not None else [i for i in tables if i != cat_index]
    for i in candidates:
        header, names = hdul[i].header, hdul[i].columns.names
        match_col = id_col
        if header.get("LCID") in names and header.get("LCID") in table.colnames \
                and header.get("LCTIME") in names and header.get("LCVALUE") in names:
            # Our own exports say which column is which (and match on row_index).
            lc_cols = LightCurveColumns(
                header["LCTIME"], header["LCVALUE"],
                header.get("LCERR") if header.get("LCERR") in names else None,
                header.get("LCBAND") if header.get("LCBAND") in names else None)
            lc_id = match_col = header["LCID"]
        else:
            lc_cols = detect_lightcurve_columns(names)
            lc_id = find_column(names, ID_COLUMN_NAMES)
        if lc_cols is None or lc_id is None or match_col is None:
            if i == lc_index:
                raise UserError(
                    f"{path} [HDU {i}] is named {LIGHTCURVES_EXTNAME} but lacks an id, time or "
                    "value column, or the catalogue has no id column to match it"
                )
            continue
        # Long tables stay on disk (memory-mapped) when their bytes are their values and
        # the ids are integers (string ids must be decoded to match the catalogue's).
        lc_table = _memmap_table(hdul[i])
        if lc_table is None or lc_table[lc_id].dtype.kind not in "iu":
            lc_table = _read_table(hdul[i])
        for key in ("BJDREFI", "BJDREFF", "TIMESYS"):  # an offset time system's zero point
            if key in header:
                lc_table.meta[key] = header[key]
        lightcurves = TableLightCurveSource(
            lc_table, np.asarray(table[match_col]), lc_id, lc_cols.time, lc_cols.value,
            lc_cols.error, lc_cols.band, time_format=lc_cols.time.lower(),
            origin=f"{path.name}[{i}]",
        )
        break

    return Catalogue(table, name=name, path=path, images=images, lightcurves=lightcurves,
                     id_column=id_col)


register_reader(Reader("FITS", is_fits, read_fits_catalogue, priority=10))
