"""Time opening a survey-scale FITS catalogue: 100k and 1M rows with cutouts and light curves.

Generates (once, cached in ``--data-dir``) one FITS file per size holding
  CATALOGUE    object_id, ra, dec (deg), mag_g, mag_r, mag_i (mag), label, morphology
  CUTOUTS      (N, 3, 64, 64): float32 at 100k (4.9 GB); 8-bit (BITPIX=8, BSCALE/BZERO
               to physical units, like Galaxy10's uint8 images) at 1M (12.3 GB)
  LIGHTCURVES  long format (object_id, mjd, mag, mag_err, band), 20-40 points per
               object, sorted by object_id then time (about 30M rows at 1M: 0.75 GB)
written in chunks (never the whole cube in memory). Disk needed: about 5 GB for
``--quick``, 18 GB for both sizes. Generation takes minutes per size and is done once.

Prints one JSON object per figure, each measured in a fresh subprocess (so
``peak_rss_bytes`` is that process's own peak resident set, ru_maxrss):
  open_first_row_s           path="core": read_catalogue(path), table row 0, images.get(0),
                             lightcurves.get(0); path="gui": offscreen MainWindow().open_path
                             until the table model has rows and the cutout panel shows row 0
  cutouts_1000_random_s      images.get_many(1,000 random rows) after opening
  lightcurves_1000_random_s  lightcurves.get(row) for 1,000 random rows after opening
  peak_rss_bytes             of each of the processes above (field "of")
Each figure is measured with the file's pages dropped from the page cache first
(cache="cold", posix_fadvise DONTNEED on the file) and again at once (cache="warm").

Usage: python benchmarks/bench_io.py [--quick] [--data-dir DIR] [--sizes 100000 1000000]
                                     [--remove-data]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from astropy.io import fits

SEED = 20261126
SHAPE = (3, 64, 64)
BANDS = ("g", "r", "i")
#: 8-bit cube: physical value = BZERO + BSCALE * stored byte.
BSCALE, BZERO = 0.004, -0.1
CHUNK_ROWS = 20_000
#: Larger catalogues get an 8-bit cube (float32 would be 49 GB at 1M rows).
EIGHT_BIT_ABOVE = 200_000


def emit(figure: str, value: float, unit: str, n: int, **extra) -> None:
    print(json.dumps({"figure": figure, "value": round(value, 4), "unit": unit, "n": n, **extra}),
          flush=True)


def default_data_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "astroexplorer" / "bench_io"


def _pad(f, nbytes: int) -> None:
    f.write(b"\0" * (-nbytes % 2880))


def _templates(rng: np.random.Generator, k: int = 512) -> np.ndarray:
    """(k, 3, 64, 64) float32 galaxy-like stamps: Sersic-ish blobs of random size,
    ellipticity and colour, with noise; rows of the cube are drawn from these."""
    y, x = np.mgrid[0:64, 0:64].astype(np.float32) - 31.5
    out = np.empty((k, *SHAPE), dtype=np.float32)
    for i in range(k):
        q, pa, r = rng.uniform(0.3, 1), rng.uniform(0, np.pi), rng.uniform(2, 10)
        xr = x * np.cos(pa) + y * np.sin(pa)
        yr = (-x * np.sin(pa) + y * np.cos(pa)) / q
        blob = np.exp(-np.sqrt(xr ** 2 + yr ** 2) / r)
        colour = rng.uniform(0.3, 1.0, 3).astype(np.float32)
        out[i] = colour[:, None, None] * blob + rng.normal(0, 0.02, SHAPE)
    return out


def _catalogue_hdu(n: int, rng: np.random.Generator) -> fits.BinTableHDU:
    ids = np.arange(n, dtype=np.int64) + 1_000_000_000
    g = rng.normal(21, 1.5, n).astype(np.float32)
    cols = [
        fits.Column("object_id", "K", array=ids),
        fits.Column("ra", "D", unit="deg", array=rng.uniform(150, 151, n)),
        fits.Column("dec", "D", unit="deg", array=rng.uniform(2, 3, n)),
        fits.Column("mag_g", "E", unit="mag", array=g),
        fits.Column("mag_r", "E", unit="mag", array=g - rng.normal(0.5, 0.2, n)),
        fits.Column("mag_i", "E", unit="mag", array=g - rng.normal(0.8, 0.3, n)),
        fits.Column("label", "I", array=rng.integers(0, 10, n).astype(np.int16)),
        fits.Column("morphology", "8A",
                    array=np.array(["spiral", "elliptic", "merger", "irreg"])[rng.integers(0, 4, n)]),
    ]
    hdu = fits.BinTableHDU.from_columns(cols)
    hdu.header["EXTNAME"] = "CATALOGUE"
    return hdu


def _write_cube(f, n: int, eight_bit: bool, rng: np.random.Generator) -> None:
    header = fits.Header()
    header["XTENSION"] = "IMAGE"
    header["BITPIX"] = 8 if eight_bit else -32
    header["NAXIS"] = 4
    for axis, size in enumerate((SHAPE[2], SHAPE[1], SHAPE[0], n), start=1):
        header[f"NAXIS{axis}"] = size
    header["PCOUNT"], header["GCOUNT"] = 0, 1
    if eight_bit:
        header["BSCALE"], header["BZERO"] = BSCALE, BZERO
    header["EXTNAME"] = "CUTOUTS"
    for i, band in enumerate(BANDS, start=1):
        header[f"BAND{i}"] = band
    f.write(header.tostring().encode("ascii"))
    bank = _templates(rng)
    stored = np.clip(np.round((bank - BZERO) / BSCALE), 0, 255).astype(np.uint8) if eight_bit \
        else bank.astype(">f4")
    written = 0
    for start in range(0, n, CHUNK_ROWS):
        m = min(CHUNK_ROWS, n - start)
        chunk = stored[rng.integers(0, len(stored), m)]
        f.write(chunk.tobytes())
        written += chunk.nbytes
    _pad(f, written)


def _write_lightcurves(f, n: int, rng: np.random.Generator) -> int:
    counts = rng.integers(20, 41, n)
    total = int(counts.sum())
    dtype = np.dtype([("object_id", ">i8"), ("mjd", ">f8"), ("mag", ">f4"), ("mag_err", ">f4"),
                      ("band", "S1")])
    empty = fits.BinTableHDU.from_columns([
        fits.Column("object_id", "K"), fits.Column("mjd", "D", unit="d"),
        fits.Column("mag", "E", unit="mag"), fits.Column("mag_err", "E", unit="mag"),
        fits.Column("band", "1A")], nrows=0)
    header = empty.header.copy()
    header["NAXIS2"] = total
    header["EXTNAME"] = "LIGHTCURVES"
    f.write(header.tostring().encode("ascii"))
    written = 0
    objects = 50_000
    for start in range(0, n, objects):
        c = counts[start:start + objects]
        m = int(c.sum())
        obj = np.repeat(np.arange(start, start + c.size), c)
        first = np.repeat(np.cumsum(c) - c, c)
        gaps = rng.exponential(20.0, m)
        cs = np.cumsum(gaps)
        rows = np.empty(m, dtype=dtype)
        rows["object_id"] = obj + 1_000_000_000
        rows["mjd"] = 58000.0 + cs - cs[first] + gaps[first]
        base = 18 + (obj % 97) * 0.05
        rows["mag"] = base + 0.3 * np.sin(rows["mjd"] / (1 + obj % 13)) + rng.normal(0, 0.05, m)
        rows["mag_err"] = rng.uniform(0.01, 0.1, m)
        rows["band"] = np.array([b.encode() for b in BANDS])[rng.integers(0, 3, m)]
        f.write(rows.tobytes())
        written += rows.nbytes
    _pad(f, written)
    return total


def generate(path: Path, n: int) -> None:
    """Write the benchmark file for ``n`` rows to ``path`` (via a temporary name)."""
    rng = np.random.default_rng(SEED + n)
    tmp = path.with_suffix(".partial")
    t = time.perf_counter()
    fits.HDUList([fits.PrimaryHDU(), _catalogue_hdu(n, rng)]).writeto(tmp, overwrite=True)
    with open(tmp, "ab") as f:
        _write_cube(f, n, eight_bit=n > EIGHT_BIT_ABOVE, rng=rng)
        total = _write_lightcurves(f, n, rng)
    os.replace(tmp, path)
    print(f"# generated {path} ({path.stat().st_size / 1e9:.2f} GB, {total} light-curve "
          f"points) in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)


def data_file(data_dir: Path, n: int) -> Path:
    path = data_dir / f"survey_{n}.fits"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        generate(path, n)
    return path


def drop_cache(path: Path) -> None:
    """Evict ``path``'s pages from the page cache (this file only)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


