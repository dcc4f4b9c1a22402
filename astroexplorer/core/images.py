"""Image cutouts attached to catalogue rows, read lazily."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["ImageSource", "ArrayImageSource"]


class ImageSource:
    """Cutouts, one per catalogue row, returned as ``(C, H, W)`` float32.

    Subclasses implement :meth:`__len__`, :attr:`shape` and :meth:`get_many`.
    """

    #: Band names, one per channel, in channel order.
    bands: tuple[str, ...] = ()
    #: Human-readable origin (file path and HDU or dataset) for ``info``.
    origin: str = ""

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def shape(self) -> tuple[int, int, int]:  # pragma: no cover - abstract
        """Shape ``(C, H, W)`` of one cutout."""
        raise NotImplementedError

    def get_many(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:  # pragma: no cover
        """Cutouts of several rows, shape ``(n, C, H, W)`` float32, in the order given."""
        raise NotImplementedError

    def checked_rows(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """``rows`` as a flat int64 array; ``IndexError`` if any is outside 0..N-1."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if rows.size and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"cutout row out of range 0..{len(self) - 1}")
        return rows

    def wcs(self, row: int):
        """The celestial WCS (``astropy.wcs.WCS``) of row ``row``'s cutout, pixel
        (0, 0) at the cutout's first array element, or None if unknown."""
        return None

    def get(self, row: int) -> np.ndarray:
        """The cutout of one row, shape ``(C, H, W)`` float32."""
        return self.get_many([row])[0]

    def iter_batches(self, batch_size: int, rows: np.ndarray | None = None):
        """Yield ``(rows, cutouts)`` in batches; cutouts ``(b, C, H, W)`` float32."""
        rows = np.arange(len(self)) if rows is None else np.asarray(rows)
        for start in range(0, rows.size, batch_size):
            chunk = rows[start : start + batch_size]
            yield chunk, self.get_many(chunk)


class ArrayImageSource(ImageSource):
    """Cutouts held in an array (often a read-only memory map of a FITS or .npy cube).

    Parameters
    ----------
    data : ndarray
        Shape ``(N, C, H, W)`` or ``(N, H, W)`` (one band). Never copied whole:
        rows are read on demand, so a memory map stays on disk.
    bands : sequence of str, optional
        Band names; defaults to ``band0``, ``band1``, ...
    origin : str
        Where the cube comes from, for messages.
    """

    def __init__(self, data: np.ndarray, bands: Sequence[str] | None = None, origin: str = "") -> None:
        if data.ndim == 3:
            data = data[:, None, :, :]
        if data.ndim != 4:
            raise ValueError(
                f"a cutout cube must have shape (N, C, H, W) or (N, H, W), not {data.shape}"
            )
        self._data = data
        n_bands = data.shape[1]
        self.bands = tuple(bands) if bands is not None else tuple(f"band{i}" for i in range(n_bands))
        if len(self.bands) != n_bands:
            raise ValueError(f"{len(self.bands)} band names given for {n_bands} channels")
        self.origin = origin

    def __len__(self) -> int:
        return int(self._data.shape[0])

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self._data.shape[1:])  # type: ignore[return-value]

    def get_many(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        rows = self.checked_rows(rows)
        # Sorted fancy indexing reads a memory map sequentially; restore order after.
        order = np.argsort(rows, kind="stable")
        out = np.empty((rows.size, *self.shape), dtype=np.float32)
        out[order] = self._data[rows[order]]
        return out
