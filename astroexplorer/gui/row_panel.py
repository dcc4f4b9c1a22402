"""Base of the views that show one catalogue row: the focused one, or a message."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLayout, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from ..core.session import Session
from .binding import connect_weakly

__all__ = ["RowPanel"]


class RowPanel(QWidget):
    """A view of the session's focused row, with an empty state.

    Subclasses build their controls and content widget, then call
    :meth:`_install`; they implement ``_on_catalogue_changed(catalogue)`` and
    ``_show(row)`` and set ``self._row`` to the row they display.
    """

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._row: int | None = None
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
        return self._row

    @property
    def message(self) -> str:
        """The empty-state message, or "" while a row is shown."""
        return self.message_label.text() if self.stack.currentWidget() is self.message_label else ""

    def _on_focus_changed(self, row: int | None, source: object = None) -> None:
        self._show(row)

    def _on_catalogue_changed(self, catalogue) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _show(self, row: int | None) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
