import math

import pytest
import torch

from astroexplorer.ml.augment import SkyAugment

OFF = {
    "rotate": False, "flip": False, "max_shift": 0.0, "zoom": (1.0, 1.0),
    "blur_sigma": (0.0, 0.0), "blur_p": 0.0, "noise_std": (0.0, 0.0), "flux_scale": 0.0,
}


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _blobs(b: int = 6, c: int = 3, h: int = 32, w: int = 32, sigma: float = 2.5) -> torch.Tensor:
    """Centred round Gaussian blobs on an empty sky, (b, c, h, w) float32."""
    yy = torch.arange(h, dtype=torch.float32)[:, None] - (h - 1) / 2
    xx = torch.arange(w, dtype=torch.float32)[None, :] - (w - 1) / 2
    blob = torch.exp(-(xx**2 + yy**2) / (2 * sigma**2))
    amp = torch.arange(1, b * c + 1, dtype=torch.float32).reshape(b, c, 1, 1)
    return amp * blob


def _random(b: int = 4, c: int = 2, h: int = 24, w: int = 24) -> torch.Tensor:
    return torch.randn(b, c, h, w, generator=_gen(1))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_keeps_shape_dtype_and_device(dtype):
    x = _random(5, 3, 32, 20).to(dtype)
    y = SkyAugment()(x, _gen(0))
    assert y.shape == x.shape and y.dtype == dtype and y.device == x.device
    assert torch.isfinite(y).all()


def test_deterministic_with_a_seeded_generator():
    x = _random()
    aug = SkyAugment()
    a = aug(x, _gen(3))
    b = aug(x, _gen(3))
    c = aug(x, _gen(4))
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_each_image_gets_its_own_parameters():
    x = _random(1).expand(4, -1, -1, -1).contiguous()
    y = SkyAugment()(x, _gen(0))
    assert not torch.allclose(y[0], y[1])


def test_everything_off_is_the_identity():
    x = _random()
    assert torch.equal(SkyAugment(**OFF)(x, _gen(0)), x)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflection"])
def test_rotation_and_flips_preserve_flux(padding_mode):
    x = _blobs()
    aug = SkyAugment(**{**OFF, "rotate": True, "flip": True, "padding_mode": padding_mode})
    y = aug(x, _gen(0))
    assert torch.allclose(y.sum((2, 3)), x.sum((2, 3)), rtol=0.01)


def test_quarter_turn_and_flips_match_exact_pixel_operations():
    aug = SkyAugment(**{**OFF, "rotate": True, "flip": True})
    square, oblong = _random(2, 2, 16, 16), _random(2, 2, 16, 24)

    def params(x: torch.Tensor, angle: float, flip: float) -> dict[str, torch.Tensor]:
        p = aug.sample_params(x.shape[0], x.shape[1])
        p["angle"] = torch.full_like(p["angle"], angle)
        p["flip"] = torch.full_like(p["flip"], flip)
        return p

    quarter = aug.apply(square, params(square, math.pi / 2, 1.0))
    assert torch.allclose(quarter, torch.rot90(square, 1, dims=(-2, -1)), atol=1e-4)
    half = aug.apply(oblong, params(oblong, math.pi, 1.0))
    assert torch.allclose(half, torch.flip(oblong, dims=(-2, -1)), atol=1e-4)
    mirrored = aug.apply(oblong, params(oblong, 0.0, -1.0))
    assert torch.allclose(mirrored, torch.flip(oblong, dims=(-1,)), atol=1e-4)


def test_rotation_keeps_round_objects_round_on_oblong_cutouts():
    # Normalised grid coordinates differ per axis on a non-square cutout; a rotation
    # done naively in them would shear a round blob into an ellipse.
    x = _blobs(b=4, c=1, h=24, w=40, sigma=3.0)
    y = SkyAugment(**{**OFF, "rotate": True, "padding_mode": "zeros"})(x, _gen())
    error = (y - x).abs().amax((1, 2, 3)) / x.amax((1, 2, 3))
    assert (error < 0.04).all()  # bilinear interpolation alone costs ~2 % at the peak


def test_flux_scaling_is_per_band_and_bounded():
    x = _blobs() + 1.0
    y = SkyAugment(**{**OFF, "flux_scale": 0.1})(x, _gen(0))
    ratio = y / x
    per_band = ratio.mean((2, 3))
    # One factor per image and band, the same at every pixel: colours change by <= 10 %.
    assert torch.allclose(ratio, per_band[:, :, None, None], rtol=1e-5)
    assert (per_band >= 0.9 - 1e-6).all() and (per_band <= 1.1 + 1e-6).all()
    assert per_band.std() > 0


def test_blur_conserves_flux_and_lowers_the_peak():
    x = _blobs(sigma=1.5)
    y = SkyAugment(**{**OFF, "blur_sigma": (1.0, 2.0), "blur_p": 1.0})(x, _gen())
    assert torch.allclose(y.sum((2, 3)), x.sum((2, 3)), rtol=1e-3)
    assert (y.amax((2, 3)) < 0.8 * x.amax((2, 3))).all()


def test_shift_and_zoom_move_and_resize_within_limits():
    x = _blobs(b=16, sigma=2.0)
    y = SkyAugment(**{**OFF, "max_shift": 3.0, "zoom": (0.9, 1.1), "padding_mode": "zeros"})(
        x, _gen(0))
    grid = torch.arange(32, dtype=torch.float32) - 15.5
    cx = (y.sum(2) * grid).sum(-1) / y.sum((2, 3))
    cy = (y.sum(3) * grid).sum(-1) / y.sum((2, 3))
    assert cx.abs().max() <= 3.0 * 1.1 + 0.05 and cy.abs().max() <= 3.0 * 1.1 + 0.05
    assert cx.abs().max() > 0.5
    # Flux of a zoomed image scales with the area: within (0.9^2, 1.1^2).
    ratio = y.sum((2, 3)) / x.sum((2, 3))
    assert (ratio > 0.8).all() and (ratio < 1.23).all()


def test_noise_has_the_requested_level():
    x = torch.zeros(8, 2, 64, 64)
    y = SkyAugment(**{**OFF, "noise_std": (0.5, 0.5)})(x, _gen(0))
    assert y.std().item() == pytest.approx(0.5, rel=0.02)


def test_rejects_bad_settings():
    with pytest.raises(ValueError):
        SkyAugment(padding_mode="circular")
    with pytest.raises(ValueError):
        SkyAugment(flux_scale=1.5)
