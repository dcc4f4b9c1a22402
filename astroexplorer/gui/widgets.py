"""Small widget factories shared by the control panels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel

from ..registry import Registry

__all__ = ["make_combo", "registry_combo", "status_label"]


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
