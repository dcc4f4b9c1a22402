"""ImagePanel: follows the focused row, scales cutouts (stretches, limits, histogram handles,
colour maps, composites), reads pixels and RA/Dec, zooms, empty states."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from astropy.table import Table  # noqa: E402
from astropy.wcs import WCS  # noqa: E402
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QWheelEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from astroexplorer.analysis.display import (  # noqa: E402
    composite_channels,
    image_limits,
    lupton_parameters,
    make_rgb,
    rgb_band_order,
    stretch_image,
)
from astroexplorer.core import ArrayImageSource, Catalogue, Session  # noqa: E402
from astroexplorer.gui.image_view import (  # noqa: E402
    MANUAL,
    RGB_COMPOSITE,
    SKY,
    ImagePanel,
    colour_lut,
    pixel_unit,
)
from astroexplorer.io.wide_field import StampImageSource  # noqa: E402

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
    assert panel.stretch_combo.isEnabled() and panel.limits_combo.isEnabled()
    image = panel.image_item.image
    assert image.shape == (32, 32) and image.min() >= 0 and image.max() <= 1
    panel.stretch_combo.setCurrentText("linear")
    panel.limits_combo.setCurrentText("min-max")
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
    assert panel.pixel_text(0.5, 0.5).startswith("FITS pixel (1, 1) [1-based]:")
    assert "g=10" in panel.pixel_text(0.5, 0.5)


def test_pixel_readout_under_the_cursor(panel, session):
    cube = make_cube()
    session.set_catalogue(make_catalogue(cube))
    session.selection.set_focus(4)
    panel.show()
    text = panel.pixel_text(7.2, 11.9)
    assert text.startswith("FITS pixel (8, 12) [1-based]:")
    assert "\n" not in text  # no WCS: no RA/Dec line
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


# -- issue 4: FITS-faithful display ---------------------------------------------------


def tan_wcs(size: int = 32) -> WCS:
    """North up, east left, 0.2 arcsec pixels, (150 deg, +2 deg) at array pixel
    (size/2, size/2), FITS pixel (size/2 + 1, size/2 + 1)."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [150.0, 2.0]
    wcs.wcs.crpix = [size / 2 + 1, size / 2 + 1]
    wcs.wcs.cdelt = [-0.2 / 3600, 0.2 / 3600]
    return wcs


class UnitSource(ArrayImageSource):
    """Cutouts in nanomaggies, each with the same TAN WCS."""

    unit = "nanomaggy"

    def wcs(self, row: int):
        return tan_wcs(self.shape[-1])


def test_histogram_handles_and_limits_follow_each_other(panel, session):
    cube = make_cube()
    session.set_catalogue(make_catalogue(cube))
    session.selection.set_focus(2)
    assert panel.limits is None and not panel.histogram.isVisibleTo(panel)  # composite
    panel.band_combo.setCurrentText("r")
    band = cube[2, 1]
    assert panel.histogram.isVisibleTo(panel)
    assert panel.limits_combo.currentText() == SKY
    assert panel.limits == pytest.approx(image_limits(band, "sky", 99.5))
    # Limits -> handles.
    panel.limits_combo.setCurrentText("min-max")
    assert panel.limits == pytest.approx((band.min(), band.max()))
    assert panel.limits_region.getRegion() == pytest.approx((band.min(), band.max()))
    panel.limits_combo.setCurrentText("zscale")
    assert panel.limits_region.getRegion() == pytest.approx(image_limits(band, "zscale"))
    # Handles -> limits (and the image).
    panel.stretch_combo.setCurrentText("linear")
    panel.limits_region.setRegion((0.0, 1.0))
    assert panel.limits_combo.currentText() == MANUAL
    assert panel.limits == pytest.approx((0.0, 1.0))
    expected = stretch_image(band, "linear", limits=(0.0, 1.0))
    assert np.allclose(panel.image_item.image, expected)
    # Manual limits stay for the next object, until another entry is chosen.
    session.selection.set_focus(3)
    assert panel.limits == pytest.approx((0.0, 1.0))
    assert panel.limits_region.getRegion() == pytest.approx((0.0, 1.0))
    panel.limits_combo.setCurrentText("95%")
    assert panel.limits == pytest.approx(image_limits(cube[3, 1], "percentile", 95.0))
    # The histogram counts every finite pixel, on a log axis.
    assert panel.histogram.getPlotItem().getAxis("left").logMode
    _, counts = panel.histogram_curve.getOriginalDataset()
    assert counts[counts >= 1].sum() == band.size


