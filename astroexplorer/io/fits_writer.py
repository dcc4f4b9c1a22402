"""Write catalogues (table, cutout cube, light curves) to FITS, atomically."""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import MaskedColumn, Table
from astropy.utils.exceptions import AstropyWarning

from .. import __version__
from ..core.errors import UserError
from .fits_reader import CATALOGUE_EXTNAME, CUTOUTS_EXTNAME, LIGHTCURVES_EXTNAME

__all__ = ["write_catalogue_fits", "atomic_write_path", "check_output_path", "cutout_hdus",
           "utc_now", "CUTOUT_LAYOUTS"]


def check_output_path(out: Path, overwrite: bool, inputs: Sequence[Path | None] = ()) -> Path:
    """Refuse to write over an input file, or over an existing file without consent."""
    out = Path(out)
    if out.is_dir():
        raise UserError(f"{out} is a directory; give a file name to write")
    resolved = out.resolve()
    for src in inputs:
        if src is not None and Path(src).resolve() == resolved:
            raise UserError(f"{out} is an input file; AstroExplorer never writes over its inputs")
    if out.exists() and not overwrite:
        raise UserError(f"{out} already exists; choose another name or allow overwriting")
    if not out.parent.exists():
        raise UserError(f"cannot write {out}: the folder {out.parent} does not exist")
    return out


