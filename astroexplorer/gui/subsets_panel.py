"""Named subsets in a panel (colour, name, size, visibility, algebra), the Edit menu's
undo / redo of selection changes, and HDBSCAN clusters listed as subsets."""

from __future__ import annotations

import re

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QIcon, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QColorDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..analysis.clustering import ClusterResult, cluster_subsets, hdbscan_job
from ..core.catalogue import Catalogue, Embedding
from ..core.errors import UserError
from ..core.rowset import RowSet
from ..core.selection import Selection, SelectionMode
from ..core.session import Session
from .binding import connect_weakly
from .colours import CATEGORY_COLOURS, colour_scheme
from .jobs_panel import JobsPanel
from .scatter import mode_from_modifiers
from .widgets import status_label
from .workers import JobWorker

__all__ = ["SubsetsPanel", "ClustersGroup", "EditActions", "apply_clusters",
           "CLUSTER_COLUMN", "CLUSTER_JOB_KIND"]

#: Column holding the HDBSCAN cluster id of each row (-1: noise).
CLUSTER_COLUMN = "cluster_id"
#: Kind of the clustering job in the :class:`JobsPanel` (one at a time).
CLUSTER_JOB_KIND = "clusters"
#: Subsets made by :func:`apply_clusters` carry descriptions starting so; they are
#: the ones replaced by the next clustering.
_CLUSTER_TAG = "HDBSCAN"
_CLUSTER_NAME = re.compile(r"^(cluster \d+|noise)$")
_ERROR_STYLE = "color: #c0392b;"

# Columns of the subsets table.
_VISIBLE, _COLOUR, _NAME, _SIZE = range(4)


