from __future__ import annotations

import numpy as np
import pytest
import torch

from astroexplorer.ml.lightcurve_data import LightCurveBatch
from astroexplorer.ml.lightcurve_encoders import LightCurveTransformerEncoder
from astroexplorer.ml.lightcurve_periodogram import (
    PeriodogramEncoder,
    batch_periodogram,
    log_frequencies,
    summary_statistics,
)

FREQS = log_frequencies(512)


def _sinusoids(periods, n=150, span=730.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, span, (len(periods), n)), 1)
    y = np.sin(2 * np.pi * t / np.asarray(periods)[:, None]) + rng.normal(0, 0.1, t.shape)
    return (torch.tensor(t, dtype=torch.float32), torch.tensor(y, dtype=torch.float32),
            torch.full(t.shape, 0.1), torch.ones(t.shape, dtype=torch.bool))


def test_peaks_at_the_period_from_hours_to_years():
    periods = [0.31, 0.613, 3.7, 41.0, 250.0]
    t, y, e, m = _sinusoids(periods)
    power = batch_periodogram(t, y, e, m, FREQS)
    assert power.shape == (5, 512) and power.dtype == torch.float32
    assert (power >= 0).all() and (power <= 1).all()
    found = 1 / FREQS[power.argmax(1)].numpy()
    # One log bin is 1.8% wide; the longest period has a few cycles only.
    assert (np.abs(found / periods - 1) < [0.02, 0.02, 0.02, 0.02, 0.06]).all(), found
    assert (power.amax(1) > 0.3).all() and (power.median(1).values < 0.05).all()


def test_independent_of_the_batch_of_padding_and_of_a_time_shift():
    t, y, e, m = _sinusoids([0.45, 7.0, 120.0])
    whole = batch_periodogram(t, y, e, m, FREQS)
    alone = batch_periodogram(t[1:2], y[1:2], e[1:2], m[1:2], FREQS)
    torch.testing.assert_close(alone[0], whole[1])
    shifted = batch_periodogram(t + 57.3, y, e, m, FREQS)
    torch.testing.assert_close(shifted, whole, atol=2e-3, rtol=0.02)
    # Padding: the last 50 points of object 0 masked, their values garbage.
    m2, y2 = m.clone(), y.clone()
    m2[0, 100:] = False
    y2[0, 100:] = 1e6
    part = batch_periodogram(t, y2, e, m2, FREQS)
    ref = batch_periodogram(t[:1, :100], y[:1, :100], e[:1, :100], m[:1, :100], FREQS)
    torch.testing.assert_close(part[0], ref[0], atol=1e-5, rtol=1e-4)
    one = m.clone()
    one[2, 1:] = False
    assert not batch_periodogram(t, y, e, one, FREQS)[2].any()  # fewer than 2 points


def _batch(t, y, e, m) -> LightCurveBatch:
    b, n = t.shape
    return LightCurveBatch(t, y, e, torch.zeros(b, n, dtype=torch.long), m, torch.zeros(b, n),
                           torch.full((b,), -0.5))


def test_summary_statistics():
    t, y, e, m = _sinusoids([1.0, 2.0], n=99, span=300.0)
    m[1, 9:] = False
    stats = summary_statistics(_batch(t, y, e, m))
    assert stats.shape == (2, 8)
    np.testing.assert_allclose(stats[:, 0], -0.5)
    np.testing.assert_allclose(stats[:, 1], np.log10([100, 10]) / 3, rtol=1e-6)
    assert stats[0, 2] > stats[1, 2]  # the longer span
    np.testing.assert_allclose(stats[:, 3], -1.0, atol=1e-6)  # median error 0.1
    assert stats[0, 4] < -0.15 and stats[0, 5] > 0.15  # a sinusoid: about -+0.95
    assert (stats[:, 6].abs() < 0.1).all() and (stats[:, 7] == 0).all()
    dip = y.clone()
    dip[:, ::10] -= 6.0  # an eclipse every tenth point
    stats = summary_statistics(_batch(t, dip, e, m))
    assert (stats[:, 6] < -0.2).all() and (stats[:, 7] > 0.05).all()
    visible = m.clone()
    visible[:, ::10] = False  # hidden values do not count
    stats = summary_statistics(_batch(t, dip, e, m), visible)
    assert (stats[:, 7] == 0).all() and stats[0, 1] < np.log10(100) / 3


def test_encoder_uses_the_periodogram_of_visible_values_only():
    torch.manual_seed(0)
    t, y, e, m = _sinusoids([0.5, 3.0, 30.0, 300.0], n=60)
    batch = _batch(t, y, e, m)
    enc = LightCurveTransformerEncoder(1, dim=8, width=16, depth=1, heads=2, periodogram=True,
                                       n_freq=64).eval()
    plain = LightCurveTransformerEncoder(1, dim=8, width=16, depth=1, heads=2).eval()
    assert enc.out.in_features == 16 + 16 + 8 and plain.out.in_features == 16
    hidden = torch.zeros_like(m)
    hidden[:, ::3] = True
    changed = _batch(t, torch.where(hidden, y + 5.0, y), e, m)
    with torch.no_grad():
        z = enc.pool(enc.tokens(batch, hidden), batch, hidden)
        z2 = enc.pool(enc.tokens(changed, hidden), changed, hidden)
        torch.testing.assert_close(z, z2)
        assert not torch.allclose(enc(batch), enc(changed))
    assert z.shape == (4, 8)


def test_periodogram_encoder_shapes_and_errors():
    out = PeriodogramEncoder(64, 12)(torch.rand(3, 64))
    assert out.shape == (3, 12)
    with pytest.raises(ValueError):
        PeriodogramEncoder(60, 12)
