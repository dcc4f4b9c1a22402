import math

import pytest
import torch

from astroexplorer.ml.losses import nt_xent_loss


def _pair(n: int = 16, d: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)


def test_symmetric_in_its_arguments():
    z1, z2 = _pair()
    assert torch.allclose(nt_xent_loss(z1, z2), nt_xent_loss(z2, z1), atol=1e-6)


def test_identical_views_score_lower_than_random_pairs():
    z1, z2 = _pair()
    same = nt_xent_loss(z1, z1.clone())
    random = nt_xent_loss(z1, z2)
    assert torch.isfinite(same) and torch.isfinite(random)
    assert same < random - 0.5


def test_uninformative_projections_give_log_2n_minus_1():
    n = 10
    z = torch.ones(n, 4)
    assert nt_xent_loss(z, z).item() == pytest.approx(math.log(2 * n - 1), rel=1e-5)


def test_scale_invariant_and_gradients_finite():
    z1, z2 = _pair()
    z1.requires_grad_(True)
    loss = nt_xent_loss(z1, z2, temperature=0.1)
    assert torch.allclose(loss, nt_xent_loss(3.0 * z1, z2, temperature=0.1), atol=1e-5)
    loss.backward()
    assert torch.isfinite(z1.grad).all()


def test_half_precision_inputs_give_float32_loss():
    z1, z2 = _pair()
    loss = nt_xent_loss(z1.bfloat16(), z2.bfloat16())
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(nt_xent_loss(z1, z2).item(), rel=0.02)


def test_rejects_mismatched_or_single_rows():
    z1, z2 = _pair()
    with pytest.raises(ValueError):
        nt_xent_loss(z1, z2[:-1])
    with pytest.raises(ValueError):
        nt_xent_loss(z1[:1], z2[:1])