_CHILD = r"""
import json, os, resource, sys, time
import numpy as np
mode, path = sys.argv[1], sys.argv[2]
out = {}
if mode == "gui":
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from astroexplorer.gui.app import ensure_application
    from astroexplorer.gui.main_window import MainWindow
    app = ensure_application([])
    w = MainWindow(); w.show(); app.processEvents()
    t = time.perf_counter()
    ok = w.open_path(path)
    while not (ok and w.table_panel.model.rowCount() > 0
               and w.image_panel.shown_row == 0 and w.image_panel.shown_image is not None):
        app.processEvents()
        if time.perf_counter() - t > 600:
            raise SystemExit("timed out")
    app.processEvents()
    out["open_first_row_s"] = time.perf_counter() - t
else:
    from astroexplorer.io import read_catalogue
    t = time.perf_counter()
    cat = read_catalogue(path)
    row = [cat.table[c][0] for c in cat.table.colnames]
    cut = cat.images.get(0)
    lc = cat.lightcurves.get(0)
    out["open_first_row_s"] = time.perf_counter() - t
    assert cut.shape == (3, 64, 64) and len(lc) >= 20, (cut.shape, len(lc))
    if mode == "random":
        rows = np.random.default_rng(1).choice(len(cat), 1000, replace=False)
        t = time.perf_counter()
        cat.images.get_many(rows)
        out["cutouts_1000_random_s"] = time.perf_counter() - t
        t = time.perf_counter()
        n_points = sum(len(cat.lightcurves.get(int(r))) for r in rows)
        out["lightcurves_1000_random_s"] = time.perf_counter() - t
        out["points"] = n_points
out["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps(out))
"""


