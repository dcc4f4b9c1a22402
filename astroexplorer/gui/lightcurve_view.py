"""The light curve of the focused object, one colour per band, optionally folded
and binned, with its Lomb-Scargle periodogram under it."""

from __future__ import annotations

import weakref

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ..analysis.display import band_wavelength, fold_time
from ..analysis.timeseries import Periodogram, bin_lightcurve, lomb_scargle_job
from ..core.catalogue import Catalogue
from ..core.lightcurves import LightCurve, LightCurveSource
from ..core.session import Session
from .row_panel import RowPanel
from .widgets import cache_axes
from .workers import JobWorker

__all__ = ["LightCurvePanel", "band_colour", "BAND_COLOURS", "time_reference"]


#: Colours of common bands (keys lower case), blue to red on a white background.
BAND_COLOURS: dict[str, str] = {
    "fuv": "#4b0082", "nuv": "#6a3d9a", "u": "#6a3d9a", "b": "#1f5fbf", "g": "#2ca02c",
    "v": "#2ca02c", "r": "#d62728", "i": "#8b1a1a", "z": "#5c0f0f", "y": "#3d0a0a",
}
_PALETTE = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf")
_SYMBOLS = ("o", "s", "t", "d", "t1", "p", "h", "star")
_TIME_IN_DAYS = {"mjd", "jd", "rjd", "hjd", "bjd", "btjd", "bkjd"}


def band_colour(band: str, index: int = 0) -> str:
    """Colour of a band: a fixed one for known bands ("ztf_g" counts as "g"), else a palette.

    Parameters
    ----------
    band : str
        Band name.
    index : int
        Used to pick a palette colour for an unknown band.
    """
    key = band.strip().lower()
    for candidate in (key, key.rsplit("_", 1)[-1], key.rsplit("-", 1)[-1], key.split("-", 1)[0]):
        if candidate in BAND_COLOURS:
            return BAND_COLOURS[candidate]
    return _PALETTE[index % len(_PALETTE)]


def _wavelength_key(band: str) -> tuple[float, str]:
    """Sort key: blue to red, unknown bands last, by name."""
    wavelength = band_wavelength(band)
    return (wavelength if wavelength is not None else np.inf, band)


