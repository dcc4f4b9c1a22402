"""The Embeddings panel: choose a method and its options, watch it train, compare results."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..analysis import EMBEDDING_METHODS
from ..analysis.embedding import embedding_data, embedding_parameters
from ..analysis.embedding_compare import knn_label_scores, shared_neighbours
from ..core.catalogue import Catalogue, Embedding
from ..core.session import Session
from ..jobs.base import Progress
from .binding import connect_weakly
from .colours import categorical_columns
from .jobs_panel import format_progress
from .parameters import parameter_form, parameter_values
from .widgets import cache_axes, make_combo, status_label

__all__ = ["EmbeddingsPanel", "DEVICES"]

#: Device choices; "auto" takes CUDA, then Apple MPS, then the CPU.
DEVICES = ("auto", "cpu", "cuda", "mps")
_MODALITY_DATA = {"image": "cutouts", "lightcurve": "light curves"}
#: Columns of the comparison table (epochs, device and the rest are in the tooltips).
_COLUMNS = ("Method", "D", "Loss", "kNN", "Shared")
_COLUMN_TIPS = ("method (hover for its options)", "dimension of the vectors",
                "mean training loss of the last epoch",
                "leave-one-out accuracy of the 10 nearest neighbours' vote for the label",
                "fraction of 10 nearest neighbours shared with the embedding shown")
_KNN, _SHARED = 3, 4


class EmbeddingsPanel(QWidget):
    """Compute embeddings of cutouts or light curves, follow training, compare them.

    Signals
    -------
    compute_requested(method: str, options: dict)
    cancel_requested()
    activate_requested(embedding: Embedding)
        The user chose to show an earlier embedding of this catalogue.
    """

    compute_requested = Signal(str, dict)
    cancel_requested = Signal()
    activate_requested = Signal(object)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.running = False
        self.embeddings: list[Embedding] = []
        self._loss_x: list[float] = []
        self._loss_y: list[float] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self._method_group())
        layout.addWidget(self._training_group())
        layout.addWidget(self._compare_group(), 1)
        connect_weakly(session.catalogue_changed, self, EmbeddingsPanel._on_catalogue_changed)
        connect_weakly(session.embedding_changed, self, EmbeddingsPanel._on_embedding_changed)
        self._on_method_changed(self.method_combo.currentIndex())

    # -- construction -----------------------------------------------------------------
    def _method_group(self) -> QGroupBox:
        box = QGroupBox("Method")
        form = QFormLayout(box)
        self.method_combo = make_combo("How to turn each object into a vector")
        for entry in EMBEDDING_METHODS.entries():
            self.method_combo.addItem(f"{entry.label} ({_MODALITY_DATA[entry.modality]})",
                                      entry.name)
            self.method_combo.setItemData(self.method_combo.count() - 1, entry.description,
                                          Qt.ItemDataRole.ToolTipRole)
        self.method_combo.currentIndexChanged.connect(self._on_method_changed)
        self.method_combo.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.description = status_label()
        self.device_combo = make_combo("Where learned methods run: auto picks a GPU if present")
        for device in DEVICES:
            self.device_combo.addItem(device, device)
        # One page of options per method; only the chosen one is shown (hidden pages
        # take no room, unlike a QStackedWidget's, which is as tall as the tallest).
        self.option_pages = QWidget()
        pages_layout = QVBoxLayout(self.option_pages)
        pages_layout.setContentsMargins(0, 0, 0, 0)
        self.option_widgets: dict[str, dict[str, QWidget]] = {}
        self._pages: list[QWidget] = []
        for entry in EMBEDDING_METHODS.entries():
            page, widgets = parameter_form(embedding_parameters(entry.name))
            pages_layout.addWidget(page)
            self._pages.append(page)
            self.option_widgets[entry.name] = widgets
        buttons = QHBoxLayout()
        self.compute_button = QPushButton("Compute")
        self.compute_button.clicked.connect(self._request_compute)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the current batch (the same request "
                                      "later resumes from the next batch)")
        self.cancel_button.clicked.connect(self.cancel_requested)
        buttons.addWidget(self.compute_button, 1)
        buttons.addWidget(self.cancel_button)
        form.addRow(self.method_combo)
        form.addRow(self.description)
        form.addRow("Device", self.device_combo)
        form.addRow(self.option_pages)
        form.addRow(buttons)
        return box

    def _training_group(self) -> QGroupBox:
        box = QGroupBox("Training")
        layout = QVBoxLayout(box)
        self.progress_label = status_label()
        self.loss_plot = pg.PlotWidget(background="w")
        self.loss_plot.setMinimumHeight(120)
        self.loss_plot.setMaximumHeight(200)
        self.loss_plot.setLabel("left", "loss")
        self.loss_plot.setLabel("bottom", "training step")
        self.loss_plot.showGrid(x=True, y=True, alpha=0.2)
        self.loss_plot.setMouseEnabled(x=False, y=False)
        cache_axes(self.loss_plot.getPlotItem())
        self.loss_curve = self.loss_plot.plot([], [], pen=pg.mkPen("#1f77b4", width=1.5))
        layout.addWidget(self.progress_label)
        layout.addWidget(self.loss_plot)
        return box

    def _compare_group(self) -> QGroupBox:
        box = QGroupBox("Compare")
        layout = QVBoxLayout(box)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        self.label_combo = make_combo("A column of known classes: how often an object's 10 "
                                      "nearest neighbours share its class")
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("kNN accuracy of the label and neighbours shared with "
                                       "the embedding shown (samples of 5,000 / 2,000 objects)")
        self.compare_button.clicked.connect(self.compare)
        form.addRow("Label", self.label_combo)
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(_COLUMNS))
        for column, tip in enumerate(_COLUMN_TIPS):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.table.setMinimumHeight(90)
        self.table.cellDoubleClicked.connect(lambda r, _c: self.activate(r))
        self.use_button = QPushButton("Show selected")
        self.use_button.setToolTip("Show the embedding selected in the table (or double-click it)")
        self.use_button.clicked.connect(lambda: self.activate(self.table.currentRow()))
        buttons = QHBoxLayout()
        buttons.addWidget(self.compare_button)
        buttons.addWidget(self.use_button)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        return box

    # -- what the window calls --------------------------------------------------------------
    def options(self) -> dict:
        """The chosen method's options as its job takes them (device included for
        learned methods)."""
        method = self.method_combo.currentData()
        options = parameter_values(self.option_widgets[method])
        if EMBEDDING_METHODS[method].needs == "torch":
            options["device"] = self.device_combo.currentData()
        return options

    def set_job_running(self, running: bool) -> None:
        """Switch between Compute and Cancel; a new run clears the loss curve."""
        if running and not self.running:
            self._loss_x.clear()
            self._loss_y.clear()
            self.loss_curve.setData([], [])
            self.progress_label.setText("Starting\u2026")
        self.running = running
        self._update_state()

    def show_progress(self, progress: Progress) -> None:
        """Show a training job's report: message, rates, ETA, and a point of the loss curve."""
        self.progress_label.setText(format_progress(progress))
        m = progress.metrics
        if progress.message.startswith("epoch") and np.isfinite(m.get("loss", np.nan)):
            self._loss_x.append(float(progress.step))
            self._loss_y.append(float(m["loss"]))
            self.loss_curve.setData(self._loss_x, self._loss_y)

    # -- comparison ------------------------------------------------------------------------
    def compare(self) -> None:
        """Fill the kNN-accuracy and shared-neighbour columns for every embedding."""
        catalogue, shown = self.session.catalogue, self.session.embedding
        label = self.label_combo.currentData()
        labels = np.asarray(catalogue.table[label]).astype(str) if catalogue and label else None
        for row, emb in enumerate(self.embeddings):
            knn, tip = "", ""
            if labels is not None:
                try:
                    accuracy, by_class = knn_label_scores(emb.vectors, labels)
                except ValueError as exc:
                    knn = "\u2013"
                    self.table.setToolTip(str(exc))
                else:
                    knn = f"{accuracy:.3f}"
                    tip = f"kNN accuracy within each {label}, worst first:\n" + "\n".join(
                        f"{name}: {value:.3f}" for name, value in
                        sorted(by_class.items(), key=lambda item: item[1]))
            shared = ""
            if shown is not None and shown.vectors.shape[0] == emb.vectors.shape[0]:
                shared = "1.000" if emb is shown else f"{shared_neighbours(emb.vectors, shown.vectors):.3f}"
            self._set_cell(row, _KNN, knn)
            self.table.item(row, _KNN).setToolTip(tip)
            self._set_cell(row, _SHARED, shared)

    def activate(self, row: int) -> None:
        """Ask the window to show embedding ``row`` of the table."""
        if 0 <= row < len(self.embeddings) and self.embeddings[row] is not self.session.embedding:
            self.activate_requested.emit(self.embeddings[row])

    # -- state ---------------------------------------------------------------------------------
    def _set_cell(self, row: int, column: int, text: str) -> None:
        item = QTableWidgetItem(text)
        if column:
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.table.setItem(row, column, item)

    def _add_row(self, emb: Embedding) -> None:
        cfg = emb.config
        losses = cfg.get("epoch_losses") or []
        label = EMBEDDING_METHODS[emb.method].label if emb.method in EMBEDDING_METHODS.names() \
            else emb.method
        row = self.table.rowCount()
        self.table.insertRow(row)
        # The short name fits a narrow dock; the label and options are in the tooltip.
        cells = (emb.method, str(emb.vectors.shape[1]), f"{losses[-1]:.4g}" if losses else "",
                 "", "")
        for column, text in enumerate(cells):
            self._set_cell(row, column, text)
        self.table.item(row, 0).setToolTip("\n".join([label] + [
            f"{k}: {v}" for k, v in cfg.items()
            if not isinstance(v, (list, dict)) and k not in ("from_cache",)]))

    def _mark_shown(self) -> None:
        shown = self.session.embedding
        for row, emb in enumerate(self.embeddings):
            font = self.table.item(row, 0).font()
            font.setBold(emb is shown)
            for column in range(self.table.columnCount()):
                item = self.table.item(row, column)
                if item is not None:
                    item.setFont(font)

    def _on_embedding_changed(self, embedding: Embedding) -> None:
        if embedding is not None and all(e is not embedding for e in self.embeddings):
            self.embeddings.append(embedding)
            self._add_row(embedding)
        self._mark_shown()
        self._update_state()

    def _on_catalogue_changed(self, catalogue: Catalogue) -> None:
        self.embeddings.clear()
        self.table.setRowCount(0)
        self.label_combo.clear()
        self.label_combo.addItem("(none)", "")
        for name in categorical_columns(catalogue):
            self.label_combo.addItem(name, name)
        # Pick the first method the catalogue has data for.
        current = self.method_combo.currentData()
        if not self._has_data(current):
            for i in range(self.method_combo.count()):
                if self._has_data(self.method_combo.itemData(i)):
                    self.method_combo.setCurrentIndex(i)
                    break
        self._update_state()

    def _has_data(self, method: str) -> bool:
        catalogue = self.session.catalogue
        if catalogue is None:
            return False
        return embedding_data(EMBEDDING_METHODS[method], catalogue) is not None

    def _on_method_changed(self, index: int) -> None:
        for i, page in enumerate(self._pages):
            page.setVisible(i == index)
        self._update_state()

    def _update_state(self) -> None:
        method = self.method_combo.currentData()
        entry = EMBEDDING_METHODS[method]
        catalogue = self.session.catalogue
        has_data = self._has_data(method)
        data = _MODALITY_DATA[entry.modality]
        self.description.setText(entry.description)
        self.device_combo.setEnabled(entry.needs == "torch")
        self.compute_button.setEnabled(has_data and not self.running)
        self.compute_button.setToolTip(
            "Compute the embedding (one computed before with the same data and options "
            "comes from the cache at once)" if has_data or catalogue is None
            else f"{catalogue.name} has no {data} to embed")
        self.cancel_button.setEnabled(self.running)
        if not self.running:
            if catalogue is None:
                self.progress_label.setText("Open a catalogue to start.")
            elif not has_data:
                self.progress_label.setText(f"This catalogue has no {data}.")
            elif self.session.embedding is None:
                self.progress_label.setText("No embedding yet.")
            else:
                emb = self.session.embedding
                source = " (from the cache)" if emb.config.get("from_cache") else ""
                self.progress_label.setText(
                    f"Shown: {emb.method} embedding, {emb.vectors.shape[0]:,} \u00d7 "
                    f"{emb.vectors.shape[1]}{source}.")
        self.compare_button.setEnabled(bool(self.embeddings))
        self.use_button.setEnabled(len(self.embeddings) > 1)

    def _request_compute(self) -> None:
        self.compute_requested.emit(self.method_combo.currentData(), self.options())

