"""Start-up: no heavy imports, run_app shows a window and opens a path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

HEAVY = ("torch", "umap", "numba", "sklearn", "pynndescent")


def test_gui_import_does_not_load_heavy_libraries() -> None:
    code = (
        "import json, sys\n"
        "import astroexplorer.gui.app, astroexplorer.gui.main_window\n"
        "from astroexplorer.gui.app import ensure_application\n"
        "from astroexplorer.gui.main_window import MainWindow\n"
        "app = ensure_application([])\n"
        "window = MainWindow(); window.show(); app.processEvents()\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print(json.dumps(heavy))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_run_app_shows_the_window_and_opens_the_path(qtbot, survey_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from astroexplorer.gui import app as app_module

    def fake_exec(_self=None) -> int:
        # Run the queued start-up work (opening the path) instead of a real loop.
        qtbot.waitUntil(lambda: QApplication.instance()._astroexplorer_window.session.catalogue
                        is not None)
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert app_module.run_app(survey_path, []) == 0
    app = QApplication.instance()
    window = app._astroexplorer_window
    qtbot.addWidget(window)
    assert window.isVisible()
    assert app.applicationName() == "AstroExplorer"
    assert app.organizationName() == "AstroExplorer"
    assert window.session.catalogue.path == survey_path
    del app._astroexplorer_window


def test_run_app_reports_a_bad_path(qtbot, tmp_path: Path, dialogs,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from astroexplorer.gui import app as app_module

    def fake_exec(_self=None) -> int:
        qtbot.waitUntil(lambda: bool(dialogs.calls))
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert app_module.run_app(tmp_path / "nope.fits", []) == 0
    window = QApplication.instance()._astroexplorer_window
    qtbot.addWidget(window)
    assert "nope.fits" in dialogs.calls[0][2]
    assert window.session.catalogue is None and window.isVisible()
    del QApplication.instance()._astroexplorer_window


def test_run_app_opens_a_cached_demo(qtbot, survey_path: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from astroexplorer.demo import demo_path
    from astroexplorer.gui import app as app_module

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cached = demo_path("simulated_survey")
    cached.parent.mkdir(parents=True)
    cached.symlink_to(survey_path)

    def fake_exec(_self=None) -> int:
        qtbot.waitUntil(lambda: QApplication.instance()._astroexplorer_window.session.catalogue
                        is not None, timeout=30_000)
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert app_module.run_app(None, [], demo="simulated_survey") == 0
    window = QApplication.instance()._astroexplorer_window
    qtbot.addWidget(window)
    assert window.session.catalogue.path == cached
    del QApplication.instance()._astroexplorer_window
