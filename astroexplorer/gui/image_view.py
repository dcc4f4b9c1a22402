"""The cutout of the focused object: a colour composite or one stretched band."""

from __future__ import annotations

import logging

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QWidget,
)

from ..analysis.display import INTERVALS, STRETCHES, make_rgb, stretch_image
from ..core.catalogue import Catalogue
from ..core.images import ImageSource
from ..core.session import Session
from .row_panel import RowPanel

__all__ = ["ImagePanel", "RGB_COMPOSITE"]

log = logging.getLogger(__name__)

#: Label of the colour-composite entry of the band combo box.
RGB_COMPOSITE = "RGB composite"

_HINT = "move the cursor over the cutout for pixel values"
_STRETCH_TIP = "Stretch of a single band"
_INTERVAL_TIP = ("Black and white levels of a single band: zscale (as DS9), percentile "
                 "(99.5% of pixels inside) or minmax")
_COMPOSITE_TIP = ("The colour composite is scaled automatically (Lupton et al. 2004 asinh): "
                  "sky black, brightest pixels white; choose a band to set the stretch")


def _combo(items: tuple[str, ...] | list[str], tooltip: str) -> QComboBox:
    combo = QComboBox()
    combo.addItems(list(items))
    combo.setToolTip(tooltip)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return combo


