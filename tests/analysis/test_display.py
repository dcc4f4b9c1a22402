"""Display transforms: single-band stretches, colour composites, folding."""

from __future__ import annotations

import numpy as np
import pytest

from astroexplorer.analysis.display import (
    INTERVALS,
    PERCENTILES,
    STRETCH_PARAMETERS,
    STRETCHES,
    band_wavelength,
    cubehelix,
    display_white,
    fold_time,
    image_limits,
    is_display_rgb,
    linear_rgb,
    lupton_parameters,
    make_rgb,
    make_stretch,
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


# Expected display value of a pixel at x in [0, 1] of the limits, per stretch.
_EXPECTED = {
    "linear": lambda x: x,
    "sqrt": np.sqrt,
    "asinh": lambda x: np.arcsinh(x / 0.1) / np.arcsinh(1 / 0.1),
    "log": lambda x: np.log(1000 * x + 1) / np.log(1001),
    "power": lambda x: x ** 2,
}


def ramp() -> np.ndarray:
    """0, 1, ..., 100 on an 11 x 11 image minus its last 20 pixels (NaN)."""
    data = np.full(121, np.nan)
    data[:101] = np.arange(101.0)
    return data.reshape(11, 11)


@pytest.mark.parametrize("stretch", STRETCHES)
@pytest.mark.parametrize(("interval", "percentile", "limits"), [
    ("minmax", 99.5, (0.0, 100.0)),
    ("percentile", 98.0, (1.0, 99.0)),  # 1% cut at each end
    ("percentile", 95.0, (2.5, 97.5)),
    ("percentile", 99.0, (0.5, 99.5)),
    ("zscale", 99.5, (0.0, 100.0)),  # a perfect ramp: zscale keeps the whole range
    # sky: median 50 less the standard deviation (nothing is clipped), white at 99.75
    ("sky", 99.5, (50 - np.std(np.arange(101.0)), 99.75)),
])
def test_stretch_and_limits_map_known_values(stretch, interval, percentile, limits):
    data = ramp()
    assert image_limits(data, interval, percentile) == pytest.approx(limits)
    out = stretch_image(data, stretch, interval, percentile)
    x = np.clip((data - limits[0]) / (limits[1] - limits[0]), 0, 1)
    expected = np.where(np.isfinite(data), _EXPECTED[stretch](np.nan_to_num(x)), 0.0)
    assert np.allclose(out, expected, atol=1e-6)


def test_zscale_ignores_a_few_bright_pixels():
    rng = np.random.default_rng(3)
    sky = rng.normal(10.0, 1.0, (64, 64))
    sky[30:34, 30:34] = 1000.0  # a star
    vmin, vmax = image_limits(sky, "zscale")
    assert 5 < vmin < 10 < vmax < 20
    assert image_limits(sky, "minmax")[1] == 1000.0
    assert np.all(stretch_image(sky, "linear", "zscale")[30:34, 30:34] == 1.0)
    # "sky": black one sigma below the sky, whatever the star does to the percentiles.
    black, white = image_limits(sky, "sky", 99.9)
    assert black == pytest.approx(9.0, abs=0.1) and white == 1000.0


def test_manual_limits_and_stretch_parameters():
    data = ramp()
    out = stretch_image(data, "linear", limits=(20.0, 60.0))
    assert out[0, 0] == 0.0 and out[0, 10] == 0.0  # 10 is below black
    assert out.flat[40] == pytest.approx(0.5) and out.flat[60] == 1.0 and out.flat[100] == 1.0
    assert np.all(stretch_image(data, "linear", limits=(60.0, 20.0)) == 0)  # inverted: blank
    cube = stretch_image(data, "power", "minmax", parameter=3.0)
    assert cube.flat[50] == pytest.approx(0.125)
    soft = stretch_image(data, "asinh", "minmax", parameter=1.0)
    assert soft.flat[50] == pytest.approx(np.arcsinh(0.5) / np.arcsinh(1.0))
    log10 = stretch_image(data, "log", "minmax", parameter=9.0)
    assert log10.flat[100] == pytest.approx(1.0) and log10.flat[0] == 0.0
    assert log10.flat[50] == pytest.approx(np.log10(5.5))
    for name, (_label, default, low, high) in STRETCH_PARAMETERS.items():
        assert low <= default <= high
        with pytest.raises(ValueError, match=name):
            make_stretch(name, high * 2)
    assert make_stretch("sqrt", 123.0)(np.array([0.25]))[0] == pytest.approx(0.5)


def test_image_limits_edge_cases():
    assert np.isnan(image_limits(np.full((4, 4), np.nan))).all()
    with pytest.raises(ValueError, match="percentile"):
        image_limits(ramp(), "percentile", 0.0)
    with pytest.raises(ValueError, match="interval"):
        image_limits(ramp(), "histeq")
    assert PERCENTILES[0] == 99.5


# -- pictures (8-bit RGB) and colour maps ------------------------------------------


def test_display_rgb_detection_and_white_level():
    rng = np.random.default_rng(2)
    eight_bit = rng.integers(0, 256, (3, 16, 16)).astype(np.float32)
    assert is_display_rgb(eight_bit, ("g", "r", "z"))  # Galaxy10: 0..255 whole numbers
    assert display_white(eight_bit) == 255.0
    xdf = eight_bit / 255.0 - 0.05  # divided by 255, sky subtracted
    assert is_display_rgb(xdf, ("red", "green", "blue"))
    assert not is_display_rgb(xdf, ("g", "r", "z"))
    assert display_white(xdf) == 1.0
    science = rng.normal(0, 0.01, (3, 16, 16))
    science[:, 8, 8] = 30.0
    assert not is_display_rgb(science, ("g", "r", "z"))
    assert not is_display_rgb(eight_bit[:2], ("g", "r"))
    assert display_white(science) == pytest.approx(np.percentile(science, 99.5))
    assert display_white(np.full((3, 2, 2), np.nan)) == 1.0


def test_linear_rgb_shows_8bit_pictures_as_stored():
    rng = np.random.default_rng(4)
    picture = rng.integers(0, 256, (3, 8, 8)).astype(np.float32)
    out = linear_rgb(picture)
    assert out.shape == (8, 8, 3) and out.dtype == np.uint8
    assert np.array_equal(out, np.moveaxis(picture, 0, -1).astype(np.uint8))
    swapped = linear_rgb(picture, channels=(2, 1, 0))
    assert np.array_equal(swapped[..., 0], out[..., 2])
    half = linear_rgb(np.full((3, 2, 2), 0.5), white=1.0)
    assert np.all(half == 128)
    holes = picture.copy()
    holes[0, 0, 0] = np.nan
    assert linear_rgb(holes, white=255.0)[0, 0, 0] == 0
    with pytest.raises(ValueError, match="channels"):
        linear_rgb(picture, channels=(0, 1, 3))
    with pytest.raises(ValueError, match="white"):
        linear_rgb(picture, white=-1.0)


def test_make_rgb_with_a_chosen_band_to_channel_mapping():
    rng = np.random.default_rng(6)
    cube = rng.normal(0, 0.01, (5, 48, 48)).astype(np.float32)
    cube[3] += galaxy(seed=7, noise=0.0)  # only band "i" has the source
    bands = ("u", "g", "r", "i", "z")
    default = make_rgb(cube, bands)  # z, r, u: the source does not show
    assert default[22:26, 22:26].max() < 60
    red = make_rgb(cube, bands, channels=(3, 2, 1))[22:26, 22:26].reshape(-1, 3).mean(axis=0)
    assert red[0] > 100 and red[0] > 3 * red[1]
    blue = make_rgb(cube, bands, channels=(4, 2, 3))[22:26, 22:26].reshape(-1, 3).mean(axis=0)
    assert blue[2] > 100 and blue[2] > 3 * blue[0]
    with pytest.raises(ValueError, match="channels"):
        make_rgb(cube, bands, channels=(0, 1, 5))


def test_cubehelix_runs_black_to_white_with_rising_brightness():
    lut = cubehelix(256)
    assert lut.shape == (256, 3) and lut.min() >= 0 and lut.max() <= 1
    assert np.allclose(lut[0], 0) and np.allclose(lut[-1], 1)
    luminance = lut @ np.array([0.30, 0.59, 0.11])  # Green (2011)'s weights
    assert np.all(np.diff(luminance) > 0)
    assert np.ptp(lut[128]) > 0.1  # coloured in between, not grey


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