def test_custom_percentile_and_stretch_parameters(panel, session):
    cube = make_cube()
    session.set_catalogue(make_catalogue(cube))
    session.selection.set_focus(1)
    panel.band_combo.setCurrentText("g")
    band = cube[1, 0]
    assert not panel.percentile_spin.isEnabled()
    panel.limits_combo.setCurrentText("custom %")
    assert panel.percentile_spin.isEnabled()
    panel.percentile_spin.setValue(90.0)
    assert panel.limits == pytest.approx(image_limits(band, "percentile", 90.0))
    assert panel.parameter_spin.value() == pytest.approx(0.5)  # the panel's asinh softening
    panel.stretch_combo.setCurrentText("power")
    assert panel.parameter_spin.isEnabled() and panel.parameter_spin.value() == 2.0
    panel.parameter_spin.setValue(3.0)
    assert np.allclose(panel.image_item.image,
                       stretch_image(band, "power", limits=panel.limits, parameter=3.0))
    panel.stretch_combo.setCurrentText("sqrt")
    assert not panel.parameter_spin.isEnabled()
    assert np.allclose(panel.image_item.image, stretch_image(band, "sqrt", limits=panel.limits))
    panel.stretch_combo.setCurrentText("power")  # the value chosen is remembered
    assert panel.parameter_spin.value() == 3.0
    # "manual" chosen from the box keeps the levels on display, for the next rows too.
    shown = panel.limits
    panel.limits_combo.setCurrentText(MANUAL)
    assert panel.limits == pytest.approx(shown)
    session.selection.set_focus(2)
    assert panel.limits == pytest.approx(shown)


def test_colour_maps_and_reversal(panel, session):
    session.set_catalogue(make_catalogue(make_cube()))
    session.selection.set_focus(0)
    assert panel.image_item.lut is None and not panel.cmap_combo.isEnabled()  # composite
    panel.band_combo.setCurrentText("z")
    assert panel.cmap_combo.isEnabled()
    assert np.array_equal(panel.image_item.lut, colour_lut("grey"))
    for name in ("viridis", "inferno", "magma", "cubehelix"):
        panel.cmap_combo.setCurrentText(name)
        lut = colour_lut(name)
        assert lut.shape == (256, 3) and lut.dtype == np.uint8
        assert np.array_equal(panel.image_item.lut, lut)
    panel.reverse_check.setChecked(True)
    assert np.array_equal(panel.image_item.lut, colour_lut("cubehelix")[::-1])
    assert colour_lut("grey", reverse=True)[0].tolist() == [255, 255, 255]
    with pytest.raises(ValueError, match="colour map"):
        colour_lut("jet")


def test_two_band_composite_averages_green(panel, session):
    cube = make_cube(bands=2)
    session.set_catalogue(make_catalogue(cube, bands=("g", "r")))
    session.selection.set_focus(1)
    assert panel.rgb_channels == (1, 0, 0)
    assert np.array_equal(panel.image_item.image, make_rgb(cube[1], ("g", "r")))
    panel.set_rgb_channels(1, 1, 0)  # r also in green
    assert np.array_equal(panel.image_item.image,
                          make_rgb(cube[1], ("g", "r"), params=panel.lupton, channels=(1, 1, 0)))


