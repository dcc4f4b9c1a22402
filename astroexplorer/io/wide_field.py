"""Detect sources in one wide-field image and cut a stamp around each.

The input is a FITS image (the first image HDU with 2-D data, or a ``(C, H, W)``
cube of bands; compressed HDUs too) with its celestial WCS, or a PNG / JPEG /
TIFF picture read with Pillow (channels as bands, no WCS). Pictures are flipped
on reading so that, as in FITS, array row 0 is the *bottom* row, and integer
pixels are scaled to 0..1 (value / 255 or / 65535).

Pipeline (:func:`detect_and_cut_job`): a sigma-clipped median 2-D background per
band (photutils ``Background2D``); a detection image (the band, or the mean of
the bands, background subtracted) smoothed with a Gaussian kernel (FWHM 3 px);
``detect_sources`` above ``threshold_sigma`` times the background RMS with
``npixels`` connected pixels; ``deblend_sources`` (32 levels, contrast 0.001);
``SourceCatalog`` measurements; one ``stamp_size`` square stamp per source.

Conventions of the catalogue table:

- ``x``, ``y`` and ``stamp_xmin``, ``stamp_ymin`` are FITS pixel coordinates:
  1-based, the centre of the first pixel is (1.0, 1.0), as DS9 shows them.
  astropy's ``pixel_to_world`` takes ``x - 1``, ``y - 1``.
- Stamp pixel ``[size // 2, size // 2]`` (array index) is the image pixel
  nearest the centroid. Stamps crossing the image border are kept, padded with
  NaN, and flagged in the boolean column ``edge``.
- Stamps hold background-subtracted pixels in the image's unit (``BUNIT``).
- :class:`StampImageSource` gives each stamp's WCS: the image WCS with its
  reference pixel shifted to the stamp's origin. :func:`write_stamp_catalogue`
  stores the image WCS in the primary header (with ``STAMPWCS = T``) so that an
  attacher registered here restores ``wcs(row)`` when the file is read back.
"""

from __future__ import annotations

import re
import warnings
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Table
from astropy.utils.exceptions import AstropyWarning
from astropy.wcs import WCS, Sip

from ..core.catalogue import Catalogue
from ..core.errors import UserError
from ..core.images import ArrayImageSource
from ..jobs.base import Job, Progress
from .fits_reader import CUTOUTS_EXTNAME, bands_from_header, is_fits
from .fits_writer import write_catalogue_fits
from .registry import Attacher, OpenOptions, register_attacher

__all__ = [
    "MIN_STAMP_SIZE", "STAMP_WCS_KEY", "WideFieldImage", "StampImageSource",
    "read_wide_field_image", "detect_and_cut_job", "estimate_background", "smooth",
    "detect_segments", "cut_stamps", "stamp_wcs", "write_stamp_catalogue",
]

#: Smallest stamp side accepted, in pixels.
MIN_STAMP_SIZE = 8
#: Primary-header keyword saying the file's WCS is the parent image's, for stamps.
STAMP_WCS_KEY = "STAMPWCS"

_KERNEL_FWHM = 3.0
_KERNEL_SIZE = 5
_DEBLEND_NLEVELS = 32
_DEBLEND_CONTRAST = 0.001
_BKG_FILTER = 3
_BKG_SIGMA = 3.0
#: Stamps cut, and segments deblended, between two progress reports (and cancel checks).
_CUT_CHUNK = 256
_DEBLEND_CHUNK = 256
_PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")


@dataclass
class WideFieldImage:
    """One image read for detection.

    Attributes
    ----------
    data : ndarray, shape (C, H, W), float32
        Pixels, NaN where there is no data; row 0 is the bottom row (FITS order).
    bands : tuple of str
        One name per channel.
    wcs : astropy.wcs.WCS or None
        The 2-D celestial WCS (0-based pixel calls), None when unknown.
    unit : astropy.units.UnitBase or None
        Unit of the pixels (FITS ``BUNIT``), None when not stated.
    label : str
        ``"name.fits [HDU 1]"`` or ``"name.png"``, for messages.
    unit_note : str
        What the pixel values are, when there is no unit (pictures).
    """

    data: np.ndarray
    bands: tuple[str, ...]
    wcs: WCS | None
    unit: u.UnitBase | None
    label: str
    unit_note: str = ""


