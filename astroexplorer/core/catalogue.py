"""The catalogue: a table of objects with optional cutouts and light curves."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.table import Table

from .images import ImageSource
from .lightcurves import LightCurveSource

__all__ = ["Catalogue", "Embedding", "Projection", "ID_COLUMN_NAMES"]

#: Column names recognised as object identifiers, in order of preference.
ID_COLUMN_NAMES = ("object_id", "source_id", "objid", "obj_id", "id", "name")


@dataclass
class Catalogue:
    """One row per object, with modalities attached to the rows.

    Attributes
    ----------
    table : Table
        The objects; units and meta kept as read. Row ``i`` is object ``i``.
    name : str
        Short name for display.
    path : Path or None
        The file it was read from (never written to).
    images : ImageSource or None
        Cutouts aligned with the rows.
    lightcurves : LightCurveSource or None
        Light curves aligned with the rows.
    """

    table: Table
    name: str = "catalogue"
    path: Path | None = None
    images: ImageSource | None = None
    lightcurves: LightCurveSource | None = None
    id_column: str | None = None
    #: What the readers detected (one line each), printed by ``astroexplorer info``.
    notes: list[str] = field(default_factory=list)
    #: The options it was opened with (an ``io.OpenOptions``), to open it again the
    #: same way (worker processes, sessions).
    open_options: object | None = None

    def __post_init__(self) -> None:
        if self.id_column is None:
            lower = {c.lower(): c for c in self.table.colnames}
            self.id_column = next((lower[n] for n in ID_COLUMN_NAMES if n in lower), None)
        self._check_length(self.images, "cutouts")
        self._check_length(self.lightcurves, "light curves")

    def __len__(self) -> int:
        return len(self.table)

    def attach_images(self, source: ImageSource, note: str = "") -> None:
        """Attach cutouts aligned with the rows; ``ValueError`` if the counts differ."""
        self._check_length(source, "cutouts")
        self.images = source
        if note:
            self.notes.append(note)

    def attach_lightcurves(self, source: LightCurveSource, note: str = "") -> None:
        """Attach light curves aligned with the rows; ``ValueError`` if the counts differ."""
        self._check_length(source, "light curves")
        self.lightcurves = source
        if note:
            self.notes.append(note)

    def _check_length(self, source: ImageSource | LightCurveSource | None, label: str) -> None:
        if source is not None and len(source) != len(self.table):
            raise ValueError(
                f"{self.name}: {len(source)} {label} for a table of {len(self.table)} rows"
            )

    @property
    def row_ids(self) -> np.ndarray:
        """Stable row indices 0..N-1, shape (N,), int64."""
        return np.arange(len(self.table), dtype=np.int64)

    def numeric_columns(self) -> list[str]:
        """Names of scalar numeric (and boolean) columns, for colouring and axes."""
        out = []
        for name in self.table.colnames:
            col = self.table[name]
            if col.ndim == 1 and (col.dtype.kind in "iufb"):
                out.append(name)
        return out

    def object_label(self, row: int) -> str:
        """A short label for a row: its id if known, else its index."""
        if self.id_column is not None:
            return f"{self.id_column}={self.table[self.id_column][row]}"
        return f"row {row}"


@dataclass
class Embedding:
    """An ``(N, D)`` float32 representation of a catalogue's rows.

    ``config`` holds the method's parameters; ``method`` its registry name.
    """

    vectors: np.ndarray
    method: str
    config: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)
        if self.vectors.ndim != 2:
            raise ValueError(f"an embedding must be 2-D (N, D), not {self.vectors.shape}")


@dataclass
class Projection:
    """An ``(N, 2)`` float32 map of an embedding (UMAP / PCA / t-SNE).

    ``config`` holds the method's parameters and quality figures (e.g.
    ``trustworthiness``); ``model`` the fitted mapping, serialised by the analysis
    layer, that places new points into this map without recomputing it (None when
    the method cannot).
    """

    xy: np.ndarray
    method: str
    config: dict = field(default_factory=dict)
    model: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.xy = np.ascontiguousarray(self.xy, dtype=np.float32)
        if self.xy.ndim != 2 or self.xy.shape[1] != 2:
            raise ValueError(f"a projection must have shape (N, 2), not {self.xy.shape}")