def _swatch(colour: str, size: int = 16) -> QIcon:
    """A square of ``colour`` with a grey edge (an icon, so a chosen row keeps it)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(colour))
    painter = QPainter(pixmap)
    painter.setPen(QColor("#555555"))
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.end()
    icon = QIcon(pixmap)
    icon.addPixmap(pixmap, QIcon.Mode.Selected)  # not tinted on a chosen row
    return icon


class SubsetsPanel(QWidget):
    """The Session's named subsets: one row each with a visibility check box, a
    colour swatch (click to choose), the name (double-click to edit) and the size;
    the description is the name's tooltip.

    Buttons make a subset of the selection, select the chosen subsets (Shift adds,
    Ctrl subtracts, Ctrl+Shift intersects, as on the map) and delete them. The
    expression line combines subsets (``spirals & ~"cluster 0"``, see
    :meth:`SubsetCollection.evaluate`) into the selection or a new subset; its
    errors are shown in red below it.
    """

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["", "", "Subset", "Objects"])
        self.table.horizontalHeaderItem(_VISIBLE).setToolTip("Shown in the views")
        self.table.horizontalHeaderItem(_COLOUR).setToolTip("Colour (click to change)")
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(_VISIBLE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(_COLOUR, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(_COLOUR, 28)
        header.setSectionResizeMode(_NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(_SIZE, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.cellClicked.connect(self._on_cell_clicked)
        self.table.itemSelectionChanged.connect(self._update_state)
        layout.addWidget(self.table, 1)

        buttons = QGridLayout()
        self.new_button = QPushButton("New from selection")
        self.new_button.setToolTip("Keep the selected objects as a named subset")
        self.new_button.clicked.connect(lambda: self.new_from_selection())
        self.select_button = QPushButton("Select")
        self.select_button.setToolTip("Select the objects of the chosen subsets (Shift adds, "
                                      "Ctrl subtracts, Ctrl+Shift intersects)")
        self.select_button.clicked.connect(
            lambda: self.select_subsets(mode=mode_from_modifiers(
                QApplication.keyboardModifiers())))
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete the chosen subsets (Edit > Undo brings them back)")
        self.delete_button.clicked.connect(lambda: self.delete_subsets())
        # Two rows, so that the panel fits a narrow dock.
        buttons.addWidget(self.new_button, 0, 0, 1, 2)
        buttons.addWidget(self.select_button, 1, 0)
        buttons.addWidget(self.delete_button, 1, 1)
        layout.addLayout(buttons)

        expression_box = QGroupBox("Combine subsets")
        form = QVBoxLayout(expression_box)
        self.expression_edit = QLineEdit()
        self.expression_edit.setPlaceholderText('e.g. spirals & ~"cluster 0"')
        self.expression_edit.setToolTip(
            "| union, & intersection, - difference, ^ either but not both, ~ all but; "
            "parentheses; quote names holding spaces or operators")
        self.expression_edit.returnPressed.connect(lambda: self.select_expression())
        self.expression_edit.textChanged.connect(lambda _text: self._show_error(""))
        form.addWidget(self.expression_edit)
        row = QHBoxLayout()
        self.expression_select_button = QPushButton("Select")
        self.expression_select_button.setToolTip("Select the objects the expression gives")
        self.expression_select_button.clicked.connect(lambda: self.select_expression())
        self.expression_save_button = QPushButton("Save as subset")
        self.expression_save_button.setToolTip("Keep the objects the expression gives as a "
                                               "new subset")
        self.expression_save_button.clicked.connect(lambda: self.save_expression())
        row.addWidget(self.expression_select_button)
        row.addWidget(self.expression_save_button)
        form.addLayout(row)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(_ERROR_STYLE)
        self.error_label.setVisible(False)
        form.addWidget(self.error_label)
        layout.addWidget(expression_box)

        connect_weakly(session.selection.subsets.changed, self, SubsetsPanel._on_subsets_changed)
        connect_weakly(session.selection.changed, self, SubsetsPanel._on_selection_changed)
        connect_weakly(session.catalogue_changed, self, SubsetsPanel._on_catalogue_changed)
        self.refresh()

    # -- reading ------------------------------------------------------------------------
    @property
    def selection(self) -> Selection:
        return self.session.selection

    def names(self) -> list[str]:
        """Subset names in the order listed."""
        return [self.table.item(r, _NAME).data(Qt.ItemDataRole.UserRole)
                for r in range(self.table.rowCount())]

    def chosen(self) -> list[str]:
        """Names of the subsets chosen (highlighted) in the list, in list order."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        names = self.names()
        return [names[r] for r in rows]

    def choose(self, names: list[str]) -> None:
        """Highlight the subsets ``names`` in the list (what the buttons act on)."""
        self.table.clearSelection()
        wanted = set(names)
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for r, name in enumerate(self.names()):
            if name in wanted:
                self.table.selectRow(r)
        self.table.setSelectionMode(mode)

    # -- actions ------------------------------------------------------------------------
    def new_from_selection(self, name: str | None = None) -> str | None:
        """Keep the selected rows as a subset named ``name`` (by default the first free
        of "subset 1", "subset 2"...); returns its name, or None if nothing is selected."""
        selection = self.selection
        if not len(selection.rows):
            self._show_error("Select some objects first.")
            return None
        subsets = selection.subsets
        if name is None:
            k = 1
            while f"subset {k}" in subsets:
                k += 1
            name = f"subset {k}"
        try:
            subsets.add(name, selection.rows, description=selection.description)
        except UserError as exc:
            self._show_error(str(exc))
            return None
        self.choose([name])
        return name

    def select_subsets(self, names: list[str] | None = None,
                       mode: SelectionMode = SelectionMode.REPLACE) -> RowSet | None:
        """Combine the rows of the subsets ``names`` (the chosen ones by default; their
        union) with the selection according to ``mode``; returns the new selection."""
        names = self.chosen() if names is None else names
        if not names:
            return None
        subsets = self.selection.subsets
        rows = RowSet()
        for name in names:
            rows = rows | subsets[name].rows
        self.selection.select(rows, mode, source=self, description=" | ".join(names))
        return self.selection.rows

    def delete_subsets(self, names: list[str] | None = None) -> None:
        """Delete the subsets ``names`` (the chosen ones by default), as one undo step."""
        names = self.chosen() if names is None else names
        if not names:
            return
        label = f"delete subset {names[0]!r}" if len(names) == 1 else f"delete {len(names)} subsets"
        with self.selection.history_group(label):
            for name in names:
                self.selection.subsets.remove(name)

    def rename(self, name: str, new_name: str) -> bool:
        """Rename a subset; on a bad name, say why in red and keep the old one."""
        try:
            self.selection.subsets.update(name, new_name=new_name)
        except UserError as exc:
            self._show_error(str(exc))
            self.refresh()
            return False
        self._show_error("")
        return True

    def set_visible(self, name: str, visible: bool) -> None:
        """Show or hide a subset in the views."""
        self.selection.subsets.update(name, visible=visible)

    def set_colour(self, name: str, colour: str) -> None:
        """Give a subset the colour ``#rrggbb``."""
        try:
            self.selection.subsets.update(name, colour=colour)
        except UserError as exc:
            self._show_error(str(exc))

    def choose_colour(self, name: str) -> bool:
        """Ask for a subset's colour with a colour dialog; False if cancelled."""
        current = QColor(self.selection.subsets[name].colour)
        colour = QColorDialog.getColor(current, self, f"Colour of {name}")
        if not colour.isValid():
            return False
        self.set_colour(name, colour.name())
        return True

    def evaluate(self, expression: str | None = None) -> RowSet | None:
        """The rows of the expression (the line's by default), or None with the error
        shown in red under it."""
        text = self.expression_edit.text() if expression is None else expression
        try:
            rows = self.selection.subsets.evaluate(text)
        except UserError as exc:
            self._show_error(str(exc))
            return None
        self._show_error("")
        return rows

    def select_expression(self, expression: str | None = None,
                          mode: SelectionMode = SelectionMode.REPLACE) -> RowSet | None:
        """Select the rows of the expression; returns them, or None on an error."""
        rows = self.evaluate(expression)
        if rows is None:
            return None
        text = (self.expression_edit.text() if expression is None else expression).strip()
        self.selection.select(rows, mode, source=self, description=text)
        return rows

    def save_expression(self, expression: str | None = None,
                        name: str | None = None) -> str | None:
        """Keep the rows of the expression as a new subset (named "subset N" unless
        ``name`` is given, described by the expression); returns its name or None."""
        rows = self.evaluate(expression)
        if rows is None:
            return None
        text = (self.expression_edit.text() if expression is None else expression).strip()
        subsets = self.selection.subsets
        if name is None:
            k = 1
            while f"subset {k}" in subsets:
                k += 1
            name = f"subset {k}"
        try:
            subsets.add(name, rows, description=f"= {text}")
        except UserError as exc:
            self._show_error(str(exc))
            return None
        self.choose([name])
        return name

    # -- view -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Show the Session's subsets, keeping the chosen ones. Existing cells are
        updated in place (never replaced while Qt may still hold the edited one)."""
        chosen = set(self.chosen()) if self.table.rowCount() else set()
        subsets = list(self.selection.subsets)
        grey = QBrush(QColor("#888888"))
        with QSignalBlocker(self.table):
            self.table.setRowCount(len(subsets))
            for r, subset in enumerate(subsets):
                check, swatch, name, size = (self._cell(r, c) for c in range(4))
                tip = subset.description or subset.name
                check.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled
                               | Qt.ItemFlag.ItemIsSelectable)
                check.setCheckState(Qt.CheckState.Checked if subset.visible
                                    else Qt.CheckState.Unchecked)
                check.setToolTip("Shown" if subset.visible else "Hidden")
                swatch.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                if swatch.data(Qt.ItemDataRole.UserRole) != subset.colour:
                    swatch.setIcon(_swatch(subset.colour))
                    swatch.setData(Qt.ItemDataRole.UserRole, subset.colour)
                swatch.setToolTip(f"{subset.colour} (click to change)")
                name.setText(subset.name)
                name.setData(Qt.ItemDataRole.UserRole, subset.name)
                name.setToolTip(tip)
                name.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsEditable)
                name.setData(Qt.ItemDataRole.ForegroundRole, None if subset.visible else grey)
                size.setText(f"{len(subset.rows):,}")
                size.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                size.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                size.setToolTip(tip)
        self.choose([s.name for s in subsets if s.name in chosen])
        self._update_state()

    def _cell(self, row: int, column: int) -> QTableWidgetItem:
        item = self.table.item(row, column)
        if item is None:
            item = QTableWidgetItem()
            self.table.setItem(row, column, item)
        return item

    def _update_state(self) -> None:
        has_catalogue = self.session.catalogue is not None
        has_chosen = bool(self.table.selectionModel().selectedRows())
        self.new_button.setEnabled(has_catalogue and len(self.selection.rows) > 0)
        self.select_button.setEnabled(has_chosen)
        self.delete_button.setEnabled(has_chosen)
        has_subsets = len(self.selection.subsets) > 0
        for widget in (self.expression_edit, self.expression_select_button,
                       self.expression_save_button):
            widget.setEnabled(has_subsets)

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        name = self.table.item(item.row(), _NAME).data(Qt.ItemDataRole.UserRole)
        if item.column() == _NAME and item.text() != name:
            self.rename(name, item.text())
        elif item.column() == _VISIBLE:
            self.set_visible(name, item.checkState() == Qt.CheckState.Checked)

    def _on_cell_clicked(self, row: int, column: int) -> None:
        if column == _COLOUR:
            self.choose_colour(self.names()[row])

    def _on_subsets_changed(self, _name: str | None) -> None:
        self.refresh()

    def _on_selection_changed(self, *_args: object) -> None:
        self._update_state()

    def _on_catalogue_changed(self, _catalogue: Catalogue) -> None:
        self._show_error("")
        self.expression_edit.clear()
        self.refresh()


class EditActions:
    """The Edit menu's "Undo selection" (Ctrl+Z) and "Redo selection" (Ctrl+Shift+Z,
    Ctrl+Y) over a :class:`Selection`, enabled from ``can_undo`` / ``can_redo``, their
    text naming the step (e.g. "Undo delete subset 'spirals'")."""

    def __init__(self, selection: Selection, parent: QWidget) -> None:
        self.selection = selection
        self.undo_action = QAction("&Undo selection", parent)
        self.undo_action.setShortcuts([QKeySequence("Ctrl+Z")])
        self.undo_action.triggered.connect(lambda: self.selection.undo())
        self.redo_action = QAction("&Redo selection", parent)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo_action.triggered.connect(lambda: self.selection.redo())
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        connect_weakly(selection.history_changed, self.undo_action,
                       lambda _action, *_args: self.update())
        self.update()

    def update(self) -> None:
        """Enable the actions and name their steps from the selection's history."""
        selection = self.selection
        self.undo_action.setEnabled(selection.can_undo)
        self.redo_action.setEnabled(selection.can_redo)
        undo, redo = selection.undo_label(), selection.redo_label()
        self.undo_action.setText(f"&Undo {undo}" if undo else "&Undo selection")
        self.redo_action.setText(f"&Redo {redo}" if redo else "&Redo selection")


