"""Cutouts in the layouts astronomers bring: cubes beside the table, Galaxy10-style
HDF5 files and columns of per-object image files (FITS, PNG, JPEG, TIFF).

Registered here:

- the reader ``Galaxy10-style HDF5`` (an HDF5 file with an ``images`` dataset of
  shape ``(N, H, W, C)`` and per-row 1-D datasets: the 1-D datasets are the table,
  the images the cutouts, read lazily);
- the attacher ``cutout file``: a ``.npy`` cube, a FITS cube or a Galaxy10-style
  HDF5 file named by ``OpenOptions.cutouts`` or lying beside the catalogue as
  ``<stem>_cutouts.npy`` / ``<stem>_cutouts.fits``;
- the attacher ``cutout path column``: a column of file paths, relative to the
  catalogue's folder (or to ``OpenOptions.cutouts`` when that is a directory).

Every cutout is returned as ``(C, H, W)`` float32 in the file's own units (8-bit
images keep their 0..255 values).
"""

from __future__ import annotations

import os
import threading
import warnings
import weakref
from collections import Counter, OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Column, MaskedColumn, Table

from ..core.catalogue import Catalogue
from ..core.errors import AmbiguousColumnsError, UserError
from ..core.images import ArrayImageSource, ImageSource
from .fits_reader import bands_from_header, is_fits
from .registry import Attacher, OpenOptions, Reader, register_attacher, register_reader

__all__ = [
    "IMAGE_SUFFIXES", "open_cutout_file", "find_sidecar_cutouts", "is_galaxy10_hdf5",
    "read_galaxy10_catalogue", "HDF5ImageSource", "FileImageSource", "find_path_column",
    "attach_cutout_file", "attach_path_column",
]

#: Suffixes (lower case) of per-object image files, for path-column detection.
IMAGE_SUFFIXES = (".fits", ".fit", ".fits.gz", ".fit.gz", ".fz", ".png", ".jpg", ".jpeg",
                  ".tif", ".tiff")
_FITS_SUFFIXES = (".fits", ".fit", ".fits.gz", ".fit.gz", ".fz")
_KIND = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}
#: Sidecar cutout files looked for beside ``<stem>.<ext>``, in this order.
SIDECAR_SUFFIXES = ("_cutouts.npy", "_cutouts.fits", "_cutouts.fits.gz")
#: Extensions of per-object FITS files that are not bands (masks, weights, PSFs...).
_NOT_BAND_EXTNAMES = {"MASK", "WEIGHT", "WHT", "IVAR", "INVVAR", "VAR", "VARIANCE", "ERR",
                      "ERROR", "SIGMA", "RMS", "PSF", "FLAGS", "DQ", "LIGHTCURVE"}
#: Names given to Galaxy10-DECaLS's three channels.
GALAXY10_BANDS = ("g", "r", "z")
#: How many of the first existing files are opened to choose the common cutout shape.
SIZE_SAMPLE = 32
#: Memory given to a path column's cache of decoded cutouts.
CACHE_BYTES = 64 * 2**20

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_NPY_MAGIC = b"\x93NUMPY"


def _magic(path: Path, n: int = 8) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def _nchw(data, origin: str):
    """A lazy ``(N, C, H, W)`` (or ``(N, H, W)``) view of a 3-D/4-D array-like.

    ``(N, H, W, C)`` is recognised when the last axis is small (<= 5) and the two
    before it are not; it is transposed as a view (``np.moveaxis`` on a memory map
    stays a memory map: nothing is read).
    """
    shape = tuple(data.shape)
    if len(shape) == 3:
        return data
    if len(shape) != 4:
        raise UserError(f"{origin} holds an array of shape {shape}, not a cutout cube "
                        "(N, H, W), (N, C, H, W) or (N, H, W, C)")
    if shape[3] <= 5 and shape[1] > 5 and shape[2] > 5:
        return np.moveaxis(data, 3, 1)
    return data


# --------------------------------------------------------------------------- cubes


def _open_npy(path: Path) -> ImageSource:
    try:
        data = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise UserError(f"{path} is not a readable .npy array: {exc}") from None
    data = _nchw(data, str(path))
    if data.dtype.kind not in "iufb":
        raise UserError(f"{path} holds {data.dtype} values, not numbers")
    return ArrayImageSource(data, origin=path.name)


