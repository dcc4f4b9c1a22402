"""Reading cutouts into normalised, batched tensors for the encoders."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F

from ..analysis.preprocess import normalise_cutouts
from ..core.images import ImageSource

__all__ = ["read_image_batches", "resize_batch"]


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


def read_image_batches(
    images: ImageSource, chunks: Sequence[np.ndarray], scales: np.ndarray, pin: bool,
    prefetch: bool, input_size: int | None = None,
) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
    """Yield ``(rows, normalised cutouts (b, C, S, S) float32 tensor)`` per chunk of rows.

    Normalised with :func:`normalise_cutouts` (arcsinh per band) and resampled to
    ``input_size`` when given. With ``prefetch`` the next chunk is read in a thread
    while the device computes (numpy and file reads release the GIL); on CPU it
    would only compete with torch's own threads.
    """
    def load(rows: np.ndarray) -> torch.Tensor:
        x = resize_batch(torch.from_numpy(normalise_cutouts(images.get_many(rows), scales)),
                         input_size)
        return x.pin_memory() if pin else x

    if not prefetch:
        for rows in chunks:
            yield rows, load(rows)
        return
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cutout-read")
    try:
        pending = pool.submit(load, chunks[0]) if chunks else None
        for i, rows in enumerate(chunks):
            x = pending.result()
            pending = pool.submit(load, chunks[i + 1]) if i + 1 < len(chunks) else None
            yield rows, x
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
