"""Readers and writers of catalogues, cutouts and light curves."""

from . import (  # noqa: F401  (register readers and attachers)
    cutouts,
    fits_reader,
    lightcurve_formats,
    table_reader,
    wide_field,
)
from .export import export_selection
from .fits_writer import write_catalogue_fits
from .registry import READERS, OpenOptions, read_catalogue

__all__ = ["READERS", "OpenOptions", "export_selection", "read_catalogue", "write_catalogue_fits"]
