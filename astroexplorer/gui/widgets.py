"""Small widget factories shared by the control panels."""

from __future__ import annotations

import weakref
from collections.abc import Callable

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QGraphicsItem,
    QLabel,
    QMainWindow,
    QTabBar,
    QWidget,
)

from ..registry import Registry

__all__ = ["cache_axes", "drop_retired_tab_bars", "hidden_in_shown_window", "make_combo",
           "on_revealed", "registry_combo", "status_label"]


def drop_retired_tab_bars(window: QMainWindow) -> None:
    """Delete the dock tab bars ``window``'s layout no longer uses, now.

    Tabifying docks in a second dock area makes Qt 6 (``QMainWindowLayout::getTabBar``
    re-enters the layout) build two tab bars for the same tabs; ``restoreState`` too
    leaves the old bars. The layout retires the spare ones when it is next activated,
    but only with ``deleteLater``: until the event loop runs they stay on screen over
    the real bar (a doubled "Gallery" tab), for ever where only events are processed
    (screenshots, benchmarks, tests). Call after tabifying or restoring a layout.
    """
    window.layout().activate()
    for bar in window.findChildren(QTabBar):
        QCoreApplication.sendPostedEvents(bar, QEvent.Type.DeferredDelete)


def hidden_in_shown_window(widget: QWidget) -> bool:
    """Whether ``widget`` is out of sight in a window that is on screen, so that
    redrawing it can wait until :func:`on_revealed` calls back: hidden (a closed
    dock), or in a dock behind another one's tab (Qt keeps those visible, moved
    outside the window). A widget whose window was never shown (a script's, a
    test's) is not: it keeps up at once."""
    if not widget.window().isVisible():
        return False
    return not widget.isVisible() or widget.visibleRegion().isEmpty()


def on_revealed(widget: QWidget, callback: Callable[[], None]) -> None:
    """Call ``callback`` whenever the dock holding ``widget`` comes into sight (its
    tab chosen, or the dock shown): a tabbed-away dock gets no show event. Call it
    from ``widget``'s ``showEvent`` (it is docked by then); once per dock."""
    dock = widget.parentWidget()
    while dock is not None and not isinstance(dock, QDockWidget):
        dock = dock.parentWidget()
    known = getattr(widget, "_revealed_by", None)
    if dock is None or (known is not None and known() is dock):
        return
    # Weak references only: the dock owns the widget, a strong one back would make a
    # cycle, left to the garbage collector, which may then run a Qt destructor in a
    # worker thread (and deadlock).
    widget._revealed_by = weakref.ref(dock)  # type: ignore[attr-defined]
    method = weakref.WeakMethod(callback)  # type: ignore[arg-type]

    def revealed(visible: bool) -> None:
        bound = method()
        if visible and bound is not None and shiboken6.isValid(bound.__self__):
            bound()

    dock.visibilityChanged.connect(revealed)


def cache_axes(plot_item: pg.PlotItem) -> None:
    """Draw the axes of ``plot_item`` from a pixmap while they are unchanged.

    pyqtgraph replays an axis's recorded QPicture at every repaint of its plot,
    and replaying the tick labels' text costs 1-6 ms per axis: a selection that
    only redraws the points would spend most of its time redrawing axes. Qt's
    device-coordinate cache keeps the drawn axis until it calls ``update()``
    itself (a new range, label, font or size), so the picture is replayed once.
    """
    for entry in plot_item.axes.values():
        entry["item"].setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def make_combo(tooltip: str, min_chars: int = 10) -> QComboBox:
    """A combo box that elides long labels instead of widening its (narrow) dock."""
    combo = QComboBox()
    combo.setToolTip(tooltip)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(min_chars)
    return combo


def registry_combo(registry: Registry, tooltip: str) -> QComboBox:
    """A combo of a registry's methods: label shown, name as item data, description as tip."""
    combo = make_combo(tooltip)
    for entry in registry.entries():
        combo.addItem(entry.label, entry.name)
        combo.setItemData(combo.count() - 1, entry.description, Qt.ItemDataRole.ToolTipRole)
    return combo


def status_label() -> QLabel:
    """A grey, word-wrapped line saying what a panel has done or needs."""
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet("color: #555;")
    return label
