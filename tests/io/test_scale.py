"""Correctness of the paths that make survey-scale files open fast and small.

Light curves grouped without sorting when ids arrive sorted, light-curve tables kept
memory-mapped (big-endian, bytes), 8-bit cubes scaled row by row, the benchmark's
generator. Timings are in benchmarks/bench_io.py, not here.
"""

from __future__ import annotations

import importlib.util
import mmap
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from astroexplorer.core.errors import UserError
from astroexplorer.core.lightcurves import TableLightCurveSource
from astroexplorer.io import read_catalogue

ROOT = Path(__file__).resolve().parents[2]


def _observations(rng: np.random.Generator, ids: np.ndarray) -> Table:
    """Long-format observations sorted by id then time, 0-6 points per id."""
    counts = rng.integers(0, 7, ids.size)
    obj = np.repeat(ids, counts)
    time = np.concatenate([np.sort(rng.uniform(58000, 59000, c)) for c in counts])
    return Table({"object_id": obj, "mjd": time,
                  "mag": rng.normal(18, 1, obj.size).astype(np.float32),  # as on disk
                  "mag_err": rng.uniform(0.01, 0.1, obj.size).astype(np.float32),
                  "band": rng.choice(["g", "r", "i"], obj.size)})


def _same_curves(a: TableLightCurveSource, b: TableLightCurveSource) -> None:
    assert len(a) == len(b)
    np.testing.assert_array_equal(a.counts(), b.counts())
    np.testing.assert_array_equal(a.duplicate_rows, b.duplicate_rows)
    assert a.bands == b.bands
    for row in range(len(a)):
        x, y = a.get(row), b.get(row)
        for field in ("time", "value", "error", "band"):
            np.testing.assert_array_equal(getattr(x, field), getattr(y, field), err_msg=field)


@pytest.mark.parametrize("kind", ["int", "str"])
def test_sorted_and_unsorted_ids_give_identical_light_curves(kind: str) -> None:
    rng = np.random.default_rng(0)
    ids = np.arange(100, 160)
    obs = _observations(rng, ids)
    obs["mjd"][3] = np.nan  # NaN times sort last, on both paths
    if kind == "str":
        ids = np.array([f"obj{i}" for i in ids])
        obs["object_id"] = [f"obj{i}" for i in obs["object_id"]]
    # The catalogue: its own order, a duplicate id, an id never observed.
    extra = np.array(["nobody"]) if kind == "str" else np.array([999])
    catalogue_ids = np.concatenate([ids[::-1], ids[5:6], extra])
    shuffled = obs[rng.permutation(len(obs))]
    args = ("object_id", "mjd", "mag", "mag_err", "band")
    fast = TableLightCurveSource(obs, catalogue_ids, *args)
    slow = TableLightCurveSource(shuffled, catalogue_ids, *args)
    assert fast._order is None and slow._order is not None  # each path is taken
    _same_curves(fast, slow)
    assert fast.counts()[-1] == 0 and fast.counts()[-2] == 0  # unmatched, duplicate
    assert list(fast.duplicate_rows) == [len(ids)]
    row = int(np.flatnonzero(catalogue_ids == obs["object_id"][0])[0])
    assert np.isnan(fast.get(row).time[-1]) or len(fast.get(row)) < 4
    for row in range(len(fast)):
        t = fast.get(row).time
        assert np.all(t[:-1][np.isfinite(t[1:])] <= t[1:][np.isfinite(t[1:])])


def test_ids_that_decrease_late_fall_back_to_sorting() -> None:
    # Sorted within each scanned chunk but not across chunks: must not take the fast path.
    obs = Table({"object_id": np.array([1, 1, 2, 3, 1, 2, 4]), "mjd": np.arange(7.0),
                 "mag": np.arange(7.0)})
    src = TableLightCurveSource(obs, np.array([1, 2, 3, 4, 5]), "object_id", "mjd", "mag")
    assert src._order is not None
    assert src.get(0).time.tolist() == [0.0, 1.0, 4.0] and src.get(1).time.tolist() == [2.0, 5.0]
    assert src.counts().tolist() == [3, 2, 1, 1, 0]


def test_big_endian_columns_give_the_native_results() -> None:
    rng = np.random.default_rng(1)
    obs = _observations(rng, np.arange(40))
    swapped = Table({name: np.asarray(obs[name]).astype(obs[name].dtype.newbyteorder(">"))
                     if obs[name].dtype.kind in "if" else obs[name] for name in obs.colnames})
    assert swapped["object_id"].dtype.byteorder == ">"
    ids = np.arange(40).astype(">i8")
    args = ("object_id", "mjd", "mag", "mag_err", "band")
    big = TableLightCurveSource(swapped, ids, *args)
    native = TableLightCurveSource(obs, np.arange(40), *args)
    assert big._order is None
    _same_curves(big, native)
    assert big.get(3).time.dtype == np.float64