class ImagePanel(RowPanel):
    """Shows the cutout of the session's focused row.

    Pixel ``(0, 0)`` of the cutout (FITS row 0) is drawn at the lower left, as in
    DS9; the aspect ratio is locked. The band box picks the colour composite
    (Lupton et al. 2004, scaled automatically from the sky noise) or one band,
    which the stretch and interval boxes then scale.

    Parameters
    ----------
    session : Session
        Followed through ``catalogue_changed`` and ``selection.focus_changed``.
    parent : QWidget, optional
    """

    what = "cutout"

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self._cutout: np.ndarray | None = None
        self._bands: tuple[str, ...] = ()

        self.band_combo = _combo([RGB_COMPOSITE], "Colour composite, or one band")
        self.stretch_combo = _combo(STRETCHES, "")
        self.interval_combo = _combo(INTERVALS, "")
        # zscale suits a linear stretch; with asinh it overexposes, so start at 99.5%.
        self.interval_combo.setCurrentText("percentile")
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.setSpacing(4)
        # No captions: the entries (asinh, zscale, ...) say what they are, and the
        # panel must fit a narrow dock; tooltips explain.
        for combo in (self.band_combo, self.stretch_combo, self.interval_combo):
            controls.addWidget(combo)
        controls.addStretch(1)

        self.readout_label = QLabel(_HINT)
        self.readout_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readout_label.setToolTip("Pixel (x, y) under the cursor and its value in each band")
        self.readout_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        # Grey around the cutout, so that its edges show against a black sky.
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground((60, 60, 60))
        self.graphics.setMinimumSize(120, 120)
        self.view: pg.ViewBox = self.graphics.addViewBox(lockAspect=True, invertY=False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image_item)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)

        self.band_combo.currentIndexChanged.connect(self._on_display_changed)
        self.stretch_combo.currentIndexChanged.connect(self._on_display_changed)
        self.interval_combo.currentIndexChanged.connect(self._on_display_changed)
        self._install(controls, self.graphics, footer=self.readout_label)

    # -- state read by tests and other views ------------------------------------

    @property
    def shown_image(self) -> np.ndarray | None:
        """The displayed array: ``(H, W)`` float32 in [0, 1] or ``(H, W, 3)`` uint8."""
        return self.image_item.image if self._row is not None else None

    # -- session callbacks --------------------------------------------------------

    def _on_catalogue_changed(self, catalogue: Catalogue | None) -> None:
        images = catalogue.images if catalogue is not None else None
        bands = tuple(images.bands) if images is not None else ()
        if bands != self._bands:
            self._bands = bands
            current = self.band_combo.currentText()
            entries = ([RGB_COMPOSITE] if len(bands) > 1 else []) + list(bands)
            self.band_combo.blockSignals(True)
            self.band_combo.clear()
            self.band_combo.addItems(entries or [RGB_COMPOSITE])
            if current in entries:
                self.band_combo.setCurrentText(current)
            self.band_combo.blockSignals(False)
        self.band_combo.setEnabled(bool(bands))
        self._update_scaling_enabled()
        self._row = None
        self._show(self.session.selection.focus)
        if self._row is not None:
            self.view.autoRange(padding=0)

    def _on_display_changed(self, *_: object) -> None:
        self._update_scaling_enabled()
        if self._cutout is not None:
            self._render()

    # -- drawing ----------------------------------------------------------------

    def _update_scaling_enabled(self) -> None:
        single = self.band_combo.currentText() != RGB_COMPOSITE
        tips = (_STRETCH_TIP, _INTERVAL_TIP) if single else (_COMPOSITE_TIP, _COMPOSITE_TIP)
        for combo, tip in zip((self.stretch_combo, self.interval_combo), tips):
            combo.setEnabled(single and bool(self._bands))
            combo.setToolTip(tip)

    def _source(self, catalogue: Catalogue) -> ImageSource | None:
        return catalogue.images

    def _clear(self) -> None:
        self._cutout = None
        self.image_item.clear()
        self.readout_label.setText("")

    def _display(self, catalogue: Catalogue, row: int, data: np.ndarray) -> None:
        cutout = np.asarray(data, dtype=np.float32)
        old_shape = None if self._cutout is None else self._cutout.shape
        self._row, self._cutout = row, cutout
        self.title_label.setText(f"{catalogue.object_label(row)} \N{EM DASH} row {row}")
        self.readout_label.setText(_HINT)
        self._render()
        self.stack.setCurrentWidget(self.graphics)
        if cutout.shape != old_shape:
            self.view.autoRange(padding=0)

    def _render(self) -> None:
        cutout = self._cutout
        assert cutout is not None
        choice = self.band_combo.currentText()
        try:
            if choice == RGB_COMPOSITE:
                image = make_rgb(cutout, self._bands)
                levels: tuple[float, float] = (0, 255)
            else:
                band = self._bands.index(choice) if choice in self._bands else 0
                image = stretch_image(cutout[band], self.stretch_combo.currentText(),
                                      self.interval_combo.currentText())
                levels = (0.0, 1.0)
        except Exception:  # noqa: BLE001 - show a blank stamp, keep the panel alive
            log.exception("scaling the cutout of row %s failed", self._row)
            image, levels = np.zeros(cutout.shape[1:], dtype=np.float32), (0.0, 1.0)
        self.image_item.setImage(image, levels=levels, autoLevels=False)
        self.image_item.setRect(0, 0, cutout.shape[2], cutout.shape[1])

    # -- cursor readout -----------------------------------------------------------

    def pixel_text(self, x: float, y: float) -> str:
        """Readout for view coordinates ``(x, y)``: pixel indices and band values.

        Returns "" outside the cutout. Pixel ``(i, j)`` covers ``[i, i+1) x [j, j+1)``
        so ``x`` is the column and ``y`` the row (FITS row 0 at the bottom).
        """
        if self._cutout is None or not (np.isfinite(x) and np.isfinite(y)):
            return ""
        _, height, width = self._cutout.shape
        col, row = int(np.floor(x)), int(np.floor(y))
        if not (0 <= col < width and 0 <= row < height):
            return ""
        values = "  ".join(f"{band}={self._cutout[k, row, col]:.4g}"
                           for k, band in enumerate(self._bands))
        return f"x={col} y={row}:  {values}"

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        if self._cutout is None:
            return
        point = self.view.mapSceneToView(scene_pos)
        self.readout_label.setText(self.pixel_text(point.x(), point.y()) or _HINT)
