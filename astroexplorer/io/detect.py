"""Recognise the columns of light-curve tables by their conventional names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LightCurveColumns", "detect_lightcurve_columns", "find_column"]

TIME_NAMES = ("mjd", "time", "jd", "bjd", "hjd", "t")
VALUE_NAMES = ("mag", "flux", "psf_flux", "pdcsap_flux", "sap_flux", "magnitude")
ERROR_NAMES = ("mag_err", "magerr", "flux_err", "fluxerr", "e_mag", "sigma", "error", "err",
               "pdcsap_flux_err", "sap_flux_err")
BAND_NAMES = ("band", "passband", "filter", "filtercode", "fid")


def find_column(colnames: Sequence[str], candidates: Sequence[str]) -> str | None:
    """The first column whose lower-cased name is in ``candidates`` (in their order)."""
    lower = {c.lower(): c for c in colnames}
    return next((lower[c] for c in candidates if c in lower), None)


@dataclass(frozen=True)
class LightCurveColumns:
    """Column names of a long-format light-curve table."""

    time: str
    value: str
    error: str | None
    band: str | None


def detect_lightcurve_columns(colnames: Sequence[str]) -> LightCurveColumns | None:
    """Time, value, error and band columns, or None if time or value is missing."""
    time = find_column(colnames, TIME_NAMES)
    value = find_column(colnames, VALUE_NAMES)
    if time is None or value is None:
        return None
    return LightCurveColumns(
        time, value, find_column(colnames, ERROR_NAMES), find_column(colnames, BAND_NAMES)
    )
