"""Encoders of irregularly sampled, multi-band light curves.

Both take a :class:`~.lightcurve_data.LightCurveBatch` (observations at their own
times, padded, with a mask) and never resample it: the transformer sees each
observation's actual time through sinusoidal encodings at periods from 0.1 d to
2000 d; the GRU sees the time steps to the previous and next observations.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .lightcurve_data import LightCurveBatch
from .lightcurve_periodogram import (
    N_STATISTICS,
    PeriodogramEncoder,
    batch_periodogram,
    log_frequencies,
    summary_statistics,
)

__all__ = ["ContinuousTimeEncoding", "LightCurveGRUNet", "LightCurveTransformerEncoder"]

#: Time steps are fed as log1p(dt / 1 d) / this (about 1 for 3 years).
_LOG_DT_SCALE = math.log1p(1000.0)


def _log_dt(time: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled ``log1p`` of the days since the previous and until the next observation,
    shapes (B, L); 0 at the first / last observation and in padding."""
    dt = torch.zeros_like(time)
    dt[:, 1:] = (time[:, 1:] - time[:, :-1]).clamp_min(0)
    prev_ok = torch.zeros_like(mask)
    prev_ok[:, 1:] = mask[:, 1:] & mask[:, :-1]
    prev = torch.where(prev_ok, torch.log1p(dt) / _LOG_DT_SCALE, torch.zeros_like(dt))
    nxt = torch.zeros_like(prev)
    nxt[:, :-1] = prev[:, 1:]
    return prev, nxt


class ContinuousTimeEncoding(nn.Module):
    """Sinusoids of the actual times at ``n_periods`` periods log-spaced over
    ``[min_period, max_period]`` days, mapped linearly to ``width``.

    ``forward(time)``: ``(B, L)`` days -> ``(B, L, width)``. Phases are computed in
    float32 whatever the autocast dtype (0.1 d periods over years need it).
    """

    def __init__(self, width: int, n_periods: int = 32, min_period: float = 0.1,
                 max_period: float = 2000.0) -> None:
        super().__init__()
        periods = torch.logspace(math.log10(min_period), math.log10(max_period), n_periods)
        self.register_buffer("omega", 2 * math.pi / periods, persistent=False)
        self.proj = nn.Linear(2 * n_periods, width)

    def forward(self, time: torch.Tensor) -> torch.Tensor:
        phase = time.float()[..., None] * self.omega
        return self.proj(torch.cat([torch.sin(phase), torch.cos(phase)], -1))