def test_readout_with_a_wcs_and_bunit(panel, session):
    cube = make_cube()
    table = Table({"object_id": np.arange(100, 100 + N)})
    session.set_catalogue(Catalogue(table, name="wcs", images=UnitSource(cube, ("g", "r", "z"))))
    session.selection.set_focus(4)
    assert panel.wcs is not None
    text = panel.pixel_text(16.5, 16.5)  # array pixel (16, 16) = FITS (17, 17) = CRPIX
    first, second = text.split("\n")
    assert first.startswith("FITS pixel (17, 17) [1-based]:") and first.endswith(" nanomaggy")
    ra, dec = tan_wcs().pixel_to_world_values(16, 16)
    assert ra == pytest.approx(150.0) and dec == pytest.approx(2.0)
    assert second.startswith("RA 10:00:00.00  Dec +02:00:00.0")
    assert "(150.000000\N{DEGREE SIGN}, +2.000000\N{DEGREE SIGN})" in second
    # One pixel to the right is 0.2 arcsec east... of less RA, as east is on the left.
    ra2, _ = tan_wcs().pixel_to_world_values(17, 16)
    assert ra2 < ra and f"{ra2:.6f}" in panel.pixel_text(17.5, 16.5)
    assert panel.compass.toPlainText() == "N\N{UPWARDS ARROW} E\N{LEFTWARDS ARROW}"
    # Without a WCS: one line, no compass.
    session.set_catalogue(make_catalogue(cube))
    session.selection.set_focus(4)
    assert panel.wcs is None and "\n" not in panel.pixel_text(16.5, 16.5)
    assert panel.compass.toPlainText() == ""


def test_readout_of_wide_field_stamps(panel, session):
    """Stamps cut from a wide image carry the parent's WCS shifted to their corner."""
    parent = tan_wcs(256)
    cube = make_cube(n=3)
    source = StampImageSource(cube, ("g", "r", "z"), wcs=parent, xmin=[1, 101, 201],
                              ymin=[1, 51, 201])
    session.set_catalogue(Catalogue(Table({"source_id": [1, 2, 3]}), name="stamps",
                                    images=source))
    session.selection.set_focus(1)
    # Stamp pixel (0, 0) of row 1 is the parent's FITS pixel (101, 51): 0-based (100, 50).
    ra, dec = parent.pixel_to_world_values(100, 50)
    assert f"({ra:.6f}\N{DEGREE SIGN}, {dec:+.6f}\N{DEGREE SIGN})" in panel.pixel_text(0.5, 0.5)


def test_bunit_is_read_from_a_fits_catalogue(tmp_path, panel, session):
    from astroexplorer.io import read_catalogue
    from astroexplorer.io.fits_writer import write_catalogue_fits

    path = write_catalogue_fits(tmp_path / "cat.fits", Table({"object_id": np.arange(N)}),
                                make_cube(), ("g", "r", "z"), cutout_unit="nanomaggy")
    catalogue = read_catalogue(path)
    assert pixel_unit(catalogue) == "nanomaggy"
    session.set_catalogue(catalogue)
    session.selection.set_focus(0)
    assert panel.pixel_text(1.0, 1.0).split("\n")[0].endswith("nanomaggy")
    assert pixel_unit(make_catalogue(make_cube())) == ""


def test_rgb_band_to_channel_mapping(panel, session):
    bands = ("u", "g", "r", "i", "z")
    cube = make_cube(bands=5)
    session.set_catalogue(make_catalogue(cube, bands=bands))
    session.selection.set_focus(6)
    assert panel.composite_combo.currentText() == "Lupton asinh"
    assert panel.rgb_channels == rgb_band_order(bands) == (4, 2, 0)
    assert [c.currentText() for c in panel.channel_combos] == ["z", "r", "u"]
    panel.set_rgb_channels(3, 2, 1)
    assert [c.currentText() for c in panel.channel_combos] == ["i", "r", "g"]
    params = lupton_parameters(composite_channels(cube[6], bands, (3, 2, 1)))
    assert panel.lupton.Q == pytest.approx(params.Q)
    expected = make_rgb(cube[6], bands, params=params, channels=(3, 2, 1))
    assert np.array_equal(panel.image_item.image, expected)
    # The mapping stays for the next object.
    session.selection.set_focus(7)
    assert panel.rgb_channels == (3, 2, 1)


