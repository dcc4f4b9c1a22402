"""The cutout of the focused object: a colour composite or one stretched band.

One band is scaled by limits (min-max, a percentile, zscale, or the handles of
its histogram) and a stretch (linear, sqrt, log, asinh, power), then coloured by
a colour map. Three bands make a colour composite: Lupton et al. (2004) asinh
(Q and stretch adjustable) or, for pictures already rendered for display (8-bit
RGB, the Hubble XDF press image), linear as stored. The cursor reads the FITS
pixel (1-based), every band's value (with BUNIT where known) and, where the
cutout has a WCS, RA and Dec; the wheel zooms, dragging pans, "Fit" resets.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pyqtgraph as pg
from astropy import units as u
from astropy.coordinates import Angle
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..analysis.display import (
    PERCENTILES,
    STRETCH_PARAMETERS,
    STRETCHES,
    LuptonParameters,
    composite_channels,
    cubehelix,
    image_limits,
    is_display_rgb,
    linear_rgb,
    lupton_parameters,
    make_rgb,
    rgb_band_order,
    stretch_image,
)
from ..core.catalogue import Catalogue
from ..core.images import ImageSource
from ..core.session import Session
from .row_panel import RowPanel
from .widgets import cache_axes

__all__ = ["ImagePanel", "RGB_COMPOSITE", "COLOUR_MAPS", "LIMITS", "colour_lut", "pixel_unit"]

log = logging.getLogger(__name__)

#: Label of the colour-composite entry of the band combo box.
RGB_COMPOSITE = "RGB composite"
#: Colour maps of a single band.
COLOUR_MAPS: tuple[str, ...] = ("grey", "viridis", "inferno", "magma", "cubehelix")
#: Entries of the limits box: percentiles, then the other intervals.
CUSTOM_PERCENTILE = "custom %"
MANUAL = "manual"
#: Black one sigma below the sky, white at 99.5% (``image_limits(..., "sky")``): the default.
SKY = f"sky\N{EN DASH}{PERCENTILES[0]:g}%"
LIMITS: tuple[str, ...] = (SKY, *(f"{p:g}%" for p in PERCENTILES), CUSTOM_PERCENTILE,
                           "min-max", "zscale", MANUAL)
#: Stretch parameters the panel starts with: a softer asinh than astropy's 0.1, which
#: with sky limits keeps the noise dark and shows the outskirts of galaxies.
_START_PARAMETERS = {name: spec[1] for name, spec in STRETCH_PARAMETERS.items()} | {"asinh": 0.5}
#: Composite kinds.
LUPTON = "Lupton asinh"
LINEAR = "linear"

_HINT = "move the cursor over the cutout for pixel values"
_STRETCH_TIP = "Stretch of a single band, applied between the limits"
_LIMITS_TIP = ("Black and white levels of a single band: sky (black one noise sigma below "
               "the sky, white at 99.5%), the central percentage of the pixels, min-max, "
               "zscale (as DS9), or manual (drag the histogram's handles)")
_COMPOSITE_TIP = ("Lupton et al. (2004) asinh composite, sky black and brightest pixels white; "
                  "or linear, as a picture already rendered for display (8-bit RGB) is stored")
_HISTOGRAM_BINS = 128


def colour_lut(name: str, reverse: bool = False) -> np.ndarray:
    """The 256-entry lookup table of a colour map of :data:`COLOUR_MAPS`.

    Returns
    -------
    ndarray, shape (256, 3), uint8
        RGB from the lowest (black for grey) to the highest value; reversed if asked.
    """
    if name == "grey":
        lut = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    elif name == "cubehelix":
        lut = np.round(cubehelix(256) * 255).astype(np.uint8)
    elif name in COLOUR_MAPS:
        lut = np.asarray(pg.colormap.get(name).getLookupTable(nPts=256, alpha=False), np.uint8)
    else:
        raise ValueError(f"unknown colour map {name!r}; choose one of {', '.join(COLOUR_MAPS)}")
    return lut[::-1].copy() if reverse else lut


def pixel_unit(catalogue: Catalogue | None) -> str:
    """The unit of the cutouts' pixels (FITS ``BUNIT``), or "" when not known.

    Looked for on the image source (``unit``), in the table's metadata
    (``pixel_unit``, ``BUNIT``) and in the ``CUTOUTS`` HDU header of a FITS catalogue.
    """
    if catalogue is None or catalogue.images is None:
        return ""
    unit = getattr(catalogue.images, "unit", None)
    if unit:
        return str(unit)
    meta = catalogue.table.meta
    for key in ("pixel_unit", "BUNIT", "CUTUNIT"):
        if meta.get(key):
            return str(meta[key])
    path = catalogue.path
    if path is not None and str(path).lower().endswith((".fits", ".fit", ".fts", ".fits.gz")):
        from astropy.io import fits

        try:
            return str(fits.getheader(path, "CUTOUTS").get("BUNIT", "") or "").strip()
        except (OSError, KeyError, IndexError):
            return ""
    return ""


def _combo(items: tuple[str, ...] | list[str], tooltip: str) -> QComboBox:
    combo = QComboBox()
    combo.addItems(list(items))
    combo.setToolTip(tooltip)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return combo


def _row(*widgets: QWidget) -> QHBoxLayout:
    layout = QHBoxLayout()
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(4)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    return layout


def _page(*rows: QHBoxLayout) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    for row in rows:
        layout.addLayout(row)
    return page


def _sexagesimal(ra: float, dec: float) -> str:
    ra_text = Angle(ra, u.deg).to_string(unit=u.hourangle, sep=":", precision=2, pad=True)
    dec_text = Angle(dec, u.deg).to_string(unit=u.deg, sep=":", precision=1, pad=True,
                                           alwayssign=True)
    return f"RA {ra_text}  Dec {dec_text}  ({ra:.6f}\N{DEGREE SIGN}, {dec:+.6f}\N{DEGREE SIGN})"


class ImagePanel(RowPanel):
    """Shows the cutout of the session's focused row.

    Pixel ``(0, 0)`` of the cutout (FITS pixel (1, 1)) is drawn at the lower left,
    as in DS9; the aspect ratio is locked. The band box picks the colour composite
    or one band. A band is scaled by the limits and stretch boxes, or by dragging
    its histogram's handles (limits become "manual" and stay for the next rows),
    and coloured by a colour map. The composite is Lupton et al. (2004) asinh
    (automatic Q and stretch, or the user's) or linear, with any band in each of
    R, G, B. Pictures already rendered for display (8-bit RGB, or bands named
    red, green, blue) start linear, channels in order, as stored.

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
        self._wcs = None
        self._unit = ""
        self._limits: tuple[float, float] | None = None
        self._manual_limits: tuple[float, float] | None = None
        self._lupton: LuptonParameters | None = None
        self._white: float | None = None
        self._defaults_pending = True
        self._picture = False
        self._updating = False
        self._parameters = dict(_START_PARAMETERS)  # the user's value of each stretch

        # -- controls: band, colour map, fit; then the single-band or composite page
        self.band_combo = _combo([RGB_COMPOSITE], "Colour composite, or one band")
        self.cmap_combo = _combo(COLOUR_MAPS, "Colour map of a single band")
        self.reverse_check = QCheckBox("reversed")
        self.reverse_check.setToolTip("Reverse the colour map (bright pixels dark)")
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("Show the whole cutout (the wheel zooms, dragging pans)")
        self.fit_button.setMaximumWidth(48)
        self.fit_button.clicked.connect(self.fit)

        self.stretch_combo = _combo(STRETCHES, _STRETCH_TIP)
        self.parameter_spin = QDoubleSpinBox()
        self.parameter_spin.setDecimals(4)
        self.parameter_spin.setKeyboardTracking(False)
        self.limits_combo = _combo(LIMITS, _LIMITS_TIP)
        self.percentile_spin = QDoubleSpinBox()
        self.percentile_spin.setRange(50.0, 100.0)
        self.percentile_spin.setDecimals(2)
        self.percentile_spin.setSingleStep(0.1)
        self.percentile_spin.setValue(99.9)
        self.percentile_spin.setSuffix(" %")
        self.percentile_spin.setKeyboardTracking(False)
        self.percentile_spin.setToolTip("Percentage of the pixels inside the limits (custom %)")

        self.composite_combo = _combo((LUPTON, LINEAR), _COMPOSITE_TIP)
        self.channel_combos = tuple(_combo([], f"Band shown in {name}")
                                    for name in ("red", "green", "blue"))
        self.q_spin = QDoubleSpinBox()
        self.q_spin.setRange(0.1, 100.0)
        self.q_spin.setDecimals(2)
        self.q_spin.setPrefix("Q ")
        self.q_spin.setMaximumWidth(80)
        self.q_spin.setKeyboardTracking(False)
        self.q_spin.setToolTip("Lupton softening Q: 0 is linear, larger compresses bright parts")
        self.lupton_stretch_spin = pg.SpinBox(value=1.0, bounds=(1e-12, None), dec=True,
                                              minStep=1e-12, decimals=3, compactHeight=False)
        self.lupton_stretch_spin.setToolTip("Lupton stretch: linear scale of the asinh, in data units")
        self.lupton_stretch_spin.setMinimumWidth(64)
        self.lupton_stretch_spin.setMaximumWidth(90)
        self.auto_check = QCheckBox("auto")
        self.auto_check.setChecked(True)
        self.auto_check.setToolTip("Choose Q and stretch from each cutout's sky noise and "
                                   "brightest pixels")

        # Two rows, so that the cutout keeps its room in a small dock: the band, then
        # the colour map (one band) or the composite's kind, and Fit; below, the
        # stretch and limits (one band) or the band of each channel, Q and stretch.
        self.kind_stack = QStackedWidget()
        self.kind_stack.addWidget(_page(_row(self.cmap_combo, self.reverse_check)))
        self.kind_stack.addWidget(_page(_row(self.composite_combo, self.auto_check)))
        self.options = QStackedWidget()
        # Each option page in two short rows, so a narrow (laptop) dock fits them.
        self.single_page = _page(_row(self.stretch_combo, self.parameter_spin),
                                 _row(self.limits_combo, self.percentile_spin))
        channel_row = _row()
        for name, combo in zip("RGB", self.channel_combos):
            channel_row.insertWidget(channel_row.count() - 1, QLabel(name))
            channel_row.insertWidget(channel_row.count() - 1, combo)
        self.composite_page = _page(channel_row, _row(self.q_spin, QLabel("stretch"),
                                                      self.lupton_stretch_spin))
        for stack in (self.kind_stack, self.options):
            stack.addWidget(QWidget())  # shown with no catalogue
            stack.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.options.addWidget(self.single_page)
        self.options.addWidget(self.composite_page)

        controls = QVBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.setSpacing(2)
        controls.addLayout(_row(self.band_combo, self.kind_stack, self.fit_button))
        controls.addWidget(self.options)

        self.readout_label = QLabel(_HINT)
        self.readout_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readout_label.setToolTip("FITS pixel (1-based) under the cursor, its value in each "
                                      "band and, where the cutout has a WCS, its RA and Dec")
        self.readout_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.readout_label.setWordWrap(True)

        # -- the image: grey around the cutout, so that its edges show on a black sky
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground((60, 60, 60))
        self.graphics.setMinimumSize(120, 120)
        self.view: pg.ViewBox = self.graphics.addViewBox(lockAspect=True, invertY=False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image_item)
        self.compass = pg.TextItem("", color=(255, 255, 160), anchor=(0, 0), fill=(0, 0, 0, 140))
        self.view.addItem(self.compass, ignoreBounds=True)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)

        # -- the histogram of the shown band, log counts, the limits as handles
        self.histogram = pg.PlotWidget()
        self.histogram.setFixedHeight(90)
        self.histogram.setMenuEnabled(False)
        self.histogram.setMouseEnabled(x=False, y=False)
        self.histogram.hideButtons()
        self.histogram.setLogMode(x=False, y=True)
        self.histogram.getPlotItem().setLabel("left", "pixels")
        self.histogram.getPlotItem().getAxis("left").setWidth(36)
        cache_axes(self.histogram.getPlotItem())
        self.histogram.setToolTip("Pixel values of the band (log counts); drag the handles "
                                  "to set the black and white levels")
        self.histogram_curve = pg.PlotDataItem(stepMode="center", fillLevel=np.log10(0.5),
                                               brush=(120, 160, 220, 120), pen=(120, 160, 220))
        self.histogram.addItem(self.histogram_curve)
        self.limits_region = pg.LinearRegionItem(values=(0, 1), brush=(255, 255, 255, 30))
        for line in self.limits_region.lines:
            line.setPen(pg.mkPen((255, 200, 60), width=2))
            line.setHoverPen(pg.mkPen((255, 240, 120), width=3))
        self.histogram.addItem(self.limits_region)
        self.limits_region.sigRegionChanged.connect(self._on_region_changed)

        self.content = content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.setSpacing(2)
        content_layout.addWidget(self.graphics, 1)
        content_layout.addWidget(self.histogram)

        self.limits_combo.setCurrentText(SKY)
        self._set_parameter_range()
        for combo in (self.band_combo, self.stretch_combo, self.limits_combo,
                      self.cmap_combo, self.composite_combo, *self.channel_combos):
            combo.currentIndexChanged.connect(self._on_display_changed)
        self.stretch_combo.currentIndexChanged.connect(self._set_parameter_range)
        self.parameter_spin.valueChanged.connect(self._on_parameter_edited)
        self.percentile_spin.valueChanged.connect(self._on_display_changed)
        self.reverse_check.toggled.connect(self._on_display_changed)
        self.q_spin.valueChanged.connect(self._on_lupton_edited)
        self.lupton_stretch_spin.sigValueChanged.connect(self._on_lupton_edited)
        self.auto_check.toggled.connect(self._on_display_changed)
        self._install(controls, content, footer=self.readout_label)

    # -- state read by tests and other views ------------------------------------

    @property
    def shown_image(self) -> np.ndarray | None:
        """The displayed array: ``(H, W)`` float32 in [0, 1] or ``(H, W, 3)`` uint8."""
        return self.image_item.image if self._row is not None else None

    @property
    def single_band(self) -> bool:
        """Whether one band is shown (else the colour composite)."""
        return self.band_combo.currentText() != RGB_COMPOSITE and bool(self._bands)

    @property
    def limits(self) -> tuple[float, float] | None:
        """Black and white levels of the shown band, in data units (None for a composite)."""
        return self._limits if self.single_band and self._cutout is not None else None

    @property
    def rgb_channels(self) -> tuple[int, int, int]:
        """Band indices shown as R, G, B by the composite."""
        return tuple(max(combo.currentIndex(), 0) for combo in self.channel_combos)  # type: ignore[return-value]

    @property
    def lupton(self) -> LuptonParameters | None:
        """The Lupton parameters of the composite on display, or None."""
        return self._lupton

    @property
    def wcs(self):
        """The WCS of the cutout on display (astropy ``WCS``), or None."""
        return self._wcs

    def set_limits(self, vmin: float, vmax: float) -> None:
        """Set the black and white levels of the band, in data units (limits "manual")."""
        self._manual_limits = (float(vmin), float(vmax))
        self._updating = True
        self.limits_combo.setCurrentText(MANUAL)
        self._updating = False
        self._on_display_changed()

    def set_rgb_channels(self, red: int, green: int, blue: int) -> None:
        """Show bands ``red``, ``green``, ``blue`` (indices) as R, G, B."""
        self._updating = True
        for combo, index in zip(self.channel_combos, (red, green, blue)):
            combo.setCurrentIndex(int(index))
        self._updating = False
        self._on_display_changed()

    def fit(self) -> None:
        """Zoom to show the whole cutout."""
        self.view.autoRange(padding=0)

    # -- session callbacks --------------------------------------------------------

    def _on_catalogue_changed(self, catalogue: Catalogue | None) -> None:
        images = catalogue.images if catalogue is not None else None
        bands = tuple(images.bands) if images is not None else ()
        self._unit = pixel_unit(catalogue)
        self._updating = True
        if bands != self._bands:
            self._bands = bands
            current = self.band_combo.currentText()
            entries = ([RGB_COMPOSITE] if len(bands) > 1 else []) + list(bands)
            self.band_combo.clear()
            self.band_combo.addItems(entries or [RGB_COMPOSITE])
            if current in entries:
                self.band_combo.setCurrentText(current)
            for combo in self.channel_combos:
                combo.clear()
                combo.addItems(list(bands))
            self._defaults_pending = True
        if catalogue is not None and images is not None:
            # Another catalogue, even with the same bands, may be pictures or science data.
            self._defaults_pending = True
        self._updating = False
        self.band_combo.setEnabled(bool(bands))
        self._update_enabled()
        self._row = None
        self._show(self.session.selection.focus)
        if self._row is not None:
            self.fit()

    def _on_display_changed(self, *_: object) -> None:
        if self._updating:
            return
        self._update_enabled()
        if self._cutout is not None:
            self._render()

    def _on_lupton_edited(self, *_: object) -> None:
        if self._updating:
            return
        self._updating = True
        self.auto_check.setChecked(False)
        self._updating = False
        self._on_display_changed()

    def _on_parameter_edited(self, value: float) -> None:
        if self._updating:
            return
        self._parameters[self.stretch_combo.currentText()] = float(value)
        self._on_display_changed()

    def _on_region_changed(self, *_: object) -> None:
        if self._updating or not self.single_band:
            return
        vmin, vmax = self.limits_region.getRegion()
        self.set_limits(vmin, vmax)

    def _set_parameter_range(self, *_: object) -> None:
        spec = STRETCH_PARAMETERS.get(self.stretch_combo.currentText())
        was, self._updating = self._updating, True
        if spec is None:
            self.parameter_spin.setEnabled(False)
            self.parameter_spin.setPrefix("")
            self.parameter_spin.setToolTip("This stretch has no parameter")
        else:
            label, default, low, high = spec
            self.parameter_spin.setRange(low, high)
            self.parameter_spin.setSingleStep(default / 10 if default < 10 else default / 4)
            self.parameter_spin.setValue(self._parameters[self.stretch_combo.currentText()])
            self.parameter_spin.setPrefix("a " if label != "exponent" else "exp ")
            self.parameter_spin.setToolTip(f"The {self.stretch_combo.currentText()} stretch's "
                                           f"{label}")
            self.parameter_spin.setEnabled(self.single_band)
        self._updating = was

    # -- drawing ----------------------------------------------------------------

    def _update_enabled(self) -> None:
        single = self.single_band
        self.options.setCurrentWidget(self.single_page if single or not self._bands
                                      else self.composite_page)
        self.kind_stack.setCurrentIndex(0 if single or not self._bands else 1)
        self.options.setEnabled(bool(self._bands))
        self.kind_stack.setEnabled(bool(self._bands))
        self.percentile_spin.setVisible(self.limits_combo.currentText() == CUSTOM_PERCENTILE)
        for widget in (self.cmap_combo, self.reverse_check, self.stretch_combo, self.limits_combo):
            widget.setEnabled(single)
        self.histogram.setVisible(single)
        self.parameter_spin.setEnabled(single and self.stretch_combo.currentText()
                                       in STRETCH_PARAMETERS)
        self.percentile_spin.setEnabled(single and self.limits_combo.currentText()
                                        == CUSTOM_PERCENTILE)
        lupton = self.composite_combo.currentText() == LUPTON
        for widget in (self.q_spin, self.lupton_stretch_spin, self.auto_check):
            widget.setEnabled(lupton)

    def _source(self, catalogue: Catalogue) -> ImageSource | None:
        return catalogue.images

    def _clear(self) -> None:
        self._cutout = None
        self._wcs = None
        self._lupton = None
        self._limits = None
        self.image_item.clear()
        self.compass.setText("")
        self.histogram_curve.setData([], [])
        self.readout_label.setText("")

    def _display(self, catalogue: Catalogue, row: int, data: np.ndarray) -> None:
        cutout = np.asarray(data, dtype=np.float32)
        old_shape = None if self._cutout is None else self._cutout.shape
        self._row, self._cutout = row, cutout
        try:
            self._wcs = catalogue.images.wcs(row) if catalogue.images is not None else None
        except Exception:  # noqa: BLE001 - a bad header must not hide the pixels
            log.exception("reading the WCS of the cutout of row %s failed", row)
            self._wcs = None
        if self._defaults_pending:
            self._apply_defaults(cutout)
        self.title_label.setText(f"{catalogue.object_label(row)} \N{EM DASH} row {row}")
        self.readout_label.setText(_HINT)
        self._render()
        self.stack.setCurrentWidget(self.content)
        if cutout.shape != old_shape:
            self.fit()

    def _apply_defaults(self, cutout: np.ndarray) -> None:
        """Composite kind and band mapping for a new catalogue, from its first cutout."""
        self._defaults_pending = False
        self._picture = len(self._bands) == 3 and is_display_rgb(cutout, self._bands)
        channels = (0, 1, 2) if self._picture else rgb_band_order(self._bands)
        self._updating = True
        self.composite_combo.setCurrentText(LINEAR if self._picture else LUPTON)
        for combo, index in zip(self.channel_combos, channels):
            combo.setCurrentIndex(index)
        self.auto_check.setChecked(True)
        self._updating = False
        self._update_enabled()

    def _render(self) -> None:
        cutout = self._cutout
        assert cutout is not None
        lut = None
        self._lupton = None
        try:
            if not self.single_band:
                image, levels = self._composite(cutout), (0, 255)
                self._limits = None
            else:
                choice = self.band_combo.currentText()
                band = cutout[self._bands.index(choice) if choice in self._bands else 0]
                self._limits = self._band_limits(band)
                image = stretch_image(band, self.stretch_combo.currentText(), limits=self._limits,
                                      parameter=self._parameter())
                levels = (0.0, 1.0)
                lut = colour_lut(self.cmap_combo.currentText(), self.reverse_check.isChecked())
                self._draw_histogram(band)
        except Exception:  # noqa: BLE001 - show a blank stamp, keep the panel alive
            log.exception("scaling the cutout of row %s failed", self._row)
            image, levels = np.zeros(cutout.shape[1:], dtype=np.float32), (0.0, 1.0)
        self.image_item.setLookupTable(lut)
        self.image_item.setImage(image, levels=levels, autoLevels=False)
        self.image_item.setRect(0, 0, cutout.shape[2], cutout.shape[1])
        self._draw_compass()

    def _parameter(self) -> float | None:
        return (self.parameter_spin.value()
                if self.stretch_combo.currentText() in STRETCH_PARAMETERS else None)

    def _band_limits(self, band: np.ndarray) -> tuple[float, float]:
        choice = self.limits_combo.currentText()
        if choice == MANUAL:
            if self._manual_limits is None:  # chosen from the box: keep the levels shown
                self._manual_limits = self._limits or image_limits(band, "sky", PERCENTILES[0])
            return self._manual_limits
        if choice == "min-max":
            return image_limits(band, "minmax")
        if choice == "zscale":
            return image_limits(band, "zscale")
        if choice == SKY:
            return image_limits(band, "sky", PERCENTILES[0])
        if choice == CUSTOM_PERCENTILE:
            return image_limits(band, "percentile", self.percentile_spin.value())
        if choice.endswith("%"):
            return image_limits(band, "percentile", float(choice[:-1]))
        raise ValueError(f"unknown limits {choice!r}")

    def _composite(self, cutout: np.ndarray) -> np.ndarray:
        mapping = self.rgb_channels if len(self._bands) > 1 else (0, 0, 0)
        if self.composite_combo.currentText() == LINEAR:
            return linear_rgb(cutout, mapping)
        # The default mapping lets make_rgb average two bands into green.
        channels = None if mapping == rgb_band_order(self._bands) else mapping
        rgb = composite_channels(cutout, self._bands, channels)
        auto = lupton_parameters(rgb)
        if self.auto_check.isChecked():
            params = auto
            self._updating = True
            self.q_spin.setValue(params.Q)
            self.lupton_stretch_spin.setValue(params.stretch)
            self._updating = False
        else:
            params = LuptonParameters(auto.minimum, float(self.lupton_stretch_spin.value()),
                                      float(self.q_spin.value()))
        self._lupton = params
        return make_rgb(cutout, self._bands, params=params, channels=channels)

    def _draw_histogram(self, band: np.ndarray) -> None:
        values = band[np.isfinite(band)].astype(np.float64)
        vmin, vmax = self._limits if self._limits is not None else (np.nan, np.nan)
        if values.size:
            low, high = float(values.min()), float(values.max())
            if np.isfinite(vmin) and np.isfinite(vmax):
                low, high = min(low, vmin), max(high, vmax)
            if high <= low:
                low, high = low - 0.5, high + 0.5
            counts, edges = np.histogram(values, bins=_HISTOGRAM_BINS, range=(low, high))
            # Log counts: an empty bin is drawn at half a pixel, below the one-pixel line.
            self.histogram_curve.setData(edges, np.where(counts > 0, counts, 0.5).astype(float))
            self.histogram.setXRange(low, high, padding=0.02)
        else:
            self.histogram_curve.setData([], [])
        if np.isfinite(vmin) and np.isfinite(vmax):
            self._updating = True
            self.limits_region.setRegion((vmin, vmax))
            self._updating = False

    def _draw_compass(self) -> None:
        """North and east arrows (where the WCS puts them) in the cutout's corner."""
        self.compass.setText("")
        if self._wcs is None or self._cutout is None:
            return
        _, height, width = self._cutout.shape
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cx, cy = (width - 1) / 2, (height - 1) / 2
                ra, dec = self._wcs.pixel_to_world_values(cx, cy)
                step = 1e-3
                north = np.subtract(self._wcs.world_to_pixel_values(ra, dec + step), (cx, cy))
                east = np.subtract(self._wcs.world_to_pixel_values(
                    ra + step / max(np.cos(np.radians(dec)), 1e-6), dec), (cx, cy))
        except Exception:  # noqa: BLE001 - an odd WCS: no compass
            return
        arrows = "\N{RIGHTWARDS ARROW}\N{UPWARDS ARROW}\N{LEFTWARDS ARROW}\N{DOWNWARDS ARROW}"

        def arrow(vector: np.ndarray) -> str:
            angle = np.degrees(np.arctan2(vector[1], vector[0])) % 360
            return arrows[int(((angle + 45) % 360) // 90)]

        self.compass.setText(f"N{arrow(north)} E{arrow(east)}")
        self.compass.setPos(0, height)

    # -- cursor readout -----------------------------------------------------------

    def pixel_text(self, x: float, y: float) -> str:
        """Readout for view coordinates ``(x, y)``: the FITS pixel, band values, RA/Dec.

        Returns "" outside the cutout. Array pixel ``(i, j)`` (0-based column,
        row) covers ``[i, i+1) x [j, j+1)`` and is FITS pixel ``(i+1, j+1)``; row 0
        is drawn at the bottom. RA and Dec are those of the pixel's centre, when
        the cutout has a WCS.
        """
        if self._cutout is None or not (np.isfinite(x) and np.isfinite(y)):
            return ""
        _, height, width = self._cutout.shape
        col, row = int(np.floor(x)), int(np.floor(y))
        if not (0 <= col < width and 0 <= row < height):
            return ""
        values = "  ".join(f"{band}={self._cutout[k, row, col]:.4g}"
                           for k, band in enumerate(self._bands))
        unit = f" {self._unit}" if self._unit else ""
        text = f"FITS pixel ({col + 1}, {row + 1}) [1-based]:  {values}{unit}"
        if self._wcs is not None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ra, dec = self._wcs.pixel_to_world_values(col, row)
                text += "\n" + _sexagesimal(float(ra), float(dec))
            except Exception:  # noqa: BLE001 - outside the projection's domain
                text += "\nRA/Dec undefined here"
        return text

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        if self._cutout is None:
            return
        point = self.view.mapSceneToView(scene_pos)
        self.readout_label.setText(self.pixel_text(point.x(), point.y()) or _HINT)
