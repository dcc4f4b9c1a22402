"""Start the AstroExplorer desktop application."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from ..io import OpenOptions

__all__ = ["run_app", "configure_pyqtgraph", "ensure_application"]

APP_NAME = "AstroExplorer"


def configure_pyqtgraph() -> None:
    """One look for every plot: white background, dark text, FITS arrays not transposed.

    Antialiasing is off globally (it is slow for large scatters); the scatter
    turns it on itself for small catalogues.
    """
    pg.setConfigOptions(imageAxisOrder="row-major", background="w", foreground="k",
                        antialias=False, useOpenGL=False)


def ensure_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, created (named AstroExplorer) if there is none yet."""
    app = QApplication.instance()
    if app is None:
        args = list(argv) if argv is not None else list(sys.argv)
        app = QApplication(args or [APP_NAME.lower()])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    configure_pyqtgraph()
    return app  # type: ignore[return-value]


def run_app(path: Path | None = None, argv: list[str] | None = None,
            demo: str | None = None, options: OpenOptions | None = None,
            session: Path | None = None) -> int:
    """Show the main window (opening ``path``, the demo catalogue named ``demo``, or
    the session file ``session``, if given) and run the event loop.

    An autosave left by a window that crashed is offered for recovery first; the
    window then autosaves every minute while something changed.

    ``options`` says how to open ``path`` (separate cutouts or light curves, column
    roles). Problems opening it are shown in a message box; the window stays open.
    Returns the application's exit code.
    """
    app = ensure_application(argv)
    # Imported here so that ``import astroexplorer.gui.app`` (e.g. by the CLI) is quick.
    from .main_window import MainWindow

    window = MainWindow()
    window.prewarm_workers = True
    window.show()
    # Start the UMAP worker once the window is up, so the first map skips numba's start-up.
    QTimer.singleShot(1500, window.prewarm)
    actions = window.session_actions

    def start() -> None:
        # After the window is on screen, so a message box has a parent to sit on.
        recovered = actions.offer_recovery()
        actions.start_autosave()
        if recovered:
            return
        if session is not None:
            actions.open_session(Path(session))
        elif path is not None:
            window.open_path(Path(path), options)
        elif demo is not None:
            window.open_demo(demo)

    QTimer.singleShot(0, start)
    app._astroexplorer_window = window  # type: ignore[attr-defined]  # keep it alive
    return int(app.exec())