class atomic_write_path:
    """Context manager giving a temporary path beside ``out``, renamed onto ``out``
    only if the block succeeds; on error the temporary file is removed and ``out``
    is untouched."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)

    def __enter__(self) -> Path:
        fd, tmp = tempfile.mkstemp(prefix=f".{self.out.name}.", suffix=".part", dir=self.out.parent)
        os.close(fd)
        os.unlink(tmp)
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            os.replace(self.tmp, self.out)
        elif self.tmp.exists():
            self.tmp.unlink()


#: Header keywords that describe a table's layout or columns: stale copies in a
#: table's meta (read from another file, with other columns) must not be written.
_STRUCTURAL = re.compile(
    r"^(XTENSION|BITPIX|NAXIS\d*|PCOUNT|GCOUNT|TFIELDS|EXTNAME|EXTVER|CHECKSUM|DATASUM|THEAP|"
    r"(TTYPE|TFORM|TUNIT|TNULL|TSCAL|TZERO|TDISP|TDIM|TCOMM|TUCD|TUTYP|TLMIN|TLMAX|TDMIN|TDMAX|"
    r"TCTYP|TCUNI|TCRPX|TCRVL|TCDLT)\d+)$"
)


def _fits_meta(meta: dict) -> dict:
    """Table meta made fit for FITS cards: lists become one comma-separated value
    (several cards with one keyword are ambiguous), mappings become JSON, and
    layout / column keywords of the file the table was read from are dropped."""
    out: dict = {}
    for key, value in meta.items():
        if _STRUCTURAL.match(str(key).upper()):
            continue
        if str(key).upper() in ("COMMENT", "HISTORY"):
            out[key] = value
        elif isinstance(value, (list, tuple)):
            out[key] = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            out[key] = json.dumps(value, default=str)
        else:
            out[key] = value
    return out


def _free_integer(values: np.ndarray, dtype: np.dtype) -> int | None:
    """An integer of ``dtype`` absent from ``values`` (the dtype's minimum first,
    then its maximum, then the smallest free one), or None if every value is used."""
    info = np.iinfo(dtype)
    used = np.unique(values)
    for candidate in (info.min, info.max):
        if not np.isin(candidate, used):
            return int(candidate)
    expected = np.arange(info.min, info.min + used.size + 1, dtype=np.int64)
    gaps = np.setdiff1d(expected, used.astype(np.int64))
    return int(gaps[0]) if gaps.size and gaps[0] <= info.max else None


def _fits_ready(table: Table) -> tuple[Table, dict[str, np.ndarray]]:
    """A shallow copy of ``table`` whose columns FITS holds faithfully.

    * signed bytes (int8), which astropy would write as logical, become int16;
    * masked unsigned 16/32/64-bit integers become signed 32/64-bit integers, so
      that TNULLn is a stored value (FITS keeps unsigned integers offset by TZEROn);
    * masked integers get a fill value absent from the data, written as TNULLn
      (widened to the next integer size when every value is used);
    * masked floats are written as NaN and masked strings as empty strings (astropy
      does this); masked booleans are returned apart (column -> mask) so that the
      writer can store FITS logical nulls (byte 0) in place of astropy's filler.
    """
    out = Table(table, copy=False)
    bool_masks: dict[str, np.ndarray] = {}
    for name in out.colnames:
        col = out[name]
        kind = col.dtype.kind
        masked = isinstance(col, MaskedColumn) and bool(np.any(col.mask))
        if kind == "i" and col.dtype.itemsize == 1:
            col = col.astype(np.int16)
        if kind == "u" and masked and col.dtype.itemsize > 1:
            if col.dtype.itemsize == 8 and np.ma.compressed(col).max(initial=0) > np.iinfo(np.int64).max:
                raise ValueError(f"column {name!r} holds unsigned 64-bit values above 2**63 "
                                 "and missing values, which FITS cannot hold together")
            col = col.astype(np.int32 if col.dtype.itemsize == 2 else np.int64)
        if masked and col.dtype.kind in "iu":
            null = _free_integer(np.ma.compressed(col), col.dtype)
            if null is None:
                col = col.astype(np.int32 if col.dtype.itemsize < 4 else np.int64)
                null = _free_integer(np.ma.compressed(col), col.dtype)
            col.fill_value = null
        if masked and kind == "b":
            bool_masks[name] = np.ma.getmaskarray(col).copy()
        if col is not out[name]:
            out.replace_column(name, col)
    return out, bool_masks


def _table_hdu(table: Table, extname: str) -> fits.BinTableHDU:
    """A binary table HDU keeping units (TUNITn), descriptions (TCOMMn, long ones
    continued over CONTINUE cards), null values (TNULLn for integers, NaN for
    floats, empty strings, logical nulls) and array columns (TDIMn)."""
    table, bool_masks = _fits_ready(table)
    table.meta = _fits_meta(table.meta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyWarning)
        hdu = fits.table_to_hdu(table, character_as_bytes=False)
    hdu.name = extname
    for name, mask in bool_masks.items():
        index = hdu.data.names.index(name)
        # astropy fills masked booleans with True or False; FITS has a null (byte 0).
        hdu.data.field(index)[mask] = False  # so that the null bytes are kept on write
        np.recarray.field(hdu.data, index)[mask] = 0  # the raw bytes
    # Column descriptions travel as TCOMMn, the convention TOPCAT reads.
    for i, name in enumerate(table.colnames, start=1):
        description = table[name].description
        if description:
            hdu.header[f"TCOMM{i}"] = str(description)
    if any(isinstance(v, str) and len(v) > 68 for v in hdu.header.values()):
        hdu.header["LONGSTRN"] = ("OGIP 1.0", "long strings use the CONTINUE convention")
    return hdu


def _card_value(value: object) -> object:
    """A value FITS cards hold: numpy scalars as Python ones, others (but None,
    an undefined value) as text."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def cutout_hdus(
    cutouts: np.ndarray,
    rows: Sequence[int],
    ids: Sequence[object] | None = None,
    bands: Sequence[str] | None = None,
    wcs: Sequence[object | None] | None = None,
    unit: str | None = None,
) -> list[fits.ImageHDU]:
    """One image HDU per object, for the ``per_object`` cutout layout.

    Parameters
    ----------
    cutouts : ndarray, shape (n, C, H, W)
        The cutouts (written as float32, one (C, H, W) array per HDU).
    rows : sequence of int, length n
        Each cutout's row in the source catalogue: ``EXTNAME = CUTOUT_<row>`` and
        keyword ``ROW``.
    ids : sequence, length n, optional
        Each object's identifier (keyword ``OBJID``).
    bands : sequence of str, length C, optional
        Band of each channel (keywords ``BAND1..BANDC``).
    wcs : sequence of astropy WCS or None, length n, optional
        Each cutout's celestial WCS (pixel (0, 0) at the first array element); its
        FITS keywords (1-based CRPIX, as FITS wants) go into the HDU so that DS9
        shows RA/Dec.
    unit : str, optional
        Unit of the pixel values (``BUNIT``).
    """
    if cutouts.ndim != 4 or cutouts.shape[0] != len(rows):
        raise ValueError(f"cutouts of shape {cutouts.shape} do not match {len(rows)} rows")
    hdus = []
    for k, row in enumerate(rows):
        header = fits.Header()
        if wcs is not None and wcs[k] is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AstropyWarning)
                header.update(wcs[k].to_header(relax=True))
        hdu = fits.ImageHDU(np.ascontiguousarray(cutouts[k], dtype=np.float32), header=header,
                            name=f"CUTOUT_{int(row)}")
        hdu.header["ROW"] = (int(row), "row of this object in the source catalogue")
        if ids is not None:
            hdu.header["OBJID"] = (_card_value(ids[k]), "identifier of this object")
        for i, band in enumerate(bands or ()):
            hdu.header[f"BAND{i + 1}"] = (str(band), f"band of channel {i}")
        if unit:
            hdu.header["BUNIT"] = (unit, "unit of the cutout pixels")
        if any(isinstance(v, str) and len(v) > 68 for v in hdu.header.values()):
            hdu.header["LONGSTRN"] = ("OGIP 1.0", "long strings use the CONTINUE convention")
        hdus.append(hdu)
    return hdus


