"""LightCurvePanel: one curve per band, inverted magnitudes, folding, empty states."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import astropy.units as u  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from astropy.table import Column, Table  # noqa: E402

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