def _open_fits_cube(path: Path) -> ImageSource:
    try:
        hdul = fits.open(path, memmap=True)
        len(hdul)
    except OSError as exc:
        raise UserError(f"{path} is not valid FITS: {exc}") from None
    try:
        named = {str(h.header.get("EXTNAME", "")).upper(): i for i, h in enumerate(hdul)}
        index = named.get("CUTOUTS")
        if index is None:
            index = next((i for i, h in enumerate(hdul) if h.is_image
                          and h.header.get("NAXIS", 0) in (3, 4)), None)
        if index is None:
            raise UserError(f"{path} holds no 3-D or 4-D image HDU to use as a cutout cube")
        data = hdul[index].data
        if data is None or data.ndim not in (3, 4):
            raise UserError(f"{path} [HDU {index}] is not a cutout cube (N, C, H, W)")
        data = _nchw(data, f"{path} [HDU {index}]")
        n_bands = 1 if data.ndim == 3 else data.shape[1]
        source = ArrayImageSource(data, bands_from_header(hdul[index].header, n_bands),
                                  origin=f"{path.name}[{index}]")
    except BaseException:
        hdul.close()
        raise
    # The cube is a memory map into the file: keep it open while the source lives.
    source._hdul = hdul  # type: ignore[attr-defined]
    weakref.finalize(source, hdul.close)
    return source


