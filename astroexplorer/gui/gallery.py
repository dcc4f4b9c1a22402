"""A virtualized gallery of cutout thumbnails: the selection, or an ordered list of rows."""

from __future__ import annotations

import logging
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..analysis.display import make_rgb, stretch_image
from ..core.catalogue import Catalogue
from ..core.images import ImageSource
from ..core.rowset import RowSet
from ..core.selection import SelectionMode
from ..core.session import Session
from .binding import connect_weakly
from .widgets import hidden_in_shown_window, on_revealed

__all__ = ["GalleryModel", "GalleryPanel", "render_thumbnail", "AS_LISTED",
           "MIN_THUMBNAIL", "MAX_THUMBNAIL", "FOCUS_ROLE"]

log = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex

#: Entry of the sort combo that keeps the rows in the order given (or row order).
AS_LISTED = "as listed"
#: Thumbnail size range of the slider, in screen pixels.
MIN_THUMBNAIL, MAX_THUMBNAIL = 48, 160
#: Item data role: True for the session's focused row.
FOCUS_ROLE = int(Qt.ItemDataRole.UserRole) + 1
#: Thumbnails kept (rendered cutouts, and pixmaps at the current size).
CACHE_SIZE = 3000
#: Most cutouts read with one ``get_many`` call.
MAX_BATCH = 512
#: Off-screen thumbnails rendered per idle step while the view waits (the next page,
#: then the previous one), so that scrolling on finds them ready.
PREFETCH_STEP = 4

_FOCUS_COLOUR = QColor(255, 140, 0)
_PLACEHOLDER = QColor(70, 70, 70)


def render_thumbnail(cutout: np.ndarray, bands: Sequence[str]) -> np.ndarray:
    """A cutout as the Cutout view shows it by default, ready for a QImage.

    Several bands make a Lupton et al. (2004) colour composite (:func:`make_rgb`),
    one band an asinh stretch of its 99.5% interval (:func:`stretch_image`), so an
    object looks the same here as in the image view.

    Parameters
    ----------
    cutout : ndarray, shape (C, H, W)
        Pixel values in any unit; NaN allowed.
    bands : sequence of str
        Band names, one per channel.

    Returns
    -------
    ndarray, shape (H, W, 3), uint8, C-contiguous
        Screen order: array row 0 is the top of the picture, so FITS row 0
        (``cutout[:, 0]``) ends at the bottom, as in DS9 and the Cutout view.
    """
    cutout = np.asarray(cutout, dtype=np.float32)
    if cutout.ndim != 3:
        raise ValueError(f"a cutout must have shape (C, H, W), not {cutout.shape}")
    if cutout.shape[0] > 1:
        rgb = make_rgb(cutout, bands)
    else:
        grey = stretch_image(cutout[0], "asinh", "percentile")
        rgb = np.repeat((grey * 255.0 + 0.5).astype(np.uint8)[:, :, None], 3, axis=2)
    return np.ascontiguousarray(rgb[::-1])


