import numpy as np

from tests.helpers import make_small_catalogue


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
