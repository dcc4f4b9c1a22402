"""File > Detect sources in image: dialog, job in a worker process, catalogue opened."""

from __future__ import annotations

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
from PySide6.QtWidgets import QMessageBox

from astroexplorer.gui.detect_dialog import DetectDialog


def _field(path, n=6, size=128, seed=1):
    """A FITS image with a TAN WCS and ``n`` Gaussian sources (0-based positions)."""
    rng = np.random.default_rng(seed)
    xs, ys = rng.uniform(20, size - 20, n), rng.uniform(20, size - 20, n)
    yy, xx = np.mgrid[:size, :size]
    image = rng.normal(0, 1, (size, size))
    for x, y in zip(xs, ys):
        image += 80 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 2.0**2))
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [150.0, 2.0]
    wcs.wcs.crpix = [size / 2, size / 2]
    wcs.wcs.cdelt = [-0.2 / 3600, 0.2 / 3600]
    fits.PrimaryHDU(image.astype(np.float32), header=wcs.to_header()).writeto(path)
    return path


def test_dialog_defaults_and_parameters(qtbot, tmp_path):
    dialog = DetectDialog(tmp_path / "field.fits.gz")
    qtbot.addWidget(dialog)
    assert dialog.output() == tmp_path / "field_sources.fits"
    dialog.size_spin.setValue(32)
    dialog.deblend_check.setChecked(False)
    assert dialog.parameters() == {"stamp_size": 32, "threshold_sigma": 3.0, "npixels": 10,
                                   "deblend": False}


def test_detect_writes_and_opens_the_catalogue(window, qtbot, tmp_path, monkeypatch, dialogs):
    image = _field(tmp_path / "field.fits")

    def answer(dialog: DetectDialog) -> bool:
        dialog.set_image(image)
        dialog.size_spin.setValue(24)
        return True

    monkeypatch.setattr(window, "_run_dialog", answer)
    assert window.detect_sources_dialog()
    qtbot.waitUntil(lambda: window.session.catalogue is not None, timeout=60_000)
    catalogue = window.session.catalogue
    assert catalogue.path == tmp_path / "field_sources.fits" and len(catalogue) == 6
    assert catalogue.images.shape == (1, 24, 24)
    assert {"ra", "dec", "x", "y"} <= set(catalogue.table.colnames)
    # Each stamp keeps its own WCS: its centre pixel is the source's position.
    row = 0
    ra, dec = catalogue.images.wcs(row).pixel_to_world_values(11.5, 11.5)
    assert abs(ra - catalogue.table["ra"][row]) * 3600 < 0.5
    assert abs(dec - catalogue.table["dec"][row]) * 3600 < 0.5
    assert dialogs.calls == []

    # The output exists now: declining to replace it writes nothing and starts no job.
    before = (tmp_path / "field_sources.fits").stat().st_mtime_ns
    dialogs.answer = QMessageBox.StandardButton.No
    assert not window.detect_sources(image, tmp_path / "field_sources.fits", {"stamp_size": 24})
    assert (tmp_path / "field_sources.fits").stat().st_mtime_ns == before
    assert not window.jobs_panel.running_kinds()


def test_bad_image_is_one_message_and_writes_nothing(window, qtbot, tmp_path, dialogs):
    bad = tmp_path / "flat.fits"
    fits.PrimaryHDU(np.zeros((64, 64), np.float32)).writeto(bad)
    assert window.detect_sources(bad, tmp_path / "out.fits", {"stamp_size": 16})
    qtbot.waitUntil(lambda: dialogs.calls != [], timeout=60_000)
    kind, _title, text = dialogs.calls[0]
    assert kind == "warning" and "flat.fits" in text
    assert not (tmp_path / "out.fits").exists() and window.session.catalogue is None
