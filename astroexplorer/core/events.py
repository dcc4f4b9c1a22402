"""A minimal synchronous signal for the Qt-free data model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Signal"]


class Signal:
    """Callbacks called in connection order with the emitted arguments.

    The GUI connects Qt-side slots to these; the core never knows about Qt.
    """

    def __init__(self) -> None:
        self._slots: list[Callable[..., Any]] = []

    def connect(self, slot: Callable[..., Any]) -> None:
        """Call ``slot(*args)`` on every later :meth:`emit`."""
        if slot not in self._slots:
            self._slots.append(slot)

    def disconnect(self, slot: Callable[..., Any]) -> None:
        """Stop calling ``slot``; unknown slots are ignored."""
        if slot in self._slots:
            self._slots.remove(slot)

    def emit(self, *args: Any) -> None:
        """Call every connected slot with ``args``."""
        for slot in list(self._slots):
            slot(*args)
