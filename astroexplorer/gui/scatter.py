"""The map: a scatter of the projection (or two columns) with linked selection."""

from __future__ import annotations

import ctypes
import html
from enum import Enum

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QPainterPath
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsRectItem,
    QLabel,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ..core.catalogue import Catalogue
from ..core.regions import points_in_box, points_in_polygon
from ..core.rowset import RowSet
from ..core.selection import SelectionMode
from ..core.session import Session
from .binding import connect_weakly
from .colours import ColourScheme, colour_scheme

__all__ = ["ScatterPanel", "ToolMode", "mode_from_modifiers", "default_axis_columns"]

_SELECT_PEN = pg.mkPen(15, 15, 15, 255, width=1.4)
_FOCUS_PEN = pg.mkPen(220, 20, 20, width=2.5)
_HALO_PEN = pg.mkPen(255, 255, 255, 230, width=5)
_DEFAULT_BRUSH = pg.mkBrush(40, 110, 190, 190)
_RUBBER_PEN = pg.mkPen(30, 90, 200, width=1.5, style=Qt.PenStyle.DashLine)
_RUBBER_BRUSH = pg.mkBrush(30, 90, 200, 40)


class ToolMode(str, Enum):
    """What a left-drag on the map does."""

    PAN = "pan"
    BOX = "box"
    LASSO = "lasso"


def mode_from_modifiers(modifiers: Qt.KeyboardModifier) -> SelectionMode:
    """Shift adds, Ctrl subtracts, Ctrl+Shift (or Alt) intersects, none replaces."""
    shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
    ctrl = bool(modifiers & (Qt.KeyboardModifier.ControlModifier
                             | Qt.KeyboardModifier.MetaModifier))
    alt = bool(modifiers & Qt.KeyboardModifier.AltModifier)
    if (shift and ctrl) or alt:
        return SelectionMode.INTERSECT
    if shift:
        return SelectionMode.ADD
    if ctrl:
        return SelectionMode.SUBTRACT
    return SelectionMode.REPLACE


def default_axis_columns(catalogue: Catalogue) -> tuple[str, str]:
    """Columns to plot before any projection: ra/dec if present, else the first two
    numeric columns (x is ``""``, the row index, when there is only one)."""
    lower = {c.lower(): c for c in catalogue.table.colnames}
    for x, y in (("ra", "dec"), ("ra_deg", "dec_deg"), ("raj2000", "dej2000"), ("x", "y")):
        if x in lower and y in lower:
            return lower[x], lower[y]
    numeric = [c for c in catalogue.numeric_columns() if c != catalogue.id_column]
    numeric = numeric or catalogue.numeric_columns()
    if len(numeric) >= 2:
        return numeric[0], numeric[1]
    return "", (numeric[0] if numeric else "")


def _point_size(n: int) -> int:
    return 8 if n < 2_000 else 6 if n < 20_000 else 4 if n < 200_000 else 2


def _object_ids(objects: np.ndarray) -> np.ndarray:
    """``id()`` of each element of a 1-D object array, shape (n,) int: the pointers the
    array holds (CPython's ids), read without a Python call per element."""
    objects = np.ascontiguousarray(objects)
    pointers = (ctypes.c_ssize_t * objects.size).from_address(objects.ctypes.data)
    return np.ctypeslib.as_array(pointers).copy()


