"""The data model: numpy and astropy only, no Qt, no torch."""

from .catalogue import Catalogue, Embedding, Projection
from .errors import UserError
from .images import ArrayImageSource, ImageSource
from .lightcurves import LightCurve, LightCurveSource, TableLightCurveSource
from .rowset import RowSet
from .selection import Selection, SelectionMode
from .session import Session

__all__ = [
    "ArrayImageSource", "Catalogue", "Embedding", "ImageSource", "LightCurve",
    "LightCurveSource", "Projection", "RowSet", "Selection", "SelectionMode",
    "Session", "TableLightCurveSource", "UserError",
]
