"""Discovery tools over the embedding: "objects like this one" and anomaly scores."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..analysis.anomaly import ANOMALY_METHODS, anomaly_job
from ..analysis.neighbours import METRICS, NeighbourIndex
from ..core.catalogue import Catalogue, Embedding
from ..core.errors import UserError
from ..core.rowset import RowSet
from ..core.selection import SelectionMode
from ..core.session import Session
from .binding import connect_weakly
from .jobs_panel import JobsPanel
from .labelling_panel import LabellingGroup
from .subsets_panel import ClustersGroup
from .widgets import make_combo, registry_combo, status_label
from .workers import JobWorker

__all__ = ["DiscoveryPanel"]

#: Kind of the anomaly-score job in the :class:`JobsPanel` (one at a time).
ANOMALY_JOB_KIND = "anomaly"





class DiscoveryPanel(QWidget):
    """Similarity search and anomaly scores in the Session's embedding.

    The search runs on the GUI thread (an exact scan, tens of ms at 1M rows; the
    :class:`NeighbourIndex` is built once per embedding and metric). Anomaly scores
    run as a job through ``jobs_panel``; the result becomes a catalogue column.

    Signals
    -------
    colour_by_requested(column: str)
        A score column was added; the map should be coloured by it.
    anomaly_ready(column: str)
        Emitted after a score column has been added to the catalogue.
    results_ready(rows: ndarray, title: str, values: ndarray, value_name: str)
        Rows found, in order (query rows then neighbours by distance; top anomalies
        by score), with one value each, for the gallery (``GalleryPanel.show_rows``).
    """

    colour_by_requested = Signal(str)
    anomaly_ready = Signal(str)
    results_ready = Signal(object, str, object, str)

    def __init__(self, session: Session, jobs_panel: JobsPanel,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.jobs_panel = jobs_panel
        self.score_column: str | None = None
        self._indexes: dict[tuple[int, str], NeighbourIndex] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self._similar_group())
        layout.addWidget(self._anomaly_group())
        self.clusters_group = ClustersGroup(session, jobs_panel)
        self.clusters_group.clusters_ready.connect(self.colour_by_requested)
        layout.addWidget(self.clusters_group)
        self.labelling_group = LabellingGroup(session, jobs_panel,
                                              anomaly_column=lambda: self.score_column)
        self.labelling_group.results_ready.connect(self.results_ready)
        self.labelling_group.colour_by_requested.connect(self.colour_by_requested)
        layout.addWidget(self.labelling_group)
        layout.addStretch(1)
        connect_weakly(session.catalogue_changed, self, DiscoveryPanel._on_catalogue_changed)
        connect_weakly(session.embedding_changed, self, DiscoveryPanel._on_embedding_changed)
        connect_weakly(session.selection.changed, self, DiscoveryPanel._on_selection_changed)
        connect_weakly(session.selection.focus_changed, self, DiscoveryPanel._on_focus_changed)
        self._update_state()

    # -- construction -----------------------------------------------------------------
    def _similar_group(self) -> QGroupBox:
        box = QGroupBox("Similar objects")
        form = QFormLayout(box)
        self.k_spin = QSpinBox(minimum=1, maximum=10_000, value=20)
        self.k_spin.setToolTip("How many neighbours to find")
        self.metric_combo = make_combo("Distance in the embedding")
        for metric in METRICS:
            self.metric_combo.addItem(metric, metric)
        self.similar_button = QPushButton("Select similar")
        self.similar_button.setToolTip("Select the objects nearest the selection (or the "
                                       "focused object) in the embedding")
        self.similar_button.clicked.connect(lambda: self.select_similar())
        self.similar_label = status_label()
        form.addRow("k", self.k_spin)
        form.addRow("Metric", self.metric_combo)
        form.addRow(self.similar_button)
        form.addRow(self.similar_label)
        return box

    def _anomaly_group(self) -> QGroupBox:
        box = QGroupBox("Anomaly score")
        form = QFormLayout(box)
        self.anomaly_combo = registry_combo(ANOMALY_METHODS,
                                            "How to score how unusual each object is")
        self.score_button = QPushButton("Score")
        self.score_button.setToolTip("Compute the score of every object as a new column")
        self.score_button.clicked.connect(lambda: self.compute_anomaly())
        self.top_spin = QSpinBox(minimum=1, maximum=1_000_000, value=50)
        self.top_spin.setToolTip("How many of the highest-scoring objects to select")
        self.top_button = QPushButton("Select top N")
        self.top_button.clicked.connect(lambda: self.select_top_anomalies())
        self.anomaly_label = status_label()
        form.addRow("Method", self.anomaly_combo)
        form.addRow(self.score_button)
        form.addRow("N", self.top_spin)
        form.addRow(self.top_button)
        form.addRow(self.anomaly_label)
        return box

    # -- similar objects ----------------------------------------------------------------
    def neighbour_index(self, embedding: Embedding, metric: str) -> NeighbourIndex:
        """The cached index of ``embedding`` for ``metric`` (built on first use)."""
        key = (id(embedding), metric)
        index = self._indexes.get(key)
        if index is None or index.vectors is not embedding.vectors:
            index = self._indexes[key] = NeighbourIndex(embedding.vectors, metric)
        return index

    def select_similar(self, k: int | None = None, metric: str | None = None) -> RowSet | None:
        """Replace the selection with the query rows and their ``k`` nearest neighbours.

        The query is the selection (searching from its mean vector) if any, else
        the focused row. Returns the new selection, or None if there was nothing
        to search (the reason is shown in the panel).
        """
        session = self.session
        catalogue, embedding = session.catalogue, session.embedding
        selection = session.selection
        if catalogue is None or embedding is None:
            return None
        k = int(k if k is not None else self.k_spin.value())
        metric = metric or self.metric_combo.currentData()
        focus = selection.focus
        query = selection.rows.rows if len(selection.rows) else (
            np.array([focus], dtype=np.int64) if focus is not None else None)
        if query is None:
            return None
        try:
            rows, dist = self.neighbour_index(embedding, metric).query(query, k)
        except UserError as exc:
            self.similar_label.setText(str(exc))
            return None
        what = (catalogue.object_label(int(query[0])) if query.size == 1
                else f"{query.size} selected objects")
        description = f"{rows.size} most similar to {what} ({metric})"
        keep = focus if focus is not None and focus in set(query.tolist()) else int(query[0])
        new = RowSet(np.concatenate([query, rows]))
        selection.select(new, SelectionMode.REPLACE, source=self, description=description)
        selection.set_focus(keep, source=self)
        self.similar_label.setText(description)
        # Query rows first (no distance of their own), then neighbours nearest first.
        self.results_ready.emit(np.concatenate([query, rows]), description,
                                np.concatenate([np.full(query.size, np.nan), dist]),
                                "distance")
        return new

    # -- anomaly scores -----------------------------------------------------------------
    def compute_anomaly(self, method: str | None = None) -> JobWorker | None:
        """Start scoring the embedding with ``method`` (the combo's by default).

        Returns the worker, or None without an embedding or while a score job runs.
        The result becomes the column ``anomaly_<method>``.
        """
        session = self.session
        catalogue, embedding = session.catalogue, session.embedding
        if catalogue is None or embedding is None:
            return None
        method = method or self.anomaly_combo.currentData()
        label = ANOMALY_METHODS[method].label
        vectors = embedding.vectors

        def apply(scores: np.ndarray) -> None:
            if session.catalogue is not catalogue or session.embedding is not embedding:
                self.anomaly_label.setText(f"{label} scores dropped: the embedding changed.")
                return
            self._apply_scores(method, label, embedding, scores)

        worker = self.jobs_panel.start(ANOMALY_JOB_KIND, f"{label} scores",
                                       lambda: anomaly_job(method, vectors), apply)
        if worker is not None:
            worker.done.connect(self._update_state)
            self.anomaly_label.setText(f"Scoring with {label.lower()}\u2026")
        self._update_state()
        return worker

    def _apply_scores(self, method: str, label: str, embedding: Embedding,
                      scores: np.ndarray) -> None:
        name = f"anomaly_{method}"
        self.session.add_column(
            name, scores,
            description=f"{label} anomaly score in the {embedding.method} embedding "
                        "(higher = more unusual)",
            meta={"method": method, "embedding": embedding.method})
        self.score_column = name
        n = int(np.isfinite(scores).sum())
        self.anomaly_label.setText(f"{name}: {n} objects scored.")
        self._update_state()
        self.colour_by_requested.emit(name)
        self.anomaly_ready.emit(name)

    def select_top_anomalies(self, n: int | None = None) -> RowSet | None:
        """Select the ``n`` highest-scoring rows of the last score column (NaN left
        out) and focus the highest; returns them, or None without a score."""
        catalogue = self.session.catalogue
        name = self.score_column
        if catalogue is None or name is None or name not in catalogue.table.colnames:
            return None
        n = int(n if n is not None else self.top_spin.value())
        scores = np.ma.filled(np.ma.asarray(catalogue.table[name], dtype=np.float64), np.nan)
        finite = np.flatnonzero(np.isfinite(scores))
        top = finite[np.argsort(-scores[finite], kind="stable")[:n]]
        if top.size == 0:
            return None
        rows = RowSet(top)
        description = f"{top.size} highest {name}"
        selection = self.session.selection
        selection.select(rows, SelectionMode.REPLACE, source=self, description=description)
        selection.set_focus(int(top[0]), source=self)
        self.anomaly_label.setText(f"Selected the {description}.")
        self.results_ready.emit(top, description, scores[top], name)
        return rows

    # -- state ------------------------------------------------------------------------
    def _update_state(self) -> None:
        session = self.session
        has_embedding = session.catalogue is not None and session.embedding is not None
        selection = session.selection
        has_query = selection.focus is not None or len(selection.rows) > 0
        self.similar_button.setEnabled(has_embedding and has_query)
        self.score_button.setEnabled(has_embedding
                                     and not self.jobs_panel.is_running(ANOMALY_JOB_KIND))
        catalogue = session.catalogue
        has_score = (catalogue is not None and self.score_column is not None
                     and self.score_column in catalogue.table.colnames)
        self.top_button.setEnabled(has_score)
        self.top_spin.setEnabled(has_score)
        if not has_embedding:
            self.similar_label.setText("Compute an embedding first.")

    def _on_catalogue_changed(self, _catalogue: Catalogue) -> None:
        self._indexes.clear()
        self.score_column = None
        self.anomaly_label.setText("")
        self._update_state()

    def _on_embedding_changed(self, _embedding: Embedding) -> None:
        self._indexes.clear()
        self.similar_label.setText("")
        self._update_state()

    def _on_selection_changed(self, *_args: object) -> None:
        self._update_state()

    def _on_focus_changed(self, *_args: object) -> None:
        self._update_state()
