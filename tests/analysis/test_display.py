"""Display transforms: single-band stretches, colour composites, folding."""

from __future__ import annotations

import numpy as np
import pytest

from astroexplorer.analysis.display import (
    INTERVALS,
    STRETCHES,
    band_wavelength,
    fold_time,
    lupton_parameters,
    make_rgb,
    rgb_band_order,
    stretch_image,
)


def galaxy(shape=(48, 48), peak=1.0, sky=0.0, noise=0.01, seed=0, scale=4.0) -> np.ndarray:
    """A noisy exponential disc at the centre, shape (H, W) float32."""
    rng = np.random.default_rng(seed)
    y, x = np.indices(shape)
    r = np.hypot(x - shape[1] / 2, (y - shape[0] / 2) * 1.5)
    return (sky + peak * np.exp(-r / scale) + rng.normal(0, noise, shape)).astype(np.float32)


# -- stretch_image ------------------------------------------------------------------


@pytest.mark.parametrize("stretch", STRETCHES)
@pytest.mark.parametrize("interval", INTERVALS)
def test_stretch_image_range_and_order(stretch, interval):
    data = galaxy()
    out = stretch_image(data, stretch, interval)
    assert out.shape == data.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out.max() > out.min()
    # A display transform never reverses brightness order.
    order = np.argsort(data, axis=None)
    assert np.all(np.diff(out.ravel()[order]) >= -1e-6)


def test_stretch_image_nan_pixels_are_zero_and_ignored():
    data = galaxy()
    clean = stretch_image(data, "linear", "minmax")
    holes = data.copy()
    holes[:5, :5] = np.nan
    holes[10, 10] = np.inf
    out = stretch_image(holes, "linear", "minmax")
    assert np.all(np.isfinite(out))
    assert np.all(out[:5, :5] == 0)
    # The limits come from finite pixels only, so other pixels are unchanged.
    same = np.isfinite(holes) & (np.indices(data.shape)[0] > 5)
    assert np.allclose(out[same], clean[same], atol=1e-6)


@pytest.mark.parametrize("data", [np.full((8, 8), 3.0), np.full((8, 8), np.nan), np.zeros((8, 8))])
def test_stretch_image_without_contrast_is_black(data):
    for interval in INTERVALS:
        out = stretch_image(data, "asinh", interval)
        assert out.shape == (8, 8) and np.all(out == 0)


def test_stretch_image_rejects_bad_arguments():
    with pytest.raises(ValueError, match="stretch"):
        stretch_image(np.ones((4, 4)), stretch="gamma")
    with pytest.raises(ValueError, match="interval"):
        stretch_image(np.ones((4, 4)), interval="auto")
    with pytest.raises(ValueError, match="2-D"):
        stretch_image(np.ones((3, 4, 4)))


# -- band order ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bands", "expected"),
    [
        (("g", "r", "z"), (2, 1, 0)),  # z -> R, r -> G, g -> B
        (("z", "g", "r"), (0, 2, 1)),  # channel order does not matter
        (("red", "green", "blue"), (0, 1, 2)),
        (("blue", "green", "red"), (2, 1, 0)),
        (("u", "g", "r", "i", "z"), (4, 2, 0)),
        (("F814W", "F435W", "F606W"), (0, 2, 1)),
        (("HSC-G", "HSC-R", "HSC-I"), (2, 1, 0)),
        (("band0", "band1", "band2"), (2, 1, 0)),  # unknown: assumed blue to red
        (("r",), (0, 0, 0)),
        (("r", "g"), (0, 1, 1)),
    ],
)
def test_rgb_band_order(bands, expected):
    assert rgb_band_order(bands) == expected


def test_band_wavelength_known_and_unknown():
    assert band_wavelength("g") < band_wavelength("r") < band_wavelength("i") < band_wavelength("z")
    assert band_wavelength("Ks") > band_wavelength("J")
    assert band_wavelength("mystery") is None


# -- make_rgb -----------------------------------------------------------------------


