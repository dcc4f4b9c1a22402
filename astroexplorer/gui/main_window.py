"""The main window: menus, the map, linked views, analysis controls and jobs."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QFont, QGuiApplication, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..analysis import PROJECTION_METHODS, projection_job
from ..analysis.embedding_cache import EmbeddingCache
from ..analysis.projection import prewarm_projection
from ..core.catalogue import Catalogue, Embedding, Projection
from ..core.errors import AmbiguousColumnsError, UserError
from ..core.rowset import RowSet
from ..core.session import Session
from ..demo import demo_job
from ..io import OpenOptions, read_catalogue
from ..io.describe import describe
from ..io.fits_writer import check_output_path
from ..io.table_reader import TABLE_FORMATS
from ..jobs.process import run_in_process, shutdown_warm_workers
from ..pipeline import detect_and_cut_file_job, embedding_job_for, export_job_for
from .binding import connect_weakly
from .controls import AnalysisPanel
from .detect_dialog import DetectDialog
from .discovery import DiscoveryPanel
from .embeddings_panel import EmbeddingsPanel
from .export_dialog import ExportDialog
from .gallery import GalleryPanel
from .image_view import ImagePanel
from .jobs_panel import JobsPanel
from .lightcurve_view import LightCurvePanel
from .open_dialog import OpenDialog
from .samp_bridge import SampBridge
from .scatter import ScatterPanel, open_scatter_view
from .session_actions import SessionActions
from .subsets_panel import EditActions, SubsetsPanel
from .table import TablePanel
from .widgets import drop_retired_tab_bars
from .workers import JobWorker, wait_for_all_workers

__all__ = ["MainWindow", "WelcomePage", "DEMOS"]

log = logging.getLogger(__name__)

#: Demo catalogues offered in the menu and on the welcome page: name -> (label, blurb).
DEMOS = {
    "simulated_survey": ("Simulated survey",
                         "3000 simulated stars and galaxies with known labels: "
                         "g/r/z cutouts and light curves"),
    "hubble_xdf": ("Hubble XDF",
                   "about 1,360 sources detected in the Hubble eXtreme Deep Field press "
                   "image, with its (uncalibrated) colour cutouts"),
}
_FITS_PATTERNS = "*.fits *.fit *.fts *.fits.gz"
_FITS_FILTER = f"FITS files ({_FITS_PATTERNS})"
_OPEN_FILTER = (f"Catalogues ({_FITS_PATTERNS} {' '.join('*' + s for s in TABLE_FORMATS)});;"
                f"{_FITS_FILTER};;All files (*)")


class WelcomePage(QWidget):
    """Shown in place of the map until a catalogue is open."""

    open_demo_requested = Signal(str)
    open_file_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        title = QLabel("AstroExplorer")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        title.setFont(font)
        subtitle = QLabel("Explore a survey through what a network sees in its images: "
                          "embed the cutouts, map them, select on the map and inspect.")
        subtitle.setWordWrap(True)
        for label in (title, subtitle):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
        layout.addSpacing(16)
        self.buttons: dict[str, QPushButton] = {}
        for name, (label, blurb) in DEMOS.items():
            button = QPushButton(f"Open the {label} demo")
            button.setToolTip(blurb)
            button.clicked.connect(lambda _checked=False, n=name: self.open_demo_requested.emit(n))
            self._add_choice(layout, button, blurb)
            self.buttons[name] = button
        button = QPushButton("Open a catalogue file\u2026")
        button.clicked.connect(self.open_file_requested.emit)
        self._add_choice(layout, button, "FITS, CSV, ECSV, VOTable, HDF5 or Parquet "
                                         "(cutouts and light curves are found in FITS extensions)")
        self.buttons["open"] = button
        note = QLabel("The demos are built the first time they are opened (about a minute) "
                      "and kept in your cache folder.")
        note.setWordWrap(True)
        note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        note.setStyleSheet("color: #777;")
        layout.addSpacing(12)
        layout.addWidget(note)
        layout.addStretch(3)

    @staticmethod
    def _add_choice(layout: QVBoxLayout, button: QPushButton, blurb: str) -> None:
        button.setMinimumWidth(280)
        button.setMinimumHeight(34)
        text = QLabel(blurb)
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setStyleSheet("color: #555;")
        layout.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(text)
        layout.addSpacing(8)


class MainWindow(QMainWindow):
    """AstroExplorer's window over one :class:`Session`.

    Signals
    -------
    embedding_ready(Embedding), projection_ready(Projection)
        A job's result was attached to the Session.

    Every action is a method too (:meth:`open_path`, :meth:`open_demo`,
    :meth:`export_selection_to`, :meth:`compute_embedding`,
    :meth:`compute_projection`), so that scripts and tests can drive it.
    """

    #: Emitted after a computed embedding has been attached to the Session.
    embedding_ready = Signal(object)
    #: Emitted with the path written when an export has finished.
    export_finished = Signal(object)
    #: Emitted after a computed projection has been attached to the Session.
    projection_ready = Signal(object)

    #: Projection run automatically when an embedding has been computed.
    default_projection = "umap"
    #: Keep a warm UMAP worker process (the application sets this; tests do not).
    prewarm_workers = False
    #: Read and store embeddings in the on-disk cache (``$ASTROEXPLORER_CACHE_DIR``).
    use_embedding_cache = True

    def __init__(self, session: Session | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session if session is not None else Session()
        self._pending_projection: tuple[str, dict] | None = None
        self.setObjectName("AstroExplorerMainWindow")
        self.resize(1280, 800)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)

        self.scatter_panel = ScatterPanel(self.session)
        self.welcome_page = WelcomePage()
        self.welcome_page.open_demo_requested.connect(self.open_demo)
        self.welcome_page.open_file_requested.connect(self.open_file_dialog)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome_page)
        self.stack.addWidget(self.scatter_panel)
        self.setCentralWidget(self.stack)

        self.analysis_panel = AnalysisPanel(self.session)
        self.image_panel = ImagePanel(self.session)
        self.lightcurve_panel = LightCurvePanel(self.session)
        self.table_panel = TablePanel(self.session)
        area = Qt.DockWidgetArea
        self.docks = {
            "analysis": self._dock("Analysis", self.analysis_panel, area.LeftDockWidgetArea,
                                   scroll=True),
            "image": self._dock("Cutout", self.image_panel, area.RightDockWidgetArea),
            "lightcurve": self._dock("Light curve", self.lightcurve_panel, area.RightDockWidgetArea),
            "table": self._dock("Catalogue", self.table_panel, area.BottomDockWidgetArea),
        }
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        # The left docks are tabbed four deep in a narrow column: tabs along its side
        # have room for their titles, tabs under it cut them to "An...", "Di...".
        self.setTabPosition(Qt.DockWidgetArea.LeftDockWidgetArea, QTabWidget.TabPosition.West)

        self.jobs_panel = JobsPanel()
        self.statusBar().addPermanentWidget(self.jobs_panel)
        self.jobs_panel.job_failed.connect(self._on_job_failed)
        self.jobs_panel.job_cancelled.connect(self._on_job_cancelled)

        self.embeddings_panel = EmbeddingsPanel(self.session)
        self.docks["embeddings"] = self._dock("Embeddings", self.embeddings_panel,
                                              area.LeftDockWidgetArea, scroll=True)
        self.tabifyDockWidget(self.docks["analysis"], self.docks["embeddings"])
        self.discovery_panel = DiscoveryPanel(self.session, self.jobs_panel)
        self.docks["discovery"] = self._dock("Discovery", self.discovery_panel,
                                             area.LeftDockWidgetArea, scroll=True)
        self.tabifyDockWidget(self.docks["embeddings"], self.docks["discovery"])
        self.subsets_panel = SubsetsPanel(self.session)
        self.docks["subsets"] = self._dock("Subsets", self.subsets_panel, area.LeftDockWidgetArea,
                                           scroll=True)
        self.tabifyDockWidget(self.docks["discovery"], self.docks["subsets"])
        self.docks["analysis"].raise_()
        self.discovery_panel.colour_by_requested.connect(self.colour_by)

        self.gallery_panel = GalleryPanel(self.session)
        self.docks["gallery"] = self._dock("Gallery", self.gallery_panel,
                                           area.BottomDockWidgetArea)
        self.tabifyDockWidget(self.docks["table"], self.docks["gallery"])
        drop_retired_tab_bars(self)  # else a second "Catalogue | Gallery" bar lingers
        self.docks["table"].raise_()
        self.discovery_panel.results_ready.connect(self.gallery_panel.show_rows)
        labelling = self.discovery_panel.labelling_group
        labelling.set_next_row(self._next_in_gallery)
        self.rating_shortcuts = labelling.install_shortcuts(self)
        self.discovery_panel.results_ready.connect(lambda *_: self.docks["gallery"].raise_())

        self.embeddings_panel.compute_requested.connect(self.compute_embedding)
        self.embeddings_panel.cancel_requested.connect(lambda: self.jobs_panel.cancel("embedding"))
        self.embeddings_panel.activate_requested.connect(self.show_embedding)
        self.analysis_panel.project_requested.connect(self.compute_projection)
        self.analysis_panel.colour_by_changed.connect(self.scatter_panel.set_colour_by)
        self.analysis_panel.size_by_changed.connect(self.scatter_panel.set_size_by)
        self.analysis_panel.axes_changed.connect(self.scatter_panel.set_axis_columns)
        self.analysis_panel.show_projection_changed.connect(self.scatter_panel.show_projection)

        self._make_menus()
        connect_weakly(self.session.catalogue_changed, self, MainWindow._on_catalogue_changed)
        connect_weakly(self.session.selection.changed, self, MainWindow._on_selection_changed)
        self.stack.setCurrentWidget(self.scatter_panel if self.session.catalogue
                                    else self.welcome_page)
        self._docks_fitted = False
        self._update_title()

    # -- layout -------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea,
              scroll: bool = False) -> QDockWidget:
        """A dock holding ``widget``; with ``scroll``, inside a scroll area so a tall
        panel never forces the window taller than the screen."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
        if scroll:
            area_widget = QScrollArea()
            area_widget.setWidgetResizable(True)
            area_widget.setFrameShape(QFrame.Shape.NoFrame)
            area_widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            area_widget.setWidget(widget)
            widget = area_widget
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _fit_docks(self) -> None:
        """Share the window between the docks for its current size."""
        width, height = self.width(), self.height()
        self.resizeDocks([self.docks["analysis"]], [max(240, int(width * 0.19))],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["image"]], [max(240, int(width * 0.26))],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["image"], self.docks["lightcurve"]],
                         [int(height * 0.5), int(height * 0.5)], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["table"]], [max(140, int(height * 0.26))],
                         Qt.Orientation.Vertical)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        """Share the space between the docks once the window has its real size."""
        super().showEvent(event)
        if not self._docks_fitted:
            self._docks_fitted = True
            self._fit_docks()

    def _make_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open\u2026", self, shortcut=QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.open_file_dialog)
        file_menu.addAction(self.open_action)
        self.open_options_action = QAction(
            "Open &with options\u2026", self, shortcut="Ctrl+Shift+O",
            statusTip="Open a catalogue with separate cutout or light-curve files, "
                      "or say which column is which")
        self.open_options_action.triggered.connect(lambda: self.open_with_options_dialog())
        file_menu.addAction(self.open_options_action)
        self.detect_action = QAction(
            "&Detect sources in image\u2026", self,
            statusTip="Find the sources of a wide-field image, cut a stamp around each and "
                      "open them as a catalogue")
        self.detect_action.triggered.connect(lambda: self.detect_sources_dialog())
        file_menu.addAction(self.detect_action)
        demo_menu = file_menu.addMenu("Open &demo")
        self.demo_actions: dict[str, QAction] = {}
        for name, (label, blurb) in DEMOS.items():
            action = QAction(label, self, statusTip=blurb)
            action.triggered.connect(lambda _checked=False, n=name: self.open_demo(n))
            demo_menu.addAction(action)
            self.demo_actions[name] = action
        self.export_action = QAction("&Export selection\u2026", self, shortcut="Ctrl+E",
                                     statusTip="Write the selected objects to a FITS file")
        self.export_action.triggered.connect(self.export_selection_dialog)
        file_menu.addAction(self.export_action)
        self.info_action = QAction("Catalogue &information\u2026", self, shortcut="Ctrl+I",
                                   statusTip="What was read and detected in the open catalogue")
        self.info_action.triggered.connect(self.show_catalogue_info)
        file_menu.addAction(self.info_action)
        # Sessions, recent files, drag-and-drop, autosave and recovery.
        self.session_actions = SessionActions(self, file_menu)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.edit_actions = EditActions(self.session.selection, self)  # undo / redo selection
        self.menuBar().addMenu("&Edit").addActions([self.edit_actions.undo_action,
                                                    self.edit_actions.redo_action])
        view_menu = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        self.new_scatter_action = QAction(
            "New &scatter view", self, statusTip="Another map or column plot, linked to the "
            "others (selection, focus, subsets), with its own axes and colours")
        self.new_scatter_action.triggered.connect(
            lambda: open_scatter_view(self, self.session))
        view_menu.addAction(self.new_scatter_action)
        self.samp = SampBridge(self)  # the SAMP menu (TOPCAT, DS9, Aladin)
        self.menuBar().addMenu(self.samp.menu)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About AstroExplorer", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    # -- messages -------------------------------------------------------------------
    def show_error(self, title: str, message: str) -> None:
        """Tell the user about a problem; the window keeps running."""
        QMessageBox.warning(self, title, message)

    def _on_job_failed(self, _kind: str, title: str, message: str) -> None:
        self.show_error(f"{title} failed", message)

    def _on_job_cancelled(self, _kind: str, title: str) -> None:
        self.statusBar().showMessage(f"{title} cancelled", 5000)

    def _about(self) -> None:
        from .. import __version__

        QMessageBox.about(self, "About AstroExplorer",
                          f"AstroExplorer {__version__}\nExplore survey catalogues through "
                          "learned embeddings of their cutouts.")

    # -- opening ----------------------------------------------------------------------
    def open_file_dialog(self) -> None:
        """Ask for a catalogue file and open it."""
        settings = QSettings()
        start = str(settings.value("last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open catalogue", start, _OPEN_FILTER)
        if path:
            settings.setValue("last_dir", str(Path(path).parent))
            self.open_path(Path(path))

    def open_with_options_dialog(self, path: Path | None = None,
                                 options: OpenOptions | None = None,
                                 error: AmbiguousColumnsError | None = None) -> bool:
        """Ask for a catalogue, its separate cutout / light-curve files and column
        roles (pre-filled from ``path``, ``options`` and ``error``), then open it."""
        dialog = OpenDialog(path, options, error, parent=self)
        if not self._run_dialog(dialog):
            return False
        chosen = dialog.catalogue_path()
        if chosen is None:
            self.show_error("Cannot open catalogue", "No catalogue file was given.")
            return False
        try:
            new_options = dialog.options()
        except UserError as exc:
            self.show_error("Cannot open catalogue", str(exc))
            return False
        return self.open_path(chosen, new_options)

    def detect_sources_dialog(self, image: Path | None = None) -> bool:
        """Ask for a wide-field image, an output catalogue and detection settings,
        then detect and cut (see :meth:`detect_sources`)."""
        dialog = DetectDialog(image, parent=self)
        if not self._run_dialog(dialog):
            return False
        image, out = dialog.image(), dialog.output()
        if image is None or out is None:
            self.show_error("Cannot detect sources", "Give both the image and the catalogue "
                            "file to write.")
            return False
        return self.detect_sources(image, out, dialog.parameters())

    def detect_sources(self, image: Path | str, out: Path | str, parameters: dict) -> bool:
        """Detect the sources of ``image``, write their catalogue and stamps to ``out``
        (asking before replacing it) and open it; a job with progress and Cancel, run
        in a worker process."""
        out = Path(out)
        overwrite = self._may_write(out, [Path(image)], "Cannot detect sources")
        if overwrite is None:
            return False
        worker = self.jobs_panel.start(
            "detect", f"Detecting sources in {Path(image).name}",
            lambda: run_in_process(detect_and_cut_file_job, str(image), str(out), overwrite,
                                   **parameters),
            lambda written: self.open_path(Path(written)))
        if worker is None:
            self.statusBar().showMessage("Sources are already being detected", 5000)
            return False
        return True

    def catalogue_info(self) -> str:
        """What was read and detected in the open catalogue (as ``astroexplorer info``)."""
        catalogue = self.session.catalogue
        if catalogue is None:
            return "No catalogue is open."
        head = f"file: {catalogue.path}\n" if catalogue.path is not None else ""
        return head + describe(catalogue)

    def show_catalogue_info(self) -> None:
        """Show :meth:`catalogue_info` in a dialog, the column list folded away."""
        text = self.catalogue_info()
        lines = text.splitlines()
        summary = "\n".join(line for line in lines if not line.startswith("  "))
        box = QMessageBox(QMessageBox.Icon.Information, "Catalogue information", summary,
                          QMessageBox.StandardButton.Close, self)
        box.setDetailedText(text)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._run_dialog(box)

    def _next_in_gallery(self, row: int) -> int | None:
        """The object after ``row`` in the gallery (for rating one after another)."""
        rows = self.gallery_panel.shown_rows
        where = np.flatnonzero(rows == row)
        if where.size and where[0] + 1 < len(rows):
            return int(rows[where[0] + 1])
        return None

    def _may_write(self, out: Path, inputs: list[Path | None], title: str) -> bool | None:
        """Whether ``out`` may be written: asks before replacing a file, refuses an
        input. Returns the ``overwrite`` flag to write with, or None (refused; said)."""
        overwrite = False
        if out.exists():
            if not self._confirm_replace(out):
                return None
            overwrite = True
        try:
            check_output_path(out, overwrite, inputs)
        except UserError as exc:
            self.show_error(title, str(exc))
            return None
        return overwrite

    def _confirm_replace(self, out: Path) -> bool:
        answer = QMessageBox.question(
            self, "Replace file?", f"{out} already exists. Replace it?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _run_dialog(self, dialog: QDialog) -> bool:
        """Show a modal dialog; True if accepted (tests replace this)."""
        return dialog.exec() == QDialog.DialogCode.Accepted

    def open_path(self, path: Path | str, options: OpenOptions | None = None) -> bool:
        """Read and show a catalogue (opened with ``options``, if given); on a
        problem, say so and keep the current one. When the readers cannot tell
        which column is which, ask the user (column-mapping dialog) and try again."""
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            catalogue = read_catalogue(Path(path), options)
        except AmbiguousColumnsError as exc:
            QGuiApplication.restoreOverrideCursor()
            return self.open_with_options_dialog(Path(path), options, exc)
        except UserError as exc:
            QGuiApplication.restoreOverrideCursor()
            self.show_error("Cannot open catalogue", str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - a bad file must not close the app
            QGuiApplication.restoreOverrideCursor()
            log.exception("reading %s failed", path)
            self.show_error("Cannot open catalogue", f"{path} could not be read: {exc}")
            return False
        try:
            self.set_catalogue(catalogue)
        finally:
            QGuiApplication.restoreOverrideCursor()
        return True

    def set_catalogue(self, catalogue: Catalogue) -> None:
        """Show ``catalogue``, forgetting the last one's jobs and results."""
        self._pending_projection = None
        for kind in ("embedding", "projection", "anomaly", "clusters"):
            self.jobs_panel.cancel(kind)
        self.session.set_catalogue(catalogue)

    def open_demo(self, name: str) -> None:
        """Open a demo catalogue, building it first (as a job) if needed."""
        if self.jobs_panel.is_running("demo"):
            self.statusBar().showMessage("The demo catalogues are already being prepared", 5000)
            return
        label = DEMOS.get(name, (name, ""))[0]
        self.jobs_panel.start("demo", f"{label} demo", lambda: demo_job(name), self.open_path)

    # -- analysis jobs ------------------------------------------------------------------
    def compute_embedding(self, method: str, options: dict | None = None) -> bool:
        """Start computing an embedding (or take it from the embedding cache); the
        default projection follows it."""
        catalogue = self.session.catalogue
        if catalogue is None:
            self.show_error("No catalogue", "Open a catalogue before computing an embedding.")
            return False
        options = dict(options or {})

        def apply(embedding: Embedding) -> None:
            if self.session.catalogue is catalogue:  # else another catalogue was opened
                self.show_embedding(embedding)

        cache = EmbeddingCache() if self.use_embedding_cache else None
        worker = self.jobs_panel.start(
            "embedding", "Embedding",
            lambda: embedding_job_for(method, catalogue, cache=cache, **options), apply)
        if worker is not None:
            worker.progress.connect(self.embeddings_panel.show_progress)
        return self._track("embedding", worker)

    def show_embedding(self, embedding: Embedding) -> None:
        """Make ``embedding`` (of the open catalogue's rows) the one shown; the default
        projection follows it."""
        try:
            self.session.set_embedding(embedding)
        except ValueError as exc:
            self.show_error("Embedding failed", str(exc))
            return
        self.statusBar().showMessage(f"{embedding.method.upper()} embedding ready", 5000)
        self.embedding_ready.emit(embedding)
        if self.default_projection:
            self.compute_projection(self.default_projection, {})

    def compute_projection(self, method: str, options: dict | None = None) -> bool:
        """Start projecting the current embedding to 2-D."""
        catalogue, embedding = self.session.catalogue, self.session.embedding
        if catalogue is None or embedding is None:
            self.show_error("No embedding", "Compute an embedding before making a map.")
            return False
        options = dict(options or {})
        vectors = embedding.vectors
        label = PROJECTION_METHODS[method].label

        def apply(projection: Projection) -> None:
            if self.session.catalogue is catalogue and self.session.embedding is embedding:
                self.session.set_projection(projection)
                self.statusBar().showMessage(f"{label} map ready", 5000)
                self.projection_ready.emit(projection)

        if self.jobs_panel.is_running("projection"):
            # A map of an older embedding is being made: stop it, then start this one.
            self._pending_projection = (method, options)
            self.jobs_panel.cancel("projection")
            return True
        worker = self.jobs_panel.start("projection", f"{label} map",
                                       lambda: projection_job(method, vectors, **options), apply)
        return self._track("projection", worker)

    def _track(self, kind: str, worker: JobWorker | None) -> bool:
        if worker is None:
            self.statusBar().showMessage(f"A {kind} job is already running", 5000)
            return False
        self._set_job_running(kind, True)
        worker.done.connect(lambda: self._job_done(kind))
        return True

    def _set_job_running(self, kind: str, running: bool) -> None:
        if kind == "embedding":
            self.embeddings_panel.set_job_running(running)
        else:
            self.analysis_panel.set_job_running(kind, running)

    def _job_done(self, kind: str) -> None:
        self._set_job_running(kind, False)
        if kind == "projection" and self._pending_projection is not None:
            method, options = self._pending_projection
            self._pending_projection = None
            self.compute_projection(method, options)
        elif kind == "projection":
            self.prewarm()  # a cancelled UMAP took its worker with it

    def colour_by(self, column: str) -> None:
        """Colour the map by ``column``, shown in the Colour combo too."""
        self.analysis_panel.set_colour_by(column)
        # Again directly: a replaced column keeps its combo entry, so no change is emitted.
        self.scatter_panel.set_colour_by(column)

    # -- export -------------------------------------------------------------------------
    def export_selection_dialog(self) -> bool:
        """Ask where and how to write the selection (format, cutout layout), then write it."""
        if not self._can_export():
            return False
        catalogue = self.session.catalogue
        start = Path(str(QSettings().value("last_dir", str(Path.home()))))
        dialog = ExportDialog(start / f"{catalogue.name}_selection.fits",
                              len(self.session.selection.rows), catalogue.images is not None,
                              catalogue.images is not None or catalogue.lightcurves is not None,
                              parent=self)
        if not self._run_dialog(dialog):
            return False
        QSettings().setValue("last_dir", str(dialog.output().parent))
        return self.export_selection_to(dialog.output(), format=dialog.format(),
                                        cutout_layout=dialog.cutout_layout(),
                                        table_only=dialog.table_only()) is not None

    def _can_export(self) -> bool:
        if self.session.catalogue is None:
            self.show_error("Nothing to export", "Open a catalogue and select some objects first.")
            return False
        if not len(self.session.selection.rows):
            self.show_error("Nothing to export", "The selection is empty: select some objects "
                            "on the map or in the table before exporting.")
            return False
        return True

    def export_selection_to(self, out: Path | str, format: str | None = None,
                            cutout_layout: str = "cube", table_only: bool = False) -> bool:
        """Start writing the selected rows (and their cutouts, light curves, embedding
        and map coordinates) to ``out`` (see ``io.export_selection`` for ``format``,
        ``cutout_layout`` and ``table_only``), as a job with Cancel; asks before
        replacing a file. :attr:`export_finished` is emitted with the path written.
        Returns whether the export started."""
        if not self._can_export():
            return False
        out = Path(out)
        session = self.session
        catalogue, rows = session.catalogue, session.selection.rows
        overwrite = self._may_write(out, [catalogue.path], "Cannot export the selection")
        if overwrite is None:
            return False
        options = dict(embedding=session.embedding, projection=session.projection,
                       description=session.selection.description, overwrite=overwrite,
                       format=format, cutout_layout=cutout_layout, table_only=table_only)

        def done(written: Path) -> None:
            self.statusBar().showMessage(f"Exported {len(rows)} objects to {written}", 8000)
            self.export_finished.emit(Path(written))

        worker = self.jobs_panel.start("export", f"Exporting {len(rows):,} objects",
                                       lambda: export_job_for(catalogue, rows, out, **options),
                                       done)
        if worker is None:
            self.statusBar().showMessage("An export is already running", 5000)
            return False
        return True

    # -- session events --------------------------------------------------------------------
    def _on_catalogue_changed(self, catalogue: Catalogue) -> None:
        self.stack.setCurrentWidget(self.scatter_panel)
        parts = [f"{len(catalogue)} objects"]
        if catalogue.images is not None:
            c, h, w = catalogue.images.shape
            parts.append(f"{c}-band {h}\u00d7{w} cutouts")
        if catalogue.lightcurves is not None:
            parts.append("light curves")
        self.statusBar().showMessage(f"Opened {catalogue.name}: {', '.join(parts)}", 8000)
        self._update_title()
        # Show the first object at once, so the cutout and light-curve views are not empty.
        if len(catalogue):
            self.session.selection.set_focus(0, source=self)

    def _on_selection_changed(self, _old: RowSet, new: RowSet, _source: object) -> None:
        # Keep the cutout and light curve on a selected object.
        selection = self.session.selection
        if len(new) and (selection.focus is None or selection.focus not in new):
            selection.set_focus(int(new.rows[0]), source=self)
        self._update_title()

    def _update_title(self) -> None:
        catalogue = self.session.catalogue
        if catalogue is None:
            self.setWindowTitle("AstroExplorer")
            return
        n_selected = len(self.session.selection.rows)
        self.setWindowTitle(f"{catalogue.name} \u2014 {len(catalogue)} objects, "
                            f"{n_selected} selected \u2014 AstroExplorer")

    def prewarm(self) -> None:
        """Start (in the background) the worker process that makes UMAP maps, if the
        window was asked to keep one ready (``prewarm_workers``)."""
        if self.prewarm_workers:
            prewarm_projection()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        """Cancel running jobs and wait for their threads before closing (the views'
        own, such as the periodogram's, too: a thread destroyed while running aborts)."""
        self.jobs_panel.shutdown(10_000)
        wait_for_all_workers(10_000)
        if self.prewarm_workers:
            shutdown_warm_workers()
        super().closeEvent(event)