def _to_qimage(rgb: np.ndarray) -> QImage:
    """An (H, W, 3) uint8 array as a QImage owning a copy of the pixels, at most
    :data:`MAX_THUMBNAIL` on a side (large cutouts are shrunk once, not per paint)."""
    height, width = rgb.shape[:2]
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    if max(width, height) > MAX_THUMBNAIL:
        image = image.scaled(MAX_THUMBNAIL, MAX_THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    return image


def _format_number(value: float) -> str:
    if not np.isfinite(value):
        return "\u2014" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    return f"{value:.4g}"


class GalleryModel(QAbstractListModel):
    """Rows of a catalogue in a given order, with their thumbnails made on demand.

    Holds only an int64 array of catalogue rows (and optionally a float64 array of
    values shown under each thumbnail); no object per row. A thumbnail is rendered
    the first time a view asks for its ``DecorationRole``; cutouts are then read
    with one ``get_many`` for that row and every other uncached row in
    :attr:`visible_positions` (set by the view), and kept in an LRU cache.

    Attributes
    ----------
    render_count : int
        Cutouts rendered so far (for tests and measurements).
    visible_positions : callable or None
        Returns the ``(first, stop)`` list positions on screen, read in the same batch.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._catalogue: Catalogue | None = None
        self._rows = np.empty(0, dtype=np.int64)
        self._values: np.ndarray | None = None
        self._value_name = ""
        self._focus: int | None = None
        self._thumb = 80
        self._images: OrderedDict[int, QImage] = OrderedDict()
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()
        self.render_count = 0
        self.visible_positions: Callable[[], tuple[int, int]] | None = None

    # -- contents ------------------------------------------------------------------
    @property
    def catalogue(self) -> Catalogue | None:
        return self._catalogue

    @property
    def has_images(self) -> bool:
        """Whether the catalogue has cutouts to show."""
        return self._catalogue is not None and self._catalogue.images is not None

    @property
    def rows(self) -> np.ndarray:
        """The catalogue rows in display order, shape (n,), int64 (read-only view)."""
        view = self._rows.view()
        view.setflags(write=False)
        return view

    @property
    def values(self) -> np.ndarray | None:
        """The values shown under the thumbnails, shape (n,), float64, or None."""
        return self._values

    @property
    def value_name(self) -> str:
        return self._value_name

    @property
    def thumbnail_size(self) -> int:
        return self._thumb

    def set_catalogue(self, catalogue: Catalogue | None) -> None:
        """Show nothing of ``catalogue`` yet; forget the cached thumbnails."""
        self.beginResetModel()
        self._catalogue = catalogue
        self._rows = np.empty(0, dtype=np.int64)
        self._values, self._value_name, self._focus = None, "", None
        self._images.clear()
        self._pixmaps.clear()
        self.endResetModel()

    def set_rows(self, rows: np.ndarray, values: np.ndarray | None = None,
                 value_name: str = "") -> None:
        """Show catalogue ``rows`` (shape (n,), in this order) with ``values`` (shape (n,))."""
        rows = np.asarray(rows, dtype=np.int64).ravel()
        if values is not None:
            values = np.asarray(values, dtype=np.float64).ravel()
            if values.shape != rows.shape:
                raise ValueError(f"{values.size} values for {rows.size} rows")
        self.beginResetModel()
        self._rows, self._values, self._value_name = rows.copy(), values, value_name
        self.endResetModel()

    def set_thumbnail_size(self, pixels: int) -> None:
        """Draw thumbnails ``pixels`` on a side (the cutouts are not read again)."""
        pixels = int(np.clip(pixels, MIN_THUMBNAIL, MAX_THUMBNAIL))
        if pixels == self._thumb:
            return
        self._thumb = pixels
        self._pixmaps.clear()
        self.layoutChanged.emit()

    def position_of(self, row: int | None) -> int | None:
        """List position of catalogue ``row``, or None if it is not shown."""
        if row is None:
            return None
        hits = np.flatnonzero(self._rows == int(row))
        return int(hits[0]) if hits.size else None

    def set_focus(self, row: int | None) -> None:
        """Mark catalogue ``row`` as the focused one (:data:`FOCUS_ROLE`)."""
        old, self._focus = self.position_of(self._focus), row
        for pos in (old, self.position_of(row)):
            if pos is not None:
                index = self.index(pos)
                self.dataChanged.emit(index, index, [FOCUS_ROLE])

    def label(self, position: int) -> str:
        """The two lines under a thumbnail: the object's id, and its value if any."""
        row = int(self._rows[position])
        text = self._catalogue.object_label(row) if self._catalogue is not None else str(row)
        if self._values is not None:
            name = f"{self._value_name} " if self._value_name else ""
            text += f"\n{name}{_format_number(float(self._values[position]))}"
        return text

    # -- Qt model API -----------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else int(self._rows.size)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < self._rows.size:
            return None
        pos = index.row()
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(pos) if self.has_images else None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.label(pos)
        if role == FOCUS_ROLE:
            return self._focus is not None and int(self._rows[pos]) == self._focus
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{self.label(pos)}\nrow {int(self._rows[pos])}"
        if role == Qt.ItemDataRole.UserRole:
            return int(self._rows[pos])
        return None

    # -- thumbnails -------------------------------------------------------------------
    def _pixmap(self, pos: int) -> QPixmap | None:
        row = int(self._rows[pos])
        pixmap = self._pixmaps.get(row)
        if pixmap is not None:
            self._pixmaps.move_to_end(row)
            return pixmap
        image = self._images.get(row)
        if image is None:
            self._load(pos)
            image = self._images.get(row)
        else:
            self._images.move_to_end(row)
        if image is None or image.isNull():
            return None
        mode = (Qt.TransformationMode.FastTransformation if image.width() < self._thumb
                else Qt.TransformationMode.SmoothTransformation)  # pixels stay sharp when enlarged
        pixmap = QPixmap.fromImage(image.scaled(self._thumb, self._thumb,
                                                Qt.AspectRatioMode.KeepAspectRatio, mode))
        self._remember(self._pixmaps, row, pixmap)
        return pixmap

    def prefetch(self, first: int, stop: int, limit: int = PREFETCH_STEP) -> int:
        """Render up to ``limit`` uncached rows among list positions ``first:stop``
        (one read); returns how many were rendered."""
        if not self.has_images:
            return 0
        rows = self._rows[max(0, first):max(0, min(int(self._rows.size), stop))]
        todo: list[int] = []
        for row in rows.tolist():
            if row not in self._images and row not in todo:
                todo.append(row)
                if len(todo) >= limit:
                    break
        if todo:
            self._render(np.array(todo, dtype=np.int64))
        return len(todo)

    def _load(self, pos: int) -> None:
        """Render row ``pos`` and the uncached rows on screen with one read."""
        positions = [pos]
        if self.visible_positions is not None:
            first, stop = self.visible_positions()
            positions += range(max(0, first), min(int(self._rows.size), stop))
        rows = np.unique(self._rows[np.asarray(positions, dtype=np.int64)])
        rows = np.array([r for r in rows.tolist() if r not in self._images], dtype=np.int64)
        if int(self._rows[pos]) not in set(rows[:MAX_BATCH].tolist()):
            rows = np.array([int(self._rows[pos])], dtype=np.int64)
        self._render(rows[:MAX_BATCH])

    def _render(self, rows: np.ndarray) -> None:
        images: ImageSource = self._catalogue.images  # type: ignore[union-attr]
        try:
            cutouts = images.get_many(rows)
        except Exception:  # noqa: BLE001 - read one by one to find the bad row
            if rows.size > 1:
                for row in rows:
                    self._render(np.array([row], dtype=np.int64))
                return
            log.exception("reading the cutout of row %s failed", int(rows[0]))
            self._remember(self._images, int(rows[0]), QImage())
            return
        for row, cutout in zip(rows.tolist(), cutouts):
            try:
                image = _to_qimage(render_thumbnail(cutout, images.bands))
            except Exception:  # noqa: BLE001 - a bad cutout shows as a blank stamp
                log.exception("rendering the cutout of row %s failed", row)
                image = QImage()
            self.render_count += 1
            self._remember(self._images, row, image)

    @staticmethod
    def _remember(cache: OrderedDict, key: int, value: object) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)


