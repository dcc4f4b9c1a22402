"""Base of the views that show one catalogue row: the focused one, or a message."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QLayout, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from ..core.catalogue import Catalogue
from ..core.session import Session
from .binding import connect_weakly
from .widgets import hidden_in_shown_window, on_revealed

__all__ = ["RowPanel"]

log = logging.getLogger(__name__)


class RowPanel(QWidget):
    """A view of the session's focused row, with an empty state.

    Subclasses build their controls and content widget, then call
    :meth:`_install`. They name what they show (:attr:`what`) and implement
    ``_on_catalogue_changed``, ``_source`` (the catalogue's modality, or None),
    ``_display`` (draw one row's data and set ``self._row``) and ``_clear``.

    While the panel is out of sight in a shown window (behind another dock's tab),
    focus changes only mark it stale; it draws the focused row when shown again.
    """

    #: What one row's data is called in messages, e.g. "cutout".
    what = "data"

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._row: int | None = None
        self._stale = False
        self.title_label = QLabel()
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.message_label = QLabel()
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: gray;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message_label)

    def _install(self, controls: QLayout, content: QWidget, footer: QWidget | None = None) -> None:
        """Lay out controls, title, content (or message) and footer; follow the session."""
        self.stack.addWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.title_label)
        layout.addWidget(self.stack, 1)
        if footer is not None:
            layout.addWidget(footer)
        cls = type(self)
        connect_weakly(self.session.catalogue_changed, self, cls._on_catalogue_changed)
        connect_weakly(self.session.selection.focus_changed, self, cls._on_focus_changed)
        self._on_catalogue_changed(self.session.catalogue)

    @property
    def shown_row(self) -> int | None:
        """The catalogue row on display, or None (empty state)."""
        self._catch_up()
        return self._row

    @property
    def message(self) -> str:
        """The empty-state message, or "" while a row is shown."""
        self._catch_up()
        return self.message_label.text() if self.stack.currentWidget() is self.message_label else ""

    @property
    def stale(self) -> bool:
        """Whether a focus change waits for the panel to be shown."""
        return self._stale

    def _catch_up(self) -> None:
        if self._stale:
            self._show(self.session.selection.focus)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        """Draw the row focused while out of sight before the first paint."""
        on_revealed(self, self._catch_up)
        self._catch_up()
        super().showEvent(event)

    def _on_focus_changed(self, row: int | None, source: object = None) -> None:
        if hidden_in_shown_window(self):
            self._stale = True
            return
        self._show(row)

    def _show(self, row: int | None) -> None:
        """Display ``row``'s data, or say why there is none."""
        self._stale = False
        catalogue = self.session.catalogue
        source = self._source(catalogue) if catalogue is not None else None
        if catalogue is None:
            self._empty("no catalogue open")
        elif source is None:
            self._empty(f"no {self.what}s in this catalogue")
        elif row is None:
            self._empty(f"click an object to see its {self.what}")
        else:
            try:
                data = source.get(row)
            except Exception as exc:  # a bad file must not break the other linked views
                log.exception("reading the %s of row %s failed", self.what, row)
                self._empty(f"could not read the {self.what} of row {row}: {exc}")
                return
            self._display(catalogue, row, data)

    def _empty(self, message: str) -> None:
        self._row = None
        self._clear()
        self.title_label.setText("")
        self.message_label.setText(message)
        self.stack.setCurrentWidget(self.message_label)

    def _on_catalogue_changed(self, catalogue: Catalogue | None) -> None:  # pragma: no cover
        raise NotImplementedError

    def _source(self, catalogue: Catalogue) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _display(self, catalogue: Catalogue, row: int, data: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    def _clear(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
