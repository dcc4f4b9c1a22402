"""Analysis controls: projection (the map), view and colour. Embeddings have their own
panel (:mod:`.embeddings_panel`)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..analysis import PROJECTION_METHODS
from ..analysis.projection import PROJECTION_PARAMETERS
from ..core.catalogue import Catalogue
from ..core.session import Session
from .binding import connect_weakly
from .colours import colour_by_candidates
from .parameters import parameter_form, parameter_values
from .widgets import make_combo, registry_combo, status_label

__all__ = ["AnalysisPanel"]


class AnalysisPanel(QWidget):
    """Choose and run a projection; choose axes and colours.

    Signals
    -------
    project_requested(method: str, options: dict)
    colour_by_changed(column: str)
        ``""`` for a single colour.
    size_by_changed(column: str)
        ``""`` for one point size.
    axes_changed(x: str, y: str)
        Columns to plot (``""`` is the row index); the map is hidden meanwhile.
    show_projection_changed(show: bool)
    """

    project_requested = Signal(str, dict)
    colour_by_changed = Signal(str)
    size_by_changed = Signal(str)
    axes_changed = Signal(str, str)
    show_projection_changed = Signal(bool)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._running: set[str] = set()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self._projection_group())
        layout.addWidget(self._view_group())
        layout.addStretch(1)
        connect_weakly(session.catalogue_changed, self, AnalysisPanel._on_catalogue_changed)
        connect_weakly(session.embedding_changed, self, AnalysisPanel._on_embedding_changed)
        connect_weakly(session.projection_changed, self, AnalysisPanel._on_projection_changed)
        connect_weakly(session.column_added, self, AnalysisPanel._on_column_added)
        self._update_state()

    # -- construction -----------------------------------------------------------------
    def _projection_group(self) -> QGroupBox:
        box = QGroupBox("Map")
        form = QFormLayout(box)
        self.projection_combo = registry_combo(PROJECTION_METHODS,
                                               "How to draw the embedding in two dimensions")
        self.project_button = QPushButton("Project")
        self.project_button.clicked.connect(self._request_project)
        self.projection_label = status_label()
        # One page of parameters per method, shown for the chosen one.
        self.parameter_pages = QStackedWidget()
        self.parameter_widgets: dict[str, dict[str, QWidget]] = {}
        for i in range(self.projection_combo.count()):
            method = self.projection_combo.itemData(i)
            page, widgets = parameter_form(PROJECTION_PARAMETERS.get(method, {}))
            self.parameter_pages.addWidget(page)
            self.parameter_widgets[method] = widgets
        self.projection_combo.currentIndexChanged.connect(self.parameter_pages.setCurrentIndex)
        form.addRow("Method", self.projection_combo)
        form.addRow(self.parameter_pages)
        form.addRow(self.project_button)
        form.addRow(self.projection_label)
        return box

    def projection_options(self) -> dict:
        """The chosen projection method's parameters, as its job takes them."""
        return parameter_values(self.parameter_widgets.get(self.projection_combo.currentData(), {}))

    def _view_group(self) -> QGroupBox:
        box = QGroupBox("View")
        form = QFormLayout(box)
        self.plot_combo = make_combo("Plot the map (projection) or two catalogue columns")
        self.plot_combo.addItem("Map", True)
        self.plot_combo.addItem("Columns", False)
        self.plot_combo.currentIndexChanged.connect(self._on_plot_kind_changed)
        self.x_combo = make_combo("Column on the horizontal axis")
        self.y_combo = make_combo("Column on the vertical axis")
        self.x_combo.activated.connect(lambda _i: self._emit_axes())
        self.y_combo.activated.connect(lambda _i: self._emit_axes())
        self.colour_combo = make_combo("Colour the points by a column")
        self.colour_combo.currentIndexChanged.connect(
            lambda _i: self.colour_by_changed.emit(self.colour_combo.currentData() or ""))
        form.addRow("Plot", self.plot_combo)
        form.addRow("X", self.x_combo)
        form.addRow("Y", self.y_combo)
        form.addRow("Colour", self.colour_combo)
        self.size_combo = make_combo("Size the points by a numeric column (2-12 px)")
        self.size_combo.currentIndexChanged.connect(
            lambda _i: self.size_by_changed.emit(self.size_combo.currentData() or ""))
        form.addRow("Size", self.size_combo)
        return box

    # -- state ------------------------------------------------------------------------
    def set_job_running(self, kind: str, running: bool) -> None:
        """Disable a button while its job (``"projection"``) runs."""
        (self._running.add if running else self._running.discard)(kind)
        self._update_state()

    def set_axes(self, x_column: str, y_column: str) -> None:
        """Show ``x_column`` / ``y_column`` in the axis combos (without emitting)."""
        for combo, name in ((self.x_combo, x_column), (self.y_combo, y_column)):
            i = combo.findData(name)
            combo.setCurrentIndex(max(i, 0))

    def set_colour_by(self, column: str) -> None:
        """Choose the colour column (emits :attr:`colour_by_changed`)."""
        i = self.colour_combo.findData(column)
        if i < 0:
            raise KeyError(f"{column!r} is not offered for colouring")
        self.colour_combo.setCurrentIndex(i)

    def _on_embedding_changed(self, _embedding: object) -> None:
        self._update_state()

    def _on_projection_changed(self, _projection: object) -> None:
        # A new map is shown at once (the scatter panel switches to it too).
        self.plot_combo.blockSignals(True)
        self.plot_combo.setCurrentIndex(0)
        self.plot_combo.blockSignals(False)
        self._update_state()

    def _on_column_added(self, name: str) -> None:
        # A derived column (a score, a prediction) can be plotted and coloured by.
        catalogue = self.session.catalogue
        if catalogue is None or name not in colour_by_candidates(catalogue):
            return
        combos = [self.colour_combo]
        if name in catalogue.numeric_columns():
            combos += [self.x_combo, self.y_combo, self.size_combo]
        for combo in combos:
            if combo.findData(name) < 0:
                combo.blockSignals(True)
                combo.addItem(name, name)
                combo.blockSignals(False)
        description = catalogue.table[name].description
        if description:
            self.colour_combo.setItemData(self.colour_combo.findData(name), str(description),
                                          Qt.ItemDataRole.ToolTipRole)

    def _on_catalogue_changed(self, catalogue: Catalogue) -> None:
        from .scatter import default_axis_columns

        numeric = catalogue.numeric_columns()
        for combo in (self.x_combo, self.y_combo):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("(row index)", "")
            for name in numeric:
                combo.addItem(name, name)
            combo.blockSignals(False)
        self.set_axes(*default_axis_columns(catalogue))
        self.colour_combo.blockSignals(True)
        self.colour_combo.clear()
        self.colour_combo.addItem("(single colour)", "")
        for name in colour_by_candidates(catalogue):
            self.colour_combo.addItem(name, name)
            description = catalogue.table[name].description
            if description:
                self.colour_combo.setItemData(self.colour_combo.count() - 1, str(description),
                                              Qt.ItemDataRole.ToolTipRole)
        self.colour_combo.setCurrentIndex(0)
        self.colour_combo.blockSignals(False)
        self.size_combo.blockSignals(True)
        self.size_combo.clear()
        self.size_combo.addItem("(fixed size)", "")
        for name in numeric:
            self.size_combo.addItem(name, name)
        self.size_combo.blockSignals(False)
        self.plot_combo.blockSignals(True)
        self.plot_combo.setCurrentIndex(0)
        self.plot_combo.blockSignals(False)
        self._update_state()

    def _update_state(self) -> None:
        session = self.session
        catalogue = session.catalogue
        self.project_button.setEnabled(session.embedding is not None
                                       and "projection" not in self._running)
        projection = session.projection
        if projection is not None:
            label = PROJECTION_METHODS[projection.method].label \
                if projection.method in PROJECTION_METHODS.names() else projection.method
            trust = projection.config.get("trustworthiness")
            text = f"{label} map shown."
            if trust is not None:
                text += f" Trustworthiness {trust:.2f}" + (
                    " (neighbours in the map are often not neighbours in the embedding)"
                    if trust < 0.9 else ".")
            self.projection_label.setText(text)
            self.projection_label.setToolTip(
                "Trustworthiness (0-1) measures whether objects near each other in the map "
                "are near each other in the embedding (10 neighbours, on a sample of "
                f"{projection.config.get('trustworthiness_sample', '?')} objects).")
        else:
            self.projection_label.setText(
                "Compute an embedding first." if session.embedding is None else "No map yet.")
        self.plot_combo.setEnabled(projection is not None)
        columns = projection is None or not self.plot_combo.currentData()
        self.x_combo.setEnabled(catalogue is not None and columns)
        self.y_combo.setEnabled(catalogue is not None and columns)
        self.colour_combo.setEnabled(catalogue is not None)
        self.size_combo.setEnabled(catalogue is not None)

    def _request_project(self) -> None:
        self.project_requested.emit(self.projection_combo.currentData(),
                                    self.projection_options())

    def _on_plot_kind_changed(self, _index: int) -> None:
        show = bool(self.plot_combo.currentData())
        self._update_state()
        if show:
            self.show_projection_changed.emit(True)
        else:
            self._emit_axes()

    def _emit_axes(self) -> None:
        if self.session.projection is not None and self.plot_combo.currentData():
            self.plot_combo.setCurrentIndex(1)  # emits the axes through _on_plot_kind_changed
            return
        self.axes_changed.emit(self.x_combo.currentData() or "", self.y_combo.currentData() or "")
