"""The simulated, labelled, multi-modal demo survey: cutouts plus light curves."""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.table import Column, Table

from ..core.lightcurves import TableLightCurveSource
from .galaxies import BANDS, MORPHOLOGIES, render_cutouts
from .lightcurves import simulate_lightcurves

__all__ = ["build_survey_catalogue", "survey_lightcurve_source", "STAR_CLASSES", "GALAXY_CLASSES"]

#: Variability classes given to stars and to galaxies (their nuclei / transients).
STAR_CLASSES = ("constant", "rr_lyrae", "cepheid", "eclipsing_binary", "long_period")
GALAXY_CLASSES = ("constant", "supernova", "agn")
_GALAXY_CLASS_P = (0.5, 0.25, 0.25)

#: Field of the simulated survey (deg): a 2 x 2 deg patch of sky.
_FIELD_RA, _FIELD_DEC, _FIELD_SIZE = 150.0, 2.2, 2.0


def build_survey_catalogue(
    n_objects: int = 3000, seed: int = 42, stamp_size: int = 64, star_fraction: float = 0.3
) -> tuple[Table, np.ndarray, tuple[str, ...], Table]:
    """Simulate a survey whose labels and true parameters are known.

    Stars get point-source cutouts and stellar variability (constant, RR Lyrae,
    Cepheid, eclipsing binary, long-period); galaxies get one of six morphologies
    and a light curve that is constant, a supernova or an AGN damped random walk.

    Returns
    -------
    table : Table
        One row per object: ``object_id``, ``ra``, ``dec`` (deg), ``morphology``,
        ``var_class``, ``is_star``, ``split`` ("train" 80% / "test" 20%) and every
        true parameter as ``true_*`` columns.
    cutouts : ndarray, shape (N, 3, stamp_size, stamp_size), float32
        g, r, z images in nanomaggies per pixel.
    bands : tuple of str
    lightcurves : Table
        Long format: ``object_id``, ``mjd`` (d), ``mag``, ``mag_err`` (mag), ``band``.
    """
    rng = np.random.default_rng(seed)
    n_stars = int(round(n_objects * star_fraction))
    galaxy_morphs = [m for m in MORPHOLOGIES if m != "star"]
    morph = np.array(["star"] * n_stars + [galaxy_morphs[i % len(galaxy_morphs)]
                                           for i in range(n_objects - n_stars)], dtype=object)
    var = np.empty(n_objects, dtype=object)
    var[:n_stars] = [STAR_CLASSES[i % len(STAR_CLASSES)] for i in range(n_stars)]
    var[n_stars:] = rng.choice(GALAXY_CLASSES, size=n_objects - n_stars, p=_GALAXY_CLASS_P)
    order = rng.permutation(n_objects)
    morph, var = morph[order], var[order]

    cutouts, image_params = render_cutouts(list(morph), seed=seed, size=stamp_size)
    mean_mags = [p["mag_r"] for p in image_params]
    lc_columns, lc_params = simulate_lightcurves(list(var), mean_mags, seed=seed + 1)

    table = Table(meta={
        "ORIGIN": "AstroExplorer simulated demo survey",
        "SEED": seed,
        "COMMENT": ["Simulated objects: labels (morphology, var_class) and true_* parameters "
                    "are the truth used to generate the data."],
    })
    object_id = np.arange(1, n_objects + 1, dtype=np.int64)
    table["object_id"] = Column(object_id, description="object identifier")
    half = _FIELD_SIZE / 2
    dec = _FIELD_DEC + rng.uniform(-half, half, n_objects)
    ra = _FIELD_RA + rng.uniform(-half, half, n_objects) / np.cos(np.radians(dec))
    table["ra"] = Column(ra, unit=u.deg, description="right ascension (ICRS)")
    table["dec"] = Column(dec, unit=u.deg, description="declination (ICRS)")
    table["morphology"] = Column(morph.astype(str), description="true morphological class")
    table["var_class"] = Column(var.astype(str), description="true variability class")
    table["is_star"] = Column(morph == "star", description="point source (star)")
    split = np.where(rng.random(n_objects) < 0.8, "train", "test")
    table["split"] = Column(split, description="train / test split for quality benchmarks")
    _add_params(table, image_params, "true_")
    _add_params(table, lc_params, "true_lc_")

    lightcurves = Table()
    rows = np.asarray(lc_columns["row"])
    lightcurves["object_id"] = Column(object_id[rows], description="object identifier")
    lightcurves["mjd"] = Column(lc_columns["mjd"], unit=u.d, description="modified Julian date")
    lightcurves["mag"] = Column(lc_columns["mag"], unit=u.mag, description="AB magnitude")
    lightcurves["mag_err"] = Column(lc_columns["mag_err"], unit=u.mag,
                                    description="1-sigma magnitude uncertainty")
    lightcurves["band"] = Column(np.asarray(lc_columns["band"]).astype(str), description="band")
    return table, cutouts, tuple(BANDS), lightcurves


def _add_params(table: Table, params: list[dict[str, float]], prefix: str) -> None:
    for key in params[0]:
        values = np.array([p[key] for p in params], dtype=np.float64)
        name = prefix + key
        unit = None
        if key.endswith("_deg"):
            unit = u.deg
        elif key.endswith("_arcsec"):
            unit = u.arcsec
        elif key.endswith("_days"):
            unit = u.d
        elif key.endswith("_mjd"):
            unit = u.d
        elif key.startswith("mag") or key.endswith("_mag"):
            unit = u.mag
        table[name] = Column(values, unit=unit, description=f"true {key.replace('_', ' ')}")


def survey_lightcurve_source(table: Table, lightcurves: Table) -> TableLightCurveSource:
    """The light curves of :func:`build_survey_catalogue` as a source, row ``i`` for
    ``table`` row ``i`` (for scripts that embed the survey without writing it to disk)."""
    return TableLightCurveSource(lightcurves, np.asarray(table["object_id"]), "object_id", "mjd",
                                 "mag", "mag_err", "band")
