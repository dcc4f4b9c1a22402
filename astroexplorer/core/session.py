"""Application state: the open catalogue, its embeddings, projections and selection."""

from __future__ import annotations

import numpy as np
from astropy.table import Column

from .catalogue import Catalogue, Embedding, Projection
from .events import Signal
from .selection import Selection

__all__ = ["Session"]


class Session:
    """Everything a user has open; views read it and listen to its signals.

    Signals
    -------
    catalogue_changed(catalogue)
    embedding_changed(embedding)
    projection_changed(projection)
    column_added(name)
        A derived column (a score, a prediction, a cluster id) joined the table.
    """

    def __init__(self) -> None:
        self.catalogue: Catalogue | None = None
        self.embedding: Embedding | None = None
        self.projection: Projection | None = None
        self.selection = Selection(0)
        self.catalogue_changed = Signal()
        self.embedding_changed = Signal()
        self.projection_changed = Signal()
        self.column_added = Signal()

    def set_catalogue(self, catalogue: Catalogue) -> None:
        """Open a catalogue; forgets embeddings, projection and selection of the last one."""
        self.catalogue = catalogue
        self.embedding = None
        self.projection = None
        self.selection.reset(len(catalogue))
        self.catalogue_changed.emit(catalogue)

    def set_embedding(self, embedding: Embedding) -> None:
        """Attach an embedding of the current catalogue's rows."""
        self._check_rows(embedding.vectors.shape[0], "embedding")
        self.embedding = embedding
        self.projection = None
        self.embedding_changed.emit(embedding)

    def set_projection(self, projection: Projection) -> None:
        """Attach a 2-D projection of the current catalogue's rows."""
        self._check_rows(projection.xy.shape[0], "projection")
        self.projection = projection
        self.projection_changed.emit(projection)

    def add_column(self, name: str, values: np.ndarray, description: str = "",
                   meta: dict | None = None) -> None:
        """Add (or replace) a derived column of the current catalogue's table.

        Parameters
        ----------
        values : ndarray, shape (N,)
            One value per catalogue row.
        description : str
            What the column is, kept in the table and in exports.
        meta : dict, optional
            How it was made (method, parameters), kept in ``table.meta["derived"]``.
        """
        values = np.asarray(values)
        self._check_rows(values.shape[0] if values.ndim else -1, f"column {name!r}")
        table = self.catalogue.table
        table[name] = Column(values, name=name, description=description)
        table.meta.setdefault("derived", {})[name] = dict(meta or {})
        self.column_added.emit(name)

    def _check_rows(self, n: int, what: str) -> None:
        if self.catalogue is None:
            raise ValueError(f"no catalogue is open to attach the {what} to")
        if n != len(self.catalogue):
            raise ValueError(
                f"the {what} has {n} rows but the catalogue {self.catalogue.name} has "
                f"{len(self.catalogue)}"
            )
