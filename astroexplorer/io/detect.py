"""Recognise the columns of light-curve tables by their conventional names.

Conventions recognised (column names compared case-insensitively):

* **PLAsTiCC**: ``object_id, mjd, passband, flux, flux_err, detected``; passbands
  0-5 are u, g, r, i, z, y; fluxes are in FLUXCAL units unless the table says.
* **ZTF**: ``mjd, mag, magerr, filtercode`` (zg, zr, zi) or ``fid`` (1, 2, 3), ids
  in ``oid``.
* **generic**: a time (:data:`TIME_NAMES`), a value (:data:`VALUE_NAMES`), an
  error matching the value, a band (:data:`BAND_NAMES`), an id
  (:data:`LC_ID_NAMES`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..core.errors import AmbiguousColumnsError

__all__ = ["LightCurveColumns", "detect_lightcurve_columns", "find_column",
           "resolve_lightcurve_columns", "PLASTICC_PASSBANDS", "ZTF_FIDS", "LC_ID_NAMES"]

TIME_NAMES = ("mjd", "time", "jd", "bjd", "hjd", "t")
MAG_NAMES = ("mag", "magnitude", "psf_mag", "mag_psf", "magpsf")
FLUX_NAMES = ("flux", "psf_flux", "pdcsap_flux", "sap_flux", "fluxcal")
VALUE_NAMES = ("mag", "flux", "psf_flux", "pdcsap_flux", "sap_flux", "magnitude")
ERROR_NAMES = ("mag_err", "magerr", "flux_err", "fluxerr", "e_mag", "sigma", "error", "err",
               "pdcsap_flux_err", "sap_flux_err")
BAND_NAMES = ("band", "passband", "filter", "filtercode", "fid")
#: Id column names of light-curve tables, best first (ZTF's ``oid`` included).
LC_ID_NAMES = ("object_id", "oid", "objectid", "source_id", "objid", "obj_id", "id",
               "kepid", "ticid", "name")
#: PLAsTiCC passband index -> LSST band name.
PLASTICC_PASSBANDS = ("u", "g", "r", "i", "z", "y")
#: ZTF ``fid`` -> filter code.
ZTF_FIDS = {1: "zg", 2: "zr", 3: "zi"}

_GENERIC_ERRORS = ("error", "err", "sigma", "uncertainty")


def find_column(colnames: Sequence[str], candidates: Sequence[str]) -> str | None:
    """The first column whose lower-cased name is in ``candidates`` (in their order)."""
    lower = {c.lower(): c for c in colnames}
    return next((lower[c] for c in candidates if c in lower), None)


def _all_columns(colnames: Sequence[str], candidates: Sequence[str]) -> list[str]:
    lower = {c.lower(): c for c in colnames}
    return [lower[c] for c in candidates if c in lower]


@dataclass(frozen=True)
class LightCurveColumns:
    """Column names of a long-format light-curve table, and its convention.

    Attributes
    ----------
    time, value : str
        Observation time and measured value (magnitude or flux) columns.
    error, band, id : str or None
        1-sigma error, band and object-id columns, where present.
    convention : str
        "plasticc", "ztf" or "generic".
    is_magnitude : bool
        Whether ``value`` is a magnitude (else a flux).
    band_names : dict
        Band code -> name to show (PLAsTiCC passbands, ZTF fid); empty if the
        band column already holds names.
    flux_unit : str
        The flux unit the convention implies when the table states none
        ("FLUXCAL" for PLAsTiCC), else "".
    """

    time: str
    value: str
    error: str | None
    band: str | None
    id: str | None = None
    convention: str = "generic"
    is_magnitude: bool = False
    band_names: dict = field(default_factory=dict)
    flux_unit: str = ""


def detect_lightcurve_columns(colnames: Sequence[str]) -> LightCurveColumns | None:
    """Time, value, error and band columns, or None if time or value is missing."""
    time = find_column(colnames, TIME_NAMES)
    value = find_column(colnames, VALUE_NAMES)
    if time is None or value is None:
        return None
    return LightCurveColumns(
        time, value, find_column(colnames, ERROR_NAMES), find_column(colnames, BAND_NAMES),
        is_magnitude="mag" in value.lower(),
    )


def _is_mag(name: str) -> bool:
    return "mag" in name.lower()


def _error_for(colnames: Sequence[str], value: str) -> str | None:
    """The error column that goes with ``value`` (``mag`` -> ``magerr``...)."""
    v = value.lower()
    family = "mag" if _is_mag(v) else "flux"
    own = (f"{v}_err", f"{v}err", f"e_{v}", f"err_{v}", f"{v}_error", f"sigma_{v}",
           f"{v}_unc", f"sig{v}")
    fam = tuple(n for n in ERROR_NAMES if family in n)
    return find_column(colnames, own + fam + _GENERIC_ERRORS)


def resolve_lightcurve_columns(
    colnames: Sequence[str],
    path: object,
    columns: Mapping[str, str] | None = None,
    id_hint: str | None = None,
    require_id: bool = False,
) -> LightCurveColumns:
    """Decide each role of a long-format light-curve table's columns.

    Parameters
    ----------
    colnames : sequence of str
        The table's column names.
    path : path-like
        The file, named in errors.
    columns : mapping of role -> column name, optional
        The user's choices (``OpenOptions.columns``), which win over detection.
    id_hint : str, optional
        A column name to use as id if the table has it (the catalogue's id column).
    require_id : bool
        Whether an id column is needed (matching to a catalogue).

    Raises
    ------
    AmbiguousColumnsError
        Naming each role that cannot be decided: no time or value column, both a
        magnitude and a flux column, no id column where one is required.
    UserError
        If ``columns`` names a column the table lacks (an AmbiguousColumnsError,
        so the mapping dialog can offer the real names).
    """
    columns = dict(columns or {})
    names = list(colnames)
    lower = {c.lower() for c in names}
    for role in ("time", "value", "error", "band"):
        if role in columns and columns[role] not in names:
            raise AmbiguousColumnsError(
                path, {role: []}, names, detail=f" (there is no column {columns[role]!r})")

    plasticc = {"object_id", "mjd", "passband", "flux", "flux_err"} <= lower
    ztf = "mjd" in lower and ("mag" in lower or "magpsf" in lower) and bool(
        {"filtercode", "fid"} & lower)
    undecided: dict[str, list[str]] = {}

    time = columns.get("time") or find_column(names, TIME_NAMES)
    if time is None:
        undecided["time"] = []

    value = columns.get("value")
    if value is None:
        if plasticc:
            value = find_column(names, ("flux",))
        else:
            mags = _all_columns(names, MAG_NAMES)
            fluxes = _all_columns(names, FLUX_NAMES)
            if mags and fluxes:
                undecided["value"] = [mags[0], fluxes[0]]
            elif mags or fluxes:
                value = (mags or fluxes)[0]
            else:
                undecided["value"] = []

    id_col = columns.get("id") if columns.get("id") in names else None
    if id_col is None and id_hint in names:
        id_col = id_hint
    if id_col is None:
        id_col = find_column(names, LC_ID_NAMES)
    if id_col is None and require_id:
        undecided["id"] = []

    if undecided:
        raise AmbiguousColumnsError(path, undecided, names)
    assert time is not None and value is not None

    error = columns.get("error") or _error_for(names, value)
    band = columns.get("band") or find_column(names, BAND_NAMES)
    band_names: dict = {}
    convention = "generic"
    flux_unit = ""
    if plasticc and value.lower() == "flux":
        convention = "plasticc"
        flux_unit = "FLUXCAL"
        if band is not None and band.lower() == "passband":
            band_names = dict(enumerate(PLASTICC_PASSBANDS))
    elif ztf:
        convention = "ztf"
        if band is not None and band.lower() == "fid":
            band_names = dict(ZTF_FIDS)
    return LightCurveColumns(time, value, error, band, id_col, convention,
                             is_magnitude=_is_mag(value), band_names=band_names,
                             flux_unit=flux_unit)
