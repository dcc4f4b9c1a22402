"""ImagePanel: follows the focused row, scales cutouts, reads pixels, empty states."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from astropy.table import Table  # noqa: E402
from PySide6.QtCore import QEvent, QPointF  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from astroexplorer.core import ArrayImageSource, Catalogue, Session  # noqa: E402
from astroexplorer.gui.image_view import RGB_COMPOSITE, ImagePanel  # noqa: E402

N = 10


def make_cube(n: int = N, bands: int = 3, size: int = 32, seed: int = 0) -> np.ndarray:
    """Noise plus a Gaussian blob per object, shape (n, bands, size, size) float32."""
    rng = np.random.default_rng(seed)
    y, x = np.indices((size, size))
    blob = np.exp(-((x - size / 2) ** 2 + (y - size / 2) ** 2) / 8.0)
    cube = rng.normal(0, 0.01, (n, bands, size, size)) + blob * np.arange(1, bands + 1)[:, None, None]
    return cube.astype(np.float32)


def make_catalogue(cube: np.ndarray | None = None, bands=("g", "r", "z")) -> Catalogue:
    n = N if cube is None else cube.shape[0]
    table = Table({"object_id": np.arange(100, 100 + n)})
    images = None if cube is None else ArrayImageSource(cube, bands)
    return Catalogue(table, name="test", images=images)


@pytest.fixture
def session() -> Session:
    return Session()


@pytest.fixture
def panel(qtbot, session) -> ImagePanel:
    widget = ImagePanel(session)
    qtbot.addWidget(widget)
    widget.resize(420, 420)
    return widget


def test_empty_until_a_row_is_focused(panel, session):
    assert panel.shown_row is None and panel.message == "no catalogue open"
    session.set_catalogue(make_catalogue(make_cube()))
    assert panel.shown_row is None
    assert panel.message == "click an object to see its cutout"


def test_focus_shows_the_rows_colour_composite(panel, session):
    cube = make_cube()
    session.set_catalogue(make_catalogue(cube))
    session.selection.set_focus(5)
    assert panel.shown_row == 5
    assert panel.message == ""
    image = panel.image_item.image
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    assert image[16, 16].max() > 100 and np.median(image) < 40
    assert "object_id=105" in panel.title_label.text() and "row 5" in panel.title_label.text()
    assert panel.view.state["aspectLocked"]
    assert not panel.stretch_combo.isEnabled()

    session.selection.set_focus(None)
    assert panel.shown_row is None and panel.message == "click an object to see its cutout"
    assert panel.image_item.image is None


def test_single_band_uses_the_chosen_stretch(panel, session):
    cube = make_cube()
    session.set_catalogue(make_catalogue(cube))
    session.selection.set_focus(2)
    assert [panel.band_combo.itemText(i) for i in range(panel.band_combo.count())] == [
        RGB_COMPOSITE, "g", "r", "z"]
    panel.band_combo.setCurrentText("r")
    assert panel.stretch_combo.isEnabled() and panel.interval_combo.isEnabled()
    image = panel.image_item.image
    assert image.shape == (32, 32) and image.min() >= 0 and image.max() <= 1
    panel.stretch_combo.setCurrentText("linear")
    panel.interval_combo.setCurrentText("minmax")
    # Linear min-max: the brightest r pixel is white, the faintest black.
    image = panel.image_item.image
    r = cube[2, 1]
    assert image[np.unravel_index(np.argmax(r), r.shape)] == pytest.approx(1.0)
    assert image[np.unravel_index(np.argmin(r), r.shape)] == pytest.approx(0.0)
    # The band choice survives moving to another object.
    session.selection.set_focus(3)
    assert panel.shown_row == 3 and panel.image_item.image.shape == (32, 32)


def test_row_zero_is_drawn_at_the_bottom(panel, session):
    cube = np.zeros((N, 3, 32, 32), np.float32)
    cube[:, :, 0, 0] = 10.0  # FITS pixel (x=0, y=0)
    session.set_catalogue(make_catalogue(cube))
    session.selection.set_focus(1)
    panel.show()
    assert not panel.view.yInverted()
    bottom = panel.view.mapViewToScene(QPointF(0.5, 0.5))
    top = panel.view.mapViewToScene(QPointF(0.5, 31.5))
    assert bottom.y() > top.y()  # screen y grows downwards
    assert panel.image_item.mapToView(QPointF(0.5, 0.5)) == QPointF(0.5, 0.5)
    assert panel.pixel_text(0.5, 0.5).startswith("x=0 y=0:")
    assert "g=10" in panel.pixel_text(0.5, 0.5)


def test_pixel_readout_under_the_cursor(panel, session):
    cube = make_cube()
    session.set_catalogue(make_catalogue(cube))
    session.selection.set_focus(4)
    panel.show()
    text = panel.pixel_text(7.2, 11.9)
    assert text.startswith("x=7 y=11:")
    for name, value in zip(("g", "r", "z"), cube[4, :, 11, 7]):
        assert f"{name}={value:.4g}" in text
    assert panel.pixel_text(-0.5, 3.0) == "" and panel.pixel_text(3.0, 32.0) == ""
    panel._on_mouse_moved(panel.view.mapViewToScene(QPointF(7.2, 11.9)))
    assert panel.readout_label.text() == text


def test_catalogue_without_cutouts(panel, session):
    session.set_catalogue(make_catalogue(None))
    assert panel.message == "no cutouts in this catalogue"
    session.selection.set_focus(3)
    assert panel.shown_row is None and panel.message == "no cutouts in this catalogue"
    assert not panel.band_combo.isEnabled()
    # and back to one with cutouts
    session.set_catalogue(make_catalogue(make_cube()))
    session.selection.set_focus(3)
    assert panel.shown_row == 3


def test_nan_cutouts_do_not_crash(panel, session):
    cube = make_cube()
    cube[1, :, :8, :] = np.nan
    cube[2] = np.nan
    cube[3] = 1.0  # constant
    session.set_catalogue(make_catalogue(cube))
    for row in (1, 2, 3):
        for band in (RGB_COMPOSITE, "g"):
            panel.band_combo.setCurrentText(band)
            session.selection.set_focus(row)
            image = np.asarray(panel.image_item.image, dtype=float)
            assert panel.shown_row == row and np.all(np.isfinite(image))
    session.selection.set_focus(1)
    assert "g=nan" in panel.pixel_text(10.0, 3.0)


def test_single_band_catalogue(panel, session):
    session.set_catalogue(make_catalogue(make_cube(bands=1), bands=("r",)))
    assert [panel.band_combo.itemText(i) for i in range(panel.band_combo.count())] == ["r"]
    session.selection.set_focus(0)
    assert panel.image_item.image.shape == (32, 32)


def test_panel_created_after_focus_shows_it(qtbot, session):
    session.set_catalogue(make_catalogue(make_cube()))
    session.selection.set_focus(7)
    widget = ImagePanel(session)
    qtbot.addWidget(widget)
    assert widget.shown_row == 7


def test_deleted_panel_is_disconnected(qtbot, session):
    session.set_catalogue(make_catalogue(make_cube()))
    before = len(session.selection.focus_changed._slots)
    before_catalogue = len(session.catalogue_changed._slots)
    widget = ImagePanel(session)
    assert len(session.selection.focus_changed._slots) == before + 1
    widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    session.selection.set_focus(1)  # must not touch the deleted widget
    session.set_catalogue(make_catalogue(make_cube()))
    assert len(session.selection.focus_changed._slots) == before
    assert len(session.catalogue_changed._slots) == before_catalogue