class LightCurveTransformerEncoder(nn.Module):
    """Self-attention over the observations of each light curve.

    Each observation becomes a token: a linear map of (value, error, masked flag,
    scaled log time steps to its neighbours, band level, object log scale) plus its :class:`ContinuousTimeEncoding`
    plus a learned band embedding. ``depth`` pre-norm transformer layers (``heads``
    heads, no dropout: runs are reproducible from their seed) attend over the real
    observations only. The representation is the mean of the output tokens over the
    observations, layer-normalised and mapped linearly to ``dim``.

    With ``periodogram``, the linear map also reads a :class:`PeriodogramEncoder` of
    the light curve's own :func:`batch_periodogram` (``n_freq`` frequencies, periods
    0.1 to 1000 d; visible values only) and its :func:`summary_statistics`: periods
    far shorter than the time encodings resolve over a long baseline.

    Parameters
    ----------
    n_bands : int
        Number of distinct bands (band indices ``0 .. n_bands - 1``).
    dim : int
        Size ``D`` of the representation.
    width : int
        Token size (a multiple of ``heads``).
    depth : int
        Transformer layers.
    heads : int
        Attention heads.
    periodogram : bool
        Add the periodogram branch and the summary statistics.
    n_freq : int
        Frequencies of the periodogram (a multiple of 8).
    """

    def __init__(self, n_bands: int, dim: int = 64, width: int = 64, depth: int = 2,
                 heads: int = 4, periodogram: bool = False, n_freq: int = 512) -> None:
        super().__init__()
        if min(n_bands, dim, width, depth, heads) < 1 or width % heads:
            raise ValueError("n_bands, dim, width, depth, heads must be positive and "
                             "width a multiple of heads")
        self.dim, self.width = dim, width
        self.inputs = nn.Linear(7, width)
        self.time = ContinuousTimeEncoding(width)
        self.band = nn.Embedding(n_bands, width)
        layer = nn.TransformerEncoderLayer(width, heads, 2 * width, dropout=0.0,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.layers = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.spectrum: PeriodogramEncoder | None = None
        extra = 0
        if periodogram:
            self.spectrum = PeriodogramEncoder(n_freq, width)
            self.register_buffer("freqs", log_frequencies(n_freq), persistent=False)
            extra = width + N_STATISTICS
        self.out = nn.Linear(width + extra, dim)

    def tokens(self, batch: LightCurveBatch, hidden: torch.Tensor | None = None) -> torch.Tensor:
        """Output tokens ``(B, L, width)``; ``hidden`` ``(B, L)`` bool marks values the
        encoder must not see (masked-value prediction): their value reads as 0."""
        mask = batch.mask
        value = batch.value
        flag = torch.zeros_like(value)
        if hidden is not None:
            value = value.masked_fill(hidden, 0.0)
            flag = hidden.to(value.dtype)
        prev, nxt = _log_dt(batch.time, mask)
        log_scale = batch.log_scale[:, None].expand_as(value)
        x = torch.stack([value, batch.error.clamp(max=10.0), flag, prev, nxt, batch.level,
                         log_scale], -1)
        h = self.inputs(x) + self.time(batch.time) + self.band(batch.band)
        pad = ~mask
        # An object without observations would leave a row of attention with no key.
        pad[:, 0] = False
        return self.norm(self.layers(h, src_key_padding_mask=pad))

    def pool(self, tokens: torch.Tensor, batch: LightCurveBatch,
             hidden: torch.Tensor | None = None) -> torch.Tensor:
        """Representation ``(B, dim)`` from tokens ``(B, L, width)`` of ``batch``: mean
        over the real observations (with the periodogram of those not ``hidden``, if
        the encoder has one); an object with none gets zeros."""
        mask = batch.mask
        m = mask.to(tokens.dtype)[..., None]
        count = m.sum(1)
        parts = [(tokens * m).sum(1) / count.clamp_min(1.0)]
        if self.spectrum is not None:
            visible = mask if hidden is None else mask & ~hidden
            power = batch_periodogram(batch.time, batch.value, batch.error, visible, self.freqs)
            parts += [self.spectrum(power), summary_statistics(batch, visible)]
            parts = [p.to(parts[0].dtype) if p.dtype != parts[0].dtype else p for p in parts]
        return self.out(torch.cat(parts, -1)) * (count > 0).to(tokens.dtype)

    def forward(self, batch: LightCurveBatch) -> torch.Tensor:
        """Representations ``(B, dim)`` of a batch."""
        return self.pool(self.tokens(batch), batch)


class LightCurveGRUNet(nn.Module):
    """A GRU reading the observations in time order, predicting the next one.

    Step ``i`` is fed (value, error, one-hot band, scaled log days since the
    previous observation, scaled log days until the next, one-hot band of the next,
    band level, object log scale)
    through a linear layer and GELU; the GRU's hidden state has size ``dim`` and its
    final state (after the last observation) is the representation. A small head
    predicts the next value's mean and a log extra scatter from each state.

    Parameters
    ----------
    n_bands : int
    dim : int
        Hidden size = representation size ``D``.
    width : int
        Size of the per-observation input layer.
    """

    def __init__(self, n_bands: int, dim: int = 64, width: int = 64) -> None:
        super().__init__()
        if min(n_bands, dim, width) < 1:
            raise ValueError("n_bands, dim and width must be positive")
        self.n_bands, self.dim = n_bands, dim
        self.inputs = nn.Sequential(nn.Linear(6 + 2 * n_bands, width), nn.GELU())
        self.gru = nn.GRU(width, dim, batch_first=True)
        self.head = nn.Sequential(nn.Linear(dim, width), nn.GELU(), nn.Linear(width, 2))

    def states(self, batch: LightCurveBatch) -> torch.Tensor:
        """Hidden state after each observation, ``(B, L, dim)``. Padding comes after
        the observations, so it never changes the states of real ones."""
        mask = batch.mask
        prev, nxt = _log_dt(batch.time, mask)
        band = F.one_hot(batch.band.clamp(0, self.n_bands - 1), self.n_bands).to(prev.dtype)
        next_band = torch.zeros_like(band)
        next_band[:, :-1] = band[:, 1:] * mask[:, 1:, None].to(band.dtype)
        log_scale = batch.log_scale[:, None].expand_as(prev)
        x = torch.cat([batch.value[..., None], batch.error.clamp(max=10.0)[..., None], band,
                       prev[..., None], nxt[..., None], next_band, batch.level[..., None],
                       log_scale[..., None]], -1)
        x = x * mask[..., None].to(x.dtype)
        h = self.inputs(x)
        # The recurrence runs in float32 even under autocast: errors compound over
        # hundreds of steps in bf16/fp16, and cuDNN's GRU is cheap at this size anyway.
        with torch.autocast(h.device.type, enabled=False):
            out, _ = self.gru(h.float())
        return out

    def predict_next(self, states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Predicted mean and log extra scatter of the next value, each ``(B, L)``."""
        mu, log_sigma = self.head(states).unbind(-1)
        return mu, log_sigma

    def forward(self, batch: LightCurveBatch) -> torch.Tensor:
        """Final hidden states ``(B, dim)``; zeros for an object without observations."""
        states = self.states(batch)
        lengths = batch.mask.sum(1)
        last = (lengths - 1).clamp_min(0)
        final = states[torch.arange(states.shape[0], device=states.device), last]
        return final * (lengths > 0).to(final.dtype)[:, None]
