"""GUI test fixtures: offscreen Qt, small catalogues, a main window, recorded dialogs."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from astropy import units as u  # noqa: E402
from astropy.table import Column, Table  # noqa: E402

from astroexplorer.core import ArrayImageSource, Catalogue, Session, TableLightCurveSource  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _qt_config(tmp_path_factory: pytest.TempPathFactory) -> None:
    """pyqtgraph as the app sets it up; QSettings written to a temporary folder."""
    from PySide6.QtCore import QSettings

    from astroexplorer.gui.app import configure_pyqtgraph

    configure_pyqtgraph()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path_factory.mktemp("settings")))


@pytest.fixture(scope="session")
def demo_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo catalogues at a small size (200 survey objects), built once."""
    from astroexplorer.demo import build_demo

    return build_demo(tmp_path_factory.mktemp("demo"), n_survey=200)


@pytest.fixture(scope="session")
def survey_path(demo_paths: dict[str, Path]) -> Path:
    return demo_paths["simulated_survey"]


def make_catalogue(n: int = 60, seed: int = 0) -> Catalogue:
    """A small synthetic catalogue: coordinates on a grid, a string class, a float
    column with NaNs, an array column, 2-band 8x8 cutouts and 2-band light curves."""
    rng = np.random.default_rng(seed)
    table = Table()
    table["object_id"] = np.arange(100, 100 + n)
    side = int(np.ceil(np.sqrt(n)))
    table["ra"] = Column(150.0 + (np.arange(n) % side) * 0.1, unit=u.deg)
    table["dec"] = Column(2.0 + (np.arange(n) // side) * 0.1, unit=u.deg)
    table["kind"] = np.array(["star", "galaxy", "qso"])[np.arange(n) % 3]
    mag = rng.normal(20, 1, n)
    mag[::7] = np.nan
    table["mag"] = Column(mag, unit=u.mag, description="r magnitude")
    table["vec"] = rng.normal(size=(n, 4)).astype(np.float32)
    table["flag"] = np.arange(n) % 2 == 0
    images = ArrayImageSource(rng.normal(size=(n, 2, 8, 8)).astype(np.float32), ("g", "r"))
    obs = Table()
    obs["object_id"] = np.repeat(table["object_id"], 6)
    obs["mjd"] = np.tile(np.arange(6, dtype=float), n) + 59000
    obs["mag"] = Column(rng.normal(20, 0.1, 6 * n), unit=u.mag)
    obs["mag_err"] = Column(np.full(6 * n, 0.05), unit=u.mag)
    obs["band"] = np.tile(["g", "r"], 3 * n)
    lightcurves = TableLightCurveSource(obs, np.asarray(table["object_id"]), "object_id", "mjd",
                                        "mag", "mag_err", "band")
    return Catalogue(table, name="synthetic", images=images, lightcurves=lightcurves)


@pytest.fixture
def catalogue() -> Catalogue:
    return make_catalogue()


@pytest.fixture
def session(catalogue: Catalogue) -> Session:
    session = Session()
    session.set_catalogue(catalogue)
    return session


@pytest.fixture
def window(qtbot):
    """A shown main window with no catalogue open, closed (jobs stopped) at teardown."""
    from astroexplorer.gui.main_window import MainWindow

    win = MainWindow()
    win.default_projection = "pca"  # UMAP's numba start-up is not under test here
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


@dataclass
class DialogRecorder:
    """QMessageBox calls made during a test, instead of blocking dialogs."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)
    answer: object = None

    def kinds(self) -> list[str]:
        return [kind for kind, _title, _text in self.calls]


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> DialogRecorder:
    """Patch QMessageBox's static functions to record their calls."""
    from PySide6.QtWidgets import QMessageBox

    recorder = DialogRecorder(answer=QMessageBox.StandardButton.Yes)

    def make(kind: str):
        def fake(_parent, title, text, *args, **kwargs):
            recorder.calls.append((kind, title, text))
            return recorder.answer if kind == "question" else QMessageBox.StandardButton.Ok
        return fake

    for kind in ("warning", "critical", "information", "question", "about"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(make(kind)))
    return recorder
