"""The catalogue as a virtual table view, linked to the Session's selection."""

from __future__ import annotations

import numpy as np
from astropy.table import Table
from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..core.catalogue import Catalogue
from ..core.errors import UserError
from ..core.expr import parse_rows
from ..core.rowset import RowSet
from ..core.selection import SelectionMode
from ..core.session import Session
from .binding import connect_weakly

__all__ = ["CatalogueTableModel", "TablePanel", "format_value", "column_header",
           "column_float_format"]

_Index = QModelIndex | QPersistentModelIndex
#: Background of the rows in the Session's selection.
_SELECTED_BRUSH = QBrush(QColor(176, 208, 255))
#: Longest filter error shown under the filter line (the tooltip has all of it).
_ERROR_CHARS = 160


def column_header(table: Table, name: str) -> str:
    """A column's header: its name, with its unit in brackets (``ra [deg]``)."""
    unit = table[name].unit
    text = str(unit) if unit is not None else ""
    return f"{name} [{text}]" if text else name


def format_value(value: object) -> str:
    """A cell's text: compact numbers, short summaries of array values."""
    if isinstance(value, np.ma.core.MaskedConstant) or value is np.ma.masked:
        return "\u2014"
    if isinstance(value, np.ndarray):
        return _summarise_array(value)
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _format_float(float(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _format_float(value: float) -> str:
    if not np.isfinite(value):
        return "nan" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude >= 1e6 or magnitude < 1e-3):
        return f"{value:.4e}"
    # Up to 7 significant digits: enough for coordinates in degrees (~0.4").
    return f"{value:.7g}" if magnitude >= 1 else f"{value:.5g}"


def column_float_format(values: np.ndarray, col_format: str | None = None) -> str | None:
    """A format spec shared by a float column, so that its decimals line up: about
    7 significant digits at the column's typical size (``.4f`` for RA in degrees);
    an exponent for very large or small values; the column's own ``format`` if set.
    Returns None for non-float columns."""
    if values.dtype.kind != "f" or values.ndim != 1:
        return None
    if col_format and not col_format.startswith("{"):
        spec = col_format.lstrip("%")
        try:
            format(1.5, spec)
            return spec
        except ValueError:
            pass
    sample = np.ma.filled(np.ma.asarray(values[:10_000], dtype=np.float64), np.nan)
    sample = np.abs(sample[np.isfinite(sample)])
    if not sample.size or not sample.any():
        return ".4g"
    typical = float(np.percentile(sample[sample > 0], 90))
    if typical >= 1e6 or typical < 1e-3:
        return ".4e"
    return f".{int(np.clip(6 - np.floor(np.log10(typical)), 0, 8))}f"


def _summarise_array(value: np.ndarray) -> str:
    flat = value.ravel()
    shape = "\u00d7".join(str(s) for s in value.shape)
    if flat.size == 0:
        return f"[{shape}]"
    head = ", ".join(format_value(v) for v in flat[:3])
    more = ", \u2026" if flat.size > 3 else ""
    return f"[{shape}] {head}{more}"


class CatalogueTableModel(QAbstractTableModel):
    """A read-only, virtual model over an astropy Table.

    No per-row Python objects are made: cells are formatted when the view asks.
    Sorting keeps a permutation (computed with numpy) and filtering a boolean
    mask; together they give ``order`` (view row -> catalogue row, int64: the
    sorted rows that pass the filter), so views of large catalogues sort and
    filter in a fraction of a second (1M rows: see ``TablePanel``).
    """

    def __init__(self, catalogue: Catalogue | None = None, parent=None) -> None:
        super().__init__(parent)
        self._table: Table | None = None
        self._columns: list[np.ndarray] = []
        self._headers: list[str] = []
        self._tooltips: list[str] = []
        self._numeric: list[bool] = []
        self._formats: list[str | None] = []
        self._order: np.ndarray | None = None
        self._inverse: np.ndarray | None = None
        self._sort_order: np.ndarray | None = None
        self._mask: np.ndarray | None = None
        self._selected: np.ndarray | None = None
        self.set_catalogue(catalogue)

    # -- content ------------------------------------------------------------------
    def set_catalogue(self, catalogue: Catalogue | None) -> None:
        """Show ``catalogue`` (or nothing), in its own row order."""
        self.beginResetModel()
        self._table = catalogue.table if catalogue is not None else None
        self._read_columns()
        self._sort_order = None
        self._mask = None
        self._selected = None
        self._rebuild_index()
        self.endResetModel()

    def refresh_columns(self) -> None:
        """Re-read the table's columns (one was added or replaced); keeps the sort."""
        self.beginResetModel()
        self._read_columns()
        self.endResetModel()

    def _read_columns(self) -> None:
        table = self._table
        self._columns, self._headers, self._tooltips, self._numeric = [], [], [], []
        self._formats = []
        if table is not None:
            for name in table.colnames:
                col = table[name]
                # A plain ndarray view (masked columns keep their mask) for fast access.
                self._columns.append(col if isinstance(col, np.ma.MaskedArray) else np.asarray(col))
                self._headers.append(column_header(table, name))
                self._tooltips.append(str(col.description or name))
                self._numeric.append(col.dtype.kind in "iuf" and col.ndim == 1)
                self._formats.append(column_float_format(self._columns[-1], col.format))

    # -- selection, shown as a background colour (any size, no Qt selection ranges) --
    def set_selected(self, rows: np.ndarray) -> None:
        """Highlight catalogue ``rows`` (sorted int64), e.g. the Session's selection."""
        n = 0 if self._table is None else len(self._table)
        mask = None
        if rows.size:
            mask = np.zeros(n, dtype=bool)
            mask[rows] = True
        self._selected = mask
        if self.rowCount() and self.columnCount():
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self.rowCount() - 1, self.columnCount() - 1),
                                  [Qt.ItemDataRole.BackgroundRole])

    @property
    def selected_mask(self) -> np.ndarray | None:
        """(N,) bool over catalogue rows: highlighted rows (None: none)."""
        return self._selected

    @property
    def order(self) -> np.ndarray | None:
        """View row -> catalogue row, shape (n_shown,), or None when every row is
        shown in catalogue order."""
        return self._order

    @property
    def filter_mask(self) -> np.ndarray | None:
        """Rows passing the filter, bool shape (N,), or None when not filtered."""
        return self._mask

    @property
    def n_total(self) -> int:
        """Number of rows of the catalogue."""
        return 0 if self._table is None else len(self._table)

    def catalogue_rows(self, view_rows: np.ndarray) -> np.ndarray:
        """Catalogue rows shown at ``view_rows``."""
        view_rows = np.asarray(view_rows, dtype=np.int64)
        return view_rows if self._order is None else self._order[view_rows]

    def view_rows(self, catalogue_rows: np.ndarray) -> np.ndarray:
        """View rows showing ``catalogue_rows``; -1 for rows hidden by the filter."""
        catalogue_rows = np.asarray(catalogue_rows, dtype=np.int64)
        return catalogue_rows if self._inverse is None else self._inverse[catalogue_rows]

    def set_filter(self, mask: np.ndarray | None) -> None:
        """Show only the rows where ``mask`` (bool, shape (N,)) is true; None shows all.

        Keeps the sort. Resets the model (the number of rows changes).
        """
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != (self.n_total,):
                raise ValueError(f"a filter mask needs shape ({self.n_total},), not {mask.shape}")
        self.beginResetModel()
        self._mask = mask
        self._rebuild_index()
        self.endResetModel()

    def _rebuild_index(self) -> None:
        """``order`` and its inverse from the sort permutation and the filter mask."""
        sort_order, mask = self._sort_order, self._mask
        if mask is None:
            self._order = sort_order
        elif sort_order is None:
            self._order = np.flatnonzero(mask).astype(np.int64)
        else:
            self._order = sort_order[mask[sort_order]]
        if self._order is None:
            self._inverse = None
        else:
            self._inverse = np.full(self.n_total, -1, dtype=np.int64)
            self._inverse[self._order] = np.arange(self._order.size)

    # -- Qt model interface -------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        if parent.isValid() or self._table is None:
            return 0
        return len(self._table) if self._order is None else int(self._order.size)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            row = int(self.catalogue_rows(np.array([index.row()]))[0])
            value = self._columns[index.column()][row]
            spec = self._formats[index.column()]
            if spec is not None and not np.ma.is_masked(value) and np.isfinite(value):
                return format(float(value), spec)
            return format_value(value)
        if role == Qt.ItemDataRole.BackgroundRole:
            if self._selected is None:
                return None
            row = int(self.catalogue_rows(np.array([index.row()]))[0])
            return _SELECTED_BRUSH if self._selected[row] else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if self._numeric[index.column()]:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return self._headers[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return self._tooltips[section]
        elif role == Qt.ItemDataRole.DisplayRole:
            # Row numbers are catalogue rows, so they stay with the object when sorted.
            return str(int(self.catalogue_rows(np.array([section]))[0]))
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column with numpy (stable; masked and NaN values last)."""
        if self._table is None or not 0 <= column < len(self._columns):
            return
        values = self._columns[column]
        if values.ndim != 1:
            return
        self.layoutAboutToBeChanged.emit()
        keys = np.ma.filled(values, np.nan) if values.dtype.kind == "f" else np.ma.getdata(values)
        order_ = np.argsort(keys, kind="stable")
        if order == Qt.SortOrder.DescendingOrder:
            order_ = order_[::-1].copy()
        self._sort_order = order_.astype(np.int64)
        self._rebuild_index()
        self.layoutChanged.emit()


class TablePanel(QWidget):
    """The catalogue table; row selection is the Session's selection.

    Selecting rows here selects them in the Session (``source=self``); a change
    made elsewhere selects the rows here and scrolls to the focused (or first)
    selected row. Changes this panel made itself are ignored.

    A filter line above the table (Enter applies it) shows only the rows matching
    an expression over columns (``gmag < 20 & label == "spiral"``; see
    :func:`~astroexplorer.core.expr.parse_rows`; units are ignored) or an index
    list. Errors are shown in red under it and leave the table as it was. Rows
    hidden by the filter stay selected in the Session while rows are picked among
    the shown ones. "Select matching" makes the matching rows the selection.
    Measured on 1,000,000 rows: a filter such as ``gmag < 20 & label == "spiral"``
    takes about 40 ms, a sort by a float column about 0.3 s (2-core machine).
    """

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.model = CatalogueTableModel(session.catalogue, self)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.horizontalHeader().setSortIndicatorShown(True)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setDefaultSectionSize(96)
        # Fit columns to the first 200 rows, not Qt's 1000 (a third of a second at open).
        self.view.horizontalHeader().setResizeContentsPrecision(200)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 6)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        # Sorting by clicking a header is the model's own numpy sort. Start unsorted:
        # enabling sorting sorts at once by the indicator's column.
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("filter: gmag < 20 & label == 'spiral'  (Enter)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setToolTip(
            "Show only rows matching an expression over columns: comparisons, "
            "& | ~, arithmetic, abs log10 sqrt isnan...; or row numbers such as "
            "0,3,10-20. Press Enter to apply; clear to show all rows.")
        self.select_matching_button = QPushButton("Select matching")
        self.select_matching_button.setToolTip("Make the rows matching the filter the selection")
        self.select_matching_button.setEnabled(False)
        self.count_label = QLabel()
        self.count_label.setStyleSheet("color: #555;")
        self.filter_error_label = QLabel()
        self.filter_error_label.setStyleSheet("color: #c00000;")
        self.filter_error_label.setWordWrap(True)
        self.filter_error_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.filter_error_label.hide()
        bar = QHBoxLayout()
        bar.setContentsMargins(2, 2, 2, 0)
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.select_matching_button)
        bar.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.filter_error_label)
        layout.addWidget(self.view)
        self._updating = False
        self._filter_text = ""
        self._filter_error = ""
        self.filter_edit.returnPressed.connect(self._on_filter_entered)
        self.filter_edit.textChanged.connect(self._on_filter_text_changed)
        self.select_matching_button.clicked.connect(self.select_matching)
        self._update_count()
        self._connect_selection_model()
        self.model.layoutAboutToBeChanged.connect(self._on_about_to_sort)
        self.model.layoutChanged.connect(self._on_sorted)
        connect_weakly(session.catalogue_changed, self, TablePanel._on_catalogue_changed)
        connect_weakly(session.selection.changed, self, TablePanel._on_selection_changed)
        connect_weakly(session.selection.focus_changed, self, TablePanel._on_focus_changed)
        connect_weakly(session.column_added, self, TablePanel._on_column_added)

    # -- filter -----------------------------------------------------------------------
    @property
    def filter_text(self) -> str:
        """The filter applied now ("" when every row is shown)."""
        return self._filter_text

    @property
    def filter_error(self) -> str:
        """The error of the last filter typed, or "" when it applied."""
        return self._filter_error

    def apply_filter(self, text: str) -> bool:
        """Show only the rows matching ``text``; "" shows all rows.

        Returns False, showing the error under the filter line and leaving the
        table as it was, when the expression is not valid.
        """
        catalogue = self.session.catalogue
        text = text.strip()
        mask = None
        if text and catalogue is not None:
            try:
                mask = parse_rows(text, catalogue.table).to_mask(len(catalogue))
            except UserError as exc:
                self._show_filter_error(str(exc))
                return False
        self._show_filter_error("")
        self._filter_text = text if mask is not None else ""
        if self.filter_edit.text().strip() != text:
            self.filter_edit.blockSignals(True)
            self.filter_edit.setText(text)
            self.filter_edit.blockSignals(False)
        self._updating = True
        try:
            self.model.set_filter(mask)
            self._restore_selection_and_focus()
        finally:
            self._updating = False
        self._update_count()
        focus = self.session.selection.focus
        if focus is not None:
            self._scroll_to(focus)
        return True

    def _show_filter_error(self, message: str) -> None:
        """Show ``message`` in red under the filter line (shortened to two or three
        lines, all of it in the tooltip); "" hides it."""
        self._filter_error = message
        short = message if len(message) <= _ERROR_CHARS else message[:_ERROR_CHARS - 1] + "\u2026"
        self.filter_error_label.setText(short)
        self.filter_error_label.setToolTip(message)
        self.filter_error_label.setVisible(bool(message))

    def select_matching(self) -> None:
        """Replace the Session's selection with the rows matching the filter (applying
        the text typed first, if it changed)."""
        typed = self.filter_edit.text().strip()
        if typed != self._filter_text and not self.apply_filter(typed):
            return
        mask = self.model.filter_mask
        if mask is None or self.session.catalogue is None:
            return
        self.session.selection.select(RowSet.from_mask(mask), SelectionMode.REPLACE,
                                      source="table filter",
                                      description=f"rows matching {self._filter_text}")

    def _on_filter_entered(self) -> None:
        self.apply_filter(self.filter_edit.text())

    def _on_filter_text_changed(self, text: str) -> None:
        if not text.strip() and (self._filter_text or self.filter_error):
            self.apply_filter("")

    def _update_count(self) -> None:
        total = self.model.n_total
        shown = self.model.rowCount()
        if self.model.filter_mask is None:
            self.count_label.setText(f"{total:,} rows")
        else:
            self.count_label.setText(f"{shown:,} of {total:,} rows")
        self.select_matching_button.setEnabled(self.model.filter_mask is not None)

    # -- public helpers (also used by tests) ------------------------------------------
    def select_rows(self, rows: np.ndarray | list[int],
                    mode: SelectionMode = SelectionMode.REPLACE) -> None:
        """Pick catalogue ``rows`` in the table, as a user would by clicking: with
        ``REPLACE``, the rows a filter hides stay selected (only the shown part is
        replaced)."""
        rows = RowSet(np.asarray(rows, dtype=np.int64))
        if mode is SelectionMode.REPLACE:
            rows = rows | self._hidden_selected()
        self.session.selection.select(rows, mode, source=self,
                                      description=f"{len(rows)} rows picked in the table")

    def selected_catalogue_rows(self) -> np.ndarray:
        """Catalogue rows shown as selected (the Session's, where the filter shows
        them), sorted, shape (n,)."""
        mask = self.model.selected_mask
        if mask is None:
            return np.empty(0, dtype=np.int64)
        shown = self.model.filter_mask
        return np.flatnonzero(mask if shown is None else mask & shown)

    def _hidden_selected(self) -> RowSet:
        """Selected rows that the filter hides."""
        shown = self.model.filter_mask
        if shown is None:
            return RowSet()
        old = self.session.selection.rows.rows
        return RowSet(old[~shown[old]])

    def current_catalogue_row(self) -> int | None:
        """Catalogue row of the view's current index (the focused row), if any."""
        index = self.view.currentIndex()
        if not index.isValid():
            return None
        return int(self.model.catalogue_rows(np.array([index.row()]))[0])

    # -- internals ------------------------------------------------------------------
    def _connect_selection_model(self) -> None:
        selection_model = self.view.selectionModel()
        selection_model.selectionChanged.connect(self._on_view_selection_changed)
        selection_model.currentRowChanged.connect(self._on_current_row_changed)

    def _on_catalogue_changed(self, catalogue: Catalogue) -> None:
        self._updating = True
        try:
            self.model.set_catalogue(catalogue)
            self._filter_text = ""
            self.filter_edit.blockSignals(True)
            self.filter_edit.clear()
            self.filter_edit.blockSignals(False)
            self._show_filter_error("")
            self._update_count()
            self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
            self.view.resizeColumnsToContents()
            header = self.view.horizontalHeader()
            for i in range(self.model.columnCount()):
                header.resizeSection(i, min(max(header.sectionSize(i), 60), 220))
        finally:
            self._updating = False

    def _on_column_added(self, name: str) -> None:
        # A model reset forgets the view's selection and current row: put them back.
        self._updating = True
        try:
            self.model.refresh_columns()
            self._restore_selection_and_focus()
            column = self.session.catalogue.table.colnames.index(name)
            self.view.resizeColumnToContents(column)
            header = self.view.horizontalHeader()
            header.resizeSection(column, min(max(header.sectionSize(column), 60), 220))
        finally:
            self._updating = False

    def _on_view_selection_changed(self, selected: QItemSelection,
                                   deselected: QItemSelection) -> None:
        """A pick in the table. Qt's selection holds only the user's picks (the
        Session's selection is drawn by the model): a plain click replaces the shown
        part of the selection, Ctrl/Shift-clicks add and remove rows."""
        if self._updating or self.session.catalogue is None:
            return
        modifiers = QGuiApplication.keyboardModifiers()
        extend = bool(modifiers & (Qt.KeyboardModifier.ControlModifier
                                   | Qt.KeyboardModifier.ShiftModifier))
        if extend:
            rows = (self.session.selection.rows | RowSet(self._rows_of(selected))) \
                - RowSet(self._rows_of(deselected))
        else:
            rows = RowSet(self._rows_of(self.view.selectionModel().selection())) \
                | self._hidden_selected()
        self.session.selection.select(rows, SelectionMode.REPLACE, source=self,
                                      description=f"{len(rows)} rows picked in the table")

    def _rows_of(self, selection: QItemSelection) -> np.ndarray:
        parts = [np.arange(r.top(), r.bottom() + 1) for r in selection]
        if not parts:
            return np.empty(0, dtype=np.int64)
        return np.unique(self.model.catalogue_rows(np.concatenate(parts)))

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._updating or not current.isValid() or self.session.catalogue is None:
            return
        row = int(self.model.catalogue_rows(np.array([current.row()]))[0])
        self.session.selection.set_focus(row, source=self)

    def _on_selection_changed(self, _old: RowSet, new: RowSet, source: object) -> None:
        self.model.set_selected(new.rows)
        if source is self:
            return
        self._updating = True
        try:
            self._show_selection(new)
        finally:
            self._updating = False
        focus = self.session.selection.focus
        if focus is not None and focus in new:
            self._scroll_to(focus)
        elif len(new):
            shown = self.model.view_rows(new.rows)
            if (shown >= 0).any():
                self._scroll_to(int(new.rows[np.argmax(shown >= 0)]))

    def _show_selection(self, rows: RowSet) -> None:
        """Draw ``rows`` as selected; Qt's own selection (the user's last picks) is
        dropped, so the two never disagree. Any size costs the same (no ranges)."""
        self.model.set_selected(rows.rows)
        self.view.selectionModel().clearSelection()

    def _on_focus_changed(self, row: int | None, source: object) -> None:
        if source is self or row is None:
            return
        if self.model.view_rows(np.array([row]))[0] < 0:
            return  # hidden by the filter
        self._updating = True
        try:
            index = self.model.index(int(self.model.view_rows(np.array([row]))[0]), 0)
            self.view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.NoUpdate)
        finally:
            self._updating = False
        self._scroll_to(row)

    def _scroll_to(self, catalogue_row: int) -> None:
        view_row = int(self.model.view_rows(np.array([catalogue_row]))[0])
        if view_row < 0:
            return  # hidden by the filter
        self.view.scrollTo(self.model.index(view_row, 0),
                           QAbstractItemView.ScrollHint.PositionAtCenter)

    def _restore_selection_and_focus(self) -> None:
        """Select the Session's rows and make the focused row current, wherever the
        model now has them (after a sort or a reset)."""
        self._show_selection(self.session.selection.rows)
        focus = self.session.selection.focus
        if focus is not None and self.model.view_rows(np.array([focus]))[0] >= 0:
            index = self.model.index(int(self.model.view_rows(np.array([focus]))[0]), 0)
            self.view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.NoUpdate)

    def _on_about_to_sort(self) -> None:
        self._updating = True

    def _on_sorted(self) -> None:
        # Rows moved: select the Session's rows at their new places.
        try:
            self._restore_selection_and_focus()
        finally:
            self._updating = False
        focus = self.session.selection.focus
        if focus is not None:
            self._scroll_to(focus)