class LightCurvePanel(RowPanel):
    """Plots the light curve of the session's focused row.

    Magnitudes are drawn with the y axis inverted (bright up). "Fold" shows phase
    ``((t - epoch) / P) mod 1`` twice, over [0, 2), with epoch 0 of the time
    scale; if the catalogue has a ``*period*`` column its value for the row is
    proposed as the period.

    Under the curve, the Lomb-Scargle periodogram of all bands
    (:func:`~astroexplorer.analysis.timeseries.lomb_scargle`: multiband when
    there are several) is drawn against period (log axis) with its peak marked
    and stated; it is computed in a worker thread and cached per row (a grid of
    at most 100,000 frequencies: on 10,000 points about 0.4 s for one band,
    1.3 s for three).
    "Fold at peak" folds at the peak's period. "Bin" averages the points in
    time bins of the width given (per band, inverse-variance weighted; see
    :func:`~astroexplorer.analysis.timeseries.bin_lightcurve`) and draws the bins
    over the raw points (folded with them when folding).

    Parameters
    ----------
    session : Session
        Followed through ``catalogue_changed`` and ``selection.focus_changed``.
    parent : QWidget, optional
    """

    what = "light curve"

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self._lightcurve: LightCurve | None = None
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._error_bars: dict[str, pg.ErrorBarItem] = {}
        self._shown_bands: list[str] = []
        self._period_column: str | None = None
        self._binned_curves: dict[str, pg.PlotDataItem] = {}
        self._binned_bars: dict[str, pg.ErrorBarItem] = {}
        self._binned_bands: list[str] = []
        self._periodograms: dict[tuple[int, int], Periodogram | str] = {}
        self._worker: JobWorker | None = None
        self._pending: tuple[tuple[int, int], LightCurve] | None = None
        self._labels: tuple[str, str] | None = None

        self.fold_check = QCheckBox("Fold")
        self.fold_check.setToolTip("Plot phase ((t - epoch) / period) mod 1, twice; epoch 0")
        self.period_spin = QDoubleSpinBox()
        self.period_spin.setDecimals(6)
        self.period_spin.setRange(1e-4, 1e5)
        self.period_spin.setValue(1.0)
        self.period_spin.setSuffix(" d")
        self.period_spin.setKeyboardTracking(False)
        self.period_spin.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.period_spin.setEnabled(False)
        self.period_spin.setToolTip("Folding period in days")
        self.fold_peak_button = QPushButton("Fold at peak")
        self.fold_peak_button.setToolTip("Fold at the period of the periodogram's highest peak")
        self.fold_peak_button.setEnabled(False)
        self.periodogram_check = QCheckBox("Periodogram")
        self.periodogram_check.setChecked(True)
        self.periodogram_check.setToolTip("Show the Lomb-Scargle periodogram under the curve")
        self.bin_spin = QDoubleSpinBox()
        self.bin_spin.setDecimals(3)
        self.bin_spin.setRange(0.0, 1e4)
        self.bin_spin.setSpecialValueText("off")
        self.bin_spin.setSuffix(" d")
        self.bin_spin.setKeyboardTracking(False)
        self.bin_spin.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.bin_spin.setToolTip("Average the points in time bins of this width (days), "
                                 "per band; \"off\" draws the raw points only")
        row1 = QHBoxLayout()
        row1.setContentsMargins(0, 0, 0, 0)
        row1.addWidget(self.fold_check)
        row1.addWidget(QLabel("Period"))
        row1.addWidget(self.period_spin)
        row1.addWidget(self.fold_peak_button)
        row1.addStretch(1)
        row2 = QHBoxLayout()
        row2.setContentsMargins(0, 0, 0, 0)
        row2.addWidget(self.periodogram_check)
        row2.addSpacing(12)
        row2.addWidget(QLabel("Bin"))
        row2.addWidget(self.bin_spin)
        row2.addStretch(1)
        controls = QVBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.setSpacing(2)
        controls.addLayout(row1)
        controls.addLayout(row2)

        self.plot_widget = pg.PlotWidget(background="w")
        self.plot_widget.setMinimumSize(160, 120)
        self.plot_item: pg.PlotItem = self.plot_widget.getPlotItem()
        for name in ("left", "bottom"):
            axis = self.plot_item.getAxis(name)
            axis.setPen(pg.mkPen("k"))
            axis.setTextPen(pg.mkPen("k"))
        self.plot_item.showGrid(x=True, y=True, alpha=0.15)
        cache_axes(self.plot_item)
        # The legend fills the plot's (blank) title row, so it never hides points;
        # the object label is a Qt label above. Clicking an entry hides that band.
        self.plot_item.setTitle(" ", size="9pt")
        self.legend = pg.LegendItem(labelTextColor="k", horSpacing=6, verSpacing=-6,
                                    pen=None, brush=None)
        self.legend.setParentItem(self.plot_item)
        self.legend.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=(-4, -3))
        self.fold_check.toggled.connect(self._on_fold_changed)
        self.period_spin.valueChanged.connect(self._on_period_changed)
        self.bin_spin.valueChanged.connect(lambda _value: self._draw())
        self.fold_peak_button.clicked.connect(self.fold_at_peak)
        self.periodogram_check.toggled.connect(self._on_periodogram_toggled)
        self._build_periodogram()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.plot_widget)
        self.splitter.addWidget(self.periodogram_box)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self._install(controls, self.splitter)

    def _build_periodogram(self) -> None:
        self.periodogram_widget = pg.PlotWidget(background="w")
        self.periodogram_widget.setMinimumSize(160, 80)
        self.periodogram_item: pg.PlotItem = self.periodogram_widget.getPlotItem()
        for name in ("left", "bottom"):
            axis = self.periodogram_item.getAxis(name)
            axis.setPen(pg.mkPen("k"))
            axis.setTextPen(pg.mkPen("k"))
        style = {"color": "#000", "font-size": "9pt"}
        self.periodogram_item.setLabel("bottom", "period [d]", **style)
        self.periodogram_item.setLabel("left", "power", **style)
        self.periodogram_item.getAxis("left").enableAutoSIPrefix(False)
        self.periodogram_item.setLogMode(x=True, y=False)
        self.periodogram_item.showGrid(x=True, y=True, alpha=0.15)
        cache_axes(self.periodogram_item)
        self.power_curve = self.periodogram_item.plot([], [], pen=pg.mkPen("#333", width=1))
        self.peak_marker = self.periodogram_item.plot(
            [], [], pen=None, symbol="t", symbolSize=11, symbolBrush=pg.mkBrush("#d62728"),
            symbolPen=pg.mkPen("#8b1a1a"))
        self.peak_line = pg.InfiniteLine(angle=90, movable=False,
                                         pen=pg.mkPen("#e8a0a0", width=1, style=Qt.PenStyle.DashLine))
        self.peak_line.hide()
        self.peak_line.setZValue(-5)  # behind the curve, so the peak itself shows
        self.power_curve.setZValue(5)
        self.peak_marker.setZValue(6)
        self.periodogram_item.addItem(self.peak_line)
        self.periodogram_label = QLabel()
        self.periodogram_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.periodogram_label.setWordWrap(True)
        # A line even while empty, so that the plot under it keeps its size (and its
        # drawn axes) from one object to the next (two lines would not fit 1024x640).
        self.periodogram_label.setMinimumHeight(
            self.periodogram_label.fontMetrics().lineSpacing() + 1)
        self.periodogram_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.periodogram_box = QWidget()
        box = QVBoxLayout(self.periodogram_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.periodogram_label)
        box.addWidget(self.periodogram_widget, 1)

    # -- state read by tests and other views ------------------------------------

    @property
    def curves(self) -> dict[str, pg.PlotDataItem]:
        """The plotted curve of each band shown, by band name, in legend order."""
        return {band: self._curves[band] for band in self._shown_bands}

    @property
    def folded(self) -> bool:
        """Whether time is folded to phase."""
        return self.fold_check.isChecked()

    def set_fold(self, period: float | None) -> None:
        """Fold on ``period`` days, or show time again when None."""
        if period is not None:
            self.period_spin.setValue(float(period))
        self.fold_check.setChecked(period is not None)

    @property
    def periodogram(self) -> Periodogram | None:
        """The periodogram of the row shown, once computed (None before, or on error)."""
        result = self._periodograms.get(self._key()) if self._row is not None else None
        return result if isinstance(result, Periodogram) else None

    @property
    def computing(self) -> bool:
        """Whether a periodogram is being computed."""
        return self._worker is not None

    @property
    def binned(self) -> dict[str, pg.PlotDataItem]:
        """The binned points drawn, by band (empty when binning is off)."""
        return {band: self._binned_curves[band] for band in self._binned_bands}

    def set_bin_width(self, width: float | None) -> None:
        """Bin in ``width`` days, or stop binning when None (or 0)."""
        self.bin_spin.setValue(float(width or 0.0))

    def fold_at_peak(self) -> None:
        """Fold at the period of the periodogram's peak (if it has been computed)."""
        result = self.periodogram
        if result is not None:
            self.set_fold(result.best_period)

    # -- session callbacks --------------------------------------------------------

    def _on_catalogue_changed(self, catalogue: Catalogue | None) -> None:
        self._row = None
        self._periodograms.clear()
        self._pending = None
        self._period_column = self._find_period_column(catalogue)
        self._show(self.session.selection.focus)

    def _on_fold_changed(self, checked: bool) -> None:
        self.period_spin.setEnabled(checked)
        self._draw()

    def _on_period_changed(self, _value: float) -> None:
        if self.folded:
            self._draw()

    @staticmethod
    def _find_period_column(catalogue: Catalogue | None) -> str | None:
        if catalogue is None:
            return None
        for name in catalogue.numeric_columns():
            if "period" in name.lower():
                return name
        return None

    def _suggest_period(self, row: int) -> None:
        catalogue = self.session.catalogue
        value = (catalogue.table[self._period_column][row]
                 if self._period_column is not None and catalogue is not None else None)
        if value is None or np.ma.is_masked(value) or not np.isfinite(value) or value <= 0:
            # Keep the user's period for objects without one in the catalogue.
            self.period_spin.setToolTip("Folding period in days")
            return
        self.period_spin.blockSignals(True)
        self.period_spin.setValue(float(value))
        self.period_spin.blockSignals(False)
        self.period_spin.setToolTip(f"Folding period in days (from column {self._period_column})")

    # -- drawing ----------------------------------------------------------------

    def _source(self, catalogue: Catalogue) -> LightCurveSource | None:
        return catalogue.lightcurves

    def _clear(self) -> None:
        self._lightcurve = None
        self._clear_items()
        self._clear_periodogram("")

    def _display(self, catalogue: Catalogue, row: int, lightcurve: LightCurve) -> None:
        if len(lightcurve) == 0:
            self._empty(f"no observations of {catalogue.object_label(row)} (row {row})")
            return
        self._row, self._lightcurve = row, lightcurve
        self._suggest_period(row)
        self.title_label.setText(f"{catalogue.object_label(row)} \N{EM DASH} row {row}")
        self._draw()
        self.stack.setCurrentWidget(self.splitter)
        self._update_periodogram()

    def _clear_items(self) -> None:
        for band in self._shown_bands:
            self._curves[band].hide()
            self._error_bars[band].hide()
        for band in self._binned_bands:
            self._binned_curves[band].hide()
            self._binned_bars[band].hide()
        self._shown_bands = []
        self._binned_bands = []
        self.legend.clear()

    def _binned_items_for(self, band: str) -> tuple[pg.PlotDataItem, pg.ErrorBarItem]:
        if band not in self._binned_curves:
            colour = band_colour(band, list(self._curves).index(band))
            # Bigger symbols with a black edge, drawn above the raw points.
            self._binned_curves[band] = self.plot_item.plot(
                [], [], pen=None, symbol="o", symbolSize=9, symbolBrush=pg.mkBrush(colour),
                symbolPen=pg.mkPen("k", width=1.2))
            self._binned_curves[band].setZValue(10)
            self._binned_bars[band] = pg.ErrorBarItem(pen=pg.mkPen("k", width=1.2), beam=0)
            self._binned_bars[band].setZValue(9)
            self.plot_item.addItem(self._binned_bars[band])
        return self._binned_curves[band], self._binned_bars[band]

    def _draw_binned(self, lightcurve: LightCurve, folded: bool) -> None:
        width = self.bin_spin.value()
        if not width > 0:
            return
        binned = bin_lightcurve(lightcurve, width)
        for band in self._shown_bands:
            mask = binned.band == band
            if not mask.any():
                continue
            x, y = binned.time[mask], binned.value[mask]
            err = np.nan_to_num(binned.error[mask], nan=0.0)
            if folded:
                x = fold_time(x, self.period_spin.value())
                x, y, err = np.concatenate([x, x + 1.0]), np.tile(y, 2), np.tile(err, 2)
            curve, bars = self._binned_items_for(band)
            curve.setData(x, y)
            bars.setData(x=x, y=y, top=err, bottom=err)
            curve.show()
            bars.show()
            self._binned_bands.append(band)

    def _items_for(self, band: str) -> tuple[pg.PlotDataItem, pg.ErrorBarItem]:
        if band not in self._curves:
            # Items are kept per band, so a band keeps its colour and symbol across objects.
            index = len(self._curves)
            colour = band_colour(band, index)
            self._curves[band] = self.plot_item.plot(
                [], [], pen=None, symbol=_SYMBOLS[index % len(_SYMBOLS)],
                symbolSize=6, symbolBrush=pg.mkBrush(colour), symbolPen=pg.mkPen(colour))
            self._error_bars[band] = pg.ErrorBarItem(pen=pg.mkPen(colour, width=1), beam=0)
            self.plot_item.addItem(self._error_bars[band])
        return self._curves[band], self._error_bars[band]

    def _draw(self) -> None:
        self._clear_items()
        lightcurve = self._lightcurve
        if lightcurve is None:
            return
        ok = np.isfinite(lightcurve.time) & np.isfinite(lightcurve.value)
        time, value = lightcurve.time[ok], lightcurve.value[ok]
        error = np.nan_to_num(lightcurve.error[ok], nan=0.0, posinf=0.0, neginf=0.0)
        band_of = lightcurve.band[ok]
        folded = self.folded
        if folded:
            time = fold_time(time, self.period_spin.value())
        bands = sorted(lightcurve.bands, key=_wavelength_key)
        self.legend.setColumnCount(max(1, len(bands)))
        for band in bands:
            mask = band_of == band
            if not mask.any():
                continue
            x, y, err = time[mask], value[mask], error[mask]
            if folded:
                x, y, err = np.concatenate([x, x + 1.0]), np.tile(y, 2), np.tile(err, 2)
            curve, bars = self._items_for(band)
            curve.setData(x, y)
            bars.setData(x=x, y=y, top=err, bottom=err)
            curve.show()
            bars.show()
            self._shown_bands.append(band)
            self.legend.addItem(curve, band or "(no band)")
        self._draw_binned(lightcurve, folded)
        self._set_labels(lightcurve, folded)
        self.plot_item.invertY(lightcurve.is_magnitude)
        if folded:
            self.plot_item.setXRange(0.0, 2.0, padding=0.02)
            self.plot_item.enableAutoRange(axis="y")
        else:
            self.plot_item.enableAutoRange()

    def _set_labels(self, lightcurve: LightCurve, folded: bool) -> None:
        if folded:
            x_label = f"phase (P = {self.period_spin.value():.6g} d)"
        else:
            fmt = lightcurve.time_format or "time"
            unit = " [d]" if fmt.lower() in _TIME_IN_DAYS else ""
            name = fmt.upper() if fmt.lower() in _TIME_IN_DAYS else fmt
            x_label = f"{name}{unit}"
            reference = time_reference(lightcurve)
            if reference:
                x_label = f"{reference}{unit}"
            self.plot_item.getAxis("bottom").setToolTip(
                reference or f"time system: {name}")
        name, unit = lightcurve.value_name or "value", lightcurve.value_unit
        y_label = f"{name} [{unit}]" if unit and unit != name else name
        if (x_label, y_label) == self._labels:
            return  # setting a label again redraws its axis, for nothing
        self._labels = (x_label, y_label)
        style = {"color": "#000", "font-size": "10pt"}
        self.plot_item.setLabel("bottom", x_label, **style)
        self.plot_item.setLabel("left", y_label, **style)

    # -- periodogram ----------------------------------------------------------------

    def _key(self) -> tuple[int, int]:
        return (id(self.session.catalogue), -1 if self._row is None else int(self._row))

    def _on_periodogram_toggled(self, checked: bool) -> None:
        self.periodogram_box.setVisible(checked)
        self._update_periodogram()

    def _update_periodogram(self) -> None:
        """Show the cached periodogram of the row, or start computing it."""
        lightcurve = self._lightcurve
        if lightcurve is None or self._row is None:
            self._clear_periodogram("")
            return
        key = self._key()
        cached = self._periodograms.get(key)
        if cached is not None:
            self._show_periodogram(cached)
            return
        self._clear_periodogram("computing the periodogram\N{HORIZONTAL ELLIPSIS}")
        if not self.periodogram_check.isChecked():
            self.periodogram_label.setText("")
            return
        if self._worker is not None:
            self._pending = (key, lightcurve)  # started when the running one ends
            return
        self._start(key, lightcurve)

    def _start(self, key: tuple[int, int], lightcurve: LightCurve) -> None:
        worker = JobWorker(lambda: lomb_scargle_job(lightcurve), name="periodogram")
        ref = weakref.ref(self)

        def outcome(result: object) -> None:
            panel = ref()
            if panel is not None and shiboken6.isValid(panel):
                panel._on_periodogram_done(key, result)

        worker.finished.connect(outcome)
        worker.failed.connect(outcome)
        self._worker = worker
        worker.start()

    def _on_periodogram_done(self, key: tuple[int, int], result: Periodogram | str) -> None:
        self._worker = None
        if key[0] == id(self.session.catalogue):
            self._periodograms[key] = result
        pending, self._pending = self._pending, None
        if pending is not None and pending[0] != key and pending[0] == self._key():
            self._start(*pending)
        if key == self._key() and self._lightcurve is not None:
            self._show_periodogram(result)

    def _clear_periodogram(self, message: str) -> None:
        self.power_curve.setData([], [])
        self.peak_marker.setData([], [])
        self.peak_line.hide()
        self.periodogram_label.setText(message)
        self.periodogram_label.setStyleSheet("color: #555;")
        self.fold_peak_button.setEnabled(False)

    def _show_periodogram(self, result: Periodogram | str) -> None:
        if isinstance(result, str):
            self._clear_periodogram(f"no periodogram: {result}")
            self.periodogram_label.setStyleSheet("color: #c00000;")
            return
        self.power_curve.setData(*peak_envelope(result.period[::-1], result.power[::-1]))
        self.peak_marker.setData([result.best_period], [result.best_power])
        self.peak_line.setValue(np.log10(result.best_period))
        self.peak_line.show()
        self.periodogram_item.setXRange(np.log10(result.min_period), np.log10(result.max_period),
                                        padding=0.02)
        top = max(result.best_power, 1e-3) * 1.08
        self.periodogram_item.setYRange(0.0, top, padding=0)
        # Two or three power labels: the plot is short, pyqtgraph's own choice overlaps.
        step = _nice_step(top / 2)
        self.periodogram_item.getAxis("left").setTickSpacing(step, step / 2)
        fap = result.false_alarm_probability
        fap_text = "" if not np.isfinite(fap) else f", FAP {fap:.2g}"
        bands = "+".join(result.bands) if result.bands != ("",) else "all points"
        self.periodogram_label.setText(
            f"peak P = {result.best_period:.6g} d (power {result.best_power:.2f}{fap_text}; "
            f"{bands}, {result.method})")
        self.periodogram_label.setStyleSheet("color: #000;")
        self.fold_peak_button.setEnabled(True)


