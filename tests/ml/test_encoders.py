import pytest
import torch

from astroexplorer.ml.encoders import ProjectionHead, SmallCNNEncoder


@pytest.mark.parametrize(("bands", "h", "w"), [(1, 16, 16), (3, 32, 32), (5, 64, 48), (2, 17, 33)])
def test_encoder_output_shape(bands, h, w):
    torch.manual_seed(0)
    enc = SmallCNNEncoder(bands, dim=24, width=8)
    out = enc(torch.randn(3, bands, h, w))
    assert out.shape == (3, 24)
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()


def test_encoder_eval_is_per_image():
    torch.manual_seed(0)
    enc = SmallCNNEncoder(3, dim=16, width=8)
    enc.train()
    enc(torch.randn(8, 3, 32, 32))  # update the BatchNorm running statistics
    enc.eval()
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(enc(x)[1:2], enc(x[1:2]), atol=1e-5)


def test_encoder_rejects_wrong_band_count():
    enc = SmallCNNEncoder(3, dim=16, width=8)
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        enc(torch.randn(2, 4, 32, 32))


def test_projection_head_shape_and_gradients():
    head = ProjectionHead(16, 32, 8)
    h = torch.randn(5, 16, requires_grad=True)
    z = head(h)
    assert z.shape == (5, 8)
    z.sum().backward()
    assert h.grad is not None and torch.isfinite(h.grad).all()
