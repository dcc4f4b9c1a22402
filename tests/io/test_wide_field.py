"""Tests for detecting sources in a wide-field image and cutting stamps
(astroexplorer.io.wide_field, ``astroexplorer cutout``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

import astroexplorer.io.wide_field as wide_field
from astroexplorer.cli import main
from astroexplorer.core.errors import UserError
from astroexplorer.io import read_catalogue
from astroexplorer.io.wide_field import (
    StampImageSource,
    cut_stamps,
    detect_and_cut_job,
    read_wide_field_image,
    stamp_wcs,
)
from astroexplorer.jobs import Cancelled, CancelToken, run_sync

SIZE = 256
PIXEL_SCALE_DEG = 0.2 / 3600
STAMP = 32


def _gaussians(shape, xs, ys, amps, sigmas):
    """Sum of circular Gaussians at 0-based pixel positions, shape ``shape``."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    image = np.zeros(shape)
    for x, y, a, s in zip(xs, ys, amps, sigmas):
        image += a * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * s**2))
    return image


def _tan_wcs() -> WCS:
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [150.1, 2.2]
    wcs.wcs.crpix = [SIZE / 2 + 0.5, SIZE / 2 + 0.5]
    wcs.wcs.cdelt = [-PIXEL_SCALE_DEG, PIXEL_SCALE_DEG]
    wcs.wcs.radesys = "ICRS"
    return wcs


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    """A 256x256 FITS image with a TAN WCS, 20 Gaussian sources and noise (seed 3).

    19 sources on a jittered grid, one near the left edge (x = 6) so that its
    stamp crosses the border. Returns (path, truth x, truth y) in 0-based pixels.
    """
    rng = np.random.default_rng(3)
    gx, gy = np.meshgrid(np.linspace(30, 226, 5), np.linspace(35, 220, 4))
    xs = np.append(gx.ravel()[:19] + rng.uniform(-4, 4, 19), 6.3)
    ys = np.append(gy.ravel()[:19] + rng.uniform(-4, 4, 19), 128.6)
    amps = rng.uniform(60, 200, 20)
    sigmas = rng.uniform(1.5, 2.5, 20)
    image = 10.0 + _gaussians((SIZE, SIZE), xs, ys, amps, sigmas) + rng.normal(0, 1.0, (SIZE, SIZE))
    header = _tan_wcs().to_header()
    header["BUNIT"] = "adu"
    path = tmp_path_factory.mktemp("wide") / "field.fits"
    fits.PrimaryHDU(image.astype(np.float32), header=header).writeto(path)
    return path, xs, ys


@pytest.fixture(scope="module")
def detected(field):
    path, _, _ = field
    return run_sync(detect_and_cut_job(path, stamp_size=STAMP))


def _match(table, xs, ys):
    """Index of the detection nearest each truth position (FITS x, y = 0-based + 1)."""
    dx = np.asarray(table["x"])[None, :] - 1 - xs[:, None]
    dy = np.asarray(table["y"])[None, :] - 1 - ys[:, None]
    d = np.hypot(dx, dy)
    return d.argmin(axis=1), d.min(axis=1)


def test_every_source_found_at_its_position(field, detected):
    _, xs, ys = field
    table = detected.table
    assert len(table) == 20
    idx, dist = _match(table, xs, ys)
    assert len(set(idx.tolist())) == 20
    assert np.all(dist < 0.5)
    assert table["x"].unit == u.pix and "FITS" in table["x"].description
    assert table["flux"].unit == u.Unit("adu")
    assert np.all(np.asarray(table["flux"]) > 0)
    assert detected.id_column == "source_id"
    assert detected.notes[0].startswith("detected 20 sources in field.fits [HDU 0] above 3 sigma, "
                                        "deblended; stamps 32x32 px")


def test_sky_positions_within_half_a_pixel(field, detected):
    _, xs, ys = field
    table = detected.table
    idx, _ = _match(table, xs, ys)
    truth = _tan_wcs().pixel_to_world(xs, ys)
    found = SkyCoord(table["ra"].quantity[idx], table["dec"].quantity[idx])
    assert table["ra"].unit == u.deg
    assert np.all(found.separation(truth).deg < 0.5 * PIXEL_SCALE_DEG)


