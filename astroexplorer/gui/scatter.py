"""The map: a scatter of the projection (or two columns) with linked selection.

Level of detail keeps a million points fluid: while more than
:data:`LOD_THRESHOLD` drawn points fall inside the view, the points are shown
as a density raster (one bin per 2x2 screen pixels, coloured like the points:
the majority category, the mean colour-map value, or the default colour, with
opacity growing with the log of the count) in an ImageItem; below it, point
items are built for the points in and around the view only. The raster and
the point set are rebuilt when the view range changes (throttled) and only
when the view leaves the area they cover or the zoom changes. Selection,
subsets and the focus are drawn on top, as points when few, as rasters when
many. Hit-testing (click, box, lasso, polygon, hover) works on the numpy
coordinates, never on graphics items.
"""

from __future__ import annotations

import ctypes
import html
import time
from enum import Enum

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QImage, QPainterPath, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from ..core.catalogue import Catalogue
from ..core.regions import points_in_box, points_in_polygon
from ..core.rowset import RowSet
from ..core.selection import SelectionMode
from ..core.session import Session
from .binding import connect_weakly
from .colours import (
    COLOUR_MAPS,
    LIMIT_PRESETS,
    MISSING_COLOUR,
    ColourScheme,
    colour_by_candidates,
    colour_limits,
    colour_scheme,
)
from .widgets import cache_axes, drop_retired_tab_bars, hidden_in_shown_window, on_revealed

__all__ = ["ScatterPanel", "ToolMode", "mode_from_modifiers", "default_axis_columns",
           "open_scatter_view", "LOD_THRESHOLD", "size_scale"]

#: Above this many drawn points inside the view, the map is drawn as a density raster.
LOD_THRESHOLD = 50_000
#: Above this many selected (or subset) points around the view, they are drawn as a raster.
OVERLAY_POINT_LIMIT = 20_000
#: Most subset members drawn as rings over a density raster (a tint above).
SUBSET_RING_LIMIT = 2_000
#: Screen pixels per raster bin (each way).
_BIN_PX = 2
#: Points and rasters cover the view plus this fraction of its size on each side,
#: so that a pan shows them at once, before the throttled rebuild.
_MARGIN = 0.25
#: The same for point sets (smaller: building point items costs ~1 us a point).
_POINTS_MARGIN = 0.15
#: Milliseconds between rebuilds while the view moves; and between hover look-ups.
_LOD_THROTTLE_MS = 25
_HOVER_THROTTLE_MS = 60
#: Milliseconds after the view stops moving before layers built for another zoom
#: are rebuilt sharp.
_SETTLE_MS = 150
#: Smallest and largest point sizes (pixels) when sized by a column.
SIZE_RANGE = (2.0, 12.0)

_SELECT_PEN = pg.mkPen(15, 15, 15, 255, width=1.4)
_FOCUS_PEN = pg.mkPen(220, 20, 20, width=2.5)
_HALO_PEN = pg.mkPen(255, 255, 255, 230, width=5)
_DEFAULT_RGBA = (40, 110, 190, 190)
_DEFAULT_BRUSH = pg.mkBrush(*_DEFAULT_RGBA)
_RUBBER_PEN = pg.mkPen(30, 90, 200, width=1.5, style=Qt.PenStyle.DashLine)
_RUBBER_BRUSH = pg.mkBrush(30, 90, 200, 40)
_OUTLINE_RGBA = (15, 15, 15, 230)


class ToolMode(str, Enum):
    """What a left-drag (or, for the polygon, a click) on the map does."""

    PAN = "pan"
    BOX = "box"
    LASSO = "lasso"
    POLYGON = "polygon"


def mode_from_modifiers(modifiers: Qt.KeyboardModifier) -> SelectionMode:
    """Shift adds, Ctrl subtracts, Ctrl+Shift (or Alt) intersects, Ctrl+Alt takes the
    symmetric difference (xor), none replaces."""
    shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
    ctrl = bool(modifiers & (Qt.KeyboardModifier.ControlModifier
                             | Qt.KeyboardModifier.MetaModifier))
    alt = bool(modifiers & Qt.KeyboardModifier.AltModifier)
    if ctrl and alt:
        return SelectionMode.XOR
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


def size_scale(values: np.ndarray, size_range: tuple[float, float] = SIZE_RANGE) -> np.ndarray:
    """Point sizes in pixels, shape (N,) float, for values of shape (N,): linear from the
    smallest finite value (``size_range[0]``) to the largest (``size_range[1]``), in
    whole pixels so that few distinct symbols are drawn; NaN gets the smallest size."""
    values = np.ma.filled(np.ma.asarray(values, dtype=np.float64), np.nan)
    lo_px, hi_px = size_range
    finite = np.isfinite(values)
    sizes = np.full(values.shape, lo_px, dtype=np.float64)
    if finite.any():
        lo, hi = float(values[finite].min()), float(values[finite].max())
        span = hi - lo if hi > lo else 1.0
        sizes[finite] = np.round(lo_px + (values[finite] - lo) / span * (hi_px - lo_px))
    return sizes


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




def density_raster(x: np.ndarray, y: np.ndarray, rect: tuple[float, float, float, float],
                   shape: tuple[int, int], codes: np.ndarray | None = None,
                   palette: np.ndarray | None = None, n_levels: int = 0,
                   alpha: int = 210) -> tuple[np.ndarray, np.ndarray]:
    """Bin points into a colour raster.

    Parameters
    ----------
    x, y : ndarray, shape (n,)
        Plot coordinates of points inside ``rect``.
    rect : (x0, y0, width, height)
        The area covered, in plot coordinates; row 0 of the raster is at ``y0``.
    shape : (ny, nx)
        Bins in y and x.
    codes : ndarray, shape (n,), int, optional
        Each point's colour index in ``palette``. With ``n_levels`` > 0 the codes
        below it are steps of a colour map and a bin gets the mean of its finite
        codes (codes >= ``n_levels`` are missing values: grey only where a bin has
        nothing else); otherwise a bin gets its most frequent code.
    palette : ndarray, shape (K, 4), uint8
        RGBA of each code. Without codes, the default point colour.
    alpha : int
        Opacity of the densest bin; sparser bins fade with the log of their count.

    Returns
    -------
    rgba : ndarray, shape (ny, nx, 4), uint8
    counts : ndarray, shape (ny, nx), int
    """
    ny, nx = shape
    x0, y0, w, h = rect
    n_bins = nx * ny
    # Bin indices in int32 and computed in place: at 10^6 points each temporary is
    # megabytes, and a first recolour paid for every one in page faults.
    flat = _bin_index(y, y0, ny / h, ny) * np.int32(nx)
    flat += _bin_index(x, x0, nx / w, nx)
    counts = np.bincount(flat, minlength=n_bins)
    rgba = np.zeros((n_bins, 4), dtype=np.uint8)
    filled = counts > 0
    if codes is None or palette is None:
        rgba[filled, :3] = _DEFAULT_RGBA[:3]
    elif n_levels:
        finite = codes < n_levels
        flat_finite = flat[finite]
        n_finite = np.bincount(flat_finite, minlength=n_bins)
        sums = np.bincount(flat_finite, weights=codes[finite], minlength=n_bins)
        rgba[filled] = palette[-1]
        has = n_finite > 0
        rgba[has] = palette[np.rint(sums[has] / n_finite[has]).astype(np.int64)]
    else:
        k = len(palette)
        votes = np.bincount(flat * k + codes, minlength=n_bins * k).reshape(n_bins, k)
        rgba[filled] = palette[np.argmax(votes[filled], axis=1)]
    if filled.any():
        top = np.log1p(counts.max())
        fade = 0.45 + 0.55 * np.log1p(counts[filled]) / top
        rgba[filled, 3] = np.clip(alpha * fade, 0, 255).astype(np.uint8)
    return rgba.reshape(ny, nx, 4), counts.reshape(ny, nx)


