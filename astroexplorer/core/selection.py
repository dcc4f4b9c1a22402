"""The current selection, named subsets and the focused row of a catalogue."""

from __future__ import annotations

from enum import Enum

from .events import Signal
from .rowset import RowSet
from .subsets import SubsetCollection

__all__ = ["Selection", "SelectionMode"]


class SelectionMode(Enum):
    """How a new set of rows combines with the current selection."""

    REPLACE = "replace"
    ADD = "add"
    INTERSECT = "intersect"
    SUBTRACT = "subtract"
    XOR = "xor"


class Selection:
    """Selection state shared by every linked view.

    Signals
    -------
    changed(old: RowSet, new: RowSet, source: object)
        The selected rows changed; ``source`` is whoever made the change, so a
        view can ignore its own changes.
    focus_changed(row: int | None, source: object)
        The focused (clicked / hovered) row changed.
    """

    def __init__(self, n_rows: int) -> None:
        self.n_rows = int(n_rows)
        self._rows = RowSet()
        self._focus: int | None = None
        #: Named, coloured subsets of the rows (see :class:`SubsetCollection`).
        self.subsets = SubsetCollection(n_rows)
        self.description = ""
        self.changed = Signal()
        self.focus_changed = Signal()

    @property
    def rows(self) -> RowSet:
        """The currently selected rows."""
        return self._rows

    @property
    def focus(self) -> int | None:
        """The focused row index, or None."""
        return self._focus

    def select(
        self,
        rows: RowSet,
        mode: SelectionMode = SelectionMode.REPLACE,
        source: object = None,
        description: str = "",
    ) -> None:
        """Combine ``rows`` with the current selection according to ``mode``."""
        old = self._rows
        if mode is SelectionMode.REPLACE:
            new = rows
        elif mode is SelectionMode.ADD:
            new = old | rows
        elif mode is SelectionMode.INTERSECT:
            new = old & rows
        elif mode is SelectionMode.SUBTRACT:
            new = old - rows
        else:
            new = old ^ rows
        if len(new) and new.rows[-1] >= self.n_rows:
            raise IndexError(f"row {new.rows[-1]} is outside a catalogue of {self.n_rows} rows")
        if new == old:
            return
        self._rows = new
        self.description = description or self.description
        self.changed.emit(old, new, source)

    def reset(self, n_rows: int) -> None:
        """Forget rows, focus and subsets, for a new catalogue of ``n_rows`` rows.

        Emits no signal: the caller announces the new catalogue.
        """
        self.n_rows = int(n_rows)
        self._rows = RowSet()
        self._focus = None
        self.subsets.reset(n_rows)
        self.description = ""

    def clear(self, source: object = None) -> None:
        """Select nothing."""
        self.select(RowSet(), SelectionMode.REPLACE, source, "cleared")

    def set_focus(self, row: int | None, source: object = None) -> None:
        """Focus one row (or none); emits ``focus_changed`` when it changes."""
        if row is not None:
            row = int(row)
            if not 0 <= row < self.n_rows:
                raise IndexError(f"row {row} is outside a catalogue of {self.n_rows} rows")
        if row == self._focus:
            return
        self._focus = row
        self.focus_changed.emit(row, source)
