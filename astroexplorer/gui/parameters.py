"""Editors for a method's options, built from ``{name: (default, min, max, help)}`` specs."""

from __future__ import annotations

import math

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QSpinBox,
    QWidget,
)

__all__ = ["parameter_form", "parameter_values"]


def _float_editor(default: float, low: float, high: float) -> QDoubleSpinBox:
    # Enough decimals to show the smallest allowed value (a learning rate of 1e-5).
    smallest = min(v for v in (abs(default), abs(low), 1.0) if v > 0)
    decimals = max(2, min(8, 1 - math.floor(math.log10(smallest))))
    widget = QDoubleSpinBox(minimum=low, maximum=high, decimals=decimals)
    widget.setValue(default)
    widget.setSingleStep(10 ** math.floor(math.log10(abs(default))) if default else 0.05)
    return widget


def parameter_form(parameters: dict[str, tuple]) -> tuple[QWidget, dict[str, QWidget]]:
    """A form of editors for ``{name: (default, minimum, maximum or choices, help)}``.

    A bool default gives a check box, choices (a tuple as minimum) a combo box,
    float defaults a spin box with
    enough decimals for the range, int defaults an integer spin box. Returns the
    form widget and the editors by name.
    """
    page = QWidget()
    form = QFormLayout(page)
    form.setContentsMargins(0, 0, 0, 0)
    # In a narrow dock a label goes above its editor rather than widening the dock.
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    widgets: dict[str, QWidget] = {}
    for name, (default, low, high, tip) in parameters.items():
        if isinstance(default, bool):
            widget = QCheckBox()
            widget.setChecked(default)
        elif isinstance(low, tuple):
            widget = QComboBox()
            widget.addItems(list(low))
            widget.setCurrentText(str(default))
        elif isinstance(default, float):
            widget = _float_editor(default, low, high)
        else:
            widget = QSpinBox(minimum=low, maximum=high, value=default)
        widget.setToolTip(tip)
        form.addRow(name.replace("_", " ").capitalize(), widget)
        widgets[name] = widget
    return page, widgets


def parameter_values(widgets: dict[str, QWidget]) -> dict:
    """The editors' current values, by name (text for combo boxes, bool for check boxes)."""
    def value(w: QWidget):
        if isinstance(w, QCheckBox):
            return w.isChecked()
        return w.currentText() if isinstance(w, QComboBox) else w.value()

    return {name: value(w) for name, w in widgets.items()}
