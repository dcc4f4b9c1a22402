"""save_screenshots writes one non-blank PNG per view."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage

from astroexplorer.gui.screenshots import save_screenshots

NAMES = {"main_window", "scatter", "scatter_view", "table", "image", "lightcurve", "controls",
         "embeddings", "discovery", "subsets", "gallery"}


def test_save_screenshots(qtbot, survey_path: Path, tmp_path: Path) -> None:
    paths = save_screenshots(tmp_path, size=(1024, 640), catalogue_path=survey_path,
                             projection="pca")
    assert {p.stem for p in paths} == NAMES
    for path in paths:
        image = QImage(str(path))
        assert not image.isNull() and image.width() > 100 and image.height() > 100
        # Not a blank panel: a few hundred distinct colours at least.
        colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
                   for y in range(0, image.height(), 7)}
        assert len(colours) > 20, path.name
    main = QImage(str(tmp_path / "main_window.png"))
    assert (main.width(), main.height()) == (1024, 640)
