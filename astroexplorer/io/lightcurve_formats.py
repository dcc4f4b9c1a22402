"""Light curves in the formats astronomers bring.

* Long-format tables (one row per observation; CSV, ECSV, FITS, Parquet, HDF5) in
  the PLAsTiCC, ZTF or generic conventions (see :mod:`.detect`): given as
  ``OpenOptions.lightcurves``, found beside the catalogue (``<stem>_lightcurves.<ext>``,
  or ``X.csv`` beside ``X_metadata.csv``), or opened directly, which gives a
  catalogue of one row per object.
* Kepler/TESS per-object light-curve FITS (``LIGHTCURVE`` extension): through a
  column of paths (role ``lc_path``), a directory given as
  ``OpenOptions.lightcurves`` (matched by KEPLERID / TICID / OBJECT), or one file
  opened directly (a one-row catalogue). Read lazily, with an LRU cache.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.io.ascii import InconsistentTableError
from astropy.table import Column, Table
from astropy.utils.exceptions import AstropyWarning

from ..core.catalogue import Catalogue
from ..core.errors import AmbiguousColumnsError, UserError
from ..core.lightcurves import LightCurve, LightCurveSource, TableLightCurveSource
from .detect import (
    FLUX_NAMES,
    LC_ID_NAMES,
    MAG_NAMES,
    TIME_NAMES,
    LightCurveColumns,
    find_column,
    resolve_lightcurve_columns,
)
from .fits_reader import is_fits
from .registry import (
    Attacher,
    OpenOptions,
    Reader,
    register_attacher,
    register_reader,
)
from .table_reader import TABLE_FORMATS

__all__ = ["read_lightcurve_table", "find_lightcurves_beside", "table_lightcurve_source",
           "summarise_observations", "KeplerLightCurveSource", "read_kepler_lightcurve",
           "read_kepler_catalogue", "is_kepler_lightcurve_file"]

#: Suffixes tried for light-curve tables found beside a catalogue.
BESIDE_SUFFIXES = (".csv", ".ecsv", ".fits", ".fits.gz", ".fit", ".parquet", ".h5", ".hdf5")
_RA_NAMES = ("ra", "raj2000", "ra_deg")
_DEC_NAMES = ("dec", "decl", "dej2000", "dec_deg")
_CONVENTION_LABELS = {"plasticc": "PLAsTiCC convention", "ztf": "ZTF convention",
                      "generic": "light-curve table"}


# -- long-format tables -------------------------------------------------------------

def _full_suffix(path: Path) -> str:
    name = path.name.lower()
    return ".fits.gz" if name.endswith(".fits.gz") else path.suffix.lower()


def read_lightcurve_table(path: Path) -> Table:
    """Read a long-format light-curve table (one row per observation).

    FITS files give their ``LIGHTCURVES`` extension, else their first table;
    other formats are chosen by suffix (CSV, ECSV, VOTable, HDF5, Parquet).

    Raises
    ------
    UserError
        Naming the file: missing, unreadable, in an unknown format, or empty.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such light-curve file")
    if path.stat().st_size == 0:
        raise UserError(f"{path} is empty (0 bytes): it holds no light curves")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyWarning)
            if is_fits(path):
                with fits.open(path) as hdul:
                    tables = [i for i, h in enumerate(hdul) if isinstance(h, fits.BinTableHDU)]
                    named = [i for i in tables
                             if str(hdul[i].header.get("EXTNAME", "")).upper() == "LIGHTCURVES"]
                    if not tables:
                        raise UserError(f"{path} holds no table of light-curve observations")
                    table = Table.read(hdul[(named or tables)[0]], character_as_bytes=False)
                    table = Table(table, copy=True)  # detach from the file's memory map
            else:
                fmt = TABLE_FORMATS.get(_full_suffix(path))
                if fmt is None:
                    raise UserError(f"{path} is not a table format AstroExplorer reads for light "
                                    f"curves ({', '.join(BESIDE_SUFFIXES)})")
                if fmt == "ascii.csv":
                    with open(path, "rb") as f:
                        if f.read(7) == b"# %ECSV":
                            fmt = "ascii.ecsv"
                table = Table.read(path, format=fmt)
    except UserError:
        raise
    except UnicodeDecodeError as exc:
        raise UserError(f"{path} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
    except ImportError as exc:
        raise UserError(f"{path} needs a Python package to be read: {exc}") from None
    except (InconsistentTableError, OSError, ValueError, TypeError, KeyError, EOFError) as exc:
        raise UserError(f"{path} could not be read as a light-curve table: {exc}") from None
    if len(table) == 0:
        raise UserError(f"{path} is an empty table: it holds no observations")
    return table


def find_lightcurves_beside(path: Path) -> Path | None:
    """A light-curve table beside catalogue ``path``: ``<stem>_lightcurves.<ext>``,
    or for PLAsTiCC's ``X_metadata.<ext>`` the observations ``X.<ext>``; else None."""
    path = Path(path)
    suffix = _full_suffix(path)
    stem = path.name[: len(path.name) - len(suffix)] if suffix else path.name
    names = [f"{stem}_lightcurves{s}" for s in BESIDE_SUFFIXES]
    if stem.lower().endswith("_metadata"):
        names += [f"{stem[: -len('_metadata')]}{s}" for s in BESIDE_SUFFIXES]
    for name in names:
        candidate = path.with_name(name)
        if candidate.is_file() and candidate != path:
            return candidate
    return None


def _is_magnitude_unit(unit: object) -> bool:
    """True for magnitude units (mag, AB mag...), False for fluxes (nanomaggy too)."""
    if unit is None:
        return False
    return isinstance(unit, u.MagUnit) or str(unit).strip().lower() in {"mag", "abmag", "stmag"}


def _comparable_ids(catalogue_ids: np.ndarray, table: Table, id_col: str) -> np.ndarray:
    """Catalogue ids in the observation ids' type (ints vs text), converting the
    observation column to text in place when only that makes them comparable."""
    obs = table[id_col]
    ids = np.asarray(catalogue_ids)
    if (ids.dtype.kind in "iu") == (obs.dtype.kind in "iu"):
        return ids
    if ids.dtype.kind in "iu":
        return ids.astype(str)
    table[id_col] = Column(np.asarray(obs).astype(str), description=obs.description)
    return np.char.strip(ids.astype(str))


def _name_bands(table: Table, cols: LightCurveColumns) -> None:
    """Replace integer band codes by the convention's names (in place)."""
    if cols.band is None or not cols.band_names or table[cols.band].dtype.kind not in "iu":
        return
    codes = np.asarray(table[cols.band])
    uniq, inverse = np.unique(codes, return_inverse=True)
    lookup = np.array([cols.band_names.get(int(c), str(c)) for c in uniq])
    table[cols.band] = Column(lookup[inverse.ravel()],
                              description=f"band name (codes {', '.join(map(str, uniq))})")


def table_lightcurve_source(
    table: Table, object_ids: np.ndarray, cols: LightCurveColumns, origin: str
) -> TableLightCurveSource:
    """Light curves from a long-format ``table`` matched to ``object_ids`` (shape (N,))
    through ``cols.id``.

    Band codes are replaced by their names (PLAsTiCC 0-5 -> u..y, ZTF fid 1-3 ->
    zg, zr, zi); a magnitude column with no unit gets ``mag``; a flux keeps its
    unit, or the convention's (FLUXCAL) as ``value_unit``. ``table`` is modified.
    """
    assert cols.id is not None
    _name_bands(table, cols)
    value = table[cols.value]
    if cols.is_magnitude and value.unit is None:
        value.unit = u.mag
    object_ids = _comparable_ids(object_ids, table, cols.id)
    source = TableLightCurveSource(
        table, object_ids, cols.id, cols.time, cols.value, cols.error, cols.band,
        time_format=cols.time.lower(), origin=origin,
    )
    source.is_magnitude = bool(cols.is_magnitude or _is_magnitude_unit(value.unit))
    if value.unit is None and cols.flux_unit:
        source.value_unit = cols.flux_unit
    return source


#: Bands in order of wavelength, for display.
_BAND_ORDER = ("u", "g", "r", "i", "z", "y", "zg", "zr", "zi", "B", "V", "R", "I", "J", "H", "K")


def _band_order(bands: Sequence[str]) -> list[str]:
    """``bands`` in wavelength order where known, the others after, alphabetically."""
    rank = {b: i for i, b in enumerate(_BAND_ORDER)}
    return sorted(bands, key=lambda b: (rank.get(str(b), len(rank)), str(b)))


def _describe(source: TableLightCurveSource, cols: LightCurveColumns, origin: str,
              how: str = "") -> str:
    counts = source.counts()
    n_obj = int(np.count_nonzero(counts))
    bands = _band_order([b for b in source.bands if b != ""])
    band_text = (f", {len(bands)} {'passbands' if cols.convention == 'plasticc' else 'bands'} "
                 f"{','.join(bands)}" if bands else ", no band column")
    unit = source.value_unit or "no stated unit"
    kind = "magnitudes" if source.is_magnitude else "flux"
    if cols.value.lower() not in ("mag", "flux"):
        kind += f" {cols.value}"
    text = (f"light curves: {_CONVENTION_LABELS[cols.convention]} in {origin}{how} "
            f"({n_obj:,} objects{band_text}, {kind} in {unit}")
    if cols.error is None:
        text += ", no error column"
    missing = len(counts) - n_obj - len(source.duplicate_rows)
    if missing > 0:
        text += f", {missing:,} catalogue rows without observations"
    dup = source.duplicate_rows
    if dup.size:
        shown = ", ".join(str(int(r)) for r in dup[:5]) + ("..." if dup.size > 5 else "")
        text += (f"; {dup.size:,} rows repeat an earlier row's id (rows {shown}) and get no "
                 "light curve")
    return text + ")"


def _attach_table(catalogue: Catalogue, options: OpenOptions) -> None:
    """Attach a long-format table given in ``options`` or found beside the file."""
    path = options.lightcurves
    how = ""
    if path is not None:
        if path.is_dir():
            return  # per-object files: see _attach_kepler
        if not path.exists():
            raise UserError(f"{path}: no such light-curve file")
    else:
        if catalogue.lightcurves is not None or catalogue.path is None:
            return
        path = find_lightcurves_beside(catalogue.path)
        if path is None:
            return
        how = f" beside {catalogue.path.name}"
    if catalogue.id_column is None:  # ids the catalogue does not know, such as ZTF's oid
        catalogue.id_column = find_column(catalogue.table.colnames, LC_ID_NAMES)
    if catalogue.id_column is None:
        names = catalogue.table.colnames
        raise AmbiguousColumnsError(
            catalogue.path or catalogue.name, {"id": []}, names,
            detail=f" (an id column is needed to match the light curves in {path.name})")
    table = read_lightcurve_table(path)
    cols = resolve_lightcurve_columns(table.colnames, path, options.columns,
                                      id_hint=catalogue.id_column, require_id=True)
    source = table_lightcurve_source(
        table, np.asarray(catalogue.table[catalogue.id_column]), cols, path.name)
    if not np.any(source.counts()):
        raise UserError(
            f"{path}: none of its ids (column {cols.id}) is in the {catalogue.id_column} column "
            f"of {catalogue.path or catalogue.name}")
    catalogue.attach_lightcurves(source, _describe(source, cols, path.name, how))


# -- a long-format table opened directly ----------------------------------------------

def _group_median(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of the finite ``values`` in each of ``n_groups`` groups (NaN if none)."""
    ok = np.isfinite(values)
    v, g = values[ok], group[ok]
    by_value = np.argsort(v)
    order = by_value[np.argsort(g[by_value], kind="stable")]  # by group, then value
    v, g = v[order], g[order]
    counts = np.bincount(g, minlength=n_groups)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = np.full(n_groups, np.nan)
    has = counts > 0
    lo = v[(start + (counts - 1) // 2)[has]]
    hi = v[(start + counts // 2)[has]]
    out[has] = 0.5 * (lo + hi)
    return out


def summarise_observations(table: Table, cols: LightCurveColumns, id_col: str) -> Table:
    """One row per object of a long-format table: id, ``n_points``, ``bands``,
    ``time_min``/``time_max``/``time_span`` (the time column's unit, days for
    MJD/JD), the median value per band ``<value>_median_<band>`` (value unit),
    and the median ``ra``/``dec`` where the table has them. Objects come in order
    of first appearance; NaN values are left out of medians."""
    ids = np.asarray(table[id_col])
    uniq, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    appearance = np.argsort(first, kind="stable")
    rank = np.empty_like(appearance)
    rank[appearance] = np.arange(appearance.size)
    obj = rank[inverse.ravel()]
    n = uniq.size
    out = Table()
    out[id_col] = Column(uniq[appearance], description=table[id_col].description)
    out["n_points"] = Column(np.bincount(obj, minlength=n), description="observations")
    time = np.asarray(table[cols.time], dtype=np.float64)
    t_unit = table[cols.time].unit or (u.day if cols.time.lower() in TIME_NAMES[:5] else None)
    tmin = np.full(n, np.inf)
    tmax = np.full(n, -np.inf)
    finite = np.isfinite(time)
    np.minimum.at(tmin, obj[finite], time[finite])
    np.maximum.at(tmax, obj[finite], time[finite])
    tmin[np.isinf(tmin)] = np.nan
    tmax[np.isinf(tmax)] = np.nan
    out["time_min"] = Column(tmin, unit=t_unit, description=f"first {cols.time}")
    out["time_max"] = Column(tmax, unit=t_unit, description=f"last {cols.time}")
    out["time_span"] = Column(tmax - tmin, unit=t_unit, description="last - first time")
    value = np.asarray(table[cols.value], dtype=np.float64)
    unit = table[cols.value].unit
    if cols.band is None:
        out[f"{cols.value}_median"] = Column(_group_median(value, obj, n), unit=unit)
    else:
        bands = np.asarray(table[cols.band]).astype(str)
        uniq_bands, band_idx = np.unique(bands, return_inverse=True)
        band_idx = band_idx.ravel()
        present = np.zeros((n, uniq_bands.size), dtype=bool)
        present[obj, band_idx] = True
        order = [list(uniq_bands).index(b) for b in _band_order(list(uniq_bands))]
        out["bands"] = Column([",".join(uniq_bands[order][row]) for row in present[:, order]],
                              description="bands observed")
        nb = uniq_bands.size
        medians = _group_median(value, obj * nb + band_idx, n * nb).reshape(n, nb)
        for b in order:
            out[f"{cols.value}_median_{uniq_bands[b]}"] = Column(
                medians[:, b], unit=unit, description=f"median {cols.value} in band {uniq_bands[b]}")
    for names, label in ((_RA_NAMES, "ra"), (_DEC_NAMES, "dec")):
        col = find_column(table.colnames, names)
        if col is not None and table[col].dtype.kind in "fi" and label not in out.colnames:
            out[label] = Column(_group_median(np.asarray(table[col], float), obj, n),
                                unit=table[col].unit or u.deg, description=f"median {col}")
    return out


def _attach_direct(catalogue: Catalogue, options: OpenOptions) -> None:
    """Turn a catalogue that is itself a long-format light-curve table (repeated
    ids, or no id and no position columns) into one row per object."""
    if options.lightcurves is not None or catalogue.lightcurves is not None:
        return
    table = catalogue.table
    names = table.colnames
    told = "time" in options.columns or "value" in options.columns
    looks = (find_column(names, TIME_NAMES) is not None
             and find_column(names, MAG_NAMES + FLUX_NAMES) is not None)
    if not (told or looks):
        return
    id_col = catalogue.id_column or find_column(names, LC_ID_NAMES)
    if not told:
        if id_col is not None and len(np.unique(np.asarray(table[id_col]))) == len(table):
            return  # one row per object: a catalogue that has a time and a value
        if id_col is None and (find_column(names, _RA_NAMES) or find_column(names, _DEC_NAMES)):
            return
    path = catalogue.path or catalogue.name
    cols = resolve_lightcurve_columns(names, path, options.columns, id_hint=id_col)
    obs = table
    if cols.id is None:  # one object: name it after the file
        id_col = next(n for n in ("object", "object_name", "_object") if n not in names)
        obs[id_col] = Column(np.full(len(obs), catalogue.name), description="object name")
        cols = LightCurveColumns(cols.time, cols.value, cols.error, cols.band, id_col,
                                 cols.convention, cols.is_magnitude, cols.band_names,
                                 cols.flux_unit)
    _name_bands(obs, cols)
    summary = summarise_observations(obs, cols, cols.id)
    name = Path(str(path)).name
    source = table_lightcurve_source(obs, np.asarray(summary[cols.id]), cols, name)
    summary.meta.update(table.meta)
    catalogue.table = summary
    catalogue.id_column = cols.id
    catalogue.attach_lightcurves(
        source, _describe(source, cols, name, " opened directly: one row per object"))


# -- Kepler / TESS per-object FITS --------------------------------------------------

_TIME_FORMATS = {"KEPLER": "bkjd", "K2": "bkjd", "TESS": "btjd"}


def is_kepler_lightcurve_file(path: Path) -> bool:
    """True if ``path`` is FITS with a ``LIGHTCURVE`` extension holding ``TIME``."""
    try:
        if not is_fits(path):
            return False
        # Truncated or odd files are the FITS reader's to refuse: say nothing here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fits.open(path) as hdul:
                for i in (1, 2):
                    try:
                        h = hdul[i]
                    except IndexError:
                        return False
                    if (isinstance(h, fits.BinTableHDU)
                            and str(h.header.get("EXTNAME", "")).upper() == "LIGHTCURVE"):
                        return "TIME" in [str(n).upper() for n in h.columns.names]
                return False
    except (OSError, EOFError, ValueError):
        return False


def _header_info(path: Path) -> dict:
    """Ids, telescope and cadence count from a Kepler/TESS file's headers."""
    with fits.open(path) as hdul:
        primary = hdul[0].header
        try:
            lc = hdul["LIGHTCURVE"].header
        except KeyError:
            raise UserError(f"{path} has no LIGHTCURVE extension: it is not a Kepler/TESS "
                            "light-curve file") from None
        return {"primary": primary.copy(), "lc": lc.copy(), "n": int(lc.get("NAXIS2", 0))}


def _time_system(path: Path, primary: fits.Header, header: fits.Header) -> tuple[str, float, str]:
    """(time_format, time_offset_jd, time_scale) from the BJDREFI/BJDREFF keywords."""
    refi = header.get("BJDREFI", primary.get("BJDREFI"))
    reff = header.get("BJDREFF", primary.get("BJDREFF", 0.0))
    if refi is None:
        raise UserError(f"{path} has no BJDREFI keyword: its times cannot be placed in BJD")
    offset = float(refi) + float(reff or 0.0)
    telescope = str(primary.get("TELESCOP", header.get("TELESCOP", ""))).strip().upper()
    fmt = _TIME_FORMATS.get(telescope, f"bjd-{offset:.10g}")
    scale = str(header.get("TIMESYS", primary.get("TIMESYS", "TDB"))).strip().lower() or "tdb"
    return fmt, offset, scale


def read_kepler_lightcurve(path: Path) -> LightCurve:
    """Read one Kepler/TESS light-curve file.

    Returns PDCSAP_FLUX (SAP_FLUX where PDCSAP_FLUX is all NaN) and its error, in
    the file's unit (e-/s), against TIME in the file's system (BKJD / BTJD days,
    ``time_offset_jd`` = BJDREFI + BJDREFF, scale from TIMESYS), sorted by time.
    Cadences with QUALITY != 0 or a NaN time or flux are dropped.

    Raises
    ------
    UserError
        Naming the file: missing, not FITS, no LIGHTCURVE extension, no TIME or
        flux column, no BJDREFI.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such light-curve file")
    try:
        with fits.open(path) as hdul:
            primary = hdul[0].header
            try:
                hdu = hdul["LIGHTCURVE"]
            except KeyError:
                raise UserError(f"{path} has no LIGHTCURVE extension: it is not a Kepler/TESS "
                                "light-curve file") from None
            data, header = hdu.data, hdu.header
            names = [n.upper() for n in hdu.columns.names]
            if "TIME" not in names:
                raise UserError(f"{path} [LIGHTCURVE] has no TIME column")
            flux_col = next((c for c in ("PDCSAP_FLUX", "SAP_FLUX") if c in names), None)
            if flux_col is None:
                raise UserError(f"{path} [LIGHTCURVE] has no PDCSAP_FLUX or SAP_FLUX column")
            if flux_col == "PDCSAP_FLUX" and "SAP_FLUX" in names \
                    and not np.any(np.isfinite(data["PDCSAP_FLUX"])):
                flux_col = "SAP_FLUX"
            time = np.array(data["TIME"], dtype=np.float64)
            flux = np.array(data[flux_col], dtype=np.float64)
            err_col = f"{flux_col}_ERR"
            error = (np.array(data[err_col], dtype=np.float64) if err_col in names
                     else np.full(time.size, np.nan))
            quality = (np.asarray(data["QUALITY"]) if "QUALITY" in names
                       else np.zeros(time.size, dtype=int))
            unit = str(hdu.columns[flux_col].unit or "").strip()
            fmt, offset, scale = _time_system(path, primary, header)
            telescope = str(primary.get("TELESCOP", header.get("TELESCOP", ""))).strip()
    except UserError:
        raise
    except (OSError, EOFError, ValueError, TypeError) as exc:
        raise UserError(f"{path} could not be read as a Kepler/TESS light curve: {exc}") from None
    keep = (quality == 0) & np.isfinite(time) & np.isfinite(flux)
    order = np.argsort(time[keep], kind="stable")
    n = int(np.count_nonzero(keep))
    return LightCurve(
        time=time[keep][order], value=flux[keep][order], error=error[keep][order],
        band=np.full(n, telescope or "white"), time_format=fmt, value_name=flux_col,
        value_unit=unit, is_magnitude=False, time_offset_jd=offset, time_scale=scale,
    )


class KeplerLightCurveSource(LightCurveSource):
    """Light curves from per-object Kepler/TESS FITS files, read when first asked
    for and kept in an LRU cache of ``cache_size`` files.

    Parameters
    ----------
    paths : sequence of Path or None, length N
        The file of each catalogue row (None: no light curve).
    n_points : sequence of int, optional
        Cadences per file (NAXIS2) if already known; else read from the headers
        when :attr:`n_points` is first asked for.
    """

    def __init__(self, paths: Sequence[Path | None], origin: str = "", band: str = "",
                 time_format: str = "bkjd", n_points: Sequence[int] | None = None,
                 cache_size: int = 256) -> None:
        self.paths = [Path(p) if p is not None else None for p in paths]
        self.origin = origin
        self.time_format = time_format
        self._band = band
        self._n_points = None if n_points is None else int(sum(n_points))
        self._read = functools.lru_cache(maxsize=cache_size)(read_kepler_lightcurve)

    def __len__(self) -> int:
        return len(self.paths)

    def get(self, row: int) -> LightCurve:
        path = self.paths[row]
        if path is None:
            empty = np.empty(0)
            return LightCurve(empty, empty, empty, np.empty(0, dtype=str),
                              time_format=self.time_format, value_name="PDCSAP_FLUX",
                              value_unit="", is_magnitude=False)
        return self._read(path)

    @property
    def bands(self) -> tuple[str, ...]:
        return (self._band,)

    @property
    def n_points(self) -> int:
        """Cadences in all the files, before QUALITY / NaN masking."""
        if self._n_points is None:
            self._n_points = sum(_header_info(p)["n"] for p in self.paths if p is not None)
        return self._n_points


def _file_keys(primary: fits.Header) -> set[str]:
    keys = set()
    for kw in ("KEPLERID", "TICID", "OBJECT"):
        value = primary.get(kw)
        if value is None or str(value).strip() == "":
            continue
        text = str(value).strip()
        keys.add(text.lower())
        digits = re.search(r"(\d+)\s*$", text)
        if digits:
            keys.add(str(int(digits.group(1))))
    return keys


def _row_key(value: object) -> str:
    text = str(value).strip()
    return str(int(text)) if text.isdigit() else text.lower()


def _attach_kepler(catalogue: Catalogue, options: OpenOptions) -> None:
    """Attach per-object Kepler/TESS files from a directory or a column of paths."""
    folder = options.lightcurves if options.lightcurves is not None \
        and options.lightcurves.is_dir() else None
    named = options.columns.get("lc_path")
    table = catalogue.table
    where = catalogue.path or catalogue.name
    if folder is not None:
        files = sorted(p for p in folder.iterdir() if p.name.lower().endswith((".fits", ".fits.gz")))
        infos = {}
        for p in files:
            if is_kepler_lightcurve_file(p):
                infos[p] = _header_info(p)
        if not infos:
            raise UserError(f"{folder} holds no Kepler/TESS light-curve FITS files")
        by_key: dict[str, Path] = {}
        for p, info in infos.items():
            for key in _file_keys(info["primary"]):
                by_key.setdefault(key, p)
        candidates = [c for c in [catalogue.id_column, *table.colnames] if c is not None]
        best, best_hits = None, 0
        for col in dict.fromkeys(candidates):
            if table[col].ndim != 1 or table[col].dtype.kind not in "iuUSO":
                continue
            hits = sum(_row_key(v) in by_key for v in table[col])
            if hits > best_hits:
                best, best_hits = col, hits
        if best is None:
            raise UserError(f"{folder}: none of its {len(infos)} light-curve files matches a row "
                            f"of {where} by KEPLERID, TICID or OBJECT")
        paths = [by_key.get(_row_key(v)) for v in table[best]]
        origin, how = folder.name, f"matched by {best} to KEPLERID/TICID/OBJECT"
    else:
        col = named
        if col is None:
            if catalogue.lightcurves is not None:
                return
            col = _detect_path_column(catalogue)
            if col is None:
                return
        elif col not in table.colnames:
            raise AmbiguousColumnsError(where, {"lc_path": []}, table.colnames,
                                        detail=f" (there is no column {col!r})")
        base = catalogue.path.parent if catalogue.path is not None else Path.cwd()
        paths = [_resolve(base, v) for v in table[col]]
        origin, how = f"{Path(str(where)).name}:{col}", f"paths in column {col}"
        missing = [p for p in paths if p is not None and not p.is_file()]
        if len(missing) == sum(p is not None for p in paths):
            raise UserError(f"{where}: none of the light-curve files in column {col} exists "
                            f"(first: {missing[0] if missing else 'no paths'})")
        if missing:
            how += f", {len(missing):,} missing (first: {missing[0]}: no light curve there)"
            gone = set(missing)
            paths = [None if p in gone else p for p in paths]
        infos = {}
    first = next(p for p in paths if p is not None)
    info = infos.get(first) or _header_info(first)
    fmt, offset, scale = _time_system(first, info["primary"], info["lc"])
    telescope = str(info["primary"].get("TELESCOP", "")).strip()
    n_points = [infos[p]["n"] for p in paths if p is not None] if infos else None
    source = KeplerLightCurveSource(paths, origin=origin, band=telescope, time_format=fmt,
                                    n_points=n_points)
    n_files = sum(p is not None for p in paths)
    note = (f"light curves: {telescope or 'Kepler/TESS'} light-curve FITS, {how} ({n_files:,} of "
            f"{len(paths):,} rows have a file; PDCSAP_FLUX, QUALITY != 0 and NaN masked; time "
            f"{fmt.upper()} = BJD - {offset:.10g} {scale.upper()}; read lazily)")
    catalogue.attach_lightcurves(source, note)


def _resolve(base: Path, value: object) -> Path | None:
    if np.ma.is_masked(value):
        return None
    text = value.decode() if isinstance(value, bytes) else str(value)
    text = text.strip()
    if not text:
        return None
    p = Path(text).expanduser()
    return p if p.is_absolute() else base / p


def _detect_path_column(catalogue: Catalogue) -> str | None:
    """A text column whose first value names an existing Kepler/TESS FITS file."""
    base = catalogue.path.parent if catalogue.path is not None else Path.cwd()
    for name in catalogue.table.colnames:
        col = catalogue.table[name]
        if col.ndim != 1 or col.dtype.kind not in "US" or len(col) == 0:
            continue
        first = _resolve(base, col[0])
        if first is None or not str(first).lower().endswith((".fits", ".fits.gz")):
            continue
        if first.is_file() and is_kepler_lightcurve_file(first):
            return name
    return None


def read_kepler_catalogue(path: Path) -> Catalogue:
    """A single Kepler/TESS light-curve file as a one-row catalogue: OBJECT,
    KEPLERID or TICID, RA_OBJ, DEC_OBJ [deg], KEPMAG or TESSMAG [mag] from the
    primary header, with the file's light curve attached."""
    path = Path(path)
    info = _header_info(path)
    primary = info["primary"]
    table = Table()
    for kw, unit in (("OBJECT", None), ("KEPLERID", None), ("TICID", None), ("RA_OBJ", u.deg),
                     ("DEC_OBJ", u.deg), ("KEPMAG", u.mag), ("TESSMAG", u.mag)):
        value = primary.get(kw)
        if value is None or isinstance(value, fits.card.Undefined):
            continue
        table[kw] = Column([value], unit=unit, description=primary.comments[kw] or None)
    if not table.colnames:
        table["OBJECT"] = [path.name]
    lc = read_kepler_lightcurve(path)
    id_col = find_column(table.colnames, ("keplerid", "ticid", "object"))
    catalogue = Catalogue(table, name=path.name.split(".")[0], path=path, id_column=id_col)
    source = KeplerLightCurveSource([path], origin=path.name, band=str(lc.band[0]) if len(lc)
                                    else "", time_format=lc.time_format, n_points=[info["n"]])
    masked = info["n"] - len(lc)
    catalogue.attach_lightcurves(source, (
        f"light curves: {primary.get('TELESCOP', 'Kepler/TESS')} light-curve FITS {path.name} "
        f"(1 object, {lc.value_name} in {lc.value_unit or 'no stated unit'}, {len(lc):,} "
        f"cadences, {masked:,} masked by QUALITY != 0 or NaN; time {lc.time_format.upper()} = "
        f"BJD - {lc.time_offset_jd:.10g} {lc.time_scale.upper()})"))
    return catalogue


register_reader(Reader("Kepler/TESS light-curve FITS", is_kepler_lightcurve_file,
                       read_kepler_catalogue, priority=20))
register_attacher(Attacher("light-curve table opened directly", _attach_direct, priority=30))
register_attacher(Attacher("light-curve table", _attach_table, priority=20))
register_attacher(Attacher("Kepler/TESS light-curve files", _attach_kepler, priority=10))