def apply_clusters(session: Session, labels: np.ndarray, description: str,
                   meta: dict | None = None) -> list[str]:
    """Add the cluster ids as the :data:`CLUSTER_COLUMN` column and list the clusters
    as subsets ("cluster 0", ... and "noise", hidden), replacing the subsets of an
    earlier clustering; one undo step for the subsets. Cluster subsets take the
    colours the map gives their ids when coloured by the column.

    Parameters
    ----------
    labels : ndarray, shape (N,) int
        Cluster id of each catalogue row, -1 for noise.
    description : str
        How the clusters were made (the column's description).

    Returns
    -------
    list of str
        The subset names, largest cluster first, "noise" last.
    """
    labels = np.asarray(labels, dtype=np.int32)
    session.add_column(CLUSTER_COLUMN, labels, description=description, meta=meta)
    scheme = colour_scheme(labels)
    groups = cluster_subsets(labels)
    selection = session.selection
    subsets = selection.subsets
    with selection.history_group("HDBSCAN clusters"):
        for subset in subsets:
            if subset.description.startswith(_CLUSTER_TAG) and _CLUSTER_NAME.match(subset.name):
                subsets.remove(subset.name)
        for name, rows in groups.items():
            brush = scheme.brushes[scheme.index[rows[0]]]
            colour = brush.color().name()
            in_palette = colour.lower() in {c.lower() for c in CATEGORY_COLOURS}
            what = ("objects HDBSCAN left out of every cluster" if name == "noise"
                    else f"{name} of the cluster_id column")
            subsets.add(name, RowSet(rows), colour=colour if in_palette else None,
                        description=f"{_CLUSTER_TAG}: {what} ({rows.size} objects)",
                        replace=True)
            if name == "noise":
                subsets.update(name, visible=False)
    return list(groups)


