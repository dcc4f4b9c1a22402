"""Sessions in the window: save / open, autosave and crash recovery, recent files and
drag-and-drop (the file format is :mod:`astroexplorer.session_file`)."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QLockFile, QObject, QSettings, QTimer
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from ..core.errors import UserError
from ..core.rowset import RowSet
from ..core.selection import SelectionMode
from ..io.registry import OpenOptions
from ..session_file import (
    SESSION_SUFFIX,
    CatalogueMissingError,
    SessionData,
    autosave_dir,
    is_session_file,
    load_session,
    options_from_json,
    options_to_json,
    save_session,
)
from .binding import connect_weakly
from .widgets import drop_retired_tab_bars

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["SessionActions", "RecentFiles", "collect_view_state", "apply_session",
           "check_view_state"]

log = logging.getLogger(__name__)

_SESSION_FILTER = f"AstroExplorer sessions (*{SESSION_SUFFIX});;All files (*)"


# -- recent files ------------------------------------------------------------------------
class RecentFiles:
    """The last :attr:`limit` catalogues and sessions opened, newest first, in QSettings.

    Each entry is ``{"path": str, "options": dict | None}``; ``options`` (from
    :func:`~astroexplorer.session_file.options_to_json`) reopens a catalogue the way
    it was opened (separate cutouts, column roles).
    """

    key = "recent_files"
    limit = 10

    def entries(self) -> list[dict]:
        raw = QSettings().value(self.key, "[]")
        try:
            entries = json.loads(str(raw))
        except ValueError:
            return []
        return [e for e in entries if isinstance(e, dict) and isinstance(e.get("path"), str)]

    def paths(self) -> list[Path]:
        return [Path(e["path"]) for e in self.entries()]

    def add(self, path: str | Path, options: OpenOptions | None = None) -> None:
        """Put ``path`` first (once), keeping :attr:`limit` entries."""
        path = Path(path).resolve()
        opts = None
        if options is not None and (options.cutouts or options.lightcurves or options.columns):
            opts = options_to_json(options)
        entries = [{"path": str(path), "options": opts}]
        entries += [e for e in self.entries() if Path(e["path"]) != path]
        self._write(entries[:self.limit])

    def remove(self, path: str | Path) -> None:
        path = Path(path)
        self._write([e for e in self.entries() if Path(e["path"]) != path])

    def clear(self) -> None:
        self._write([])

    def _write(self, entries: list[dict]) -> None:
        QSettings().setValue(self.key, json.dumps(entries))


# -- view state --------------------------------------------------------------------------
def _b64(data: QByteArray) -> str:
    return bytes(data.toBase64()).decode("ascii")


def collect_view_state(window: MainWindow) -> dict:
    """What the window shows, JSON-able: colouring, plotted axes or map, the map's
    visible range, the window's geometry and dock layout (``saveGeometry`` /
    ``saveState``, base64) and the score column of the Discovery panel."""
    scatter = window.scatter_panel
    (x0, x1), (y0, y1) = scatter.view_box.viewRange()
    return {
        "colour_by": scatter.colour_column,
        "use_projection": bool(scatter.use_projection),
        "x_column": scatter.x_column,
        "y_column": scatter.y_column,
        "view_range": [[float(x0), float(x1)], [float(y0), float(y1)]],
        "window_geometry": _b64(window.saveGeometry()),
        "window_state": _b64(window.saveState()),
        "score_column": getattr(window.discovery_panel, "score_column", None),
    }


def check_view_state(data: SessionData) -> None:
    """Refuse (UserError naming the session) a view state naming columns that the
    catalogue read again, plus the saved derived columns, does not have."""
    columns = set(data.catalogue.table.colnames) | {d.name for d in data.derived}
    view = data.view
    for key, what in (("colour_by", "colours by"), ("x_column", "plots across"),
                      ("y_column", "plots up")):
        name = view.get(key) or ""
        if not isinstance(name, str) or (name and name not in columns):
            raise UserError(f"{data.path}: the column {name!r} it {what} is not in the "
                            f"catalogue {data.catalogue_path}")
    rng = view.get("view_range")
    if rng is not None and (not isinstance(rng, list) or len(rng) != 2
                            or any(not isinstance(r, list) or len(r) != 2 for r in rng)):
        raise UserError(f"{data.path}: its map range {rng!r} is not [[x0, x1], [y0, y1]]")


def apply_session(window: MainWindow, data: SessionData) -> None:
    """Show a loaded and checked session in ``window``: its catalogue, derived
    columns, embedding, map, subsets, selection, focus, colouring, axes and layout.

    Call only with the result of :func:`~astroexplorer.session_file.load_session`
    after :func:`check_view_state`; nothing here reads files or can fail on the
    session's content.
    """
    session = window.session
    window.set_catalogue(data.catalogue)
    table = data.catalogue.table
    for derived in data.derived:
        table[derived.name] = derived.to_column()
        table.meta.setdefault("derived", {})[derived.name] = dict(derived.meta)
        session.column_added.emit(derived.name)
    if data.embedding is not None:
        session.set_embedding(data.embedding)
    if data.projection is not None:
        session.set_projection(data.projection)
    subsets = session.selection.subsets
    for subset in data.subsets:
        subsets.add(subset.name, RowSet(subset.rows), subset.colour, subset.description)
        if not subset.visible:
            subsets.update(subset.name, visible=False)
    view = data.view
    if view.get("score_column") and hasattr(window.discovery_panel, "score_column"):
        window.discovery_panel.score_column = view["score_column"]
    selection = session.selection
    selection.select(RowSet(data.selection_rows), SelectionMode.REPLACE, source=None,
                     description=data.selection_description)
    selection.description = data.selection_description
    selection.set_focus(data.focus)
    _apply_view(window, view)


def _apply_view(window: MainWindow, view: dict) -> None:
    scatter, panel = window.scatter_panel, window.analysis_panel
    colour = view.get("colour_by") or ""
    if colour:
        try:
            window.colour_by(colour)
        except KeyError:  # a column not offered in the combo (e.g. multi-dimensional)
            scatter.set_colour_by(colour)
    x, y = view.get("x_column") or "", view.get("y_column") or ""
    panel.set_axes(x, y)
    use_projection = bool(view.get("use_projection", True))
    scatter.x_column, scatter.y_column = x, y
    if window.session.projection is not None and not use_projection:
        panel.plot_combo.setCurrentIndex(1)  # "Columns": emits the axes to the map
    else:
        scatter.use_projection = use_projection
        scatter.refresh(autorange=True)
    rng = view.get("view_range")
    if rng:
        scatter.view_box.setRange(xRange=rng[0], yRange=rng[1], padding=0)
    if view.get("window_geometry"):
        window.restoreGeometry(QByteArray.fromBase64(view["window_geometry"].encode("ascii")))
    if view.get("window_state"):
        window.restoreState(QByteArray.fromBase64(view["window_state"].encode("ascii")))
        drop_retired_tab_bars(window)  # the old tab bars would stay over the new ones


# -- the actions -------------------------------------------------------------------------
class SessionActions(QObject):
    """File menu entries for sessions and recent files, drag-and-drop of files onto
    the window, autosave and crash recovery, for one :class:`MainWindow`.

    Attributes
    ----------
    session_path : Path or None
        The user's session file being edited (None until saved or opened).
    modified : bool
        Something changed since the session was last saved or opened.
    """

    #: Seconds between autosaves (when something changed).
    autosave_interval_s = 60

    def __init__(self, window: MainWindow, file_menu: QMenu) -> None:
        super().__init__(window)
        self.window = window
        self.session_path: Path | None = None
        self.modified = False
        self.recent = RecentFiles()
        self._autosave_pending = False
        self._applying = False
        self._autosave_dir: Path | None = None
        self._autosave_path: Path | None = None
        self._lock: QLockFile | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.autosave_if_needed)
        self._make_actions(file_menu)
        window.setAcceptDrops(True)
        window.installEventFilter(self)
        session = window.session
        for signal in (session.embedding_changed, session.projection_changed,
                       session.column_added, session.selection.changed,
                       session.selection.subsets.changed):
            connect_weakly(signal, self, SessionActions._mark_modified)
        connect_weakly(session.catalogue_changed, self, SessionActions._on_catalogue_changed)
        panel = window.analysis_panel
        for qt_signal in (panel.colour_by_changed, panel.axes_changed,
                          panel.show_projection_changed):
            qt_signal.connect(self._mark_modified)

    def _make_actions(self, menu: QMenu) -> None:
        w = self.window
        self.open_session_action = QAction("Open &session\u2026", self,
                                           statusTip="Open a saved session (.aexsession)")
        self.open_session_action.triggered.connect(lambda: self.open_session_dialog())
        self.recent_menu = QMenu("Open &recent", w)
        self.recent_menu.aboutToShow.connect(self.rebuild_recent_menu)
        self.recent_menu.setToolTipsVisible(True)  # the full path of each entry
        self.save_action = QAction("&Save session", self, shortcut=QKeySequence.StandardKey.Save,
                                   statusTip="Save the catalogue's results, selection, subsets "
                                             "and layout (the catalogue is referenced, not copied)")
        self.save_action.triggered.connect(lambda: self.save())
        self.save_as_action = QAction("Save session &as\u2026", self,
                                      shortcut=QKeySequence.StandardKey.SaveAs)
        self.save_as_action.triggered.connect(lambda: self.save_as())
        before = getattr(w, "detect_action", None)
        menu.insertAction(before, self.open_session_action)
        menu.insertMenu(before, self.recent_menu)
        menu.insertSeparator(before)
        before = getattr(w, "export_action", None)
        menu.insertSeparator(before)
        menu.insertAction(before, self.save_action)
        menu.insertAction(before, self.save_as_action)
        menu.insertSeparator(before)
        self.rebuild_recent_menu()

    # -- state ------------------------------------------------------------------------
    def _mark_modified(self, *_args: object) -> None:
        if not self._applying and self.window.session.catalogue is not None:
            self.modified = True
            self._autosave_pending = True

    def _on_catalogue_changed(self, catalogue: object) -> None:
        if self._applying:
            return
        # A catalogue opened by itself starts a new, unsaved session.
        self.session_path = None
        self._mark_modified()
        path = getattr(catalogue, "path", None)
        if path is not None:
            self.recent.add(path, getattr(catalogue, "open_options", None))

    # -- opening ----------------------------------------------------------------------
    def open_any(self, path: str | Path) -> bool:
        """Open ``path``: a session file as a session, anything else as a catalogue."""
        path = Path(path)
        if is_session_file(path):
            return self.open_session(path)
        return self.window.open_path(path)

    def open_session_dialog(self) -> bool:
        start = str(QSettings().value("last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self.window, "Open session", start, _SESSION_FILTER)
        if not path:
            return False
        QSettings().setValue("last_dir", str(Path(path).parent))
        return self.open_session(Path(path))

    def locate_catalogue(self, missing: Path) -> Path | None:
        """Ask where a moved catalogue is now (tests replace this)."""
        QMessageBox.information(self.window, "Catalogue not found",
                                f"The session's catalogue {missing} is not there any more. "
                                "Show where it is now.")
        path, _ = QFileDialog.getOpenFileName(self.window, f"Locate {missing.name}",
                                              str(missing.parent), "All files (*)")
        return Path(path) if path else None

    def load(self, path: str | Path) -> SessionData | None:
        """Read and check a session file and its catalogue, asking for a moved
        catalogue; None (after telling the user why) if it cannot be opened."""
        path = Path(path)
        catalogue_path = None
        while True:
            try:
                data = load_session(path, catalogue_path)
                check_view_state(data)
                return data
            except CatalogueMissingError as exc:
                catalogue_path = self.locate_catalogue(exc.catalogue_path)
                if catalogue_path is None:
                    self.window.show_error("Cannot open session", str(exc))
                    return None
            except UserError as exc:
                self.window.show_error("Cannot open session", str(exc))
                return None
            except Exception as exc:  # noqa: BLE001 - a bad file must not close the app
                log.exception("opening the session %s failed", path)
                self.window.show_error("Cannot open session", f"{path} could not be read: {exc}")
                return None

    def open_session(self, path: str | Path) -> bool:
        """Open a session file in this window (everything loaded and checked first,
        so a bad file changes nothing). Returns whether it was opened."""
        data = self.load(path)
        if data is None:
            return False
        self._apply(data)
        self.session_path = Path(path)
        self.recent.add(path)
        self.window.statusBar().showMessage(f"Opened session {Path(path).name}", 8000)
        return True

    def _apply(self, data: SessionData) -> None:
        self._applying = True
        try:
            apply_session(self.window, data)
        finally:
            self._applying = False
        self.modified = False
        self._autosave_pending = False

    # -- saving -----------------------------------------------------------------------
    def save(self) -> bool:
        """Save to the current session file, or ask for one."""
        if self.session_path is None:
            return self.save_as()
        return self.save_to(self.session_path, overwrite=True)

    def save_as(self) -> bool:
        """Ask for a session file name (the dialog asks before replacing) and save."""
        if self.window.session.catalogue is None:
            self.window.show_error("Nothing to save", "Open a catalogue first.")
            return False
        catalogue = self.window.session.catalogue
        start = Path(str(QSettings().value("last_dir", str(Path.home()))))
        path, _ = QFileDialog.getSaveFileName(self.window, "Save session",
                                              str(start / f"{catalogue.name}{SESSION_SUFFIX}"),
                                              _SESSION_FILTER)
        if not path:
            return False
        if not is_session_file(path):
            path += SESSION_SUFFIX
        QSettings().setValue("last_dir", str(Path(path).parent))
        return self.save_to(Path(path), overwrite=True)

    def save_to(self, path: str | Path, overwrite: bool = False) -> bool:
        """Write the session to ``path`` (replacing it only with ``overwrite``)."""
        path = Path(path)
        try:
            save_session(path, self.window.session, collect_view_state(self.window), overwrite)
        except UserError as exc:
            self.window.show_error("Cannot save the session", str(exc))
            return False
        self.session_path = path
        self.modified = False
        self.recent.add(path)
        self.window.statusBar().showMessage(f"Session saved to {path}", 8000)
        return True

    # -- autosave and recovery --------------------------------------------------------
    def start_autosave(self, directory: Path | None = None,
                       interval_s: float | None = None) -> None:
        """Autosave every ``interval_s`` seconds (when something changed) to a file of
        its own in ``directory`` (default :func:`~astroexplorer.session_file.autosave_dir`),
        held by a lock so that other running windows leave it alone."""
        directory = Path(directory) if directory is not None else autosave_dir()
        directory.mkdir(parents=True, exist_ok=True)
        self._autosave_dir = directory
        name = uuid.uuid4().hex[:12]
        self._lock = QLockFile(str(directory / f"{name}.lock"))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone
        self._lock.tryLock(0)
        self._autosave_path = directory / f"{name}{SESSION_SUFFIX}"
        self._timer.start(int(1000 * (interval_s or self.autosave_interval_s)))

    @property
    def autosave_path(self) -> Path | None:
        """This window's autosave file (None until :meth:`start_autosave`)."""
        return self._autosave_path

    def autosave_if_needed(self) -> Path | None:
        """Autosave if something changed since the last autosave; returns the file."""
        if not self._autosave_pending or self._autosave_path is None:
            return None
        if self.window.session.catalogue is None or self.window.session.catalogue.path is None:
            return None
        try:
            save_session(self._autosave_path, self.window.session,
                         collect_view_state(self.window), overwrite=True,
                         origin=self.session_path)
        except UserError as exc:
            log.warning("autosave failed: %s", exc)
            self.window.statusBar().showMessage(f"Autosave failed: {exc}", 8000)
            return None
        self._autosave_pending = False
        return self._autosave_path

    def discard_autosave(self) -> None:
        """Delete this window's autosave and release its lock (a clean quit)."""
        self._timer.stop()
        if self._autosave_path is not None:
            self._autosave_path.unlink(missing_ok=True)
        if self._lock is not None:
            self._lock.unlock()
        self._autosave_path = None
        self._lock = None

    def recoverable(self, directory: Path | None = None) -> list[tuple[Path, QLockFile]]:
        """Autosaves left by windows that did not close cleanly (their lock is free),
        newest first, each with its lock now held by this window."""
        directory = Path(directory) if directory is not None else autosave_dir()
        if not directory.is_dir():
            return []
        found = []
        for path in directory.glob(f"*{SESSION_SUFFIX}"):
            if path == self._autosave_path:
                continue
            lock = QLockFile(str(path.with_suffix(".lock")))
            lock.setStaleLockTime(0)
            if lock.tryLock(0):
                found.append((path, lock))
        found.sort(key=lambda item: item[0].stat().st_mtime, reverse=True)
        return found

    def ask_recovery(self, path: Path, others: int) -> str:
        """Ask whether to recover ``path``: ``"recover"``, ``"discard"`` or ``"later"``
        (tests replace this)."""
        from datetime import datetime

        when = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        extra = ("" if not others else " (an older autosave will be discarded)" if others == 1
                 else f" ({others} older autosaves will be discarded)")
        box = QMessageBox(QMessageBox.Icon.Question, "Recover session?",
                          f"AstroExplorer did not close cleanly. A session autosaved at {when} "
                          f"can be recovered{extra}.", parent=self.window)
        recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(recover)
        box.exec()
        clicked = box.clickedButton()
        return "recover" if clicked is recover else "discard" if clicked is discard else "later"

    def offer_recovery(self, directory: Path | None = None) -> bool:
        """If a crashed window left an autosave, offer to recover the newest (the
        others are discarded with it). Returns whether a session was recovered."""
        found = self.recoverable(directory)
        if not found:
            return False
        path, _lock = found[0]
        answer = self.ask_recovery(path, len(found) - 1)
        recovered = False
        try:
            if answer == "recover":
                data = self.load(path)
                if data is None:
                    return False  # kept for another try; the error was shown
                self._apply(data)
                self.session_path = data.origin
                self.modified = self._autosave_pending = True  # unsaved until saved
                self.window.statusBar().showMessage("Session recovered", 8000)
                recovered = True
            if answer in ("recover", "discard"):
                for old, _ in found:
                    old.unlink(missing_ok=True)
        finally:
            for _, lock in found:
                lock.unlock()
        return recovered

    # -- recent files -------------------------------------------------------------------
    def rebuild_recent_menu(self) -> None:
        """Fill File > Open recent: existing files first-class, missing ones disabled."""
        menu = self.recent_menu
        menu.clear()
        entries = self.recent.entries()
        for i, entry in enumerate(entries):
            path = Path(entry["path"])
            exists = path.exists()
            kind = "session" if is_session_file(path) else "catalogue"
            text = f"&{(i + 1) % 10} {path.name}" + ("" if exists else " (missing)")
            action = menu.addAction(text)
            action.setToolTip(str(path))
            action.setStatusTip(f"{kind}: {path}" if exists else f"{path} is missing")
            action.setEnabled(exists)
            action.setData(str(path))
            action.triggered.connect(lambda _checked=False, e=entry: self.open_recent(e))
        if not entries:
            empty = menu.addAction("(no recent files)")
            empty.setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("Clear recent files")
        clear.setEnabled(bool(entries))
        clear.triggered.connect(lambda: self.recent.clear())

    def open_recent(self, entry: dict) -> bool:
        """Open a recent entry (a missing file is removed from the list, with a message)."""
        path = Path(entry["path"])
        if not path.exists():
            self.recent.remove(path)
            self.window.show_error("File not found", f"{path} is missing; it was removed "
                                   "from the recent files.")
            return False
        if is_session_file(path):
            return self.open_session(path)
        options = None
        if entry.get("options"):
            try:
                options = options_from_json(entry["options"])
            except UserError:
                options = None
        return self.window.open_path(path, options)

    # -- drag and drop, close -----------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if obj is self.window:
            kind = event.type()
            if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
                if _dropped_files(event):
                    event.acceptProposedAction()
                    return True
            elif kind == QEvent.Type.Drop:
                files = _dropped_files(event)
                if files:
                    event.acceptProposedAction()
                    if len(files) > 1:
                        self.window.statusBar().showMessage(
                            f"{len(files)} files dropped: opening {files[0].name} only", 8000)
                    # After the drop returns, so the drag source is not kept waiting.
                    QTimer.singleShot(0, lambda: self.open_any(files[0]))
                    return True
            elif kind == QEvent.Type.Close:
                self.discard_autosave()
        return super().eventFilter(obj, event)


def _dropped_files(event: QDragEnterEvent | QDropEvent) -> list[Path]:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