def _write_survey(path: Path, n: int, rng: np.random.Generator, *, unsigned_ids: bool = False
                  ) -> Table:
    """A FITS catalogue with an 8-bit scaled cube (BLANK = 0) and a LIGHTCURVES table."""
    ids = np.arange(n, dtype=np.int64) + 5000
    obs = _observations(rng, ids)
    cube = rng.integers(1, 256, (n, 2, 4, 5)).astype(np.uint8)
    cube[1, 0, 0, 0] = 0
    image = fits.ImageHDU(cube, name="CUTOUTS")
    image.header["BSCALE"], image.header["BZERO"], image.header["BLANK"] = 0.5, -3.0, 0
    image.header["BAND1"], image.header["BAND2"] = "g", "r"
    lc_ids = obs["object_id"].astype(np.uint32) if unsigned_ids else obs["object_id"]
    lc = fits.BinTableHDU.from_columns([
        fits.Column("object_id", "J" if unsigned_ids else "K", bzero=2**31 if unsigned_ids else None,
                    array=lc_ids),
        fits.Column("mjd", "D", unit="d", array=obs["mjd"]),
        fits.Column("mag", "E", unit="mag", array=obs["mag"]),
        fits.Column("mag_err", "E", unit="mag", array=obs["mag_err"]),
        fits.Column("band", "1A", array=obs["band"]),
    ], name="LIGHTCURVES")
    cat = fits.BinTableHDU.from_columns([fits.Column("object_id", "K", array=ids),
                                         fits.Column("ra", "D", unit="deg",
                                                     array=rng.uniform(0, 1, n))],
                                        name="CATALOGUE")
    fits.HDUList([fits.PrimaryHDU(), cat, image, lc]).writeto(path)
    return obs


def _backed_by_mmap(array: np.ndarray) -> bool:
    base = np.asarray(array)
    while getattr(base, "base", None) is not None:
        base = base.base
        if isinstance(base, mmap.mmap):
            return True
    return False