def _celestial_wcs(header: fits.Header) -> WCS | None:
    """The 2-D celestial WCS of ``header`` when its first two axes are sky axes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyWarning)
        try:
            wcs = WCS(header)
        except Exception:  # a malformed WCS is no WCS: the image is still usable
            return None
        if not wcs.has_celestial or sorted((wcs.wcs.lng, wcs.wcs.lat)) != [0, 1]:
            return None
        cel = wcs.celestial
        cel.wcs.set()
    return cel


def _fits_shape(header: fits.Header) -> tuple[int, ...]:
    naxis = int(header.get("NAXIS", 0))
    return tuple(int(header.get(f"NAXIS{k}", 0)) for k in range(naxis, 0, -1))


def _squeeze(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Drop leading length-1 axes (radio images are often (1, 1, H, W))."""
    while len(shape) > 2 and shape[0] == 1:
        shape = shape[1:]
    return shape


def _read_fits(path: Path, hdu: int | None) -> WideFieldImage:
    try:
        hdul = fits.open(path, memmap=True)
    except OSError as exc:
        raise UserError(f"{path} is not valid FITS: {exc}") from None
    with hdul:
        if hdu is not None:
            if not 0 <= hdu < len(hdul):
                raise UserError(f"{path} has no HDU {hdu}: it has HDUs 0 to {len(hdul) - 1}")
            if not hdul[hdu].is_image:
                raise UserError(f"{path} [HDU {hdu}] is a table, not an image")
            chosen = hdu
        else:
            images = [i for i, h in enumerate(hdul) if h.is_image and _fits_shape(h.header)]
            if not images:
                raise UserError(f"{path} holds no image HDU with data")
            chosen = next((i for i in images if len(_squeeze(_fits_shape(hdul[i].header))) in (2, 3)),
                          images[0])
        header = hdul[chosen].header
        shape = _squeeze(_fits_shape(header))
        where = f"{path} [HDU {chosen}]"
        if not shape or 0 in shape:
            raise UserError(f"{where} holds no data")
        if len(shape) not in (2, 3):
            raise UserError(f"{where} is a {len(shape)}-D image of shape {shape}; a wide-field "
                            "image must be 2-D (H, W) or a cube of bands (C, H, W)")
        try:
            data = np.array(hdul[chosen].data, dtype=np.float32).reshape(shape)  # a copy
        except (OSError, ValueError, TypeError) as exc:
            raise UserError(f"{where} cannot be read: {exc}") from None
        if data.ndim == 2:
            data = data[None]
            name = header.get("FILTER") or header.get("BAND") or "band0"
            bands = (str(name).strip() or "band0",)
        else:
            bands = tuple(bands_from_header(header, data.shape[0]))
        unit = None
        if header.get("BUNIT"):
            unit = u.Unit(str(header["BUNIT"]).strip(), format="fits", parse_strict="silent")
        return WideFieldImage(data, bands, _celestial_wcs(header), unit,
                              f"{path.name} [HDU {chosen}]")


def _read_picture(path: Path) -> WideFieldImage:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
                rgba = np.asarray(im.convert("RGBA"))
                alpha = rgba[..., 3] == 0
                array = rgba[..., :3] if mode != "LA" else rgba[..., :1]
            else:
                if mode not in ("L", "I", "F", "RGB") and not mode.startswith("I;16"):
                    im = im.convert("L" if mode == "1" else "RGB")
                array = np.asarray(im)
                alpha = None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UserError(f"{path} is neither FITS nor a picture Pillow reads: {exc}") from None
    if array.ndim == 2:
        array = array[..., None]
    if array.dtype == np.uint8:
        scale, note = 255.0, "pixel value / 255 (8-bit picture, uncalibrated)"
    elif array.dtype == np.uint16 or mode.startswith("I;16"):
        scale, note = 65535.0, "pixel value / 65535 (16-bit picture, uncalibrated)"
    else:
        scale, note = 1.0, "pixel value (uncalibrated)"
    data = np.moveaxis(array, -1, 0).astype(np.float32) / np.float32(scale)
    if alpha is not None:
        data[:, alpha] = np.nan  # transparent pixels hold no data
    bands = ("red", "green", "blue") if data.shape[0] == 3 else ("grey",)
    # Row 0 of a picture is its top; FITS (and AstroExplorer's display) start at the bottom.
    return WideFieldImage(np.ascontiguousarray(data[:, ::-1]), bands, None, None, path.name, note)