def utc_now() -> str:
    """The current UTC date and time, ISO 8601 to the second (FITS ``DATE`` form)."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


CUTOUT_LAYOUTS = ("cube", "per_object")


def write_catalogue_fits(
    out: Path,
    table: Table,
    cutouts: np.ndarray | None = None,
    bands: Sequence[str] | None = None,
    cutout_unit: str | None = None,
    lightcurves: Table | None = None,
    provenance: dict[str, object] | None = None,
    overwrite: bool = False,
    inputs: Sequence[Path | None] = (),
    cutout_layout: str = "cube",
    cutout_rows: Sequence[int] | None = None,
    cutout_ids: Sequence[object] | None = None,
    cutout_wcs: Sequence[object | None] | None = None,
) -> Path:
    """Write a multi-extension FITS file AstroExplorer (and TOPCAT, DS9) can read.

    Parameters
    ----------
    out : Path
        Destination; written atomically (temporary file, then rename), never over
        an input file nor over an existing file unless ``overwrite``.
    table : Table
        One row per object, extension ``CATALOGUE``: units (TUNITn), descriptions
        (TCOMMn), meta and null values kept (TNULLn for masked integers, NaN for
        masked floats, empty masked strings, logical nulls for masked booleans);
        array columns stay fixed-length arrays.
    cutouts : ndarray, shape (N, C, H, W), optional
        With ``cutout_layout="cube"`` the image extension ``CUTOUTS`` (float32,
        ``BANDn`` keywords); with ``"per_object"`` one image extension per object
        (see :func:`cutout_hdus`; ``cutout_rows``, ``cutout_ids``, ``cutout_wcs``).
    cutout_unit : str, optional
        Unit of the pixel values (``BUNIT``).
    lightcurves : Table, optional
        Long-format observations (one row per observation), extension ``LIGHTCURVES``.
    provenance : dict, optional
        Extra primary-header cards (keyword -> value or (value, comment)), e.g. the
        source file; long string values continue over CONTINUE cards. ``CREATOR``
        (application and version) and ``DATE`` (UTC, ISO 8601) are always written.
    inputs : sequence of Path
        Files this export was read from, which it refuses to write over.

    Raises
    ------
    UserError
        For an output path that exists (without ``overwrite``), is an input, is a
        directory or lies in a missing folder, or a column FITS cannot hold.
        Nothing is written then.
    """
    if cutout_layout not in CUTOUT_LAYOUTS:
        raise UserError(f"cutout layout {cutout_layout!r} is unknown: use "
                        f"{' or '.join(CUTOUT_LAYOUTS)}")
    out = check_output_path(out, overwrite, inputs)
    primary = fits.PrimaryHDU()
    primary.header["CREATOR"] = (f"AstroExplorer {__version__}", "software that wrote this file")
    primary.header["DATE"] = (utc_now(), "UTC date this file was written")
    for key, value in (provenance or {}).items():
        if isinstance(value, tuple):
            value = (_card_value(value[0]), value[1])
        else:
            value = _card_value(value)
        primary.header[key] = value
    if any(isinstance(v, str) and len(v) > 68 for v in primary.header.values()):
        primary.header["LONGSTRN"] = ("OGIP 1.0", "long strings use the CONTINUE convention")
    try:
        hdus: list[fits.hdu.base._BaseHDU] = [primary, _table_hdu(table, CATALOGUE_EXTNAME)]
    except (ValueError, TypeError) as exc:
        raise UserError(f"cannot write {out}: the table does not fit FITS: {exc}") from None
    if cutouts is not None:
        if cutouts.ndim != 4 or cutouts.shape[0] != len(table):
            raise ValueError(f"cutouts of shape {cutouts.shape} do not match {len(table)} rows")
        if cutout_layout == "per_object":
            rows = cutout_rows if cutout_rows is not None else range(len(table))
            hdus.extend(cutout_hdus(cutouts, list(rows), cutout_ids, bands, cutout_wcs,
                                    cutout_unit))
        else:
            image = fits.ImageHDU(np.ascontiguousarray(cutouts, dtype=np.float32),
                                  name=CUTOUTS_EXTNAME)
            for i, band in enumerate(bands or ()):
                image.header[f"BAND{i + 1}"] = (str(band), f"band of channel {i}")
            if cutout_unit:
                image.header["BUNIT"] = (cutout_unit, "unit of the cutout pixels")
            hdus.append(image)
    if lightcurves is not None:
        try:
            hdus.append(_table_hdu(lightcurves, LIGHTCURVES_EXTNAME))
        except (ValueError, TypeError) as exc:
            raise UserError(f"cannot write {out}: the light curves do not fit FITS: {exc}") \
                from None
    with atomic_write_path(out) as tmp:
        fits.HDUList(hdus).writeto(tmp, checksum=True)
    return out