class _PassiveScatter(pg.ScatterPlotItem):
    """A scatter that leaves clicks to the view box, which picks the nearest
    point in screen pixels (one vectorised search, any N)."""

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph API
        ev.ignore()

    def updateSpots(self, dataSet=None) -> None:  # noqa: N802, N803 - pyqtgraph API
        """As pyqtgraph's, but the symbol atlas is asked once per distinct style, not
        once per point: pyqtgraph's per-point Python loop takes seconds at 10^6 points."""
        data = self.data if dataSet is None else dataSet
        if not (self.opts["pxMode"] and self.opts["useCache"]) or len(data) < 10_000:
            return super().updateSpots(dataSet)
        mask = data["sourceRect"]["w"] == 0
        if np.any(mask):
            key = np.zeros(int(mask.sum()), dtype=np.int64)
            styles = list(self._style(["symbol", "size", "pen", "brush"], data=data, idx=mask))
            for col in styles:
                ids = col if col.dtype.kind == "f" else _object_ids(col)
                if np.all(ids == ids[0]):
                    continue
                _, inverse = np.unique(ids, return_inverse=True)
                _, key = np.unique(key * (int(inverse.max()) + 1) + inverse, return_inverse=True)
            _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
            rects = np.empty(first.size, dtype=data["sourceRect"].dtype)
            rects[:] = self.fragmentAtlas[[tuple(col[i] for col in styles) for i in first]]
            data["sourceRect"][mask] = rects[inverse]
            self._maybeRebuildAtlas()
            self._updateMaxSpotSizes(data=data)
            self.invalidate()
        else:
            self._maybeRebuildAtlas()
            self._updateMaxSpotSizes(data=data)


class _SelectViewBox(pg.ViewBox):
    """A ViewBox whose left-drag draws a box or lasso in the selection tools."""

    def __init__(self, panel: ScatterPanel) -> None:
        super().__init__()
        self._panel = panel
        self._rect_item = QGraphicsRectItem()
        self._rect_item.setPen(_RUBBER_PEN)
        self._rect_item.setBrush(_RUBBER_BRUSH)
        self._path_item = QGraphicsPathItem()
        self._path_item.setPen(_RUBBER_PEN)
        self._path_item.setBrush(_RUBBER_BRUSH)
        for item in (self._rect_item, self._path_item):
            item.setZValue(1e9)
            item.hide()
            self.addItem(item, ignoreBounds=True)
        self._lasso: list[tuple[float, float]] = []

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 - pyqtgraph API
        tool = self._panel.tool
        if ev.button() != Qt.MouseButton.LeftButton or tool is ToolMode.PAN or axis is not None:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        start = self.mapToView(ev.buttonDownPos())
        here = self.mapToView(ev.pos())
        if tool is ToolMode.BOX:
            rect = QRectF(start, here).normalized()
            self._rect_item.setRect(rect)
            self._rect_item.setVisible(not ev.isFinish())
            if ev.isFinish():
                self._panel.select_box(start.x(), start.y(), here.x(), here.y(),
                                       mode_from_modifiers(ev.modifiers()))
            return
        if ev.isStart():
            self._lasso = [(start.x(), start.y())]
        if not self._lasso or self._far_enough(ev.pos()):
            self._lasso.append((here.x(), here.y()))
        path = QPainterPath(QPointF(*self._lasso[0]))
        for x, y in self._lasso[1:]:
            path.lineTo(x, y)
        path.closeSubpath()
        self._path_item.setPath(path)
        self._path_item.setVisible(not ev.isFinish())
        if ev.isFinish():
            polygon, self._lasso = np.array(self._lasso), []
            self._panel.select_lasso(polygon, mode_from_modifiers(ev.modifiers()))

    def _far_enough(self, pos: QPointF, min_px: float = 2.0) -> bool:
        last = self.mapFromView(QPointF(*self._lasso[-1]))
        return (pos - last).manhattanLength() >= min_px

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph API
        if ev.button() != Qt.MouseButton.LeftButton:
            super().mouseClickEvent(ev)
            return
        ev.accept()
        here = self.mapToView(ev.pos())
        if not self._panel.focus_at(here.x(), here.y()) and self._panel.tool is not ToolMode.PAN:
            if mode_from_modifiers(ev.modifiers()) is SelectionMode.REPLACE:
                self._panel.clear_selection()