def read_wide_field_image(path: str | Path, hdu: int | None = None) -> WideFieldImage:
    """Read a FITS image (HDU ``hdu``, else the first image HDU with 2-D or 3-D
    data) or a PNG / JPEG / TIFF picture.

    Returns
    -------
    WideFieldImage
        ``data`` of shape ``(C, H, W)`` float32 (row 0 at the bottom).

    Raises
    ------
    UserError
        Naming the file: missing, not an image, no image HDU, a 1-D or 4-D image,
        ``hdu`` out of range or a table, ``hdu`` given for a picture.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file" if not path.exists() else f"{path} is not a file")
    try:
        fits_file = is_fits(path)
    except OSError as exc:
        raise UserError(f"{path} cannot be read: {exc}") from None
    if fits_file:
        return _read_fits(path, hdu)
    if hdu is not None:
        raise UserError(f"{path} is not FITS: an HDU number applies to FITS files only")
    return _read_picture(path)


def estimate_background(image: np.ndarray, box_size: int, filter_size: int = _BKG_FILTER,
                        sigma: float = _BKG_SIGMA, mask: np.ndarray | None = None):
    """Sigma-clipped median 2-D background of an ``(H, W)`` image.

    Returns a photutils ``Background2D``: ``.background`` and
    ``.background_rms`` are ``(H, W)`` arrays in the image's unit.
    """
    from astropy.stats import SigmaClip
    from photutils.background import Background2D, MedianBackground

    return Background2D(image, (box_size, box_size), mask=mask,
                        filter_size=(filter_size, filter_size),
                        sigma_clip=SigmaClip(sigma=sigma, maxiters=10),
                        bkg_estimator=MedianBackground())


def smooth(image: np.ndarray, fwhm: float = _KERNEL_FWHM, size: int = _KERNEL_SIZE) -> np.ndarray:
    """``(H, W)`` image convolved with a normalised Gaussian of ``fwhm`` pixels
    (kernel ``size`` x ``size`` px); NaN pixels are interpolated."""
    from astropy.convolution import convolve
    from photutils.segmentation import make_2dgaussian_kernel

    with warnings.catch_warnings():
        # A NaN region wider than the kernel stays NaN; detection masks it anyway.
        warnings.filterwarnings("ignore", message="nan_treatment='interpolate'")
        return convolve(image, make_2dgaussian_kernel(fwhm, size=size))


def detect_segments(convolved: np.ndarray, threshold: np.ndarray | float, npixels: int, *,
                    deblend: bool = True, n_levels: int = _DEBLEND_NLEVELS,
                    contrast: float = _DEBLEND_CONTRAST, mask: np.ndarray | None = None):
    """Segment the smoothed ``(H, W)`` image: ``detect_sources`` above ``threshold``
    (scalar or ``(H, W)``, same unit) with ``npixels`` connected pixels, then
    ``deblend_sources``. Returns a photutils ``SegmentationImage`` or None."""
    from photutils.segmentation import deblend_sources, detect_sources
    from photutils.utils import NoDetectionsWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDetectionsWarning)  # None is the answer
        segm = detect_sources(convolved, threshold, npixels, mask=mask)
    if segm is None or not deblend:
        return segm
    return deblend_sources(convolved, segm, npixels, n_levels=n_levels, contrast=contrast,
                           progress_bar=False)


def cut_stamps(image: np.ndarray, xc: np.ndarray, yc: np.ndarray, size: int,
               fill: float = np.nan) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``size`` x ``size`` stamps from a ``(C, H, W)`` image.

    Stamp array index ``[size // 2, size // 2]`` holds image pixel ``[yc, xc]``
    (integer, 0-based array indices). Returns ``(stamps, edge)``: ``(N, C, size,
    size)`` float32, pixels outside the image set to ``fill``, and an ``(N,)``
    bool array, True where the stamp crosses the image border.
    """
    n_bands, ny, nx = image.shape
    xc = np.asarray(xc, dtype=np.int64)
    yc = np.asarray(yc, dtype=np.int64)
    y0 = yc - size // 2
    x0 = xc - size // 2
    edge = (y0 < 0) | (x0 < 0) | (y0 + size > ny) | (x0 + size > nx)
    stamps = np.full((len(xc), n_bands, size, size), fill, dtype=np.float32)
    for i in range(len(xc)):
        ya, yb = max(y0[i], 0), min(y0[i] + size, ny)
        xa, xb = max(x0[i], 0), min(x0[i] + size, nx)
        if ya < yb and xa < xb:
            stamps[i, :, ya - y0[i]:yb - y0[i], xa - x0[i]:xb - x0[i]] = image[:, ya:yb, xa:xb]
    return stamps, edge