def child(mode: str, path: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", _CHILD, mode, str(path)], capture_output=True,
                          text=True)
    if proc.returncode:
        raise SystemExit(f"{mode} child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench(path: Path, n: int) -> None:
    size = path.stat().st_size
    for cache in ("cold", "warm"):
        for mode in ("core", "gui", "random"):
            if cache == "cold":
                drop_cache(path)
            r = child(mode, path)
            common = {"cache": cache, "file_bytes": size}
            if mode in ("core", "gui"):
                emit("open_first_row_s", r["open_first_row_s"], "s", n, path=mode, **common)
            else:
                emit("cutouts_1000_random_s", r["cutouts_1000_random_s"], "s", n, **common)
                emit("lightcurves_1000_random_s", r["lightcurves_1000_random_s"], "s", n,
                     points=r["points"], **common)
            emit("peak_rss_bytes", r["peak_rss_bytes"], "B", n, of=mode, **common)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k rows only (about 5 GB)")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(),
                        help="where the generated files are cached (default %(default)s)")
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--remove-data", action="store_true",
                        help="delete the generated files afterwards")
    args = parser.parse_args()
    sizes = args.sizes or ([100_000] if args.quick else [100_000, 1_000_000])
    need = sum((SHAPE[0] * 64 * 64 * (4 if s <= EIGHT_BIT_ABOVE else 1) + 800) * s for s in sizes)
    print(f"# data in {args.data_dir}: about {need / 1e9:.1f} GB of disk for sizes {sizes}",
          file=sys.stderr, flush=True)
    for n in sizes:
        path = data_file(args.data_dir, n)
        if not args.generate_only:
            bench(path, n)
        if args.remove_data:
            path.unlink()


if __name__ == "__main__":
    main()