def test_make_rgb_shape_dtype_and_band_mapping():
    rng = np.random.default_rng(1)
    cube = rng.normal(0, 0.01, (3, 48, 48)).astype(np.float32)
    cube[2] = galaxy(seed=5)  # only z has the source
    rgb = make_rgb(cube, ("g", "r", "z"))
    assert rgb.shape == (48, 48, 3) and rgb.dtype == np.uint8
    centre = rgb[22:26, 22:26].reshape(-1, 3).mean(axis=0)
    assert centre[0] > 100 and centre[0] > 3 * centre[1] and centre[0] > 3 * centre[2]

    cube_rgb = cube[[1, 0, 2]]  # now the source is in the "blue" channel
    rgb = make_rgb(cube_rgb, ("red", "green", "blue"))
    centre = rgb[22:26, 22:26].reshape(-1, 3).mean(axis=0)
    assert centre[2] > 3 * centre[0]


@pytest.mark.parametrize(
    ("peak", "noise", "sky"),
    [(0.3, 0.01, 0.0),  # faint simulated galaxy in nanomaggies
     (3.0, 0.01, 0.02),  # bright one on a sky pedestal
     (0.8, 0.015, 0.0)],  # an XDF-like stamp in 0..1 data units
)
def test_make_rgb_galaxy_is_visible_on_dark_sky(peak, noise, sky):
    cube = np.stack([galaxy(peak=peak * f, noise=noise, sky=sky, seed=s)
                     for s, f in enumerate((0.6, 0.8, 1.0))])
    rgb = make_rgb(cube, ("g", "r", "z")).astype(float)
    lum = rgb.mean(axis=2)
    y, x = np.indices(lum.shape)
    r = np.hypot(x - 24, (y - 24) * 1.5)
    assert np.median(lum[r > 18]) < 25  # dark sky
    assert lum[r < 2].mean() > 120  # bright core
    assert lum[(r > 6) & (r < 10)].mean() > 2 * np.median(lum[r > 18]) + 5  # visible outskirts
    assert (rgb.max(axis=2) >= 254).mean() < 0.05  # not a saturated blob


def test_make_rgb_nan_constant_and_single_band():
    cube = np.stack([galaxy(seed=s) for s in range(3)])
    cube[:, :10, :] = np.nan
    rgb = make_rgb(cube, ("g", "r", "z"))
    assert rgb.shape == (48, 48, 3)
    assert np.median(rgb[:10].astype(float)) < 25

    assert np.all(make_rgb(np.full((3, 8, 8), 2.0, np.float32), ("g", "r", "z")) == 0)
    assert np.all(make_rgb(np.full((3, 8, 8), np.nan, np.float32), ("g", "r", "z")) == 0)

    grey = make_rgb(galaxy()[None], ("r",))
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 0], grey[..., 2])
    assert grey.max() > 100


def test_make_rgb_rejects_mismatched_bands():
    with pytest.raises(ValueError, match="bands"):
        make_rgb(np.zeros((3, 4, 4)), ("g", "r"))


def test_lupton_parameters_put_the_noise_at_the_sky_level():
    rgb = np.stack([galaxy(peak=5.0, noise=0.01, seed=s, scale=2.0) for s in range(3)])
    params = lupton_parameters(rgb, sky_level=0.05)
    assert params.Q > 0 and params.stretch > 0
    assert np.allclose(params.minimum, 0.0, atol=0.005)
    noise = 0.01 / np.sqrt(3)  # of the mean of three bands
    value = np.arcsinh(params.Q * noise / params.stretch) * 0.1 / np.arcsinh(0.1 * params.Q)
    assert 0.03 < value < 0.08


# -- fold_time ----------------------------------------------------------------------


def test_fold_time():
    t = np.array([-1.25, 0.0, 0.25, 2.5, 59000.75, -1e-17])
    phase = fold_time(t, 0.5)
    assert np.all((phase >= 0) & (phase < 1))
    assert np.allclose(phase[:5], [0.5, 0.0, 0.5, 0.0, 0.5])
    assert np.allclose(fold_time(t + 3 * 0.7, 0.7, epoch=0.1), fold_time(t, 0.7, epoch=0.1))
    with pytest.raises(ValueError, match="period"):
        fold_time(t, 0.0)