def stamp_wcs(parent: WCS, xmin: int, ymin: int, size: int) -> WCS:
    """The WCS of a stamp whose first pixel is the parent's FITS pixel
    ``(xmin, ymin)`` (1-based): the parent's, reference pixel (and SIP
    reference) shifted by ``(xmin - 1, ymin - 1)``."""
    offset = np.array([xmin - 1, ymin - 1], dtype=float)
    wcs = parent.deepcopy()
    wcs.wcs.crpix = wcs.wcs.crpix - offset
    if wcs.sip is not None:
        wcs.sip = Sip(wcs.sip.a, wcs.sip.b, wcs.sip.ap, wcs.sip.bp, wcs.sip.crpix - offset)
    wcs.pixel_shape = (size, size)
    wcs.wcs.set()
    return wcs


class StampImageSource(ArrayImageSource):
    """Stamps cut from one image, each with its own WCS.

    Parameters
    ----------
    data : ndarray, shape (N, C, S, S)
        The stamps (a memory map is fine: rows are read on demand).
    bands, origin
        As :class:`ArrayImageSource`.
    wcs : astropy.wcs.WCS or None
        The parent image's 2-D celestial WCS.
    xmin, ymin : array of int, shape (N,)
        FITS pixel (1-based) of the parent image at each stamp's first pixel.
    """

    def __init__(self, data: np.ndarray, bands: Sequence[str] | None = None, origin: str = "",
                 *, wcs: WCS | None = None, xmin: Sequence[int] | np.ndarray = (),
                 ymin: Sequence[int] | np.ndarray = ()) -> None:
        super().__init__(data, bands, origin)
        self.parent_wcs = wcs
        self.xmin = np.asarray(xmin, dtype=np.int64)
        self.ymin = np.asarray(ymin, dtype=np.int64)
        if wcs is not None and not (self.xmin.shape == self.ymin.shape == (len(self),)):
            raise ValueError(f"{len(self)} stamps need {len(self)} xmin and ymin values, "
                             f"not {self.xmin.shape} and {self.ymin.shape}")

    def wcs(self, row: int) -> WCS | None:
        """The stamp's WCS, pixel (0, 0) at its first array element, or None."""
        if self.parent_wcs is None:
            return None
        return stamp_wcs(self.parent_wcs, int(self.xmin[row]), int(self.ymin[row]), self.shape[-1])


def _check_parameters(path: Path, stamp_size: int, threshold_sigma: float, npixels: int,
                      max_sources: int | None) -> None:
    if int(stamp_size) != stamp_size or stamp_size < MIN_STAMP_SIZE:
        raise UserError(f"{path}: stamp size {stamp_size} px is too small: use at least "
                        f"{MIN_STAMP_SIZE} px")
    if not np.isfinite(threshold_sigma) or threshold_sigma <= 0:
        raise UserError(f"{path}: the detection threshold must be a positive number of sigma, "
                        f"not {threshold_sigma}")
    if npixels < 1:
        raise UserError(f"{path}: sources need at least 1 connected pixel, not {npixels}")
    if max_sources is not None and max_sources < 1:
        raise UserError(f"{path}: max_sources must be at least 1, not {max_sources}")


