"""The light curve of the focused object, one colour per band, optionally folded."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QWidget,
)

from ..analysis.display import band_wavelength, fold_time
from ..core.catalogue import Catalogue
from ..core.lightcurves import LightCurve, LightCurveSource
from ..core.session import Session
from .row_panel import RowPanel

__all__ = ["LightCurvePanel", "band_colour", "BAND_COLOURS"]


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
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.fold_check)
        controls.addWidget(QLabel("Period"))
        controls.addWidget(self.period_spin)
        controls.addStretch(1)

        self.plot_widget = pg.PlotWidget(background="w")
        self.plot_widget.setMinimumSize(160, 120)
        self.plot_item: pg.PlotItem = self.plot_widget.getPlotItem()
        for name in ("left", "bottom"):
            axis = self.plot_item.getAxis(name)
            axis.setPen(pg.mkPen("k"))
            axis.setTextPen(pg.mkPen("k"))
        self.plot_item.showGrid(x=True, y=True, alpha=0.15)
        # The legend fills the plot's (blank) title row, so it never hides points;
        # the object label is a Qt label above. Clicking an entry hides that band.
        self.plot_item.setTitle(" ", size="9pt")
        self.legend = pg.LegendItem(labelTextColor="k", horSpacing=6, verSpacing=-6,
                                    pen=None, brush=None)
        self.legend.setParentItem(self.plot_item)
        self.legend.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=(-4, -3))
        self.fold_check.toggled.connect(self._on_fold_changed)
        self.period_spin.valueChanged.connect(self._on_period_changed)
        self._install(controls, self.plot_widget)

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

    # -- session callbacks --------------------------------------------------------

    def _on_catalogue_changed(self, catalogue: Catalogue | None) -> None:
        self._row = None
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

    def _display(self, catalogue: Catalogue, row: int, lightcurve: LightCurve) -> None:
        if len(lightcurve) == 0:
            self._empty(f"no observations of {catalogue.object_label(row)} (row {row})")
            return
        self._row, self._lightcurve = row, lightcurve
        self._suggest_period(row)
        self.title_label.setText(f"{catalogue.object_label(row)} \N{EM DASH} row {row}")
        self._draw()
        self.stack.setCurrentWidget(self.plot_widget)

    def _clear_items(self) -> None:
        for band in self._shown_bands:
            self._curves[band].hide()
            self._error_bars[band].hide()
        self._shown_bands = []
        self.legend.clear()

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
            x_label = f"{fmt.upper() if fmt.lower() in _TIME_IN_DAYS else fmt}{unit}"
        name, unit = lightcurve.value_name or "value", lightcurve.value_unit
        y_label = f"{name} [{unit}]" if unit and unit != name else name
        style = {"color": "#000", "font-size": "10pt"}
        self.plot_item.setLabel("bottom", x_label, **style)
        self.plot_item.setLabel("left", y_label, **style)