def test_stamps_centred_and_edge_flagged(field, detected):
    table, images = detected.table, detected.images
    assert isinstance(images, StampImageSource)
    assert images.shape == (1, STAMP, STAMP) and len(images) == 20
    stamps = images.get_many(np.arange(20))
    edge = np.asarray(table["edge"])
    assert edge.sum() == 1 and table["x"][edge][0] < 10
    np.testing.assert_array_equal(np.isnan(stamps).any(axis=(1, 2, 3)), edge)
    for row in np.flatnonzero(~edge):
        py, px = np.unravel_index(np.argmax(stamps[row, 0]), (STAMP, STAMP))
        assert abs(py - STAMP // 2) <= 1 and abs(px - STAMP // 2) <= 1
    # The stamp's pixel STAMP // 2 is the image pixel nearest the centroid.
    np.testing.assert_array_equal(table["stamp_xmin"] - 1 + STAMP // 2, np.rint(table["x"] - 1))
    np.testing.assert_array_equal(table["stamp_ymin"] - 1 + STAMP // 2, np.rint(table["y"] - 1))
    # Edge stamp: columns left of the image are NaN, the rest is data.
    row = int(np.flatnonzero(edge)[0])
    outside = 1 - int(table["stamp_xmin"][row])
    assert np.all(np.isnan(stamps[row, :, :, :outside]))
    assert np.all(np.isfinite(stamps[row, :, :, outside:]))


def test_stamp_wcs_matches_parent(detected):
    parent = _tan_wcs()
    table = detected.table
    for row in range(len(table)):
        w = detected.images.wcs(row)
        assert w.pixel_shape == (STAMP, STAMP)
        x, y = float(table["x"][row]), float(table["y"][row])
        sx, sy = x - table["stamp_xmin"][row], y - table["stamp_ymin"][row]
        assert parent.pixel_to_world(x - 1, y - 1).separation(
            w.pixel_to_world(sx, sy)).deg < 1e-9
        assert SkyCoord(table["ra"].quantity[row], table["dec"].quantity[row]).separation(
            w.pixel_to_world(sx, sy)).deg < 1e-9


def test_stamp_wcs_shifts_sip_reference():
    header = _tan_wcs().to_header()
    header["CTYPE1"], header["CTYPE2"] = "RA---TAN-SIP", "DEC--TAN-SIP"
    header.update({"A_ORDER": 2, "B_ORDER": 2, "A_2_0": 1e-5, "B_0_2": -2e-5})
    parent = WCS(header)
    w = stamp_wcs(parent, 101, 51, 16)
    np.testing.assert_allclose(w.sip.crpix, parent.sip.crpix - [100, 50])
    assert parent.pixel_to_world(110.0, 60.0).separation(w.pixel_to_world(10.0, 10.0)).deg < 1e-10


def test_png_bands_from_channels_no_wcs(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(5)
    xs, ys = np.array([30.0, 90.0, 60.0]), np.array([25.0, 40.0, 95.0])  # picture rows, top = 0
    blob = _gaussians((128, 128), xs, ys, [150, 120, 100], [2.0, 2.0, 2.5])
    rgb = np.stack([blob * f for f in (1.0, 0.6, 0.3)], axis=-1) + 20 + rng.normal(0, 2, (128, 128, 3))
    path = tmp_path / "field.png"
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB").save(path)
    cat = run_sync(detect_and_cut_job(path, stamp_size=16))
    table = cat.table
    assert "ra" not in table.colnames and "dec" not in table.colnames
    assert cat.images.bands == ("red", "green", "blue")
    assert cat.images.shape == (3, 16, 16)
    assert cat.images.wcs(0) is None
    assert len(table) == 3
    # Rows are flipped to FITS order: picture row r is 0-based y = 127 - r.
    idx, dist = _match(table, xs, 127 - ys)
    assert np.all(dist < 0.5)
    red, blue = np.asarray(table["flux_red"]), np.asarray(table["flux_blue"])
    np.testing.assert_allclose(blue / red, 0.3, rtol=0.1)
    assert "no celestial WCS" in cat.notes[0]


def test_rgba_transparent_pixels_are_missing(tmp_path):
    from PIL import Image

    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[..., :3] = 100
    rgba[..., 3] = 255
    rgba[:10, :, 3] = 0
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(path)
    image = read_wide_field_image(path)
    assert image.data.shape == (3, 64, 64)
    assert np.isnan(image.data[:, -10:]).all() and np.isfinite(image.data[:, :-10]).all()


def test_touching_sources_deblended(tmp_path):
    rng = np.random.default_rng(11)
    image = _gaussians((64, 64), [28.0, 36.0], [32.0, 32.0], [100, 80], [2.0, 2.0])
    image += rng.normal(0, 1.0, image.shape)
    path = tmp_path / "pair.fits"
    fits.PrimaryHDU(image).writeto(path)
    blended = run_sync(detect_and_cut_job(path, stamp_size=16, deblend=False))
    split = run_sync(detect_and_cut_job(path, stamp_size=16, deblend=True))
    assert len(blended) == 1
    assert len(split) == 2
    np.testing.assert_allclose(np.sort(np.asarray(split.table["x"]) - 1), [28, 36], atol=0.5)
    assert "deblended" not in blended.notes[0] and "deblended" in split.notes[0]


def test_cube_of_bands_and_max_sources(tmp_path):
    rng = np.random.default_rng(2)
    blob = _gaussians((96, 96), [20.0, 50.0, 75.0], [30.0, 60.0, 40.0], [50, 100, 200], [2, 2, 2])
    cube = np.stack([blob, 2 * blob]) + rng.normal(0, 1.0, (2, 96, 96))
    hdu = fits.ImageHDU(cube, name="SCI")
    hdu.header["BAND1"], hdu.header["BAND2"] = "g", "r"
    path = tmp_path / "cube.fits"
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    cat = run_sync(detect_and_cut_job(path, stamp_size=16, max_sources=2))
    assert cat.images.bands == ("g", "r") and cat.images.shape == (2, 16, 16)
    assert len(cat) == 2
    assert sorted(np.rint(np.asarray(cat.table["x"]) - 1).tolist()) == [50, 75]  # the brightest
    np.testing.assert_allclose(cat.table["flux_r"] / cat.table["flux_g"], 2.0, rtol=0.05)
    assert "kept the 2 brightest" in cat.notes[0] and "[HDU 1]" in cat.notes[0]


def _messages(path, stop_at, **kwargs):
    token, seen = CancelToken(), []

    def on_progress(progress):
        seen.append(progress.message)
        if progress.message.startswith(stop_at):
            token.cancel()

    with pytest.raises(Cancelled):
        run_sync(detect_and_cut_job(path, stamp_size=STAMP, **kwargs), on_progress, token)
    return seen


def test_cancel_between_stages(field):
    seen = _messages(field[0], "background")
    assert seen[-1].startswith("background")
    assert not any(m.startswith(("detecting", "measuring", "cutting")) for m in seen)


def test_cancel_during_cutting(field, monkeypatch):
    monkeypatch.setattr(wide_field, "_CUT_CHUNK", 2)
    seen = _messages(field[0], "cutting")
    assert [m for m in seen if m.startswith("cutting")] == ["cutting stamps 0/20"]
    assert not seen[-1].startswith("detected")


def test_cli_writes_catalogue_with_stamps_and_wcs(field, tmp_path, capsys):
    path = field[0]
    out = tmp_path / "sources.fits"
    assert main(["cutout", str(path), "--out", str(out), "--size", str(STAMP), "--quiet"]) == 0
    assert str(out) in capsys.readouterr().out
    cat = read_catalogue(out)
    assert len(cat) == 20 and cat.images is not None
    assert cat.images.shape == (1, STAMP, STAMP)
    # The attacher restores each stamp's WCS from the primary header and stamp_xmin/ymin.
    assert isinstance(cat.images, StampImageSource)
    assert any("stamp WCS" in note for note in cat.notes)
    table = cat.table
    for row in (0, 7, 19):
        w = cat.images.wcs(row)
        sky = w.pixel_to_world(table["x"][row] - table["stamp_xmin"][row],
                               table["y"][row] - table["stamp_ymin"][row])
        assert sky.separation(SkyCoord(table["ra"].quantity[row], table["dec"].quantity[row])).deg < 1e-9
    fresh = run_sync(detect_and_cut_job(path, stamp_size=STAMP))
    np.testing.assert_array_equal(cat.images.get_many([0, 19]), fresh.images.get_many([0, 19]))
    assert table["flux"].unit == u.Unit("adu")
    assert table.meta["detection"].startswith("detected 20 sources in field.fits [HDU 0]")
    # Refuses to overwrite without --overwrite, and never writes over the input.
    assert main(["cutout", str(path), "--out", str(out), "--quiet"]) == 2
    assert main(["cutout", str(path), "--out", str(path), "--overwrite", "--quiet"]) == 2
    assert "never writes over its inputs" in capsys.readouterr().err


def test_cli_bad_image_writes_nothing(tmp_path, capsys):
    path = tmp_path / "flat.fits"
    fits.PrimaryHDU(np.full((64, 64), 3.0)).writeto(path)
    out = tmp_path / "out.fits"
    assert main(["cutout", str(path), "--out", str(out), "--size", "16", "--quiet"]) == 2
    assert "flat.fits" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == [path]


def _write(tmp_path, name, hdus):
    path = tmp_path / name
    fits.HDUList(hdus).writeto(path)
    return path


def _noise(shape=(64, 64), seed=0):
    return np.random.default_rng(seed).normal(0, 1.0, shape)


@pytest.mark.parametrize("case, kwargs, expected", [
    ("missing", {}, "no such file"),
    ("text", {}, "neither FITS nor a picture"),
    ("table_only", {}, "holds no image HDU with data"),
    ("one_d", {}, "1-D image"),
    ("all_nan", {}, "every pixel"),
    ("constant", {}, "is constant"),
    ("noise", {"threshold_sigma": 20.0}, "no source found"),
    ("noise", {"stamp_size": 7}, "too small"),
    ("noise", {"stamp_size": 65}, "larger than the image"),
    ("noise", {"hdu": 3}, "has no HDU 3"),
    ("with_table", {"hdu": 1}, "is a table, not an image"),
    ("four_d", {}, "4-D image"),
])
def test_bad_input_raises_user_error(tmp_path, case, kwargs, expected):
    name = f"{case}.fits"
    if case == "missing":
        path = tmp_path / name
    elif case == "text":
        path = tmp_path / "notes.txt"
        path.write_text("not an image\n")
    elif case == "table_only":
        path = _write(tmp_path, name, [fits.PrimaryHDU(),
                                       fits.table_to_hdu(Table({"a": [1, 2]}))])
    elif case == "one_d":
        path = _write(tmp_path, name, [fits.PrimaryHDU(np.arange(50.0))])
    elif case == "all_nan":
        path = _write(tmp_path, name, [fits.PrimaryHDU(np.full((64, 64), np.nan))])
    elif case == "constant":
        path = _write(tmp_path, name, [fits.PrimaryHDU(np.full((64, 64), 7.0))])
    elif case == "with_table":
        path = _write(tmp_path, name, [fits.PrimaryHDU(_noise()),
                                       fits.table_to_hdu(Table({"a": [1, 2]}))])
    elif case == "four_d":
        path = _write(tmp_path, name, [fits.PrimaryHDU(_noise((2, 3, 16, 16)))])
    else:
        path = _write(tmp_path, name, [fits.PrimaryHDU(_noise())])
    before = sorted(tmp_path.iterdir())
    with pytest.raises(UserError) as info:
        run_sync(detect_and_cut_job(path, **kwargs))
    message = str(info.value)
    assert path.name in message and expected in message
    assert sorted(tmp_path.iterdir()) == before  # nothing written


def test_nan_region_is_masked(tmp_path):
    rng = np.random.default_rng(4)
    image = _gaussians((96, 96), [30.0, 70.0], [40.0, 60.0], [100, 100], [2, 2])
    image += rng.normal(0, 1.0, image.shape)
    image[:, 85:] = np.nan  # an unobserved strip
    path = tmp_path / "strip.fits"
    fits.PrimaryHDU(image).writeto(path)
    cat = run_sync(detect_and_cut_job(path, stamp_size=16))
    assert len(cat) == 2
    assert np.all(np.isfinite(np.asarray(cat.table["flux"])))


def test_cut_stamps_fill_and_centre():
    image = np.arange(2 * 10 * 12, dtype=float).reshape(2, 10, 12)
    stamps, edge = cut_stamps(image, np.array([0, 6]), np.array([0, 5]), 4)
    assert stamps.shape == (2, 2, 4, 4) and stamps.dtype == np.float32
    np.testing.assert_array_equal(edge, [True, False])
    assert stamps[0, 0, 2, 2] == image[0, 0, 0] and stamps[1, 1, 2, 2] == image[1, 5, 6]
    assert np.isnan(stamps[0, :, :2]).all() and np.isnan(stamps[0, :, :, :2]).all()
    zero, _ = cut_stamps(image, np.array([0]), np.array([0]), 4, fill=0.0)
    assert np.all(zero[0, :, :2] == 0)


COMP = Path(fits.__file__).parent / "tests" / "data" / "comp.fits"


@pytest.mark.skipif(not COMP.exists(), reason="astropy's test data comp.fits is not installed")
def test_smoke_ngc1316_compressed_image():
    cat = run_sync(detect_and_cut_job(COMP, stamp_size=32))
    table = cat.table
    assert len(table) >= 10
    assert "[HDU 1]" in cat.notes[0]
    # The image is a B1950 SIN projection of NGC 1316 (Fornax A); ra/dec are ICRS.
    ngc1316 = SkyCoord(50.6738 * u.deg, -37.2083 * u.deg)
    coords = SkyCoord(table["ra"].quantity, table["dec"].quantity)
    assert np.all(coords.separation(ngc1316) < 0.5 * u.deg)
    brightest = int(np.argmax(np.asarray(table["flux"])))
    assert coords[brightest].separation(ngc1316) < 1 * u.arcmin
    assert np.isfinite(cat.images.get(brightest)).all() or table["edge"][brightest]


def test_chunked_deblending_equals_one_pass(tmp_path, monkeypatch):
    """Deblending in chunks (for progress and cancel) gives the sources of one pass."""
    rng = np.random.default_rng(8)
    centres = np.linspace(16, 112, 7)
    xs = np.concatenate([centres - 4, centres + 4])
    ys = np.concatenate([centres, centres + 1])
    image = _gaussians((128, 128), xs, ys, rng.uniform(60, 120, 14), np.full(14, 2.0))
    image += rng.normal(0, 1.0, image.shape)
    path = tmp_path / "pairs.fits"
    fits.PrimaryHDU(image).writeto(path)
    one = run_sync(detect_and_cut_job(path, stamp_size=16))
    monkeypatch.setattr(wide_field, "_DEBLEND_CHUNK", 3)
    seen = []
    chunked = run_sync(detect_and_cut_job(path, stamp_size=16), lambda p: seen.append(p.message))
    assert len(one) == 14
    assert sum(m.startswith("deblending") for m in seen) == 3  # 7 blended pairs, 3 a chunk
    for name in one.table.colnames:
        np.testing.assert_array_equal(np.asarray(chunked.table[name]), np.asarray(one.table[name]))


def test_cancel_during_deblending(field, monkeypatch):
    monkeypatch.setattr(wide_field, "_DEBLEND_CHUNK", 3)
    seen = _messages(field[0], "deblending segments 3/")
    assert [m for m in seen if m.startswith("deblending")] == ["deblending segments 0/20",
                                                               "deblending segments 3/20"]
    assert not any(m.startswith("measuring") for m in seen)
