"""Reading cutouts into normalised, batched tensors for the encoders."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F

from ..analysis.preprocess import SOFTENING
from ..core.images import ImageSource

__all__ = ["ImageBatches", "normalise_batch", "resize_batch"]


def resize_batch(x: torch.Tensor, size: int | None) -> torch.Tensor:
    """Resample a batch ``(b, C, H, W)`` to ``(b, C, size, size)`` (no-op for None or same size).

    Shrinking averages pixels (area), enlarging interpolates bilinearly; both keep
    surface brightness, so normalised values stay comparable across cutout sizes.
    """
    if size is None or tuple(x.shape[-2:]) == (size, size):
        return x
    h, w = x.shape[-2:]
    mode = "area" if size <= min(h, w) else "bilinear"
    kwargs = {} if mode == "area" else {"align_corners": False}
    return F.interpolate(x, size=(size, size), mode=mode, **kwargs)


def normalise_batch(x: torch.Tensor, scales: torch.Tensor, softening: float = SOFTENING
                    ) -> torch.Tensor:
    """:func:`~astroexplorer.analysis.preprocess.normalise_cutouts` on a tensor, on its device.

    ``arcsinh(x / (softening * scale_band))`` for ``x`` of shape ``(b, C, H, W)`` and
    ``scales`` of shape ``(C,)``; NaN and infinities become 0.
    """
    out = torch.asinh(x / (softening * scales.to(x.device, x.dtype))[None, :, None, None])
    return torch.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


class ImageBatches:
    """Batches of cutouts ready for an encoder on ``device``: read, moved, normalised, resized.

    Only raw float32 pixels cross to the device (from pinned memory, asynchronously
    on CUDA); the arcsinh normalisation and the resampling run there, so the host
    only copies. On a GPU, ``workers`` threads read the next batches from the
    source (a memory map or files: numpy copies and file reads release the GIL)
    while the device computes; on CPU reading happens in line (threads would only
    compete with torch's).

    Parameters
    ----------
    images : ImageSource
    scales : ndarray, shape (C,)
        Band scales of :func:`~astroexplorer.analysis.preprocess.fit_band_scales`.
    device : torch.device
    input_size : int, optional
        Side the cutouts are resampled to (None: as stored).
    memory_format : torch.memory_format
    workers : int, optional
        Reader threads; default 0 on CPU, 3 on an accelerator.
    """

    def __init__(self, images: ImageSource, scales: np.ndarray, device: torch.device,
                 input_size: int | None = None,
                 memory_format: torch.memory_format = torch.contiguous_format,
                 workers: int | None = None) -> None:
        self.images = images
        self.device = device
        self.scales = torch.as_tensor(np.asarray(scales, dtype=np.float32)).to(device)
        self.input_size = input_size
        self.memory_format = memory_format
        self.workers = (0 if device.type == "cpu" else 3) if workers is None else int(workers)
        self.pin = device.type == "cuda"

    def _read(self, rows: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(self.images.get_many(rows))
        return x.pin_memory() if self.pin else x

    def prepare(self, raw: torch.Tensor) -> torch.Tensor:
        """Raw host pixels ``(b, C, H, W)`` -> normalised, resized batch on the device."""
        x = raw.to(self.device, non_blocking=True)
        x = resize_batch(normalise_batch(x, self.scales), self.input_size)
        return x.contiguous(memory_format=self.memory_format)

    def __call__(self, chunks: Sequence[np.ndarray]) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
        """Yield ``(rows, batch)`` per chunk of rows, in order."""
        if self.workers <= 0:
            for rows in chunks:
                yield rows, self.prepare(self._read(rows))
            return
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="cutout-read")
        try:
            pending = [pool.submit(self._read, rows) for rows in chunks[:self.workers]]
            for i, rows in enumerate(chunks):
                raw = pending.pop(0).result()
                if i + self.workers < len(chunks):
                    pending.append(pool.submit(self._read, chunks[i + self.workers]))
                yield rows, self.prepare(raw)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
