"""The SAMP menu: talk to TOPCAT, DS9 and Aladin from the main window.

:class:`SampBridge` owns a :class:`~astroexplorer.io.samp.SampConnection`. Messages
from other applications arrive on astropy's receiver threads; the bridge re-emits
them as Qt signals, queued to the main thread, where they change the window's
:class:`~astroexplorer.core.selection.Selection` (source ``"samp"``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu

from ..core.catalogue import Catalogue
from ..core.errors import UserError
from ..core.rowset import RowSet
from ..core.selection import SelectionMode
from ..io.samp import (
    MTYPE_LOAD_IMAGE,
    MTYPE_LOAD_TABLE,
    MTYPE_POINT_AT,
    SampConnection,
    find_radec_columns,
    sky_position,
)
from .binding import connect_weakly

__all__ = ["SampBridge", "SAMP_SOURCE"]

log = logging.getLogger(__name__)

#: The ``source`` of selection and focus changes made by other SAMP applications.
SAMP_SOURCE = "samp"


class SampBridge(QObject):
    """SAMP for a main window: a "SAMP" menu, a status-bar line, and incoming
    selections applied to the window's Session.

    Parameters
    ----------
    window : QMainWindow
        A window with a ``session`` (:class:`~astroexplorer.core.session.Session`)
        and a ``show_error(title, message)`` method (the main window).

    Signals
    -------
    rows_received(catalogue, rows), highlight_received(catalogue, row)
        Emitted on astropy's threads, delivered (queued) on the main thread.
    connection_changed(connected: bool)
        After connecting or disconnecting (also when the hub stops).
    """

    rows_received = Signal(object, object)
    highlight_received = Signal(object, int)
    clients_changed = Signal()
    hub_stopped = Signal()
    peer_error = Signal(str)
    connection_changed = Signal(bool)

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.connection = SampConnection(
            on_select=lambda rows: self.rows_received.emit(self.connection.catalogue, rows),
            on_highlight=lambda row: self.highlight_received.emit(self.connection.catalogue,
                                                                  row),
            on_clients_changed=self.clients_changed.emit,
            on_hub_shutdown=self.hub_stopped.emit,
            on_error=self.peer_error.emit,
        )
        self.connection.catalogue = self.session.catalogue
        queued = Qt.ConnectionType.QueuedConnection
        self.rows_received.connect(self._apply_rows, queued)
        self.highlight_received.connect(self._apply_highlight, queued)
        self.clients_changed.connect(self.update_actions, queued)
        self.hub_stopped.connect(self._on_hub_stopped, queued)
        self.peer_error.connect(lambda text: self._error(text), queued)

        self.menu = QMenu("&SAMP", window)
        self.menu.setToolTipsVisible(True)
        self.connect_action = QAction("&Connect to the SAMP hub", self, statusTip=(
            "Talk to TOPCAT, DS9, Aladin... through the running SAMP hub"))
        self.connect_action.triggered.connect(lambda: self.connect_hub())
        self.disconnect_action = QAction("&Disconnect", self)
        self.disconnect_action.triggered.connect(self.disconnect_hub)
        self.menu.addAction(self.connect_action)
        self.menu.addAction(self.disconnect_action)
        self.menu.addSeparator()
        self.selection_menu = self._submenu(
            "Send &selection to", MTYPE_LOAD_TABLE, "tables (TOPCAT)", self.send_selection)
        self.cutout_menu = self._submenu(
            "Send &cutout of the focused object to", MTYPE_LOAD_IMAGE, "images (DS9, Aladin)",
            self.send_cutout)
        self.point_menu = self._submenu(
            "&Point at the focused object in", MTYPE_POINT_AT, "sky positions",
            self.point_at_focus)

        self.status_label = QLabel()
        window.statusBar().addPermanentWidget(self.status_label)
        window.installEventFilter(self)
        connect_weakly(self.session.catalogue_changed, self, SampBridge._on_catalogue_changed)
        connect_weakly(self.session.selection.changed, self, SampBridge._on_selection_event)
        connect_weakly(self.session.selection.focus_changed, self,
                       SampBridge._on_selection_event)
        self.update_actions()

    # -- menu -----------------------------------------------------------------------------
    def _submenu(self, title: str, mtype: str, what: str,
                 send: Callable[[str | None], bool]) -> QMenu:
        menu = self.menu.addMenu(title)
        menu.aboutToShow.connect(lambda: self._fill(menu, mtype, what, send))
        return menu

    def _fill(self, menu: QMenu, mtype: str, what: str,
              send: Callable[[str | None], bool]) -> None:
        """List the clients accepting ``mtype``: "All ..." then one entry each."""
        menu.clear()
        try:
            clients = self.connection.clients(mtype)
        except Exception as exc:  # noqa: BLE001 - hub gone
            log.info("SAMP clients: %s", exc)
            clients = {}
        if not clients:
            action = menu.addAction(f"(no application accepts {what})")
            action.setEnabled(False)
            return
        every = menu.addAction(f"All applications accepting {what}")
        every.triggered.connect(lambda: send(None))
        menu.addSeparator()
        for client_id, name in sorted(clients.items(), key=lambda item: item[1].lower()):
            action = menu.addAction(f"{name} ({client_id})")
            action.setData(client_id)
            action.triggered.connect(lambda _checked=False, c=client_id: send(c))

    def update_actions(self) -> None:
        """Enable the actions that make sense now; refresh the status line."""
        connected = self.connection.is_connected
        catalogue = self.session.catalogue
        selection = self.session.selection
        focus = selection.focus if catalogue is not None else None
        self.connect_action.setEnabled(not connected)
        self.disconnect_action.setEnabled(connected)
        self.selection_menu.menuAction().setEnabled(
            connected and catalogue is not None and len(selection.rows) > 0)
        self.cutout_menu.menuAction().setEnabled(
            connected and focus is not None and catalogue.images is not None)
        self.point_menu.menuAction().setEnabled(
            connected and focus is not None and find_radec_columns(catalogue) is not None)
        self.status_label.setText(self.status_text())
        self.status_label.setVisible(connected)

    def status_text(self) -> str:
        """``"SAMP: connected (3 clients)"``, or ``"SAMP: not connected"``."""
        if not self.connection.is_connected:
            return "SAMP: not connected"
        try:
            n = len(self.connection.clients())
        except Exception:  # noqa: BLE001 - hub gone; its shutdown message will follow
            return "SAMP: hub not answering"
        return f"SAMP: connected ({n} client{'' if n == 1 else 's'})"

    # -- actions --------------------------------------------------------------------------
    def connect_hub(self, hub=None) -> bool:
        """Connect to the running hub (or ``hub``); says why not in a message box."""
        ok = self._run("Cannot connect to SAMP", lambda: self.connection.connect(hub))
        self.connection.catalogue = self.session.catalogue
        self.update_actions()
        if ok:
            self.window.statusBar().showMessage(self.status_text(), 5000)
            self.connection_changed.emit(True)
        return ok

    def disconnect_hub(self) -> None:
        """Leave the hub; the files sent are deleted."""
        was = self.connection.is_connected
        self.connection.disconnect()
        self.update_actions()
        if was:
            self.connection_changed.emit(False)

    def send_selection(self, recipient: str | None = None) -> bool:
        """Send the selected rows to ``recipient`` (or every application accepting
        tables), which then selects them."""
        catalogue, selection = self.session.catalogue, self.session.selection
        if catalogue is None:
            self._error("Open a catalogue and select some objects first.")
            return False
        return self._run("Cannot send the selection", lambda: self.connection.send_selection(
            catalogue, selection.rows, selection.description, recipient))

    def send_cutout(self, recipient: str | None = None) -> bool:
        """Send the focused object's cutout to ``recipient`` (or every image viewer)."""
        catalogue, row = self._focused()
        if catalogue is None:
            return False
        return self._run("Cannot send the cutout",
                         lambda: self.connection.send_cutout(catalogue, row, recipient))

    def point_at_focus(self, recipient: str | None = None) -> bool:
        """Ask ``recipient`` (or every application that can) to point at the focused
        object's position (its ra/dec columns, in degrees)."""
        catalogue, row = self._focused()
        if catalogue is None:
            return False

        def point() -> None:
            ra, dec = sky_position(catalogue, row)
            self.connection.point_at(ra, dec, recipient)

        return self._run("Cannot point at the object", point)

    def _focused(self) -> tuple[Catalogue | None, int]:
        catalogue, focus = self.session.catalogue, self.session.selection.focus
        if catalogue is None or focus is None:
            self._error("Click an object on the map or in the table first.")
            return None, -1
        return catalogue, focus

    def _run(self, title: str, action: Callable[[], object]) -> bool:
        try:
            action()
        except UserError as exc:
            self._error(str(exc), title)
            return False
        except Exception as exc:  # noqa: BLE001 - the hub or a peer failed
            log.exception("SAMP: %s", title)
            self._error(f"The SAMP hub or application did not answer: {exc}", title)
            self.update_actions()
            return False
        return True

    def _error(self, message: str, title: str = "SAMP") -> None:
        self.window.show_error(title, message)

    # -- incoming (main thread) -------------------------------------------------------------
    def _apply_rows(self, catalogue: Catalogue | None, rows: np.ndarray) -> None:
        if catalogue is None or catalogue is not self.session.catalogue:
            return  # another catalogue was opened meanwhile
        self.session.selection.select(RowSet(rows), SelectionMode.REPLACE, source=SAMP_SOURCE,
                                      description=f"selected in SAMP ({len(rows)} rows)")

    def _apply_highlight(self, catalogue: Catalogue | None, row: int) -> None:
        if catalogue is None or catalogue is not self.session.catalogue:
            return
        self.session.selection.set_focus(row, source=SAMP_SOURCE)

    def _on_hub_stopped(self) -> None:
        self.disconnect_hub()
        self.window.statusBar().showMessage("SAMP: the hub stopped", 5000)

    def _on_catalogue_changed(self, catalogue: Catalogue) -> None:
        self.connection.catalogue = catalogue
        self.update_actions()

    def _on_selection_event(self, *_args) -> None:
        self.update_actions()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        """Leave the hub when the window closes."""
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.disconnect_hub()
        return False
