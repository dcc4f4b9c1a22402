"""Contrastive losses."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["nt_xent_loss"]


def nt_xent_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.2) -> torch.Tensor:
    """SimCLR's normalised-temperature cross-entropy (NT-Xent), symmetric in the views.

    Row ``i`` of ``z1`` and row ``i`` of ``z2`` are two views of the same object (the
    positive pair); every other of the ``2N`` rows is a negative, so each anchor has
    ``2N - 2`` negatives. The loss is averaged over all ``2N`` anchors, so
    ``nt_xent_loss(z1, z2) == nt_xent_loss(z2, z1)``.

    Parameters
    ----------
    z1, z2 : Tensor, shape (N, D)
        Projections of the two views, N >= 2; normalised here (cosine similarity).
        Computed in float32 whatever their dtype (safe under autocast).
    temperature : float
        Softmax temperature (> 0); lower values weight hard negatives more.

    Returns
    -------
    Tensor, shape ()
        The mean loss; ``log(2N - 1)`` for uninformative projections.
    """
    if z1.shape != z2.shape or z1.ndim != 2:
        raise ValueError(
            f"z1 and z2 must both have shape (N, D); got {tuple(z1.shape)} and {tuple(z2.shape)}"
        )
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    n = z1.shape[0]
    if n < 2:
        raise ValueError("NT-Xent needs at least 2 pairs (one positive and some negatives per anchor)")
    z = F.normalize(torch.cat([z1, z2], 0).float(), dim=1)
    logits = (z @ z.T) / temperature
    # An anchor is never its own negative.
    logits.fill_diagonal_(float("-inf"))
    idx = torch.arange(n, device=z.device)
    targets = torch.cat([idx + n, idx])
    return F.cross_entropy(logits, targets)