def _nice_step(span: float) -> float:
    """The smallest of 1, 2 or 5 times a power of ten that is at least ``span`` (> 0)."""
    exponent = np.floor(np.log10(span))
    for factor in (1.0, 2.0, 5.0, 10.0):
        step = factor * 10.0 ** exponent
        if step >= span * (1 - 1e-9):
            return float(step)
    return float(10.0 ** (exponent + 1))  # pragma: no cover - unreachable


def peak_envelope(period: np.ndarray, power: np.ndarray, n_bins: int = 2000
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The highest point in each of ``n_bins`` equal bins of log(period), shapes (B,).

    A periodogram has up to 10^5 frequencies, crowded at short periods on a log
    axis; drawing each bin's maximum (at its own period) keeps every peak visible
    and exact, where plain decimation would miss narrow ones. ``period`` must be
    ascending; short inputs are returned as they are.
    """
    if period.size <= 2 * n_bins:
        return period, power
    log_period = np.log10(period)
    edges = np.linspace(log_period[0], log_period[-1], n_bins + 1)
    starts = np.unique(np.searchsorted(log_period, edges[:-1], side="left"))
    starts = starts[starts < period.size]
    highest = np.maximum.reduceat(power, starts)
    segment = np.repeat(np.arange(starts.size), np.diff(np.append(starts, period.size)))
    at_max = np.flatnonzero(power == highest[segment])
    first = at_max[np.unique(segment[at_max], return_index=True)[1]]
    return period[first], power[first]


def time_reference(lightcurve: LightCurve) -> str:
    """How an offset time system relates to JD, e.g. "BKJD = BJD - 2454833"; "" when
    the light curve's times are not offset (MJD, JD)."""
    offset = float(lightcurve.time_offset_jd)
    if offset == 0.0:
        return ""
    fmt = (lightcurve.time_format or "time").upper()
    scale = lightcurve.time_scale.lower() or "tdb"
    base = "BJD" if scale == "tdb" else f"JD ({scale.upper()})"
    return f"{fmt} = {base} \N{MINUS SIGN} {offset:.10g}"
