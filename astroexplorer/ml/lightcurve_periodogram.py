"""Periodograms of padded light-curve batches, on the device, and their encoder.

A transformer with fixed sinusoidal time encodings cannot resolve periods under a
day over a baseline of years (a peak is ``1 / span`` wide in frequency: ~0.0014 / d
for two years). :func:`batch_periodogram` gives the network what Lomb-Scargle gives
the classical features: the power of each light curve at every frequency from
``1 / max_period`` to ``1 / min_period``, resolved at half a peak width, then
max-pooled onto a fixed log grid of ``n_freq`` frequencies so that a narrow peak
survives. It runs batched on the batch's own irregular times (so each augmented
view gets its own), as a non-uniform Fourier transform: the weighted values are
spread linearly onto a regular time grid, one real FFT per batch, and the
spreading's attenuation is divided out.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .lightcurve_data import LightCurveBatch

__all__ = ["PeriodogramEncoder", "batch_periodogram", "log_frequencies", "summary_statistics"]

#: Error floor (normalised units) of the periodogram's weights, so one point with a
#: tiny error cannot dominate.
_ERROR_FLOOR = 0.05
#: Grid points per cycle at the highest frequency (linear spreading attenuates it
#: by ``sinc**2(1 / _POINTS_PER_CYCLE)``, then corrected), and the largest FFT.
_POINTS_PER_CYCLE = 4
_MAX_GRID = 2 ** 18
#: Number of per-object statistics of :func:`summary_statistics`.
N_STATISTICS = 8


def log_frequencies(n_freq: int, min_period: float = 0.1, max_period: float = 1000.0
                    ) -> torch.Tensor:
    """``n_freq`` frequencies (1/d), shape ``(n_freq,)`` float32, log-spaced from
    ``1 / max_period`` to ``1 / min_period``."""
    return torch.logspace(-math.log10(max_period), -math.log10(min_period), n_freq)


def _edges(freqs: torch.Tensor) -> torch.Tensor:
    """Geometric midpoints ``(F - 1,)`` between consecutive frequencies ``(F,)``."""
    return torch.sqrt(freqs[1:] * freqs[:-1])


def batch_periodogram(time: torch.Tensor, value: torch.Tensor, error: torch.Tensor,
                      mask: torch.Tensor, freqs: torch.Tensor, oversample: float = 2.0
                      ) -> torch.Tensor:
    """Normalised power of each light curve at ``freqs``, max-pooled from a fine grid.

    The power is the weighted Schuster periodogram of the values about their
    weighted mean, ``|sum_i w_i y_i exp(-2 pi i f t_i)|**2 / sum_i w_i y_i**2`` with
    ``w_i`` proportional to ``1 / max(error_i, 0.05)**2`` summing to 1: in [0, 1],
    1 for a noiseless sinusoid sampled densely. It is evaluated on a regular grid
    of step ``1 / (oversample * T)`` (``T``: the object's time span), and
    each output frequency gets the largest power of the fine frequencies nearest it
    (the fine frequency nearest it where the log grid is finer than the fine grid).

    Parameters
    ----------
    time, value, error : Tensor, shape (B, L)
        Days (any origin per object), normalised values and their errors.
    mask : Tensor, shape (B, L), bool
        True for an observation. An object with fewer than two gets zeros.
    freqs : Tensor, shape (F,)
        Increasing output frequencies, 1/d (e.g. :func:`log_frequencies`).
    oversample : float
        Fine-grid points per peak width ``1 / T``.

    Returns
    -------
    Tensor, shape (B, F), float32, on the batch's device.
    """
    with torch.autocast(time.device.type, enabled=False):
        m = mask.float()
        t = time.float()
        b = t.shape[0]
        t0 = torch.where(mask, t, torch.full_like(t, math.inf)).amin(1, keepdim=True)
        t = (t - torch.where(torch.isfinite(t0), t0, torch.zeros_like(t0))) * m
        span = t.amax(1, keepdim=True).clamp_min(1.0)
        freqs = freqs.to(t.device, torch.float32)
        f = freqs.numel()
        # Each object's grid covers oversample x its own span (fine step 1 / that),
        # in n points: n depends on the batch only through a power of two, so an
        # object's periodogram does not depend on the others in its batch.
        longest = oversample * float(span.amax())
        n = 1 << max(int(math.ceil(math.log2(_POINTS_PER_CYCLE * float(freqs[-1]) * longest))), 4)
        n = min(n, _MAX_GRID)
        total = oversample * span  # (B, 1) days
        w = m / error.float().clamp_min(_ERROR_FLOOR) ** 2
        w = w / w.sum(1, keepdim=True).clamp_min(1e-12)
        y = value.float()
        y = (y - (w * y).sum(1, keepdim=True)) * m
        var = (w * y * y).sum(1, keepdim=True)
        pos = t * (n / total)
        i0 = pos.floor().clamp(0, n - 1)
        frac = pos - i0
        i0 = i0.long()
        wy = w * y
        grid = torch.zeros(b, n + 1, device=t.device)
        grid.scatter_add_(1, i0, wy * (1 - frac))
        grid.scatter_add_(1, i0 + 1, wy * frac)
        grid[:, 0] += grid[:, n]  # the transform is periodic over the grid
        spectrum = torch.fft.rfft(grid[:, :n])
        lo, hi = 2 * freqs[0] - _edges(freqs)[0], 2 * freqs[-1] - _edges(freqs)[-1]
        # Nothing above the highest output frequency is kept: half the transform.
        spectrum = spectrum[:, :min(int(math.ceil(float(hi) * longest)) + 2, spectrum.shape[1])]
        k = torch.arange(spectrum.shape[1], device=t.device, dtype=torch.float32)
        # Linear spreading is a convolution with a triangle: divide out its transform
        # (sinc**2 in amplitude at frequency k / total, i.e. k / n cycles per step).
        deapod = torch.sinc(k / n) ** 4
        power = (spectrum.real ** 2 + spectrum.imag ** 2) / deapod
        power = (power / var.clamp_min(1e-12) * (var > 1e-12)).clamp(0.0, 1.0)
        fine = k / total  # (B, K) frequencies, 1/d
        bins = torch.bucketize(fine, _edges(freqs))
        bins = torch.where((fine < lo) | (fine > hi), torch.full_like(bins, f), bins)
        pooled = torch.zeros(b, f + 1, device=t.device)
        pooled.scatter_reduce_(1, bins, power, "amax")
        counts = torch.zeros(b, f + 1, device=t.device).scatter_add_(
            1, bins, torch.ones_like(power))[:, :f]
        nearest = (freqs[None, :] * total).round().long().clamp(0, power.shape[1] - 1)
        out = torch.where(counts > 0, pooled[:, :f], power.gather(1, nearest))
        return out * (m.sum(1, keepdim=True) >= 2)


def summary_statistics(batch: LightCurveBatch, mask: torch.Tensor | None = None
                       ) -> torch.Tensor:
    """Per-object facts the tokens do not carry directly, ``(B, 8)`` float32, over the
    observations of ``mask`` (``(B, L)`` bool; default ``batch.mask``).

    Object log10 scale, ``log10(1 + points) / 3``, ``log10(1 + span / 1 d) / 3``, the
    log10 of the median error relative to the scale (noise against variability),
    then of the normalised values: 5th and 95th percentiles, skewness (clipped to
    +-10, over 5) and the fraction beyond 3 (the eclipses of detached binaries:
    rare faint points a mean over tokens dilutes).
    """
    m = batch.mask if mask is None else mask
    count = m.sum(1).float()
    t = batch.time.float()
    first = torch.where(m, t, torch.full_like(t, math.inf)).amin(1)
    last = torch.where(m, t, torch.full_like(t, -math.inf)).amax(1)
    span = torch.where(count > 0, last - first, torch.zeros_like(last))
    err = torch.where(m, batch.error.float(), torch.full_like(t, math.nan))
    med = torch.nanmedian(err, 1).values
    med = torch.where(torch.isfinite(med), med, torch.ones_like(med))
    v = torch.where(m, batch.value.float(), torch.full_like(t, math.nan))
    q = torch.nanquantile(v, torch.tensor([0.05, 0.95], device=v.device), dim=1)
    q = torch.where(torch.isfinite(q), q, torch.zeros_like(q)).clamp(-20, 20) / 5
    n = count.clamp_min(1.0)
    x = batch.value.float() * m
    mean = x.sum(1) / n
    d = (x - mean[:, None]) * m
    var = (d * d).sum(1) / n
    skew = ((d ** 3).sum(1) / n / var.clamp_min(1e-6) ** 1.5).clamp(-10, 10) / 5
    beyond = ((x.abs() > 3) & m).sum(1) / n
    return torch.stack([batch.log_scale.float(), torch.log10(1 + count) / 3,
                        torch.log10(1 + span) / 3, torch.log10(med.clamp_min(1e-3)), q[0], q[1],
                        skew, beyond], -1)


class PeriodogramEncoder(nn.Module):
    """A periodogram ``(B, F)`` to a vector ``(B, width)``: its power and its power
    over its maximum as two channels, three strided 1-d convolutions (GELU) that
    keep where the peaks are, flattened, then a linear layer and GELU.

    Parameters
    ----------
    n_freq : int
        ``F``, a multiple of 8 (at least 8).
    width : int
        Output size.
    channels : int
        Channels of the convolutions.
    """

    def __init__(self, n_freq: int, width: int, channels: int = 16) -> None:
        super().__init__()
        if n_freq < 8 or n_freq % 8 or min(width, channels) < 1:
            raise ValueError("n_freq must be a positive multiple of 8; width and channels positive")
        c = channels
        self.convs = nn.Sequential(
            nn.Conv1d(2, c, 9, stride=2, padding=4), nn.GELU(),
            nn.Conv1d(c, 2 * c, 9, stride=2, padding=4), nn.GELU(),
            nn.Conv1d(2 * c, 2 * c, 9, stride=2, padding=4), nn.GELU())
        self.out = nn.Sequential(nn.Linear(2 * c * (n_freq // 8), width), nn.GELU())

    def forward(self, power: torch.Tensor) -> torch.Tensor:
        peak = power.amax(1, keepdim=True).clamp_min(1e-6)
        x = torch.stack([power, power / peak], 1)
        return self.out(torch.flatten(self.convs(x), 1))