def test_lupton_q_and_stretch_are_adjustable(panel, session):
    cube = make_cube()
    session.set_catalogue(make_catalogue(cube))
    session.selection.set_focus(5)
    auto = lupton_parameters(composite_channels(cube[5], ("g", "r", "z")))
    assert panel.auto_check.isChecked()
    assert panel.q_spin.value() == pytest.approx(auto.Q, abs=0.01)
    assert panel.lupton_stretch_spin.value() == pytest.approx(auto.stretch, rel=1e-6)
    before = panel.image_item.image.copy()
    panel.q_spin.setValue(20.0)
    assert not panel.auto_check.isChecked()
    assert panel.lupton.Q == 20.0 and panel.lupton.stretch == pytest.approx(auto.stretch)
    assert not np.array_equal(panel.image_item.image, before)
    panel.lupton_stretch_spin.setValue(auto.stretch * 4)
    assert panel.lupton.stretch == pytest.approx(auto.stretch * 4)
    session.selection.set_focus(6)  # the user's values stay for the next object
    assert panel.lupton.Q == 20.0
    panel.auto_check.setChecked(True)
    assert panel.lupton.Q == pytest.approx(
        lupton_parameters(composite_channels(cube[6], ("g", "r", "z"))).Q)


def test_pictures_are_shown_as_stored(panel, session):
    rng = np.random.default_rng(9)
    # Galaxy10-style: 8-bit RGB named g, r, z by the reader, channels in R, G, B order.
    pictures = rng.integers(0, 256, (N, 3, 24, 24)).astype(np.float32)
    session.set_catalogue(make_catalogue(pictures))
    session.selection.set_focus(2)
    assert panel.composite_combo.currentText() == "linear" and panel.rgb_channels == (0, 1, 2)
    assert np.array_equal(panel.image_item.image, np.moveaxis(pictures[2], 0, -1))
    assert not panel.q_spin.isEnabled()
    # XDF-like: red, green, blue divided by 255, sky subtracted: white is 1.
    xdf = pictures / 255.0 - 0.02
    session.set_catalogue(make_catalogue(xdf, bands=("red", "green", "blue")))
    session.selection.set_focus(3)
    assert panel.composite_combo.currentText() == "linear"
    expected = np.clip(np.round(np.moveaxis(xdf[3], 0, -1).astype(float) * 255), 0, 255)
    assert np.abs(panel.image_item.image.astype(float) - expected).max() <= 1
    # Science data opened next gets the Lupton composite, bands by wavelength, again.
    session.set_catalogue(make_catalogue(make_cube()))
    session.selection.set_focus(3)
    assert panel.composite_combo.currentText() == "Lupton asinh"
    assert panel.rgb_channels == (2, 1, 0)


def test_zoom_with_the_wheel_and_fit(qtbot, panel, session):
    session.set_catalogue(make_catalogue(make_cube()))
    session.selection.set_focus(0)
    panel.show()
    qtbot.waitExposed(panel)
    panel.fit()

    def width() -> float:
        (x0, x1), (y0, y1) = panel.view.viewRange()
        return min(x1 - x0, y1 - y0)

    assert width() == pytest.approx(32, rel=0.02)
    viewport = panel.graphics.viewport()
    centre = viewport.rect().center()
    event = QWheelEvent(QPointF(centre), QPointF(viewport.mapToGlobal(centre)), QPoint(0, 0),
                        QPoint(0, 240), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, event)
    assert width() < 0.9 * 32  # zoomed in
    panel.view.translateBy(x=5, y=3)  # as a drag pans
    panel.fit_button.click()
    assert width() == pytest.approx(32, rel=0.02)
    (x0, x1), (y0, y1) = panel.view.viewRange()
    assert x0 <= 0.5 and x1 >= 31.5 and y0 <= 0.5 and y1 >= 31.5
