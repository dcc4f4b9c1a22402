"""Property tests for the simulated galaxy / star cutouts (astroexplorer.demo.galaxies)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from astroexplorer.demo import galaxies as gal
from astroexplorer.demo.galaxies import (
    BANDS,
    MORPHOLOGIES,
    PIXEL_SCALE_ARCSEC,
    render_cutouts,
    render_object,
)

SIZE = 64
G, R, Z = (BANDS.index(b) for b in ("g", "r", "z"))


@pytest.fixture(scope="module")
def sample() -> dict[str, tuple[np.ndarray, list[dict[str, float]]]]:
    """40 noisy cutouts per class (one call per class, fixed seed)."""
    return {m: render_cutouts([m] * 40, seed=2024 + i) for i, m in enumerate(MORPHOLOGIES)}


def _grid(p: dict[str, float], size: int = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Pixel offsets (x, y) from the true object centre."""
    c = (size - 1) / 2.0
    yy, xx = np.mgrid[:size, :size].astype(float)
    return xx - c - p["x_offset_px"], yy - c - p["y_offset_px"]


def _moments(img: np.ndarray, p: dict[str, float], sigma_w: float) -> tuple[float, float]:
    """Gaussian-windowed second moments -> (axis ratio, size sqrt(l1 + l2) in pixels)."""
    x, y = _grid(p, img.shape[-1])
    w = img * np.exp(-0.5 * (x * x + y * y) / sigma_w**2)
    s = w.sum()
    mxx, myy, mxy = (w * x * x).sum() / s, (w * y * y).sum() / s, (w * x * y).sum() / s
    lam = np.clip(np.linalg.eigvalsh([[mxx, mxy], [mxy, myy]]), 1e-6, None)
    return math.sqrt(lam[0] / lam[1]), math.sqrt(lam.sum())


def _aperture(cut: np.ndarray, p: dict[str, float], radius_px: float) -> np.ndarray:
    """Per-band flux (nmgy) inside a circular aperture around the true centre."""
    x, y = _grid(p, cut.shape[-1])
    return cut[:, x * x + y * y < radius_px**2].sum(axis=1)


# --------------------------------------------------------------------------- API contract
def test_shape_dtype_finite(sample) -> None:
    for m, (cut, params) in sample.items():
        assert cut.shape == (40, len(BANDS), SIZE, SIZE) and cut.dtype == np.float32, m
        assert np.isfinite(cut).all(), m
        assert len(params) == 40
    img, p = render_object("spiral", np.random.default_rng(0), size=40)
    assert img.shape == (3, 40, 40) and img.dtype == np.float32 and np.isfinite(img).all()


def test_params_have_identical_float_keys(sample) -> None:
    keys = None
    for m, (_, params) in sample.items():
        for p in params:
            assert all(type(v) is float for v in p.values()), m
            keys = keys or set(p)
            assert set(p) == keys, m
            assert p["morphology_id"] == MORPHOLOGIES.index(m)
            assert 17.0 <= p["mag_r"] <= 21.5
            assert math.isclose(p["flux_r_nmgy"], 10 ** ((22.5 - p["mag_r"]) / 2.5), rel_tol=1e-9)
            assert math.hypot(p["x_offset_px"], p["y_offset_px"]) < 2.0
            assert 1.0 <= p["psf_fwhm_arcsec"] <= 1.6 and p["sky_sigma"] > 0
            if m != "merger":  # a merger reports its primary, which may be a spiral
                assert math.isnan(p["n_arms"]) == (m not in ("spiral", "barred_spiral")), m
            assert math.isnan(p["bar_length_arcsec"]) == (m != "barred_spiral"), m
            assert math.isnan(p["r_eff_arcsec"]) == (m == "star"), m
            assert math.isnan(p["merger_separation_arcsec"]) == (m != "merger"), m
    for p in sample["edge_on"][1]:
        assert 0.1 <= p["axis_ratio"] <= 0.25
    for p in sample["elliptical"][1]:
        assert 0.6 <= p["axis_ratio"] <= 1.0 and 3.0 <= p["sersic_n"] <= 6.0


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        render_cutouts(["spiral", "quasar"], seed=1)
    with pytest.raises(ValueError):
        render_object("blob", np.random.default_rng(0))
    with pytest.raises(ValueError):
        render_object("star", np.random.default_rng(0), size=4)


# --------------------------------------------------------------------------- determinism
def test_deterministic_by_seed() -> None:
    labels = list(MORPHOLOGIES) * 2
    a, pa = render_cutouts(labels, seed=11)
    b, pb = render_cutouts(labels, seed=11)
    c, _ = render_cutouts(labels, seed=12)
    np.testing.assert_array_equal(a, b)
    for x, y in zip(pa, pb, strict=True):
        assert list(x) == list(y)
        np.testing.assert_array_equal(list(x.values()), list(y.values()))  # NaN == NaN here
    assert not np.allclose(a, c)


