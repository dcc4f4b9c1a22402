"""Write catalogues (table, cutout cube, light curves) to FITS, atomically."""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.utils.exceptions import AstropyWarning

from .. import __version__
from ..core.errors import UserError
from .fits_reader import CATALOGUE_EXTNAME, CUTOUTS_EXTNAME, LIGHTCURVES_EXTNAME

__all__ = ["write_catalogue_fits", "atomic_write_path", "check_output_path"]


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


def _fits_meta(meta: dict) -> dict:
    """Table meta made fit for FITS cards: lists become one comma-separated value
    (several cards with one keyword are ambiguous), mappings become JSON."""
    out: dict = {}
    for key, value in meta.items():
        if str(key).upper() in ("COMMENT", "HISTORY"):
            out[key] = value
        elif isinstance(value, (list, tuple)):
            out[key] = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            out[key] = json.dumps(value, default=str)
        else:
            out[key] = value
    return out


def _table_hdu(table: Table, extname: str) -> fits.BinTableHDU:
    table = Table(table, copy=False)
    table.meta = _fits_meta(table.meta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyWarning)
        hdu = fits.table_to_hdu(table, character_as_bytes=False)
    hdu.name = extname
    if any(isinstance(v, str) and len(v) > 68 for v in hdu.header.values()):
        hdu.header["LONGSTRN"] = ("OGIP 1.0", "long strings use the CONTINUE convention")
    # Column descriptions travel as TCOMMn, the convention TOPCAT reads.
    for i, name in enumerate(table.colnames, start=1):
        description = table[name].description
        if description:
            hdu.header[f"TCOMM{i}"] = str(description)[:68]
    return hdu


def write_catalogue_fits(
    out: Path,
    table: Table,
    cutouts: np.ndarray | None = None,
    bands: Sequence[str] | None = None,
    cutout_unit: str | None = None,
    lightcurves: Table | None = None,
    provenance: dict[str, str] | None = None,
    overwrite: bool = False,
    inputs: Sequence[Path | None] = (),
) -> Path:
    """Write a multi-extension FITS file AstroExplorer (and TOPCAT, DS9) can read.

    Parameters
    ----------
    out : Path
        Destination; written atomically (temporary file, then rename).
    table : Table
        One row per object; units, descriptions and meta are kept. Extension
        ``CATALOGUE``.
    cutouts : ndarray, shape (N, C, H, W), optional
        Written as the image extension ``CUTOUTS`` (float32), with ``BANDn`` keywords.
    lightcurves : Table, optional
        Long-format observations (one row per observation), extension ``LIGHTCURVES``.
    provenance : dict, optional
        Extra primary-header cards (keyword -> value), e.g. the source file.
    """
    out = check_output_path(out, overwrite, inputs)
    primary = fits.PrimaryHDU()
    primary.header["CREATOR"] = (f"AstroExplorer {__version__}", "software that wrote this file")
    primary.header["DATE"] = (_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
                              "UTC date this file was written")
    for key, value in (provenance or {}).items():
        primary.header[key] = value
        if isinstance(value, str) and len(value) > 68:
            primary.header["LONGSTRN"] = ("OGIP 1.0", "long strings use the CONTINUE convention")
    hdus: list[fits.hdu.base._BaseHDU] = [primary, _table_hdu(table, CATALOGUE_EXTNAME)]
    if cutouts is not None:
        if cutouts.ndim != 4 or cutouts.shape[0] != len(table):
            raise ValueError(f"cutouts of shape {cutouts.shape} do not match {len(table)} rows")
        image = fits.ImageHDU(np.ascontiguousarray(cutouts, dtype=np.float32), name=CUTOUTS_EXTNAME)
        for i, band in enumerate(bands or ()):
            image.header[f"BAND{i + 1}"] = (str(band), f"band of channel {i}")
        if cutout_unit:
            image.header["BUNIT"] = (cutout_unit, "unit of the cutout pixels")
        hdus.append(image)
    if lightcurves is not None:
        hdus.append(_table_hdu(lightcurves, LIGHTCURVES_EXTNAME))
    with atomic_write_path(out) as tmp:
        fits.HDUList(hdus).writeto(tmp, checksum=True)
    return out