class _ThumbnailDelegate(QStyledItemDelegate):
    """Draws a thumbnail (or a grey square while none) above two elided lines of text;
    the focused row gets an orange frame, highlighted rows the palette's highlight."""

    def __init__(self, model: GalleryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model

    def cell_size(self, option_font_height: int, thumbnail: int | None = None) -> QSize:
        """Size of one cell: the thumbnail (``thumbnail`` px, the model's by default)
        above two lines of text of ``option_font_height`` px."""
        thumb = self._model.thumbnail_size if thumbnail is None else thumbnail
        text_height = 2 * option_font_height + 4
        if not self._model.has_images:
            return QSize(max(thumb, 120) + 8, text_height + 8)
        return QSize(thumb + 12, thumb + text_height + 10)

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:  # noqa: N802
        return self.cell_size(option.fontMetrics.lineSpacing())

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        rect: QRect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect.adjusted(1, 1, -1, -1), option.palette.highlight())
        thumb = self._model.thumbnail_size
        top = rect.top() + 5
        if self._model.has_images:
            box = QRect(rect.left() + (rect.width() - thumb) // 2, top, thumb, thumb)
            pixmap = index.data(Qt.ItemDataRole.DecorationRole)
            if isinstance(pixmap, QPixmap) and not pixmap.isNull():
                x = box.left() + (thumb - pixmap.width()) // 2
                y = box.top() + (thumb - pixmap.height()) // 2
                painter.drawPixmap(x, y, pixmap)
            else:
                painter.fillRect(box, _PLACEHOLDER)
            if index.data(FOCUS_ROLE):
                painter.setPen(QPen(_FOCUS_COLOUR, 3))
                painter.drawRect(box.adjusted(-2, -2, 1, 1))
            top = box.bottom() + 4
        elif index.data(FOCUS_ROLE):
            painter.setPen(QPen(_FOCUS_COLOUR, 2))
            painter.drawRect(rect.adjusted(2, 2, -3, -3))
        metrics = option.fontMetrics
        painter.setFont(option.font)
        painter.setPen(option.palette.highlightedText().color() if selected
                       else option.palette.text().color())
        line_height = metrics.lineSpacing()
        width = rect.width() - 6
        for line in str(index.data(Qt.ItemDataRole.DisplayRole) or "").split("\n")[:2]:
            text = metrics.elidedText(line, Qt.TextElideMode.ElideMiddle, width)
            painter.drawText(QRect(rect.left() + 3, top, width, line_height),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, text)
            top += line_height


class GalleryPanel(QWidget):
    """Thumbnails of the Session's selection, or of an ordered list of rows.

    By default it follows the selection, sorted by the chosen column (or row
    order). :meth:`show_rows` shows a given list instead (neighbours with their
    distances, the most anomalous objects with their scores) until the selection
    changes or "Follow selection" is pressed. Clicking a thumbnail (or Enter,
    or a double click) focuses its row; Ctrl/Shift-click highlight several and
    "Select these" makes them the Session's selection.

    Only the thumbnails on screen are rendered (see :class:`GalleryModel`), so a
    selection of any size scrolls smoothly.

    Parameters
    ----------
    session : Session
        Followed through ``catalogue_changed``, ``column_added`` and the selection's
        ``changed`` and ``focus_changed``.
    parent : QWidget, optional
    """

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._following = True
        # The selection changed while the gallery was out of sight: it follows it when
        # shown (laying out a 100k-row selection costs ~200 ms, for nobody to see).
        self._stale = False
        self._title = ""
        self._base_rows = np.empty(0, dtype=np.int64)
        self._base_values: np.ndarray | None = None
        self._base_name = ""

        self.view = QListView(self)
        self.model = GalleryModel(self.view)  # deleted after the view that shows it
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setWrapping(True)
        self.view.setUniformItemSizes(True)
        self.view.setSpacing(0)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setDragEnabled(False)
        self.view.setStyleSheet("QListView { background: #3c3c3c; color: #e8e8e8; }")
        self.delegate = _ThumbnailDelegate(self.model, self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.setModel(self.model)
        # A weak reference: the model must not keep the panel alive (no cycle).
        visible = weakref.WeakMethod(self.visible_positions)
        self.model.visible_positions = lambda: (visible() or (lambda: (0, 0)))()
        self.view.clicked.connect(self._on_clicked)
        self.view.activated.connect(self._on_clicked)
        self._prefetch_timer = QTimer(self)
        self._prefetch_timer.setSingleShot(True)
        self._prefetch_timer.setInterval(15)
        self._prefetch_timer.timeout.connect(self._prefetch)
        # Not start(value): the scroll position is not a delay.
        self.view.verticalScrollBar().valueChanged.connect(lambda _v: self._prefetch_timer.start())

        self.title_label = QLabel()
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.follow_button = QPushButton("Follow selection")
        self.follow_button.setToolTip("Show the current selection again")
        self.follow_button.clicked.connect(lambda: self.follow_selection())
        self.select_button = QPushButton("Select these")
        self.select_button.setToolTip("Make the highlighted thumbnails (Ctrl/Shift-click) "
                                      "the selection; all of them if none is highlighted")
        self.select_button.clicked.connect(lambda: self.select_these())
        self.sort_combo = QComboBox()
        self.sort_combo.setToolTip("Order of the thumbnails: as listed, or by a column "
                                   "(objects without a value last)")
        self.sort_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.sort_combo.setMinimumContentsLength(10)
        # The panel shares the bottom dock area with the table: it must not make that
        # area (or the window) wider than the table does, so every control can shrink.
        for widget in (self.sort_combo, self.follow_button, self.select_button):
            widget.setMinimumWidth(60)
        self.sort_combo.currentIndexChanged.connect(self._on_sort_changed)
        self.order_button = QToolButton()
        self.order_button.setCheckable(True)
        self.order_button.toggled.connect(self._on_sort_changed)
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(MIN_THUMBNAIL, MAX_THUMBNAIL)
        self.size_slider.setValue(self.model.thumbnail_size)
        self.size_slider.setMinimumWidth(40)
        self.size_slider.setMaximumWidth(100)
        self.size_slider.setToolTip("Thumbnail size")
        self.size_slider.valueChanged.connect(self.set_thumbnail_size)
        self.status_label = QLabel()
        self.status_label.setStyleSheet("color: #777;")
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.title_label, 1)
        top.addWidget(self.follow_button)
        top.addWidget(self.select_button)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.setSpacing(4)
        bottom.addWidget(QLabel("Sort"))
        bottom.addWidget(self.sort_combo)
        bottom.addWidget(self.order_button)
        bottom.addSpacing(8)
        bottom.addWidget(self.size_slider)
        bottom.addSpacing(8)
        bottom.addWidget(self.status_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addLayout(bottom)
        layout.addWidget(self.view, 1)
        self._update_order_button()
        self._update_grid()

        connect_weakly(session.catalogue_changed, self, GalleryPanel._on_catalogue_changed)
        connect_weakly(session.column_added, self, GalleryPanel._on_column_added)
        connect_weakly(session.selection.changed, self, GalleryPanel._on_selection_changed)
        connect_weakly(session.selection.focus_changed, self, GalleryPanel._on_focus_changed)
        self._on_catalogue_changed(session.catalogue)

    # -- what is shown ------------------------------------------------------------------
    @property
    def following(self) -> bool:
        """Whether the gallery shows the Session's selection (not a given list)."""
        self._catch_up()
        return self._following

    @property
    def shown_rows(self) -> np.ndarray:
        """Catalogue rows in display order, shape (n,), int64."""
        self._catch_up()
        return self.model.rows

    @property
    def shown_values(self) -> np.ndarray | None:
        """The values under the thumbnails (given, or of the sort column), shape (n,)."""
        self._catch_up()
        return self.model.values

    @property
    def title(self) -> str:
        self._catch_up()
        return self._title

    @property
    def stale(self) -> bool:
        """Whether a selection change waits for the gallery to be shown."""
        return self._stale

    def _catch_up(self) -> None:
        """Follow a selection change made while the gallery was out of sight."""
        if self._stale:
            self.follow_selection()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        """Show what changed while out of sight before the first paint."""
        on_revealed(self, self._catch_up)
        self._catch_up()
        super().showEvent(event)

    def show_rows(self, rows: np.ndarray | Sequence[int], title: str,
                  values: np.ndarray | Sequence[float] | None = None,
                  value_name: str = "") -> None:
        """Show catalogue ``rows`` in this order until the selection changes.

        Parameters
        ----------
        rows : array-like of int, shape (n,)
            Catalogue rows, e.g. neighbours nearest first.
        title : str
            What the list is, shown above it.
        values : array-like of float, shape (n,), optional
            One value per row shown under its thumbnail (a distance, a score).
        value_name : str
            What the values are (``"distance"``).
        """
        rows = np.asarray(rows, dtype=np.int64).ravel()
        n = len(self.session.catalogue) if self.session.catalogue is not None else 0
        if rows.size and (rows.min() < 0 or rows.max() >= n):
            raise IndexError(f"gallery rows must be within 0..{n - 1}")
        if values is not None:
            values = np.asarray(values, dtype=np.float64).ravel()
            if values.shape != rows.shape:
                raise ValueError(f"{values.size} values for {rows.size} rows")
        self._following = self._stale = False
        self._base_rows, self._base_values, self._base_name = rows, values, value_name
        self._title = title
        self._refresh()

    def follow_selection(self) -> None:
        """Show the Session's selection (in the chosen sort order) again."""
        self._following, self._stale = True, False
        rows = self.session.selection.rows.rows
        self._base_rows, self._base_values, self._base_name = rows, None, ""
        n = rows.size
        self._title = f"Selection: {n:,} object{'s' if n != 1 else ''}" if n else ""
        self._refresh()

    # -- sorting ------------------------------------------------------------------------
    @property
    def sort_column(self) -> str | None:
        """The column the thumbnails are sorted by, or None (as listed)."""
        data = self.sort_combo.currentData()
        return str(data) if data else None

    @property
    def descending(self) -> bool:
        return self.order_button.isChecked()

    def set_sort(self, column: str | None, descending: bool = False) -> None:
        """Sort by a numeric ``column`` (NaN and masked values last), or None: as listed."""
        index = 0 if column is None else self.sort_combo.findData(column)
        if index < 0:
            raise ValueError(f"{column!r} is not a numeric column of the catalogue")
        self.sort_combo.blockSignals(True)
        self.order_button.blockSignals(True)
        self.sort_combo.setCurrentIndex(index)
        self.order_button.setChecked(bool(descending))
        self.sort_combo.blockSignals(False)
        self.order_button.blockSignals(False)
        self._on_sort_changed()

    def _sorted(self) -> tuple[np.ndarray, np.ndarray | None, str]:
        rows, values, name = self._base_rows, self._base_values, self._base_name
        column, catalogue = self.sort_column, self.session.catalogue
        if column is None or catalogue is None or column not in catalogue.table.colnames:
            if self.descending:
                rows = rows[::-1]
                values = values[::-1] if values is not None else None
            return rows, values, name
        col = catalogue.table[column]
        keys = np.ma.filled(np.ma.asarray(col[rows], dtype=np.float64), np.nan)
        # -NaN is NaN: argsort puts NaN last in both directions; stable keeps ties listed.
        order = np.argsort(-keys if self.descending else keys, kind="stable")
        return rows[order], keys[order], column

    def _refresh(self) -> None:
        rows, values, name = self._sorted()
        self.model.set_rows(rows, values, name)
        self.model.set_focus(self.session.selection.focus)
        self.title_label.setText(self._title)
        self.title_label.setToolTip(self._title)  # cut short in a narrow dock
        self.follow_button.setEnabled(not self._following)
        self.select_button.setEnabled(rows.size > 0)
        self._update_status()
        self._prefetch_timer.start()

    def _on_sort_changed(self, *_args: object) -> None:
        self._update_order_button()
        self._refresh()

    def _update_order_button(self) -> None:
        down = self.order_button.isChecked()
        self.order_button.setText("\u2193" if down else "\u2191")
        self.order_button.setToolTip("Descending: click for ascending" if down
                                     else "Ascending: click for descending")

    def _fill_sort_combo(self, catalogue: Catalogue | None) -> None:
        current = self.sort_column
        self.sort_combo.blockSignals(True)
        self.sort_combo.clear()
        self.sort_combo.addItem(AS_LISTED, None)
        for name in catalogue.numeric_columns() if catalogue is not None else []:
            self.sort_combo.addItem(name, name)
        index = self.sort_combo.findData(current) if current else 0
        self.sort_combo.setCurrentIndex(max(0, index))
        self.sort_combo.blockSignals(False)

    # -- size and layout --------------------------------------------------------------
    def set_thumbnail_size(self, pixels: int) -> None:
        """Thumbnails ``pixels`` on a side (48 to 160)."""
        self.model.set_thumbnail_size(pixels)
        if self.size_slider.value() != self.model.thumbnail_size:
            self.size_slider.blockSignals(True)
            self.size_slider.setValue(self.model.thumbnail_size)
            self.size_slider.blockSignals(False)
        self._update_grid()

    def _update_grid(self) -> None:
        cell = self.delegate.cell_size(self.view.fontMetrics().lineSpacing())
        self.view.setGridSize(cell)
        # Room for one whole line of thumbnails (up to the default size), even in a
        # short bottom dock: the labels are never cut off.
        small = self.delegate.cell_size(self.view.fontMetrics().lineSpacing(), 80)
        frame = 2 * self.view.frameWidth()
        self.view.setMinimumHeight(min(cell.height(), small.height()) + frame + 2)
        self.view.setIconSize(QSize(self.model.thumbnail_size, self.model.thumbnail_size))
        self.view.doItemsLayout()

    def visible_positions(self) -> tuple[int, int]:
        """List positions ``(first, stop)`` of the cells on screen (a row either side
        included), from the uniform grid and the scroll position."""
        grid = self.view.gridSize()
        viewport = self.view.viewport()
        width, height = max(1, grid.width()), max(1, grid.height())
        per_line = max(1, viewport.width() // width)
        offset = self.view.verticalScrollBar().value()
        first_line = max(0, offset // height - 1)
        last_line = (offset + viewport.height()) // height + 1
        return first_line * per_line, (last_line + 1) * per_line

    def _prefetch(self) -> None:
        """Render a few thumbnails of the next page (then the previous one) while idle."""
        if not self.model.has_images or self.view.viewport().visibleRegion().isEmpty():
            return  # behind another tab, or closed
        first, stop = self.visible_positions()
        span = stop - first
        for a, b in ((stop, stop + span), (first - span, first)):
            if self.model.prefetch(a, b):
                self._prefetch_timer.start()
                return

    # -- linking ------------------------------------------------------------------------
    def highlighted_rows(self) -> np.ndarray:
        """Catalogue rows highlighted in the gallery (Ctrl/Shift-click), display order."""
        parts = [np.arange(r.top(), r.bottom() + 1)
                 for r in self.view.selectionModel().selection()]
        if not parts:
            return np.empty(0, dtype=np.int64)
        return self.model.rows[np.unique(np.concatenate(parts))]

    def highlight_positions(self, positions: Sequence[int]) -> None:
        """Highlight list ``positions`` as Ctrl-clicks would (for scripts and tests)."""
        self._catch_up()
        selection_model = self.view.selectionModel()
        selection_model.clearSelection()
        for pos in positions:
            selection_model.select(self.model.index(int(pos)),
                                   QItemSelectionModel.SelectionFlag.Select)

    def select_these(self) -> RowSet | None:
        """Replace the Session's selection with the highlighted rows (all shown rows if
        none is highlighted); returns it, or None when nothing is shown."""
        self._catch_up()
        rows = self.highlighted_rows()
        if rows.size == 0:
            rows = self.model.rows
        if rows.size == 0:
            return None
        new = RowSet(rows)
        what = self._title or "the gallery"
        self.session.selection.select(new, SelectionMode.REPLACE, source=self,
                                      description=f"{len(new)} chosen in the gallery "
                                                  f"({what})")
        return new

    def _on_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.session.selection.set_focus(int(self.model.rows[index.row()]), source=self)

    # -- session callbacks ----------------------------------------------------------------
    def _on_catalogue_changed(self, catalogue: Catalogue | None) -> None:
        self.model.set_catalogue(catalogue)
        self._fill_sort_combo(catalogue)
        self._update_grid()
        self.follow_selection()

    def _on_column_added(self, name: str) -> None:
        self._fill_sort_combo(self.session.catalogue)
        if name == self.sort_column and not self._stale:
            self._refresh()

    def _on_selection_changed(self, *_args: object) -> None:
        if hidden_in_shown_window(self):
            self._stale = True
            return
        self.follow_selection()

    def _on_focus_changed(self, row: int | None, _source: object = None) -> None:
        if not self._stale:  # else marked when the gallery catches up
            self.model.set_focus(row)

    def _update_status(self) -> None:
        catalogue = self.session.catalogue
        n = self.model.rowCount()
        if catalogue is None:
            text = "no catalogue open"
        elif catalogue.images is None:
            text = "this catalogue has no cutouts: labels only"
        elif n == 0:
            text = ("select objects on the map or in the table to see them here"
                    if self._following else "nothing to show")
        else:
            text = ""  # the title says how many
        self.status_label.setText(text)