def test_object_independent_of_other_objects() -> None:
    labels = ["spiral", "merger", "star", "edge_on", "irregular", "elliptical", "barred_spiral"]
    full, pfull = render_cutouts(labels, seed=5)
    head, phead = render_cutouts(labels[:3], seed=5)  # fewer objects
    np.testing.assert_array_equal(full[:3], head)
    assert [p["mag_r"] for p in pfull[:3]] == [p["mag_r"] for p in phead]
    swapped = labels.copy()
    swapped[1], swapped[4] = "star", "spiral"  # change other objects' classes
    other, _ = render_cutouts(swapped, seed=5)
    for i in (0, 2, 3, 5, 6):
        np.testing.assert_array_equal(full[i], other[i])


# --------------------------------------------------------------------------- physics
def test_sersic_b_encloses_half_light() -> None:
    for n in (0.5, 1.0, 2.0, 4.0, 6.0, 8.0):
        assert abs(special.gammainc(2 * n, gal._sersic_b(n)) - 0.5) < 2e-4


def test_edge_on_flatter_than_ellipticals(sample) -> None:
    q_edge = np.median([_moments(c[R], p, 10.0)[0] for c, p in zip(*sample["edge_on"], strict=True)])
    q_ell = np.median([_moments(c[R], p, 10.0)[0] for c, p in zip(*sample["elliptical"], strict=True)])
    assert q_edge < 0.75 * q_ell, (q_edge, q_ell)


def test_ellipticals_redder_than_irregulars(sample) -> None:
    def gr(m: str) -> float:
        fl = np.array([_aperture(c, p, 3.0 / PIXEL_SCALE_ARCSEC) for c, p in zip(*sample[m], strict=True)])
        return float(
            np.median(-2.5 * np.log10(np.clip(fl[:, G], 1e-3, None) / np.clip(fl[:, R], 1e-3, None)))
        )

    assert gr("elliptical") > gr("irregular") + 0.3
    assert gr("elliptical") > gr("spiral") > gr("irregular")  # bulge-dominated is redder


def test_stars_are_smallest(sample) -> None:
    size = {
        m: np.median([_moments(c[R], p, 8.0)[1] for c, p in zip(*sample[m], strict=True)])
        for m in MORPHOLOGIES
    }
    for m in MORPHOLOGIES[:-1]:
        assert size["star"] < 0.8 * size[m], (m, size)


def test_star_photometry_and_colour_match_truth(sample) -> None:
    cut, params = sample["star"]
    keep = [i for i, p in enumerate(params) if p["has_neighbour"] == 0]
    assert len(keep) >= 15
    flux = np.array([_aperture(cut[i], params[i], 24.0) for i in keep])
    true_r = np.array([params[i]["flux_r_nmgy"] for i in keep])
    assert 0.95 < flux[:, R].sum() / true_r.sum() < 1.02  # calibrated: Moffat wings lose <~2%
    bright = [k for k, i in enumerate(keep) if params[i]["mag_r"] < 20.0]
    meas = -2.5 * np.log10(flux[bright, G] / flux[bright, R])
    truth = np.array([params[keep[k]]["g_minus_r"] for k in bright])
    assert np.median(np.abs(meas - truth)) < 0.1


def test_noiseless_flux_never_exceeds_truth() -> None:
    ss = np.random.SeedSequence(99).spawn(60)
    for i, child in enumerate(ss):
        m = ("elliptical", "star", "spiral")[i % 3]
        img, p = gal._render(m, np.random.default_rng(child), SIZE, noise=False)
        if p["has_neighbour"]:
            continue
        ratio = img[R].sum() / p["flux_r_nmgy"]
        assert 0.5 < ratio < 1.01, (m, ratio)
        assert img.min() > -1e-6 * img.max()  # no negative model flux


def test_noise_matches_declared_sky_and_is_heteroscedastic() -> None:
    z_corner, z_core, excess = [], [], []
    for child in np.random.SeedSequence(3).spawn(30):
        model, p = gal._render("star", np.random.default_rng(child), SIZE, noise=False)
        noisy, _ = gal._render("star", np.random.default_rng(child), SIZE, noise=True)
        sky = np.array([p["sky_sigma_g"], p["sky_sigma"], p["sky_sigma_z"]])[:, None, None]
        var = sky**2 + np.clip(model, 0, None) / p["gain_e_per_nmgy"]
        zres = (noisy - model) / np.sqrt(var)
        z_corner.append(zres[:, :10, :10].ravel())
        z_core.append(zres[:, 28:36, 28:36].ravel())
        excess.append(var[R, 28:36, 28:36].mean() / sky[R, 0, 0] ** 2)
    assert abs(np.std(np.concatenate(z_corner)) - 1) < 0.05
    assert abs(np.std(np.concatenate(z_core)) - 1) < 0.05
    assert np.median(excess) > 1.05  # source noise adds variance on the star


def test_neighbour_fraction() -> None:
    _, params = render_cutouts(["star"] * 300, seed=8)
    frac = np.mean([p["has_neighbour"] for p in params])
    assert 0.2 < frac < 0.4
    for p in params:
        if p["has_neighbour"]:
            assert p["neighbour_mag_r"] > p["mag_r"]