def test_fits_light_curves_stay_memory_mapped_and_cubes_are_scaled_per_row(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    path = tmp_path / "survey.fits"
    obs = _write_survey(path, 30, rng)
    cat = read_catalogue(path)
    lc = cat.lightcurves
    assert lc._order is None
    for name in ("object_id", "mjd", "mag", "band"):
        assert _backed_by_mmap(lc.table[name]), name
    assert lc.table["mjd"].dtype.byteorder == ">" and str(lc.table["mag"].unit) == "mag"
    assert lc.is_magnitude and lc.bands == ("g", "i", "r") and lc.n_points == len(obs)
    expected = TableLightCurveSource(obs, np.arange(30) + 5000, "object_id", "mjd", "mag",
                                     "mag_err", "band")
    _same_curves(lc, expected)
    assert lc.get(0).band.dtype.kind == "U"

    with fits.open(path, do_not_scale_image_data=True) as hdul:
        stored = np.array(hdul["CUTOUTS"].data)
    assert stored.dtype == np.uint8
    physical = np.where(stored == 0, np.nan, stored * 0.5 - 3.0)  # BLANK = 0 is undefined
    rows = [7, 1, 29, 1]
    got = cat.images.get_many(rows)
    assert got.dtype == np.float32 and got.shape == (4, 2, 4, 5)
    np.testing.assert_allclose(got, physical[rows], equal_nan=True)
    assert np.isnan(got[1, 0, 0, 0]) and got[0, 0, 0, 0] == physical[7, 0, 0, 0]
    assert cat.images.bands == ("g", "r")
    with pytest.raises(IndexError):
        cat.images.get_many([30])


def test_light_curve_columns_needing_conversion_are_read_into_memory(tmp_path: Path) -> None:
    # Unsigned ids are stored with TZERO: bytes on disk are not the values.
    path = tmp_path / "unsigned.fits"
    obs = _write_survey(path, 12, np.random.default_rng(3), unsigned_ids=True)
    lc = read_catalogue(path).lightcurves
    assert not _backed_by_mmap(lc.table["object_id"])
    assert lc.table["object_id"].dtype.kind == "u"
    expected = TableLightCurveSource(obs, np.arange(12) + 5000, "object_id", "mjd", "mag",
                                     "mag_err", "band")
    _same_curves(lc, expected)


def test_a_truncated_survey_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "survey.fits"
    _write_survey(path, 20, np.random.default_rng(4))
    cut = tmp_path / "cut.fits"
    cut.write_bytes(path.read_bytes()[:-3000])
    with pytest.raises(UserError, match="cut.fits.*truncated"):
        read_catalogue(cut)


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_io", ROOT / "benchmarks" / "bench_io.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("eight_bit", [False, True])
def test_benchmark_files_open_as_a_survey(tmp_path: Path, monkeypatch, eight_bit: bool) -> None:
    bench = _bench_module()
    monkeypatch.setattr(bench, "EIGHT_BIT_ABOVE", 100 if eight_bit else 10**9)
    monkeypatch.setattr(bench, "CHUNK_ROWS", 64)  # several chunks of cube
    path = bench.data_file(tmp_path, 300)
    assert not list(tmp_path.glob("*.partial"))
    cat = read_catalogue(path)
    assert len(cat) == 300 and cat.images.shape == (3, 64, 64)
    assert (cat._hdul["CUTOUTS"].header["BITPIX"] == 8) == eight_bit
    cut = cat.images.get_many([0, 299])
    assert cut.dtype == np.float32 and np.all(np.isfinite(cut)) and cut.std() > 0
    lc = cat.lightcurves
    assert lc._order is None and 20 * 300 <= lc.n_points <= 40 * 300
    counts = lc.counts()
    assert counts.min() >= 20 and counts.max() <= 40
    curve = lc.get(299)
    assert np.all(np.diff(curve.time) > 0) and set(curve.bands) <= {"g", "r", "i"}
    assert bench.data_file(tmp_path, 300).stat().st_mtime == path.stat().st_mtime  # reused


def test_large_scatter_asks_the_symbol_atlas_once_per_style(monkeypatch) -> None:
    # The GUI's scatter of a 10^6-row catalogue: same sprites as pyqtgraph's per-point path.
    pytest.importorskip("PySide6")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg

    from astroexplorer.gui.app import ensure_application
    from astroexplorer.gui.scatter import _PassiveScatter

    ensure_application([])
    rng = np.random.default_rng(5)
    n = 12_000
    brushes = np.array([pg.mkBrush(40 * i, 0, 0) for i in range(5)], dtype=object)
    which = rng.integers(0, 5, n)
    item = _PassiveScatter(pen=None, symbol="o", size=4, hoverable=False)
    item.setData(pos=rng.normal(size=(n, 2)), data=np.arange(n), size=2)
    item.setBrush(brushes[which])
    rects = item.data["sourceRect"]
    assert np.all(rects["w"] > 0)
    styles = list(zip(*item._style(["symbol", "size", "pen", "brush"])))
    sample = rng.choice(n, 200, replace=False)
    expected = np.empty(sample.size, dtype=rects.dtype)
    expected[:] = item.fragmentAtlas[[styles[i] for i in sample]]  # pyqtgraph's own look-up
    np.testing.assert_array_equal(rects[sample], expected)
    for k in range(5):  # one sprite per brush, distinct between brushes
        assert np.unique(rects[which == k]).size == 1
    assert np.unique(rects).size == 5


def test_catalogue_strings_read_as_astropy_decodes_them(tmp_path: Path) -> None:
    # Strings are read as bytes and cast to str: same text as astropy's own decoding.
    def write(names: np.ndarray, path: Path) -> Path:
        cat = fits.BinTableHDU.from_columns([
            fits.Column("object_id", "K", array=np.arange(names.size)),
            fits.Column("morph", "8A", array=names),
            fits.Column("mag", "E", unit="mag", array=np.arange(names.size, dtype=np.float32)),
        ], name="CATALOGUE")
        cat.data["mag"][1] = np.nan
        fits.HDUList([fits.PrimaryHDU(), cat]).writeto(path)
        return path

    path = write(np.array([b"spiral", b"", b"x y", b"elliptic"]), tmp_path / "strings.fits")
    table = read_catalogue(path).table
    reference = Table.read(path, hdu="CATALOGUE", character_as_bytes=False)
    assert table["morph"].dtype.kind == "U" and not hasattr(table["morph"], "mask")
    assert table["morph"].tolist() == reference["morph"].tolist() == ["spiral", "", "x y",
                                                                       "elliptic"]
    assert table["mag"].mask.tolist() == reference["mag"].mask.tolist() == [False, True,
                                                                            False, False]
    # A stray non-ASCII byte (astropy's decoding refuses the whole file) shows as "?".
    path = write(np.array([b"caf\xe9", b"ok"]), tmp_path / "latin1.fits")
    assert read_catalogue(path).table["morph"].tolist() == ["caf?", "ok"]