def _bin_index(values: np.ndarray, start: float, scale: float, n: int) -> np.ndarray:
    """``clip(int((values - start) * scale), 0, n - 1)`` as int32, with one temporary."""
    out = np.subtract(values, start)  # in the values' precision, as before
    out *= scale
    np.clip(out, 0, n - 1, out=out)  # before the cast: out-of-range floats stay in range
    index = out.astype(np.int32)
    return np.clip(index, 0, n - 1, out=index)  # NaN casts to a negative number


def _outline(rgba: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Give a raster's filled area a one-bin dark outline (as selected points have)."""
    filled = counts > 0
    grown = filled.copy()
    grown[1:] |= filled[:-1]
    grown[:-1] |= filled[1:]
    grown[:, 1:] |= filled[:, :-1]
    grown[:, :-1] |= filled[:, 1:]
    rgba[grown & ~filled] = _OUTLINE_RGBA
    return rgba


def _contains(outer: tuple[float, float, float, float] | None,
              inner: tuple[float, float, float, float]) -> bool:
    if outer is None:
        return False
    ox, oy, ow, oh = outer
    ix, iy, iw, ih = inner
    return ox <= ix and oy <= iy and ix + iw <= ox + ow and iy + ih <= oy + oh


class _SelectViewBox(pg.ViewBox):
    """A ViewBox whose left-drag draws a box or lasso, and whose clicks place polygon
    vertices, in the selection tools."""

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
        self._last_click: tuple[float, QPointF] | None = None

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 - pyqtgraph API
        tool = self._panel.tool
        if ev.button() != Qt.MouseButton.LeftButton or tool in (ToolMode.PAN, ToolMode.POLYGON) \
                or axis is not None:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        start = self.mapToView(ev.buttonDownPos())
        here = self.mapToView(ev.pos())
        mode = self._panel.effective_mode(ev.modifiers())
        if tool is ToolMode.BOX:
            rect = QRectF(start, here).normalized()
            self._rect_item.setRect(rect)
            self._rect_item.setVisible(not ev.isFinish())
            if ev.isFinish():
                self._panel.select_box(start.x(), start.y(), here.x(), here.y(), mode)
            return
        if ev.isStart():
            self._lasso = [(start.x(), start.y())]
        if not self._lasso or self._far_enough(ev.pos()):
            self._lasso.append((here.x(), here.y()))
        self.show_outline(self._lasso, closed=True)
        self._path_item.setVisible(not ev.isFinish())
        if ev.isFinish():
            polygon, self._lasso = np.array(self._lasso), []
            self._panel.select_lasso(polygon, mode)

    def show_outline(self, vertices: list[tuple[float, float]], closed: bool) -> None:
        """Draw the rubber-band outline through ``vertices`` (plot coordinates)."""
        if not vertices:
            self._path_item.hide()
            return
        path = QPainterPath(QPointF(*vertices[0]))
        for x, y in vertices[1:]:
            path.lineTo(x, y)
        if closed:
            path.closeSubpath()
        self._path_item.setPath(path)
        self._path_item.show()

    def _far_enough(self, pos: QPointF, min_px: float = 2.0) -> bool:
        last = self.mapFromView(QPointF(*self._lasso[-1]))
        return (pos - last).manhattanLength() >= min_px

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph API
        if ev.button() != Qt.MouseButton.LeftButton:
            super().mouseClickEvent(ev)
            return
        ev.accept()
        here = self.mapToView(ev.pos())
        panel = self._panel
        if panel.tool is ToolMode.POLYGON:
            # A double-click closes the polygon; a second click on the last corner
            # within the double-click interval counts as one too (pyqtgraph may
            # deliver the second press of a double-click as a plain click).
            now = time.monotonic()
            last = self._last_click
            self._last_click = (now, ev.screenPos())
            repeat = last is not None and now - last[0] <= \
                QApplication.doubleClickInterval() / 1000 and \
                (ev.screenPos() - last[1]).manhattanLength() <= 4
            if ev.double() or (repeat and panel.polygon_vertices):
                self._last_click = None
                panel.finish_polygon(ev.modifiers())
            else:
                panel.add_polygon_vertex(here.x(), here.y(), ev.modifiers())
            return
        if not panel.focus_at(here.x(), here.y()) and panel.tool is not ToolMode.PAN:
            if panel.effective_mode(ev.modifiers()) is SelectionMode.REPLACE:
                panel.clear_selection()


class _HoverTip(QFrame):
    """A tooltip window: the object's thumbnail beside a few of its columns."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.ToolTip)
        self.setFrameShape(QFrame.Shape.Box)
        self.setStyleSheet("background: #ffffe8; color: #111;")
        self.image_label = QLabel()
        self.text_label = QLabel()
        self.text_label.setTextFormat(Qt.TextFormat.RichText)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 6, 4)
        layout.addWidget(self.image_label)
        layout.addWidget(self.text_label)


def _thumbnail(catalogue: Catalogue, row: int, size: int = 96) -> QPixmap | None:
    """The row's cutout as the image view shows it (colour composite of several bands,
    asinh stretch of one), FITS row 0 at the bottom; None without cutouts."""
    from ..analysis.display import make_rgb, stretch_image

    images = catalogue.images
    if images is None:
        return None
    try:
        cutout = np.asarray(images.get_many(np.array([row]))[0], dtype=np.float32)
        bands = tuple(images.bands)
        if cutout.shape[0] > 1 and len(bands) == cutout.shape[0]:
            rgb = make_rgb(cutout, bands)
        else:
            grey = (np.nan_to_num(stretch_image(cutout[0], "asinh", "percentile")) * 255)
            rgb = np.repeat(grey.clip(0, 255).astype(np.uint8)[..., None], 3, axis=2)
    except Exception:  # noqa: BLE001 - a tooltip without a picture is still useful
        return None
    rgb = np.ascontiguousarray(rgb[::-1])  # FITS row 0 at the bottom, as in the image view
    h, w = rgb.shape[:2]
    image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(image).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.SmoothTransformation)


class ScatterPanel(QWidget):
    """A scatter plot of the Session's projection, or of two catalogue columns.

    Click a point to focus its row; in the Box or Lasso tool, drag to select; in the
    Polygon tool, click vertices and double-click (or Enter) to close, Esc cancels.
    Shift adds, Ctrl subtracts, Ctrl+Shift (or Alt) intersects, Ctrl+Alt xors; without
    a modifier the toolbar's combine mode applies (replace by default). Every
    interaction has a method (:meth:`focus_at`, :meth:`select_box`,
    :meth:`select_lasso`, :meth:`select_polygon`, :meth:`hover_at`,
    :meth:`zoom_to_selection`) so that scripts and tests can drive it.

    Parameters
    ----------
    session : Session
        Followed for the catalogue, projection, selection, focus and subsets.
    controls : bool
        Show this view's own X / Y / colour / size choosers above the plot (for
        extra scatter views; the main one is driven by the Analysis panel).

    Signals
    -------
    tool_changed(str)
        The tool mode's value (``"pan"``, ``"box"``, ``"lasso"``, ``"polygon"``).
    """

    tool_changed = Signal(str)
    #: Drawn points in view above which the map is a density raster.
    lod_threshold = LOD_THRESHOLD

    def __init__(self, session: Session, parent: QWidget | None = None,
                 controls: bool = False) -> None:
        super().__init__(parent)
        self.session = session
        self.tool = ToolMode.PAN
        self.combine_mode = SelectionMode.REPLACE
        self.x_column, self.y_column = "", ""
        self.colour_column = ""
        self.size_column = ""
        self.colour_map = "viridis"
        self.limits_preset = "1-99 %"
        self.use_projection = True
        self._custom_limits: tuple[float, float] | None = None
        self._rows = np.empty(0, dtype=np.int64)
        self._xy = np.empty((0, 2), dtype=np.float64)
        self._index_of_row = np.empty(0, dtype=np.int64)
        self._scheme: ColourScheme | None = None
        self._codes: np.ndarray | None = None  # colour index per plotted point
        self._sizes: np.ndarray | None = None  # pixels per plotted point
        self._hidden: set[int] = set()  # hidden category codes
        self._drawn = np.empty(0, dtype=bool)
        self._drawn_idx = np.empty(0, dtype=np.int64)
        self._dx = self._dy = np.empty(0, dtype=np.float64)
        self._selected_idx = np.empty(0, dtype=np.int64)
        self._membership: np.ndarray | None = None  # subset index per plotted point
        self._subset_colours: list[str] = []
        self._polygon: list[tuple[float, float]] = []
        self._polygon_modifiers = Qt.KeyboardModifier.NoModifier
        self._hover_scene_pos: QPointF | None = None
        self._hover_row: int | None = None
        # What the map layer and the overlays were last built for (skip identical rebuilds).
        self._gen = 0
        self._overlay_gen = 0
        self._built: tuple | None = None
        self._overlay_built: tuple | None = None
        #: "points" or "raster": how the map layer is drawn now.
        self.detail = "points"
        self.overlay_detail = "points"
        self._overlays_stale = False

        self.view_box = _SelectViewBox(self)
        # White with dark axes whatever pyqtgraph's global configuration says.
        self.plot_widget = pg.PlotWidget(viewBox=self.view_box, background="w")
        self.plot_item = self.plot_widget.getPlotItem()
        for name in ("left", "bottom"):
            axis = self.plot_item.getAxis(name)
            axis.setPen(pg.mkPen("k"))
            axis.setTextPen(pg.mkPen("k"))
        self.plot_item.showGrid(x=True, y=True, alpha=0.15)
        cache_axes(self.plot_item)
        self.plot_item.setMenuEnabled(False)
        self.view_box.disableAutoRange()
        self.density_item = pg.ImageItem(axisOrder="row-major")
        self.scatter = _PassiveScatter(pen=None, symbol="o", size=6, hoverable=False)
        # Subsets: outlined in their colours (points) or a tint (raster).
        self.subset_raster = pg.ImageItem(axisOrder="row-major")
        self.subset_item = _PassiveScatter(brush=None, symbol="o", size=10)
        # Selected points are redrawn on top in their own colour with a dark outline;
        # the focused one gets a red ring on a white halo, visible on any colour.
        self.selected_raster = pg.ImageItem(axisOrder="row-major")
        self.selected_item = _PassiveScatter(pen=_SELECT_PEN, symbol="o", size=8)
        self.focus_halo = _PassiveScatter(pen=_HALO_PEN, brush=None, symbol="o", size=22)
        self.focus_item = _PassiveScatter(pen=_FOCUS_PEN, brush=None, symbol="o", size=22)
        items = (self.density_item, self.scatter, self.subset_raster, self.subset_item,
                 self.selected_raster, self.selected_item, self.focus_halo, self.focus_item)
        for z, item in enumerate(items):
            item.setZValue(z)
            self.plot_item.addItem(item, ignoreBounds=True)
        for item in (self.density_item, self.subset_raster, self.selected_raster):
            item.hide()
        # The legend of categories is a line of text under the plot, never over points;
        # each entry is a link that hides or shows its category.
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setContentsMargins(8, 2, 8, 4)
        self.legend.setStyleSheet("background: white;")
        self.legend.setToolTip("Click a category to hide or show it (hidden points "
                               "cannot be selected)")
        self.legend.linkActivated.connect(lambda link: self.toggle_category(int(link)))
        self.legend.hide()
        self.colour_bar = pg.ColorBarItem(values=(0, 1), width=14, interactive=False,
                                          colorMap=pg.colormap.get("viridis"))
        self.colour_bar.axis.setPen(pg.mkPen("k"))
        self.colour_bar.axis.setTextPen(pg.mkPen("k"))
        # Values as they are in the table, not rescaled by an SI prefix ("x0.001").
        self.colour_bar.axis.enableAutoSIPrefix(False)
        self.colour_bar.axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._colour_bar_shown = False
        self.colour_row = self._make_colour_row()

        self.toolbar = self._make_toolbar()
        self.caption = QLabel("")
        self.caption.setStyleSheet("color: #555; padding: 0 6px;")
        self.toolbar.addWidget(self.caption)
        self.hover_tip = _HoverTip(self)
        self.hover_tip.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        self.view_controls: QWidget | None = self._make_view_controls() if controls else None
        if self.view_controls is not None:
            layout.addWidget(self.view_controls)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.colour_row)
        layout.addWidget(self.legend)

        self._lod_timer = QTimer(self, singleShot=True, interval=_LOD_THROTTLE_MS)
        self._lod_timer.timeout.connect(self.update_level_of_detail)
        self._settle_timer = QTimer(self, singleShot=True, interval=_SETTLE_MS)
        self._settle_timer.timeout.connect(self._settle)
        self._hover_timer = QTimer(self, singleShot=True, interval=_HOVER_THROTTLE_MS)
        self._hover_timer.timeout.connect(self._hover_now)
        self.view_box.sigRangeChanged.connect(self._on_range_changed)
        self.plot_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)

        connect_weakly(session.catalogue_changed, self, ScatterPanel._on_catalogue_changed)
        connect_weakly(session.embedding_changed, self, ScatterPanel._on_embedding_changed)
        connect_weakly(session.projection_changed, self, ScatterPanel._on_projection_changed)
        connect_weakly(session.column_added, self, ScatterPanel._on_column_added)
        connect_weakly(session.selection.changed, self, ScatterPanel._on_selection_changed)
        connect_weakly(session.selection.focus_changed, self, ScatterPanel._on_focus_changed)
        connect_weakly(session.selection.subsets.changed, self, ScatterPanel._on_subsets_changed)
        if session.catalogue is not None:
            self._on_catalogue_changed(session.catalogue)

    # -- toolbar --------------------------------------------------------------------
    def _make_toolbar(self) -> QToolBar:
        toolbar = QToolBar("Map tools", self)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        group = QActionGroup(self)
        group.setExclusive(True)
        keys = "Shift adds, Ctrl subtracts, Ctrl+Shift intersects, Ctrl+Alt xors"
        hints = {
            ToolMode.PAN: ("Pan", "Drag to pan, wheel to zoom, click a point to focus it (P)", "P"),
            ToolMode.BOX: ("Box", f"Drag a box to select; {keys} (B)", "B"),
            ToolMode.LASSO: ("Lasso", f"Draw around points to select; {keys} (L)", "L"),
            ToolMode.POLYGON: ("Polygon", "Click the corners of a polygon, double-click or "
                               f"Enter to close it, Esc to cancel; {keys} (G)", "G"),
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
        self.combine_combo = QComboBox()
        self.combine_combo.setToolTip("How a new selection combines with the current one "
                                      "when no modifier key is held")
        for mode in SelectionMode:
            self.combine_combo.addItem(mode.value, mode)
        self.combine_combo.currentIndexChanged.connect(
            lambda _i: self.set_combine_mode(self.combine_combo.currentData()))
        toolbar.addWidget(self.combine_combo)
        toolbar.addSeparator()
        reset = QAction("Reset view", self, toolTip="Show all points")
        reset.triggered.connect(self.reset_view)
        toolbar.addAction(reset)
        self.zoom_selection_action = QAction("Zoom to selection", self, shortcut="Z",
                                             toolTip="Show the selected points (Z)")
        self.zoom_selection_action.setShortcutContext(
            Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.zoom_selection_action.triggered.connect(self.zoom_to_selection)
        toolbar.addAction(self.zoom_selection_action)
        clear = QAction("Clear selection", self, shortcut="Esc",
                        toolTip="Select nothing, or cancel the polygon being drawn (Esc)")
        clear.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        clear.triggered.connect(self._escape)
        toolbar.addAction(clear)
        close_polygon = QAction("Close polygon", self, shortcut="Return")
        close_polygon.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        close_polygon.triggered.connect(lambda: self.finish_polygon())
        self.addAction(close_polygon)
        # Shortcuts of the toolbar's actions work wherever the focus is in the panel
        # (a widget-with-children shortcut is live in the widgets its action is added to).
        for action in (*self.tool_actions.values(), self.zoom_selection_action, clear):
            self.addAction(action)
        toolbar.addSeparator()
        return toolbar

    def _make_colour_row(self) -> QWidget:
        """Under the plot while colouring by a continuous column: a "Colour scale"
        button whose popup holds the colour map, the limits preset and the two limits,
        and the count of rows without a value (grey). Narrow, so the map keeps its room."""
        row = QWidget()
        row.setStyleSheet("background: white;")
        layout = QHBoxLayout(row)
        layout.setContentsMargins(8, 1, 8, 1)
        self.colour_map_combo = QComboBox()
        self.colour_map_combo.addItems(list(COLOUR_MAPS))
        self.colour_map_combo.setToolTip("Colour map")
        self.colour_map_combo.currentTextChanged.connect(self.set_colour_map)
        self.limits_combo = QComboBox()
        self.limits_combo.addItems([*LIMIT_PRESETS, "custom"])
        self.limits_combo.setToolTip("Values at the ends of the colour map: the 1st and 99th "
                                     "percentiles, the extremes, or the two boxes")
        self.limits_combo.textActivated.connect(self._on_limits_preset)
        self.low_spin, self.high_spin = QDoubleSpinBox(), QDoubleSpinBox()
        for spin, tip in ((self.low_spin, "Value at the low end of the colour map"),
                          (self.high_spin, "Value at the high end of the colour map")):
            spin.setRange(-1e30, 1e30)
            spin.setDecimals(4)
            spin.setKeyboardTracking(False)
            spin.setMaximumWidth(130)  # the range's width would widen the window
            spin.setToolTip(tip)
            spin.valueChanged.connect(lambda _v: self._on_limit_spin())
        form_widget = QWidget()
        form = QFormLayout(form_widget)
        form.setContentsMargins(8, 6, 8, 6)
        form.addRow("Colour map", self.colour_map_combo)
        form.addRow("Limits", self.limits_combo)
        form.addRow("Low", self.low_spin)
        form.addRow("High", self.high_spin)
        menu = QMenu(row)
        action = QWidgetAction(menu)
        action.setDefaultWidget(form_widget)
        menu.addAction(action)
        self.colour_scale_button = QToolButton()
        self.colour_scale_button.setText("Colour scale")
        self.colour_scale_button.setToolTip("Colour map and the values at its ends")
        self.colour_scale_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.colour_scale_button.setMenu(menu)
        self.scale_label = QLabel()
        self.scale_label.setStyleSheet("color: #555;")
        self.missing_label = QLabel()
        self.missing_label.setToolTip("Rows without a value are drawn in grey")
        layout.addWidget(self.colour_scale_button)
        layout.addWidget(self.scale_label)
        layout.addWidget(self.missing_label)
        layout.addStretch(1)
        row.hide()
        return row

    def _make_view_controls(self) -> QWidget:
        bar = QWidget()
        layout = QHBoxLayout(bar)
        layout.setContentsMargins(6, 2, 6, 2)
        self.x_combo, self.y_combo = QComboBox(), QComboBox()
        self.colour_combo, self.size_combo = QComboBox(), QComboBox()
        for label, combo, tip in (("X", self.x_combo, "Column on the horizontal axis"),
                                  ("Y", self.y_combo, "Column on the vertical axis"),
                                  ("Colour", self.colour_combo, "Colour the points by a column"),
                                  ("Size", self.size_combo, "Size the points by a column")):
            combo.setToolTip(tip)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(4)
            layout.addWidget(QLabel(label))
            layout.addWidget(combo, 1)
        self.x_combo.activated.connect(lambda _i: self._on_view_axes())
        self.y_combo.activated.connect(lambda _i: self._on_view_axes())
        self.colour_combo.activated.connect(
            lambda _i: self.set_colour_by(self.colour_combo.currentData() or ""))
        self.size_combo.activated.connect(
            lambda _i: self.set_size_by(self.size_combo.currentData() or ""))
        return bar

    def _fill_view_controls(self) -> None:
        catalogue = self.session.catalogue
        if self.view_controls is None or catalogue is None:
            return
        numeric = catalogue.numeric_columns()
        entries = (
            (self.x_combo, [("(map)", None)] * (self.session.projection is not None)
             + [("(row index)", "")] + [(c, c) for c in numeric]),
            (self.y_combo, [("(map)", None)] * (self.session.projection is not None)
             + [("(row index)", "")] + [(c, c) for c in numeric]),
            (self.colour_combo, [("(single colour)", "")]
             + [(c, c) for c in colour_by_candidates(catalogue)]),
            (self.size_combo, [("(fixed size)", "")] + [(c, c) for c in numeric]),
        )
        for combo, items in entries:
            combo.blockSignals(True)
            combo.clear()
            for label, data in items:
                combo.addItem(label, data)
            combo.blockSignals(False)
        self._sync_view_controls()

    def _sync_view_controls(self) -> None:
        """Show this view's axes, colour and size in its own choosers."""
        if self.view_controls is None or not self.x_combo.count():
            return
        for combo in (self.x_combo, self.y_combo, self.colour_combo, self.size_combo):
            combo.blockSignals(True)
        if self.showing_projection:
            self.x_combo.setCurrentIndex(0)
            self.y_combo.setCurrentIndex(0)
        else:
            self.x_combo.setCurrentIndex(max(0, self.x_combo.findData(self.x_column)))
            self.y_combo.setCurrentIndex(max(0, self.y_combo.findData(self.y_column)))
        self.colour_combo.setCurrentIndex(max(0, self.colour_combo.findData(self.colour_column)))
        self.size_combo.setCurrentIndex(max(0, self.size_combo.findData(self.size_column)))
        for combo in (self.x_combo, self.y_combo, self.colour_combo, self.size_combo):
            combo.blockSignals(False)

    def _on_view_axes(self) -> None:
        x, y = self.x_combo.currentData(), self.y_combo.currentData()
        if x is None or y is None:
            self.show_projection(True)
        else:
            self.set_axis_columns(x, y)

    def set_tool(self, tool: ToolMode | str) -> None:
        """Choose what a left-drag (or click) does: pan, box, lasso or polygon."""
        self.cancel_polygon()
        self.tool = ToolMode(tool)
        self.tool_actions[self.tool].setChecked(True)
        shape = Qt.CursorShape
        self.plot_widget.viewport().setCursor(
            shape.ArrowCursor if self.tool is ToolMode.PAN else shape.CrossCursor)
        self.tool_changed.emit(self.tool.value)

    def set_combine_mode(self, mode: SelectionMode | str) -> None:
        """How selections made without a modifier key combine with the current one."""
        self.combine_mode = SelectionMode(mode)
        i = self.combine_combo.findData(self.combine_mode)
        if i != self.combine_combo.currentIndex():
            self.combine_combo.setCurrentIndex(i)

    def effective_mode(self, modifiers: Qt.KeyboardModifier) -> SelectionMode:
        """The combine mode of a mouse selection made with ``modifiers`` held."""
        mode = mode_from_modifiers(modifiers)
        return self.combine_mode if mode is SelectionMode.REPLACE else mode

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
    def drawn_rows(self) -> np.ndarray:
        """Catalogue rows drawn and selectable (not in a hidden category), shape (m,)."""
        return self._rows[self._drawn_idx]

    @property
    def showing_projection(self) -> bool:
        """True when the points are the projection, False when two columns."""
        return self.use_projection and self.session.projection is not None

    def set_axis_columns(self, x_column: str, y_column: str) -> None:
        """Plot two columns (``""`` for the row index) and show them, not the map."""
        self.x_column, self.y_column = x_column, y_column
        self.use_projection = False
        self.refresh(autorange=True)
        self._sync_view_controls()

    def show_projection(self, show: bool = True) -> None:
        """Show the projection when there is one (else the chosen columns)."""
        self.use_projection = show
        self.refresh(autorange=True)
        self._sync_view_controls()

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
        if finite.all():
            self._rows = np.arange(len(xy), dtype=np.int64)
            self._xy = np.ascontiguousarray(xy)
        else:
            self._rows = np.flatnonzero(finite).astype(np.int64)
            self._xy = xy[finite]
        self._index_of_row = np.full(n, -1, dtype=np.int64)
        self._index_of_row[self._rows] = np.arange(self._rows.size)
        is_sky = (not self.showing_projection and self.x_column.lower().startswith("ra")
                  and self.y_column.lower().startswith("de"))
        self.view_box.invertX(is_sky)  # east to the left, as on the sky
        self.plot_item.setLabel("bottom", labels[0])
        self.plot_item.setLabel("left", labels[1])
        self._compute_membership()
        self._apply_colours(rebuild=False)
        self._apply_sizes()
        self._update_drawn()
        self._update_caption()
        if autorange:
            self.reset_view()
        self._rebuild()

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
        if not self._rows.size:
            return
        lo, hi = self._xy.min(axis=0), self._xy.max(axis=0)
        span = np.where(hi > lo, hi - lo, np.maximum(np.abs(hi), 1.0) * 0.1)
        lo, hi = lo - 0.05 * span, hi + 0.05 * span
        self.view_box.setRange(xRange=(lo[0], hi[0]), yRange=(lo[1], hi[1]), padding=0)
        self.update_level_of_detail(exact=True)

    def zoom_to_selection(self) -> bool:
        """Zoom to the drawn selected points (10% margin); False if none is drawn."""
        idx = self._selected_idx
        if not idx.size:
            return False
        xy = self._xy[idx]
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        (vx0, vx1), (vy0, vy1) = self.view_box.viewRange()
        minimum = np.array([abs(vx1 - vx0), abs(vy1 - vy0)]) * 0.02
        span = np.maximum(hi - lo, minimum)
        centre = (lo + hi) / 2
        lo, hi = centre - 0.6 * span, centre + 0.6 * span
        self.view_box.setRange(xRange=(lo[0], hi[0]), yRange=(lo[1], hi[1]), padding=0)
        self.update_level_of_detail(exact=True)
        return True

    # -- level of detail ------------------------------------------------------------
    def _on_range_changed(self, *_args) -> None:
        if self._drawn_idx.size > self.lod_threshold or self._selected_idx.size > \
                OVERLAY_POINT_LIMIT or (self._membership is not None
                                        and self._drawn_idx.size > OVERLAY_POINT_LIMIT):
            if not self._lod_timer.isActive():
                self._lod_timer.start()

    def _view_rect(self) -> tuple[float, float, float, float]:
        (x0, x1), (y0, y1) = self.view_box.viewRange()
        return min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0)

    def _raster_geometry(self, margin: float | None = None
                         ) -> tuple[tuple[float, float, float, float], tuple[int, int]]:
        """The area a raster or a point set covers (the view plus margins) and its
        bins (``_BIN_PX`` screen pixels each)."""
        x0, y0, w, h = self._view_rect()
        m = _MARGIN if margin is None else margin
        rect = (x0 - m * w, y0 - m * h, w * (1 + 2 * m), h * (1 + 2 * m))
        size = self.view_box.size()
        nx = max(8, int(size.width() * (1 + 2 * m) / _BIN_PX))
        ny = max(8, int(size.height() * (1 + 2 * m) / _BIN_PX))
        return rect, (ny, nx)

    @staticmethod
    def _in_rect(x: np.ndarray, y: np.ndarray, rect: tuple[float, float, float, float]
                 ) -> np.ndarray:
        x0, y0, w, h = rect
        return (x >= x0) & (x <= x0 + w) & (y >= y0) & (y <= y0 + h)

    def update_level_of_detail(self, exact: bool = False) -> None:
        """Rebuild the map layer and overlays for the current view range, if needed:
        the density raster while more than :attr:`lod_threshold` drawn points are in
        view, point items for the points around the view otherwise.

        Called (throttled) while the range changes. What was built is kept while the
        view stays inside the area it covers: a point set whatever the zoom, a raster
        while the zoom is within 25% of its own; ``exact`` (run once the view has
        settled) rebuilds anything built for another zoom."""
        self._lod_timer.stop()
        if exact:
            self._settle_timer.stop()
        view = self._view_rect()
        zoom = (view[2], view[3])
        n = self._drawn_idx.size
        if n <= self.lod_threshold:
            key = ("all", self._gen)
            if self._built != key:
                self._show_points(self._drawn_idx, _point_size(self._rows.size))
                self._built = key
        elif not self._reusable(self._built, self._gen, view, exact):
            in_view = self._in_rect(self._dx, self._dy, view)
            count = int(np.count_nonzero(in_view))
            rect, shape = self._raster_geometry()
            if count > self.lod_threshold:
                self._show_raster(rect, shape)
                self._built = ("raster", self._gen, rect, zoom)
            else:
                rect, _shape = self._raster_geometry(_POINTS_MARGIN)
                around = self._in_rect(self._dx, self._dy, rect)
                self._show_points(self._drawn_idx[around], _point_size(count))
                self._built = ("points", self._gen, rect, zoom)
        self._update_overlays(view, exact)
        stale = [b for b in (self._built, self._overlay_built)
                 if b is not None and len(b) >= 4 and b[2] is not None
                 and abs(view[2] / b[3][0] - 1.0) >= 1e-6]
        if stale and not exact:
            self._settle_timer.start()

    def _settle(self) -> None:
        self.update_level_of_detail(exact=True)

    @staticmethod
    def _reusable(built: tuple | None, gen: int, view: tuple[float, float, float, float],
                  exact: bool) -> bool:
        """Whether a layer built as ``(kind, gen, rect, zoom)`` still serves ``view``."""
        if built is None or len(built) != 4 or built[1] != gen or built[2] is None:
            return False
        if not _contains(built[2], view):
            return False
        ratio = view[2] / built[3][0] if built[3][0] else 0.0
        if built[0] == "points":
            # Zooming in keeps a superset of the points in view; zooming out never
            # stays inside the area, so the set is rebuilt then.
            return not exact or abs(ratio - 1.0) < 1e-6
        if exact:
            return abs(ratio - 1.0) < 1e-6
        return 0.8 <= ratio <= 1.25

    def _show_points(self, idx: np.ndarray, size: int) -> None:
        """Point items for plotted points ``idx`` (indices into :attr:`plotted_rows`)."""
        self.detail = "points"
        self.density_item.hide()
        if self._scheme is None:
            brush = _DEFAULT_BRUSH
        else:
            brush = self._scheme.brushes[self._codes[idx]]
        sizes = self._sizes[idx] if self._sizes is not None else size
        self.scatter.setData(pos=self._xy[idx], data=self._rows[idx], brush=brush, size=sizes,
                             antialias=idx.size < 50_000)
        self.scatter.show()

    def _raster_colours(self) -> tuple[np.ndarray | None, np.ndarray | None, int]:
        if self._scheme is None:
            return None, None, 0
        return self._codes, self._scheme.rgba, self._scheme.n_levels

    def _show_raster(self, rect: tuple[float, float, float, float], shape: tuple[int, int]
                     ) -> None:
        self.detail = "raster"
        around = self._in_rect(self._dx, self._dy, rect)
        idx = self._drawn_idx[around]
        codes, palette, n_levels = self._raster_colours()
        rgba, _counts = density_raster(self._dx[around], self._dy[around], rect, shape,
                                       None if codes is None else codes[idx], palette, n_levels)
        self.density_item.setImage(rgba, levels=(0, 255), autoLevels=False)
        self.density_item.setRect(QRectF(*rect))
        self.density_item.show()
        self.scatter.hide()
        self.scatter.setData(pos=np.empty((0, 2)))

    def _update_overlays(self, view: tuple[float, float, float, float],
                         exact: bool = False) -> None:
        """Selected points and subsets on top: points when few around the view, rasters
        when many."""
        rect, shape = self._raster_geometry()
        big = self._selected_idx.size > OVERLAY_POINT_LIMIT or (
            self._membership is not None and self._drawn_idx.size > OVERLAY_POINT_LIMIT)
        zoom = (view[2], view[3])
        built = self._overlay_built
        if built is not None and built[0] == self._overlay_gen and built[1] == self._gen \
                and built[4] == self.detail:
            if not big and built[2] is None:
                return
            if big and built[2] is not None and self._reusable(
                    ("raster", self._gen, built[2], built[3]), self._gen, view, exact):
                return
        sel = self._selected_idx
        if big:
            sel = sel[self._in_rect(self._xy[sel, 0], self._xy[sel, 1], rect)]
        size = _point_size(self._rows.size) + 2
        if sel.size <= OVERLAY_POINT_LIMIT:
            brush = _DEFAULT_BRUSH if self._scheme is None else \
                self._scheme.brushes[self._codes[sel]]
            sizes = self._sizes[sel] + 2 if self._sizes is not None else size
            self.selected_item.setData(pos=self._xy[sel], brush=brush, size=sizes)
            self.selected_raster.hide()
            self.overlay_detail = "points"
        else:
            self.selected_item.setData(pos=np.empty((0, 2)))
            codes, palette, n_levels = self._raster_colours()
            rgba, counts = density_raster(self._xy[sel, 0], self._xy[sel, 1], rect, shape,
                                          None if codes is None else codes[sel], palette,
                                          n_levels, alpha=255)
            self.selected_raster.setImage(_outline(rgba, counts), levels=(0, 255),
                                          autoLevels=False)
            self.selected_raster.setRect(QRectF(*rect))
            self.selected_raster.show()
            self.overlay_detail = "raster"
        self._draw_subsets(rect, shape, big, size)
        self._overlay_built = (self._overlay_gen, self._gen, rect if big else None, zoom,
                               self.detail)

    def _draw_subsets(self, rect: tuple[float, float, float, float], shape: tuple[int, int],
                      big: bool, size: int) -> None:
        if self._membership is None:
            self.subset_item.setData(pos=np.empty((0, 2)))
            self.subset_raster.hide()
            return
        members = self._drawn_idx[self._membership[self._drawn_idx] >= 0]
        if big:
            members = members[self._in_rect(self._xy[members, 0], self._xy[members, 1], rect)]
        which = self._membership[members].astype(np.int64)
        # Rings while they stay apart; over a density raster, more than a few thousand
        # rings would hide the map, so a tint then.
        limit = OVERLAY_POINT_LIMIT if self.detail == "points" else SUBSET_RING_LIMIT
        if members.size <= limit:
            pens = np.array([pg.mkPen(c, width=2 if members.size < 2_000 else 1.2)
                             for c in self._subset_colours], dtype=object)
            self.subset_item.setData(pos=self._xy[members], pen=pens[which], brush=None,
                                     size=size + (4 if members.size < 2_000 else 2),
                                     data=self._rows[members])
            self.subset_raster.hide()
            return
        self.subset_item.setData(pos=np.empty((0, 2)))
        palette = np.array([pg.mkColor(c).getRgb() for c in self._subset_colours],
                           dtype=np.uint8)
        rgba, _counts = density_raster(self._xy[members, 0], self._xy[members, 1], rect, shape,
                                       which, palette, 0, alpha=170)
        self.subset_raster.setImage(rgba, levels=(0, 255), autoLevels=False)
        self.subset_raster.setRect(QRectF(*rect))
        self.subset_raster.show()

    def _rebuild(self, overlays_only: bool = False) -> None:
        self._overlays_stale = False
        if not overlays_only:
            self._gen += 1
        self._overlay_gen += 1
        self.update_level_of_detail(exact=True)

    # -- colour and size ----------------------------------------------------------------
    def set_colour_by(self, column: str) -> None:
        """Colour points by a column (``""`` for one colour): a colour map and colour
        bar for continuous values, distinct colours and a legend for categories."""
        catalogue = self.session.catalogue
        if column and (catalogue is None or column not in catalogue.table.colnames):
            raise KeyError(f"no column {column!r} to colour by")
        if column != self.colour_column:
            self._custom_limits = None
            self._hidden.clear()
        self.colour_column = column
        self._apply_colours()

    def set_colour_map(self, name: str) -> None:
        """Colour map of continuous columns, one of :data:`COLOUR_MAPS`."""
        if name not in COLOUR_MAPS:
            raise KeyError(f"unknown colour map {name!r}; choose from {list(COLOUR_MAPS)}")
        if name == self.colour_map:
            return
        self.colour_map = name
        self._set_combo_text(self.colour_map_combo, name)
        self._apply_colours()

    def set_colour_limits(self, low: float, high: float) -> None:
        """Values (in the column's unit) at the two ends of the colour map."""
        if not (np.isfinite(low) and np.isfinite(high)) or high <= low:
            raise ValueError(f"colour limits must be finite with low < high, not "
                             f"({low}, {high})")
        self._custom_limits = (float(low), float(high))
        self.limits_preset = "custom"
        self._apply_colours()

    def set_colour_limits_preset(self, preset: str) -> None:
        """Colour-map ends from the data: ``"1-99 %"`` or ``"min-max"``."""
        if preset not in LIMIT_PRESETS:
            raise KeyError(f"unknown colour limits {preset!r}; choose from "
                           f"{list(LIMIT_PRESETS)}")
        self.limits_preset = preset
        self._custom_limits = None
        self._apply_colours()

    def set_size_by(self, column: str) -> None:
        """Size points by a numeric column (2-12 px, NaN smallest); ``""`` for one size."""
        catalogue = self.session.catalogue
        if column and (catalogue is None or column not in catalogue.numeric_columns()):
            raise KeyError(f"no numeric column {column!r} to size by")
        self.size_column = column
        self._apply_sizes()
        self._rebuild()

    @property
    def colour_scheme(self) -> ColourScheme | None:
        """How the points are coloured now (None for a single colour)."""
        return self._scheme

    @property
    def point_sizes(self) -> np.ndarray | None:
        """Pixels per plotted point (aligned with :attr:`plotted_rows`), or None."""
        return self._sizes

    def _apply_sizes(self) -> None:
        catalogue = self.session.catalogue
        column = self.size_column
        if not column or catalogue is None or column not in catalogue.table.colnames:
            self.size_column, self._sizes = "", None
            return
        self._sizes = size_scale(self._column_values(catalogue, column))[self._rows]

    def _apply_colours(self, rebuild: bool = True) -> None:
        catalogue = self.session.catalogue
        column = self.colour_column if catalogue is not None else ""
        if column and column not in catalogue.table.colnames:
            column = self.colour_column = ""
        if column:
            values = catalogue.table[column]
            limits = self._custom_limits
            if limits is None and self.limits_preset in LIMIT_PRESETS \
                    and self.limits_preset != "1-99 %" and values.dtype.kind in "iufb":
                limits = colour_limits(values, self.limits_preset)
            self._scheme = colour_scheme(values, column, limits=limits,
                                         colour_map=self.colour_map)
        else:
            self._scheme = None
        self._codes = None if self._scheme is None else self._scheme.index[self._rows]
        if self._scheme is None or not self._scheme.categories:
            self._hidden.clear()
        self._update_drawn()
        if self._scheme is None:
            self.legend.hide()
            self.colour_row.hide()
            self._show_colour_bar(False)
        elif self._scheme.categories:
            self.legend.setText(self._legend_html(catalogue, column))
            self.legend.show()
            self.colour_row.hide()
            self._show_colour_bar(False)
        else:
            self.legend.hide()
            self.colour_bar.setColorMap(self._scheme.colour_map)
            self.colour_bar.setLevels(self._scheme.levels)
            self.colour_bar.axis.setLabel(self._axis_label(catalogue, column))
            self._show_colour_bar(True)
            self._update_colour_row()
        if rebuild:
            self._rebuild()

    def _update_colour_row(self) -> None:
        scheme = self._scheme
        lo, hi = scheme.levels
        for spin, value in ((self.low_spin, lo), (self.high_spin, hi)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        self._set_combo_text(self.limits_combo, "custom" if self._custom_limits is not None
                             else self.limits_preset)
        self._set_combo_text(self.colour_map_combo, self.colour_map)
        self.scale_label.setText(f"{self.colour_map}, {lo:.4g} \u2013 {hi:.4g}")
        n_missing = scheme.n_missing
        self.missing_label.setText(
            f'<span style="color:{MISSING_COLOUR}; font-size:large">\u25cf</span>'
            f"&nbsp;missing ({n_missing})" if n_missing else "")
        self.colour_row.show()

    @staticmethod
    def _set_combo_text(combo: QComboBox, text: str) -> None:
        combo.blockSignals(True)
        combo.setCurrentText(text)
        combo.blockSignals(False)

    def _on_limits_preset(self, text: str) -> None:
        if text in LIMIT_PRESETS:
            self.set_colour_limits_preset(text)
        else:
            self._on_limit_spin()

    def _on_limit_spin(self) -> None:
        low, high = self.low_spin.value(), self.high_spin.value()
        if high > low:
            self.set_colour_limits(low, high)

    @property
    def legend_entries(self) -> list[str]:
        """Labels of the legend (categories with their counts); empty if none."""
        return [label for label, _brush in self._scheme.categories] if self._scheme else []

    @property
    def hidden_categories(self) -> list[str]:
        """Legend labels of the categories hidden now."""
        return [label for i, (label, _b) in enumerate(self._scheme.categories)
                if self._category_code(i) in self._hidden] if self._scheme else []

    def _category_code(self, entry: int) -> int:
        """Brush index of legend entry ``entry`` ("other" and "missing" included)."""
        brush = self._scheme.categories[entry][1]
        return next(i for i, b in enumerate(self._scheme.brushes) if b is brush)

    def set_category_visible(self, category: str | int, visible: bool) -> None:
        """Show or hide a category (a legend label, its name without the count, or its
        legend position); hidden points are neither drawn nor selectable."""
        if self._scheme is None or not self._scheme.categories:
            raise KeyError("the points are not coloured by categories")
        labels = self.legend_entries
        if isinstance(category, str):
            names = [label.rsplit(" (", 1)[0] for label in labels]
            if category in labels:
                entry = labels.index(category)
            elif category in names:
                entry = names.index(category)
            else:
                raise KeyError(f"no category {category!r}; the legend has {labels}")
        else:
            entry = int(category)
        code = self._category_code(entry)
        (self._hidden.discard if visible else self._hidden.add)(code)
        self._update_drawn()
        self.legend.setText(self._legend_html(self.session.catalogue, self.colour_column))
        self._rebuild()

    def toggle_category(self, entry: int) -> None:
        """Hide a shown category, or show a hidden one (a click on the legend)."""
        code = self._category_code(entry)
        self.set_category_visible(entry, code in self._hidden)

    def _update_drawn(self) -> None:
        n = self._rows.size
        if self._hidden and self._codes is not None:
            self._drawn = ~np.isin(self._codes, list(self._hidden))
            self._drawn_idx = np.flatnonzero(self._drawn)
            self._dx = self._xy[self._drawn_idx, 0].copy()
            self._dy = self._xy[self._drawn_idx, 1].copy()
        else:
            self._drawn = np.ones(n, dtype=bool)
            self._drawn_idx = np.arange(n, dtype=np.int64)
            self._dx = np.ascontiguousarray(self._xy[:, 0])
            self._dy = np.ascontiguousarray(self._xy[:, 1])
        self._selected_idx = self._selected_indices()

    def _legend_html(self, catalogue: Catalogue, column: str) -> str:
        entries = []
        for i, (label, brush) in enumerate(self._scheme.categories):
            hidden = self._category_code(i) in self._hidden
            colour = "#cccccc" if hidden else brush.color().name()
            text = html.escape(label)
            text = f"<s>{text}</s>" if hidden else text
            entries.append(f'<a href="{i}" style="color:#222; text-decoration:none">'
                           f'<span style="color:{colour}; font-size:large">\u25cf</span>'
                           f"&nbsp;{text}</a>")
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

    # -- subsets ------------------------------------------------------------------------
    def _compute_membership(self) -> None:
        subsets = self.session.selection.subsets
        if self.session.catalogue is None or not len(subsets) \
                or subsets.n_rows != len(self.session.catalogue):
            self._membership, self._subset_colours = None, []
            return
        membership = subsets.membership()[self._rows]
        self._subset_colours = [s.colour for s in subsets]
        self._membership = membership if (membership >= 0).any() else None

    @property
    def subset_membership(self) -> np.ndarray | None:
        """Per plotted point, the index of the visible subset drawn for it or -1."""
        return self._membership

    def _on_subsets_changed(self, _name: str | None) -> None:
        self._compute_membership()
        self._rebuild(overlays_only=True)

    # -- selection and focus ----------------------------------------------------------
    def select_box(self, x0: float, y0: float, x1: float, y1: float,
                   mode: SelectionMode = SelectionMode.REPLACE) -> RowSet:
        """Select the drawn points inside a box given in plot coordinates."""
        inside = points_in_box(self._xy, x0, y0, x1, y1) & self._drawn
        rows = RowSet(self._rows[inside])
        self._select(rows, mode, f"box on the {self._what()}")
        return rows

    def select_lasso(self, polygon: np.ndarray | list[tuple[float, float]],
                     mode: SelectionMode = SelectionMode.REPLACE) -> RowSet:
        """Select the drawn points inside a polygon (M, 2) given in plot coordinates."""
        return self._select_polygon(polygon, mode, "lasso")

    def select_polygon(self, polygon: np.ndarray | list[tuple[float, float]],
                       mode: SelectionMode = SelectionMode.REPLACE) -> RowSet:
        """Select the drawn points inside a polygon (M, 2) of clicked vertices."""
        return self._select_polygon(polygon, mode, "polygon")

    def _select_polygon(self, polygon, mode: SelectionMode, what: str) -> RowSet:
        polygon = np.asarray(polygon, dtype=float)
        inside = points_in_polygon(self._xy, polygon) & self._drawn
        rows = RowSet(self._rows[inside])
        self._select(rows, mode, f"{what} on the {self._what()}")
        return rows

    # -- the polygon tool ---------------------------------------------------------------
    @property
    def polygon_vertices(self) -> list[tuple[float, float]]:
        """Vertices of the polygon being drawn (plot coordinates)."""
        return list(self._polygon)

    def add_polygon_vertex(self, x: float, y: float,
                           modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
                           ) -> None:
        """Add a corner to the polygon being drawn; ``modifiers`` (held at the click)
        choose how it will combine with the selection."""
        if self._polygon and self._polygon[-1] == (x, y):
            return
        self._polygon.append((float(x), float(y)))
        self._polygon_modifiers = modifiers
        self.view_box.show_outline(self._polygon, closed=False)

    def finish_polygon(self, modifiers: Qt.KeyboardModifier | None = None) -> RowSet | None:
        """Close the polygon being drawn and select inside it (None if it has fewer
        than three corners, which cancels it)."""
        vertices, held = self._polygon, self._polygon_modifiers
        self.cancel_polygon()
        if len(vertices) < 3:
            return None
        mode = self.effective_mode(held if modifiers is None else modifiers | held)
        return self.select_polygon(vertices, mode)

    def cancel_polygon(self) -> None:
        """Forget the polygon being drawn."""
        self._polygon = []
        self._polygon_modifiers = Qt.KeyboardModifier.NoModifier
        self.view_box.show_outline([], closed=False)

    def _escape(self) -> None:
        if self._polygon:
            self.cancel_polygon()
        else:
            self.clear_selection()

    # -- picking --------------------------------------------------------------------------
    def nearest_row(self, x: float, y: float, tolerance_px: float = 8.0) -> int | None:
        """Catalogue row of the drawn point nearest plot position (x, y), within
        ``tolerance_px`` screen pixels, or None. Looks only at the points in a small
        box around (x, y) (a few vectorised comparisons at any N)."""
        if not self._drawn_idx.size:
            return None
        px, py = (abs(v) for v in self.view_box.viewPixelSize())
        px, py = px or 1e-12, py or 1e-12
        near = np.flatnonzero((np.abs(self._dx - x) <= tolerance_px * px)
                              & (np.abs(self._dy - y) <= tolerance_px * py))
        if not near.size:
            return None
        d2 = ((self._dx[near] - x) / px) ** 2 + ((self._dy[near] - y) / py) ** 2
        best = int(np.argmin(d2))
        if d2[best] > tolerance_px**2:
            return None
        return int(self._rows[self._drawn_idx[near[best]]])

    def focus_at(self, x: float, y: float, tolerance_px: float = 8.0) -> int | None:
        """Focus the point nearest plot position (x, y) within ``tolerance_px`` pixels;
        returns its row, or None (focus unchanged) if no point is that close."""
        row = self.nearest_row(x, y, tolerance_px)
        if row is not None:
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

    # -- hover ----------------------------------------------------------------------------
    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        if self._polygon:
            here = self.view_box.mapSceneToView(scene_pos)
            self.view_box.show_outline([*self._polygon, (here.x(), here.y())], closed=False)
        self._hover_scene_pos = QPointF(scene_pos)
        if not self._hover_timer.isActive():
            self._hover_timer.start()

    def _hover_now(self) -> None:
        if self._hover_scene_pos is None:
            return
        if not self.view_box.sceneBoundingRect().contains(self._hover_scene_pos):
            self.hover_at(None, None)
            return
        here = self.view_box.mapSceneToView(self._hover_scene_pos)
        self.hover_at(here.x(), here.y())

    @property
    def hover_text(self) -> str:
        """The hover tooltip's text (rich text), ``""`` when it is hidden."""
        return self.hover_tip.text_label.text() if self._hover_row is not None else ""

    @property
    def hover_row(self) -> int | None:
        """The row the hover tooltip shows, or None."""
        return self._hover_row

    def hover_at(self, x: float | None, y: float | None) -> int | None:
        """Show the tooltip (thumbnail, id, ra/dec, colour column, axes values) of the
        point nearest plot position (x, y), or hide it; returns the row or None."""
        catalogue = self.session.catalogue
        row = None if x is None or catalogue is None else self.nearest_row(x, y)
        if row is None:
            self._hover_row = None
            self.hover_tip.hide()
            return None
        if row != self._hover_row:
            self._hover_row = row
            pixmap = _thumbnail(catalogue, row)
            self.hover_tip.image_label.setVisible(pixmap is not None)
            if pixmap is not None:
                self.hover_tip.image_label.setPixmap(pixmap)
            self.hover_tip.text_label.setText(self._hover_html(catalogue, row))
            self.hover_tip.adjustSize()
        if self.isVisible():
            pos = self.plot_widget.mapToGlobal(self.view_to_widget(
                *self._xy[self._index_of_row[row]]))
            self.hover_tip.move(pos + QPoint(14, 14))
            self.hover_tip.show()
        return row

    def _hover_html(self, catalogue: Catalogue, row: int) -> str:
        table = catalogue.table
        lines = [f"<b>{html.escape(catalogue.object_label(row))}</b>"]
        lower = {c.lower(): c for c in table.colnames}
        shown = set()
        for pair in (("ra", "dec"), ("ra_deg", "dec_deg"), ("raj2000", "dej2000")):
            if pair[0] in lower and pair[1] in lower:
                ra, dec = lower[pair[0]], lower[pair[1]]
                lines.append(f"{html.escape(ra)} {self._format(table[ra][row])}, "
                             f"{html.escape(dec)} {self._format(table[dec][row])}")
                shown |= {ra, dec}
                break
        extra = [self.colour_column, self.size_column]
        if not self.showing_projection:
            extra += [self.x_column, self.y_column]
        for name in extra:
            if name and name in table.colnames and name not in shown:
                unit = table[name].unit
                suffix = f" {unit}" if unit is not None and str(unit) else ""
                lines.append(f"{html.escape(name)}: {self._format(table[name][row])}{suffix}")
                shown.add(name)
        if self.showing_projection:
            x, y = self._xy[self._index_of_row[row]]
            name = self.session.projection.method.upper()
            lines.append(f"{name} ({x:.3g}, {y:.3g})")
        return "<br>".join(lines)

    @staticmethod
    def _format(value: object) -> str:
        if np.ma.is_masked(value):
            return "\u2014"
        if isinstance(value, (float, np.floating)):
            return "NaN" if not np.isfinite(value) else f"{float(value):.6g}"
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        return html.escape(str(value))

    # -- session events -----------------------------------------------------------------
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

    def _selected_indices(self) -> np.ndarray:
        idx = self._plotted_indices(self.session.selection.rows.rows)
        return idx[self._drawn[idx]] if idx.size and self._hidden else idx

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
        self._fill_view_controls()

    def _on_selection_changed(self, _old: RowSet, _new: RowSet, _source: object) -> None:
        self._selected_idx = self._selected_indices()
        if hidden_in_shown_window(self):
            # Behind another tab: the overlays are drawn when the view is shown.
            self._overlays_stale = True
            return
        self._rebuild(overlays_only=True)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        """Draw the selection made while out of sight before the first paint."""
        on_revealed(self, self._catch_up)
        self._catch_up()
        super().showEvent(event)

    def _catch_up(self) -> None:
        if self._overlays_stale:
            self._rebuild(overlays_only=True)

    def _on_focus_changed(self, _row: int | None, _source: object) -> None:
        self._update_focus()

    def _on_column_added(self, _name: str) -> None:
        self._fill_view_controls()

    def _on_catalogue_changed(self, catalogue: Catalogue) -> None:
        self.x_column, self.y_column = default_axis_columns(catalogue)
        self.colour_column = ""
        self.size_column = ""
        self._custom_limits = None
        self._hidden.clear()
        self.use_projection = True
        self._hover_row = None
        self.hover_tip.hide()
        self.cancel_polygon()
        self.refresh(autorange=True)
        self._update_focus()
        self._fill_view_controls()


def open_scatter_view(window: QMainWindow, session: Session,
                      area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea
                      ) -> QDockWidget:
    """Open another scatter view of ``session`` in a dock of ``window`` (beside the
    catalogue table if it is docked, else in ``area``), with its own axes, colour and
    size choosers, linked to every other view through the Session
    (selection, focus, subsets). Closing the dock deletes the view, which then
    disconnects itself from the Session."""
    existing = window.findChildren(QDockWidget, "dock_scatter_view")
    panel = ScatterPanel(session, controls=True)
    dock = QDockWidget(f"Scatter {len(existing) + 2}", window)
    dock.setObjectName("dock_scatter_view")
    dock.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dock.setWidget(panel)
    # Beside the table (under the main map) when there is one: room without widening
    # the window; else in ``area``.
    table = window.findChild(QDockWidget, "dock_catalogue")
    if table is not None and table.isVisible() and not table.isFloating():
        # Not splitDockWidget(table, ...): the table is tabbed with the gallery, and
        # Qt adds a dock "split" from a tabbed one as one more tab, hiding the table.
        window.addDockWidget(window.dockWidgetArea(table), dock, Qt.Orientation.Horizontal)
    else:
        window.addDockWidget(area, dock)
    drop_retired_tab_bars(window)
    dock.show()
    dock.raise_()
    QApplication.processEvents()
    panel.reset_view()
    return dock
