"""The current selection, named subsets and the focused row of a catalogue."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

from .events import Signal
from .rowset import RowSet
from .subsets import SubsetCollection

__all__ = ["Selection", "SelectionMode", "HISTORY_LENGTH", "HISTORY_MAX_ROWS"]

#: Steps of selection / subset history kept for undo.
HISTORY_LENGTH = 100
#: Most selected rows the history keeps in all (8 bytes each: 160 MB); beyond, the
#: oldest steps are forgotten, so that undoing big selections of a 1M-row catalogue
#: cannot hold gigabytes.
HISTORY_MAX_ROWS = 20_000_000


class SelectionMode(Enum):
    """How a new set of rows combines with the current selection."""

    REPLACE = "replace"
    ADD = "add"
    INTERSECT = "intersect"
    SUBTRACT = "subtract"
    XOR = "xor"


@dataclass(frozen=True)
class _State:
    """What undo restores: selected rows, their description and the subsets."""

    rows: RowSet
    description: str
    subsets: tuple


@dataclass(frozen=True)
class _Step:
    label: str
    before: _State
    after: _State


class Selection:
    """Selection state shared by every linked view, with undo / redo.

    Every change of the selected rows (:meth:`select`, :meth:`clear`) and of the
    subsets (any change announced by ``subsets.changed``) is one step of a history
    of at most :data:`HISTORY_LENGTH` steps (and :data:`HISTORY_MAX_ROWS` selected
    rows in all); :meth:`undo` and :meth:`redo` walk it.
    Several changes made inside :meth:`history_group` are one step. Focus changes
    are not recorded.

    Signals
    -------
    changed(old: RowSet, new: RowSet, source: object)
        The selected rows changed; ``source`` is whoever made the change, so a
        view can ignore its own changes (``"undo"`` / ``"redo"`` for those).
    focus_changed(row: int | None, source: object)
        The focused (clicked / hovered) row changed.
    history_changed(can_undo: bool, can_redo: bool)
        A step was recorded, undone or redone, or the history was cleared (so
        :meth:`undo_label` / :meth:`redo_label` may have changed too).
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
        self.history_changed = Signal()
        self._undo: deque[_Step] = deque(maxlen=HISTORY_LENGTH)
        self._redo: list[_Step] = []
        self._subsets_state = self.subsets.snapshot()
        self._restoring = False
        self._group: tuple[str, _State] | None = None
        self._group_depth = 0
        self.subsets.changed.connect(self._on_subsets_changed)

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
        before = self._state()
        self._rows = new
        self.description = description or self.description
        self._record(_selection_label(mode, description), before)
        self.changed.emit(old, new, source)

    def reset(self, n_rows: int) -> None:
        """Forget rows, focus, subsets and history, for a new catalogue of ``n_rows`` rows.

        Emits no ``changed`` signal (the caller announces the new catalogue);
        ``history_changed`` is emitted if something could be undone or redone.
        """
        self.n_rows = int(n_rows)
        self._rows = RowSet()
        self._focus = None
        self.subsets.reset(n_rows)
        self._subsets_state = self.subsets.snapshot()
        self.description = ""
        had_history = self.can_undo or self.can_redo
        self._undo.clear()
        self._redo.clear()
        self._group, self._group_depth = None, 0
        if had_history:
            self.history_changed.emit(False, False)

    # -- undo / redo -------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        """Whether :meth:`undo` would change something."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """Whether :meth:`redo` would change something."""
        return bool(self._redo)

    def undo_label(self) -> str:
        """What :meth:`undo` would undo (e.g. "lasso selection"), or ""."""
        return self._undo[-1].label if self._undo else ""

    def redo_label(self) -> str:
        """What :meth:`redo` would redo, or ""."""
        return self._redo[-1].label if self._redo else ""

    def undo(self) -> bool:
        """Return to the state before the last recorded step; False if there is none.

        Emits ``changed(old, new, "undo")`` when the selected rows change and
        ``subsets.changed(None)`` when the subsets do.
        """
        if not self._undo or self._group is not None:
            return False
        step = self._undo.pop()
        self._redo.append(step)
        self._apply(step.before, "undo")
        return True

    def redo(self) -> bool:
        """Make again the last undone step; False if there is none.

        Emits ``changed(old, new, "redo")`` / ``subsets.changed(None)`` as :meth:`undo`.
        """
        if not self._redo or self._group is not None:
            return False
        step = self._redo.pop()
        self._undo.append(step)
        self._apply(step.after, "redo")
        return True

    @contextmanager
    def history_group(self, label: str) -> Iterator[None]:
        """Record every change made inside the ``with`` block as one step named
        ``label`` (e.g. replacing all the cluster subsets). Groups may nest: the
        outermost one names the step."""
        if self._group_depth == 0:
            self._group = (label, self._state())
        self._group_depth += 1
        try:
            yield
        finally:
            self._group_depth -= 1
            if self._group_depth == 0:
                label, before = self._group
                self._group = None
                self._record(label, before)

    def _state(self) -> _State:
        return _State(self._rows, self.description, self._subsets_state)

    def _record(self, label: str, before: _State) -> None:
        if self._group is not None:
            return  # recorded as one step when the group ends
        after = self._state()
        if after.rows == before.rows and after.subsets == before.subsets:
            return
        self._undo.append(_Step(label, before, after))
        self._redo.clear()
        held = sum(len(step.after.rows) for step in self._undo)
        while len(self._undo) > 1 and held > HISTORY_MAX_ROWS:
            held -= len(self._undo.popleft().after.rows)
        self.history_changed.emit(self.can_undo, self.can_redo)

    def _apply(self, state: _State, source: str) -> None:
        old = self._rows
        self._rows = state.rows
        self.description = state.description
        if state.subsets != self._subsets_state:
            self._restoring = True
            try:
                self.subsets.restore(state.subsets)
            finally:
                self._restoring = False
            self._subsets_state = state.subsets
        self.history_changed.emit(self.can_undo, self.can_redo)
        if old != state.rows:
            self.changed.emit(old, state.rows, source)

    def _on_subsets_changed(self, name: str | None) -> None:
        if self._restoring:
            return
        before = self._state()
        self._subsets_state = self.subsets.snapshot()
        self._record(_subset_label(before.subsets, self._subsets_state, name), before)

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


def _selection_label(mode: SelectionMode, description: str) -> str:
    if description:
        return f"selection ({description})" if len(description) <= 40 else "selection"
    return "selection" if mode is SelectionMode.REPLACE else f"selection ({mode.value})"


def _subset_label(before: tuple, after: tuple, name: str | None) -> str:
    """A few words on how two subset snapshots differ (for the Edit menu)."""
    old = {s.name: s for s in before[0]}
    new = {s.name: s for s in after[0]}
    if name is not None and name in old and name not in new:
        return f"delete subset {name!r}"
    if name is not None and name in new and name not in old:
        return f"new subset {name!r}"
    if name is not None and name in new:
        a, b = old[name], new[name]
        if a.colour != b.colour:
            return f"colour of subset {name!r}"
        if a.visible != b.visible:
            return f"{'show' if b.visible else 'hide'} subset {name!r}"
        return f"change subset {name!r}"
    gone, added = set(old) - set(new), set(new) - set(old)
    if len(gone) == 1 and len(added) == 1:
        return f"rename subset {gone.pop()!r}"
    return "subsets"