class HDF5ImageSource(ImageSource):
    """Cutouts in an HDF5 dataset (Galaxy10-DECaLS: ``images``, ``(N, H, W, 3)``
    uint8), read lazily through h5py.

    Parameters
    ----------
    path : Path
        The HDF5 file (opened on first use, again in each process it is pickled to).
    dataset : str
        The dataset's name, shape ``(N, H, W, C)`` (C <= 5), ``(N, C, H, W)`` or
        ``(N, H, W)``.
    bands : sequence of str, optional
        Band names; ``g, r, z`` for a 3-channel ``images`` dataset, else ``band0``...
    """

    def __init__(self, path: Path, dataset: str = "images",
                 bands: Sequence[str] | None = None) -> None:
        import h5py

        self.path = Path(path)
        self.dataset = dataset
        with h5py.File(self.path, "r") as f:
            if dataset not in f or not isinstance(f[dataset], h5py.Dataset):
                raise UserError(f"{self.path} has no dataset {dataset!r} of cutouts")
            shape = tuple(f[dataset].shape)
            kind = f[dataset].dtype.kind
        if kind not in "iufb":
            raise UserError(f"{self.path} [{dataset}] does not hold numbers (dtype kind {kind!r})")
        if len(shape) == 3:
            self._channels_last, self._shape = False, (1, shape[1], shape[2])
        elif len(shape) == 4 and shape[3] <= 5 and shape[1] > 5 and shape[2] > 5:
            self._channels_last, self._shape = True, (shape[3], shape[1], shape[2])
        elif len(shape) == 4:
            self._channels_last, self._shape = False, tuple(shape[1:])
        else:
            raise UserError(f"{self.path} [{dataset}] has shape {shape}, not a cutout cube "
                            "(N, H, W, C), (N, C, H, W) or (N, H, W)")
        self._n = int(shape[0])
        c = self._shape[0]
        if bands is None:
            bands = GALAXY10_BANDS if c == 3 else tuple(f"band{i}" for i in range(c))
        self.bands = tuple(bands)
        self.origin = f"{self.path.name}[{dataset}]"
        self._file = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_file"] = None
        state.pop("_lock", None)
        state.pop("_finalizer", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._n

    @property
    def shape(self) -> tuple[int, int, int]:
        return self._shape  # type: ignore[return-value]

    def _dataset(self):
        with self._lock:
            if self._file is None:
                import h5py

                self._file = h5py.File(self.path, "r")
                self._finalizer = weakref.finalize(self, self._file.close)
            return self._file[self.dataset]

    def get_many(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """Cutouts of ``rows``, shape ``(n, C, H, W)`` float32, in the order given."""
        rows = self.checked_rows(rows)
        out = np.empty((rows.size, *self._shape), dtype=np.float32)
        if rows.size == 0:
            return out
        # h5py wants increasing, distinct indices: read sorted unique rows, then
        # put them back in the order asked. A dense span is read as one slice.
        unique, inverse = np.unique(rows, return_inverse=True)
        ds = self._dataset()
        lo, hi = int(unique[0]), int(unique[-1]) + 1
        with self._lock:
            if hi - lo <= 4 * unique.size:
                block = ds[lo:hi][unique - lo]
            else:
                block = ds[unique]
        if self._channels_last:
            block = np.moveaxis(block, 3, 1)
        elif block.ndim == 3:
            block = block[:, None]
        out[:] = block[inverse]
        return out


def _hdf5_images_dataset(f) -> str | None:
    """The name of the cutout dataset in an open h5py file: ``images`` (or
    ``cutouts``) if 3-D/4-D, else the only 3-D/4-D dataset at the root."""
    import h5py

    for name in ("images", "cutouts"):
        if name in f and isinstance(f[name], h5py.Dataset) and f[name].ndim in (3, 4):
            return name
    cubes = [k for k, v in f.items() if isinstance(v, h5py.Dataset) and v.ndim in (3, 4)]
    return cubes[0] if len(cubes) == 1 else None


def _open_hdf5(path: Path) -> ImageSource:
    import h5py

    with h5py.File(path, "r") as f:
        name = _hdf5_images_dataset(f)
    if name is None:
        raise UserError(f"{path} holds no 'images' dataset of cutouts (N, H, W, C)")
    return HDF5ImageSource(path, name)


def open_cutout_file(path: str | Path) -> ImageSource:
    """Cutouts from a file holding one per row: a ``.npy`` array (opened as a memory
    map), a FITS cube (HDU ``CUTOUTS``, else the first 3-D/4-D image) or an HDF5
    file with an ``images`` dataset (Galaxy10-DECaLS). The format is told by content.

    Arrays may be ``(N, H, W)``, ``(N, C, H, W)`` or ``(N, H, W, C)`` with C <= 5
    (transposed lazily). Nothing is read until cutouts are asked for.

    Raises
    ------
    UserError
        Naming the file: missing, a directory, not one of these formats, no cube.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such cutout file")
    if path.is_dir():
        raise UserError(f"{path} is a directory, not a cutout file: a directory of "
                        "per-object images needs a catalogue column of file names")
    head = _magic(path)
    if head.startswith(_NPY_MAGIC):
        return _open_npy(path)
    if head == _HDF5_MAGIC:
        return _open_hdf5(path)
    if is_fits(path):
        return _open_fits_cube(path)
    raise UserError(f"{path} is not a cutout file AstroExplorer reads "
                    "(.npy array, FITS cube, HDF5 with an 'images' dataset)")


def find_sidecar_cutouts(catalogue_path: Path) -> Path | None:
    """``<stem>_cutouts.npy`` (or ``.fits``, ``.fits.gz``) beside ``catalogue_path``."""
    name = catalogue_path.name
    stem = name[: -len(".fits.gz")] if name.lower().endswith(".fits.gz") else catalogue_path.stem
    for suffix in SIDECAR_SUFFIXES:
        candidate = catalogue_path.with_name(stem + suffix)
        if candidate.is_file() and candidate != catalogue_path:
            return candidate
    return None


def _describe_source(source: ImageSource) -> str:
    c, h, w = source.shape
    return f"{len(source):,} of {h}x{w} px, {c} band(s) {', '.join(source.bands)}"


def attach_cutout_file(catalogue: Catalogue, options: OpenOptions) -> None:
    """Attach the cube named by ``options.cutouts`` (a file), else a sidecar
    ``<stem>_cutouts.npy`` / ``.fits`` when the catalogue has no cutouts yet.

    A directory in ``options.cutouts`` is left to :func:`attach_path_column`.

    Raises
    ------
    UserError
        The file is unusable, or its count differs from the catalogue's rows
        (naming both files and both counts).
    """
    given = options.cutouts
    if given is not None and given.is_dir():
        return
    if given is not None:
        path, how = given, "given"
    else:
        if catalogue.images is not None or catalogue.path is None:
            return
        path, how = find_sidecar_cutouts(Path(catalogue.path)), "found beside the catalogue"
        if path is None:
            return
    source = open_cutout_file(path)
    if len(source) != len(catalogue):
        raise UserError(f"{path} holds {len(source):,} cutouts but {catalogue.path or catalogue.name} "
                        f"has {len(catalogue):,} rows: they must match one to one")
    note = f"cutouts: {path.name} ({how}), {_describe_source(source)}"
    if isinstance(source, HDF5ImageSource) and source.bands == GALAXY10_BANDS:
        note += " (display-stretched 8-bit RGB)"
    if catalogue.images is not None:
        note += f", replacing those from {catalogue.images.origin}"
    catalogue.attach_images(source, note)


# ------------------------------------------------------------------------ Galaxy10


def is_galaxy10_hdf5(path: Path) -> bool:
    """True for an HDF5 file holding an ``images`` cube (N, ...) and at least one
    1-D dataset of length N at its root (Galaxy10-DECaLS and alike)."""
    if _magic(path) != _HDF5_MAGIC:
        return False
    import h5py

    try:
        with h5py.File(path, "r") as f:
            name = _hdf5_images_dataset(f)
            if name is None:
                return False
            n = f[name].shape[0]
            return any(isinstance(v, h5py.Dataset) and v.ndim == 1 and v.shape[0] == n
                       for v in f.values())
    except OSError:
        return False


def read_galaxy10_catalogue(path: Path) -> Catalogue:
    """Read a Galaxy10-DECaLS-style HDF5 file: the table is its 1-D datasets of
    length N (names kept; ``ra``/``dec`` in deg), the cutouts its ``images``
    dataset ``(N, H, W, 3)`` uint8 (g, r, z rendered as display-stretched 8-bit
    RGB), read lazily through h5py.
    """
    import astropy.units as u
    import h5py

    path = Path(path)
    with h5py.File(path, "r") as f:
        name = _hdf5_images_dataset(f)
        n = f[name].shape[0]
        table = Table()
        for key, ds in f.items():
            if not isinstance(ds, h5py.Dataset) or ds.ndim != 1 or ds.shape[0] != n:
                continue
            values = ds[()]
            if values.dtype.kind == "S":
                values = np.char.decode(values, "utf-8", errors="replace")
            elif values.dtype.kind == "O":
                values = np.array([v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                                   for v in values])
            unit = u.deg if key.lower() in ("ra", "dec") else None
            table[key] = Column(values, unit=unit)
    if n == 0:
        raise UserError(f"{path} [{name}] holds no cutouts: the catalogue has no rows")
    if "ans" in table.colnames:
        table["ans"].description = "Galaxy10 class label (0-9)"
    images = HDF5ImageSource(path, name)
    catalogue = Catalogue(table, name=path.stem, path=path)
    note = (f"Galaxy10-style HDF5: table from 1-D datasets {', '.join(table.colnames)}; "
            f"cutouts from dataset '{name}', {_describe_source(images)}")
    if images.bands == GALAXY10_BANDS:
        note += " (display-stretched 8-bit RGB, not calibrated fluxes)"
    catalogue.attach_images(images, note)
    return catalogue


# ---------------------------------------------------------------- path columns


_LONGEST_FIRST = tuple(sorted(IMAGE_SUFFIXES, key=len, reverse=True))


def _suffix(value: str) -> str:
    """The image suffix ``value`` ends with (lower case), or ''."""
    low = value.lower()
    return next((s for s in _LONGEST_FIRST if low.endswith(s)), "")


def _string_values(column) -> np.ndarray | None:
    """A column's values as a 1-D array of stripped str ('' where masked), or None if
    the column does not hold text."""
    if column.ndim != 1 or column.dtype.kind not in "USO":
        return None
    if isinstance(column, MaskedColumn):
        data = column.filled("" if column.dtype.kind != "O" else None)
    else:
        data = column
    data = np.asarray(data)
    if data.dtype.kind == "S":
        data = np.char.decode(data, "utf-8", errors="replace")
    elif data.dtype.kind == "O":
        if not all(isinstance(v, (str, bytes, type(None))) for v in data[:100]):
            return None
        data = np.array(["" if v is None else (v.decode("utf-8", "replace") if isinstance(v, bytes)
                                               else v) for v in data], dtype=str)
    return np.char.strip(data if data.dtype.kind == "U" else data.astype(str))


def _looks_like_image_paths(column, sample: int = 1000) -> bool:
    """True if the column holds text whose first ``sample`` non-empty values all end
    in an image suffix (only the head of a long column is converted, when it has
    enough non-empty values)."""
    head = _string_values(column[: 4 * sample])
    if head is None:
        return False
    filled = head[head != ""]
    if filled.size < sample and len(column) > 4 * sample:
        values = _string_values(column)
        filled = values[values != ""]
    filled = filled[:sample]
    return filled.size > 0 and all(_suffix(str(v)) for v in filled)


def _is_lightcurve_fits(path: str) -> bool:
    """True if a FITS file holds no image but has a table (a Kepler/TESS light curve)."""
    try:
        with fits.open(path, lazy_load_hdus=True) as hdul:
            names = {str(h.header.get("EXTNAME", "")).upper() for h in hdul}
            has_image = any(h.is_image and h.header.get("NAXIS", 0) >= 2 for h in hdul)
    except (OSError, ValueError):
        return False
    return "LIGHTCURVE" in names or not has_image


def find_path_column(catalogue: Catalogue, options: OpenOptions,
                     base: Path) -> tuple[str, np.ndarray] | None:
    """The column of per-object image paths and its values (str, '' where empty).

    ``options.columns["path"]`` names it; else it is the string column whose
    non-empty values (the first 1,000) all end in an image suffix
    (:data:`IMAGE_SUFFIXES`, any case). A FITS column whose first existing file
    holds a light curve (no image, or a ``LIGHTCURVE`` HDU) is left to the
    light-curve attachers, as is the column named ``options.columns["lc_path"]``.

    Raises
    ------
    UserError
        The named column is missing or not text.
    AmbiguousColumnsError
        Two or more columns qualify (role ``path``).
    """
    table = catalogue.table
    where = catalogue.path or catalogue.name
    named = options.columns.get("path")
    if named is not None:
        if named not in table.colnames:
            raise UserError(f"{where} has no column {named!r} to use as cutout paths")
        values = _string_values(table[named])
        if values is None:
            raise UserError(f"{where}: column {named!r} holds {table[named].dtype} values, "
                            "not file names")
        return named, values
    candidates = []
    for name in table.colnames:
        if name == options.columns.get("lc_path"):
            continue
        if not _looks_like_image_paths(table[name]):
            continue
        values = _string_values(table[name])
        first = next((v for v in values[values != ""][:50]
                      if _suffix(v) in _FITS_SUFFIXES and os.path.isfile(_join(base, v))), None)
        if first is not None and _is_lightcurve_fits(_join(base, first)):
            continue
        candidates.append((name, values))
    if len(candidates) > 1:
        raise AmbiguousColumnsError(where, {"path": [c[0] for c in candidates]}, table.colnames,
                                    detail=" (several columns hold image file names)")
    return candidates[0] if candidates else None


def _join(base: Path | str, value: str) -> str:
    """``value`` (a path from a column) read relative to ``base`` unless absolute."""
    value = os.path.expanduser(value)
    if os.path.isabs(value) or str(base) in ("", "."):
        return value
    return os.path.join(base, value)


def _existing(values: np.ndarray, base: Path | str) -> np.ndarray:
    """Which of ``values`` (str array, '' for none) name existing files relative to
    ``base``, (N,) bool: one directory listing per folder, no stat per file."""
    out = np.zeros(values.size, dtype=bool)
    if values.size == 0:
        return out
    if os.altsep is None:
        parts = np.char.rpartition(values, os.sep)
        heads, seps, tails = parts[:, 0].tolist(), parts[:, 1].tolist(), parts[:, 2].tolist()
    else:  # Windows: either separator
        split = [os.path.split(v) for v in values.tolist()]
        heads, tails = [h for h, _ in split], [t for _, t in split]
        seps = [""] * len(split)
    listing: dict[tuple[str, str], set[str] | None] = {}
    for i, (head, sep, tail) in enumerate(zip(heads, seps, tails)):
        if not tail:
            continue
        key = (head, sep)
        names = listing.get(key, False)
        if names is False:
            folder = _join(base, head or sep) if (head or sep) else str(base)
            try:
                names = set(os.listdir(folder or "."))
            except OSError:
                names = None
            listing[key] = names
        out[i] = tail in names if names is not None else os.path.isfile(_join(base, values[i]))
    return out


def _pil_bands(mode: str, n_frames: int) -> tuple[str, ...]:
    if mode in ("RGB", "RGBA", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV"):
        return ("R", "G", "B")
    if n_frames > 1:
        return tuple(f"page{i}" for i in range(n_frames))
    return ("grey",)


def _read_pil(path: str) -> np.ndarray:
    """A PNG/JPEG/TIFF image as ``(C, H, W)`` float32: RGB(A)/palette -> 3 bands R, G, B
    (alpha dropped), grey -> 1 band, multi-page grey TIFF -> one band per page."""
    from PIL import Image

    with Image.open(path) as im:
        frames = getattr(im, "n_frames", 1)
        if frames > 1 and im.mode not in ("RGB", "RGBA", "P", "PA", "CMYK"):
            planes = []
            for k in range(frames):
                im.seek(k)
                planes.append(np.asarray(im, dtype=np.float32))
            return np.stack(planes)
        if im.mode in ("RGBA", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV"):
            im = im.convert("RGB")
        elif im.mode in ("LA", "1"):
            im = im.convert("L")
        arr = np.asarray(im, dtype=np.float32)
    return arr[None] if arr.ndim == 2 else np.moveaxis(arr, 2, 0)


def _pil_layout(path: str) -> tuple[tuple[int, int], tuple[str, ...]]:
    """``((H, W), bands)`` of an image file, from its header alone."""
    from PIL import Image

    with Image.open(path) as im:
        w, h = im.size
        return (h, w), _pil_bands(im.mode, getattr(im, "n_frames", 1))


def _hdu_band(hdu, index: int) -> str:
    for key in ("FILTER", "BAND", "EXTNAME"):
        value = hdu.header.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return f"band{index}"


def _fits_layout(hdul: fits.HDUList, path: str) -> tuple[list[int], tuple[int, int], tuple[str, ...]]:
    """Which HDUs hold a per-object FITS file's bands, its ``(H, W)`` and band names.

    Either one ``(C, H, W)`` cube (names from ``BAND1..BANDn``) or one 2-D image HDU
    per band (names from ``FILTER``, ``BAND`` or ``EXTNAME``; HDUs of another shape
    or named like masks, weights or PSFs are skipped).
    """
    images = [i for i, h in enumerate(hdul) if h.is_image and h.header.get("NAXIS", 0) >= 2
              and str(h.header.get("EXTNAME", "")).upper() not in _NOT_BAND_EXTNAMES]
    if not images:
        raise UserError(f"{path} holds no image HDU to use as a cutout")
    first = hdul[images[0]]
    shape = tuple(first.shape)
    if len(shape) == 3:
        return [images[0]], shape[1:], tuple(bands_from_header(first.header, shape[0]))
    if len(shape) != 2:
        raise UserError(f"{path} [HDU {images[0]}] has shape {shape}, not (H, W) or (C, H, W)")
    same = [i for i in images if tuple(hdul[i].shape) == shape]
    names = tuple(_hdu_band(hdul[i], k) for k, i in enumerate(same))
    if len(set(names)) != len(names):
        names = tuple(f"band{k}" for k in range(len(same)))
    return same, shape, names


def _celestial(header: fits.Header):
    from astropy.wcs import WCS, FITSFixedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        try:
            wcs = WCS(header).celestial
        except Exception:  # noqa: BLE001 - a broken WCS is no WCS
            return None
    return wcs if wcs.has_celestial and wcs.naxis == 2 else None


def rescale_wcs(wcs, scale_y: float, scale_x: float):
    """The WCS of an image resampled by factors ``(scale_y, scale_x)`` (new size /
    old size) with pixel centres mapped as :func:`skimage.transform.resize` does
    (``x_new + 0.5 = (x_old + 0.5) * scale``): CRPIX moves, the pixel matrix (CD or
    PC) and any SIP polynomials scale, so one sky point keeps its world coordinates.
    """
    from astropy.wcs import Sip

    wcs = wcs.deepcopy()
    s = np.array([scale_x, scale_y], dtype=float)
    # FITS pixels are 1-based: p_new - 0.5 = (p_old - 0.5) * s.
    wcs.wcs.crpix = (np.asarray(wcs.wcs.crpix) - 0.5) * s + 0.5
    if wcs.wcs.has_cd():
        wcs.wcs.cd = np.asarray(wcs.wcs.cd) / s[None, :]
    else:
        wcs.wcs.pc = np.asarray(wcs.wcs.get_pc()) / s[None, :]
    if wcs.sip is not None:
        # A correction sum A_pq u^p v^q (old pixels) is, in new pixels (u' = s_x u):
        # s_x sum A_pq (u'/s_x)^p (v'/s_y)^q; the same holds for B, AP and BP.
        def scaled(m, axis_scale):
            if m is None:
                return None
            p, q = np.indices(m.shape)
            return m * axis_scale / (s[0] ** p * s[1] ** q)

        sip = wcs.sip
        wcs.sip = Sip(scaled(sip.a, s[0]), scaled(sip.b, s[1]), scaled(sip.ap, s[0]),
                      scaled(sip.bp, s[1]), wcs.wcs.crpix)
    wcs.wcs.set()
    return wcs


class FileImageSource(ImageSource):
    """Cutouts read lazily from one file per row (FITS, PNG, JPEG, TIFF).

    Every cutout is returned with the shape ``(C, H, W)`` chosen at opening (the
    most common size among the first existing files); others are resampled
    (anti-aliased, values preserved). Rows whose file is missing (or empty) give
    NaN cutouts. Decoded cutouts are kept in a small LRU cache.

    Parameters
    ----------
    values : (N,) str array
        One path per row ('' for none), as in the catalogue's column.
    base : Path or str
        The folder relative paths are read from.
    shape : (C, H, W)
        The common shape.
    bands : sequence of str
        Band names, in channel order (from the first file).
    origin : str
        For messages, e.g. ``"column 'file' of cat.csv"``.
    exists : (N,) bool, optional
        Which rows' files exist (checked once at opening).
    """

    def __init__(self, values: np.ndarray, base: Path | str, shape: tuple[int, int, int],
                 bands: Sequence[str], origin: str = "",
                 exists: np.ndarray | None = None) -> None:
        # The column's text, joined to ``base`` row by row when read: no second
        # array of full paths for a million rows.
        self._values = np.asarray(values, dtype=str)
        self._base = str(base)
        self._shape = tuple(int(s) for s in shape)
        self.bands = tuple(bands)
        self.origin = origin
        self._exists = (np.asarray(exists, dtype=bool) if exists is not None
                        else _existing(self._values, self._base))
        per = 4 * int(np.prod(self._shape))
        self._cache_size = max(16, CACHE_BYTES // max(per, 1))
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._wcs_cache: OrderedDict[int, object] = OrderedDict()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()
        state["_wcs_cache"] = OrderedDict()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return int(self._values.size)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self._shape  # type: ignore[return-value]

    @property
    def missing(self) -> np.ndarray:
        """Rows whose file is missing or not given, (m,) int64."""
        return np.flatnonzero(~self._exists)

    def path(self, row: int) -> str:
        """The file of row ``row`` ('' if none)."""
        value = str(self._values[row])
        return _join(self._base, value) if value else ""

    def get_many(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """Cutouts of ``rows``, shape ``(n, C, H, W)`` float32, in the order given;
        NaN for rows whose file is missing.

        Raises
        ------
        UserError
            A file exists but cannot be read as an image, or has a band count that
            cannot be matched to the others'.
        """
        rows = self.checked_rows(rows)
        out = np.empty((rows.size, *self._shape), dtype=np.float32)
        for k, row in enumerate(rows):
            out[k] = self._cutout(int(row))
        return out

    def _cutout(self, row: int) -> np.ndarray:
        with self._lock:
            hit = self._cache.get(row)
            if hit is not None:
                self._cache.move_to_end(row)
                return hit
        if not self._exists[row]:
            return np.full(self._shape, np.nan, dtype=np.float32)
        image = self._conform(self._read(row), row)
        with self._lock:
            self._cache[row] = image
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return image

    def _read(self, row: int) -> np.ndarray:
        path = self.path(row)
        try:
            if _suffix(path) in _FITS_SUFFIXES:
                return self._read_fits(path)
            return _read_pil(path)
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001 - PIL/astropy raise many kinds
            raise UserError(f"{path} (row {row}, {self.origin}) cannot be read as an image: "
                            f"{exc}") from None

    def _read_fits(self, path: str) -> np.ndarray:
        with fits.open(path, memmap=False) as hdul:
            hdus, _, names = _fits_layout(hdul, path)
            planes = [np.asarray(hdul[i].data, dtype=np.float32) for i in hdus]
        data = planes[0] if planes[0].ndim == 3 else np.stack(planes)
        # One HDU per band: put the bands in the first file's order when named alike.
        if len(hdus) > 1 and set(names) == set(self.bands) and names != self.bands:
            data = data[[names.index(b) for b in self.bands]]
        return data

    def _conform(self, data: np.ndarray, row: int) -> np.ndarray:
        """``data`` (c, h, w) brought to the common (C, H, W): grey repeated to C
        bands, colour averaged to 1 band, size resampled."""
        c, h, w = self._shape
        if data.shape[0] != c:
            if data.shape[0] == 1:
                data = np.repeat(data, c, axis=0)
            elif c == 1:
                data = data.mean(axis=0, keepdims=True)
            else:
                raise UserError(f"{self.path(row)} (row {row}) has {data.shape[0]} bands where "
                                f"the other files of {self.origin} have {c}")
        if data.shape[1:] != (h, w):
            from skimage.transform import resize

            data = np.moveaxis(resize(np.moveaxis(data, 0, -1), (h, w), order=1,
                                      anti_aliasing=True, preserve_range=True), -1, 0)
        return np.ascontiguousarray(data, dtype=np.float32)

    def wcs(self, row: int):
        """The celestial WCS of row ``row``'s cutout (FITS files with one), pixel (0, 0)
        at its first array element, corrected for resampling; None otherwise."""
        path = self.path(row)
        if not self._exists[row] or _suffix(path) not in _FITS_SUFFIXES:
            return None
        with self._lock:
            if row in self._wcs_cache:
                self._wcs_cache.move_to_end(row)
                return self._wcs_cache[row]
        try:
            with fits.open(path, memmap=False, lazy_load_hdus=True) as hdul:
                hdus, (h, w), _ = _fits_layout(hdul, path)
                wcs = _celestial(hdul[hdus[0]].header)
        except (OSError, ValueError) as exc:
            raise UserError(f"{path} (row {row}) cannot be read: {exc}") from None
        if wcs is not None and (h, w) != self._shape[1:]:
            wcs = rescale_wcs(wcs, self._shape[1] / h, self._shape[2] / w)
        with self._lock:
            self._wcs_cache[row] = wcs
            while len(self._wcs_cache) > 256:
                self._wcs_cache.popitem(last=False)
        return wcs


def _layout(path: str) -> tuple[tuple[int, int], tuple[str, ...]]:
    if _suffix(path) in _FITS_SUFFIXES:
        with fits.open(path, memmap=False, lazy_load_hdus=True) as hdul:
            _, size, bands = _fits_layout(hdul, path)
        return tuple(size), bands  # type: ignore[return-value]
    return _pil_layout(path)


def _kind(suffix: str) -> str:
    return "FITS" if suffix in _FITS_SUFFIXES else _KIND.get(suffix, "image")


def _kinds(values: np.ndarray) -> str:
    """'PNG', 'FITS and PNG'...: the kinds of the non-empty file names in ``values``."""
    counts: Counter[str] = Counter()
    rest = values != ""
    for suffix in _LONGEST_FIRST:  # lower and upper case vectorised, mixed case below
        for form in (suffix, suffix.upper()):
            hit = rest & np.char.endswith(values, form)
            if hit.any():
                counts[_kind(suffix)] += int(hit.sum())
                rest &= ~hit
    counts.update(_kind(_suffix(v)) for v in values[rest].tolist())
    return " and ".join(k for k, _ in counts.most_common())


def attach_path_column(catalogue: Catalogue, options: OpenOptions) -> None:
    """Attach cutouts read from a column of per-object file paths, relative to the
    catalogue's folder (or to ``options.cutouts`` when it is a directory).

    Runs when the catalogue has no cutouts yet, or when ``options`` names the
    column (role ``path``) or gives a directory. Missing files give NaN cutouts and
    are counted in the note; sizes that differ from the most common one (among
    the first :data:`SIZE_SAMPLE` files) are resampled to it, which the note says.

    Raises
    ------
    UserError
        Every file is missing (naming the first and the column), a sampled file
        cannot be read, or ``options.cutouts`` is a directory but no column holds
        file names.
    AmbiguousColumnsError
        Several columns hold image file names.
    """
    directory = options.cutouts if options.cutouts is not None and options.cutouts.is_dir() \
        else None
    if catalogue.images is not None and directory is None and "path" not in options.columns:
        return
    base = directory or (Path(catalogue.path).parent if catalogue.path is not None else Path("."))
    found = find_path_column(catalogue, options, base)
    where = catalogue.path or catalogue.name
    if found is None:
        if directory is not None:
            raise UserError(f"{directory} is a directory, but {where} has no column of image file "
                            "names to find in it: name one with --column path=NAME, or give a "
                            "cutout file (.npy, FITS or HDF5 cube)")
        return
    name, values = found
    exists = _existing(values, base)
    given = np.flatnonzero(values != "")
    if not exists.any():
        if given.size == 0:
            raise UserError(f"{where}: column {name!r} holds no file names")
        raise UserError(f"{where}: none of the {given.size:,} files of column {name!r} exists "
                        f"(the first is {_join(base, values[given[0]])}); paths are read "
                        f"relative to {base}")
    sample = [_join(base, values[i]) for i in np.flatnonzero(exists)[:SIZE_SAMPLE]]
    layouts = []
    for p in sample:
        try:
            layouts.append(_layout(p))
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001 - PIL/astropy raise many kinds
            raise UserError(f"{p} (column {name!r} of {where}) cannot be read as an image: "
                            f"{exc}") from None
    sizes = Counter(size for size, _ in layouts)
    (h, w), _ = sizes.most_common(1)[0]
    bands = layouts[0][1]
    origin = f"column '{name}' of {Path(where).name}" + (f" (files in {directory})"
                                                          if directory else "")
    source = FileImageSource(values, base, (len(bands), h, w), bands, origin=origin,
                             exists=exists)
    note = f"cutouts: column '{name}' of {given.size:,} {_kinds(values)} files"
    if len(sizes) > 1:
        seen = ", ".join(f"{a}x{b}" for a, b in sorted(sizes, key=lambda s: (-sizes[s], s)))
        note += f", resampled to {h}x{w} (sizes seen: {seen})"
    else:
        note += f", {h}x{w}"
    note += f", bands {', '.join(bands)}"
    n_missing = int((~exists[given]).sum())
    if n_missing:
        first = _join(base, values[given[~exists[given]][0]])
        note += f"; {n_missing:,} missing (first: {first}), their cutouts are NaN"
    if given.size < len(values):
        note += f"; {len(values) - given.size:,} rows without a file name (NaN cutouts)"
    if catalogue.images is not None:
        note += f", replacing those from {catalogue.images.origin}"
    catalogue.attach_images(source, note)


register_reader(Reader("Galaxy10-style HDF5 (images + 1-D datasets)", is_galaxy10_hdf5,
                       read_galaxy10_catalogue, priority=5))
register_attacher(Attacher("cutout file", attach_cutout_file, priority=20))
register_attacher(Attacher("cutout path column", attach_path_column, priority=10))
