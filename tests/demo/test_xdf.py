"""Tests for the Hubble XDF demo catalogue (astroexplorer.demo.xdf)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from astroexplorer.demo.xdf import (
    XDF_DEC_DEG,
    XDF_RA_DEG,
    _cut_stamps,
    build_xdf_catalogue,
)

STAMP = 48
COLUMNS = [
    "source_id", "x", "y", "ra", "dec", "flux_red", "flux_green", "flux_blue", "area",
    "semimajor_sigma", "semiminor_sigma", "ellipticity", "orientation", "colour_blue_red", "edge",
]


@pytest.fixture(scope="module")
def xdf():
    """Build the catalogue once for the whole module (about 2 s)."""
    return build_xdf_catalogue(stamp_size=STAMP, min_area_px=10)


def test_shapes_and_lengths(xdf):
    table, cutouts, bands = xdf
    assert bands == ("red", "green", "blue")
    assert list(table.colnames) == COLUMNS
    assert cutouts.dtype == np.float32
    assert cutouts.shape == (len(table), 3, STAMP, STAMP)


def test_number_of_sources(xdf):
    table, _, _ = xdf
    assert 500 <= len(table) <= 2000
    assert table.meta["n_sources"] == len(table)


def test_source_ids_sorted_and_one_based(xdf):
    table, _, _ = xdf
    ids = np.asarray(table["source_id"])
    assert np.issubdtype(ids.dtype, np.integer)
    np.testing.assert_array_equal(ids, np.arange(1, len(table) + 1))


def test_units_and_descriptions(xdf):
    table, _, _ = xdf
    assert table["ra"].unit == u.deg
    assert table["dec"].unit == u.deg
    assert table["x"].unit == u.pix
    assert table["y"].unit == u.pix
    assert table["area"].unit == u.pix**2
    assert table["semimajor_sigma"].unit == u.pix
    assert table["orientation"].unit == u.deg
    for name in table.colnames:
        assert table[name].description, name
    assert "SYNTHETIC" in table["ra"].description


def test_meta(xdf):
    table, _, _ = xdf
    assert "Hubble eXtreme Deep Field" in table.meta["source"]
    assert "public domain" in table.meta["source"]
    assert table.meta["wcs_synthetic"] is True
    assert "SYNTHETIC" in table.meta["wcs_note"]
    for key in ("threshold_nsigma", "min_area_px", "deblend_nlevels", "deblend_contrast",
                "kernel_fwhm_px", "bkg_box_px", "stamp_size"):
        assert key in table.meta


def test_cutouts_finite(xdf):
    _, cutouts, _ = xdf
    assert np.all(np.isfinite(cutouts))


def test_measurements_finite_and_sane(xdf):
    table, _, _ = xdf
    for name in ("x", "y", "ra", "dec", "flux_red", "flux_green", "flux_blue", "area",
                 "semimajor_sigma", "semiminor_sigma", "ellipticity", "orientation"):
        assert np.all(np.isfinite(table[name])), name
    assert np.all(table["area"] >= 10)
    assert np.all(table["semimajor_sigma"] >= table["semiminor_sigma"])
    assert np.all((table["x"] >= 0) & (table["x"] <= 999))
    assert np.all((table["y"] >= 0) & (table["y"] <= 871))
    colour = np.asarray(table["colour_blue_red"])
    both_pos = (np.asarray(table["flux_blue"]) > 0) & (np.asarray(table["flux_red"]) > 0)
    np.testing.assert_array_equal(np.isfinite(colour), both_pos)


def test_edge_flag_matches_geometry(xdf):
    table, cutouts, _ = xdf
    half = STAMP // 2
    xi = np.rint(np.asarray(table["x"])).astype(int)
    yi = np.rint(np.asarray(table["y"])).astype(int)
    expected = (xi - half < 0) | (yi - half < 0) | (xi - half + STAMP > 1000) | (yi - half + STAMP > 872)
    np.testing.assert_array_equal(np.asarray(table["edge"]), expected)
    assert 0 < expected.sum() < len(table)  # edge sources kept, not dropped
    # An edge stamp at the top border is zero padded in its first rows.
    top = np.flatnonzero(yi - half < 0)
    assert top.size
    i = top[0]
    assert np.all(cutouts[i, :, : half - yi[i], :] == 0)


def test_brightest_stamp_peak_centred(xdf):
    table, cutouts, _ = xdf
    total = np.asarray(table["flux_red"] + table["flux_green"] + table["flux_blue"])
    total[np.asarray(table["edge"])] = -np.inf
    i = int(np.argmax(total))
    stamp = cutouts[i].sum(axis=0)
    py, px = np.unravel_index(np.argmax(stamp), stamp.shape)
    assert abs(py - STAMP // 2) <= 3 and abs(px - STAMP // 2) <= 3


def test_sky_positions_near_xdf_centre(xdf):
    table, _, _ = xdf
    centre = SkyCoord(XDF_RA_DEG * u.deg, XDF_DEC_DEG * u.deg)
    coords = SkyCoord(table["ra"].quantity, table["dec"].quantity)
    assert np.all(coords.separation(centre) < 2 * u.arcmin)
    # Synthetic WCS: 1000 px span 2.4 arcmin, east to the left (RA falls with x).
    assert table.meta["pixel_scale_arcsec"] == pytest.approx(0.144)
    left, right = np.argmin(table["x"]), np.argmax(table["x"])
    assert table["ra"][left] > table["ra"][right]


def test_deterministic(xdf):
    table, cutouts, bands = xdf
    table2, cutouts2, bands2 = build_xdf_catalogue(stamp_size=STAMP, min_area_px=10)
    assert bands == bands2
    assert len(table) == len(table2)
    for name in table.colnames:
        np.testing.assert_array_equal(np.asarray(table[name]), np.asarray(table2[name]))
    np.testing.assert_array_equal(cutouts, cutouts2)


def test_cut_stamps_padding_unit():
    image = np.arange(2 * 10 * 12, dtype=float).reshape(2, 10, 12) + 1.0
    stamps, edge = _cut_stamps(image, np.array([0, 6]), np.array([0, 5]), 4)
    assert stamps.shape == (2, 2, 4, 4) and stamps.dtype == np.float32
    np.testing.assert_array_equal(edge, [True, False])
    # Centre pixel (size // 2) holds the requested image pixel.
    assert stamps[0, 0, 2, 2] == image[0, 0, 0]
    assert stamps[1, 1, 2, 2] == image[1, 5, 6]
    assert np.all(stamps[0, :, :2, :] == 0) and np.all(stamps[0, :, :, :2] == 0)


@pytest.mark.parametrize("kwargs", [{"stamp_size": 0}, {"min_area_px": 0}])
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        build_xdf_catalogue(**kwargs)
