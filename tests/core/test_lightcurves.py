import numpy as np
import pytest
from astropy.table import MaskedColumn, Table

from astroexplorer.core.lightcurves import LightCurve, TableLightCurveSource, time_order
from tests.helpers import ListLightCurveSource, make_small_catalogue


def test_lightcurves_grouped_sorted_and_empty_where_missing():
    cat = make_small_catalogue()
    lc = cat.lightcurves.get(5)
    assert len(lc) == 5 + 5 % 4
    assert np.all(np.diff(lc.time) >= 0)
    assert lc.is_magnitude and lc.value_unit == "mag"
    assert set(lc.bands) <= {"g", "r", "i"}
    assert len(cat.lightcurves.get(3)) == 0
    assert cat.lightcurves.counts().sum() == cat.lightcurves.n_points


def test_catalogue_detects_id_and_numeric_columns():
    cat = make_small_catalogue()
    assert cat.id_column == "object_id"
    assert "mag_r" in cat.numeric_columns() and "label" not in cat.numeric_columns()
    assert cat.images.get_many([4, 1]).shape == (2, 3, 16, 16)
    assert np.array_equal(cat.images.get_many([4, 1])[1], cat.images.get(1))


# --- get_many: the light curves of many rows at once, each exactly as get(row). ---


def _assert_get_many_is_get(source, rows) -> None:
    many = source.get_many(rows)
    rows = np.asarray(rows, dtype=np.int64)
    assert len(many) == rows.size and many.offsets.dtype == np.int64
    assert many.offsets[0] == 0 and many.offsets[-1] == many.time.size
    for name in ("time", "value", "error"):
        assert getattr(many, name).dtype == np.float64
    assert many.band.dtype.kind == "U" and many.is_magnitude.dtype == bool
    for i, row in enumerate(rows):
        lc = source.get(int(row))
        part = slice(many.offsets[i], many.offsets[i + 1])
        assert many.lengths[i] == len(lc)
        for name in ("time", "value", "error", "band"):
            np.testing.assert_array_equal(getattr(many, name)[part], getattr(lc, name),
                                          err_msg=f"row {row} {name}")
        assert many.is_magnitude[i] == lc.is_magnitude


def _observations(rng, ids: np.ndarray) -> Table:
    counts = rng.integers(0, 12, ids.size)
    obj = np.repeat(ids, counts)
    return Table({"object_id": obj,
                  "mjd": rng.uniform(58000, 58010, obj.size).round(0),  # equal times
                  "mag": rng.normal(18, 1, obj.size).astype(np.float32),
                  "mag_err": rng.uniform(0.01, 0.1, obj.size),
                  "band": rng.choice(["g", "r", "i"], obj.size)})


@pytest.mark.parametrize("stored", ["time_sorted", "id_sorted", "shuffled"])
def test_get_many_matches_get_for_a_table(stored: str) -> None:
    rng = np.random.default_rng(0)
    ids = np.arange(100, 140)
    obs = _observations(rng, ids)
    obs["mjd"][[2, 3, 17]] = np.nan  # NaN times sort last
    if stored == "time_sorted":
        obs = obs[np.lexsort((np.asarray(obs["mjd"]), np.asarray(obs["object_id"])))]
    elif stored == "shuffled":
        obs = obs[rng.permutation(len(obs))]
    # Masked entries are filled (NaN, ""), as get() does.
    obs["mag_err"] = MaskedColumn(obs["mag_err"], mask=rng.random(len(obs)) < 0.1)
    obs["band"] = MaskedColumn(obs["band"], mask=rng.random(len(obs)) < 0.1)
    # The catalogue: its own order, a duplicate id (no light curve), an id never observed.
    catalogue_ids = np.concatenate([ids[::-1], ids[5:6], [999]])
    src = TableLightCurveSource(obs, catalogue_ids, "object_id", "mjd", "mag", "mag_err",
                                "band")
    assert (src._order is None) == (stored != "shuffled")
    n = len(src)
    _assert_get_many_is_get(src, np.arange(n))
    _assert_get_many_is_get(src, [n - 1, 3, 3, 0, n - 2, 7, 3])  # any order, repeats
    _assert_get_many_is_get(src, [])
    with pytest.raises(IndexError):
        src.get_many([0, n])
    with pytest.raises(IndexError):
        src.get_many([-1])


def test_get_many_without_error_or_band_columns_and_in_flux() -> None:
    rng = np.random.default_rng(1)
    obs = _observations(rng, np.arange(10))
    obs.rename_column("mag", "flux")
    src = TableLightCurveSource(obs, np.arange(10), "object_id", "mjd", "flux")
    assert not src.is_magnitude
    _assert_get_many_is_get(src, np.arange(10)[::-1])


def test_get_many_reads_memory_mapped_fits(tmp_path) -> None:
    """Bytes band columns are decoded and big-endian columns sorted as get() does."""
    rng = np.random.default_rng(2)
    obs = _observations(rng, np.arange(30))
    obs["mjd"][5] = np.nan
    obs = obs[rng.permutation(len(obs))]
    path = tmp_path / "lc.fits"
    obs.write(path)
    back = Table.read(path, memmap=True)
    assert back["band"].dtype.kind == "S"
    src = TableLightCurveSource(back, np.arange(30), "object_id", "mjd", "mag", "mag_err",
                                "band")
    _assert_get_many_is_get(src, np.arange(30))
    _assert_get_many_is_get(src, [29, 0, 0, 14])


def test_get_many_of_any_source_loops_over_get() -> None:
    curves = [LightCurve(np.array([3.0, 1.0]), np.array([18.0, 19.0]), np.array([0.1, 0.2]),
                         np.array(["g", "r"])),
              LightCurve(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, dtype=str)),
              LightCurve(np.array([1.0]), np.array([5.0]), np.array([np.nan]),
                         np.array(["ztf_g"]), is_magnitude=False)]
    src = ListLightCurveSource(curves)
    _assert_get_many_is_get(src, [2, 0, 1, 0])  # as get() gives them: not re-sorted
    empty = src.get_many([])
    assert len(empty) == 0 and empty.time.size == 0 and empty.offsets.tolist() == [0]


def test_time_order_is_a_stable_sort_within_objects() -> None:
    owner = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    time = np.array([1.0, 1.0, np.nan, 5.0, 6.0, 2.0, np.nan, np.nan])
    assert time_order(time, owner) is None  # already in order: nothing to sort
    time = np.array([2.0, 1.0, np.nan, 6.0, 5.0, np.nan, 2.0, 2.0])
    np.testing.assert_array_equal(time_order(time, owner), np.lexsort((time, owner)))
    np.testing.assert_array_equal(time_order(time, owner), [1, 0, 2, 4, 3, 6, 7, 5])
    assert time_order(np.array([3, 1]), np.array([0, 1])) is None  # other objects
