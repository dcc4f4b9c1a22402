"""LightCurvePanel: one curve per band, inverted magnitudes, folding, empty states."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import astropy.units as u  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from astropy.table import Column, Table  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from astroexplorer.core import Catalogue, Session, TableLightCurveSource  # noqa: E402
from astroexplorer.gui.lightcurve_view import BAND_COLOURS, LightCurvePanel, band_colour  # noqa: E402

N = 10
#: Points per band of every object except EMPTY_ROW.
COUNTS = {"g": 5, "r": 7, "i": 3}
EMPTY_ROW = 8


def make_catalogue(with_lightcurves: bool = True, flux: bool = False,
                   period: bool = False) -> Catalogue:
    rng = np.random.default_rng(1)
    table = Table({"object_id": np.arange(100, 100 + N)})
    if period:
        table["period"] = Column(np.where(np.arange(N) % 2, 0.37, np.nan), unit=u.d)
    if not with_lightcurves:
        return Catalogue(table, name="no-lc")
    ids, times, values, bands = [], [], [], []
    for row in range(N):
        if row == EMPTY_ROW:
            continue
        for band, count in COUNTS.items():
            ids += [100 + row] * count
            times += list(rng.uniform(59000, 59300, count))
            values += list(rng.normal(19, 0.2, count))
            bands += [band] * count
    name, unit = ("flux", u.mJy) if flux else ("mag", u.mag)
    obs = Table({"object_id": ids, "mjd": Column(times, unit=u.d), name: Column(values, unit=unit),
                 f"{name}_err": Column(np.full(len(ids), 0.05), unit=unit), "band": bands})
    source = TableLightCurveSource(obs, np.asarray(table["object_id"]), "object_id", "mjd", name,
                                   f"{name}_err", "band")
    return Catalogue(table, name="lc", lightcurves=source)


@pytest.fixture
def session() -> Session:
    return Session()


@pytest.fixture
def panel(qtbot, session) -> LightCurvePanel:
    widget = LightCurvePanel(session)
    qtbot.addWidget(widget)
    widget.resize(420, 420)
    return widget


def axis_label(panel: LightCurvePanel, name: str) -> str:
    return panel.plot_item.getAxis(name).labelText


def test_one_curve_per_band_with_error_bars(panel, session):
    session.set_catalogue(make_catalogue())
    assert panel.shown_row is None and panel.message == "click an object to see its light curve"
    session.selection.set_focus(5)
    assert panel.shown_row == 5 and panel.message == ""
    curves = panel.curves
    assert list(curves) == ["g", "r", "i"]  # blue to red
    lightcurve = session.catalogue.lightcurves.get(5)
    for band, curve in curves.items():
        x, y = curve.getData()
        assert len(x) == COUNTS[band]
        assert np.allclose(np.sort(x), np.sort(lightcurve.time[lightcurve.band == band]))
        bars = panel._error_bars[band]
        assert bars.isVisible() and np.allclose(bars.opts["top"], 0.05)
    assert [label.text for _, label in panel.legend.items] == ["g", "r", "i"]
    assert panel.plot_item.getViewBox().yInverted()
    assert axis_label(panel, "bottom") == "MJD [d]"
    assert axis_label(panel, "left") == "mag"
    assert "object_id=105" in panel.title_label.text() and "row 5" in panel.title_label.text()


def test_moving_focus_reuses_items_and_clears(panel, session):
    session.set_catalogue(make_catalogue())
    session.selection.set_focus(1)
    first = dict(panel.curves)
    session.selection.set_focus(2)
    assert all(panel.curves[band] is first[band] for band in first)
    session.selection.set_focus(None)
    assert panel.shown_row is None and panel.curves == {}
    assert panel.legend.items == []


def test_flux_is_not_inverted(panel, session):
    session.set_catalogue(make_catalogue(flux=True))
    session.selection.set_focus(0)
    assert not panel.plot_item.getViewBox().yInverted()
    assert axis_label(panel, "left") == "flux [mJy]"


def test_fold_shows_phase_twice(panel, session):
    session.set_catalogue(make_catalogue())
    session.selection.set_focus(5)
    lightcurve = session.catalogue.lightcurves.get(5)
    panel.set_fold(2.5)
    assert panel.folded and panel.period_spin.isEnabled()
    for band, curve in panel.curves.items():
        x, y = curve.getData()
        n = COUNTS[band]
        assert len(x) == 2 * n
        assert np.all((x >= 0) & (x < 2))
        assert np.allclose(x[n:], x[:n] + 1) and np.allclose(y[n:], y[:n])
        t = lightcurve.time[lightcurve.band == band]
        assert np.allclose(x[:n], np.mod(t / 2.5, 1.0))
    assert axis_label(panel, "bottom").startswith("phase (P = 2.5 d)")
    panel.period_spin.setValue(5.0)
    x, _ = panel.curves["g"].getData()
    t = lightcurve.time[lightcurve.band == "g"]
    assert np.allclose(x[:COUNTS["g"]], np.mod(t / 5.0, 1.0))
    panel.set_fold(None)
    assert not panel.folded
    x, _ = panel.curves["g"].getData()
    assert len(x) == COUNTS["g"] and x.min() > 59000
    assert axis_label(panel, "bottom") == "MJD [d]"


def test_fold_period_proposed_from_a_period_column(panel, session):
    session.set_catalogue(make_catalogue(period=True))
    session.selection.set_focus(3)
    assert panel.period_spin.value() == pytest.approx(0.37)
    panel.period_spin.setValue(1.5)
    session.selection.set_focus(4)  # NaN period: the user's value stays
    assert panel.period_spin.value() == pytest.approx(1.5)


def test_empty_states(panel, session):
    assert panel.message == "no catalogue open"
    session.set_catalogue(make_catalogue(with_lightcurves=False))
    assert panel.message == "no light curves in this catalogue"
    session.selection.set_focus(2)
    assert panel.shown_row is None and panel.message == "no light curves in this catalogue"
    session.set_catalogue(make_catalogue())
    session.selection.set_focus(EMPTY_ROW)
    assert panel.shown_row is None and "no observations" in panel.message
    panel.set_fold(1.0)  # folding nothing is fine
    session.selection.set_focus(0)
    assert panel.shown_row == 0 and all(len(c.getData()[0]) for c in panel.curves.values())


def test_non_finite_points_are_skipped(panel, session):
    catalogue = make_catalogue()
    obs = catalogue.lightcurves.table
    first = np.flatnonzero(np.asarray(obs["object_id"]) == 100)
    obs["mag"][first[:2]] = np.nan
    obs["mag_err"][first[2]] = np.nan
    session.set_catalogue(catalogue)
    session.selection.set_focus(0)
    total = sum(len(c.getData()[0]) for c in panel.curves.values())
    assert total == sum(COUNTS.values()) - 2


def test_band_colours():
    assert band_colour("g") == BAND_COLOURS["g"]
    assert band_colour("ZTF_r") == BAND_COLOURS["r"]
    assert band_colour("mystery", 0) != band_colour("mystery", 1)


# -- periodogram, fold at peak, binning, time systems ---------------------------------

from astroexplorer.analysis.timeseries import bin_lightcurve  # noqa: E402
from astroexplorer.core.lightcurves import LightCurve  # noqa: E402
from tests.helpers import ListLightCurveSource  # noqa: E402


def list_catalogue(curves: list[LightCurve]) -> Catalogue:
    table = Table({"object_id": np.arange(len(curves))})
    return Catalogue(table, name="list", lightcurves=ListLightCurveSource(
        curves, bands=tuple(dict.fromkeys(b for c in curves for b in c.bands))))


def wait_for_periodogram(qtbot, panel: LightCurvePanel) -> None:
    qtbot.waitUntil(lambda: not panel.computing and panel.periodogram_label.text()
                    and "computing" not in panel.periodogram_label.text(), timeout=15_000)


def test_periodogram_marks_the_true_period_of_demo_pulsators(qtbot, panel, session,
                                                             survey_path):
    from astroexplorer.io.registry import read_catalogue

    catalogue = read_catalogue(survey_path)
    session.set_catalogue(catalogue)
    table = catalogue.table
    counts = catalogue.lightcurves.counts()
    for var_class in ("rr_lyrae", "cepheid"):
        # The first well-sampled (> 100 points) object of the class.
        row = int(np.flatnonzero((np.asarray(table["var_class"]) == var_class)
                                 & (counts > 100))[0])
        true = float(table["true_lc_period_days"][row])
        session.selection.set_focus(row)
        assert panel.periodogram is None and panel.computing
        assert not panel.fold_peak_button.isEnabled()
        wait_for_periodogram(qtbot, panel)
        result = panel.periodogram
        assert result is not None and result.method == "multiband"
        assert result.best_period == pytest.approx(true, rel=0.01), var_class
        # The peak is marked (triangle and dashed line) and stated.
        assert panel.peak_marker.xData[0] == pytest.approx(result.best_period)
        assert panel.peak_marker.yData[0] == pytest.approx(result.best_power)
        assert panel.peak_line.isVisible()
        assert panel.peak_line.value() == pytest.approx(np.log10(result.best_period))
        # The curve drawn keeps the grid's highest point, at its own period.
        x, y = panel.power_curve.xData, panel.power_curve.yData
        assert y.max() == result.power.max()
        assert x[np.argmax(y)] == pytest.approx(1 / result.frequency[np.argmax(result.power)])
        assert 500 < x.size <= 2000 and np.all(np.diff(x) > 0)
        assert panel.periodogram_label.text().startswith(f"peak P = {result.best_period:.6g} d")
        # Fold at peak: the period box takes the peak's period and the curve folds.
        qtbot.mouseClick(panel.fold_peak_button, Qt.MouseButton.LeftButton)
        assert panel.folded
        assert panel.period_spin.value() == pytest.approx(result.best_period, abs=1e-6)
        x, _ = panel.curves["g"].getData()
        assert np.all((x >= 0) & (x < 2))
        assert axis_label(panel, "bottom").startswith("phase (P = ")
        panel.set_fold(None)
    # Cached per row: back on the first object, no new computation.
    first = int(np.flatnonzero((np.asarray(table["var_class"]) == "rr_lyrae")
                               & (counts > 100))[0])
    session.selection.set_focus(first)
    assert not panel.computing and panel.periodogram is not None


def test_periodogram_error_and_toggle(qtbot, panel, session):
    few = LightCurve(np.array([1.0, 2.0]), np.array([18.0, 18.1]), np.array([0.1, 0.1]),
                     np.array(["g", "g"]))
    rng = np.random.default_rng(4)
    t = np.sort(rng.uniform(0, 100, 80))
    good = LightCurve(t, 18 + 0.3 * np.sin(2 * np.pi * t / 3.7) + rng.normal(0, 0.02, 80),
                      np.full(80, 0.02), np.full(80, "r"))
    session.set_catalogue(list_catalogue([few, good]))
    session.selection.set_focus(0)
    wait_for_periodogram(qtbot, panel)
    assert panel.periodogram is None
    assert "2 usable points" in panel.periodogram_label.text()
    assert not panel.fold_peak_button.isEnabled()
    assert len(panel.curves["g"].getData()[0]) == 2  # the curve itself is drawn
    panel.periodogram_check.setChecked(False)
    assert panel.periodogram_box.isHidden()
    session.selection.set_focus(1)
    assert not panel.computing and panel.periodogram is None  # hidden: not computed
    panel.periodogram_check.setChecked(True)
    assert panel.computing
    wait_for_periodogram(qtbot, panel)
    assert panel.periodogram.best_period == pytest.approx(3.7, rel=0.01)
    assert panel.periodogram.method == "single-band"
    assert "FAP" in panel.periodogram_label.text()


def test_binning_draws_bins_over_the_points(panel, session):
    session.set_catalogue(make_catalogue())
    session.selection.set_focus(2)
    assert panel.binned == {}
    panel.set_bin_width(100.0)
    lightcurve = session.catalogue.lightcurves.get(2)
    expected = bin_lightcurve(lightcurve, 100.0)
    assert set(panel.binned) == set(expected.band)
    for band, curve in panel.binned.items():
        x, y = curve.getData()
        mask = expected.band == band
        assert np.allclose(x, expected.time[mask]) and np.allclose(y, expected.value[mask])
        assert curve.zValue() > panel.curves[band].zValue()
        assert len(panel.curves[band].getData()[0]) == COUNTS[band]  # raw points stay
    assert panel.bin_spin.text() == "100.000 d"
    panel.set_fold(2.5)
    x, _ = panel.binned["r"].getData()
    assert np.all((x >= 0) & (x < 2)) and len(x) == 2 * np.sum(expected.band == "r")
    panel.set_bin_width(None)
    assert panel.binned == {} and panel.bin_spin.text() == "off"
    assert not any(item.isVisible() for item in panel._binned_curves.values())


def test_time_axis_names_its_system_and_reference(panel, session):
    t = np.linspace(120.0, 150.0, 40)
    kepler = LightCurve(t, np.full(40, 1.0e4), np.full(40, 5.0), np.full(40, ""),
                        time_format="bkjd", value_name="flux", value_unit="electron / s",
                        is_magnitude=False, time_offset_jd=2454833.0)
    tess = LightCurve(t, np.full(40, 1.0e4), np.full(40, 5.0), np.full(40, ""),
                      time_format="btjd", value_name="flux", value_unit="electron / s",
                      is_magnitude=False, time_offset_jd=2457000.0)
    session.set_catalogue(list_catalogue([kepler, tess]))
    session.selection.set_focus(0)
    assert axis_label(panel, "bottom") == "BKJD = BJD \N{MINUS SIGN} 2454833 [d]"
    assert panel.plot_item.getAxis("bottom").toolTip() == "BKJD = BJD \N{MINUS SIGN} 2454833"
    assert not panel.plot_item.getViewBox().yInverted()  # flux: not inverted
    session.selection.set_focus(1)
    assert axis_label(panel, "bottom") == "BTJD = BJD \N{MINUS SIGN} 2457000 [d]"
