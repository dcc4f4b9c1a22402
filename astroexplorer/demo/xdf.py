"""Real-galaxy demo catalogue from the Hubble eXtreme Deep Field (XDF).

The image is the 8-bit RGB press-release rendering of the XDF shipped with
scikit-image (:func:`skimage.data.hubble_deep_field`, shape ``(872, 1000, 3)``,
``uint8``; HST, NASA/ESA, public domain).  It is a *stretched JPEG*: it has no
world coordinate system (WCS) and no flux calibration.  All "fluxes" below are
therefore sums of background-subtracted pixel values in *data units* (the
8-bit value divided by 255, i.e. 0..1 per channel) and are useful only for
relative ranking and colour-like comparisons inside this one image.

Sky coordinates come from a **synthetic** tangent-plane (TAN) WCS centred on
the real XDF position (RA = 53.1625 deg, Dec = -27.7914 deg) with a pixel
scale chosen so that the 1000 px width spans 2.4 arcmin.  The picture's rows
are flipped on reading so that, as in FITS, row 0 is the *bottom* row: displayed
with the origin at the lower left (as DS9 and AstroExplorer do) the field looks
as in the press image, north up and east left.  The WCS is approximate and must
not be used for real astrometry.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.table import Table
from astropy.wcs import WCS
from photutils.segmentation import SourceCatalog
from scipy import ndimage

from ..io.wide_field import cut_stamps, detect_segments, estimate_background, smooth

__all__ = ["XDF_RA_DEG", "XDF_DEC_DEG", "XDF_WIDTH_ARCMIN", "BANDS", "build_xdf_catalogue"]

#: Real XDF field centre used for the synthetic WCS (ICRS, degrees).
XDF_RA_DEG: float = 53.1625
XDF_DEC_DEG: float = -27.7914
#: Angular width assigned to the full image width by the synthetic WCS (arcmin).
XDF_WIDTH_ARCMIN: float = 2.4
#: Channel order of the cutouts and of the ``flux_*`` columns.
BANDS: tuple[str, ...] = ("red", "green", "blue")

_SOURCE = "Hubble eXtreme Deep Field (scikit-image data.hubble_deep_field), HST/NASA/ESA, public domain"
_WCS_NOTE = (
    "SYNTHETIC/APPROXIMATE WCS: the source JPEG carries no WCS. A TAN projection centred on "
    f"RA={XDF_RA_DEG} deg, Dec={XDF_DEC_DEG} deg, {XDF_WIDTH_ARCMIN} arcmin across the image "
    "width, north up / east left with row 0 at the bottom (FITS order). Not valid for real astrometry."
)
_FLUX_NOTE = (
    "summed background-subtracted pixel values over the segment, in data units "
    "(8-bit JPEG value / 255); stretched, uncalibrated, relative only"
)

# Detection parameters (also copied into the table meta).
_BKG_BOX = 50
_BKG_FILTER = 3
_BKG_SIGMA = 3.0
_DET_FWHM = 3.0
_DET_KSIZE = 5
_DET_NSIGMA = 3.0
_DEBLEND_NLEVELS = 32
_DEBLEND_CONTRAST = 0.003


def _background(image: np.ndarray):
    """Sigma-clipped median 2D background of one ``(ny, nx)`` image (data units)."""
    return estimate_background(image, _BKG_BOX, filter_size=_BKG_FILTER, sigma=_BKG_SIGMA)


def _synthetic_wcs(shape: tuple[int, int]) -> WCS:
    """Build the synthetic TAN WCS for an image of ``shape`` = ``(ny, nx)`` pixels.

    The reference pixel is the image centre; ``CDELT`` is
    ``XDF_WIDTH_ARCMIN / nx`` (arcmin/pix) on both axes: negative in x so east
    is towards column 0, positive in y so north is towards the last row (FITS).
    """
    ny, nx = shape
    scale_deg = XDF_WIDTH_ARCMIN / 60.0 / nx
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.cunit = ["deg", "deg"]
    wcs.wcs.crval = [XDF_RA_DEG, XDF_DEC_DEG]
    wcs.wcs.crpix = [(nx + 1) / 2.0, (ny + 1) / 2.0]  # FITS 1-based centre
    wcs.wcs.cdelt = [-scale_deg, scale_deg]
    wcs.wcs.radesys = "ICRS"
    return wcs


def _cut_stamps(
    image: np.ndarray, xc: np.ndarray, yc: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cut zero-padded ``size`` x ``size`` stamps from a ``(C, ny, nx)`` image.

    Stamp pixel ``(size // 2, size // 2)`` is the pixel ``(yc, xc)`` (integer,
    0-based).  Returns ``(stamps, edge)``: ``(N, C, size, size)`` float32 and an
    ``(N,)`` bool mask that is True where the stamp crosses the image border.
    """
    return cut_stamps(image, xc, yc, size, fill=0.0)