class ClustersGroup(QGroupBox):
    """"Clusters (HDBSCAN)" in the Discovery panel: a minimum cluster size and Run,
    clustering the Session's embedding as a job through ``jobs_panel``; the result
    becomes the :data:`CLUSTER_COLUMN` column and one subset per cluster
    (:func:`apply_clusters`).

    Signals
    -------
    clusters_ready(column: str)
        The column was added and the subsets made; the map should be coloured by it.
    """

    clusters_ready = Signal(str)

    def __init__(self, session: Session, jobs_panel: JobsPanel,
                 parent: QWidget | None = None) -> None:
        super().__init__("Clusters (HDBSCAN)", parent)
        self.session = session
        self.jobs_panel = jobs_panel
        form = QFormLayout(self)
        self.size_spin = QSpinBox(minimum=2, maximum=1_000_000, value=15)
        self.size_spin.setToolTip("Smallest group of objects called a cluster")
        self.run_button = QPushButton("Find clusters")
        self.run_button.setToolTip("Cluster the embedding with HDBSCAN into a cluster_id "
                                   "column, listed as subsets")
        self.run_button.clicked.connect(lambda: self.compute_clusters())
        self.label = status_label()
        form.addRow("Min size", self.size_spin)
        form.addRow(self.run_button)
        form.addRow(self.label)
        connect_weakly(session.catalogue_changed, self, ClustersGroup._on_catalogue_changed)
        connect_weakly(session.embedding_changed, self, ClustersGroup._update_state)
        self._update_state()

    def compute_clusters(self, min_cluster_size: int | None = None) -> JobWorker | None:
        """Start clustering the embedding; returns the worker, or None without an
        embedding or while a clustering runs."""
        session = self.session
        catalogue, embedding = session.catalogue, session.embedding
        if catalogue is None or embedding is None:
            return None
        size = int(min_cluster_size if min_cluster_size is not None else self.size_spin.value())
        vectors = embedding.vectors

        def apply(result: ClusterResult) -> None:
            if session.catalogue is not catalogue or session.embedding is not embedding:
                self.label.setText("Clusters dropped: the embedding changed.")
                return
            self._apply(result, embedding)

        worker = self.jobs_panel.start(CLUSTER_JOB_KIND, "HDBSCAN clusters",
                                       lambda: hdbscan_job(vectors, min_cluster_size=size),
                                       apply)
        if worker is not None:
            worker.done.connect(self._update_state)
            self.label.setText("Clustering\u2026")
        self._update_state()
        return worker

    def _apply(self, result: ClusterResult, embedding: Embedding) -> None:
        config = result.config
        how = [f"min cluster size {config['min_cluster_size']}"]
        if config.get("reduced"):
            how.append(config["reduced"])
        if config.get("subsample"):
            how.append(config["subsample"])
        description = (f"HDBSCAN cluster id in the {embedding.method} embedding "
                       f"({'; '.join(how)}); -1 = noise")
        apply_clusters(self.session, result.labels, description,
                       meta={**config, "embedding": embedding.method})
        self.label.setText(f"{result.n_clusters} clusters, {result.n_noise:,} noise objects "
                           "(listed in Subsets).")
        self._update_state()
        self.clusters_ready.emit(CLUSTER_COLUMN)

    def _update_state(self, *_args: object) -> None:
        session = self.session
        has_embedding = session.catalogue is not None and session.embedding is not None
        self.run_button.setEnabled(has_embedding
                                   and not self.jobs_panel.is_running(CLUSTER_JOB_KIND))

    def _on_catalogue_changed(self, _catalogue: Catalogue) -> None:
        self.label.setText("")
        self._update_state()