def _check_image(path: Path, image: WideFieldImage, stamp_size: int) -> np.ndarray:
    """Refuse unusable pixels; return the ``(C, H, W)`` mask of missing pixels."""
    _, ny, nx = image.data.shape
    if stamp_size > min(ny, nx):
        raise UserError(f"{path}: stamp size {stamp_size} px is larger than the image "
                        f"({nx} x {ny} px)")
    missing = ~np.isfinite(image.data)
    if missing.all():
        raise UserError(f"{path}: every pixel of {image.label} is NaN or infinite")
    image.data[missing] = np.nan  # infinities too: both are "no data" from here on
    good = image.data[~missing]
    if good.min() == good.max():
        raise UserError(f"{path}: {image.label} is constant (every pixel is {good.min():g}); "
                        "there is nothing to detect")
    return missing


def _box_size(ny: int, nx: int) -> int:
    """Background mesh: 64 px boxes; a quarter of the shorter side (at least 16 px,
    at most the image) on images under 256 px."""
    return int(min(max(16, min(ny, nx) // 4), 64, ny, nx))


def _values(cat, name: str, order: np.ndarray) -> np.ndarray:
    value = getattr(cat, name)
    return np.asarray(getattr(value, "value", value), dtype=float)[order]


def _column_band(band: str) -> str:
    return re.sub(r"\W+", "_", band).strip("_") or "band"


def detect_and_cut_job(image_path: str | Path, *, stamp_size: int = 48,
                       threshold_sigma: float = 3.0, npixels: int = 10, deblend: bool = True,
                       hdu: int | None = None, max_sources: int | None = None) -> Job[Catalogue]:
    """Detect the sources of one wide-field image and cut a stamp around each.

    Parameters
    ----------
    image_path : path
        FITS image (2-D, or a ``(C, H, W)`` cube of bands) or PNG / JPEG / TIFF.
    stamp_size : int
        Side of the square stamps in pixels (at least 8, at most the image's side).
    threshold_sigma : float
        Detection threshold, in units of the 2-D background RMS.
    npixels : int
        Minimum number of connected pixels above the threshold.
    deblend : bool
        Split blended segments (``deblend_sources``).
    hdu : int, optional
        FITS HDU to read; default the first image HDU with 2-D or 3-D data.
    max_sources : int, optional
        Keep only this many sources, the brightest in the detection image.

    Returns
    -------
    Catalogue
        One row per source, ordered by ``source_id``; images a
        :class:`StampImageSource` ``(N, C, stamp_size, stamp_size)`` float32
        (background subtracted, NaN outside the image). Columns: ``source_id``,
        ``x``, ``y`` (pix, FITS 1-based), ``ra``, ``dec`` (deg, ICRS; only with a
        celestial WCS), ``flux[_band]`` and ``flux[_band]_err`` (image unit times
        pixels summed over the segment), ``area`` (pix2), ``semimajor_sigma``,
        ``semiminor_sigma``, ``fwhm`` (pix), ``orientation`` (deg), ``ellipticity``,
        ``peak`` (detection image), ``stamp_xmin``, ``stamp_ymin`` (FITS pixel of
        the stamp's first pixel), ``edge`` (bool).

    Raises
    ------
    UserError
        Naming the file: unreadable, no usable image, all NaN or constant, stamp
        size under 8 px or over the image size, no source found.
    """
    path = Path(image_path)
    _check_parameters(path, stamp_size, threshold_sigma, npixels, max_sources)
    stamp_size = int(stamp_size)
    yield Progress(0, 100, f"reading {path.name}")
    image = read_wide_field_image(path, hdu)
    missing = _check_image(path, image, stamp_size)
    n_bands, ny, nx = image.data.shape
    any_missing = missing.any(axis=0)
    mask = any_missing if any_missing.any() else None
    box = _box_size(ny, nx)

    yield Progress(10, 100, f"background of {image.label} ({nx} x {ny} px, {box} px boxes)")
    try:
        if n_bands == 1:
            bkg = estimate_background(image.data[0], box, mask=mask)
            subtracted = (image.data - bkg.background[None]).astype(np.float32)
            detection, det_rms = subtracted[0].astype(float), bkg.background_rms
            rms_bands = [bkg.background_rms]
        else:
            backgrounds = [estimate_background(band, box, mask=mask) for band in image.data]
            subtracted = np.stack([band - b.background for band, b in zip(image.data, backgrounds)]
                                  ).astype(np.float32)
            rms_bands = [b.background_rms for b in backgrounds]
            mean = np.mean(image.data, axis=0, dtype=np.float64)
            det_bkg = estimate_background(mean, box, mask=mask)
            detection, det_rms = mean - det_bkg.background, det_bkg.background_rms
    except ValueError as exc:
        raise UserError(f"{path}: cannot estimate the background of {image.label}: {exc}") from None

    yield Progress(25, 100, f"detecting sources above {threshold_sigma:g} sigma")
    convolved = smooth(detection)
    segm = detect_segments(convolved, threshold_sigma * det_rms, npixels, deblend=False, mask=mask)
    if segm is None:
        raise UserError(f"{path}: no source found in {image.label} above {threshold_sigma:g} "
                        f"sigma with at least {npixels} connected pixels")
    if deblend:
        from photutils.segmentation import deblend_sources

        # Only segments of at least 2 * npixels can split. Deblending them in chunks
        # (labels kept, relabelled once at the end: the result of a single call) lets
        # a long deblend report progress and be cancelled.
        splittable = segm.labels[segm.areas >= 2 * npixels]
        n_chunks = max(1, -(-len(splittable) // _DEBLEND_CHUNK))
        done = 0
        for k, chunk in enumerate(np.array_split(splittable, n_chunks)):
            yield Progress(35 + 20 * k // n_chunks, 100,
                           f"deblending segments {done:,}/{len(splittable):,}")
            done += chunk.size
            if chunk.size:
                segm = deblend_sources(convolved, segm, npixels, labels=chunk,
                                       n_levels=_DEBLEND_NLEVELS, contrast=_DEBLEND_CONTRAST,
                                       relabel=False, progress_bar=False)
        segm.relabel_consecutive()

    yield Progress(55, 100, f"measuring {segm.n_labels:,} sources")
    from photutils.segmentation import SourceCatalog

    cat = SourceCatalog(detection, segm, convolved_data=convolved, mask=mask)
    labels = np.asarray(cat.label, dtype=np.int64)
    order = np.argsort(labels, kind="stable")
    n_detected = len(labels)
    if max_sources is not None and n_detected > max_sources:
        brightest = np.argsort(-np.nan_to_num(_values(cat, "segment_flux", order), nan=-np.inf),
                               kind="stable")[:max_sources]
        order = order[np.sort(brightest)]
    labels = labels[order]
    x = _values(cat, "x_centroid", order)
    y = _values(cat, "y_centroid", order)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():  # a centroid can be undefined (non-positive flux): use the peak pixel
        x[bad] = _values(cat, "max_value_xindex", order)[bad]
        y[bad] = _values(cat, "max_value_yindex", order)[bad]

    table = Table()
    table["source_id"] = labels
    table["source_id"].description = "segmentation label (1-based)"
    pixel_note = "FITS convention: 1-based, the first pixel's centre is 1.0"
    table["x"] = x + 1.0
    table["x"].unit, table["x"].description = u.pix, f"centroid column, {pixel_note}"
    table["y"] = y + 1.0
    table["y"].unit, table["y"].description = u.pix, f"centroid row, {pixel_note}"
    if image.wcs is not None:
        sky = image.wcs.pixel_to_world(x, y)
        try:
            sky = sky.icrs
        except Exception:  # a frame astropy cannot convert: keep its own longitude/latitude
            pass
        lon, lat = sky.spherical.lon.deg, sky.spherical.lat.deg
        ctype = "/".join(image.wcs.wcs.ctype)
        table["ra"] = lon
        table["ra"].unit = u.deg
        table["ra"].description = f"right ascension of the centroid (ICRS) from the image WCS ({ctype})"
        table["dec"] = lat
        table["dec"].unit = u.deg
        table["dec"].description = f"declination of the centroid (ICRS) from the image WCS ({ctype})"
    flux_desc = ("background-subtracted pixels summed over the segment"
                 + (f", in {image.unit} (pixel unit)" if image.unit is not None
                    else f"; {image.unit_note or 'data units (no BUNIT)'}"))
    for b, band in enumerate(image.bands):
        name = "flux" if n_bands == 1 else f"flux_{_column_band(band)}"
        band_mask = missing[b] if missing[b].any() else None
        band_cat = SourceCatalog(subtracted[b], segm, error=rms_bands[b], mask=band_mask)
        band_order = np.searchsorted(np.asarray(band_cat.label), labels)
        table[name] = _values(band_cat, "segment_flux", band_order)
        table[name].unit = image.unit
        table[name].description = f"{band} flux: {flux_desc}"
        table[f"{name}_err"] = _values(band_cat, "segment_flux_err", band_order)
        table[f"{name}_err"].unit = image.unit
        table[f"{name}_err"].description = (f"{band} flux uncertainty from the background RMS "
                                            "(no source Poisson noise)")
    for name, prop, unit, desc in (
        ("area", "area", u.pix**2, "segment area"),
        ("semimajor_sigma", "semimajor_axis", u.pix, "1-sigma semimajor axis of the moments ellipse"),
        ("semiminor_sigma", "semiminor_axis", u.pix, "1-sigma semiminor axis of the moments ellipse"),
        ("fwhm", "fwhm", u.pix, "circularised FWHM of the moments ellipse"),
        ("orientation", "orientation", u.deg, "major-axis angle, counter-clockwise from +x"),
        ("ellipticity", "ellipticity", None, "1 - semiminor/semimajor"),
        ("peak", "max_value", image.unit, "highest background-subtracted pixel of the detection image"),
    ):
        table[name] = _values(cat, prop, order)
        table[name].unit = unit
        table[name].description = desc

    xc, yc = np.rint(x).astype(np.int64), np.rint(y).astype(np.int64)
    n = len(labels)
    stamps = np.empty((n, n_bands, stamp_size, stamp_size), dtype=np.float32)
    edge = np.zeros(n, dtype=bool)
    for start in range(0, n, _CUT_CHUNK):
        yield Progress(60 + int(40 * start / n), 100, f"cutting stamps {start:,}/{n:,}")
        stop = min(start + _CUT_CHUNK, n)
        stamps[start:stop], edge[start:stop] = cut_stamps(subtracted, xc[start:stop],
                                                          yc[start:stop], stamp_size)
    xmin = xc - stamp_size // 2 + 1
    ymin = yc - stamp_size // 2 + 1
    table["stamp_xmin"] = xmin
    table["stamp_xmin"].unit = u.pix
    table["stamp_xmin"].description = f"image column of the stamp's first pixel, {pixel_note}"
    table["stamp_ymin"] = ymin
    table["stamp_ymin"].unit = u.pix
    table["stamp_ymin"].description = f"image row of the stamp's first pixel, {pixel_note}"
    table["edge"] = edge
    table["edge"].description = "stamp crosses the image border (pixels outside it are NaN)"

    table.meta.update({
        "image": str(path), "image_label": image.label, "bands": list(image.bands),
        "threshold_sigma": float(threshold_sigma), "npixels": int(npixels),
        "deblend": bool(deblend), "deblend_nlevels": _DEBLEND_NLEVELS,
        "deblend_contrast": _DEBLEND_CONTRAST, "kernel_fwhm_px": _KERNEL_FWHM,
        "bkg_box_px": box, "stamp_size": stamp_size, "n_detected": n_detected, "n_sources": n,
        "pixel_unit": image.unit.to_string() if image.unit is not None else "",
    })
    kept = f" (kept the {n:,} brightest)" if n < n_detected else ""
    note = (f"detected {n_detected:,} sources in {image.label} above {threshold_sigma:g} sigma"
            f"{', deblended' if deblend else ''}{kept}; stamps {stamp_size}x{stamp_size} px"
            f"{f', {int(edge.sum()):,} at the edge NaN padded' if edge.any() else ''}"
            f"{'' if image.wcs is not None else '; no celestial WCS: no ra/dec'}")
    table.meta["detection"] = note
    source = StampImageSource(stamps, image.bands, origin=f"stamps cut from {image.label}",
                              wcs=image.wcs, xmin=xmin, ymin=ymin)
    catalogue = Catalogue(table, name=f"{path.stem} sources", images=source, id_column="source_id",
                          notes=[note])
    yield Progress(100, 100, note)
    return catalogue


def write_stamp_catalogue(out: str | Path, catalogue: Catalogue, *, overwrite: bool = False,
                          inputs: Sequence[Path | None] = ()) -> Path:
    """Write a catalogue made by :func:`detect_and_cut_job` with its stamps
    (``CATALOGUE`` table and ``CUTOUTS`` cube, see ``write_catalogue_fits``).

    The parent image's WCS goes into the primary header with ``STAMPWCS = T``;
    with the ``stamp_xmin`` / ``stamp_ymin`` columns it gives each stamp's WCS
    when the file is read back (the attacher registered by this module).
    """
    images = catalogue.images
    if images is None:
        raise UserError(f"{out}: the catalogue {catalogue.name} has no stamps to write")
    stamps = images.get_many(np.arange(len(images)))
    provenance: dict = {}
    parent = getattr(images, "parent_wcs", None)
    if parent is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyWarning)
            provenance.update({key: value for key, value in parent.to_header(relax=True).items()
                               if key not in ("COMMENT", "HISTORY", "DATE-OBS", "MJD-OBS")})
        provenance[STAMP_WCS_KEY] = True
    image_path = catalogue.table.meta.get("image")
    if image_path:
        inputs = [*inputs, Path(image_path)]
    unit = str(catalogue.table.meta.get("pixel_unit") or "") or None
    return write_catalogue_fits(Path(out), catalogue.table, stamps, bands=images.bands,
                                cutout_unit=unit,
                                provenance=provenance, overwrite=overwrite, inputs=inputs)


def _attach_stamp_wcs(catalogue: Catalogue, options: OpenOptions) -> None:
    """Give the cutouts of a file written by :func:`write_stamp_catalogue` their WCS."""
    path = catalogue.path
    columns = catalogue.table.colnames
    if (path is None or options.cutouts is not None or catalogue.images is None
            or isinstance(catalogue.images, StampImageSource)
            or "stamp_xmin" not in columns or "stamp_ymin" not in columns or not is_fits(path)):
        return
    header = fits.getheader(path, 0)
    wcs = _celestial_wcs(header) if header.get(STAMP_WCS_KEY) else None
    if wcs is None:
        return
    hdul = fits.open(path, memmap=True)
    try:
        data = hdul[CUTOUTS_EXTNAME].data
        if data is None or data.shape[0] != len(catalogue) or data.shape[-1] != data.shape[-2]:
            hdul.close()
            return
        source = StampImageSource(data, catalogue.images.bands, catalogue.images.origin, wcs=wcs,
                                  xmin=np.asarray(catalogue.table["stamp_xmin"]),
                                  ymin=np.asarray(catalogue.table["stamp_ymin"]))
    except (KeyError, ValueError):
        hdul.close()
        return
    source._hdul = hdul  # the cube is a memory map into this file
    weakref.finalize(source, hdul.close)
    catalogue.attach_images(source, "stamp WCS: the primary header's WCS shifted to each "
                                    "stamp's stamp_xmin, stamp_ymin")


register_attacher(Attacher("stamp WCS", _attach_stamp_wcs, priority=-100))