def build_xdf_catalogue(
    stamp_size: int = 48, min_area_px: int = 10
) -> tuple[Table, np.ndarray, tuple[str, ...]]:
    """Detect, measure and cut galaxies in the scikit-image XDF image.

    Detection runs on the mean of the three background-subtracted channels,
    smoothed with a Gaussian kernel (FWHM 3 pix), thresholded at 3 sigma of
    the 2D background RMS (``Background2D``, 50 pix boxes, 3-sigma clipping)
    and deblended (32 levels, contrast 0.003).  Every detected source is kept
    (edge sources are flagged, not dropped), ordered by ``source_id``.  The
    result is deterministic.  Takes about 2 s on one CPU core.  The steps are
    those of :mod:`astroexplorer.io.wide_field` with the XDF's parameters, except
    that stamps are zero padded here (NaN there).

    Parameters
    ----------
    stamp_size : int, optional
        Side of the square cutouts in pixels (default 48).  The rounded
        centroid lands on stamp pixel ``(stamp_size // 2, stamp_size // 2)``.
    min_area_px : int, optional
        Minimum number of connected pixels above threshold for a detection
        (``npixels`` of ``detect_sources``; default 10).

    Returns
    -------
    table : astropy.table.Table
        One row per source (``N`` rows).  Columns: ``source_id`` (int,
        1-based segmentation label), ``x``, ``y`` (pix; 0-based centroid,
        ``x`` = column, ``y`` = row), ``ra``, ``dec`` (deg; from a SYNTHETIC
        approximate WCS, see module docstring), ``flux_red``, ``flux_green``,
        ``flux_blue`` (dimensionless data units, image/255, background
        subtracted, summed over the segment), ``area`` (pix2),
        ``semimajor_sigma``, ``semiminor_sigma`` (pix; 1-sigma moments
        ellipse), ``ellipticity`` (1 - b/a), ``orientation`` (deg,
        counter-clockwise from +x), ``colour_blue_red``
        (``-2.5 log10(flux_blue / flux_red)``, NaN where either flux <= 0),
        ``edge`` (bool, stamp crosses the image border and is zero padded).
        ``table.meta`` holds the provenance, the WCS caveat and the detection
        parameters.
    cutouts : numpy.ndarray
        ``(N, 3, stamp_size, stamp_size)`` float32, channels first in
        ``bands`` order, background-subtracted data units; pixels outside the
        image are 0 (never NaN).
    bands : tuple of str
        ``("red", "green", "blue")``.

    Raises
    ------
    ValueError
        If ``stamp_size`` < 1 or ``min_area_px`` < 1.
    """
    if stamp_size < 1 or min_area_px < 1:
        raise ValueError("stamp_size and min_area_px must be positive integers")
    from skimage import data as skdata  # local import: loads the bundled JPEG

    # (ny, nx, 3) uint8, top row first; flipped to FITS order (bottom row first).
    rgb = skdata.hubble_deep_field()[::-1]
    # float64 from exact integer arithmetic, so the result does not depend on
    # summation order (the JPEG values are quantised: ties at the threshold).
    channels = np.moveaxis(rgb, -1, 0).astype(np.float64) / 255.0  # (3, ny, nx)
    mean_image = rgb.sum(axis=-1, dtype=np.int64) / 765.0  # (ny, nx) mean of R, G, B
    shape = mean_image.shape

    # Per-channel background subtraction; detection image = mean of channels.
    sub = np.stack([c - _background(c).background for c in channels])
    det_bkg = _background(mean_image)
    detection = mean_image - det_bkg.background

    convolved = smooth(detection, _DET_FWHM, _DET_KSIZE)
    segm = detect_segments(convolved, _DET_NSIGMA * det_bkg.background_rms, min_area_px,
                           deblend=True, n_levels=_DEBLEND_NLEVELS, contrast=_DEBLEND_CONTRAST)
    if segm is None:  # pragma: no cover - the XDF always has sources
        raise RuntimeError("no sources detected in the XDF image")

    cat = SourceCatalog(detection, segm, convolved_data=convolved)
    labels = np.asarray(cat.label, dtype=np.int64)
    order = np.argsort(labels, kind="stable")
    labels = labels[order]
    x = np.asarray(cat.x_centroid, dtype=float)[order]
    y = np.asarray(cat.y_centroid, dtype=float)[order]
    # Fall back to the peak pixel should a centroid ever be non-finite.
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        x[bad] = np.asarray(cat.max_value_xindex, dtype=float)[order][bad]
        y[bad] = np.asarray(cat.max_value_yindex, dtype=float)[order][bad]

    fluxes = [np.asarray(ndimage.sum_labels(c, segm.data, index=labels), dtype=float) for c in sub]
    ok = (fluxes[2] > 0) & (fluxes[0] > 0)  # NaN-safe colour: only where both fluxes > 0
    colour = np.full(labels.shape, np.nan)
    colour[ok] = -2.5 * np.log10(fluxes[2][ok] / fluxes[0][ok])

    wcs = _synthetic_wcs(shape)
    ra, dec = wcs.pixel_to_world_values(x, y)  # 0-based pixel convention

    xi = np.rint(x).astype(np.int64)
    yi = np.rint(y).astype(np.int64)
    cutouts, edge = _cut_stamps(sub, xi, yi, stamp_size)

    def _q(name: str) -> np.ndarray:
        return np.asarray(getattr(cat, name).value, dtype=float)[order]

    table = Table()
    table["source_id"] = labels
    table["source_id"].description = "segmentation label (1-based, consecutive)"
    cols = [
        ("x", x, u.pix, "centroid column, 0-based pixel (detection image)"),
        ("y", y, u.pix, "centroid row, 0-based pixel (detection image)"),
        ("ra", np.asarray(ra, dtype=float), u.deg, "right ascension from SYNTHETIC approximate TAN WCS"),
        ("dec", np.asarray(dec, dtype=float), u.deg, "declination from SYNTHETIC approximate TAN WCS"),
        ("flux_red", fluxes[0], None, f"red-channel flux: {_FLUX_NOTE}"),
        ("flux_green", fluxes[1], None, f"green-channel flux: {_FLUX_NOTE}"),
        ("flux_blue", fluxes[2], None, f"blue-channel flux: {_FLUX_NOTE}"),
        ("area", _q("area"), u.pix**2, "segment area"),
        ("semimajor_sigma", _q("semimajor_axis"), u.pix, "1-sigma semimajor axis of the moments ellipse"),
        ("semiminor_sigma", _q("semiminor_axis"), u.pix, "1-sigma semiminor axis of the moments ellipse"),
        ("ellipticity", _q("ellipticity"), None, "1 - semiminor/semimajor"),
        ("orientation", _q("orientation"), u.deg, "major-axis angle, counter-clockwise from +x"),
        ("colour_blue_red", colour, None,
         "-2.5 log10(flux_blue / flux_red) in JPEG data units (not a calibrated colour); NaN if a flux <= 0"),
    ]
    for name, values, unit, desc in cols:
        table[name] = values
        table[name].unit = unit
        table[name].description = desc
    table["edge"] = edge
    table["edge"].description = "stamp crosses the image border (out-of-image pixels zero padded)"

    table.meta.update(
        {
            "source": _SOURCE,
            "image_shape": list(shape),
            "data_units": "8-bit JPEG value / 255 per channel (stretched, uncalibrated)",
            "bands": list(BANDS),
            "wcs_synthetic": True,
            "wcs_note": _WCS_NOTE,
            "wcs_crval_deg": [XDF_RA_DEG, XDF_DEC_DEG],
            "pixel_scale_arcsec": XDF_WIDTH_ARCMIN * 60.0 / shape[1],
            "bkg_box_px": _BKG_BOX,
            "bkg_filter_size": _BKG_FILTER,
            "bkg_sigma_clip": _BKG_SIGMA,
            "detection_image": "mean of background-subtracted R, G, B",
            "kernel_fwhm_px": _DET_FWHM,
            "kernel_size_px": _DET_KSIZE,
            "threshold_nsigma": _DET_NSIGMA,
            "min_area_px": int(min_area_px),
            "deblend_nlevels": _DEBLEND_NLEVELS,
            "deblend_contrast": _DEBLEND_CONTRAST,
            "stamp_size": int(stamp_size),
            "n_sources": len(table),
        }
    )
    return table, cutouts, BANDS
