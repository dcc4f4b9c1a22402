"""Connecting the Qt-free core signals to Qt objects."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject

from ..core.events import Signal

__all__ = ["connect_weakly"]


def connect_weakly(signal: Signal, widget: QObject, slot: Callable[..., Any]) -> None:
    """Connect a core :class:`Signal` to a method of a Qt object without keeping it alive.

    Core signals hold strong references and know nothing of Qt object lifetimes;
    once the widget is garbage or its C++ object deleted, the connection removes
    itself at the next emit instead of raising.

    Parameters
    ----------
    signal : Signal
        A core (Qt-free) signal.
    widget : QObject
        The receiver (a widget, a window).
    slot : callable
        An unbound method of ``widget``'s class, called as ``slot(widget, *args)``.
    """
    ref = weakref.ref(widget)

    def forward(*args: Any) -> None:
        obj = ref()
        if obj is None or not shiboken6.isValid(obj):
            signal.disconnect(forward)
            return
        slot(obj, *args)

    signal.connect(forward)