class ScatterPanel(QWidget):
    """A scatter plot of the Session's projection, or of two catalogue columns.

    Click a point to focus its row; in the Box or Lasso tool, drag to select
    (Shift adds, Ctrl subtracts, Ctrl+Shift intersects). Every interaction has a
    method (:meth:`focus_at`, :meth:`select_box`, :meth:`select_lasso`) so that
    scripts and tests can drive it.

    Signals
    -------
    tool_changed(str)
        The tool mode's value (``"pan"``, ``"box"``, ``"lasso"``).
    """

    tool_changed = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.tool = ToolMode.PAN
        self.x_column, self.y_column = "", ""
        self.colour_column = ""
        self.use_projection = True
        self._rows = np.empty(0, dtype=np.int64)
        self._xy = np.empty((0, 2), dtype=np.float64)
        self._index_of_row = np.empty(0, dtype=np.int64)
        self._scheme: ColourScheme | None = None

        self.view_box = _SelectViewBox(self)
        # White with dark axes whatever pyqtgraph's global configuration says.
        self.plot_widget = pg.PlotWidget(viewBox=self.view_box, background="w")
        self.plot_item = self.plot_widget.getPlotItem()
        for name in ("left", "bottom"):
            axis = self.plot_item.getAxis(name)
            axis.setPen(pg.mkPen("k"))
            axis.setTextPen(pg.mkPen("k"))
        self.plot_item.showGrid(x=True, y=True, alpha=0.15)
        self.plot_item.setMenuEnabled(False)
        self.scatter = _PassiveScatter(pen=None, symbol="o", size=6, hoverable=False)
        # Selected points are redrawn on top in their own colour with a dark outline;
        # the focused one gets a red ring on a white halo, visible on any colour.
        self.selected_item = _PassiveScatter(pen=_SELECT_PEN, symbol="o", size=8)
        self.focus_halo = _PassiveScatter(pen=_HALO_PEN, brush=None, symbol="o", size=22)
        self.focus_item = _PassiveScatter(pen=_FOCUS_PEN, brush=None, symbol="o", size=22)
        items = (self.scatter, self.selected_item, self.focus_halo, self.focus_item)
        for z, item in enumerate(items):
            item.setZValue(z)
            self.plot_item.addItem(item)
        # The legend of categories is a line of text under the plot, never over points.
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setContentsMargins(8, 2, 8, 4)
        self.legend.setStyleSheet("background: white;")
        self.legend.hide()
        self.colour_bar = pg.ColorBarItem(values=(0, 1), width=14, interactive=False,
                                          colorMap=pg.colormap.get("viridis"))
        self.colour_bar.axis.setPen(pg.mkPen("k"))
        self.colour_bar.axis.setTextPen(pg.mkPen("k"))
        # Values as they are in the table, not rescaled by an SI prefix ("x0.001").
        self.colour_bar.axis.enableAutoSIPrefix(False)
        self._colour_bar_shown = False

        self.toolbar = self._make_toolbar()
        self.caption = QLabel("")
        self.caption.setStyleSheet("color: #555; padding: 0 6px;")
        self.toolbar.addWidget(self.caption)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.legend)

        connect_weakly(session.catalogue_changed, self, ScatterPanel._on_catalogue_changed)
        connect_weakly(session.embedding_changed, self, ScatterPanel._on_embedding_changed)
        connect_weakly(session.projection_changed, self, ScatterPanel._on_projection_changed)
        connect_weakly(session.selection.changed, self, ScatterPanel._on_selection_changed)
        connect_weakly(session.selection.focus_changed, self, ScatterPanel._on_focus_changed)
        if session.catalogue is not None:
            self._on_catalogue_changed(session.catalogue)

    # -- toolbar --------------------------------------------------------------------
    def _make_toolbar(self) -> QToolBar:
        toolbar = QToolBar("Map tools", self)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        group = QActionGroup(self)
        group.setExclusive(True)
        hints = {
            ToolMode.PAN: ("Pan", "Drag to pan, wheel to zoom, click a point to focus it (P)", "P"),
            ToolMode.BOX: ("Box", "Drag a box to select; Shift adds, Ctrl subtracts, "
                           "Ctrl+Shift intersects (B)", "B"),
            ToolMode.LASSO: ("Lasso", "Draw around points to select; Shift adds, Ctrl "
                             "subtracts, Ctrl+Shift intersects (L)", "L"),
        }
        self.tool_actions: dict[ToolMode, QAction] = {}
        for mode, (text, tip, key) in hints.items():
            action = QAction(text, self, checkable=True, toolTip=tip, shortcut=key)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _checked=False, m=mode: self.set_tool(m))
            group.addAction(action)
            toolbar.addAction(action)
            self.tool_actions[mode] = action
        self.tool_actions[ToolMode.PAN].setChecked(True)
        toolbar.addSeparator()
        reset = QAction("Reset view", self, toolTip="Show all points")
        reset.triggered.connect(self.reset_view)
        toolbar.addAction(reset)
        clear = QAction("Clear selection", self, toolTip="Select nothing (Esc)", shortcut="Esc")
        clear.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        clear.triggered.connect(self.clear_selection)
        toolbar.addAction(clear)
        toolbar.addSeparator()
        return toolbar

    def set_tool(self, tool: ToolMode | str) -> None:
        """Choose what a left-drag does: pan, box or lasso."""
        self.tool = ToolMode(tool)
        self.tool_actions[self.tool].setChecked(True)
        shape = Qt.CursorShape
        self.plot_widget.viewport().setCursor(
            shape.ArrowCursor if self.tool is ToolMode.PAN else shape.CrossCursor)
        self.tool_changed.emit(self.tool.value)

    # -- what is plotted ------------------------------------------------------------
    @property
    def plotted_rows(self) -> np.ndarray:
        """Catalogue rows of the plotted points (finite coordinates), shape (n,)."""
        return self._rows

    @property
    def plotted_xy(self) -> np.ndarray:
        """Plotted coordinates, shape (n, 2), aligned with :attr:`plotted_rows`."""
        return self._xy

    @property
    def showing_projection(self) -> bool:
        """True when the points are the projection, False when two columns."""
        return self.use_projection and self.session.projection is not None

    def set_axis_columns(self, x_column: str, y_column: str) -> None:
        """Plot two columns (``""`` for the row index) and show them, not the map."""
        self.x_column, self.y_column = x_column, y_column
        self.use_projection = False
        self.refresh(autorange=True)

    def show_projection(self, show: bool = True) -> None:
        """Show the projection when there is one (else the chosen columns)."""
        self.use_projection = show
        self.refresh(autorange=True)

    def refresh(self, autorange: bool = False) -> None:
        """Recompute the points from the Session and redraw everything."""
        catalogue = self.session.catalogue
        n = len(catalogue) if catalogue is not None else 0
        if catalogue is None:
            xy = np.empty((0, 2))
            labels = ("", "")
        elif self.showing_projection:
            projection = self.session.projection
            xy = np.asarray(projection.xy, dtype=np.float64)
            name = projection.method.upper()
            labels = (f"{name} 1", f"{name} 2")
        else:
            xy = np.column_stack([self._column_values(catalogue, self.x_column),
                                  self._column_values(catalogue, self.y_column)])
            labels = tuple(self._axis_label(catalogue, c) for c in (self.x_column, self.y_column))
        finite = np.isfinite(xy).all(axis=1) if len(xy) else np.zeros(0, dtype=bool)
        self._rows = np.flatnonzero(finite).astype(np.int64)
        self._xy = xy[finite]
        self._index_of_row = np.full(n, -1, dtype=np.int64)
        self._index_of_row[self._rows] = np.arange(self._rows.size)
        is_sky = (not self.showing_projection and self.x_column.lower().startswith("ra")
                  and self.y_column.lower().startswith("de"))
        self.view_box.invertX(is_sky)  # east to the left, as on the sky
        self.plot_item.setLabel("bottom", labels[0])
        self.plot_item.setLabel("left", labels[1])
        self.scatter.setData(pos=self._xy, data=self._rows, size=_point_size(self._rows.size),
                             antialias=self._rows.size < 50_000)
        self._apply_colours()
        self._update_selected()
        self._update_focus()
        self._update_caption()
        if autorange:
            self.reset_view()

    @staticmethod
    def _column_values(catalogue: Catalogue, name: str) -> np.ndarray:
        if not name:
            return catalogue.row_ids.astype(np.float64)
        return np.ma.filled(np.ma.asarray(catalogue.table[name], dtype=np.float64), np.nan)

    @staticmethod
    def _axis_label(catalogue: Catalogue, name: str) -> str:
        if not name:
            return "row"
        unit = catalogue.table[name].unit
        return f"{name} [{unit}]" if unit is not None and str(unit) else name

    def _update_caption(self) -> None:
        catalogue = self.session.catalogue
        if catalogue is None:
            self.caption.setText("")
            return
        if self.showing_projection:
            embedding = self.session.embedding
            source = f" of the {embedding.method.upper()} embedding" if embedding else ""
            what = f"{self.session.projection.method.upper()} map{source}"
        else:
            what = f"{self.y_column or 'row'} vs {self.x_column or 'row'}"
        hidden = len(catalogue) - self._rows.size
        extra = f" ({hidden} without coordinates hidden)" if hidden else ""
        self.caption.setText(f"{what} \u00b7 {self._rows.size} points{extra}")

    def reset_view(self) -> None:
        """Zoom to show every point."""
        if self._rows.size:
            self.view_box.autoRange(padding=0.05, items=[self.scatter])

    # -- colour ---------------------------------------------------------------------
    def set_colour_by(self, column: str) -> None:
        """Colour points by a column (``""`` for one colour): a colour map and colour
        bar for continuous values, distinct colours and a legend for categories."""
        catalogue = self.session.catalogue
        if column and (catalogue is None or column not in catalogue.table.colnames):
            raise KeyError(f"no column {column!r} to colour by")
        self.colour_column = column
        self._apply_colours()
        self._update_selected()

    @property
    def colour_scheme(self) -> ColourScheme | None:
        """How the points are coloured now (None for a single colour)."""
        return self._scheme

    def _apply_colours(self) -> None:
        catalogue = self.session.catalogue
        column = self.colour_column if catalogue is not None else ""
        if column and column not in catalogue.table.colnames:
            column = self.colour_column = ""
        self._scheme = colour_scheme(catalogue.table[column], column) if column else None
        if self._scheme is None:
            self.scatter.setBrush(_DEFAULT_BRUSH)
            self.legend.hide()
            self._show_colour_bar(False)
            return
        # One call with an array of shared brushes: the atlas renders each once.
        self.scatter.setBrush(self._scheme.brushes[self._scheme.index[self._rows]])
        if self._scheme.categories:
            self.legend.setText(self._legend_html(catalogue, column))
            self.legend.show()
            self._show_colour_bar(False)
        else:
            self.legend.hide()
            self.colour_bar.setColorMap(self._scheme.colour_map)
            self.colour_bar.setLevels(self._scheme.levels)
            self.colour_bar.axis.setLabel(self._axis_label(catalogue, column))
            self._show_colour_bar(True)

    @property
    def legend_entries(self) -> list[str]:
        """Labels of the legend (categories with their counts); empty if none."""
        return [label for label, _brush in self._scheme.categories] if self._scheme else []

    def _legend_html(self, catalogue: Catalogue, column: str) -> str:
        entries = []
        for label, brush in self._scheme.categories:
            colour = brush.color().name()
            entries.append(f'<span style="color:{colour}; font-size:large">\u25cf</span>'
                           f"&nbsp;{html.escape(label)}")
        name = html.escape(self._axis_label(catalogue, column))
        return f"<b>{name}</b>: " + " &nbsp; ".join(entries)

    def _show_colour_bar(self, show: bool) -> None:
        if show == self._colour_bar_shown:
            return
        layout = self.plot_item.layout
        if show:
            layout.addItem(self.colour_bar, 2, 5)
            layout.setColumnFixedWidth(4, 5)
            self.colour_bar.show()
        else:
            layout.removeItem(self.colour_bar)
            self.colour_bar.hide()
        self._colour_bar_shown = show

    # -- selection and focus ----------------------------------------------------------
    def select_box(self, x0: float, y0: float, x1: float, y1: float,
                   mode: SelectionMode = SelectionMode.REPLACE) -> RowSet:
        """Select the points inside a box given in plot coordinates."""
        rows = RowSet(self._rows[points_in_box(self._xy, x0, y0, x1, y1)])
        self._select(rows, mode, f"box on the {self._what()}")
        return rows

    def select_lasso(self, polygon: np.ndarray | list[tuple[float, float]],
                     mode: SelectionMode = SelectionMode.REPLACE) -> RowSet:
        """Select the points inside a polygon (M, 2) given in plot coordinates."""
        rows = RowSet(self._rows[points_in_polygon(self._xy, np.asarray(polygon, dtype=float))])
        self._select(rows, mode, f"lasso on the {self._what()}")
        return rows

    def focus_at(self, x: float, y: float, tolerance_px: float = 8.0) -> int | None:
        """Focus the point nearest plot position (x, y) within ``tolerance_px`` pixels;
        returns its row, or None (focus unchanged) if no point is that close."""
        if not self._rows.size:
            return None
        px, py = self.view_box.viewPixelSize()
        d2 = ((self._xy[:, 0] - x) / px) ** 2 + ((self._xy[:, 1] - y) / py) ** 2
        nearest = int(np.argmin(d2))
        if d2[nearest] > tolerance_px**2:
            return None
        row = int(self._rows[nearest])
        self.session.selection.set_focus(row, source=self)
        return row

    def clear_selection(self) -> None:
        """Select nothing."""
        if self.session.catalogue is not None:
            self.session.selection.clear(source=self)

    def view_to_widget(self, x: float, y: float) -> QPoint:
        """Pixel position in :attr:`plot_widget`'s viewport of plot position (x, y)."""
        scene = self.view_box.mapViewToScene(QPointF(x, y))
        return self.plot_widget.mapFromScene(scene)

    def _what(self) -> str:
        if self.showing_projection:
            return f"{self.session.projection.method.upper()} map"
        return f"{self.x_column or 'row'}/{self.y_column or 'row'} plot"

    def _select(self, rows: RowSet, mode: SelectionMode, description: str) -> None:
        if self.session.catalogue is not None:
            self.session.selection.select(rows, mode, source=self, description=description)

    def _plotted_indices(self, rows: np.ndarray) -> np.ndarray:
        rows = rows[rows < self._index_of_row.size]
        idx = self._index_of_row[rows]
        return idx[idx >= 0]

    def _update_selected(self) -> None:
        idx = self._plotted_indices(self.session.selection.rows.rows)
        if self._scheme is None:
            brush = _DEFAULT_BRUSH
        else:
            brush = self._scheme.brushes[self._scheme.index[self._rows[idx]]]
        self.selected_item.setData(pos=self._xy[idx], brush=brush,
                                   size=_point_size(self._rows.size) + 2)

    def _update_focus(self) -> None:
        focus = self.session.selection.focus
        idx = self._plotted_indices(np.array([] if focus is None else [focus], dtype=np.int64))
        self.focus_halo.setData(pos=self._xy[idx])
        self.focus_item.setData(pos=self._xy[idx])

    def _on_embedding_changed(self, _embedding: object) -> None:
        self.refresh(autorange=True)  # the old map is gone with the old embedding

    def _on_projection_changed(self, _projection: object) -> None:
        self.use_projection = True
        self.refresh(autorange=True)

    def _on_selection_changed(self, _old: RowSet, _new: RowSet, _source: object) -> None:
        self._update_selected()

    def _on_focus_changed(self, _row: int | None, _source: object) -> None:
        self._update_focus()

    def _on_catalogue_changed(self, catalogue: Catalogue) -> None:
        self.x_column, self.y_column = default_axis_columns(catalogue)
        self.colour_column = ""
        self.use_projection = True
        self.refresh(autorange=True)
