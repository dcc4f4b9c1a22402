"""Immutable sets of catalogue row indices with set algebra."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

__all__ = ["RowSet"]


class RowSet:
    """An immutable, sorted set of row indices into one catalogue.

    Parameters
    ----------
    rows : iterable of int or array-like
        Row indices (0-based positions in the catalogue's table). Duplicates are
        removed and the result is sorted.

    Notes
    -----
    Set operators ``|``, ``&``, ``-`` and ``^`` combine two RowSets; ``~`` needs the
    catalogue length and is provided as :meth:`complement`.
    """

    __slots__ = ("_rows",)

    def __init__(self, rows: Iterable[int] | np.ndarray = ()) -> None:
        arr = np.asarray(rows if not isinstance(rows, RowSet) else rows.rows)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            if arr.dtype == bool:
                arr = np.flatnonzero(arr)
            else:
                raise TypeError(f"row indices must be integers, not {arr.dtype}")
        arr = arr.astype(np.int64, copy=False).ravel()
        if arr.size > 1 and not bool(np.all(arr[1:] > arr[:-1])):
            # Sort and drop repeats: np.unique (hash-based in numpy 2) is ~10x slower.
            arr = np.sort(arr)
            arr = arr[np.concatenate(([True], arr[1:] != arr[:-1]))]
        else:
            # Already sorted and unique (a mask's positions, a filtered sorted array):
            # one O(n) check. A copy, so the caller's array cannot change the set.
            arr = arr.copy()
        arr.setflags(write=False)
        self._rows = arr

    @classmethod
    def from_mask(cls, mask: np.ndarray) -> RowSet:
        """RowSet of the positions where a boolean mask of shape (N,) is true."""
        return cls(np.flatnonzero(np.asarray(mask, dtype=bool)))

    @property
    def rows(self) -> np.ndarray:
        """Sorted unique row indices, shape (n,), int64, read-only."""
        return self._rows

    def to_mask(self, n: int) -> np.ndarray:
        """Boolean mask of shape (n,), true at the rows in this set."""
        mask = np.zeros(n, dtype=bool)
        mask[self._rows[self._rows < n]] = True
        return mask

    def complement(self, n: int) -> RowSet:
        """All rows of a catalogue of length ``n`` not in this set."""
        return RowSet.from_mask(~self.to_mask(n))

    def __len__(self) -> int:
        return int(self._rows.size)

    def __bool__(self) -> bool:
        return bool(self._rows.size)

    def __iter__(self) -> Iterator[int]:
        return (int(r) for r in self._rows)

    def __contains__(self, row: object) -> bool:
        if not isinstance(row, (int, np.integer)):
            return False
        i = np.searchsorted(self._rows, row)
        return bool(i < self._rows.size and self._rows[i] == row)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RowSet) and np.array_equal(self._rows, other._rows)

    def __hash__(self) -> int:
        return hash(self._rows.tobytes())

    def __or__(self, other: RowSet) -> RowSet:
        return RowSet(np.concatenate((self._rows, other._rows)))  # sorted, deduplicated

    def __and__(self, other: RowSet) -> RowSet:
        return RowSet(np.intersect1d(self._rows, other._rows, assume_unique=True))

    def __sub__(self, other: RowSet) -> RowSet:
        return RowSet(np.setdiff1d(self._rows, other._rows, assume_unique=True))

    def __xor__(self, other: RowSet) -> RowSet:
        return RowSet(np.setxor1d(self._rows, other._rows, assume_unique=True))

    def __repr__(self) -> str:
        head = ", ".join(str(r) for r in self._rows[:6])
        more = ", ..." if self._rows.size > 6 else ""
        return f"RowSet([{head}{more}], n={self._rows.size})"
